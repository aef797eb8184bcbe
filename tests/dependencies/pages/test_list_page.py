"""The contract list for every role: what each sees, the filters (department on either side, the
side, the status, the text, a matrix cell), the empty states, pagination and a bounded number of
queries."""

import re

import pytest

from tests.dependencies.contract_support import draft
from tests.dependencies.pages.conftest import ROLES, login, more_contracts
from tests.factories import DepartmentFactory, PersonFactory, person_with_role
from tests.govern.pages.helpers import text

LIST = "/contracts/"


def _codes(response) -> list[str]:
    return re.findall(r'<span class="kpi-code">([A-Z0-9-]+)</span>', response.content.decode())


@pytest.mark.parametrize("role", ROLES)
def test_the_list_for_each_role(client, world, in_force, role):
    # given
    login(client, world, role)

    # when
    response = client.get(LIST)

    # then
    assert response.status_code == 200
    if role == "outsider":
        assert _codes(response) == []
        assert "No contracts yet." in text(response)
    else:
        assert _codes(response) == ["PROC-SALES-CASTINGS"]
        assert (
            "PROC-SALES-CASTINGS Castings for key accounts Procurement Pia Provider → Sales "
            "Carl Consumer Agreed Due 30 Jun 2026 4 v1"
        ) in text(response)
    assert ('href="/contracts/new/"' in response.content.decode()) is (role == "pmo")


def test_a_person_in_no_department_sees_an_empty_list(client, world, in_force):
    # given
    client.force_login(PersonFactory())

    # when
    response = client.get(LIST)

    # then
    assert response.status_code == 200
    assert _codes(response) == []
    assert "The PMO drafts contracts between departments" in text(response)


def test_the_status_is_a_badge_with_its_label_and_a_shape(client, world, in_force):
    # given
    login(client, world, "viewer")

    # when
    html = client.get(LIST).content.decode()

    # then
    assert (
        '<span class="badge badge-success contract-status" data-status="agreed">Agreed</span>'
        in html
    )


def test_a_pending_amendment_is_flagged_in_the_list(client, world, pending):
    # given
    login(client, world, "consumer_owner")

    # when
    page = text(client.get(LIST))

    # then
    assert "Castings for key accounts Amendment pending" in page


@pytest.fixture
def three(world, in_force):
    """In force PROC-SALES-CASTINGS (Procurement → Sales), a Sales → Procurement draft and a
    Procurement → HR draft the consumer lead cannot see."""
    hr = world.outsider.memberships.get().department
    reverse = draft(
        world,
        code="SALES-PROC-FORECAST",
        title="Demand forecast for buyers",
        provider_department=world.consumer,
        provider_owner=world.consumer_owner,
        consumer_department=world.provider,
        consumer_owner=world.provider_owner,
        deliverable="A monthly forecast",
        provider_milestones=[],
        provider_initiatives=[],
        consumer_initiatives=[],
        consumer_milestones=[],
        consumer_kpis=[],
    )
    to_hr = draft(
        world,
        code="PROC-HR-LAPTOPS",
        title="Laptops for new hires",
        consumer_department=hr,
        consumer_owner=world.outsider,
        consumer_initiatives=[],
        consumer_milestones=[],
        consumer_kpis=[],
    )
    return in_force, reverse, to_hr


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("", ["PROC-HR-LAPTOPS", "SALES-PROC-FORECAST", "PROC-SALES-CASTINGS"]),
        ("?department={sales}", ["SALES-PROC-FORECAST", "PROC-SALES-CASTINGS"]),
        ("?department={sales}&side=provider", ["SALES-PROC-FORECAST"]),
        ("?department={sales}&side=consumer", ["PROC-SALES-CASTINGS"]),
        ("?department={proc}&side=provider", ["PROC-HR-LAPTOPS", "PROC-SALES-CASTINGS"]),
        ("?status=draft", ["PROC-HR-LAPTOPS", "SALES-PROC-FORECAST"]),
        ("?status=in_force", ["PROC-SALES-CASTINGS"]),
        ("?q=laptop", ["PROC-HR-LAPTOPS"]),
        ("?provider={proc}&consumer={sales}", ["PROC-SALES-CASTINGS"]),
    ],
)
def test_the_filters(client, world, three, query, codes):
    # given: the PMO sees all three (drafts first: worst health first, then by code)
    login(client, world, "pmo")
    url = LIST + query.format(sales=world.consumer.pk, proc=world.provider.pk)

    # when
    response = client.get(url)

    # then
    assert response.status_code == 200
    assert _codes(response) == codes


def test_a_department_filter_offers_only_visible_departments_and_refuses_others(
    client, world, three
):
    # given: the consumer lead does not see HR
    login(client, world, "consumer_lead")
    hr = world.outsider.memberships.get().department

    # when
    offered = client.get(LIST)
    refused = client.get(f"{LIST}?department={hr.pk}")

    # then
    assert _codes(offered) == ["SALES-PROC-FORECAST", "PROC-SALES-CASTINGS"]
    assert f'<option value="{hr.pk}"' not in offered.content.decode()
    assert refused.status_code == 400
    assert "Select a valid choice." in text(refused)
    assert _codes(refused) == []


def test_the_side_without_a_department_means_the_users_own(client, world, three):
    # given: the consumer lead leads Sales
    login(client, world, "consumer_lead")

    # when
    provided = client.get(f"{LIST}?side=provider")
    consumed = client.get(f"{LIST}?side=consumer")

    # then
    assert _codes(provided) == ["SALES-PROC-FORECAST"]
    assert _codes(consumed) == ["PROC-SALES-CASTINGS"]


def test_a_matrix_cell_is_named_above_the_list_and_kept_by_the_filters(client, world, three):
    # given
    login(client, world, "pmo")

    # when
    response = client.get(f"{LIST}?provider={world.provider.pk}&consumer={world.consumer.pk}")

    # then
    html = response.content.decode()
    assert "Only contracts provided by Procurement to Sales · back to the matrix" in text(response)
    assert f'<input type="hidden" name="provider" value="{world.provider.pk}"' in html
    assert f'<input type="hidden" name="consumer" value="{world.consumer.pk}"' in html


def test_no_match_says_so_and_offers_to_clear(client, world, in_force):
    # given
    login(client, world, "pmo")

    # when
    page = text(client.get(f"{LIST}?q=nothing-like-this"))

    # then
    assert "0 contracts match these filters" in page
    assert "No contracts match these filters. Clear filters to see them all." in page


def test_the_empty_list_invites_the_pmo_to_draft_the_first(client, world):
    # given
    login(client, world, "pmo")

    # when
    response = client.get(LIST)

    # then
    assert "No contracts yet." in text(response)
    assert "Draft the first contract" in text(response)


def test_the_list_is_paginated(client, world, settings):
    # given
    settings.GOVERN_PAGE_SIZE = 4
    more_contracts(world, 5)
    login(client, world, "viewer")

    # when
    first = client.get(LIST)
    second = client.get(f"{LIST}?page=2")

    # then
    assert _codes(first) == ["BULK-000", "BULK-001", "BULK-002", "BULK-003"]
    assert _codes(second) == ["BULK-004"]
    assert "5 contracts" in text(first)
    assert "Page 1 of 2" in text(first)


@pytest.mark.parametrize("role", ["pmo", "consumer_lead"])
def test_the_list_runs_a_bounded_number_of_queries(
    client, world, role, django_assert_max_num_queries
):
    # given
    login(client, world, role)
    counts = []
    for start, n in ((0, 2), (2, 20)):
        more_contracts(world, n, start=start)
        # when
        with django_assert_max_num_queries(16) as captured:
            response = client.get(LIST)
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_a_lead_of_an_unrelated_department_gets_an_empty_list_not_an_error(client, world):
    # given
    more_contracts(world, 2)
    stranger = person_with_role("department_lead", DepartmentFactory(code="MKT", name="Marketing"))
    client.force_login(stranger)

    # when
    response = client.get(LIST)

    # then
    assert response.status_code == 200
    assert _codes(response) == []
