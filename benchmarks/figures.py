"""The KPI-engine figures of `manage.py bench`: each measured against a reference and a goal.

Every function here measures one figure on the database Django is connected to and returns a
`Figure`; `measure_all` runs them in an order that keeps each one honest (the per-KPI loop and
the full recompute start from an empty results table, the no-change sweep follows the full
recompute, ingestion writes new periods last so it disturbs nothing measured before it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from benchmarks import baseline, memory, sql
from govern.models import Person
from govern.selectors import current_plan_version
from kpis.choices import Frequency, MeasurementSource
from kpis.models import Kpi, KpiResult, Measurement
from kpis.services.measurements import MeasurementRow, measurements_record
from kpis.services.recompute import kpi_recompute
from kpis.signals import kpis_recomputed

COPY_TABLE = "bench_copy"
GB = 1024**3


@dataclass
class Figure:
    number: int | str  # "9.1" … for the ripple's figures
    name: str
    measured: str
    reference: str = "—"
    ratio: str = "—"
    goal: str = "—"
    passed: bool | None = None  # None: no goal
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "—" if self.passed is None else ("PASS" if self.passed else "MISS")


@dataclass
class Options:
    profile: str = "L"
    kpis: int | None = None  # generated KPIs, overriding the profile's
    contracts: int | None = None  # generated contracts, overriding the profile's
    sample: int = 200  # KPIs in the per-KPI loop sample
    ingest_rows: int = 50_000
    batch: int = 10_000
    incremental_runs: int = 20
    today: dt.date | None = None


@dataclass
class Context:
    """What the figures share: the day, the plan version, the KPIs."""

    today: dt.date
    grace: int
    plan_version_id: int
    kpi_ids: list[int]
    log: Callable[[str], None]
    counts: dict[str, int] = field(default_factory=dict)


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _results_count() -> int:
    return KpiResult.objects.count()


# --- 1. Build ---------------------------------------------------------------------------------


def build(options: Options, log) -> tuple[Figure, float]:
    size = {"kpis": options.kpis} if options.kpis is not None else {}
    if options.contracts is not None:
        size["contracts"] = options.contracts
    today = (options.today or timezone.localdate()).isoformat()
    out = io.StringIO()
    _, seconds = _timed(
        call_command,
        "seed_demo",
        profile=options.profile,
        no_recompute=True,
        today=today,
        stdout=out,
        **size,
    )
    log(f"  built in {seconds:.1f} s")
    label = (
        f"seed_demo --profile {options.profile}"
        + (f" --kpis {options.kpis}" if options.kpis is not None else "")
        + (f" --contracts {options.contracts}" if options.contracts is not None else "")
    )
    figure = Figure(1, f"Build (`{label} --no-recompute`)", measured=_seconds(seconds))
    return figure, seconds


# --- 3. Per-KPI ORM loop (measured first: it needs an empty results table) --------------------


def orm_loop(ctx: Context, sample_size: int) -> tuple[float, int]:
    """Seconds of the per-KPI loop over an evenly spread sample, and the sample size; the
    sample's results are deleted afterwards so the full recompute starts cold."""
    step = max(1, len(ctx.kpi_ids) // max(1, sample_size))
    sample = ctx.kpi_ids[::step][:sample_size]
    saved, seconds = _timed(
        baseline.per_kpi_loop,
        sample,
        plan_version_id=ctx.plan_version_id,
        today=ctx.today,
        grace=ctx.grace,
    )
    ctx.log(f"  per-KPI loop: {len(sample)} KPIs, {saved:,} results in {seconds:.2f} s")
    KpiResult.objects.filter(kpi_id__in=sample).delete()
    return seconds, len(sample)


# --- 2, 3, 7. Full recompute, SQL floor, per-KPI loop, peak memory ----------------------------


def full_recompute(ctx: Context, loop_seconds: float, loop_kpis: int) -> list[Figure]:
    stored = _results_count()
    if stored:
        raise RuntimeError(f"the results table should be empty before the cold run: {stored}")
    gc.collect()
    method = memory.reset_peak()
    report, seconds = _timed(kpi_recompute, today=ctx.today)
    peak = memory.peak_bytes()
    ctx.counts["results"] = _results_count()
    ctx.log(
        f"  full recompute: {report.kpis:,} KPIs, {report.results_written:,} results, "
        f"{report.exceptions_opened:,} exceptions opened in {seconds:.2f} s"
    )

    sql.create_floor_table()
    floor_rows, floor_seconds = _timed(
        sql.floor_insert,
        plan_version_id=ctx.plan_version_id,
        today=ctx.today,
        grace_days=ctx.grace,
        now=timezone.now(),
    )
    total, agree = sql.floor_agreement()
    sql.drop_table(sql.FLOOR_TABLE)
    ctx.log(f"  SQL floor: {floor_rows:,} rows in {floor_seconds:.2f} s; {agree:,}/{total:,} agree")

    ratio = seconds / floor_seconds
    floor = Figure(
        2,
        "Full recompute (cold) vs SQL floor",
        measured=_seconds(seconds),
        reference=f"floor {_seconds(floor_seconds)}",
        ratio=f"{ratio:.2f}× the floor",
        goal="≤ 2× floor",
        passed=ratio <= 2,
        notes=[
            f"{report.kpis:,} KPIs, {report.results_written:,} results written (variance and "
            f"forecast rows), {report.exceptions_opened:,} exceptions opened",
            f"floor: one INSERT … SELECT of {floor_rows:,} rows (no forecast); statuses agree "
            f"with the engine's on {agree:,} of {total:,} rows",
        ],
    )
    extrapolated = loop_seconds * len(ctx.kpi_ids) / max(1, loop_kpis)
    speedup = extrapolated / seconds
    loop = Figure(
        3,
        "Full recompute vs per-KPI ORM loop",
        measured=_seconds(seconds),
        reference=f"loop {_seconds(extrapolated)} (extrapolated)",
        ratio=f"{speedup:.0f}× faster",
        goal="≥ 50× faster",
        passed=speedup >= 50,
        notes=[
            f"loop: {loop_kpis} KPIs in {_seconds(loop_seconds)}, × {len(ctx.kpi_ids):,} / "
            f"{loop_kpis}"
        ],
    )
    rss = Figure(
        7,
        "Peak RSS during the full recompute",
        measured=f"{peak / 1024**2:,.0f} MB",
        reference="1.5 GB",
        ratio=f"{peak / (1.5 * GB):.2f}× the limit",
        goal="≤ 1.5 GB",
        passed=peak <= 1.5 * GB,
        notes=[method],
    )
    return [floor, loop, rss]


# --- 6. No-change sweep -----------------------------------------------------------------------


@contextlib.contextmanager
def _without_receivers(signal):
    """The KPI engine alone: the contract health and ripple receivers of `signal` muted."""
    saved = signal.receivers
    signal.receivers = []
    signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        signal.receivers = saved
        signal.sender_receivers_cache.clear()


def no_change_sweep(ctx: Context) -> Figure:
    last = KpiResult.objects.aggregate(last=Max("computed_at"))["last"]
    # The compare-only pass checks KPI results only, so the sweep is timed for the KPI engine
    # alone; the whole sweep, with the contracts' health and the ripple on top, is a note.
    with _without_receivers(kpis_recomputed):
        report, seconds = _timed(kpi_recompute, today=ctx.today)
    _, whole_seconds = _timed(kpi_recompute, today=ctx.today)
    written = (
        report.results_written
        + report.results_deleted
        + report.kpis_changed
        + report.exceptions_opened
        + report.exceptions_resolved
    )
    after = KpiResult.objects.aggregate(last=Max("computed_at"))["last"]
    if written or after != last:
        raise RuntimeError(f"the no-change sweep wrote something: {report.as_dict()}")
    (rows, differing), compare_seconds = _timed(
        sql.compare_only,
        plan_version_id=ctx.plan_version_id,
        today=ctx.today,
        grace_days=ctx.grace,
    )
    ctx.log(f"  no-change sweep {seconds:.2f} s, compare-only {compare_seconds:.2f} s")
    ratio = seconds / compare_seconds
    return Figure(
        6,
        "No-change sweep (KPI engine) vs compare-only SQL",
        measured=_seconds(seconds),
        reference=f"compare-only {_seconds(compare_seconds)}",
        ratio=f"{ratio:.2f}× the compare",
        goal="≤ 2× compare-only",
        passed=ratio <= 2,
        notes=[
            f"rows written by the sweep: {written} (results, KPIs, exceptions)",
            f"the whole sweep, with the contracts' health check and the ripple sync that follow "
            f"it: {_seconds(whole_seconds)}",
            f"compare-only: {rows:,} rows computed, {differing:,} differ from the stored results",
        ],
    )


# --- 5. Incremental recompute -----------------------------------------------------------------


def incremental(ctx: Context, runs: int) -> Figure:
    measurement = (
        Measurement.objects.filter(kpi_id__in=ctx.kpi_ids[len(ctx.kpi_ids) // 2 :])
        .order_by("kpi_id", "-period")
        .first()
    )
    original = measurement.value
    timings = []
    for run in range(runs):
        # Alternate between a changed value (5% up, at least 1 unit) and the original.
        value = original + max(1.0, abs(original) * 0.05) if run % 2 == 0 else original
        Measurement.objects.filter(pk=measurement.pk).update(value=value)
        Kpi.objects.filter(pk=measurement.kpi_id).update(inputs_changed_at=timezone.now())
        report, seconds = _timed(kpi_recompute, kpi_ids=[measurement.kpi_id], today=ctx.today)
        if not report.results_written:
            raise RuntimeError("the incremental recompute wrote nothing after a change")
        timings.append(seconds)
    Measurement.objects.filter(pk=measurement.pk).update(value=original)
    kpi_recompute(kpi_ids=[measurement.kpi_id], today=ctx.today)
    median = statistics.median(timings)
    ctx.log(f"  incremental: median {median * 1000:.1f} ms over {runs} runs")
    return Figure(
        5,
        "Incremental recompute of one KPI",
        measured=f"{median * 1000:.1f} ms",
        reference="50 ms",
        ratio=f"{median / 0.05:.2f}× the limit",
        goal="≤ 50 ms",
        passed=median <= 0.05,
        notes=[
            f"median of {runs} runs of `kpi_recompute(kpi_ids=[id])` after a changed "
            f"measurement (min {min(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms)"
        ],
    )


# --- 4. Ingestion -----------------------------------------------------------------------------


def _ingest_rows(total: int) -> list[tuple[int, str, dt.date, float]]:
    """(kpi_id, code, period, value): new weekly periods after each KPI's last actual, KPI by KPI
    the way an API client sends a week's actuals for every KPI."""
    last = list(
        Measurement.objects.filter(kpi__is_active=True, kpi__frequency=Frequency.WEEKLY)
        .values_list("kpi_id", "kpi__code")
        .annotate(last=Max("period"))
        .order_by("kpi_id")
    )
    rows = []
    week = 1
    while last and len(rows) < total:
        for kpi_id, code, period in last:
            rows.append((kpi_id, code, period + dt.timedelta(weeks=week), 100.0 + len(rows) % 97))
            if len(rows) == total:
                break
        week += 1
    return rows


def _create_copy_table() -> None:
    table = connection.ops.quote_name(Measurement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COPY_TABLE}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {COPY_TABLE} (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(f"CREATE TABLE {COPY_TABLE} AS SELECT * FROM {table} WHERE 0")
            cursor.execute(f"CREATE UNIQUE INDEX {COPY_TABLE}_key ON {COPY_TABLE} (kpi_id, period)")
            cursor.execute(f"CREATE INDEX {COPY_TABLE}_kpi ON {COPY_TABLE} (kpi_id)")


def _raw_copy(rows, actor_id: int) -> str:
    """COPY the rows into the scratch table (PostgreSQL); SQLite has no COPY, so there it is one
    executemany INSERT. Returns the method's name."""
    stamp = timezone.now().isoformat()
    columns = "kpi_id, period, value, source, entered_by_id, note, recorded_at, revision"
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        buffer.writelines(
            f'{kpi_id},{period.isoformat()},{value!r},api,{actor_id},"",{stamp},1\n'
            for kpi_id, _, period, value in rows
        )
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {COPY_TABLE} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer
            )
        return "COPY"
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {COPY_TABLE} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(k, p.isoformat(), v, "api", actor_id, "", stamp, 1) for k, _, p, v in rows],
        )
    return "executemany INSERT (SQLite has no COPY)"


def ingestion(ctx: Context, total: int, batch: int) -> Figure:
    rows = _ingest_rows(total)
    actor = Person.objects.get(username="pmo")
    batches = [
        [MeasurementRow(i, code, period, value) for i, (_, code, period, value) in enumerate(part)]
        for part in (rows[start : start + batch] for start in range(0, len(rows), batch))
    ]
    created = 0
    # The recompute each batch queues runs on a worker; it is not part of ingestion.
    with mock.patch("kpis.tasks.kpi_recompute.delay_on_commit") as queued:
        started = time.perf_counter()
        for part in batches:
            report = measurements_record(actor=actor, rows=part, source=MeasurementSource.API)
            created += report.created
        seconds = time.perf_counter() - started
    if created != len(rows):
        raise RuntimeError(f"ingestion created {created} of {len(rows)} rows")
    _create_copy_table()
    method, copy_seconds = _timed(_raw_copy, rows, actor.pk)
    sql.drop_table(COPY_TABLE)
    rate, copy_rate = len(rows) / seconds, len(rows) / copy_seconds
    share = rate / copy_rate
    ctx.log(f"  ingestion: {rate:,.0f} rows/s, raw {method}: {copy_rate:,.0f} rows/s")
    return Figure(
        4,
        "Ingestion through `measurements_record`",
        measured=f"{rate:,.0f} rows/s",
        reference=f"{method} {copy_rate:,.0f} rows/s",
        ratio=f"{share:.0%} of {method.split()[0]}",
        goal="≥ 30% of COPY",
        passed=share >= 0.3,
        notes=[
            f"{len(rows):,} new measurements in {len(batches)} batches of ≤ {batch:,} rows "
            f"({seconds:.2f} s; recompute queued {queued.call_count}×, not timed); "
            f"{method} of the same rows into a scratch copy of the table: {copy_seconds:.2f} s"
        ],
    )


# --- All of them ------------------------------------------------------------------------------


def context(options: Options, log) -> Context:
    version = current_plan_version()
    if version is None:
        raise RuntimeError("no approved plan version after seeding")
    ids = list(Kpi.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    return Context(
        today=options.today or timezone.localdate(),
        grace=settings.GOVERN_MISSING_GRACE_DAYS,
        plan_version_id=version.pk,
        kpi_ids=ids,
        log=log,
    )


def analyze(log) -> None:
    """Gather planner statistics after a bulk load, as autovacuum does on a live server (this
    machine's server runs without autovacuum, and plans made without statistics are not what
    production sees). Not timed."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log("  statistics gathered (ANALYZE), as autovacuum would after a bulk load")


def measure_all(options: Options, log) -> tuple[list[Figure], Context]:
    log("1. Build …")
    build_figure, _ = build(options, log)
    analyze(log)
    ctx = context(options, log)
    ctx.counts |= {"kpis": len(ctx.kpi_ids), "measurements": Measurement.objects.count()}
    log("3. Per-KPI ORM loop sample …")
    loop_seconds, loop_kpis = orm_loop(ctx, options.sample)
    log("2. Full recompute, SQL floor, peak memory …")
    figures = [build_figure, *full_recompute(ctx, loop_seconds, loop_kpis)]
    analyze(log)
    log("6. No-change sweep …")
    figures.append(no_change_sweep(ctx))
    log("5. Incremental recompute …")
    figures.append(incremental(ctx, options.incremental_runs))
    log("4. Ingestion …")
    figures.append(ingestion(ctx, options.ingest_rows, options.batch))
    return sorted(figures, key=lambda f: f.number), ctx
