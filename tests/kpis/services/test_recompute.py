"""The recompute service, its tasks and its management command."""

import datetime as dt
import io
import types

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govern.choices import PlanVersionStatus
from kpis import tasks
from kpis.models import Kpi, KpiResult, Measurement
from kpis.services import recompute as service
from kpis.services.recompute import NO_PLAN_MESSAGE, kpi_recompute, kpi_reconcile
from tests.factories import KpiFactory, KpiResultFactory, MeasurementFactory, TargetFactory

TODAY = dt.date(2026, 4, 20)
JAN, FEB, MAR, APR, MAY = (dt.date(2026, month, 1) for month in range(1, 6))


@pytest.fixture
def exception_calls(monkeypatch):
    """Stand in for kpis.services.exceptions (tested on its own) and record the calls."""
    calls = []

    def exception_sync(*, kpi_ids, today):
        calls.append(("exception_sync", kpi_ids, today))
        return 2, 1

    def milestone_exception_sync(*, today):
        calls.append(("milestone_exception_sync", today))
        return 3, 0

    fake = types.SimpleNamespace(
        exception_sync=exception_sync, milestone_exception_sync=milestone_exception_sync
    )
    monkeypatch.setattr(service, "exception_services", fake)
    return calls


def drifting_kpi(**kwargs) -> Kpi:
    """Plan 100 for January..April; actuals 100, 94, 85 for January..March."""
    kpi = KpiFactory(**kwargs)
    for period in (JAN, FEB, MAR, APR):
        TargetFactory(kpi=kpi, period=period, value=100.0)
    for period, value in ((JAN, 100.0), (FEB, 94.0), (MAR, 85.0)):
        MeasurementFactory(kpi=kpi, period=period, value=value)
    return kpi


def stored(kpi: Kpi) -> list[tuple]:
    return list(
        KpiResult.objects.filter(kpi=kpi)
        .order_by("period")
        .values_list("period", "plan", "actual", "variance_pct", "status", "forecast",
                     "forecast_status")
    )  # fmt: skip


def writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]


def test_recompute_writes_results_and_kpi_status(db, exception_calls):
    # given
    kpi = drifting_kpi()

    # when
    report = kpi_recompute(kpi_ids=[kpi.pk], today=TODAY)

    # then the trend 100, 94, 85 (slope −7.5, level 85.5) forecasts 78 for April, 70.5 for May
    assert stored(kpi) == [
        (JAN, 100.0, 100.0, 0.0, "on_track", None, ""),
        (FEB, 100.0, 94.0, -6.0, "amber", None, ""),
        (MAR, 100.0, 85.0, -15.0, "red", None, ""),
        (APR, 100.0, None, None, "pending", 78.0, "red"),
        (MAY, None, None, None, "no_plan", 70.5, "no_plan"),
    ]
    kpi.refresh_from_db()
    assert (kpi.status, kpi.status_period, kpi.forecast_status) == ("red", MAR, "red")
    assert kpi.computed_at is not None
    assert report.as_dict() | {"seconds": 0} == {
        "kpis": 1,
        "results_written": 5,
        "results_unchanged": 0,
        "results_deleted": 0,
        "kpis_changed": 1,
        "exceptions_opened": 2,
        "exceptions_resolved": 1,
        "milestone_exceptions_opened": 0,
        "milestone_exceptions_resolved": 0,
        "seconds": 0,
        "plan_version": "Approved plan",
        "message": "",
    }
    assert exception_calls == [("exception_sync", [kpi.pk], TODAY)]


def test_recompute_a_second_time_writes_nothing(db, exception_calls):
    # given a computed KPI
    kpi = drifting_kpi()
    kpi_recompute(today=TODAY)
    computed_at = dict(KpiResult.objects.values_list("period", "computed_at"))
    kpi.refresh_from_db()
    kpi_computed_at = kpi.computed_at

    # when
    with CaptureQueriesContext(connection) as queries:
        report = kpi_recompute(today=TODAY)

    # then
    assert writes(queries.captured_queries) == []
    assert (report.results_written, report.results_unchanged, report.results_deleted) == (0, 5, 0)
    assert report.kpis_changed == 0
    assert dict(KpiResult.objects.values_list("period", "computed_at")) == computed_at
    kpi.refresh_from_db()
    assert kpi.computed_at == kpi_computed_at
    assert exception_calls[-1] == ("exception_sync", None, TODAY)


def test_recompute_a_changed_measurement_rewrites_only_that_kpis_changed_rows(db, exception_calls):
    # given two computed KPIs
    changed, untouched = drifting_kpi(), drifting_kpi()
    kpi_recompute(today=TODAY)
    before = dict(KpiResult.objects.filter(kpi=untouched).values_list("period", "computed_at"))

    # when March of one KPI is corrected to 100 (100, 94, 100: a flat trend at 98)
    Measurement.objects.filter(kpi=changed, period=MAR).update(value=100.0)
    report = kpi_recompute(today=TODAY)

    # then March, April's and May's forecasts of that KPI are rewritten, nothing else
    assert (report.results_written, report.results_unchanged) == (3, 7)
    assert stored(changed)[2:] == [
        (MAR, 100.0, 100.0, 0.0, "on_track", None, ""),
        (APR, 100.0, None, None, "pending", 98.0, "on_track"),
        (MAY, None, None, None, "no_plan", 98.0, "no_plan"),
    ]
    changed.refresh_from_db()
    assert (changed.status, changed.forecast_status) == ("on_track", "on_track")
    after = dict(KpiResult.objects.filter(kpi=untouched).values_list("period", "computed_at"))
    assert after == before


def test_recompute_deletes_results_of_periods_no_longer_planned_or_measured(db, exception_calls):
    # given a KPI with a stale result for a period that has neither plan nor actual
    kpi = KpiFactory()
    TargetFactory(kpi=kpi, period=JAN, value=10.0)
    MeasurementFactory(kpi=kpi, period=JAN, value=10.0)
    KpiResultFactory(kpi=kpi, period=dt.date(2025, 6, 1))

    # when
    report = kpi_recompute(kpi_ids=[kpi.pk], today=TODAY)

    # then
    assert report.results_deleted == 1
    assert stored(kpi) == [(JAN, 10.0, 10.0, 0.0, "on_track", None, "")]


def test_recompute_without_an_approved_plan_clears_results(db, exception_calls):
    # given a computed KPI whose plan version is then superseded
    kpi = drifting_kpi()
    kpi_recompute(today=TODAY)
    version = kpi.targets.first().plan_version
    version.status = PlanVersionStatus.SUPERSEDED
    version.save()

    # when
    report = kpi_recompute(today=TODAY)

    # then
    assert (report.plan_version, report.message) == (None, NO_PLAN_MESSAGE)
    assert report.results_deleted == 5
    assert not KpiResult.objects.exists()
    kpi.refresh_from_db()
    assert (kpi.status, kpi.status_period, kpi.forecast_status) == ("no_plan", None, "")


def test_recompute_all_skips_inactive_kpis_and_handles_kpis_without_targets(db, exception_calls):
    # given an active KPI with only pending targets, one with no targets and an inactive one
    pending = KpiFactory()
    TargetFactory(kpi=pending, period=dt.date(2026, 6, 1))
    bare = KpiFactory()
    MeasurementFactory(kpi=bare, period=JAN, value=3.0)
    inactive = KpiFactory(is_active=False)
    TargetFactory(kpi=inactive, period=JAN)

    # when
    report = kpi_recompute(today=TODAY)

    # then
    assert report.kpis == 2
    statuses = dict(Kpi.objects.values_list("pk", "status"))
    assert statuses == {pending.pk: "pending", bare.pk: "no_plan", inactive.pk: "no_plan"}
    assert stored(bare) == [(JAN, None, 3.0, None, "no_plan", None, "")]
    assert not KpiResult.objects.filter(kpi=inactive).exists()


def test_recompute_in_chunks_gives_the_same_results(db, exception_calls, monkeypatch):
    # given three KPIs and chunks of one KPI
    kpis = [drifting_kpi() for _ in range(3)]
    monkeypatch.setattr(service, "CHUNK_SIZE", 1)

    # when
    report = kpi_recompute(today=TODAY)

    # then
    assert report.results_written == 15
    assert stored(kpis[0]) == stored(kpis[1]) == stored(kpis[2])
    assert len(stored(kpis[2])) == 5


def test_reconcile_recomputes_only_stale_kpis(db, exception_calls):
    # given KPIs never computed, up to date, changed since computed, and inactive
    now = timezone.now()
    never = drifting_kpi()
    fresh = drifting_kpi()
    changed = drifting_kpi()
    inactive = drifting_kpi(is_active=False)
    Kpi.objects.filter(pk=fresh.pk).update(
        computed_at=now, inputs_changed_at=now - dt.timedelta(minutes=1)
    )
    Kpi.objects.filter(pk=changed.pk).update(
        computed_at=now - dt.timedelta(minutes=1), inputs_changed_at=now
    )

    # when
    report = kpi_reconcile(today=TODAY)

    # then
    assert report.kpis == 2
    assert set(KpiResult.objects.values_list("kpi_id", flat=True)) == {never.pk, changed.pk}
    for kpi in (never, changed):
        kpi.refresh_from_db()
        assert kpi.computed_at >= kpi.inputs_changed_at
    assert Kpi.objects.get(pk=fresh.pk).computed_at == now
    assert Kpi.objects.get(pk=inactive.pk).computed_at is None
    assert exception_calls == [("exception_sync", sorted([never.pk, changed.pk]), TODAY)]


def test_reconcile_with_nothing_stale_writes_nothing(db, exception_calls):
    # given a computed KPI
    drifting_kpi()
    kpi_recompute(today=TODAY)

    # when
    with CaptureQueriesContext(connection) as queries:
        report = kpi_reconcile(today=TODAY)

    # then
    assert report.kpis == 0
    assert writes(queries.captured_queries) == []
    assert exception_calls == [("exception_sync", None, TODAY)]


def test_sweep_task_recomputes_everything_and_syncs_milestones(db, exception_calls):
    # given
    drifting_kpi()

    # when the task runs (eagerly in tests)
    result = tasks.kpi_sweep.delay().get()

    # then
    today = timezone.localdate()
    assert result["kpis"] == 1
    assert result["results_written"] > 0
    assert (result["milestone_exceptions_opened"], result["exceptions_opened"]) == (3, 2)
    assert exception_calls == [
        ("exception_sync", None, today),
        ("milestone_exception_sync", today),
    ]


def test_recompute_and_reconcile_tasks_return_the_report(db, exception_calls):
    # given
    kpi = drifting_kpi()

    # when
    recomputed = tasks.kpi_recompute.delay(kpi_ids=[kpi.pk]).get()
    reconciled = tasks.kpi_reconcile.delay().get()

    # then
    assert (recomputed["kpis"], recomputed["results_written"]) == (1, 5)
    assert (reconciled["kpis"], reconciled["results_written"]) == (0, 0)


def test_beat_schedules_the_sweep_and_the_reconciliation(settings):
    # given the settings
    # when
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    # then
    assert {"kpis.sweep", "kpis.reconcile"} <= tasks_scheduled


def test_recompute_command_prints_a_summary(db, exception_calls):
    # given
    kpi = drifting_kpi(code="PROC-OTD")
    drifting_kpi()
    out = io.StringIO()

    # when
    call_command("recompute", "--kpi", "PROC-OTD", stdout=out)

    # then
    text = out.getvalue()
    assert text.startswith("Recomputed 1 KPIs in ")
    assert text.rstrip().endswith(
        "5 results written, 0 unchanged, 0 deleted; 1 KPI statuses updated; "
        "exceptions 2 opened, 1 resolved."
    )
    assert set(KpiResult.objects.values_list("kpi_id", flat=True)) == {kpi.pk}


def test_recompute_command_reconciles_by_default_and_recomputes_all_on_request(db, exception_calls):
    # given two KPIs never computed
    drifting_kpi()
    drifting_kpi()
    first, second = io.StringIO(), io.StringIO()

    # when
    call_command("recompute", stdout=first)
    call_command("recompute", "--all", stdout=second)

    # then
    assert "Recomputed 2 KPIs" in first.getvalue()
    assert "10 results written" in first.getvalue()
    assert "Recomputed 2 KPIs" in second.getvalue()
    assert "0 results written, 10 unchanged" in second.getvalue()


def test_recompute_command_refuses_unknown_codes(db, exception_calls):
    # given
    drifting_kpi(code="KNOWN")

    # when / then
    with pytest.raises(CommandError, match=r"Unknown KPI code: NOPE\."):
        call_command("recompute", "--kpi", "KNOWN", "--kpi", "NOPE", stdout=io.StringIO())
    assert not KpiResult.objects.exists()


def test_recompute_command_warns_without_an_approved_plan(db, exception_calls):
    # given a KPI and no plan version at all
    KpiFactory()
    out = io.StringIO()

    # when
    call_command("recompute", "--all", stdout=out)

    # then
    assert NO_PLAN_MESSAGE in out.getvalue()
