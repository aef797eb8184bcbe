"""Reads for the KPI engine. Each area keeps its own functions under its heading; every selector
scopes rows to the requesting user and runs a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from govern.models import Department, Initiative, Objective
from govern.selectors import apply_filters, count_related
from kpis import filtersets
from kpis.choices import Direction, Frequency, Status
from kpis.models import (
    Kpi,
    KpiException,
    KpiResult,
    Measurement,
    MeasurementRevision,
    Target,
    status_rank,
)
from kpis.periods import period_start

# --- definitions ------------------------------------------------------------------------------

SERIES_FIELDS = (
    "period", "plan", "actual", "variance", "variance_pct", "status", "forecast",
    "forecast_status",
)  # fmt: skip


def kpi_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Kpi]:
    """The KPIs the user may see, with department, owner and the count of open exceptions."""
    queryset = (
        Kpi.objects.restrict(user)
        .select_related("department", "owner")
        .prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.only("pk")),
            Prefetch("initiatives", queryset=Initiative.objects.only("pk")),
        )
        .annotate(
            open_exceptions=count_related(KpiException.objects.restrict(user).open(), "kpi_id")
        )
        .order_by(status_rank(), "code")
    )
    return apply_filters(filtersets.KpiFilterSet, queryset, filters, user=user)


def kpi_series(*, kpi: Kpi) -> list[dict]:
    """Per period, oldest first, as the recompute stored it: plan, actual, variance, variance %,
    status, forecast and forecast status. One query; nothing is computed here."""
    return list(KpiResult.objects.filter(kpi=kpi).order_by("period").values(*SERIES_FIELDS))


def kpi_open_exception_periods(*, user, kpi: Kpi) -> list:
    """The periods of the KPI's unresolved exceptions the user may see (marked on its chart)."""
    return sorted(
        set(
            KpiException.objects.restrict(user)
            .open()
            .filter(kpi=kpi, period__isnull=False)
            .values_list("period", flat=True)
        )
    )


def kpi_measurements(*, kpi: Kpi) -> QuerySet[Measurement]:
    """The KPI's actuals, newest period first, with who entered them and their earlier values."""
    return (
        Measurement.objects.filter(kpi=kpi)
        .select_related("entered_by")
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=MeasurementRevision.objects.select_related("entered_by", "superseded_by"),
            )
        )
        .order_by("-period")
    )


def kpi_measurement_table(*, kpi: Kpi) -> list[dict]:
    """The detail page's table, newest period first: for every period with a result or an actual,
    the stored result (plan, actual, variance %, status) next to the measurement (revisions, who
    and when). Three queries whatever the number of periods."""
    results = {row["period"]: row for row in kpi_series(kpi=kpi)}
    measurements = {m.period: m for m in kpi_measurements(kpi=kpi)}
    rows = []
    for period in sorted(results.keys() | measurements.keys(), reverse=True):
        result = results.get(period, {})
        measurement = measurements.get(period)
        if measurement is None and result.get("status") == Status.PENDING:
            if result.get("forecast") is None:
                continue  # a future period with nothing to show yet: the chart has its plan
        rows.append(
            {
                "period": period,
                "plan": result.get("plan"),
                "actual": measurement.value if measurement else result.get("actual"),
                "variance_pct": result.get("variance_pct"),
                "status": result.get("status", ""),
                "forecast": result.get("forecast"),
                "measurement": measurement,
                "revisions": list(measurement.revisions.all()) if measurement else [],
            }
        )
    return rows


def kpi_targets(*, kpi: Kpi, plan_version) -> list[Target]:
    """The KPI's trajectory in one plan version, oldest period first."""
    if plan_version is None:
        return []
    return list(Target.objects.filter(kpi=kpi, plan_version=plan_version).order_by("period"))


# --- recompute inputs -------------------------------------------------------------------------
# Set-based loaders for `kpis.services.recompute`: one query per table and chunk of KPIs, straight
# into DataFrames (no model instances) with one numpy dtype per column. Periods come back as
# datetime64[ns].

RESULT_FIELDS = (
    "plan", "actual", "variance", "variance_pct", "adverse", "status", "forecast",
    "forecast_status",
)  # fmt: skip
TEXT_RESULT_FIELDS = ("status", "forecast_status")
# Column kinds of the loaders: numpy dtypes, or dates (date objects or ISO strings, as datetime64),
# text (object), and aware moments (as naive UTC datetime64).
INT, FLOAT, DATE, TEXT, MOMENT = "int64", "float64", "date", "text", "moment"
# Up to this many KPIs a load fetches its rows plainly; COPY … TO STDOUT and pandas' CSV reader
# pay off on large chunks (3× faster at a million rows) but cost a millisecond each on a few.
PLAIN_LOAD_KPIS = 50


def _column(values, kind: str) -> np.ndarray:
    if kind == DATE:
        return np.array(values, dtype="datetime64[ns]")
    if kind == MOMENT:
        naive = [None if v is None else v.astimezone(dt.UTC).replace(tzinfo=None) for v in values]
        return np.array(naive, dtype="datetime64[ns]")
    return np.array(values, dtype=object if kind == TEXT else kind)


def _frame(rows: list[tuple], types: dict[str, str]) -> pd.DataFrame:
    """The rows as a DataFrame of the columns named in `types`, each converted to its kind."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(types)
    columns = zip(types.items(), values, strict=True)
    return pd.DataFrame({name: _column(column, kind) for (name, kind), column in columns})


def _raw_frame(queryset: QuerySet, types: dict[str, str], *, kpis: int) -> pd.DataFrame:
    """The rows of a `values_list` queryset of `kpis` KPIs, fetched with the queryset's own SQL
    but without Django's per-value converters: at a million rows that halves the load time.
    Dates arrive as ISO strings (SQLite) or dates (PostgreSQL) and are converted column-wise."""
    sql, params = queryset.query.sql_with_params()
    if connection.vendor == "postgresql" and kpis > PLAIN_LOAD_KPIS:
        return _copied_frame(sql, params, types)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _frame(rows, types)


# Text as pandas' default string dtype, which the plain path's DataFrame infers too.
_CSV_TYPES = {INT: INT, FLOAT: FLOAT, TEXT: "str"}


def _copied_frame(sql: str, params, types: dict[str, str]) -> pd.DataFrame:
    """PostgreSQL: the rows as CSV through `COPY (query) TO STDOUT`, parsed by pandas' C reader,
    with no Python object per value (about 3× faster than fetchall at a million rows). Empty
    text stays empty text; an empty number or date is null."""
    buffer = io.BytesIO()  # bytes: no decoding into str and encoding back for the C reader
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    if not buffer.tell():
        return _frame([], types)
    buffer.seek(0)
    frame = pd.read_csv(
        buffer,
        header=None,
        names=list(types),
        keep_default_na=False,
        na_values={name: [""] for name, kind in types.items() if kind != TEXT},
        dtype={name: _CSV_TYPES.get(kind, object) for name, kind in types.items()},
    )
    for name in [name for name, kind in types.items() if kind == DATE]:
        days = frame[name].to_numpy(dtype=object)  # ISO strings; numpy parses them 4× faster
        frame[name] = _column(np.where(pd.isna(days), None, days), DATE)
    return frame


def _kpi_filter(kpi_ids: list[int], field: str = "kpi_id") -> dict:
    """`field__in=kpi_ids`, and when the ids are dense (a chunk of the full recompute), the
    range they span as well: without statistics (a fresh table, autovacuum not yet run) the
    planner guesses that a long IN list matches most of a table and scans all of it, while a
    range it can price sends it to the (kpi, period) index, 3–5× faster at profile L."""
    lookup = {f"{field}__in": kpi_ids}
    if len(kpi_ids) > 1:
        low, high = min(kpi_ids), max(kpi_ids)
        if high - low < 2 * len(kpi_ids):
            lookup |= {f"{field}__gte": low, f"{field}__lte": high}
    return lookup


def recompute_kpi_ids(*, kpi_ids: list[int] | None = None) -> list[int]:
    """The KPIs to recompute, by id: the given ones that exist, or every active KPI."""
    if kpi_ids is None:
        queryset = Kpi.objects.filter(is_active=True)
    else:
        queryset = Kpi.objects.filter(pk__in=kpi_ids)
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def recompute_stale_kpi_ids() -> list[int]:
    """Active KPIs whose inputs changed after their last computation, or never computed."""
    return list(
        Kpi.objects.filter(is_active=True)
        .filter(Q(computed_at__isnull=True) | Q(inputs_changed_at__gt=F("computed_at")))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


KPI_FRAME_FIELDS = {
    "pk": ("kpi_id", INT), "direction": ("direction", TEXT), "frequency": ("frequency", TEXT),
    "tolerance_mode": ("tolerance_mode", TEXT), "amber_threshold": ("amber", FLOAT),
    "red_threshold": ("red", FLOAT), "band_low": ("band_low", FLOAT),
    "band_high": ("band_high", FLOAT), "status": ("status", TEXT),
    "status_period": ("status_period", DATE), "forecast_status": ("forecast_status", TEXT),
    "computed_at": ("computed_at", MOMENT), "inputs_changed_at": ("inputs_changed_at", MOMENT),
}  # fmt: skip


def recompute_kpi_frame(*, kpi_ids: list[int]) -> pd.DataFrame:
    """KPI parameters for the engine (`kpis.engine.variance.KPI_COLUMNS`) and the stored
    denormalised status, to write only what changes (computed_at and inputs_changed_at as
    naive UTC datetime64)."""
    rows = Kpi.objects.filter(pk__in=kpi_ids).order_by().values_list(*KPI_FRAME_FIELDS)
    return _frame(list(rows), dict(KPI_FRAME_FIELDS.values()))


def recompute_plan_frame(*, plan_version_id: int, kpi_ids: list[int]) -> pd.DataFrame:
    """[kpi_id, period, plan]: the KPIs' targets in one plan version."""
    rows = (
        Target.objects.filter(plan_version_id=plan_version_id, **_kpi_filter(kpi_ids))
        .order_by()
        .values_list("kpi_id", "period", "value")
    )
    return _raw_frame(rows, {"kpi_id": INT, "period": DATE, "plan": FLOAT}, kpis=len(kpi_ids))


def recompute_spans_plan_frame(*, spans: list, kpi_ids: list[int]) -> pd.DataFrame:
    """[kpi_id, period, plan]: each period's target in the plan version that governs it
    (`govern.selectors.plan_version_spans`): the one that was current when the period ended.
    One query; with a single version, the same as `recompute_plan_frame`."""
    if len(spans) == 1:
        return recompute_plan_frame(plan_version_id=spans[0].plan_version_id, kpi_ids=kpi_ids)
    governed = Q()
    for span in spans:
        for frequency in Frequency.values:
            held = Q(plan_version_id=span.plan_version_id, kpi__frequency=frequency)
            if span.since is not None:
                held &= Q(period__gte=period_start(span.since, frequency))
            if span.until is not None:
                held &= Q(period__lt=period_start(span.until, frequency))
            governed |= held
    rows = (
        Target.objects.filter(governed, **_kpi_filter(kpi_ids))
        .order_by()
        .values_list("kpi_id", "period", "value")
    )
    return _raw_frame(rows, {"kpi_id": INT, "period": DATE, "plan": FLOAT}, kpis=len(kpi_ids))


def recompute_actuals_frame(*, kpi_ids: list[int]) -> pd.DataFrame:
    """[kpi_id, period, actual]: the KPIs' current measurements."""
    rows = (
        Measurement.objects.filter(**_kpi_filter(kpi_ids))
        .order_by()
        .values_list("kpi_id", "period", "value")
    )
    return _raw_frame(rows, {"kpi_id": INT, "period": DATE, "actual": FLOAT}, kpis=len(kpi_ids))


RESULT_FRAME_TYPES = {
    "id": INT, "kpi_id": INT, "period": DATE,
    **{name: TEXT if name in TEXT_RESULT_FIELDS else FLOAT for name in RESULT_FIELDS},
}  # fmt: skip


def recompute_results_frame(*, kpi_ids: list[int]) -> pd.DataFrame:
    """[id, kpi_id, period, plan, actual, …]: the KPIs' stored results, to compare with."""
    rows = (
        KpiResult.objects.filter(**_kpi_filter(kpi_ids))
        .order_by()
        .values_list("pk", "kpi_id", "period", *RESULT_FIELDS)
    )
    return _raw_frame(rows, RESULT_FRAME_TYPES, kpis=len(kpi_ids))


# --- exceptions -------------------------------------------------------------------------------

EXCEPTION_RELATED = ("kpi", "milestone", "milestone__initiative", "department", "owner")
EXCEPTION_RESULT_ROWS = 6


def exception_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[KpiException]:
    """The exceptions the user may see, most severe first, with their subject, department and
    owner joined in (one query per page)."""
    queryset = (
        KpiException.objects.restrict(user)
        .select_related(*EXCEPTION_RELATED)
        .order_by("-severity", "opened_at", "pk")
    )
    return apply_filters(filtersets.ExceptionFilterSet, queryset, filters, user=user)


def exception_detail(*, user, pk) -> KpiException:
    """One exception through the permission gate (404 when the user may not see it)."""
    from govern.permissions import access

    return access(
        KpiException,
        user,
        pk,
        queryset=KpiException.objects.select_related(
            *EXCEPTION_RELATED, "kpi__department", "kpi__owner", "milestone__owner"
        ),
    )


def exception_kpi_results(
    *, exception: KpiException, limit: int = EXCEPTION_RESULT_ROWS
) -> list[KpiResult]:
    """The computed periods of the exception's KPI around the period that triggered it, newest
    first: the figures behind it (plan, actual, variance, status) and the next two periods'
    forecast. Empty for a milestone or contract exception."""
    if exception.kpi_id is None:
        return []
    results = KpiResult.objects.filter(kpi_id=exception.kpi_id)
    if exception.period is None:
        return list(results.order_by("-period")[:limit])
    ahead = list(results.filter(period__gt=exception.period).order_by("period")[:2])
    behind = results.filter(period__lte=exception.period).order_by("-period")
    return [*reversed(ahead), *behind[: limit - len(ahead)]]


def exception_history(*, exception: KpiException):
    """The lifecycle of the exception: its audit events (opened, acknowledged, assigned,
    escalated, resolved), newest first."""
    from govern.selectors import audit_history

    return audit_history(subject=exception, limit=None)


def exception_counts(*, user) -> dict[str, int]:
    """Unresolved exceptions the user may see, per kind (for the list page's chips)."""
    from django.db.models import Count

    rows = (
        KpiException.objects.restrict(user)
        .open()
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return dict(rows)


# --- ingestion --------------------------------------------------------------------------------


def import_job_list(*, user) -> QuerySet:
    """The import jobs the user may see (their own; all for the PMO), newest first, without the
    stored file."""
    from kpis.models import ImportJob

    return (
        ImportJob.objects.restrict(user)
        .select_related("created_by")
        .defer("content", "errors", "preview")
        .order_by("-created_at", "-pk")
    )


def import_job_detail(*, user, pk):
    """One import job through the permission gate (404 when the user may not see it)."""
    from govern.permissions import access
    from kpis.models import ImportJob

    return access(
        ImportJob,
        user,
        pk,
        queryset=ImportJob.objects.select_related("created_by").defer("content"),
    )


def import_job_progress(*, job) -> int:
    """Rows processed so far, as the progress bar shows them: while a commit runs its writes are
    not visible outside their transaction, so the worker reports progress to the cache."""
    from django.core.cache import cache

    from kpis.choices import ImportStatus
    from kpis.services.imports import import_progress_key

    if job.status == ImportStatus.RUNNING:
        done = cache.get(import_progress_key(job.pk))
        if done is not None:
            return int(done)
    return job.processed_rows


def measurement_list(*, user, kpi_code: str | None = None) -> QuerySet[Measurement]:
    """Actuals of the KPIs the user may see (one KPI by code), with the number of revisions;
    one query per page."""
    from django.db.models import Count

    queryset = (
        Measurement.objects.filter(kpi__in=Kpi.objects.restrict(user))
        .select_related("kpi", "entered_by")
        .annotate(revision_count=Count("revisions"))
        .order_by("kpi__code", "-period")
    )
    if kpi_code:
        queryset = queryset.filter(kpi__code=kpi_code.strip().upper())
    return queryset


def measurement_history(*, kpi: Kpi) -> QuerySet[Measurement]:
    """The KPI's actuals, newest period first, each with its superseded values (revisions)."""
    return kpi_measurements(kpi=kpi)


# --- plan versions: counts, and two versions compared ----------------------------------------


def plan_version_target_counts(*, user, plan_version) -> dict[str, int]:
    """How many targets `plan_version` holds, and for how many KPIs, among the KPIs the user may
    see: one query."""
    return Target.objects.filter(
        plan_version=plan_version, kpi__in=Kpi.objects.restrict(user)
    ).aggregate(targets=Count("pk"), kpis=Count("kpi_id", distinct=True))


# The verdict on a KPI's changed targets taken together (`KpiTargetChangeRows`): the sum of
# (new − old) over its changed periods read against its direction; a mix of raises and cuts that
# nets to zero is a re-phasing; a within-band KPI is judged by its band, so only "changed".
TARGET_VERDICTS = {
    "eased": "Eased",
    "tightened": "Tightened",
    "rephased": "Re-phased",
    "changed": "Changed",
}
REPHASED_TOLERANCE = 1e-9  # |net change| within this share of the gross change counts as zero


@dataclass
class TargetChanges:
    """Version `a`'s targets against version `b`'s, over the KPIs the user may see.

    `kpis`: one row per KPI with a differing target (changed, added or removed period), for the
    KPIs planned in both versions: the KPIs whose targets were eased while the KPI is red first,
    then the other eased ones, then the rest, each by code; sliced a page at a time (one query per
    slice, one more for the periods when asked), as dicts (see `KpiTargetChangeRows`).
    `rows`: one per differing (KPI, period), by KPI code and period, as `target_change` dicts.
    Both lists may be narrowed to one KPI (`plan_target_changes(kpi=…)`); the counts are exact
    and always over the whole comparison. `kpis_added` / `kpis_removed`: KPIs with targets in only
    one of the two, with their number of `periods`, by code (lazy querysets)."""

    kpis: KpiTargetChangeRows
    rows: TargetChangeRows
    changed: int
    eased: int
    periods_added: int
    periods_removed: int
    kpis_changed: int
    kpis_eased: int
    kpis_eased_while_red: int
    kpis_added: QuerySet[Kpi]
    kpis_removed: QuerySet[Kpi]
    kpis_added_count: int
    kpis_removed_count: int

    @property
    def total(self) -> int:
        return self.changed + self.periods_added + self.periods_removed


def _differences_sql(a, b, visible: QuerySet[Kpi]) -> tuple[str, list]:
    """SQL of the differing (kpi_id, period, old, new) rows of two versions' targets, for the
    visible KPIs that have targets in both: one FULL OUTER JOIN on (kpi, period), the same on
    PostgreSQL and SQLite."""
    quote = connection.ops.quote_name
    table = quote(Target._meta.db_table)
    try:
        visible_sql, visible_params = visible.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # the user may see no KPI at all
        visible_sql, visible_params = f"SELECT id FROM {quote(Kpi._meta.db_table)} WHERE 1 = 0", ()
    side = (
        f"SELECT kpi_id, period, value FROM {table} "
        f"WHERE plan_version_id = %s AND kpi_id IN ({visible_sql})"
    )
    has = f"EXISTS (SELECT 1 FROM {table} h WHERE h.kpi_id = {{}} AND h.plan_version_id = %s)"
    sql = (
        f"SELECT COALESCE(a.kpi_id, b.kpi_id) AS kpi_id, COALESCE(a.period, b.period) AS period, "
        f"a.value AS old, b.value AS new FROM ({side}) a FULL OUTER JOIN ({side}) b "
        "ON a.kpi_id = b.kpi_id AND a.period = b.period "
        "WHERE (a.value IS NULL OR b.value IS NULL OR a.value <> b.value) "
        f"AND (a.kpi_id IS NOT NULL OR {has.format('b.kpi_id')}) "
        f"AND (b.kpi_id IS NOT NULL OR {has.format('a.kpi_id')})"
    )
    return sql, [a.pk, *visible_params, b.pk, *visible_params, a.pk, b.pk]


def _per_kpi_sql(sql: str, params: list) -> tuple[str, list]:
    """SQL of one row per KPI with a differing target, from the differences `sql`: one GROUP BY
    giving its counts (differing, changed, added, removed, eased periods), first and last differing
    period, mean change % (over the changed periods with a non-zero old target), net change, the
    verdict and `sort_group` (0 eased while red, 1 eased, 2 the rest)."""
    kpis = connection.ops.quote_name(Kpi._meta.db_table)
    both = "d.old IS NOT NULL AND d.new IS NOT NULL"
    grouped = (
        "SELECT d.kpi_id, COUNT(*) AS differing, "
        f"SUM(CASE WHEN {both} THEN 1 ELSE 0 END) AS changed, "
        "SUM(CASE WHEN d.old IS NULL THEN 1 ELSE 0 END) AS added, "
        "SUM(CASE WHEN d.new IS NULL THEN 1 ELSE 0 END) AS removed, "
        f"SUM(CASE WHEN {both} AND d.new > d.old THEN 1 ELSE 0 END) AS raised, "
        f"SUM(CASE WHEN {both} AND d.new < d.old THEN 1 ELSE 0 END) AS cut, "
        "MIN(d.period) AS first_period, MAX(d.period) AS last_period, "
        f"AVG(CASE WHEN {both} AND d.old <> 0 "
        "THEN (d.new - d.old) * 100.0 / ABS(d.old) END) AS mean_change_pct, "
        f"SUM(CASE WHEN {both} THEN d.new - d.old ELSE 0 END) AS net, "
        f"SUM(CASE WHEN {both} THEN ABS(d.new - d.old) ELSE 0 END) AS gross "
        f"FROM ({sql}) d GROUP BY d.kpi_id"
    )
    verdict = (
        "CASE WHEN g.changed = 0 THEN NULL "
        "WHEN ABS(g.net) <= g.gross * %s THEN 'rephased' "
        "WHEN k.direction = %s THEN CASE WHEN g.net < 0 THEN 'eased' ELSE 'tightened' END "
        "WHEN k.direction = %s THEN CASE WHEN g.net > 0 THEN 'eased' ELSE 'tightened' END "
        "ELSE 'changed' END"
    )
    higher, lower = Direction.HIGHER_IS_BETTER.value, Direction.LOWER_IS_BETTER.value
    judged = (
        "SELECT g.kpi_id, g.differing, g.changed, g.added, g.removed, g.first_period, "
        "g.last_period, g.mean_change_pct, g.net, k.code, k.name, k.direction, k.status, "
        f"k.department_id, {verdict} AS verdict, "
        "CASE k.direction WHEN %s THEN g.cut WHEN %s THEN g.raised ELSE 0 END AS eased_periods "
        f"FROM ({grouped}) g JOIN {kpis} k ON k.id = g.kpi_id"
    )
    ranked = (
        "SELECT v.*, CASE WHEN v.verdict = 'eased' AND v.status = %s THEN 0 "
        "WHEN v.verdict = 'eased' THEN 1 ELSE 2 END AS sort_group "
        f"FROM ({judged}) v"
    )
    return ranked, [
        Status.RED.value, REPHASED_TOLERANCE, higher, lower, higher, lower, *params,
    ]  # fmt: skip


def _totals(sql: str, params: list) -> dict[str, int]:
    """The counts of a comparison (or of its narrowing to one KPI): one query."""
    ranked, ranked_params = _per_kpi_sql(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT SUM(r.changed), SUM(r.eased_periods), SUM(r.added), SUM(r.removed), "
            "COUNT(*), SUM(CASE WHEN r.sort_group < 2 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN r.sort_group = 0 THEN 1 ELSE 0 END), SUM(r.differing) "
            f"FROM ({ranked}) r",
            ranked_params,
        )
        names = ("changed", "eased", "added", "removed", "kpis", "kpis_eased", "eased_red", "rows")
        return dict(zip(names, (int(n or 0) for n in cursor.fetchone()), strict=True))


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class _CountedRows:
    """Rows for a Paginator whose total is known up front: each slice runs `_rows(start, stop)`
    (one query with LIMIT/OFFSET) instead of counting or loading everything."""

    total: int

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, window: slice) -> list[dict]:
        if not isinstance(window, slice) or window.step not in (None, 1):
            raise TypeError("Take the rows a slice at a time.")
        start = window.start or 0
        stop = self.total if window.stop is None else min(window.stop, self.total)
        return self._rows(start, stop) if stop > start else []

    def _rows(self, start: int, stop: int) -> list[dict]:
        raise NotImplementedError


class TargetChangeRows(_CountedRows):
    """The differing targets of two versions, by KPI code and period, as `target_change` dicts;
    each slice is one query over the join."""

    def __init__(self, sql: str, params: list, total: int) -> None:
        self.sql, self.params, self.total = sql, params, total

    def _rows(self, start: int, stop: int) -> list[dict]:
        kpis = connection.ops.quote_name(Kpi._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.kpi_id, k.code, k.name, k.direction, d.period, d.old, d.new "
                f"FROM ({self.sql}) d JOIN {kpis} k ON k.id = d.kpi_id "
                "ORDER BY k.code, d.period LIMIT %s OFFSET %s",
                [*self.params, stop - start, start],
            )
            fetched = cursor.fetchall()
        values = ((*row[:4], _as_date(row[4]), *row[5:]) for row in fetched)
        return [target_change(dict(zip(TARGET_CHANGE_FIELDS, row, strict=True))) for row in values]


TARGET_CHANGE_FIELDS = ("kpi_id", "kpi_code", "kpi_name", "direction", "period", "old", "new")
KPI_CHANGE_FIELDS = (
    "kpi_id", "kpi_code", "kpi_name", "direction", "kpi_status", "department_code",
    "department_name", "differing", "changed", "added", "removed", "planned", "first_period",
    "last_period", "first_old", "first_new", "mean_change_pct", "net_change", "verdict",
    "sort_group",
)  # fmt: skip


class KpiTargetChangeRows(_CountedRows):
    """The KPIs whose targets differ between two versions, eased while red first, then eased,
    then the rest, each by code; for a Paginator: `count()` is known, each slice runs one query
    and gives dicts: the KPI (`kpi_id`, `kpi_code`, `kpi_name`, `direction`, `kpi_status`,
    `department_code`, `department_name`), `differing` periods (changed, added or removed) of
    `planned` (periods with a target in either version), `changed` / `added` / `removed`,
    `first_period` and `last_period` differing, the first one's `first_old` → `first_new`,
    `mean_change_pct` (over the changed periods whose old target is not 0; None without one),
    `net_change` (sum of new − old over the changed periods), `verdict` (a `TARGET_VERDICTS` key,
    None when no period has both targets) and `eased_while_red`.

    `with_periods(limit)` gives the same rows each with its first `limit` differing `periods`
    (`target_change` dicts, by period) and `periods_more`, the number left out: one more query
    per slice, over the slice's KPIs only."""

    def __init__(self, *, a, b, visible: QuerySet[Kpi], total: int, periods: int = 0) -> None:
        self.a, self.b, self.visible, self.total, self.periods = a, b, visible, total, periods

    def with_periods(self, limit: int) -> KpiTargetChangeRows:
        return KpiTargetChangeRows(
            a=self.a, b=self.b, visible=self.visible, total=self.total, periods=limit
        )

    def _rows(self, start: int, stop: int) -> list[dict]:
        quote = connection.ops.quote_name
        targets, departments = quote(Target._meta.db_table), quote(Department._meta.db_table)
        ranked, params = _per_kpi_sql(*_differences_sql(self.a, self.b, self.visible))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.kpi_id, p.code, p.name, p.direction, p.status, dep.code, dep.name, "
                "p.differing, p.changed, p.added, p.removed, "
                f"(SELECT COUNT(*) FROM {targets} t WHERE t.kpi_id = p.kpi_id "
                "AND t.plan_version_id = %s) + p.added, "
                "p.first_period, p.last_period, ta.value, tb.value, p.mean_change_pct, p.net, "
                "p.verdict, p.sort_group "
                f"FROM ({ranked} ORDER BY sort_group, code, kpi_id LIMIT %s OFFSET %s) p "
                f"JOIN {departments} dep ON dep.id = p.department_id "
                f"LEFT JOIN {targets} ta ON ta.kpi_id = p.kpi_id AND ta.period = p.first_period "
                "AND ta.plan_version_id = %s "
                f"LEFT JOIN {targets} tb ON tb.kpi_id = p.kpi_id AND tb.period = p.first_period "
                "AND tb.plan_version_id = %s "
                "ORDER BY p.sort_group, p.code, p.kpi_id",
                [self.a.pk, *params, stop - start, start, self.a.pk, self.b.pk],
            )
            fetched = cursor.fetchall()
        rows = [dict(zip(KPI_CHANGE_FIELDS, row, strict=True)) for row in fetched]
        for row in rows:
            row["first_period"] = _as_date(row["first_period"])
            row["last_period"] = _as_date(row["last_period"])
            for name in ("differing", "changed", "added", "removed", "planned"):
                row[name] = int(row[name])
            row["eased_while_red"] = row.pop("sort_group") == 0
        if self.periods and rows:
            self._attach_periods(rows)
        return rows

    def _attach_periods(self, rows: list[dict]) -> None:
        """Each row's first `self.periods` differing periods, in one query over these KPIs."""
        by_kpi = {row["kpi_id"]: row for row in rows}
        sql, params = _differences_sql(self.a, self.b, self.visible.filter(pk__in=list(by_kpi)))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT w.kpi_id, w.period, w.old, w.new FROM (SELECT d.kpi_id, d.period, d.old, "
                "d.new, ROW_NUMBER() OVER (PARTITION BY d.kpi_id ORDER BY d.period) AS n "
                f"FROM ({sql}) d) w WHERE w.n <= %s ORDER BY w.kpi_id, w.period",
                [*params, self.periods],
            )
            fetched = cursor.fetchall()
        for row in rows:
            row["periods"] = []
        for kpi_id, period, old, new in fetched:
            row = by_kpi[kpi_id]
            kpi = {name: row[name] for name in ("kpi_id", "kpi_code", "kpi_name", "direction")}
            change = {**kpi, "period": _as_date(period), "old": old, "new": new}
            row["periods"].append(target_change(change))
        for row in rows:
            row["periods_more"] = row["differing"] - len(row["periods"])


def plan_target_changes(*, user, a, b, kpi: int | None = None) -> TargetChanges:
    """The targets of plan version `a` against those of `b` (any two versions), over the KPIs
    the user may see: changed per KPI (and per KPI and period), and the KPIs whose targets were
    added or removed. `kpi` (an id) narrows the per-KPI and per-period lists to that KPI; the
    counts stay those of the whole comparison. Set-based, a fixed number of queries whatever the
    number of KPIs and periods: one aggregate over both versions for the counts (one more, over
    the one KPI, when narrowed), one per page of rows, one per KPI list and count."""
    visible = Kpi.objects.restrict(user)
    totals = _totals(*_differences_sql(a, b, visible))
    listed, listed_totals = visible, totals
    if kpi is not None:
        listed = visible.filter(pk=kpi)
        listed_totals = _totals(*_differences_sql(a, b, listed))

    def kpis_only_in(version, other_version) -> QuerySet[Kpi]:
        targets = Target.objects.filter(plan_version=version, kpi_id=OuterRef("pk"))
        other = Target.objects.filter(plan_version=other_version, kpi_id=OuterRef("pk"))
        return (
            visible.filter(Exists(targets))
            .exclude(Exists(other))
            .select_related("department")
            .annotate(periods=count_related(Target.objects.filter(plan_version=version), "kpi_id"))
            .order_by("code")
        )

    kpis_added, kpis_removed = kpis_only_in(b, a), kpis_only_in(a, b)
    return TargetChanges(
        kpis=KpiTargetChangeRows(a=a, b=b, visible=listed, total=listed_totals["kpis"]),
        rows=TargetChangeRows(*_differences_sql(a, b, listed), listed_totals["rows"]),
        changed=totals["changed"],
        eased=totals["eased"],
        periods_added=totals["added"],
        periods_removed=totals["removed"],
        kpis_changed=totals["kpis"],
        kpis_eased=totals["kpis_eased"],
        kpis_eased_while_red=totals["eased_red"],
        kpis_added=kpis_added,
        kpis_removed=kpis_removed,
        kpis_added_count=kpis_added.count(),
        kpis_removed_count=kpis_removed.count(),
    )


def target_change(row: Mapping[str, Any]) -> dict:
    """One differing target as read: the KPI, period, old and new target, the change in % of
    the old one (None when it was 0 or one side is missing), whether the target was changed,
    added or removed, and `eased`: the new target is easier to meet given the KPI's direction
    (None when not both are set, or for a within-band KPI, judged by its band)."""
    old, new = row["old"], row["new"]
    kind = "added" if old is None else "removed" if new is None else "changed"
    change_pct = (new - old) * 100.0 / abs(old) if kind == "changed" and old != 0 else None
    eased = None
    if kind == "changed" and row["direction"] == Direction.HIGHER_IS_BETTER:
        eased = new < old
    elif kind == "changed" and row["direction"] == Direction.LOWER_IS_BETTER:
        eased = new > old
    return {**row, "change_pct": change_pct, "kind": kind, "eased": eased}
