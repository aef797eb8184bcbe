"""Actuals revised after the fact beyond GOVERN_REVISION_THRESHOLD_PCT: a `governance` exception,
raised set-based from the one write path for actuals (`measurements_record`)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govern.choices import AuditAction
from govern.models import AuditEvent, Notification
from kpis.models import Kpi, KpiException, Measurement
from kpis.periods import period_start
from kpis.services.measurements import MeasurementRow, measurements_record
from tests.factories import KpiFactory
from tests.kpis.governance.conftest import FEB, JAN, MAR, approve, targets

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_recompute(monkeypatch):
    from kpis import tasks

    monkeypatch.setattr(tasks.kpi_recompute, "delay", lambda **kwargs: None)


def _measure(kpi, values: dict[dt.date, float]) -> None:
    Measurement.objects.bulk_create(
        Measurement(kpi=kpi, period=period, value=value, source="manual")
        for period, value in values.items()
    )


@pytest.fixture
def revise(django_capture_on_commit_callbacks):
    """Correct actuals through the write path and run what it queued once it commits (the
    governance check, `kpis.governance_revisions`)."""

    def run(actor, rows: list[tuple[str, dt.date, float]]):
        with django_capture_on_commit_callbacks(execute=True):
            return measurements_record(
                actor=actor,
                rows=[
                    MeasurementRow(n, code, period, value)
                    for n, (code, period, value) in enumerate(rows)
                ],
                source="import",
            )

    return run


def _governance():
    return list(KpiException.objects.filter(kind="governance"))


def test_a_revision_beyond_the_threshold_raises_a_governance_exception(world, settings, revise):
    # given
    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    _measure(world.kpi, {JAN: 80.0, FEB: 100.0, MAR: 100.0})

    # when: January up 12.5%, February up 4% (within), March down 10%
    revise(
        world.owner,
        [("SALES-INTAKE", JAN, 90.0), ("SALES-INTAKE", FEB, 104.0), ("SALES-INTAKE", MAR, 90.0)],
    )

    # then
    (exception,) = _governance()
    today = timezone.localdate()
    assert exception.title == "Target-gaming signal on SALES-INTAKE: Order intake"
    assert exception.detail == (
        "Actuals revised after the period ended, beyond 5%: Jan 2026 80 → 90 (+12.5%), "
        f"Mar 2026 100 → 90 (-10.0%); by {world.owner} on {today:%d %b %Y}."
    )
    assert exception.period == MAR
    assert exception.owner == world.pmo
    # the largest change is 12.5 / 5 = 2.5 times the threshold: base 1.25 × 4 × 4
    assert exception.severity == 20.0
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {world.pmo.username, world.later_pmo.username, world.executive.username}


def test_revisions_within_the_threshold_raise_nothing(world, settings, revise):
    # given
    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    _measure(world.kpi, {JAN: 100.0, FEB: 100.0})

    # when
    report = revise(world.owner, [("SALES-INTAKE", JAN, 105.0), ("SALES-INTAKE", FEB, 96.0)])

    # then
    assert report.counts() == {"created": 0, "updated": 2, "unchanged": 0}
    assert _governance() == []
    assert Notification.objects.count() == 0


def test_new_values_and_a_period_still_running_raise_nothing(world, settings, revise):
    # given: this month's actual is an estimate while the month runs
    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    this_month = period_start(timezone.localdate(), "monthly")
    _measure(world.kpi, {this_month: 100.0})

    # when
    revise(world.owner, [("SALES-INTAKE", this_month, 150.0), ("SALES-INTAKE", JAN, 10.0)])

    # then
    assert _governance() == []


def test_a_revision_from_zero_is_measured_in_units(world, settings, revise):
    # given
    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    _measure(world.kpi, {JAN: 0.0, FEB: 0.0})

    # when: 4 units is within 5, 7 units beyond
    revise(world.owner, [("SALES-INTAKE", JAN, 4.0), ("SALES-INTAKE", FEB, 7.0)])

    # then
    (exception,) = _governance()
    assert exception.detail.startswith(
        "Actuals revised after the period ended, beyond 5%: Feb 2026 0 → 7 (from 0);"
    )


def test_a_revision_adds_its_paragraph_to_an_open_target_signal(world, settings, revise):
    # given: targets eased twice, then January's actual revised up 20%
    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    targets(world.kpi, world.v1, {JAN: 100})
    targets(world.kpi, world.v2, {JAN: 95})
    targets(world.kpi, world.v3, {JAN: 90})
    approve(world)
    _measure(world.kpi, {JAN: 75.0})

    # when
    revise(world.owner, [("SALES-INTAKE", JAN, 90.0)])

    # then
    (exception,) = _governance()
    paragraphs = exception.detail.split("\n\n")
    assert [p.split(":")[0] for p in paragraphs] == [
        "Targets eased in “FY26 rev 2” against “FY26 rev 1”",
        "Actuals revised after the period ended, beyond 5%",
    ]
    # the higher severity stays: eased twice 1.0 vs a revision 20 / 5 / 2 = 2.0 → 2.0 × 4 × 4
    assert exception.severity == 32.0
    update = AuditEvent.objects.get(subject_type="kpis.kpiexception", action=AuditAction.UPDATE)
    assert update.actor == world.owner


def test_a_batch_of_many_revisions_makes_a_fixed_number_of_queries(world, settings, revise):
    # given: a batch revising 3 KPIs and one revising 30, each over two ended periods
    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    small = [KpiFactory(department=world.department, owner=world.owner) for _ in range(3)]
    large = [KpiFactory(department=world.department, owner=world.owner) for _ in range(30)]
    for kpi in small + large:
        _measure(kpi, {JAN: 100.0, FEB: 100.0})

    def count(kpis):
        rows = [(kpi.code, period, 150.0) for kpi in kpis for period in (JAN, FEB)]
        with CaptureQueriesContext(connection) as queries:
            revise(world.owner, rows)
        return len(queries)

    # when: the write and the governance check it queued
    few, many = count(small), count(large)

    # then: the same statements; only the bulk inserts split into one more chunk of rows (SQLite
    # binds at most ~1,000 parameters a statement here)
    assert many - few <= 2
    assert KpiException.objects.filter(kind="governance").count() == 33
    assert Kpi.objects.count() == 34


def test_the_write_path_only_queues_the_check_and_a_retry_writes_nothing(
    world, settings, django_capture_on_commit_callbacks
):
    # given
    from kpis.services.governance import revisions_raise

    settings.GOVERN_REVISION_THRESHOLD_PCT = 5.0
    _measure(world.kpi, {JAN: 100.0})

    # when: the write itself, without running what it queued
    with django_capture_on_commit_callbacks(execute=False) as queued:
        measurements_record(
            actor=world.owner, rows=[MeasurementRow(1, "SALES-INTAKE", JAN, 120.0)], source="api"
        )

    # then
    assert _governance() == []
    assert len(queued) == 2  # the recompute and the governance check, for after the commit

    # when: the check runs, then runs again (a duplicate delivery)
    at = timezone.now().isoformat()
    rows = [[world.kpi.pk, "2026-01-01", 100.0, 120.0, "monthly"]]
    first = revisions_raise(revisions=rows, actor_id=world.owner.pk, at=at)
    second = revisions_raise(revisions=rows, actor_id=world.owner.pk, at=at)

    # then
    assert (len(first.opened), len(second.opened), len(second.updated)) == (1, 0, 0)
    assert AuditEvent.objects.filter(subject_type="kpis.kpiexception").count() == 1
