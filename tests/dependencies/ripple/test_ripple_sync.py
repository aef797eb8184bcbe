"""The ripple sync: each unresolved exception's reach, departments, objectives, trade-off flag
and severity, written once, idempotently; and its scheduling on commit."""

from unittest import mock

import pytest
from django.db import transaction

from dependencies.graph import graph
from dependencies.services.ripple import ripple_sync, schedule_ripple_sync
from govern.models import AuditEvent
from kpis.choices import ExceptionKind
from kpis.engine.severity import with_reach
from kpis.models import KpiException
from tests.dependencies.ripple_support import REACH_FROM_KPI, supply_chain
from tests.factories import KpiExceptionFactory, KpiFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(department, other_department):
    return supply_chain(department, other_department)


def test_an_exception_whose_ripple_crosses_departments_needs_a_tradeoff(chain):
    # given a red exception on PROC-OTD, base severity 30
    exception = KpiExceptionFactory(kpi=chain.kpi, severity_base=30.0, severity=30.0)

    # when
    report = ripple_sync()

    # then
    exception.refresh_from_db()
    assert (exception.reach, exception.reach_departments, exception.reach_objectives) == (
        REACH_FROM_KPI, 1, 1,
    )  # fmt: skip
    assert exception.tradeoff_required is True
    assert exception.severity == float(with_reach(30.0, REACH_FROM_KPI))  # 30 × 1.2917 = 38.75
    assert exception.severity == 38.75
    assert report.as_dict() | {"seconds": 0} == {
        "exceptions": 1, "updated": 1, "tradeoffs_flagged": 1, "tradeoffs_cleared": 0,
        "seconds": 0,
    }  # fmt: skip
    event = AuditEvent.objects.for_object(exception).get()
    assert event.changes == {"tradeoff_required": {"old": False, "new": True}}
    assert (
        event.reason == "Its ripple reaches 1 other department: a trade-off decision is required."
    )


def test_a_target_gaming_signal_keeps_its_own_severity_and_asks_for_no_tradeoff(chain):
    # given a governance exception on the same KPI, whose ripple crosses departments
    signal = KpiExceptionFactory(
        kpi=chain.kpi, kind=ExceptionKind.GOVERNANCE, severity_base=75.0, severity=75.0
    )

    # when
    report = ripple_sync()

    # then: the ripple weighs trouble travelling downstream, not the plan's integrity
    signal.refresh_from_db()
    assert (signal.reach, signal.tradeoff_required, signal.severity) == (0.0, False, 75.0)
    assert report.exceptions == 0
    assert not AuditEvent.objects.for_object(signal).exists()


def test_a_second_run_writes_nothing(chain, django_assert_num_queries):
    # given a synced exception
    KpiExceptionFactory(kpi=chain.kpi, severity_base=30.0)
    ripple_sync()
    events = AuditEvent.objects.count()

    # when: one locked read of the exceptions in a savepoint; no update, no event, and the
    # graph is memoised
    with django_assert_num_queries(3):
        report = ripple_sync()

    # then
    assert (report.exceptions, report.updated) == (1, 0)
    assert AuditEvent.objects.count() == events


def test_the_changed_rows_are_written_in_one_update_and_the_others_left_alone(
    chain, django_assert_num_queries
):
    # given a new exception on PROC-OTD, one on the milestone "Ship" (its initiative 1 / 1,
    # Sales 0, the objective 4 / 2: reach 3.0, within Sales), and one on a Sales KPI already
    # synced (the objective 4 / 1: reach 4.0, severity 10 × 1.2 = 12.0)
    crossing = KpiExceptionFactory(kpi=chain.kpi, severity_base=30.0, severity=30.0)
    overdue = KpiExceptionFactory(
        kpi=None, milestone=chain.milestone, kind="milestone_overdue",
        subject_key=f"milestone:{chain.milestone.pk}", department=chain.sales,
        owner=chain.milestone.owner, title="Ship is overdue", severity_base=8.0, severity=8.0,
    )  # fmt: skip
    kpi = KpiFactory(department=chain.sales, criticality=2)
    kpi.objectives.set([chain.objective])
    synced = KpiExceptionFactory(
        kpi=kpi, severity_base=10.0, severity=12.0, reach=4.0, reach_objectives=1
    )
    untouched_at = KpiException.objects.get(pk=synced.pk).updated_at
    graph()  # memoised: the sync reads no graph rows

    # when: a savepoint, the locked read, one UPDATE for both changed rows, one INSERT of the
    # trade-off event, the savepoint's release
    with django_assert_num_queries(5):
        report = ripple_sync()

    # then
    rows = {
        e.pk: (e.reach, e.reach_departments, e.reach_objectives, e.tradeoff_required, e.severity)
        for e in KpiException.objects.all()
    }
    assert rows == {
        crossing.pk: (REACH_FROM_KPI, 1, 1, True, 38.75),
        overdue.pk: (3.0, 0, 1, False, 9.2),  # 8 × (1 + 3 / 20)
        synced.pk: (4.0, 0, 1, False, 12.0),
    }
    assert (report.exceptions, report.updated, report.tradeoffs_flagged) == (3, 2, 1)
    assert KpiException.objects.get(pk=synced.pk).updated_at == untouched_at
    assert KpiException.objects.get(pk=crossing.pk).updated_at > untouched_at
    assert list(AuditEvent.objects.values_list("subject_id", flat=True)) == [str(crossing.pk)]


def test_an_exception_that_stays_in_its_department(chain):
    # given the Sales objective's KPI in exception: it reaches the objective and Sales only
    kpi = KpiFactory(department=chain.sales, criticality=2)
    kpi.objectives.set([chain.objective])
    exception = KpiExceptionFactory(kpi=kpi, severity_base=10.0, severity=10.0)

    # when
    ripple_sync()

    # then objective (4 / 1) + Sales (0)
    exception.refresh_from_db()
    assert (exception.reach, exception.reach_departments, exception.reach_objectives) == (4.0, 0, 1)
    assert exception.tradeoff_required is False
    assert exception.severity == 12.0  # 10 × (1 + 4 / 20)
    assert not AuditEvent.objects.for_object(exception).exists()


def test_only_the_given_subjects_are_synced(chain):
    # given two exceptions
    kpi = KpiFactory(department=chain.sales)
    one = KpiExceptionFactory(kpi=chain.kpi, severity_base=5.0)
    other = KpiExceptionFactory(kpi=kpi, severity_base=5.0, severity=7.0, reach=99.0)

    # when
    report = ripple_sync(subject_keys=[one.subject_key])

    # then
    assert report.exceptions == 1
    other.refresh_from_db()
    assert (other.reach, other.severity) == (99.0, 7.0)
    assert ripple_sync(subject_keys=[]).exceptions == 0


def test_a_resolved_exception_is_left_alone(chain):
    exception = KpiExceptionFactory(kpi=chain.kpi, status="resolved", severity_base=5.0)

    assert ripple_sync().exceptions == 0
    exception.refresh_from_db()
    assert exception.reach == 0.0


def test_a_subject_outside_the_graph_reaches_nothing(chain):
    # given an exception that carried a reach on a KPI since made inactive
    exception = KpiExceptionFactory(
        kpi=chain.kpi, severity_base=20.0, severity=40.0, reach=25.0, reach_departments=2,
        reach_objectives=3, tradeoff_required=True,
    )  # fmt: skip
    chain.kpi.is_active = False
    chain.kpi.save()

    # when
    report = ripple_sync()

    # then
    exception.refresh_from_db()
    assert (exception.reach, exception.reach_departments, exception.reach_objectives) == (0, 0, 0)
    assert exception.tradeoff_required is False
    assert exception.severity == 20.0
    assert report.tradeoffs_cleared == 1


def test_a_contract_exception_is_held_against_the_providers_department(chain):
    # given the contract in breach: an exception in Procurement, the provider's department
    exception = KpiExceptionFactory(
        kpi=None, contract=chain.contract, kind="contract_breached",
        subject_key=f"contract:{chain.contract.pk}", department=chain.procurement,
        owner=chain.contract.provider_owner, title="Parts are late", severity_base=10.0,
    )  # fmt: skip

    # when
    ripple_sync()

    # then the initiative (1 / 1), Procurement and Sales (0), the objective (4 / 2)
    exception.refresh_from_db()
    assert (exception.reach, exception.reach_departments, exception.reach_objectives) == (3.0, 1, 1)
    assert exception.tradeoff_required is True


def test_a_graph_change_clears_the_tradeoff_and_records_it(chain):
    # given a synced exception that crosses into Sales through the contract
    exception = KpiExceptionFactory(kpi=chain.kpi, severity_base=30.0)
    ripple_sync()

    # when the contract no longer depends on the KPI (cancelled), and the sync runs again
    chain.contract.status = "cancelled"
    chain.contract.save()
    report = ripple_sync()

    # then
    exception.refresh_from_db()
    assert exception.tradeoff_required is False
    assert exception.reach == 0.0  # Procurement only
    assert exception.severity == 30.0
    assert (report.tradeoffs_flagged, report.tradeoffs_cleared) == (0, 1)
    latest = AuditEvent.objects.for_object(exception).order_by("-id").first()
    assert latest.changes == {"tradeoff_required": {"old": True, "new": False}}


# --- Scheduling -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_schedule_enqueues_once_the_transaction_commits():
    with mock.patch("dependencies.tasks.ripple_sync.delay") as delay:
        with transaction.atomic():
            schedule_ripple_sync(subject_keys=["kpi:2", "kpi:1", "kpi:2"])
            schedule_ripple_sync(subject_keys=[])
            delay.assert_not_called()

    delay.assert_called_once_with(subject_keys=["kpi:1", "kpi:2"])


@pytest.mark.django_db(transaction=True)
def test_a_full_sync_is_enqueued_once_and_covers_the_subject_syncs_after_it():
    with mock.patch("dependencies.tasks.ripple_sync.delay") as delay:
        with transaction.atomic():
            schedule_ripple_sync()
            schedule_ripple_sync()
            schedule_ripple_sync(subject_keys=["kpi:1"])

    delay.assert_called_once_with(subject_keys=None)


def _schedule_then_fail():
    with transaction.atomic():
        schedule_ripple_sync(subject_keys=["kpi:1"])
        raise RuntimeError("rolled back")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing():
    with mock.patch("dependencies.tasks.ripple_sync.delay") as delay:
        with pytest.raises(RuntimeError):
            _schedule_then_fail()

    delay.assert_not_called()


@pytest.mark.django_db(transaction=True)
def test_the_task_runs_the_sync(department, other_department):
    # given an exception whose reach was never synced (tasks run eagerly in the tests)
    chain = supply_chain(department, other_department)
    exception = KpiExceptionFactory(kpi=chain.kpi, severity_base=30.0)
    KpiException.objects.filter(pk=exception.pk).update(reach=0.0)

    # when
    with transaction.atomic():
        schedule_ripple_sync(subject_keys=[exception.subject_key])

    # then
    assert KpiException.objects.get(pk=exception.pk).reach == REACH_FROM_KPI
