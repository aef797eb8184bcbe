"""The versions of a contract and the side-by-side comparison of two of them: every term in both
versions, and exactly the changed ones marked "Changed"."""

import re

import pytest

from dependencies.services import amendments as amendment_services
from tests.dependencies.contract_support import draft
from tests.dependencies.pages.conftest import ROLES, login
from tests.govern.pages.helpers import text


@pytest.fixture
def two_versions(world, in_force):
    """Version 2: a later due date, a higher criticality and one more consumer KPI."""
    amendment = amendment_services.amendment_propose(
        actor=world.consumer_lead,
        contract=in_force,
        changes={
            "due_date": "2026-09-30",
            "criticality": 5,
            "consumer_kpis": [world.consumer_kpi, world.other_consumer_kpi],
        },
        reason="The launch moved to the autumn",
    )
    for person in (world.provider_owner, world.consumer_owner):
        amendment_services.amendment_respond(actor=person, amendment=amendment, accept=True)
    in_force.refresh_from_db()
    return in_force


def _changed(response) -> set[str]:
    return set(re.findall(r'data-changed="([a-z_]+)"', response.content.decode()))


@pytest.mark.parametrize("role", ROLES)
def test_the_versions_page_for_each_role(client, world, two_versions, role):
    # given
    login(client, world, role)

    # when
    response = client.get(f"/contracts/{two_versions.pk}/versions/")

    # then
    if role == "outsider":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = text(response)
    assert re.findall(r'id="v(\d)"', response.content.decode()) == ["2", "1"]
    assert "Version 2 In force" in page
    assert "from amendment 1 Accepted by both sides (applied)" in page
    assert "Reason: The launch moved to the autumn (amendment 1;" in page
    assert "Consumer KPIs SALES-FILL — Order fill rate, SALES-NPS — Customer NPS" in page
    html = response.content.decode()
    assert f'href="/contracts/{two_versions.pk}/versions/compare/?a=1&amp;b=2"' in html
    # the picker starts at the last two, older first
    assert (
        '<select name="a" id="compare-a"><option value="2">2</option><option value="1" selected>'
        in html
    )
    assert '<select name="b" id="compare-b"><option value="2" selected>' in html


def test_the_comparison_marks_exactly_the_changed_terms(client, world, two_versions):
    # given
    login(client, world, "viewer")

    # when
    response = client.get(f"/contracts/{two_versions.pk}/versions/compare/?a=1&b=2")

    # then
    assert response.status_code == 200
    assert _changed(response) == {"due_date", "criticality", "consumer_kpis"}
    page = text(response)
    assert (
        "3 terms changed between version 1 and version 2: Due date, Criticality, Consumer KPIs."
    ) in page
    assert "Due date 30 Jun 2026 30 Sep 2026 Changed" in page
    assert "Criticality 4 5 Changed" in page
    assert (
        "Consumer KPIs SALES-FILL — Order fill rate SALES-FILL — Order fill rate, SALES-NPS — "
        "Customer NPS Changed"
    ) in page
    assert "Title Castings for key accounts Castings for key accounts same" in page
    assert response.content.decode().count(">Changed</span>") == 3


def test_the_comparison_defaults_to_the_last_two_versions(client, world, two_versions):
    # given
    login(client, world, "consumer_owner")

    # when
    response = client.get(f"/contracts/{two_versions.pk}/versions/compare/")

    # then
    assert response.status_code == 200
    assert _changed(response) == {"due_date", "criticality", "consumer_kpis"}


def test_a_version_against_itself_changes_nothing(client, world, two_versions):
    # given
    login(client, world, "consumer_owner")

    # when
    response = client.get(f"/contracts/{two_versions.pk}/versions/compare/?a=2&b=2")

    # then
    assert _changed(response) == set()
    assert "Versions 2 and 2 have the same terms." in text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?a=1&b=7", "PROC-SALES-CASTINGS has no version 7; it has versions 1 to 2."),
        ("?a=x&b=2", "Enter a whole number."),
        ("?a=1", "This field is required."),
    ],
)
def test_a_bad_comparison_is_a_form_error(client, world, two_versions, query, message):
    # given
    login(client, world, "viewer")

    # when
    response = client.get(f"/contracts/{two_versions.pk}/versions/compare/{query}")

    # then
    assert response.status_code == 400
    assert message in text(response)
    assert _changed(response) == set()


def test_a_contract_not_agreed_yet_has_no_versions(client, world):
    # given
    contract = draft(world)
    login(client, world, "pmo")

    # when
    versions = client.get(f"/contracts/{contract.pk}/versions/")
    compare = client.get(f"/contracts/{contract.pk}/versions/compare/")

    # then
    assert "No versions yet. Version 1 is written when both sides have agreed" in text(versions)
    assert compare.status_code == 200
    assert "No versions yet." in text(compare)


def test_the_comparison_is_hidden_from_an_outsider(client, world, two_versions):
    # given
    login(client, world, "outsider")

    # when
    response = client.get(f"/contracts/{two_versions.pk}/versions/compare/?a=1&b=2")

    # then
    assert response.status_code == 404
