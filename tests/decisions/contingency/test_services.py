"""Defining, changing, disabling and enabling contingency plans through the services: who may,
every field's message at once with nothing written, the template's lines checked as a
decision's, and an audit event for each change."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from decisions.models import ContingencyPlan, ContingencyReallocation
from decisions.services.contingency import (
    contingency_plan_create,
    contingency_plan_disable,
    contingency_plan_enable,
    contingency_plan_update,
    describe_plan,
    describe_trigger,
)
from govern.errors import ConflictError
from govern.models import AuditEvent
from kpis.models import Kpi
from tests.decisions.contingency.support import RESPONSE_IN_WORDS, defined, plan_data


def _events(plan) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            subject_type="decisions.contingencyplan", subject_id=str(plan.pk)
        ).order_by("pk")
    )


def test_a_lead_defines_a_plan_with_its_template_and_it_is_audited(world):
    # when
    plan = defined(world)

    # then
    assert (plan.kpi, plan.name, plan.trigger_basis, plan.threshold_pct, plan.periods) == (
        world.kpi, "Early promotion", "actual", 8.0, 2,
    )  # fmt: skip
    assert (plan.owner, plan.created_by, plan.enabled, plan.trigger_count) == (
        world.contributor, world.lead, True, 0,
    )  # fmt: skip
    line = plan.reallocations.get()
    assert (line.from_department, line.to_initiative, str(line.amount), line.unit) == (
        world.sales, world.initiative, "5000.00", "currency",
    )  # fmt: skip
    [event] = _events(plan)
    assert (event.action, event.actor, event.changes["reallocations"]["new"]) == (
        "create", world.lead, ["5000.00 Currency: Sales → Spring campaign"],
    )  # fmt: skip
    assert describe_plan(plan) == (
        "If SALES-INTAKE is ≥ 8% below plan for 2 consecutive months (actual), then "
        f"{RESPONSE_IN_WORDS}"
    )


def test_every_message_comes_at_once_and_nothing_is_written(world):
    # given
    data = plan_data(
        world,
        name=" ",
        threshold_pct=0,
        periods=30,
        response="",
        owner=world.viewer.pk,
        reallocations=[
            {"from_department": world.sales.pk, "to_department": world.sales.pk,
             "amount": "0", "unit": "bags"},
        ],
    )  # fmt: skip

    # when
    with pytest.raises(ValidationError) as refused:
        contingency_plan_create(actor=world.lead, data=data)

    # then
    assert refused.value.message_dict == {
        "name": ["Give the plan a short name."],
        "threshold_pct": ["The threshold is an adverse variance between 0.1% and 1000% of plan."],
        "periods": ["Between 1 and 24 consecutive periods."],
        "response": ["Say what will be done when the plan fires: the agreed response."],
        "owner": [
            "Vic Viewer may not record decisions for Sales: choose one of its members (not a "
            "viewer), its leads, the PMO or an executive, so that the decision the plan proposes "
            "can be recorded in their name."
        ],
        "reallocations[0].to_department": ["The resources must go somewhere else."],
        "reallocations[0].amount": ["The amount must be more than zero."],
        "reallocations[0].unit": ["Choose the unit: currency, fte, capacity_hours."],
    }
    assert ContingencyPlan.objects.count() == AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"threshold_pct": "eight"}, "threshold_pct",
         "Enter the threshold as a number of percent; got 'eight'."),
        ({"threshold_pct": float("nan")}, "threshold_pct",
         "Enter a finite number (not NaN or infinity)."),
        ({"periods": 1.5}, "periods", "Enter a whole number of periods; got 1.5."),
        ({"trigger_basis": "gut"}, "trigger_basis",
         "Choose what the plan watches: actual (actual) or forecast (forecast)."),
        ({"trigger_basis": "forecast", "periods": 3}, "periods",
         "The forecast looks 2 periods ahead: a forecast trigger can span at most 2."),
        ({"owner": None}, "owner", "Name the person who owns the response."),
        ({"kpi": None}, "kpi", "Choose the KPI the plan watches."),
        ({"colour": "red"}, "non_field_errors", "Unknown fields: colour."),
    ],
)  # fmt: skip
def test_one_bad_field_one_message(world, overrides, field, message):
    # when
    with pytest.raises(ValidationError) as refused:
        contingency_plan_create(actor=world.lead, data=plan_data(world, **overrides))

    # then
    assert refused.value.message_dict == {field: [message]}


def test_a_name_is_unique_on_its_kpi(world):
    # given
    defined(world)

    # when
    with pytest.raises(ValidationError) as refused:
        defined(world, name="early PROMOTION")

    # then
    assert refused.value.message_dict == {
        "name": ["SALES-INTAKE already has a contingency plan named “early PROMOTION”."]
    }


@override_settings(GOVERN_FORECAST_HORIZON=3)
def test_a_forecast_plan_spans_at_most_the_forecast_horizon(world):
    # when
    plan = defined(world, trigger_basis="forecast", periods=3)

    # then
    assert describe_plan(plan).startswith(
        "If SALES-INTAKE is forecast to be ≥ 8% below plan for the next 3 months, then"
    )


def test_only_the_pmo_and_the_kpis_leads_define_plans(world):
    # when: the PMO may; a contributor and an executive see the KPI but may not; the
    # Procurement lead does not even see it
    by_pmo = defined(world, actor=world.pmo)
    with pytest.raises(PermissionDenied) as contributor:
        defined(world, actor=world.contributor, name="Mine")
    with pytest.raises(PermissionDenied):
        defined(world, actor=world.executive, name="Theirs")
    with pytest.raises(ValidationError) as other_lead:
        defined(world, actor=world.other_lead, name="Other")

    # then
    assert by_pmo.created_by == world.pmo
    assert str(contributor.value) == (
        "Only the PMO and the leads of Sales may define, change or disable contingency plans on "
        "SALES-INTAKE."
    )
    assert other_lead.value.message_dict["kpi"] == [f"No KPI {world.kpi.pk} that you may see."]
    assert ContingencyPlan.objects.count() == 1


def test_a_change_is_audited_and_replaces_the_template(world):
    # given
    plan = defined(world)

    # when
    updated = contingency_plan_update(
        actor=world.lead,
        plan=plan,
        data={"threshold_pct": 12, "owner": world.lead.pk, "reallocations": [
            {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
             "amount": "250", "unit": "capacity_hours"},
        ]},
    )  # fmt: skip

    # then
    assert (updated.threshold_pct, updated.owner, updated.periods) == (12.0, world.lead, 2)
    line = ContingencyReallocation.objects.get()
    assert (line.from_initiative, line.to_department, line.unit) == (
        world.initiative, world.sales, "capacity_hours",
    )  # fmt: skip
    change = _events(plan)[-1]
    assert change.action == "update"
    assert change.changes == {
        "threshold_pct": {"old": 8.0, "new": 12.0},
        "owner": {"old": "Cora Contributor", "new": "Lea Lead"},
        "reallocations": {
            "old": ["5000.00 Currency: Sales → Spring campaign"],
            "new": ["250.00 Capacity hours: Spring campaign → Sales"],
        },
    }


def test_a_change_that_changes_nothing_writes_no_event(world):
    # given
    plan = defined(world)

    # when
    contingency_plan_update(actor=world.lead, plan=plan, data={"name": "Early promotion"})

    # then
    assert [event.action for event in _events(plan)] == ["create"]


def test_a_plan_stays_on_its_kpi(world):
    # given
    plan = defined(world)

    # when
    with pytest.raises(ValidationError) as refused:
        contingency_plan_update(actor=world.pmo, plan=plan, data={"kpi": world.other_kpi.pk})

    # then
    assert refused.value.message_dict == {
        "kpi": ["A plan stays on its KPI: disable it and define a new plan on the other KPI."]
    }


def test_disabling_needs_a_reason_and_enabling_arms_it_again(world):
    # given
    plan = defined(world)

    # when
    with pytest.raises(ValidationError) as no_reason:
        contingency_plan_disable(actor=world.lead, plan=plan, reason="  ")
    disabled = contingency_plan_disable(
        actor=world.lead, plan=plan, reason="The promotion budget is spent."
    )
    with pytest.raises(ConflictError) as twice:
        contingency_plan_disable(actor=world.lead, plan=plan, reason="Again.")
    enabled = contingency_plan_enable(actor=world.pmo, plan=plan, reason="New budget.")
    with pytest.raises(ConflictError) as enabled_twice:
        contingency_plan_enable(actor=world.pmo, plan=plan)

    # then
    assert no_reason.value.message_dict == {
        "reason": ["Say why the plan is disabled; it is kept in its history."]
    }
    assert (disabled.enabled, disabled.disabled_by, disabled.disabled_reason) == (
        False, world.lead, "The promotion budget is spent.",
    )  # fmt: skip
    assert twice.value.code == "already_disabled"
    assert (enabled.enabled, enabled.disabled_at, enabled.disabled_reason) == (True, None, "")
    assert enabled_twice.value.code == "already_enabled"
    assert [(e.action, e.changes, e.reason) for e in _events(plan)[1:]] == [
        ("update", {"enabled": {"old": True, "new": False}}, "The promotion budget is spent."),
        ("update", {"enabled": {"old": False, "new": True}}, "New budget."),
    ]


def test_a_contributor_may_not_disable_a_plan(world):
    # given
    plan = defined(world)

    # when
    with pytest.raises(PermissionDenied):
        contingency_plan_disable(actor=world.contributor, plan=plan, reason="Not mine.")

    # then
    plan.refresh_from_db()
    assert plan.enabled is True


@pytest.mark.parametrize(
    ("direction", "frequency", "basis", "periods", "expected"),
    [
        ("higher_is_better", "monthly", "actual", 2,
         "KPI-X is ≥ 8.5% below plan for 2 consecutive months (actual)"),
        ("lower_is_better", "weekly", "actual", 1, "KPI-X is ≥ 8.5% above plan in a week (actual)"),
        ("within_band", "quarterly", "actual", 3,
         "KPI-X is ≥ 8.5% outside its band for 3 consecutive quarters (actual)"),
        ("higher_is_better", "monthly", "forecast", 1,
         "KPI-X is forecast to be ≥ 8.5% below plan for the next month"),
        ("lower_is_better", "weekly", "forecast", 2,
         "KPI-X is forecast to be ≥ 8.5% above plan for the next 2 weeks"),
    ],
)  # fmt: skip
def test_the_trigger_in_words(direction, frequency, basis, periods, expected):
    # given
    kpi = Kpi(code="KPI-X", direction=direction, frequency=frequency)
    plan = ContingencyPlan(kpi=kpi, trigger_basis=basis, threshold_pct=8.5, periods=periods)

    # when
    words = describe_trigger(plan)

    # then
    assert words == expected
