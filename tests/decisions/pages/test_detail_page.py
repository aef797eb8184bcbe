"""One decision for every role: its whole content, links to what it answers (only to rows the
reader may open), the supersede chain, its log entries, the actions the reader may take, no edit
or delete address, and a bounded number of queries."""

import pytest

from decisions import services
from decisions.models import Decision
from tests.decisions.log_support import logged, tradeoff
from tests.decisions.pages.conftest import ROLES, SEES, database_state, login
from tests.factories import ContractFactory
from tests.govern.pages.helpers import text


def _url(decision: Decision, action: str = "") -> str:
    return f"/decisions/{decision.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def full(world):
    """A decided Sales decision with every link, a trade-off, two lines and an expected effect."""
    contract = ContractFactory(
        code="PROC-SALES-CASTINGS",
        title="Castings for key accounts",
        provider_department=world.procurement,
        consumer_department=world.sales,
    )
    lines = [
        {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
         "amount": "12500.5", "unit": "currency"},
        {"from_department": world.sales.pk, "to_initiative": world.initiative.pk,
         "amount": "1.5", "unit": "fte"},
    ]  # fmt: skip
    return logged(
        world,
        initiative=world.initiative.pk,
        contract=contract.pk,
        objective=world.objective.pk,
        tradeoff_initiative=world.initiative.pk,
        tradeoff_statement="The spring campaign loses two trade fairs.",
        reallocations=lines,
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_page_for_each_role(client, world, role):
    # given
    decision = logged(world, exception=None)
    login(client, world, role)

    # when
    response = client.get(_url(decision))

    # then
    assert response.status_code == (200 if role in SEES else 404)


def test_the_page_shows_the_whole_decision(client, world, full):
    # given
    login(client, world, "viewer")

    # when
    page = text(client.get(_url(full)))

    # then
    decided = f"{full.decided_on:%-d %b %Y}"
    assert (
        f"D-{full.pk} Discount the spring bundle Decided Sales · decided by Lea Lead (department "
        f"lead) on {decided}"
    ) in page
    assert (
        "The decision Context Order intake is red for March. Options considered Wait Discount "
        "the bundle Chosen option Discount the bundle by 10% Rationale Competitors cut prices in "
        "February."
    ) in page
    assert (
        "The outcome it is meant to move KPIs SALES-INTAKE Order intake No plan Answers the "
        "exception "
        "SALES-INTAKE is red: Order intake (decided) Initiative Spring campaign Contract "
        "PROC-SALES-CASTINGS Castings for key accounts Objective Grow order intake"
    ) in page
    assert (
        "Trade-off: what is sacrificed Initiative Spring campaign Sales What is given up The "
        "spring campaign loses two trade fairs."
    ) in page
    assert (
        "Resource reallocations The resources this decision moves From to To Amount Unit "
        "Spring campaign → Sales 12,500.50 Currency Sales → Spring campaign 1.50 FTE"
    ) in page
    assert (
        f"Expected effect Awaiting review KPI SALES-INTAKE Order intake Expected Reaches 120 "
        f"units by {full.review_date:%-d %b %Y} Effectiveness Awaiting review checked on the "
        "review date"
    ) in page
    assert "# Entry By When Hash 1 Decision taken Lea Lead" in page
    assert f"{full.hash[:12]} after {'0' * 12}" in page
    assert f"Hash {full.hash[:12]}" in page


def test_the_links_go_to_what_it_answers(client, world, full):
    # given
    login(client, world, "lead")

    # when
    html = client.get(_url(full)).content.decode()

    # then
    for href in (
        f"/kpis/{world.kpi.pk}/",
        f"/exceptions/{world.exception.pk}/",
        f"/initiatives/{world.initiative.pk}/",
        f"/contracts/{full.contract_id}/",
        f"/objectives/{world.objective.pk}/",
    ):
        assert f'href="{href}"' in html, href


def test_rows_the_reader_may_not_open_are_named_without_a_link(client, world):
    # given: an executive's Sales decision that takes budget from Procurement's initiative
    line = {"from_initiative": world.other_initiative.pk, "to_initiative": world.initiative.pk,
            "amount": "5000", "unit": "currency"}  # fmt: skip
    decision = logged(world, world.executive, reallocations=[line])

    # when: Procurement's lead sees it (it touches them) but not Sales' KPI or exception
    response = login(client, world, "other_lead").get(_url(decision))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "SALES-INTAKE</span> Order intake" in html
    assert f'href="/kpis/{world.kpi.pk}/"' not in html
    assert f'href="/exceptions/{world.exception.pk}/"' not in html
    assert "Second supplier → Spring campaign 5,000.00 Currency" in text(response)


@pytest.mark.parametrize(
    ("role", "may"),
    [("lead", True), ("pmo", True), ("executive", True), ("contributor", False),
     ("viewer", False)],
)  # fmt: skip
def test_a_proposed_decision_offers_decide_to_who_may(client, world, role, may):
    # given
    decision = logged(world, world.contributor, propose=True)
    login(client, world, role)

    # when
    response = client.get(_url(decision))

    # then
    html = response.content.decode()
    assert (f'action="/decisions/{decision.pk}/decide/"' in html) is may
    assert 'href="#decide">Decide</a>' in html if may else "Decide</a>" not in html
    assert (
        "Proposed: awaiting a decision. Only a lead of Sales, the PMO or an executive may "
        "decide it; record it as proposed for them to decide."
    ) in text(response)


@pytest.mark.parametrize(("role", "may"), [("lead", False), ("pmo", False), ("executive", True)])
def test_a_proposed_cross_department_decision_is_decided_by_an_executive(client, world, role, may):
    # given
    decision = logged(world, world.lead, propose=True, **tradeoff(world))
    login(client, world, role)

    # when
    html = client.get(_url(decision)).content.decode()

    # then
    assert decision.cross_department is True
    assert (f'action="/decisions/{decision.pk}/decide/"' in html) is may


@pytest.mark.parametrize(
    ("role", "may"), [("lead", True), ("pmo", True), ("contributor", False), ("viewer", False)]
)
def test_a_decided_decision_offers_supersede_to_who_may(client, world, role, may):
    # given
    decision = logged(world)
    login(client, world, role)

    # when
    html = client.get(_url(decision)).content.decode()

    # then
    assert (f'href="/decisions/{decision.pk}/supersede/"' in html) is may
    assert "/decide/" not in html


def test_supersedes_and_superseded_by_link_both_ways(client, world):
    # given
    old = logged(world)
    new = services.decision_supersede(
        actor=world.lead, decision=old, data=_content(world, title="Discount by 5% instead")
    )
    login(client, world, "viewer")

    # when
    old_page = client.get(_url(old))
    new_page = client.get(_url(new))

    # then
    assert f'<a href="/decisions/{new.pk}/">D-{new.pk} Discount by 5% instead</a>' in (
        old_page.content.decode()
    )
    assert f"Superseded by D-{new.pk} Discount by 5% instead" in text(old_page)
    assert f'<a href="/decisions/{old.pk}/">D-{old.pk} Discount the spring bundle</a>' in (
        new_page.content.decode()
    )
    assert f"Supersedes D-{old.pk} Discount the spring bundle" in text(new_page)
    assert "Decision superseded" in text(old_page)  # its log entry


def _content(world, **overrides):
    from tests.decisions.log_support import payload

    return payload(world, exception=None, **overrides)


@pytest.mark.parametrize("action", ["edit", "update", "delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_there_is_no_edit_or_delete_address(client, world, action, method):
    # given
    decision = logged(world)
    login(client, world, "pmo")
    before = database_state()

    # when
    response = getattr(client, method)(_url(decision, action), {"title": "Changed"})

    # then
    assert response.status_code == 404
    assert database_state() == before


@pytest.mark.parametrize("role", ["viewer", "pmo"])
def test_the_page_runs_a_bounded_number_of_queries(
    client, world, role, django_assert_max_num_queries
):
    # given: a small decision and a large one (ten lines, two outcomes, a trade-off)
    small = logged(world, exception=None)
    line = {"from_initiative": world.initiative.pk, "to_initiative": world.other_initiative.pk,
            "amount": "100", "unit": "fte"}  # fmt: skip
    large = logged(
        world, world.executive, reallocations=[line] * 10,
        kpis=[world.kpi.pk, world.other_kpi.pk], **tradeoff(world),
    )  # fmt: skip
    login(client, world, role)

    # when / then
    for decision in (small, large):
        with django_assert_max_num_queries(17):
            response = client.get(_url(decision))
        assert response.status_code == 200


def test_a_superseded_decision_is_not_shown_as_awaiting_its_review(client, world):
    # given: a decision with an expected effect, superseded before its review date
    old = logged(world)
    new = services.decision_supersede(
        actor=world.lead, decision=old, data=_content(world, title="Discount by 5% instead")
    )
    login(client, world, "lead")

    # when
    old_page = text(client.get(_url(old)))
    new_page = text(client.get(_url(new)))
    log_page = client.get("/decisions/").content.decode()

    # then: only the decision in force awaits its review
    assert "Not reviewed: superseded before its review date" in old_page
    assert "Awaiting review" not in old_page
    assert "Awaiting review" in new_page
    rows = {
        match: row
        for row in log_page.split("<tr")[1:]
        for match in (f"D-{old.pk}", f"D-{new.pk}")
        if f">{match}<" in row
    }
    assert "Not reviewed: superseded" in rows[f"D-{old.pk}"]
    assert "Awaiting review" not in rows[f"D-{old.pk}"]
    assert "Awaiting review" in rows[f"D-{new.pk}"]
