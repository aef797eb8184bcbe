"""The decision log's admin is read-only for everybody, superusers included: decisions (with
their reallocation lines and log entries inline) and log entries are shown, never added, changed
or deleted; a POST to a change or delete address is refused and changes nothing."""

import pytest
from django.core.cache import cache

from decisions.models import LogEntry
from tests.decisions.log_support import build_world, logged
from tests.decisions.pages.conftest import database_state
from tests.factories import PersonFactory


@pytest.fixture
def world(db):
    cache.clear()
    return build_world()


@pytest.fixture
def admin_client(client, world):
    client.force_login(PersonFactory(is_staff=True, is_superuser=True, username="root"))
    return client


@pytest.fixture
def decision(world):
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "2500", "unit": "currency"}  # fmt: skip
    return logged(world, reallocations=[line])


def test_a_decision_is_shown_read_only_with_its_lines_and_entries(admin_client, decision):
    # given
    url = f"/admin/decisions/decision/{decision.pk}/change/"

    # when
    response = admin_client.get(url)

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Discount the bundle by 10%" in html
    assert "SALES-INTAKE — Order intake" in html  # the outcomes
    assert "2500.00" in html  # the reallocation line
    assert decision.hash in html  # its log entry
    assert 'name="title"' not in html
    assert 'name="reallocations-0-amount"' not in html
    assert 'name="_save"' not in html


def test_the_lists_show_decisions_and_entries(admin_client, decision):
    # when
    decisions = admin_client.get("/admin/decisions/decision/?q=bundle")
    entries = admin_client.get("/admin/decisions/logentry/")

    # then
    assert decisions.status_code == entries.status_code == 200
    assert f"D-{decision.pk}: Discount the spring bundle" in decisions.content.decode()
    assert LogEntry.objects.get().hash in entries.content.decode()
    assert 'value="delete_selected"' not in decisions.content.decode()


def test_the_admin_refuses_to_add_change_or_delete(admin_client, decision):
    # given
    entry = LogEntry.objects.get()
    before = database_state()

    # when
    responses = [
        admin_client.get("/admin/decisions/decision/add/"),
        admin_client.post("/admin/decisions/decision/add/", {"title": "Backdoor"}),
        admin_client.post(
            f"/admin/decisions/decision/{decision.pk}/change/",
            {"title": "Tampered", "chosen_option": "Something else", "status": "proposed"},
        ),
        admin_client.post(f"/admin/decisions/decision/{decision.pk}/delete/", {"post": "yes"}),
        admin_client.post(
            "/admin/decisions/decision/",
            {"action": "delete_selected", "_selected_action": [decision.pk], "post": "yes"},
        ),
        admin_client.get("/admin/decisions/logentry/add/"),
        admin_client.post(f"/admin/decisions/logentry/{entry.pk}/change/", {"actor_name": "x"}),
        admin_client.post(f"/admin/decisions/logentry/{entry.pk}/delete/", {"post": "yes"}),
    ]

    # then
    assert [r.status_code for r in responses] == [403, 403, 403, 403, 200, 403, 403, 403]
    assert database_state() == before


def test_reallocations_have_no_admin_of_their_own(admin_client, decision):
    # when
    response = admin_client.get("/admin/decisions/reallocation/")

    # then
    assert response.status_code == 404
