"""One contract's page for every role: its terms, both sides' agreement, the service-level KPI
and its chart, the pending amendment with the forms each reader may use, versions, the ripple
panel placeholder and the history; only the actions the reader may take; a bounded number of
queries."""

import datetime as dt

import pytest
from django.urls import reverse

from dependencies.services import amendments as amendment_services
from dependencies.services import contracts as services
from kpis.models import Kpi
from tests.dependencies.contract_support import draft, proposed
from tests.dependencies.pages.conftest import ROLES, login
from tests.factories import KpiResultFactory, PersonFactory
from tests.govern.pages.helpers import text

# role: the forms and buttons on an agreed contract whose amendment (proposed by the consumer
# lead) awaits both sides
# fmt: off
WITH_PENDING = {
    "pmo":            {"override", "withdraw", "fulfil", "cancel"},
    "executive":      set(),
    "provider_lead":  {"respond", "fulfil"},
    "consumer_lead":  {"respond", "withdraw"},
    "provider_owner": {"respond", "fulfil"},
    "consumer_owner": {"respond"},
    "viewer":         set(),
}
# fmt: on


def _actions(html: str, contract) -> set[str]:
    base = f"/contracts/{contract.pk}/"
    marks = {
        "respond": f'action="{base}amendments/1/respond/"',
        "override": f'action="{base}amendments/1/override/"',
        "withdraw": f'action="{base}amendments/1/withdraw/"',
        "fulfil": f'action="{base}fulfil/"',
        "cancel": f'href="{base}cancel/"',
        "edit": f'href="{base}edit/"',
        "delete": f'href="{base}delete/"',
        "propose": f'action="{base}propose/"',
        "agree": f'action="{base}agree/"',
        "amend": f'href="{base}amendments/new/"',
    }
    return {name for name, mark in marks.items() if mark in html}


@pytest.mark.parametrize("role", ROLES)
def test_the_page_of_a_contract_with_a_pending_amendment_for_each_role(
    client, world, in_force, pending, role
):
    # given
    login(client, world, role)

    # when
    response = client.get(f"/contracts/{in_force.pk}/")

    # then
    if role == "outsider":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html, page = response.content.decode(), text(response)
    assert _actions(html, in_force) == WITH_PENDING[role]
    assert "PROC-SALES-CASTINGS Castings for key accounts Agreed" in page
    assert "Procurement delivers to Sales · version 1 in force · criticality 4 of 5" in page
    assert "Amendment 1 Awaiting both sides" in page
    assert "Reason: The launch moved to the autumn" in page
    assert "Due date 30 Jun 2026 30 Sep 2026" in page
    assert "Provider Procurement Awaiting answer Consumer Sales Awaiting answer" in page


def test_a_person_in_no_department_gets_404(client, world, in_force):
    # given
    client.force_login(PersonFactory())

    # when
    response = client.get(f"/contracts/{in_force.pk}/")

    # then
    assert response.status_code == 404


def test_the_terms_both_sides_and_the_links(client, world, in_force):
    # given
    login(client, world, "consumer_lead")

    # when
    page = text(client.get(f"/contracts/{in_force.pk}/"))

    # then
    assert "Provider · delivers Procurement Owner Pia Provider Agreed by Pia Provider" in page
    assert "Consumer · depends on it Sales Owner Carl Consumer Agreed by Carl Consumer" in page
    assert "Deliverable 2,000 castings a week" in page
    assert "Acceptance criteria First-pass quality at least 98%" in page
    assert "Due date 30 Jun 2026" in page
    assert "Produced by (provider) Initiative Supplier programme Milestone Second supplier" in page
    assert (
        "Depending on it (consumer) Initiative Key accounts Milestone Pilot accounts live" in page
    )
    assert "KPI SALES-FILL Order fill rate" in page


def test_the_consumer_side_reads_the_provider_links_without_links_to_pages_it_cannot_open(
    client, world, in_force
):
    # given
    login(client, world, "consumer_owner")

    # when
    html = client.get(f"/contracts/{in_force.pk}/").content.decode()

    # then
    assert f'href="{world.provider_initiative.get_absolute_url()}"' not in html
    assert f'href="{world.consumer_initiative.get_absolute_url()}"' in html


@pytest.fixture
def with_service_level(world):
    """Agreed, with a service level on PROC-OTD (at least 95), red lately."""
    contract = draft(
        world, service_kpi=world.service_kpi, service_comparison="gte", service_threshold=95
    )
    contract = services.contract_propose(actor=world.pmo, contract=contract)
    contract = services.contract_agree(actor=world.provider_lead, contract=contract)
    contract = services.contract_agree(actor=world.consumer_lead, contract=contract)
    for month, actual, status in ((1, 97.0, "on_track"), (2, 88.0, "red")):
        KpiResultFactory(
            kpi=world.service_kpi, period=dt.date(2026, month, 1), plan=96.0, actual=actual,
            variance_pct=(actual - 96.0) / 96.0 * 100, status=status,
        )  # fmt: skip
    Kpi.objects.filter(pk=world.service_kpi.pk).update(status="red")
    return contract


def test_the_service_level_shows_the_kpi_status_and_its_chart_with_the_threshold(
    client, world, with_service_level
):
    # given
    login(client, world, "consumer_owner")

    # when
    response = client.get(f"/contracts/{with_service_level.pk}/")

    # then
    html, page = response.content.decode(), text(response)
    assert "Service level: PROC-OTD Red" in page
    assert "Supplier on-time must stay at least (≥) 95" in page
    assert "Latest actual 88 for 1 Feb 2026 (-8.3% vs plan)." in page
    assert 'id="kpi-chart-data" type="application/json"' in html
    assert '"name": "Contract: \\u2265 95"' in html
    # the consumer side is not in Procurement: no link to a KPI page it cannot open
    assert f'href="/kpis/{world.service_kpi.pk}/"' not in html


def test_the_provider_side_gets_a_link_to_its_service_kpi(client, world, with_service_level):
    # given
    login(client, world, "provider_owner")

    # when
    html = client.get(f"/contracts/{with_service_level.pk}/").content.decode()

    # then
    assert f'href="/kpis/{world.service_kpi.pk}/">Open the KPI</a>' in html


def test_the_ripple_panel_is_loaded_in_place(client, world, in_force):
    # given
    login(client, world, "viewer")

    # when
    html = client.get(f"/contracts/{in_force.pk}/").content.decode()

    # then
    url = reverse("ripple-panel")
    assert f'hx-get="{url}?node=contract:{in_force.pk}" hx-trigger="load"' in html
    assert "Loading what this contract reaches downstream…" in text(html)


def test_the_history_panel_lists_the_contract_and_its_amendments(client, world, in_force, pending):
    # given
    login(client, world, "viewer")

    # when
    page = text(client.get(f"/contracts/{in_force.pk}/"))

    # then
    history = page.split("History", 1)[1]
    assert "Cleo Lead proposed PROC-SALES-CASTINGS amendment 1" in history
    assert "Carl Consumer agreed" in history
    assert "Pam Officer created" in history


def test_a_draft_offers_edit_delete_and_propose_to_the_pmo_and_propose_to_each_side(client, world):
    # given
    contract = draft(world)

    # when
    seen = {}
    for role in ("pmo", "provider_owner", "consumer_lead", "viewer"):
        login(client, world, role)
        seen[role] = _actions(client.get(f"/contracts/{contract.pk}/").content.decode(), contract)

    # then
    assert seen == {
        "pmo": {"edit", "delete", "propose", "cancel"},
        "provider_owner": {"propose"},
        "consumer_lead": {"propose"},
        "viewer": set(),
    }


def test_a_proposed_contract_asks_each_side_that_has_not_agreed_yet(client, world):
    # given: the provider side agreed already
    contract = proposed(world)
    services.contract_agree(actor=world.provider_owner, contract=contract)

    # when
    seen = {}
    for role in ("pmo", "provider_lead", "consumer_owner"):
        login(client, world, role)
        response = client.get(f"/contracts/{contract.pk}/")
        seen[role] = _actions(response.content.decode(), contract)

    # then
    assert seen == {"pmo": {"edit", "cancel"}, "provider_lead": set(), "consumer_owner": {"agree"}}
    page = text(response)
    assert "Agreed by Pia Provider" in page
    assert "Awaiting agreement" in page
    assert "Agree for the consumer side" in page


def test_an_agreed_contract_without_amendment_offers_to_amend(client, world, in_force):
    # given
    login(client, world, "consumer_owner")

    # when
    response = client.get(f"/contracts/{in_force.pk}/")

    # then
    assert _actions(response.content.decode(), in_force) == {"amend"}
    assert "No amendments: version 1 is the agreed terms." in text(response)


def test_closed_amendments_are_listed_with_their_outcome(client, world, in_force):
    # given: one rejected, one accepted (version 2)
    first = amendment_services.amendment_propose(
        actor=world.pmo, contract=in_force, changes={"criticality": 5}, reason="More critical"
    )
    amendment_services.amendment_respond(
        actor=world.provider_owner, amendment=first, accept=False, comment="Not worth it"
    )
    second = amendment_services.amendment_propose(
        actor=world.pmo, contract=in_force, changes={"title": "Castings"}, reason="Shorter"
    )
    for person in (world.provider_owner, world.consumer_owner):
        amendment_services.amendment_respond(actor=person, amendment=second, accept=True)
    login(client, world, "viewer")

    # when
    response = client.get(f"/contracts/{in_force.pk}/")

    # then
    page = text(response)
    assert "Amendment 2 Accepted by both sides (applied) became version 2" in page
    assert "Title → Castings" in page
    assert "Amendment 1 Rejected" in page
    assert "Criticality → 5" in page
    assert "Provider (Pia Provider, rejected): Not worth it" in page
    assert f'href="/contracts/{in_force.pk}/versions/compare/?a=1&amp;b=2"' in (
        response.content.decode()
    )


def test_the_health_of_a_contract_at_risk_is_explained(client, world, in_force):
    # given
    type(in_force).objects.filter(pk=in_force.pk).update(
        status="at_risk", health_reason="Provider milestone 'Second supplier qualified' is late"
    )
    login(client, world, "viewer")

    # when
    page = text(client.get(f"/contracts/{in_force.pk}/"))

    # then
    assert "At risk: Provider milestone 'Second supplier qualified' is late" in page


def test_the_page_runs_a_bounded_number_of_queries(
    client, world, in_force, django_assert_max_num_queries
):
    # given
    login(client, world, "provider_lead")
    counts = []
    for n in (1, 4):
        while in_force.amendments.count() < n:
            amendment = amendment_services.amendment_propose(
                actor=world.pmo,
                contract=in_force,
                changes={"criticality": 5 if in_force.criticality != 5 else 3},
                reason="Try",
            )
            amendment_services.amendment_respond(
                actor=world.consumer_owner, amendment=amendment, accept=False, comment="No"
            )
        # when
        with django_assert_max_num_queries(22) as captured:
            response = client.get(f"/contracts/{in_force.pk}/")
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
