"""`seed_demo`'s plan versions (decisions/demo_plans.py): the re-forecast drafted from the computed
baseline by the PMO, proposed, approved by the CEO; its cut on red supplier OTD flagged as a
target-gaming signal for the PMO, the eased but green customer OTIF and the raised order intake
not; past periods keep the baseline; a second run writes nothing."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from govern.choices import AuditAction, PlanVersionStatus
from govern.models import AuditEvent, PlanVersion
from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus
from kpis.models import KpiException, KpiResult, Target

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)  # a Friday: the running week starts on Monday 16 November
RUNNING_WEEK = dt.date(2026, 11, 16)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


def targets(code: str, version: str) -> dict[dt.date, float]:
    return dict(
        Target.objects.filter(kpi__code=code, plan_version__name=version).values_list(
            "period", "value"
        )
    )


def test_the_re_forecast_is_drafted_proposed_and_approved_through_the_services():
    # when
    seed()

    # then
    assert sorted(
        PlanVersion.objects.values_list(
            "name", "status", "based_on__name", "proposed_by__username", "approved_by__username"
        )
    ) == [
        ("FY26 Q4 re-forecast", PlanVersionStatus.APPROVED, "FY26 baseline", "pmo", "ceo"),
        ("FY26 baseline", PlanVersionStatus.SUPERSEDED, None, None, "ceo"),
    ]
    re_forecast = PlanVersion.objects.get(name="FY26 Q4 re-forecast")
    assert list(
        AuditEvent.objects.for_object(re_forecast)
        .order_by("occurred_at", "pk")
        .values_list("action", "actor__username")
    ) == [
        (AuditAction.CREATE, "pmo"),
        (AuditAction.PROPOSE, "pmo"),
        (AuditAction.APPROVE, "ceo"),
    ]


def test_the_re_forecast_copies_every_target_and_re_phases_three_from_the_running_week():
    # when
    seed()

    # then: the same periods in both versions, for every KPI
    baseline = set(
        Target.objects.filter(plan_version__name="FY26 baseline").values_list("kpi_id", "period")
    )
    re_forecast = set(
        Target.objects.filter(plan_version__name="FY26 Q4 re-forecast").values_list(
            "kpi_id", "period"
        )
    )
    assert re_forecast == baseline

    # then: supplier OTD is cut to 86% from the running week on, and not before
    old, new = targets("PROC-OTD", "FY26 baseline"), targets("PROC-OTD", "FY26 Q4 re-forecast")
    changed = sorted(period for period in old if old[period] != new[period])
    assert changed[0] == RUNNING_WEEK
    assert {new[period] for period in changed} == {86.0}
    assert all(old[period] > 93 for period in changed)
    assert changed == sorted(period for period in old if period >= RUNNING_WEEK)

    # then: customer OTIF one point lower (×0.99) and order intake 5% higher, from then on
    for code, factor in (("CS-OTIF", 0.99), ("SALES-INTAKE", 1.05)):
        old, new = targets(code, "FY26 baseline"), targets(code, "FY26 Q4 re-forecast")
        assert all(new[p] == old[p] for p in old if p < RUNNING_WEEK), code
        assert all(new[p] == round(old[p] * factor, 1) for p in old if p >= RUNNING_WEEK), code

    # then: every other KPI's trajectory is copied unchanged
    others = (
        Target.objects.filter(plan_version__name="FY26 Q4 re-forecast")
        .exclude(kpi__code__in=("PROC-OTD", "CS-OTIF", "SALES-INTAKE"))
        .values_list("kpi__code", "period", "value")
    )
    baseline_values = {
        (code, period): value
        for code, period, value in Target.objects.filter(
            plan_version__name="FY26 baseline"
        ).values_list("kpi__code", "period", "value")
    }
    assert all(baseline_values[(code, period)] == value for code, period, value in others)


def test_the_cut_on_red_supplier_otd_is_flagged_for_the_pmo_and_nothing_else_is():
    # when
    seed()

    # then
    flagged = KpiException.objects.filter(kind=ExceptionKind.GOVERNANCE)
    assert list(
        flagged.values_list("kpi__code", "status", "owner__username", "escalation_level")
    ) == [("PROC-OTD", ExceptionStatus.OPEN, "pmo", EscalationLevel.PMO)]
    detail = flagged.get().detail
    assert "“FY26 Q4 re-forecast” against “FY26 baseline”" in detail
    assert "was red when" in detail


def test_past_periods_keep_the_result_they_were_computed_with():
    # when
    seed()

    # then: the last complete week was judged against the baseline's plan, not the cut
    baseline = targets("PROC-OTD", "FY26 baseline")
    last_week = RUNNING_WEEK - dt.timedelta(days=7)
    result = KpiResult.objects.get(kpi__code="PROC-OTD", period=last_week)
    assert result.plan == baseline[last_week]


def test_a_second_run_makes_no_other_version():
    # given
    seed()
    events = AuditEvent.objects.count()

    # when
    seed()

    # then
    assert PlanVersion.objects.count() == 2
    assert AuditEvent.objects.count() == events
