"""The page permission matrix: every page, every role, one table.

A GET answers 200 (the role may use the page), 403 (may see the object but not do this), 404 (may
not know the object exists) or, for anonymous visitors, a redirect to the login page. A POST to a
form page by a role that may use it writes (302 and an audit event by that person); by any other
role it answers like the GET and leaves every governed row exactly as it was.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from govern.models import AuditEvent
from tests.govern.pages.helpers import database_state

ROLES = ("pmo", "executive", "lead", "other_lead", "contributor", "viewer", "outsider")
EVERYONE = "200 200 200 200 200 200 200"

# page,                  object,             pmo exe lead oth  con  vie  out
MATRIX = [
    ("dashboard",            None,               EVERYONE),
    ("department-list",      None,               EVERYONE),
    ("department-create",    None,               "200 403 403 403 403 403 403"),
    ("department-detail",    "department",       "200 200 200 404 200 200 404"),
    ("department-update",    "department",       "200 403 403 404 403 403 404"),
    ("department-delete",    "empty_department", "200 403 404 404 404 404 404"),
    ("person-list",          None,               EVERYONE),
    ("person-create",        None,               "200 403 403 403 403 403 403"),
    ("person-detail",        "contributor",      "200 200 200 404 200 200 404"),
    ("person-update",        "contributor",      "200 403 403 404 403 403 404"),
    ("membership-create",    "contributor",      "200 403 403 404 403 403 404"),
    ("membership-update",    "membership",       "200 403 403 404 403 403 404"),
    ("membership-delete",    "membership",       "200 403 403 404 403 403 404"),
    ("objective-list",       None,               EVERYONE),
    ("objective-create",     None,               "200 403 200 200 403 403 403"),
    ("objective-detail",     "objective",        "200 200 200 404 200 200 404"),
    ("objective-update",     "objective",        "200 403 200 404 403 403 404"),
    ("objective-delete",     "objective",        "200 403 200 404 403 403 404"),
    ("initiative-list",      None,               EVERYONE),
    ("initiative-create",    None,               "200 403 200 200 403 403 403"),
    ("initiative-detail",    "initiative",       "200 200 200 404 200 200 404"),
    ("initiative-update",    "initiative",       "200 403 200 404 403 403 404"),
    ("initiative-delete",    "initiative",       "200 403 200 404 403 403 404"),
    ("milestone-create",     "initiative",       "200 403 200 404 403 403 404"),
    ("milestone-update",     "milestone",        "200 403 200 404 403 403 404"),
    ("milestone-delete",     "milestone",        "200 403 200 404 403 403 404"),
    ("milestone-progress",   "milestone",        "200 403 200 404 200 403 404"),
    ("planversion-list",     None,               EVERYONE),
    ("planversion-create",   None,               "200 403 403 403 403 403 403"),
    ("planversion-detail",   "plan_version",     EVERYONE),
    ("planversion-update",   "plan_version",     "200 403 403 403 403 403 403"),
    ("planversion-delete",   "plan_version",     "200 403 403 403 403 403 403"),
    ("planversion-propose",  "plan_version",     "200 403 403 403 403 403 403"),
    ("planversion-withdraw", "proposed_plan",    "200 200 403 403 403 403 403"),
    ("planversion-approve",  "proposed_plan",    "403 200 403 403 403 403 403"),
    ("planversion-compare",  None,               EVERYONE),
]  # fmt: skip

READ_ONLY = {"dashboard", "planversion-compare"} | {
    page for page, _, _ in MATRIX if page.endswith(("-list", "-detail"))
}


def _home_department(w, role):
    """Where a role that may create objectives and initiatives creates them."""
    return w.other_department if role == "other_lead" else w.department


def _owner(w, role):
    return w.other_lead if role == "other_lead" else w.lead


# A valid submission of each form page, for the role posting it.
PAYLOADS = {
    "department-create": lambda w, role: {"code": "LOG", "name": "Logistics"},
    "department-update": lambda w, role: {"code": "SALES", "name": "Sales & Marketing"},
    "department-delete": lambda w, role: {},
    "person-create": lambda w, role: {
        "username": "newcomer", "first_name": "Nia", "last_name": "Newcomer",
        "email": "nia@example.com", "job_title": "Buyer", "password": "", "password_again": "",
    },
    "person-update": lambda w, role: {
        "username": w.contributor.username, "first_name": "Renamed",
        "last_name": w.contributor.last_name, "email": w.contributor.email,
        "job_title": "Analyst", "is_active": "on",
    },
    "membership-create": lambda w, role: {"department": w.other_department.pk, "role": "viewer"},
    "membership-update": lambda w, role: {"role": "viewer"},
    "membership-delete": lambda w, role: {},
    "objective-create": lambda w, role: {
        "title": "Grow repeat orders", "level": "annual",
        "department": _home_department(w, role).pk, "owner": _owner(w, role).pk,
        "start_date": "2026-01-01", "end_date": "2026-12-31", "weight": "3",
    },
    "objective-update": lambda w, role: {
        "title": "Win 45 new OEM accounts", "level": "annual", "parent": w.strategy.pk,
        "department": w.department.pk, "owner": w.lead.pk,
        "start_date": "2026-01-01", "end_date": "2026-12-31", "weight": "4",
    },
    "objective-delete": lambda w, role: {},
    "initiative-create": lambda w, role: {
        "name": "Key-account plans", "department": _home_department(w, role).pk,
        "owner": _owner(w, role).pk, "status": "proposed", "start_date": "2026-02-01",
        "end_date": "2026-11-30", "budget": "25000", "fte": "1.5",
    },
    "initiative-update": lambda w, role: {
        "name": "Distributor programme", "department": w.department.pk, "owner": w.lead.pk,
        "status": "on_hold", "start_date": "2026-01-01", "end_date": "2026-12-31",
        "budget": "90000", "fte": "2.5", "objectives": [w.objective.pk],
    },
    "initiative-delete": lambda w, role: {},
    "milestone-create": lambda w, role: {
        "new-name": "Pilot distributor live", "new-owner": w.contributor.pk,
        "new-due_date": "2026-09-30", "new-status": "planned",
    },
    "milestone-update": lambda w, role: {
        "name": "Partner agreements signed", "owner": w.contributor.pk,
        "due_date": "2026-07-31", "status": "in_progress",
    },
    "milestone-delete": lambda w, role: {},
    "milestone-progress": lambda w, role: {"status": "in_progress"},
    "planversion-create": lambda w, role: {"name": "FY27 re-forecast"},
    "planversion-update": lambda w, role: {"name": "FY27 draft 2", "description": "Q1 update"},
    "planversion-delete": lambda w, role: {},
    "planversion-propose": lambda w, role: {"comment": "Q1 update for the board"},
    "planversion-withdraw": lambda w, role: {"reason": "The board wants the Q1 actuals first"},
    "planversion-approve": lambda w, role: {"reason": "Signed off by the board"},
}  # fmt: skip

GET_CASES = [
    pytest.param(page, key, role, int(code), id=f"{page}-{role}")
    for page, key, codes in MATRIX
    for role, code in zip(ROLES, codes.split(), strict=True)
]
POST_CASES = [case for case in GET_CASES if case.values[0] not in READ_ONLY]
ANONYMOUS_CASES = [pytest.param(page, key, id=page) for page, key, _ in MATRIX]


def _url(world, page, key):
    return reverse(page, args=[getattr(world, key).pk]) if key else reverse(page)


def test_every_form_page_has_a_payload():
    # given
    form_pages = {page for page, _, _ in MATRIX} - READ_ONLY

    # when
    missing = form_pages ^ PAYLOADS.keys()

    # then
    assert missing == set()


@pytest.mark.parametrize(("page", "key", "role", "expected"), GET_CASES)
def test_get(client, world, page, key, role, expected):
    # given
    client.force_login(getattr(world, role))

    # when
    response = client.get(_url(world, page, key))

    # then
    assert response.status_code == expected


@pytest.mark.parametrize(("page", "key", "role", "expected"), POST_CASES)
def test_post(client, world, page, key, role, expected):
    # given
    user = getattr(world, role)
    client.force_login(user)
    url = _url(world, page, key)
    data = PAYLOADS[page](world, role)
    before = database_state()
    events_before = AuditEvent.objects.count()

    # when
    response = client.post(url, data)

    # then
    if expected == 200:
        assert response.status_code == 302, response.content.decode()[:2000]
        new_events = AuditEvent.objects.order_by("pk")[events_before:]
        assert new_events, "an allowed write records an audit event"
        assert {event.actor_id for event in new_events} == {user.pk}
    else:
        assert response.status_code == expected
        assert database_state() == before


@pytest.mark.parametrize(("page", "key"), ANONYMOUS_CASES)
def test_anonymous_is_sent_to_login_and_nothing_is_written(client, world, page, key):
    # given
    url = _url(world, page, key)
    before = database_state()

    # when
    got = client.get(url)
    posted = client.post(url, PAYLOADS.get(page, lambda w, role: {})(world, "pmo"))

    # then
    assert got.status_code == 302
    assert got.url == f"{reverse('login')}?next={url}"
    assert posted.status_code == 302
    assert posted.url == f"{reverse('login')}?next={url}"
    assert database_state() == before
