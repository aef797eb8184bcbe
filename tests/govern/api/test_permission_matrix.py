"""Every API endpoint × every role, with the status each must get (docs/permissions.md).

The objects live in Sales: `lead`, `contributor` and `viewer` are Sales members, `other_lead` leads
Procurement, `outsider` belongs nowhere. For lists, SEEN / UNSEEN means 200 with / without the Sales
object in the results. A refused write (any 4xx) must leave every governed table exactly as it was
and write no audit event; an allowed write must write at least one. Request bodies are in PAYLOADS.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)
from tests.factories import PASSWORD

ROLES = ("pmo", "executive", "lead", "other_lead", "contributor", "viewer", "outsider", "anonymous")
SEEN, UNSEEN = "seen", "unseen"

# The expected status per role, in ROLES order:
#               pmo     exec    lead    o.lead  contr.  viewer  outsid. anon
# fmt: off
SALES_SEE =    (SEEN,   SEEN,   SEEN,   UNSEEN, SEEN,   SEEN,   UNSEEN, 401)
ALL_SEE =      (SEEN,   SEEN,   SEEN,   SEEN,   SEEN,   SEEN,   SEEN,   401)
SALES_GET =    (200,    200,    200,    404,    200,    200,    404,    401)
ALL_GET =      (200,    200,    200,    200,    200,    200,    200,    401)
PMO_CREATES =  (201,    403,    403,    403,    403,    403,    403,    401)
PMO_CHANGES =  (200,    403,    403,    404,    403,    403,    404,    401)
PMO_DELETES =  (204,    403,    403,    404,    403,    403,    404,    401)
PROTECTED =    (409,    403,    403,    404,    403,    403,    404,    401)  # Sales has members
NO_DELETE =    (405,    405,    405,    405,    405,    405,    405,    401)
LEADS_CREATE = (201,    403,    201,    400,    403,    403,    400,    401)  # 400: invalid pk
LEADS_CHANGE = (200,    403,    200,    404,    403,    403,    404,    401)
LEADS_DELETE = (204,    403,    204,    404,    403,    403,    404,    401)
PROGRESS =     (200,    403,    200,    404,    200,    403,    404,    401)  # contributor owns it
PLAN_CHANGE =  (200,    403,    403,    403,    403,    403,    403,    401)
PLAN_DELETE =  (204,    403,    403,    403,    403,    403,    403,    401)
EXEC_APPROVES = (403,    200,    403,    403,    403,    403,    403,    401)
WITHDRAWERS =  (200,    200,    403,    403,    403,    403,    403,    401)
READS_ALL =    (200,    200,    403,    403,    403,    403,    403,    401)
OWN_TOKEN =    (200,    200,    200,    200,    200,    200,    200,    400)  # no credentials
PUBLIC =       (200,    200,    200,    200,    200,    200,    200,    200)
# fmt: on


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    url: str  # relative to /api/v1/, formatted with the ids of the world below
    expected: tuple[Any, ...]  # one per role, in ROLES order
    target: str | None = None  # for lists: the id that SEEN / UNSEEN looks for
    audited: bool = True


CASES = [
    Case("departments:list", "get", "departments/", SALES_SEE, target="department"),
    Case("departments:retrieve", "get", "departments/{department}/", SALES_GET),
    Case("departments:create", "post", "departments/", PMO_CREATES),
    Case("departments:update", "patch", "departments/{department}/", PMO_CHANGES),
    Case("departments:delete", "delete", "departments/{department}/", PROTECTED),
    Case("departments:history", "get", "departments/{department}/history/", SALES_GET),
    Case("people:list", "get", "people/", SALES_SEE, target="person"),
    Case("people:retrieve", "get", "people/{person}/", SALES_GET),
    Case("people:create", "post", "people/", PMO_CREATES),
    Case("people:update", "patch", "people/{person}/", PMO_CHANGES),
    Case("people:delete", "delete", "people/{person}/", NO_DELETE),
    Case("people:history", "get", "people/{person}/history/", SALES_GET),
    Case("memberships:list", "get", "memberships/", SALES_SEE, target="membership"),
    Case("memberships:retrieve", "get", "memberships/{membership}/", SALES_GET),
    Case("memberships:create", "post", "memberships/", PMO_CREATES),
    Case("memberships:update", "patch", "memberships/{membership}/", PMO_CHANGES),
    Case("memberships:delete", "delete", "memberships/{membership}/", PMO_DELETES),
    Case("memberships:history", "get", "memberships/{membership}/history/", SALES_GET),
    Case("objectives:list", "get", "objectives/", SALES_SEE, target="objective"),
    Case("objectives:tree", "get", "objectives/tree/", SALES_SEE, target="objective"),
    Case("objectives:retrieve", "get", "objectives/{objective}/", SALES_GET),
    Case("objectives:create", "post", "objectives/", LEADS_CREATE),
    Case("objectives:update", "patch", "objectives/{objective}/", LEADS_CHANGE),
    Case("objectives:delete", "delete", "objectives/{objective}/", LEADS_DELETE),
    Case("objectives:history", "get", "objectives/{objective}/history/", SALES_GET),
    Case("initiatives:list", "get", "initiatives/", SALES_SEE, target="initiative"),
    Case("initiatives:retrieve", "get", "initiatives/{initiative}/", SALES_GET),
    Case("initiatives:create", "post", "initiatives/", LEADS_CREATE),
    Case("initiatives:update", "patch", "initiatives/{initiative}/", LEADS_CHANGE),
    Case("initiatives:delete", "delete", "initiatives/{initiative}/", LEADS_DELETE),
    Case("initiatives:history", "get", "initiatives/{initiative}/history/", SALES_GET),
    Case("milestones:list", "get", "milestones/", SALES_SEE, target="milestone"),
    Case("milestones:retrieve", "get", "milestones/{milestone}/", SALES_GET),
    Case("milestones:create", "post", "milestones/", LEADS_CREATE),
    Case("milestones:update", "patch", "milestones/{milestone}/", LEADS_CHANGE),
    Case("milestones:delete", "delete", "milestones/{milestone}/", LEADS_DELETE),
    Case("milestones:progress", "post", "milestones/{milestone}/progress/", PROGRESS),
    Case("milestones:history", "get", "milestones/{milestone}/history/", SALES_GET),
    Case("plan-versions:list", "get", "plan-versions/", ALL_SEE, target="plan"),
    Case("plan-versions:current", "get", "plan-versions/current/", ALL_GET),
    Case("plan-versions:retrieve", "get", "plan-versions/{plan}/", ALL_GET),
    Case("plan-versions:create", "post", "plan-versions/", PMO_CREATES),
    Case("plan-versions:update", "patch", "plan-versions/{plan}/", PLAN_CHANGE),
    Case("plan-versions:delete", "delete", "plan-versions/{plan}/", PLAN_DELETE),
    Case("plan-versions:propose", "post", "plan-versions/{plan}/propose/", PLAN_CHANGE),
    Case("plan-versions:withdraw", "post", "plan-versions/{proposal}/withdraw/", WITHDRAWERS),
    Case("plan-versions:approve", "post", "plan-versions/{proposal}/approve/", EXEC_APPROVES),
    Case("plan-versions:compare", "get", "plan-versions/{plan}/compare/?with={proposal}", ALL_GET),
    Case("plan-versions:history", "get", "plan-versions/{plan}/history/", ALL_GET),
    Case("audit-events:list", "get", "audit-events/", READS_ALL),
    Case("me", "get", "me/", ALL_GET),
    Case("auth:token", "post", "auth/token/", OWN_TOKEN, audited=False),
    Case("schema", "get", "schema/?format=json", PUBLIC),
    Case("docs", "get", "docs/", PUBLIC),
]

# Request bodies; "{name}" values are replaced by the ids of the world below.
PAYLOADS = {
    "departments:create": {"code": "LOG", "name": "Logistics"},
    "departments:update": {"description": "B2B"},
    "people:create": {"username": "newcomer", "email": "new@example.com"},
    "people:update": {"job_title": "Key-account manager"},
    "memberships:create": {"person": "{outsider}", "department": "{department}", "role": "viewer"},
    "memberships:update": {"role": "viewer"},
    "objectives:create": {
        "title": "Win 3 distributors", "level": "annual", "owner": "{lead}",
        "department": "{department}", "start_date": "2026-01-01", "end_date": "2026-12-31",
    },
    "objectives:update": {"description": "Mid-market"},
    "initiatives:create": {
        "name": "New CRM", "department": "{department}", "owner": "{lead}",
        "objectives": ["{objective}"], "start_date": "2026-02-01", "end_date": "2026-10-31",
    },
    "initiatives:update": {"budget": "250000.00"},
    "milestones:create": {
        "initiative": "{initiative}", "name": "Go-live", "owner": "{contributor}",
        "due_date": "2026-09-30",
    },
    "milestones:update": {"description": "Ten accounts"},
    "milestones:progress": {"status": "in_progress"},
    "plan-versions:create": {"name": "FY27 draft"},
    "plan-versions:update": {"description": "Q2"},
    "plan-versions:approve": {"reason": "Board"},
    "plan-versions:withdraw": {"reason": "The board wants the Q3 numbers first"},
}  # fmt: skip

MATRIX = [
    pytest.param(case, role, expected, id=f"{case.endpoint}-{role}")
    for case in CASES
    for role, expected in zip(ROLES, case.expected, strict=True)
]

GOVERNED = (Department, Person, Membership, Objective, Initiative, Milestone, PlanVersion, Token)


def _state() -> dict[str, Any]:
    tables = {model.__name__: list(model.objects.order_by("pk").values()) for model in GOVERNED}
    tables["initiative_objectives"] = list(
        Initiative.objectives.through.objects.order_by("pk").values()
    )
    tables["audit_events"] = AuditEvent.objects.count()
    return tables


def _fill(value, ids: dict[str, int]):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _ids_in(body) -> set[int]:
    """Ids in a page of results, or anywhere in an objective tree."""
    nodes = body["results"] if isinstance(body, dict) else list(body)
    found = set()
    while nodes:
        node = nodes.pop()
        found.add(node["id"])
        nodes.extend(node.get("children", []))
    return found


@pytest.fixture
def world(request, sales_plan, plans, membership, other_lead, outsider):
    people = {role: request.getfixturevalue(role) for role in ROLES if role != "anonymous"}
    ids = {
        "department": request.getfixturevalue("department").pk,
        "person": people["contributor"].pk,
        "membership": membership.pk,
        "objective": sales_plan["objective"].pk,
        "initiative": sales_plan["initiative"].pk,
        "milestone": sales_plan["milestone"].pk,
        "plan": plans["draft"].pk,
        "proposal": plans["proposal"].pk,
        **{role: person.pk for role, person in people.items()},
    }
    return people, ids


@pytest.mark.parametrize(("case", "role", "expected"), MATRIX)
def test_permission_matrix(api_client, world, case, role, expected):
    # given
    people, ids = world
    actor = people.get(role)
    if actor is not None and case.endpoint != "auth:token":
        api_client.force_authenticate(actor)
    payload = {key: _fill(value, ids) for key, value in PAYLOADS.get(case.endpoint, {}).items()}
    if case.endpoint == "auth:token" and actor is not None:
        payload = {"username": actor.username, "password": PASSWORD}
    before = _state()

    # when
    response = getattr(api_client, case.method)(
        "/api/v1/" + case.url.format(**ids), payload, format="json"
    )

    # then
    if expected in (SEEN, UNSEEN):
        assert response.status_code == 200, response.content
        assert (ids[case.target] in _ids_in(response.json())) is (expected == SEEN)
    else:
        assert response.status_code == expected, response.content
    if expected == 400 and case.endpoint != "auth:token":  # a relation they may not see
        messages = [m for ms in response.json()["error"]["fields"].values() for m in ms]
        assert messages
        assert all(m.startswith("Invalid pk") for m in messages), messages
    if response.status_code >= 400:
        assert {"code", "fields", "message"} <= set(response.json()["error"])
        assert _state() == before
    elif case.method != "get" and case.audited:
        assert _state()["audit_events"] > before["audit_events"]
