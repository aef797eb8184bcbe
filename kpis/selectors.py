"""Reads for the KPI engine. Each area keeps its own functions under its heading; every selector
scopes rows to the requesting user and runs a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet

from govern.models import Initiative, Objective
from govern.selectors import apply_filters, count_related
from kpis import filtersets
from kpis.choices import Status
from kpis.models import (
    Kpi,
    KpiException,
    KpiResult,
    Measurement,
    MeasurementRevision,
    Target,
    status_rank,
)

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
        .annotate(open_exceptions=count_related(KpiException.objects.open(), "kpi_id"))
        .order_by(status_rank(), "code")
    )
    return apply_filters(filtersets.KpiFilterSet, queryset, filters, user=user)


def kpi_series(*, kpi: Kpi) -> list[dict]:
    """Per period, oldest first, as the recompute stored it: plan, actual, variance, variance %,
    status, forecast and forecast status. One query; nothing is computed here."""
    return list(KpiResult.objects.filter(kpi=kpi).order_by("period").values(*SERIES_FIELDS))


def kpi_open_exception_periods(*, kpi: Kpi) -> list:
    """The periods of the KPI's unresolved exceptions (marked on its chart)."""
    return sorted(
        set(
            KpiException.objects.open()
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
