"""The contingency plan pages: the list (filters, pagination, empty state, bounded queries),
defining and editing a plan (with its template's lines; the services' refusals as form errors,
nothing written), one plan (the definition in words, the test against history, the decisions it
proposed, disable and enable) and the card on a KPI's page."""

import pytest
from django.test import override_settings

from decisions.models import ContingencyPlan
from decisions.services.contingency import contingency_check
from govern.models import AuditEvent
from tests.decisions.contingency.support import RESPONSE, defined, month, stored
from tests.factories import KpiFactory
from tests.govern.pages.helpers import text

LIST = "/contingency-plans/"
NEW = "/contingency-plans/new/"


def _login(client, person):
    client.force_login(person)
    return client


def _lines(*lines: dict, extra: int = 1) -> dict:
    """The template formset's fields: `lines` filled in, then `extra` blank lines."""
    data = {"lines-TOTAL_FORMS": str(len(lines) + extra), "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for index, line in enumerate([*lines, *([{}] * extra)]):
        for name in ("from_initiative", "from_department", "to_initiative", "to_department",
                     "amount"):  # fmt: skip
            data[f"lines-{index}-{name}"] = str(line.get(name, ""))
        data[f"lines-{index}-unit"] = line.get("unit", "currency")
    return data


def _form(world, *lines: dict, **overrides) -> dict:
    data = {
        "kpi": world.kpi.pk,
        "name": "Early promotion",
        "trigger_basis": "actual",
        "threshold_pct": "8",
        "periods": "2",
        "response": RESPONSE,
        "owner": world.contributor.pk,
        **_lines(*lines),
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _state():
    return (
        list(ContingencyPlan.objects.values()),
        list(AuditEvent.objects.values_list("pk", flat=True)),
    )


# --- The list ---------------------------------------------------------------------------------


def test_the_empty_list_invites_a_lead_to_define_one(client, world):
    # when
    lead = text(_login(client, world.lead).get(LIST).content.decode())
    viewer = text(_login(client, world.viewer).get(LIST).content.decode())

    # then
    assert "No contingency plans yet." in lead
    assert "Define the first plan" in lead
    assert "No contingency plans yet." in viewer
    assert "Define the first plan" not in viewer


def test_the_list_shows_each_plan_in_words_and_filters(client, world):
    # given
    defined(world)
    late = defined(world, name="Late promotion", threshold_pct=15, owner=world.lead.pk)
    late.enabled = False
    late.save()
    _login(client, world.lead)

    # when
    everything = client.get(LIST)
    disabled = client.get(LIST, {"enabled": "false"})
    searched = client.get(LIST, {"q": "nothing like it"})

    # then
    page = text(everything.content.decode())
    assert everything.status_code == 200
    assert "2 contingency plans" in page
    assert "SALES-INTAKE is ≥ 8% below plan for 2 consecutive months (actual)" in page
    assert "Armed" in page
    assert "Disabled" in page
    assert "Early promotion" not in text(disabled.content.decode())
    assert "No contingency plans match these filters." in text(searched.content.decode())


def test_a_bad_filter_is_a_400_on_the_form(client, world):
    # when
    response = _login(client, world.lead).get(LIST, {"owner": "999999"})

    # then
    assert response.status_code == 400


@override_settings(GOVERN_PAGE_SIZE=5)
def test_the_list_is_paginated_in_a_bounded_number_of_queries(
    client, world, django_assert_max_num_queries
):
    # given
    for index in range(7):
        kpi = KpiFactory(department=world.sales, owner=world.contributor, code=f"S-{index}")
        defined(world, kpi=kpi.pk, name=f"Plan {index}")
    _login(client, world.lead)

    # when
    with django_assert_max_num_queries(10):
        first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    # then
    assert "Page 1 of 2" in text(first.content.decode())
    assert [f"Plan {i}" in text(second.content.decode()) for i in range(7)] == [False] * 5 + [
        True
    ] * 2


# --- Defining and editing ---------------------------------------------------------------------


def test_the_kpi_is_preselected_from_the_query_string(client, world):
    # when
    response = _login(client, world.lead).get(NEW, {"kpi": world.kpi.pk})

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{world.kpi.pk}" selected>SALES-INTAKE — Order intake</option>' in html
    assert f'<option value="{world.contributor.pk}" selected>' in html  # the KPI's owner
    assert "PROC-OTD" not in html  # another department's KPI is not offered


def test_a_lead_defines_a_plan_with_its_template(client, world):
    # given
    line = {"from_department": world.sales.pk, "to_initiative": world.initiative.pk,
            "amount": "5000", "unit": "currency"}  # fmt: skip

    # when
    response = _login(client, world.lead).post(NEW, _form(world, line))

    # then
    plan = ContingencyPlan.objects.get()
    assert response.status_code == 302
    assert response.url == f"/contingency-plans/{plan.pk}/"
    assert (plan.name, plan.threshold_pct, plan.periods, plan.owner) == (
        "Early promotion", 8.0, 2, world.contributor,
    )  # fmt: skip
    assert plan.reallocations.get().to_initiative == world.initiative


def test_the_services_refusals_show_on_the_form_and_nothing_is_written(client, world):
    # given: a threshold out of range, a viewer as owner, a line that goes nowhere else
    line = {"from_department": world.sales.pk, "to_department": world.sales.pk, "amount": "10",
            "unit": "fte"}  # fmt: skip
    before = _state()

    # when
    response = _login(client, world.lead).post(
        NEW, _form(world, line, threshold_pct="0.01", owner=world.viewer.pk)
    )

    # then
    page = text(response.content.decode())
    assert response.status_code == 400
    assert "The threshold is an adverse variance between 0.1% and 1000% of plan." in page
    assert "Vic Viewer may not record decisions for Sales" in page
    assert "The resources must go somewhere else." in page
    assert _state() == before


def test_add_a_line_shows_one_more_without_judging(client, world):
    # when
    response = _login(client, world.lead).post(NEW, {**_form(world, name=""), "add_line": "1"})

    # then
    assert response.status_code == 200
    assert 'name="lines-1-amount"' in response.content.decode()
    assert "This field is required." not in response.content.decode()
    assert ContingencyPlan.objects.count() == 0


def test_only_the_pmo_and_leads_may_open_the_form(client, world):
    # when
    response = _login(client, world.contributor).get(NEW)

    # then
    assert response.status_code == 403


def test_a_lead_edits_a_plan(client, world):
    # given
    plan = defined(world)
    _login(client, world.lead)
    url = f"/contingency-plans/{plan.pk}/edit/"

    # when
    form = client.get(url)
    data = _form(world, kpi=None, threshold_pct="12", periods="3")
    saved = client.post(url, data)

    # then
    assert form.status_code == 200
    assert 'name="kpi"' not in form.content.decode()  # a plan stays on its KPI
    assert 'value="5000.00"' in form.content.decode()  # the template's line
    assert saved.status_code == 302
    plan.refresh_from_db()
    assert (plan.threshold_pct, plan.periods, plan.reallocations.count()) == (12.0, 3, 0)


@pytest.mark.parametrize(("role", "status"), [("contributor", 403), ("other_lead", 404)])
def test_who_may_not_edit_a_plan(client, world, role, status):
    # given
    plan = defined(world)

    # when
    response = _login(client, getattr(world, role)).get(f"/contingency-plans/{plan.pk}/edit/")

    # then
    assert response.status_code == status


# --- One plan ---------------------------------------------------------------------------------


def test_the_plan_page_shows_it_in_words_with_its_history_and_proposals(client, world):
    # given: ≥ 8% under in Feb–Mar (fires in March, stays in April), back on plan in May
    plan = defined(world)
    stored(world.kpi, {1: 95, 2: 91, 3: 90, 4: 88, 5: 100, 6: 89, 7: 85})
    [decision] = contingency_check(kpi_ids=[world.kpi.pk], today=month(7))

    # when
    response = _login(client, world.lead).get(f"/contingency-plans/{plan.pk}/")

    # then
    page = text(response.content.decode())
    assert response.status_code == 200
    assert "If SALES-INTAKE is ≥ 8% below plan for 2 consecutive months (actual)" in page
    assert RESPONSE in page
    assert "Sales → Spring campaign 5,000.00 Currency" in page
    assert "would have triggered on 2 dates" in page
    assert (
        "Fires Mar 2026 Feb 2026: 91 vs 100 (9.0% adverse) Mar 2026: 90 vs 100 (10.0% adverse) "
        "through Apr 2026 2 periods in all"
    ) in page
    assert (
        "Fires Jul 2026 Jun 2026: 89 vs 100 (11.0% adverse) Jul 2026: 85 vs 100 (15.0% adverse) "
        "that period only"
    ) in page
    assert f"D-{decision.pk} Contingency: Early promotion Proposed" in page
    assert "awaits a decision" in page
    assert "Disable the plan" in page


@pytest.mark.parametrize(("role", "status", "may_act"), [
    ("viewer", 200, False), ("executive", 200, False), ("pmo", 200, True),
    ("other_lead", 404, False), ("outsider", 404, False),
])  # fmt: skip
def test_who_sees_a_plan_and_who_may_disable_it(client, world, role, status, may_act):
    # given
    plan = defined(world)

    # when
    response = _login(client, getattr(world, role)).get(f"/contingency-plans/{plan.pk}/")

    # then
    assert response.status_code == status
    assert ("Disable the plan" in response.content.decode()) is may_act


def test_disabling_needs_a_reason_and_enabling_arms_it(client, world):
    # given
    plan = defined(world)
    _login(client, world.lead)

    # when
    refused = client.post(f"/contingency-plans/{plan.pk}/disable/", {"disable-reason": " "})
    disabled = client.post(
        f"/contingency-plans/{plan.pk}/disable/", {"disable-reason": "Budget spent."}
    )
    page = text(client.get(f"/contingency-plans/{plan.pk}/").content.decode())
    enabled = client.post(f"/contingency-plans/{plan.pk}/enable/", {"enable-reason": ""})

    # then
    assert refused.status_code == 400
    assert "Say why the plan is disabled; it is kept in its history." in text(
        refused.content.decode()
    )
    assert disabled.status_code == enabled.status_code == 302
    assert "Budget spent. It does not fire until it is enabled again." in page
    assert "Enable the plan" in page
    plan.refresh_from_db()
    assert plan.enabled is True


def test_a_viewer_may_not_disable_a_plan(client, world):
    # given
    plan = defined(world)

    # when
    response = _login(client, world.viewer).post(
        f"/contingency-plans/{plan.pk}/disable/", {"disable-reason": "Noise."}
    )

    # then
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.enabled is True


# --- On a KPI's page --------------------------------------------------------------------------


def test_the_kpi_page_loads_its_contingency_card(client, world):
    # when
    response = _login(client, world.lead).get(f"/kpis/{world.kpi.pk}/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'hx-get="/contingency-plans/kpi/{world.kpi.pk}/"' in html


def test_the_kpi_card_lists_its_plans_in_one_query_and_offers_to_add_one(
    client, world, django_assert_max_num_queries
):
    # given
    defined(world)
    defined(world, name="Second", threshold_pct=20)
    _login(client, world.lead)

    # when
    # session, user, scope, the KPI's gate, its plans, and the layout's plan version and unread
    # notifications: the plans are one query however many there are
    with django_assert_max_num_queries(7):
        lead = client.get(f"/contingency-plans/kpi/{world.kpi.pk}/")
    viewer = _login(client, world.viewer).get(f"/contingency-plans/kpi/{world.kpi.pk}/")
    hidden = _login(client, world.other_lead).get(f"/contingency-plans/kpi/{world.kpi.pk}/")

    # then
    page = text(lead.content.decode())
    assert "Early promotion" in page
    assert "Second" in page
    assert f"/contingency-plans/new/?kpi={world.kpi.pk}" in lead.content.decode()
    assert "Add a contingency plan" not in viewer.content.decode()
    assert hidden.status_code == 404


def test_a_kpi_without_plans_says_so(client, world):
    # when
    response = _login(client, world.viewer).get(f"/contingency-plans/kpi/{world.kpi.pk}/")

    # then
    assert "No contingency plan is armed on SALES-INTAKE." in text(response.content.decode())


def test_the_navigation_marks_decisions_on_contingency_pages(client, world):
    # when
    response = _login(client, world.lead).get(LIST)

    # then
    [decisions] = [item for item in response.context["navigation"] if item["label"] == "Decisions"]
    assert decisions["active"] is True
