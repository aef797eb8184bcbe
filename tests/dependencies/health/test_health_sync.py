"""contract_health_sync: from the service KPI's results, the provider milestones and the due date
to the contract's status, its audit trail and its exception; a second run changes nothing."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dependencies import tasks
from dependencies.models import Contract
from dependencies.services import health as health_services
from dependencies.services.health import contract_health_sync, schedule_contract_health
from govern.choices import AuditAction, Role
from govern.models import AuditEvent, Notification
from kpis.models import KpiException
from tests.dependencies.health.conftest import (
    AUG,
    JUL,
    NOV,
    OCT,
    SEP,
    in_force_contract,
    set_results,
)
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    KpiFactory,
    MilestoneFactory,
    ObjectiveFactory,
    person_with_role,
)

pytestmark = pytest.mark.django_db

RED_REASON = "Service level: PROC-OTD is red (needs ≥ 95; latest 88.0)"
BREACH_REASON = "Service level: PROC-OTD is red for 2 periods in a row (needs ≥ 95; latest 86.0)"


@pytest.fixture(autouse=True)
def ripple(monkeypatch):
    """The ripple syncs asked for (the ripple itself is tested with the graph)."""
    calls = []
    monkeypatch.setattr(
        health_services, "schedule_ripple_sync", lambda **kwargs: calls.append(kwargs)
    )
    return calls


def sync(world, **kwargs):
    return contract_health_sync(today=world.today, **kwargs)


def contract_events(world):
    return AuditEvent.objects.filter(
        subject_type="dependencies.contract", subject_id=str(world.contract.pk)
    )


def exceptions(world):
    return KpiException.objects.filter(contract=world.contract).order_by("pk")


def writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE")
    ]


def test_a_red_service_kpi_puts_the_contract_at_risk_and_opens_its_exception(world, ripple):
    # given
    set_results(world.kpi, [(SEP, "on_track", 96.0), (OCT, "red", 88.0)])

    # when
    report = sync(world)

    # then
    assert report.as_dict() == {
        "contracts": 1,
        "changed": 1,
        "status_changed": 1,
        "at_risk": 1,
        "breached": 0,
        "exceptions_opened": 1,
        "exceptions_resolved": 0,
    }
    contract = Contract.objects.get(pk=world.contract.pk)
    assert (contract.status, contract.health_reason, contract.red_streak) == (
        "at_risk",
        RED_REASON,
        1,
    )
    assert contract.health_checked_at is not None
    assert contract.revision == world.contract.revision + 1
    exception = exceptions(world).get()
    assert (exception.kind, exception.status) == ("contract_at_risk", "open")
    assert exception.subject_key == f"contract:{contract.pk}"
    assert exception.kpi_id is None
    assert exception.department == world.provider
    assert exception.owner == world.provider_owner
    assert exception.title == "PROC-SALES-CASTINGS is at risk: Castings supply"
    assert exception.detail == RED_REASON
    assert exception.period == OCT
    assert exception.decision_deadline - exception.opened_at == dt.timedelta(days=7)
    # 1.0 (at risk) × criticality 4 × the consumer initiative's objective weight 5, opened today
    assert (exception.severity_base, exception.severity) == (20.0, 20.0)
    event = contract_events(world).get()
    assert (event.action, event.actor, event.actor_name) == (AuditAction.HEALTH, None, "system")
    assert event.changes == {"status": {"old": "agreed", "new": "at_risk"}}
    assert event.reason == RED_REASON
    opened = AuditEvent.objects.get(subject_type="kpis.kpiexception", action=AuditAction.OPEN)
    assert opened.subject_id == str(exception.pk)
    assert ripple == [{"subject_keys": [f"contract:{contract.pk}"]}]


def test_a_second_run_with_the_same_inputs_writes_nothing(world, ripple):
    # given
    set_results(world.kpi, [(OCT, "red", 88.0)])
    sync(world)
    events = AuditEvent.objects.count()
    ripple.clear()

    # when
    with CaptureQueriesContext(connection) as queries:
        report = sync(world)

    # then
    assert writes(queries.captured_queries) == []
    assert (report.changed, report.exceptions_opened, report.exceptions_resolved) == (0, 0, 0)
    assert AuditEvent.objects.count() == events
    assert ripple == []


def test_the_provider_and_the_consumer_owner_are_notified_of_a_new_exception(world):
    # given
    set_results(world.kpi, [(OCT, "red", 88.0)])

    # when
    sync(world)

    # then
    notified = Notification.objects.filter(kind="exception_opened")
    assert sorted(notified.values_list("recipient__username", flat=True)) == ["buyer", "planner"]
    assert set(notified.values_list("title", flat=True)) == {
        "New exception: PROC-SALES-CASTINGS is at risk: Castings supply"
    }


def test_red_for_the_breach_count_breaches_and_supersedes_the_at_risk_exception(world):
    # given: at risk after one red period
    set_results(world.kpi, [(SEP, "red", 88.0)])
    sync(world)
    at_risk = exceptions(world).get()

    # when: a second red period in a row
    set_results(world.kpi, [(SEP, "red", 88.0), (OCT, "red", 86.0)])
    report = sync(world)

    # then
    assert (report.exceptions_opened, report.exceptions_resolved) == (1, 1)
    contract = Contract.objects.get(pk=world.contract.pk)
    assert (contract.status, contract.health_reason, contract.red_streak) == (
        "breached",
        BREACH_REASON,
        2,
    )
    at_risk.refresh_from_db()
    assert at_risk.status == "resolved"
    resolve = AuditEvent.objects.get(action=AuditAction.RESOLVE, subject_id=str(at_risk.pk))
    assert resolve.reason == "Worsened to breached: superseded by the breached exception."
    breached = exceptions(world).get(status="open")
    assert breached.kind == "contract_breached"
    assert breached.detail == BREACH_REASON
    assert breached.decision_deadline - breached.opened_at == dt.timedelta(days=3)
    # 2.0 (breached) × criticality 4 × objective weight 5
    assert breached.severity == 40.0
    assert list(contract_events(world).order_by("pk").values_list("changes", flat=True)) == [
        {"status": {"old": "agreed", "new": "at_risk"}},
        {"status": {"old": "at_risk", "new": "breached"}},
    ]


def test_a_breach_that_improves_to_amber_is_at_risk_again(world):
    # given
    set_results(world.kpi, [(SEP, "red", 88.0), (OCT, "red", 86.0)])
    sync(world)
    breached = exceptions(world).get()

    # when
    set_results(world.kpi, [(SEP, "red", 88.0), (OCT, "red", 86.0), (NOV, "amber", 92.0)])
    sync(world)

    # then
    world.contract.refresh_from_db()
    assert world.contract.status == "at_risk"
    assert world.contract.health_reason == (
        "Service level: PROC-OTD is amber (needs ≥ 95; latest 92.0)"
    )
    breached.refresh_from_db()
    assert breached.status == "resolved"
    resolve = AuditEvent.objects.get(action=AuditAction.RESOLVE, subject_id=str(breached.pk))
    assert resolve.reason == "Improved to at risk: superseded by the at-risk exception."
    assert exceptions(world).get(status="open").kind == "contract_at_risk"


def test_a_recovered_service_level_returns_the_contract_to_agreed(world):
    # given: breached
    set_results(world.kpi, [(SEP, "red", 88.0), (OCT, "red", 86.0)])
    sync(world)

    # when: back on track and above the agreed level
    set_results(world.kpi, [(SEP, "red", 88.0), (OCT, "red", 86.0), (NOV, "on_track", 97.0)])
    report = sync(world)

    # then
    assert (report.status_changed, report.exceptions_resolved) == (1, 1)
    world.contract.refresh_from_db()
    assert (world.contract.status, world.contract.health_reason, world.contract.red_streak) == (
        "agreed",
        "",
        0,
    )
    assert not exceptions(world).exclude(status="resolved").exists()
    resolve = AuditEvent.objects.get(action=AuditAction.RESOLVE)
    assert resolve.reason == "Back to agreed: the contract is healthy again."
    event = contract_events(world).order_by("pk").last()
    assert event.changes == {"status": {"old": "breached", "new": "agreed"}}
    assert event.reason == "Healthy again: no health rule applies any more."


def test_a_reason_change_without_a_status_change_updates_the_contract_and_its_exception(world):
    # given
    set_results(world.kpi, [(SEP, "amber", 92.0)])
    sync(world)
    revision = Contract.objects.get(pk=world.contract.pk).revision

    # when: still amber, a new period
    set_results(world.kpi, [(SEP, "amber", 92.0), (OCT, "amber", 91.0)])
    report = sync(world)

    # then
    assert (report.changed, report.status_changed) == (1, 0)
    contract = Contract.objects.get(pk=world.contract.pk)
    assert contract.health_reason == "Service level: PROC-OTD is amber (needs ≥ 95; latest 91.0)"
    assert contract.revision == revision
    assert contract_events(world).count() == 1
    exception = exceptions(world).get()
    assert (exception.detail, exception.period) == (contract.health_reason, OCT)


def test_a_passed_due_date_breaches_until_the_contract_is_fulfilled(world):
    # given: a delivery contract past its due date
    due = world.today - dt.timedelta(days=6)
    contract = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        due_date=due,
    )
    sync(world, contract_ids=[contract.pk])
    contract.refresh_from_db()
    assert contract.status == "breached"
    assert contract.health_reason == f"Due date {due:%d %b %Y} passed without fulfilment"

    # when: a day later it is still breached, then it is fulfilled
    contract_health_sync(today=world.today + dt.timedelta(days=1), contract_ids=[contract.pk])
    contract.refresh_from_db()
    assert contract.status == "breached"
    Contract.objects.filter(pk=contract.pk).update(status="fulfilled")
    report = sync(world, contract_ids=[contract.pk])

    # then: its exception resolves, and the fulfilled status stays
    assert (report.contracts, report.exceptions_resolved) == (0, 1)
    exception = KpiException.objects.get(contract=contract)
    assert exception.status == "resolved"
    assert AuditEvent.objects.get(
        action=AuditAction.RESOLVE, subject_id=str(exception.pk)
    ).reason == ("The contract was fulfilled.")
    contract.refresh_from_db()
    assert contract.status == "fulfilled"


def test_a_cancelled_contract_s_exception_resolves_in_the_full_run(world):
    # given
    set_results(world.kpi, [(OCT, "red", 88.0)])
    sync(world)
    Contract.objects.filter(pk=world.contract.pk).update(status="cancelled")

    # when
    report = sync(world)

    # then
    assert report.exceptions_resolved == 1
    exception = exceptions(world).get()
    assert exception.status == "resolved"
    assert AuditEvent.objects.get(action=AuditAction.RESOLVE).reason == (
        "The contract was cancelled."
    )


def test_an_overdue_provider_milestone_puts_a_contract_at_risk(world):
    # given
    set_results(world.kpi, [(OCT, "on_track", 97.0)])
    due = world.today - dt.timedelta(days=2)
    world.contract.provider_milestones.add(
        MilestoneFactory(name="Pattern tooling", due_date=due, status="in_progress")
    )

    # when
    sync(world)

    # then
    world.contract.refresh_from_db()
    assert world.contract.status == "at_risk"
    assert world.contract.health_reason == (
        f"Provider milestone 'Pattern tooling' (due {due:%d %b %Y}) is overdue"
    )
    assert exceptions(world).get().period is None


def test_due_soon_with_a_provider_milestone_not_done_is_at_risk(world, settings):
    # given
    settings.GOVERN_CONTRACT_DUE_SOON_DAYS = 10
    due = world.today + dt.timedelta(days=10)
    contract = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        due_date=due,
        criticality=2,
    )
    contract.provider_milestones.add(
        MilestoneFactory(name="Pattern tooling", due_date=world.today + dt.timedelta(days=3))
    )

    # when
    sync(world, contract_ids=[contract.pk])

    # then
    contract.refresh_from_db()
    assert contract.status == "at_risk"
    assert contract.health_reason == (
        f"Due {due:%d %b %Y} in 10 days; provider milestone 'Pattern tooling' is not done"
    )
    exception = KpiException.objects.get(contract=contract)
    assert exception.period == due
    # 1.0 × criticality 2 × 3 (nothing on the consumer side serves an objective)
    assert exception.severity == 6.0


def test_the_objective_weight_is_the_highest_served_on_the_consumer_side(world):
    # given: a consumer KPI measuring a weight-2 objective, a consumer milestone whose
    # initiative serves a weight-3 one, and (from the world) an initiative serving weight 5
    contract = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        due_date=world.today - dt.timedelta(days=1),
        criticality=3,
    )
    consumer_kpi = KpiFactory(department=world.consumer)
    consumer_kpi.objectives.add(ObjectiveFactory(weight=2))
    contract.consumer_kpis.add(consumer_kpi)
    initiative = InitiativeFactory(objectives=[ObjectiveFactory(weight=3)])
    contract.consumer_milestones.add(MilestoneFactory(initiative=initiative))

    # when
    sync(world, contract_ids=[contract.pk])

    # then: 2.0 (breached) × criticality 3 × the highest weight 3
    assert KpiException.objects.get(contract=contract).severity == 18.0


def test_the_stored_reach_is_kept_in_the_severity(world):
    # given: an open exception whose ripple reach is 10 (factor 1.5)
    set_results(world.kpi, [(OCT, "red", 88.0)])
    sync(world)
    exceptions(world).update(reach=10.0)

    # when: the next day, a new period
    set_results(world.kpi, [(SEP, "amber", 92.0), (OCT, "red", 88.0)])
    contract_health_sync(today=world.today + dt.timedelta(days=1))

    # then: base 20 + 0.1 age bonus, × 1.5
    exception = exceptions(world).get()
    assert (exception.severity_base, exception.severity) == (20.1, 30.15)


def test_the_consumer_side_sees_the_exception_and_a_third_department_does_not(world):
    # given
    set_results(world.kpi, [(OCT, "red", 88.0)])
    sync(world)
    third_lead = person_with_role(Role.DEPARTMENT_LEAD, DepartmentFactory(code="LOG"))

    # then
    exception = exceptions(world).get()
    assert list(KpiException.objects.restrict(world.consumer_lead)) == [exception]
    assert list(KpiException.objects.restrict(world.consumer_owner)) == [exception]
    assert list(KpiException.objects.restrict(world.provider_owner)) == [exception]
    assert list(KpiException.objects.restrict(third_lead)) == []


def test_a_sync_for_kpis_only_checks_the_contracts_they_measure(world):
    # given: a second contract on another red KPI
    other_kpi = KpiFactory(department=world.provider, owner=world.provider_owner)
    other = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        service_kpi=other_kpi,
        service_comparison="gte",
        service_threshold=95.0,
    )
    set_results(world.kpi, [(OCT, "red", 88.0)])
    set_results(other_kpi, [(OCT, "red", 80.0)])

    # when
    report = sync(world, kpi_ids=[world.kpi.pk])

    # then
    assert report.contracts == 1
    world.contract.refresh_from_db()
    other.refresh_from_db()
    assert (world.contract.status, other.status) == ("at_risk", "agreed")


def test_a_sync_for_kpis_no_contract_depends_on_is_one_query(world):
    # given
    unrelated = KpiFactory()

    # when
    with CaptureQueriesContext(connection) as queries:
        report = sync(world, kpi_ids=[unrelated.pk])

    # then: one query (and the savepoint around it)
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in statements if "SAVEPOINT" not in sql]) == 1
    assert report.contracts == 0


def test_drafts_and_proposals_are_not_monitored(world):
    # given
    set_results(world.kpi, [(OCT, "red", 88.0)])
    Contract.objects.filter(pk=world.contract.pk).update(status="proposed")

    # when
    report = sync(world)

    # then
    assert report.contracts == 0
    assert Contract.objects.get(pk=world.contract.pk).status == "proposed"
    assert not exceptions(world).exists()


def _contracts(world, count: int) -> None:
    for _ in range(count):
        kpi = KpiFactory(department=world.provider, owner=world.provider_owner)
        set_results(kpi, [(JUL, "on_track", 97.0), (AUG, "red", 80.0)])
        contract = in_force_contract(
            provider_department=world.provider,
            provider_owner=world.provider_owner,
            consumer_department=world.consumer,
            consumer_owner=world.consumer_owner,
            service_kpi=kpi,
            service_comparison="gte",
            service_threshold=95.0,
            due_date=world.today + dt.timedelta(days=5),
        )
        contract.provider_milestones.add(MilestoneFactory(due_date=world.today))


def test_a_full_sync_runs_a_bounded_number_of_queries_whatever_the_contracts(world):
    # given
    _contracts(world, 2)
    with CaptureQueriesContext(connection) as few:
        first = sync(world)
    _contracts(world, 8)
    Contract.objects.update(status="agreed", health_checked_at=None)
    KpiException.objects.all().delete()

    # when
    with CaptureQueriesContext(connection) as many:
        second = sync(world)

    # then: every contract (but the world's, without results) opened an exception each time
    assert (first.exceptions_opened, second.exceptions_opened) == (2, 10)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many.captured_queries) <= 20


def test_schedule_contract_health_queues_once_on_commit(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    queued = []
    monkeypatch.setattr(tasks.contract_health_sync, "delay", lambda **kw: queued.append(kw))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        schedule_contract_health([world.contract.pk, world.contract.pk])

    # then
    assert queued == [{"contract_ids": [world.contract.pk]}]


def test_schedule_contract_health_queues_nothing_on_a_rollback(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    queued = []
    monkeypatch.setattr(tasks.contract_health_sync, "delay", lambda **kw: queued.append(kw))

    def rolled_back():
        with transaction.atomic():
            schedule_contract_health([world.contract.pk])
            raise RuntimeError("rolled back")

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            rolled_back()

    # then
    assert callbacks == []
    assert queued == []


def test_the_task_checks_the_contracts_it_is_given(world):
    # given
    set_results(world.kpi, [(OCT, "red", 88.0)])

    # when
    result = tasks.contract_health_sync.apply(kwargs={"contract_ids": [world.contract.pk]}).get()

    # then
    assert (result["contracts"], result["at_risk"], result["exceptions_opened"]) == (1, 1, 1)
