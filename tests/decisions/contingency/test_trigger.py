"""The trigger (`contingency_check`) over stored KPI results: a firing plan proposes exactly one
decision (in its owner's name, answering the KPI's worst open exception, with the response and
the template's lines) and tells its owner; it does not fire again while that decision is open,
for the same unresolved exception, or for the run it fired for; a disabled plan never fires;
with no plan the check costs one query."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from decisions.choices import DecisionStatus
from decisions.models import Decision
from decisions.services import decision_decide, decision_supersede
from decisions.services.contingency import contingency_check, contingency_plan_disable
from govern.models import AuditEvent, Membership, Notification
from kpis.models import KpiException, KpiResult
from kpis.services.recompute import kpi_recompute
from kpis.signals import kpis_recomputed
from tests.decisions.contingency.support import RESPONSE, RESPONSE_IN_WORDS, defined, month, stored
from tests.decisions.log_support import payload
from tests.factories import KpiExceptionFactory, KpiFactory, MeasurementFactory, TargetFactory


def _check(world):
    return contingency_check(kpi_ids=[world.kpi.pk])


def _resolve(exception) -> None:
    exception.status = "resolved"
    exception.resolved_at = timezone.now()
    exception.save()


def test_a_firing_plan_proposes_one_decision_answering_the_exception(world):
    # given: 5%, then 9% and 10% under plan
    plan = defined(world)
    stored(world.kpi, {1: 95, 2: 91, 3: 90})

    # when
    [decision] = _check(world)

    # then
    assert (decision.status, decision.proposed_by, decision.department) == (
        DecisionStatus.PROPOSED, world.contributor, world.sales,
    )  # fmt: skip
    assert (decision.contingency_plan, decision.exception) == (plan, world.exception)
    assert list(decision.kpis.all()) == [world.kpi]
    assert decision.title == "Contingency: Early promotion"
    assert decision.chosen_option == RESPONSE
    assert decision.context == (
        "SALES-INTAKE (Order intake) has been ≥ 8% below plan for 2 months in a row up to "
        "Mar 2026 (the plan fires at 2): Feb 2026: 91 against a plan of 100 (9.0% adverse); "
        "Mar 2026: 90 against a plan of 100 (10.0% adverse).\n"
        "The contingency plan “Early promotion” fired at Mar 2026.\n"
        "It answers the exception “SALES-INTAKE is red: Order intake”."
    )
    assert decision.rationale == (
        "Agreed in advance in contingency plan “Early promotion” (owner Cora Contributor): If "
        "SALES-INTAKE is ≥ 8% below plan for 2 consecutive months (actual), then "
        f"{RESPONSE_IN_WORDS}"
    )
    line = decision.reallocations.get()
    assert (line.from_department, line.to_initiative, str(line.amount), line.unit) == (
        world.sales, world.initiative, "5000.00", "currency",
    )  # fmt: skip
    plan.refresh_from_db()
    assert (plan.trigger_count, plan.last_triggered_period) == (1, month(3))
    assert plan.last_triggered_at is not None
    fired = AuditEvent.objects.get(subject_type="decisions.contingencyplan", action="propose")
    assert (fired.actor_name, fired.reason) == (
        "system", f"Fired at Mar 2026: proposed D-{decision.pk}: Contingency: Early promotion.",
    )  # fmt: skip
    notice = Notification.objects.get(recipient=world.contributor)
    assert (notice.kind, notice.title, notice.link) == (
        "decision_proposed",
        "Contingency plan triggered: Early promotion (SALES-INTAKE)",
        f"/decisions/{decision.pk}/",
    )
    assert Notification.objects.filter(recipient=world.lead, kind="decision_proposed").count() == 1


def test_checking_again_changes_nothing(world):
    # given
    defined(world)
    stored(world.kpi, {1: 91, 2: 90})
    _check(world)
    before = (Decision.objects.count(), AuditEvent.objects.count(), Notification.objects.count())

    # when
    again = _check(world)

    # then
    assert again == []
    assert (
        Decision.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    ) == before


def test_a_run_that_has_not_reached_the_trigger_or_has_broken_does_not_fire(world):
    # given: one month under (not two); a second plan whose run broke in March
    defined(world)
    defined(world, name="Older run", threshold_pct=5)
    stored(world.kpi, {1: 90, 2: 94, 3: 99})

    # when
    proposed = _check(world)

    # then
    assert proposed == []
    assert Decision.objects.count() == 0


def test_a_disabled_plan_never_fires(world):
    # given
    plan = defined(world)
    contingency_plan_disable(actor=world.lead, plan=plan, reason="Paused for the audit.")
    stored(world.kpi, {1: 80, 2: 80, 3: 80})

    # when
    proposed = contingency_check(kpi_ids=None)

    # then
    assert proposed == []
    assert Decision.objects.count() == 0


def test_not_again_while_its_decision_is_open_nor_for_the_same_exception(world):
    # given: it fired in February
    plan = defined(world)
    stored(world.kpi, {1: 90, 2: 90})
    [first] = _check(world)

    # when: a new run reaches the trigger in May while the proposal is open
    stored(world.kpi, {3: 99, 4: 90, 5: 90})
    while_open = _check(world)
    # … and after it is decided, while the exception it answered is still unresolved
    decision_decide(actor=world.lead, decision=first)
    same_exception = _check(world)
    # … and once that exception is resolved and a new one opens
    _resolve(world.exception)
    new_exception = KpiExceptionFactory(kpi=world.kpi, kind="kpi_amber", severity=4.0)
    [second] = _check(world)

    # then
    assert while_open == same_exception == []
    assert (second.exception, second.contingency_plan) == (new_exception, plan)
    plan.refresh_from_db()
    assert (plan.trigger_count, plan.last_triggered_period) == (2, month(5))


def test_once_per_run_without_an_exception(world):
    # given: no exception on the KPI; it fired in February and that decision was decided
    _resolve(world.exception)
    defined(world)
    stored(world.kpi, {1: 90, 2: 90})
    [first] = _check(world)
    decision_decide(actor=world.lead, decision=first)

    # when: the run goes on in March, then breaks in April and a new one reaches June
    stored(world.kpi, {3: 85})
    same_run = _check(world)
    stored(world.kpi, {4: 100, 5: 90, 6: 90})
    [second] = _check(world)

    # then
    assert same_run == []
    assert (first.exception, second.exception) == (None, None)
    assert "up to Jun 2026" in second.context


def test_a_missing_period_breaks_the_run(world):
    # given
    defined(world)
    stored(world.kpi, {1: 90, 2: None, 3: 90})

    # when
    proposed = _check(world)

    # then
    assert proposed == []


def test_the_decision_answers_the_worst_open_performance_exception(world):
    # given: the red one (severity 10) is resolved; amber 3, forecast breach 8 and missing
    # data 20 (not a performance exception) are open
    _resolve(world.exception)
    KpiExceptionFactory(kpi=world.kpi, kind="kpi_amber", severity=3.0)
    breach = KpiExceptionFactory(kpi=world.kpi, kind="forecast_breach", severity=8.0)
    KpiExceptionFactory(kpi=world.kpi, kind="missing_data", severity=20.0)
    defined(world)
    stored(world.kpi, {1: 90, 2: 90})

    # when
    [decision] = _check(world)

    # then
    assert decision.exception == breach


def test_a_trade_off_exception_is_answered_with_the_initiative_the_template_takes_from(world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save()
    defined(world, reallocations=[
        {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
         "amount": "800", "unit": "currency"},
    ])  # fmt: skip
    stored(world.kpi, {1: 90, 2: 90})

    # when
    [decision] = _check(world)

    # then
    assert (decision.exception, decision.tradeoff_initiative) == (world.exception, world.initiative)
    assert decision.tradeoff_statement == (
        "The plan's reallocation template takes 800.00 (Currency) from Spring campaign."
    )


def test_without_an_initiative_to_sacrifice_a_trade_off_exception_is_left_to_a_person(world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save()
    defined(world)
    stored(world.kpi, {1: 90, 2: 90})

    # when
    [decision] = _check(world)

    # then
    assert decision.exception is None
    assert "needs a trade-off decision" in decision.context


def test_when_the_owner_may_no_longer_record_it_the_plans_author_proposes_it(world):
    # given: the owner left Sales after the plan was defined
    plan = defined(world)
    Membership.objects.filter(person=world.contributor).delete()
    stored(world.kpi, {1: 90, 2: 90})

    # when
    [decision] = _check(world)

    # then
    assert (decision.proposed_by, decision.contingency_plan) == (world.lead, plan)
    assert Notification.objects.filter(
        recipient=world.contributor, title__startswith="Contingency plan triggered"
    ).exists()


def test_when_nobody_may_record_it_nothing_is_proposed_and_it_is_logged(world, caplog):
    # given: neither the owner nor the author is a member any more
    plan = defined(world)
    Membership.objects.filter(person__in=[world.contributor, world.lead]).delete()
    stored(world.kpi, {1: 90, 2: 90})

    # when
    with caplog.at_level(logging.WARNING, logger="decisions.services.contingency"):
        proposed = _check(world)

    # then
    assert proposed == []
    plan.refresh_from_db()
    assert (plan.trigger_count, plan.last_triggered_period) == (0, None)
    assert f"Contingency plan {plan.pk} fired at 2026-02-01" in caplog.text


def test_a_forecast_plan_fires_on_the_forecast(world):
    # given: 100, 98, 96, 94 against 100 through June: forecast May 92 (8%), June 90 (10%)
    _resolve(world.exception)
    plan = defined(world, trigger_basis="forecast", threshold_pct=8, periods=2)
    stored(world.kpi, {1: 100, 2: 98, 3: 96, 4: 94}, pending=[5, 6])

    # when
    [decision] = contingency_check(kpi_ids=[world.kpi.pk], today=month(4))

    # then
    assert decision.contingency_plan == plan
    assert decision.context.startswith(
        "SALES-INTAKE (Order intake) is forecast, from the actuals up to Apr 2026, to be ≥ 8% "
        "below plan for the next 2 months: May 2026: 92 against a plan of 100 (8.0% adverse); "
        "Jun 2026: 90 against a plan of 100 (10.0% adverse)."
    )
    plan.refresh_from_db()
    assert plan.last_triggered_period == month(4)


def test_plans_of_other_kpis_are_not_checked(world):
    # given
    defined(world)
    stored(world.kpi, {1: 90, 2: 90})

    # when
    proposed = contingency_check(kpi_ids=[world.other_kpi.pk])

    # then
    assert proposed == []


def test_with_no_plan_the_check_is_one_query(world, django_assert_num_queries):
    # given
    kpi_ids = [world.kpi.pk, world.other_kpi.pk, *[KpiFactory().pk for _ in range(3)]]

    # when / then: one query returning nothing, a few KPIs or many
    with django_assert_num_queries(1):
        assert contingency_check(kpi_ids=kpi_ids) == []
    with django_assert_num_queries(1):
        assert contingency_check(kpi_ids=range(1, 20_001)) == []
    with django_assert_num_queries(1):
        assert contingency_check(kpi_ids=None) == []


def test_plans_that_do_not_fire_cost_two_queries(world, django_assert_num_queries):
    # given
    defined(world)
    defined(world, name="Second")
    stored(world.kpi, {1: 100, 2: 100})

    # when / then
    with django_assert_num_queries(2):
        assert _check(world) == []


def test_the_recompute_signal_runs_the_check(world, django_assert_num_queries):
    # given
    defined(world)
    stored(world.kpi, {1: 90, 2: 90})

    # when: an empty recompute costs nothing; a full one checks every plan
    with django_assert_num_queries(0):
        kpis_recomputed.send(sender=None, kpi_ids=[], full=False, today=month(3))
    kpis_recomputed.send(sender=None, kpi_ids=None, full=True, today=month(3))

    # then
    assert Decision.objects.filter(contingency_plan__isnull=False).count() == 1


@pytest.mark.parametrize("status", ["decided", "superseded"])
def test_a_closed_decision_no_longer_blocks_a_new_run(world, status):
    # given: it fired in February; that decision is closed and its exception resolved
    _resolve(world.exception)
    defined(world)
    stored(world.kpi, {1: 90, 2: 90})
    [first] = _check(world)
    decision_decide(actor=world.lead, decision=first)
    if status == "superseded":
        decision_supersede(actor=world.lead, decision=first, data=payload(world, exception=None))

    # when: the run breaks, then a new one reaches the trigger
    stored(world.kpi, {3: 100, 4: 90, 5: 90})
    [second] = _check(world)

    # then
    first.refresh_from_db()
    assert (first.status, second.status) == (status, DecisionStatus.PROPOSED)
    assert KpiException.objects.exclude(status="resolved").count() == 0


def test_the_recompute_fires_a_forecast_plan_on_the_forecast_it_stores(world):
    # given: actuals 100, 98, 96, 94 in Jan–Apr against 100 a month through June
    _resolve(world.exception)
    for index in range(1, 7):
        TargetFactory(kpi=world.kpi, period=month(index), value=100.0)
    for index, value in zip(range(1, 5), (100.0, 98.0, 96.0, 94.0), strict=True):
        MeasurementFactory(kpi=world.kpi, period=month(index), value=value)
    plan = defined(world, trigger_basis="forecast", threshold_pct=8, periods=2)

    # when: recomputed on 3 May (May is not due yet)
    kpi_recompute(kpi_ids=[world.kpi.pk], today=month(5) + dt.timedelta(days=2))

    # then: the stored forecast is 92 for May and 90 for June, 8% and 10% under plan
    stored_forecast = KpiResult.objects.filter(kpi=world.kpi, forecast__isnull=False)
    assert [(r.period, round(r.forecast, 9)) for r in stored_forecast.order_by("period")] == [
        (month(5), 92.0),
        (month(6), 90.0),
    ]
    [decision] = Decision.objects.filter(contingency_plan=plan)
    assert decision.status == DecisionStatus.PROPOSED
    assert "May 2026: 92 against a plan of 100 (8.0% adverse)" in decision.context
    plan.refresh_from_db()
    assert plan.last_triggered_period == month(4)
