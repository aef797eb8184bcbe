"""The recompute: variance, status and forecast of KPIs, persisted as `KpiResult` rows and the
KPIs' denormalised status, then the exceptions derived from them.

Set-based from end to end: for each chunk of KPIs, one query per table loads targets,
measurements, KPI parameters and the stored results into
DataFrames; the pure engines compute; the new rows are compared with the stored ones (numpy
over packed (kpi, period) keys, `kpis.engine.keys`) and only the difference is written (new and
changed rows in one upsert on (kpi, period), rows for periods with neither a plan, an actual
nor a forecast deleted). A second run over unchanged inputs writes nothing, neither results
nor KPIs.

Which plan: each period is held against the plan version that was current when it ended
(`govern.selectors.plan_version_spans`). The periods still running or to come follow the current
version; a period that ended before an approval keeps the targets of the version it was judged
against, so approving a new version changes the variance from then on and leaves history as it was
computed (docs/plan-versions.md). With no approved version there is no plan at all.

The same code serves one KPI and twenty thousand: numpy's cost per operation is microseconds
where pandas' merges and groupbys cost about a millisecond each, which made most of a one-KPI
recompute. Only the transport changes with size: a few KPIs load by a plain fetch and write by
one INSERT … VALUES; chunks load by COPY and write by a binary COPY into a staging table.

Concurrency: two recomputes of the same KPI may run at once (a triggered one and the sweep).
Both read committed inputs and write the same values; the upsert on the unique (kpi, period)
key cannot create duplicates, and a conflicting write fails the task, which retries. The
reconciliation job heals anything a lost message left stale.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from govern.selectors import PlanSpan, current_plan_version, plan_version_spans
from kpis import selectors
from kpis.choices import Status
from kpis.engine import keys
from kpis.engine.forecast import forecast
from kpis.engine.variance import EVALUATED, compute_variance
from kpis.models import Kpi, KpiResult
from kpis.services import exceptions as exception_services
from kpis.services import pgcopy
from kpis.services.measurements import update_by_pk
from kpis.signals import kpis_recomputed, swept

CHUNK_SIZE = 2_000
WRITE_BATCH_SIZE = 5_000  # KPI rows per UPDATE (5 parameters each)
VALUES_WRITE_ROWS = 500  # PostgreSQL: up to this many results, one INSERT … VALUES; above, COPY
VARIANCE_FIELDS = ("plan", "actual", "variance", "variance_pct", "adverse")
FLOAT_FIELDS = (*VARIANCE_FIELDS, "forecast")
TEXT_FIELDS = ("status", "forecast_status")
NO_PLAN_MESSAGE = "No plan version is approved: every KPI shows “No plan” until one is."


@dataclass
class RecomputeReport:
    kpis: int = 0
    results_written: int = 0
    results_unchanged: int = 0
    results_deleted: int = 0
    kpis_changed: int = 0
    exceptions_opened: int = 0
    exceptions_resolved: int = 0
    milestone_exceptions_opened: int = 0
    milestone_exceptions_resolved: int = 0
    seconds: float = 0.0
    plan_version: str | None = None
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def kpi_recompute(
    *, kpi_ids: list[int] | None = None, today: dt.date | None = None
) -> RecomputeReport:
    """Recompute these KPIs (every active KPI when None); see the module docstring."""
    return _recompute(
        selectors.recompute_kpi_ids(kpi_ids=kpi_ids), full=kpi_ids is None, today=today
    )


def kpi_reconcile(*, today: dt.date | None = None) -> RecomputeReport:
    """Recompute the active KPIs whose inputs changed after their last computation (or that
    were never computed): heals a lost recompute message."""
    return _recompute(selectors.recompute_stale_kpi_ids(), full=False, today=today)


def kpi_sweep(*, today: dt.date | None = None) -> RecomputeReport:
    """The nightly sweep: a full recompute, then the milestone exceptions."""
    today = today or timezone.localdate()
    report = kpi_recompute(today=today)
    with transaction.atomic():
        opened, resolved = exception_services.milestone_exception_sync(today=today)
        report.milestone_exceptions_opened = opened
        report.milestone_exceptions_resolved = resolved
        swept.send(sender=Kpi, today=today)
    return report


def _recompute(ids: list[int], *, full: bool, today: dt.date | None) -> RecomputeReport:
    started = time.perf_counter()
    now = timezone.now()
    today = today or timezone.localdate()
    version = current_plan_version()
    spans = plan_version_spans() if version else []
    report = RecomputeReport(
        kpis=len(ids),
        plan_version=version.name if version else None,
        message="" if version else NO_PLAN_MESSAGE,
    )
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK_SIZE):
            _recompute_chunk(ids[start : start + CHUNK_SIZE], spans, today, now, report)
        if ids or full:
            opened, resolved = exception_services.exception_sync(
                kpi_ids=None if full else ids, today=today
            )
            report.exceptions_opened, report.exceptions_resolved = opened, resolved
            kpis_recomputed.send(sender=Kpi, kpi_ids=None if full else ids, full=full, today=today)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


Columns = dict[str, np.ndarray]


def _compute(
    chunk: list[int], spans: list[PlanSpan], kpis: pd.DataFrame, today: dt.date
) -> Columns:
    """The results the chunk should have: variance rows and forecast rows, outer-joined."""
    if not spans:
        return {
            "kpi_id": np.zeros(0, dtype="int64"),
            "period": np.zeros(0, dtype="datetime64[ns]"),
            **{field: np.zeros(0) for field in FLOAT_FIELDS},
            **{field: np.zeros(0, dtype=object) for field in TEXT_FIELDS},
        }
    plan = selectors.recompute_spans_plan_frame(spans=spans, kpi_ids=chunk)
    actuals = selectors.recompute_actuals_frame(kpi_ids=chunk)
    variance = compute_variance(
        plan, actuals, kpis, today=today, grace_days=settings.GOVERN_MISSING_GRACE_DAYS
    )
    projected = forecast(
        actuals,
        plan,
        kpis,
        points=settings.GOVERN_FORECAST_POINTS,
        horizon=settings.GOVERN_FORECAST_HORIZON,
    )
    return _joined(variance, projected)


def _joined(variance: pd.DataFrame, projected: pd.DataFrame) -> Columns:
    """The outer join of the variance and forecast frames on (kpi, period), as arrays sorted
    by KPI and period: a forecast period without a variance row is `no_plan`, a variance row
    without a forecast has an empty forecast status."""
    union, at_variance, at_forecast = keys.outer(keys.keyed(variance)[0], keys.keyed(projected)[0])
    kpi_id, period = keys.unpack(union)
    columns = {"kpi_id": kpi_id, "period": period}
    for field in VARIANCE_FIELDS:
        columns[field] = keys.take(variance[field], at_variance)
    columns["forecast"] = keys.take(projected["forecast"], at_forecast)
    status = keys.take(variance["status"], at_variance)
    forecast_status = keys.take(projected["forecast_status"], at_forecast)
    columns["status"] = np.where(at_variance >= 0, status, Status.NO_PLAN.value).astype(object)
    columns["forecast_status"] = np.where(at_forecast >= 0, forecast_status, "").astype(object)
    return columns


def _same(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    both_missing = np.isnan(new) & np.isnan(old)
    with np.errstate(invalid="ignore"):
        return both_missing | np.isclose(new, old, rtol=1e-12, atol=1e-12)


def _recompute_chunk(chunk: list[int], spans: list[PlanSpan], today: dt.date, now, report) -> None:
    kpis = selectors.recompute_kpi_frame(kpi_ids=chunk)
    computed = _compute(chunk, spans, kpis, today)
    stored = selectors.recompute_results_frame(kpi_ids=chunk)
    _, at_new, at_old = keys.outer(
        keys.pack(computed["kpi_id"], computed["period"]), keys.keyed(stored)[0]
    )
    present = at_new >= 0
    same = present & (at_old >= 0)
    for field in FLOAT_FIELDS:
        old = keys.take(keys.floats(stored[field]), at_old)
        same &= _same(keys.take(computed[field], at_new), old)
    for field in TEXT_FIELDS:
        old = keys.take(keys.array(stored[field], object), at_old)
        same &= keys.take(computed[field], at_new) == old

    write = at_new[present & ~same]
    to_delete = keys.ids(stored["id"])[at_old[~present]].tolist()
    _write_results({name: values[write] for name, values in computed.items()}, now)
    if to_delete:
        KpiResult.objects.filter(pk__in=to_delete).delete()
    report.results_written += len(write)
    report.results_unchanged += int(same.sum())
    report.results_deleted += len(to_delete)
    report.kpis_changed += _write_kpi_status(kpis, computed, now)


def _write_results(rows: Columns, now) -> None:
    """Upsert the rows on (kpi, period) with one raw INSERT … ON CONFLICT DO UPDATE (the same
    syntax on PostgreSQL and SQLite): no model instances, values prepared column-wise.
    Django's bulk_create spent ~10× longer preparing 1 M rows value by value."""
    count = len(rows["kpi_id"])
    if not count:
        return
    table = connection.ops.quote_name(KpiResult._meta.db_table)
    fields = ["kpi_id", "period", *FLOAT_FIELDS, *TEXT_FIELDS, "computed_at"]
    names = ", ".join(connection.ops.quote_name(field) for field in fields)
    updates = ", ".join(
        f"{connection.ops.quote_name(field)} = excluded.{connection.ops.quote_name(field)}"
        for field in fields[2:]
    )
    postgres = connection.vendor == "postgresql"
    if postgres and count > VALUES_WRITE_ROWS:
        _copy_upsert(rows, table, names, updates, now)
        return
    stamp = now if postgres else connection.ops.adapt_datetimefield_value(now)
    periods = rows["period"].astype("datetime64[D]")
    columns = [
        rows["kpi_id"].tolist(),
        periods.tolist() if postgres else periods.astype(str).tolist(),
        *(_nullable(rows[field]) for field in FLOAT_FIELDS),
        *(rows[field].astype(str).tolist() for field in TEXT_FIELDS),
        [stamp] * count,
    ]
    conflict = f"ON CONFLICT (kpi_id, period) DO UPDATE SET {updates}"
    values = list(zip(*columns, strict=True))
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        if postgres:  # a few rows: one multi-row VALUES, no staging table
            statement = f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * count)}"
            cursor.execute(f"{statement} {conflict}", [v for row in values for v in row])
        else:  # SQLite: one prepared statement, executemany
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {marks} {conflict}", values)


def _copy_upsert(rows: Columns, table: str, names: str, updates: str, now) -> None:
    """PostgreSQL: COPY the rows in binary (encoded column-wise by `pgcopy`, no Python object
    per value) into a temporary table, then one INSERT … SELECT … ON CONFLICT DO UPDATE.
    Multi-row VALUES statements spent most of a cold recompute formatting 13 M parameters, CSV
    most of it formatting floats."""
    staging = connection.ops.quote_name("recompute_results")
    count = len(rows["kpi_id"])
    columns = [
        pgcopy.bigint(pd.Series(rows["kpi_id"])),
        pgcopy.date(pd.Series(rows["period"])),
        *(pgcopy.float8(pd.Series(rows[field])) for field in FLOAT_FIELDS),
        *(pgcopy.text(pd.Series(rows[field])) for field in TEXT_FIELDS),
        pgcopy.timestamptz(now, count),
    ]
    stream = io.BytesIO(pgcopy.payload(columns, count))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} AS SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.copy_expert(f"COPY {staging} ({names}) FROM STDIN WITH (FORMAT binary)", stream)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} "
            f"ON CONFLICT (kpi_id, period) DO UPDATE SET {updates}"
        )
        cursor.execute(f"DROP TABLE {staging}")


def _nullable(values: np.ndarray) -> list:
    return [None if value != value else value for value in values.tolist()]  # NaN → None


def _kpi_status(kpi_ids: np.ndarray, computed: Columns) -> Columns:
    """Per KPI of `kpi_ids`: status and status_period of the latest evaluated period
    (`pending` when the plan has only periods not yet due, `no_plan` when nothing is planned),
    and the forecast status of the first forecast period. `computed` is sorted by KPI and
    period."""
    kpi, status = computed["kpi_id"], computed["status"]
    evaluated = np.flatnonzero(keys.isin(status, EVALUATED))
    latest = evaluated[keys.lasts(kpi[evaluated])]
    at_latest = keys.positions(kpi_ids, kpi[latest])
    projected = np.flatnonzero(~np.isnan(computed["forecast"]))
    first = projected[keys.firsts(kpi[projected])]
    at_first = keys.positions(kpi_ids, kpi[first])
    pending = np.isin(kpi_ids, kpi[keys.isin(status, [Status.PENDING])])
    fallback = np.where(pending, Status.PENDING.value, Status.NO_PLAN.value)
    return {
        "status": np.where(at_latest >= 0, keys.take(status[latest], at_latest), fallback),
        "status_period": keys.take(computed["period"][latest], at_latest),
        "forecast_status": np.where(
            at_first >= 0, keys.take(computed["forecast_status"][first], at_first), ""
        ),
    }


def _write_kpi_status(kpis: pd.DataFrame, computed: Columns, now) -> int:
    """Write the KPIs whose status changed or whose inputs changed since their last
    computation; a KPI with nothing new is not written (its computed_at stays)."""
    if kpis.empty:
        return 0
    kpi_ids = keys.ids(kpis["kpi_id"])
    new = _kpi_status(kpi_ids, computed)
    old_period = keys.array(kpis["status_period"], "datetime64[ns]")
    same_period = (new["status_period"] == old_period) | (
        np.isnat(new["status_period"]) & np.isnat(old_period)
    )
    computed_at = keys.array(kpis["computed_at"], "datetime64[ns]")
    stale = np.isnat(computed_at) | (
        keys.array(kpis["inputs_changed_at"], "datetime64[ns]") > computed_at
    )
    changed = (
        (new["status"] != keys.array(kpis["status"], object))
        | ~same_period
        | (new["forecast_status"] != keys.array(kpis["forecast_status"], object))
        | stale
    )
    if not changed.any():
        return 0
    rows = list(
        zip(
            kpi_ids[changed].tolist(),
            new["status"][changed].tolist(),
            new["status_period"][changed].astype("datetime64[D]").tolist(),  # NaT → None
            new["forecast_status"][changed].tolist(),
            [now] * int(changed.sum()),
            strict=True,
        )
    )
    # One UPDATE … FROM (VALUES …) per few thousand KPIs: `bulk_update` builds a CASE per row
    # and field, which took a minute for 20,000 KPIs.
    for start in range(0, len(rows), WRITE_BATCH_SIZE):
        update_by_pk(
            Kpi,
            ("status", "status_period", "forecast_status", "computed_at"),
            rows[start : start + WRITE_BATCH_SIZE],
        )
    return len(rows)
