"""Exceptions: raised from the computed KPI results and overdue milestones, ranked by severity,
acknowledged and assigned by people, escalated when nobody decides, resolved by the engine.

Every state change writes an `AuditEvent` in the same transaction; notices go out on commit
(`kpis.services.notifications`). The syncs are set-based: a handful of queries whatever the
number of KPIs, one bulk insert, one bulk update. The formula and the rules are in
`docs/exceptions.md`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from govern import permissions as perms
from govern.audit import record
from govern.choices import AuditAction, MilestoneStatus, Role
from govern.errors import ApplicationError, ConflictError
from govern.models import AuditEvent, Initiative, Membership, Milestone, Person
from kpis.choices import (
    EscalationLevel,
    ExceptionKind,
    ExceptionStatus,
    Frequency,
    Status,
    ToleranceMode,
)
from kpis.engine import keys
from kpis.engine.severity import adverse as adverse_of
from kpis.engine.severity import severity as severity_of
from kpis.engine.severity import with_reach
from kpis.models import Kpi, KpiException, KpiResult
from kpis.permissions import ACT, LEADERSHIP_ONLY_KINDS
from kpis.services import notifications

EVALUATED = (Status.ON_TRACK, Status.AMBER, Status.RED, Status.MISSING)
BREACH = (Status.AMBER, Status.RED)
KPI_KINDS = (
    ExceptionKind.KPI_RED,
    ExceptionKind.KPI_AMBER,
    ExceptionKind.FORECAST_BREACH,
    ExceptionKind.MISSING_DATA,
)
RED_DEADLINE_KINDS = (ExceptionKind.KPI_RED, ExceptionKind.FORECAST_BREACH)
NOTIFY_ON_OPEN = RED_DEADLINE_KINDS
BACK_TO_GREEN_KINDS = (
    ExceptionKind.KPI_RED,
    ExceptionKind.KPI_AMBER,
    ExceptionKind.FORECAST_BREACH,
)
UNRESOLVED = (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED, ExceptionStatus.DECIDED)
SYNC_FIELDS = ["severity", "severity_base", "period", "detail", "green_streak", "updated_at"]
RESOLVE_FIELDS = ["status", "resolved_at", "green_streak", "updated_at"]
CREATE_ATTEMPTS = 3
MAX_STREAK = 32767


def deadline_days(kind: str) -> int:
    """Days to a decision: red and forecast breaches (and breached contracts) are urgent, the
    rest can wait a week."""
    if kind in RED_DEADLINE_KINDS or kind == ExceptionKind.CONTRACT_BREACHED:
        return settings.GOVERN_DEADLINE_RED_DAYS
    return settings.GOVERN_DEADLINE_AMBER_DAYS


def kpi_subject_key(kpi_id: int) -> str:
    return f"kpi:{kpi_id}"


def milestone_subject_key(milestone_id: int) -> str:
    return f"milestone:{milestone_id}"


@dataclass
class _Resolution:
    exception: KpiException
    reason: str
    back_to_green: bool = False


# --- KPI exceptions -------------------------------------------------------------------------


@transaction.atomic(savepoint=False)  # inside the recompute: its transaction, no savepoint
def exception_sync(*, kpi_ids: list[int] | None, today: dt.date) -> tuple[int, int]:
    """Open, update and auto-resolve the KPI exceptions of these KPIs (all active ones when None)
    from their latest computed results. Returns (opened, resolved). Idempotent: a second run with
    the same results and day writes nothing."""
    now = timezone.now()
    kpis = _kpi_frame(kpi_ids)
    if not len(kpis["id"]):
        return 0, 0
    state = _kpi_state(kpis, kpi_ids)
    existing = list(
        _for_kpis(KpiException.objects.select_for_update(), kpi_ids).filter(
            kind__in=KPI_KINDS, status__in=UNRESOLVED
        )
    )
    latest = state["latest_status"]
    wanted = {
        ExceptionKind.KPI_RED: keys.isin(latest, [Status.RED]),
        ExceptionKind.KPI_AMBER: keys.isin(latest, [Status.AMBER]),
        ExceptionKind.FORECAST_BREACH: keys.isin(state["next_status"], BREACH)
        & ~keys.isin(latest, [Status.RED]),
        ExceptionKind.MISSING_DATA: keys.isin(latest, [Status.MISSING]),
    }
    # Only the KPIs with an unresolved exception or one to open need their state as dicts of
    # plain values, None for a gap (a full sync has 20,000 KPIs and a few thousand exceptions).
    ids = state["id"]
    involved = {e.kpi_id for e in existing}
    for mask in wanted.values():
        involved.update(ids[mask].tolist())
    pick = np.flatnonzero(np.isin(ids, list(involved)))
    columns = {
        name: [None if value != value else value for value in values[pick].tolist()]
        for name, values in state.items()
        if name != "id"
    }
    rows = {
        kpi_id: {name: column[at] for name, column in columns.items()}
        for at, kpi_id in enumerate(ids[pick].tolist())
    }
    before = _values(existing)

    resolutions: list[_Resolution] = []
    kept: list[KpiException] = []
    for exception in existing:
        row = rows.get(exception.kpi_id)
        if row is None:  # an inactive KPI: left as it is
            continue
        exception.green_streak = min(int(row["green_streak"]), MAX_STREAK)
        reason = _kpi_resolution(exception.kind, row)
        if reason is None:
            kept.append(exception)
        else:
            resolutions.append(
                _Resolution(
                    exception,
                    reason,
                    back_to_green=reason.startswith("Back to green")
                    and exception.kind in BACK_TO_GREEN_KINDS,
                )
            )
    open_keys = {(e.kpi_id, e.kind) for e in kept}
    new = [
        _new_kpi_exception(kind, kpi_id, rows[kpi_id], now)
        for kind, mask in wanted.items()
        for kpi_id in ids[mask].tolist()
        if (kpi_id, kind) not in open_keys
    ]

    for exception in kept:
        row = rows[exception.kpi_id]
        if _still_applies(exception.kind, row):  # else it keeps what triggered it
            _describe_kpi(exception, exception.kind, row)
    _score(kept + new, rows, today=today)

    resolved = _resolve(resolutions, now=now)
    _save_changed(kept, before, now=now)
    created = _create(new)
    if created:
        _record_opened(created)
    notifications.notify_on_commit(
        notifications.OPENED, [e.pk for e in created if e.kind in NOTIFY_ON_OPEN]
    )
    notifications.notify_on_commit(
        notifications.BACK_TO_GREEN, [r.exception.pk for r in resolutions if r.back_to_green]
    )
    return len(created), resolved


def _for_kpis(queryset: QuerySet, kpi_ids: list[int] | None, field: str = "kpi_id") -> QuerySet:
    if kpi_ids is None:
        return queryset.filter(**{f"{field}__in": Kpi.objects.filter(is_active=True).values("pk")})
    return queryset.filter(**{f"{field}__in": list(kpi_ids)})


KPI_STATE_FIELDS = {
    "id": "int64", "code": object, "name": object, "department_id": "int64",
    "owner_id": "int64", "criticality": "int64", "direction": object, "frequency": object,
    "unit": object, "tolerance_mode": object, "amber_threshold": "float64",
    "red_threshold": "float64", "band_low": "float64", "band_high": "float64",
    "objective_weight": "float64",
}  # fmt: skip


def _kpi_frame(kpi_ids: list[int] | None) -> dict[str, np.ndarray]:
    """The active KPIs (of `kpi_ids` when given) by code, each with the highest weight of the
    objectives it measures (NaN when none), as one array per column: one query."""
    queryset = Kpi.objects.filter(is_active=True)
    if kpi_ids is not None:
        queryset = queryset.filter(pk__in=list(kpi_ids))
    rows = list(
        queryset.annotate(objective_weight=Max("objectives__weight"))
        .order_by("code")
        .values_list(*KPI_STATE_FIELDS)
    )
    values = list(zip(*rows, strict=True)) if rows else [()] * len(KPI_STATE_FIELDS)
    return {
        name: np.array(column, dtype=dtype)
        for (name, dtype), column in zip(KPI_STATE_FIELDS.items(), values, strict=True)
    }


def _kpi_state(kpis: dict[str, np.ndarray], kpi_ids: list[int] | None) -> dict[str, np.ndarray]:
    """Per KPI of `kpis`, as arrays aligned with it: its latest evaluated period (status,
    figures), how many of its latest periods in a row are on track, and the next period's
    forecast. numpy over the few rows per KPI: pandas' fixed cost per join and groupby
    dominated a one-KPI sync."""
    ids = kpis["id"]
    window = max(settings.GOVERN_AUTO_RESOLVE_PERIODS, 1)
    recent = _recent_results(kpi_ids, window)
    kpi = recent["kpi_id"].to_numpy(dtype="int64")
    rank = recent["rank"].to_numpy(dtype="int64")
    state = dict(kpis)
    latest = np.flatnonzero(rank == 1)
    at = keys.positions(ids, kpi[latest])
    for column, name in (
        ("period", "latest_period"),
        ("status", "latest_status"),
        ("plan", "plan"),
        ("actual", "actual"),
        ("adverse", "adverse"),
    ):
        state[name] = keys.take(recent[column].to_numpy()[latest], at)
    # The streak: the ranks before the first period not on track, or all of them.
    streak_ids, group = np.unique(kpi, return_inverse=True)
    most = np.zeros(len(streak_ids), dtype="int64")
    np.maximum.at(most, group, rank)
    not_green = ~keys.isin(recent["status"].to_numpy(dtype=object), [Status.ON_TRACK])
    first_not_green = np.full(len(streak_ids), np.iinfo("int64").max)
    np.minimum.at(first_not_green, group[not_green], rank[not_green])
    streak = np.where(first_not_green <= most, first_not_green - 1, most)
    at = keys.positions(ids, streak_ids)
    state["green_streak"] = np.zeros(len(ids), dtype="int64")
    state["green_streak"][at >= 0] = streak[at[at >= 0]]

    # The next forecast period after the latest evaluated one (any, when none is evaluated).
    forecast_columns = ["kpi_id", "period", "plan", "forecast", "forecast_status"]
    ahead = list(
        _for_kpis(KpiResult.objects.exclude(status__in=EVALUATED), kpi_ids)
        .filter(forecast_status__in=[Status.ON_TRACK, Status.AMBER, Status.RED])
        .exclude(forecast=None)
        .values_list(*forecast_columns)
    )
    kpi, period, plan, projected, status = (
        np.array(column, dtype=dtype)
        for column, dtype in zip(
            list(zip(*ahead, strict=True)) if ahead else [()] * len(forecast_columns),
            ["int64", object, "float64", "float64", object],
            strict=True,
        )
    )
    days = np.array(period, dtype="datetime64[ns]")
    latest_days = np.array(state["latest_period"], dtype="datetime64[ns]")
    after = keys.take(latest_days, keys.positions(kpi, ids))
    candidates = np.flatnonzero(np.isnat(after) | (days > after))
    order = candidates[np.argsort(keys.pack(kpi[candidates], days[candidates]), kind="stable")]
    first = order[keys.firsts(kpi[order])]
    at = keys.positions(ids, kpi[first])
    state["next_period"] = keys.take(period[first], at)
    state["next_plan"] = keys.take(plan[first], at)
    state["forecast"] = keys.take(projected[first], at)
    state["next_status"] = keys.take(status[first], at)
    names = ("forecast", "next_plan", "direction", "tolerance_mode", "band_low", "band_high")
    state["forecast_adverse"] = adverse_of(*(pd.Series(state[name]) for name in names)).to_numpy()
    return state


RECENT_COLUMNS = ["kpi_id", "period", "status", "plan", "actual", "adverse", "rank"]
JIT_FREE_KPIS = 20


def _recent_results(kpi_ids: list[int] | None, window: int) -> pd.DataFrame:
    """The latest `window` evaluated results of each KPI, ranked from 1 (the latest).

    PostgreSQL: one LATERAL index scan per KPI, backwards on (kpi_id, period), which reads a
    few rows per KPI; a window function over the whole results table sorted a million rows
    (and with the fresh, unanalysed table of a cold recompute the planner chose worse). SQLite
    (tests, small data): the window function."""
    if connection.vendor != "postgresql":
        rows = (
            _for_kpis(KpiResult.objects.filter(status__in=EVALUATED), kpi_ids)
            .annotate(
                rank=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=F("period").desc())
            )
            .filter(rank__lte=window)
            .values_list(*RECENT_COLUMNS)
        )
        return pd.DataFrame.from_records(list(rows), columns=RECENT_COLUMNS)
    results = connection.ops.quote_name(KpiResult._meta.db_table)
    if kpi_ids is None:
        kpis = f"SELECT id FROM {connection.ops.quote_name(Kpi._meta.db_table)} WHERE is_active"
        params: list = []
    else:
        kpis = "SELECT DISTINCT unnest(%s::bigint[]) AS id"
        params = [list(kpi_ids)]
    sql = (
        "SELECT r.kpi_id, r.period, r.status, r.plan, r.actual, r.adverse, r.rank "
        f"FROM ({kpis}) AS k CROSS JOIN LATERAL ("
        "SELECT kpi_id, period, status, plan, actual, adverse, "
        "ROW_NUMBER() OVER (ORDER BY period DESC) AS rank "
        f"FROM {results} WHERE kpi_id = k.id AND status = ANY(%s) "
        "ORDER BY period DESC LIMIT %s) AS r"
    )
    # The planner prices the per-KPI scans as if they read the whole table (about 370 per KPI
    # at 20,000 KPIs × 52 periods) and JIT-compiles the query past jit_above_cost (100,000 by
    # default), which costs more than running it: off for this statement only. A few KPIs
    # stay far below that cost, and the two extra round trips were a tenth of a one-KPI sync.
    toggle_jit = kpi_ids is None or len(kpi_ids) > JIT_FREE_KPIS
    with connection.cursor() as cursor:
        if toggle_jit:
            cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
            jit = cursor.fetchone()[0]
        cursor.execute(sql, [*params, [str(status) for status in EVALUATED], window])
        rows = cursor.fetchall()
        if toggle_jit:
            cursor.execute("SELECT set_config('jit', %s, true)", [jit])
    return pd.DataFrame.from_records(rows, columns=RECENT_COLUMNS)


def _still_applies(kind: str, row: dict) -> bool:
    """Does the KPI's current state still show what this kind of exception is about?"""
    if kind == ExceptionKind.FORECAST_BREACH:
        return row["next_status"] in BREACH
    return row["latest_status"] == {
        ExceptionKind.KPI_RED: Status.RED,
        ExceptionKind.KPI_AMBER: Status.AMBER,
        ExceptionKind.MISSING_DATA: Status.MISSING,
    }.get(kind)


def _kpi_resolution(kind: str, row: dict) -> str | None:
    """Why an unresolved exception of this kind resolves now (None: it stays)."""
    latest = row["latest_status"]
    streak = row["green_streak"]
    needed = max(settings.GOVERN_AUTO_RESOLVE_PERIODS, 1)
    back_to_green = streak >= needed
    green_reason = (
        f"Back to green: on track for {streak} period{'s' if streak != 1 else ''} in a row."
    )
    if kind == ExceptionKind.KPI_RED:
        if latest == Status.AMBER:
            return "Improved to amber: superseded by the amber exception."
        return green_reason if back_to_green else None
    if kind == ExceptionKind.KPI_AMBER:
        if latest == Status.RED:
            return "Worsened to red: superseded by the red exception."
        return green_reason if back_to_green else None
    if kind == ExceptionKind.FORECAST_BREACH:
        if latest == Status.RED:
            return "The KPI is red: superseded by the red exception."
        forecast_ok = row["next_status"] not in BREACH
        return green_reason if back_to_green and forecast_ok else None
    if latest != Status.MISSING:
        if row["latest_period"] is None:
            return "No period is due any more."
        return (
            f"Data received: {_period_label(row['latest_period'], row['frequency'])} has an actual."
        )
    return None


def _new_kpi_exception(kind: str, kpi_id: int, row: dict, now: dt.datetime) -> KpiException:
    exception = KpiException(
        kind=kind,
        status=ExceptionStatus.OPEN,
        subject_key=kpi_subject_key(kpi_id),
        kpi_id=kpi_id,
        department_id=row["department_id"],
        owner_id=row["owner_id"],
        opened_at=now,
        decision_deadline=now + dt.timedelta(days=deadline_days(kind)),
        escalation_level=EscalationLevel.OWNER,
        green_streak=min(int(row["green_streak"]), MAX_STREAK),
    )
    _describe_kpi(exception, kind, row)
    return exception


TITLES = {
    ExceptionKind.KPI_RED: "{code} is red: {name}",
    ExceptionKind.KPI_AMBER: "{code} is amber: {name}",
    ExceptionKind.FORECAST_BREACH: "{code} is forecast to breach: {name}",
    ExceptionKind.MISSING_DATA: "{code} has no data: {name}",
}


def _describe_kpi(exception: KpiException, kind: str, row: dict) -> None:
    """Title, detail and period of a KPI exception from the KPI's current state."""
    exception.title = TITLES[kind].format(code=row["code"], name=row["name"])[:255]
    percent = row["tolerance_mode"] == ToleranceMode.PERCENT
    unit = "%" if percent else f" {row['unit']}"

    def amount(value) -> str:
        return f"{value:.1f}{unit}" if percent else f"{value:g}{unit}"

    if kind == ExceptionKind.FORECAST_BREACH:
        period = row["next_period"]
        exception.detail = (
            f"Forecast for {_period_label(period, row['frequency'])}: {_number(row['forecast'])} "
            f"against a plan of {_number(row['next_plan'])}, "
            f"{amount(row['forecast_adverse'] or 0)} adverse "
            f"(amber beyond {amount(row['amber_threshold'])}, red beyond "
            f"{amount(row['red_threshold'])})."
        )
    elif kind == ExceptionKind.MISSING_DATA:
        period = row["latest_period"]
        exception.detail = (
            f"No actual for {_period_label(period, row['frequency'])}; it was due "
            f"{settings.GOVERN_MISSING_GRACE_DAYS} days after the period ended."
        )
    else:
        period = row["latest_period"]
        threshold = "red_threshold" if kind == ExceptionKind.KPI_RED else "amber_threshold"
        exception.detail = (
            f"{_period_label(period, row['frequency'])}: actual {_number(row['actual'])} "
            f"against a plan of {_number(row['plan'])}, {amount(row['adverse'] or 0)} adverse "
            f"({'red' if kind == ExceptionKind.KPI_RED else 'amber'} beyond "
            f"{amount(row[threshold])})."
        )
    exception.period = period


def _number(value) -> str:
    return "—" if value is None else f"{value:,.6g}"


def _period_label(period: dt.date | None, frequency: str) -> str:
    if period is None:
        return "the latest period"
    if frequency == Frequency.WEEKLY:
        return f"the week of {period:%d %b %Y}"
    if frequency == Frequency.QUARTERLY:
        return f"Q{(period.month - 1) // 3 + 1} {period.year}"
    return f"{period:%b %Y}"


# --- Milestone exceptions -------------------------------------------------------------------


@transaction.atomic
def milestone_exception_sync(*, today: dt.date) -> tuple[int, int]:
    """Open a `milestone_overdue` exception for each overdue milestone, keep their severity
    current, and resolve them when the milestone is done, cancelled or no longer overdue.
    Returns (opened, resolved)."""
    now = timezone.now()
    overdue = {
        row["pk"]: row
        for row in Milestone.objects.overdue(today).values(
            "pk",
            "name",
            "owner_id",
            "due_date",
            "initiative_id",
            "initiative__name",
            "initiative__department_id",
        )
    }
    weights = dict(
        Initiative.objectives.through.objects.filter(
            initiative_id__in={row["initiative_id"] for row in overdue.values()}
        )
        .values("initiative_id")
        .annotate(weight=Max("objective__weight"))
        .values_list("initiative_id", "weight")
    )
    existing = list(
        KpiException.objects.select_for_update().filter(
            kind=ExceptionKind.MILESTONE_OVERDUE, status__in=UNRESOLVED
        )
    )
    before = _values(existing)
    gone = [e for e in existing if e.milestone_id not in overdue]
    kept = [e for e in existing if e.milestone_id in overdue]
    state_of = dict(
        Milestone.objects.filter(pk__in=[e.milestone_id for e in gone]).values_list("pk", "status")
    )
    reasons = {
        MilestoneStatus.DONE: "The milestone is done.",
        MilestoneStatus.CANCELLED: "The milestone was cancelled.",
    }
    resolutions = [
        _Resolution(e, reasons.get(state_of.get(e.milestone_id), "No longer overdue."))
        for e in gone
    ]
    open_ids = {e.milestone_id for e in kept}
    new = [
        KpiException(
            kind=ExceptionKind.MILESTONE_OVERDUE,
            status=ExceptionStatus.OPEN,
            subject_key=milestone_subject_key(pk),
            milestone_id=pk,
            department_id=row["initiative__department_id"],
            owner_id=row["owner_id"],
            title=f"Milestone overdue: {row['name']} ({row['initiative__name']})"[:255],
            opened_at=now,
            decision_deadline=now
            + dt.timedelta(days=deadline_days(ExceptionKind.MILESTONE_OVERDUE)),
        )
        for pk, row in overdue.items()
        if pk not in open_ids
    ]
    all_rows = kept + new
    for exception in all_rows:
        row = overdue[exception.milestone_id]
        days = (today - row["due_date"]).days
        exception.period = row["due_date"]
        exception.detail = (
            f"Due {row['due_date']:%d %b %Y}, {days} day{'s' if days != 1 else ''} overdue, "
            "and neither done nor cancelled."
        )
    frame = pd.DataFrame(
        {
            "kind": [ExceptionKind.MILESTONE_OVERDUE] * len(all_rows),
            "days_overdue": [(today - overdue[e.milestone_id]["due_date"]).days for e in all_rows],
            "objective_weight": [
                weights.get(overdue[e.milestone_id]["initiative_id"]) for e in all_rows
            ],
            "days_open": [_days_open(e, today) for e in all_rows],
        },
        dtype=object,
    )
    set_severity(all_rows, severity_of(frame))
    resolved = _resolve(resolutions, now=now)
    _save_changed(kept, before, now=now)
    created = _create(new)
    _record_opened(created)
    return len(created), resolved


# --- Shared plumbing of the syncs -----------------------------------------------------------


def _days_open(exception: KpiException, today: dt.date) -> int:
    return max((today - timezone.localdate(exception.opened_at)).days, 0)


def _score(exceptions: list[KpiException], rows: dict, *, today: dt.date) -> None:
    """Set the severity of KPI exceptions (new and kept) in one vectorised pass."""
    if not exceptions:
        return
    frame = pd.DataFrame.from_records(
        [
            {
                "kind": e.kind,
                "adverse": rows[e.kpi_id]["adverse"],
                "forecast_adverse": rows[e.kpi_id]["forecast_adverse"],
                "red_threshold": rows[e.kpi_id]["red_threshold"],
                "criticality": rows[e.kpi_id]["criticality"],
                "objective_weight": rows[e.kpi_id]["objective_weight"],
                "days_open": _days_open(e, today),
            }
            for e in exceptions
        ]
    )
    set_severity(exceptions, severity_of(frame))


def set_severity(exceptions: list[KpiException], base) -> None:
    """Set each exception's base severity and, with the ripple reach it carries, its severity."""
    base = np.asarray(base, dtype="float64")
    total = with_reach(base, [e.reach for e in exceptions])
    for exception, value, score in zip(exceptions, base, total, strict=True):
        exception.severity_base = float(value)
        exception.severity = float(score)


def _values(exceptions: list[KpiException]) -> dict[int, tuple]:
    """What the sync may change, as read from the database."""
    return {e.pk: tuple(getattr(e, name) for name in SYNC_FIELDS[:-1]) for e in exceptions}


def _save_changed(kept: list[KpiException], before: dict[int, tuple], *, now) -> None:
    """Write back only the exceptions whose severity, period, detail or streak changed."""
    changed = [e for e in kept if _values([e])[e.pk] != before[e.pk]]
    for exception in changed:
        exception.updated_at = now
    KpiException.objects.bulk_update(changed, SYNC_FIELDS, batch_size=500)


def _resolve(resolutions: list[_Resolution], *, now: dt.datetime) -> int:
    if not resolutions:
        return 0
    events = []
    for resolution in resolutions:
        exception = resolution.exception
        events.append(
            _event(
                exception,
                AuditAction.RESOLVE,
                {"status": {"old": exception.status, "new": ExceptionStatus.RESOLVED}},
                reason=resolution.reason,
            )
        )
        exception.status = ExceptionStatus.RESOLVED
        exception.resolved_at = exception.updated_at = now
    exceptions = [r.exception for r in resolutions]
    KpiException.objects.bulk_update(exceptions, RESOLVE_FIELDS, batch_size=500)
    AuditEvent.objects.bulk_create(events)
    return len(resolutions)


def _create(new: list[KpiException]) -> list[KpiException]:
    """Insert the new exceptions. Another sync may have opened some of them since we looked: the
    partial unique constraint refuses the duplicates, and we re-read and insert only the rest."""
    for _ in range(CREATE_ATTEMPTS):
        if not new:
            return []
        try:
            with transaction.atomic():
                return KpiException.objects.bulk_create(new, batch_size=500)
        except IntegrityError:
            keys = {(e.subject_key, e.kind) for e in new}
            taken = set(
                KpiException.objects.filter(
                    subject_key__in={k for k, _ in keys}, status__in=UNRESOLVED
                ).values_list("subject_key", "kind")
            )
            for exception in new:
                exception.pk = None
            new = [e for e in new if (e.subject_key, e.kind) not in taken]
    raise ConflictError("Exceptions are being opened concurrently; the next sync will catch up.")


def _record_opened(created: list[KpiException]) -> None:
    names = dict(
        (person.pk, str(person))
        for person in Person.objects.filter(pk__in={e.owner_id for e in created if e.owner_id})
    )
    AuditEvent.objects.bulk_create(
        _event(
            e,
            AuditAction.OPEN,
            {
                "kind": {"old": None, "new": e.kind},
                "status": {"old": None, "new": e.status},
                "owner": {"old": None, "new": names.get(e.owner_id)},
                "severity": {"old": None, "new": e.severity},
            },
            reason=e.detail,
        )
        for e in created
    )


def _event(exception: KpiException, action: str, changes: dict, *, reason: str = "", actor=None):
    return AuditEvent(
        actor=actor,
        actor_name=str(actor) if actor is not None else "system",
        action=action,
        subject_type=KpiException._meta.label_lower,
        subject_id=str(exception.pk),
        subject_name=exception.title[:255],
        changes=changes,
        reason=reason,
    )


# --- People acting on exceptions ------------------------------------------------------------


def can_act(user, exception: KpiException) -> bool:
    return perms.allowed(user, ACT, exception)


def ensure_can_act(user, exception: KpiException) -> None:
    """The gate for acknowledging and assigning: the owner, the department's leads, the PMO and
    executives."""
    if not can_act(user, exception):
        raise PermissionDenied(
            f"Only the exception's owner, the leads of {exception.department}, the PMO and "
            "executives may acknowledge or assign it."
        )


def _locked(exception: KpiException) -> KpiException:
    return (
        KpiException.objects.select_for_update(of=("self",))
        .select_related("owner", "department")
        .get(pk=exception.pk)
    )


@transaction.atomic
def exception_acknowledge(
    *, actor: Person, exception: KpiException, note: str = ""
) -> KpiException:
    """open → acknowledged: someone has seen it and is on it (the decision comes later)."""
    ensure_can_act(actor, exception)
    locked = _locked(exception)
    if locked.status != ExceptionStatus.OPEN:
        raise ConflictError(
            f"This exception is {locked.get_status_display().lower()}; only an open exception "
            "can be acknowledged.",
            code="not_open",
        )
    locked.status = ExceptionStatus.ACKNOWLEDGED
    locked.acknowledged_at = timezone.now()
    locked.save(update_fields=["status", "acknowledged_at", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.ACKNOWLEDGE,
        instance=locked,
        changes={"status": {"old": ExceptionStatus.OPEN, "new": ExceptionStatus.ACKNOWLEDGED}},
        reason=note.strip(),
    )
    return locked


@transaction.atomic
def exception_assign(
    *, actor: Person, exception: KpiException, owner: Person, note: str = ""
) -> KpiException:
    """Give the exception a new owner: a member of its department. The same owner is a no-op."""
    ensure_can_act(actor, exception)
    locked = _locked(exception)
    if locked.status == ExceptionStatus.RESOLVED:
        raise ConflictError(
            "This exception is resolved; there is nothing left to assign.", code="resolved"
        )
    if locked.kind in LEADERSHIP_ONLY_KINDS:  # seen by the PMO and executives only
        member = Membership.objects.filter(
            person_id=owner.pk, role__in=[Role.PMO, Role.EXECUTIVE], person__is_active=True
        ).exists()
        message = (
            f"{owner} is neither in the PMO nor an executive; only they see a "
            f"{locked.get_kind_display().lower()} exception, so choose one of them."
        )
    else:
        member = Membership.objects.filter(
            person_id=owner.pk, department_id=locked.department_id, person__is_active=True
        ).exists()
        message = f"{owner} is not an active member of {locked.department}; choose someone who is."
    if not member:
        raise ApplicationError(message, fields={"owner": [message]})
    if owner.pk == locked.owner_id:
        return locked
    before = str(locked.owner) if locked.owner is not None else None
    locked.owner = owner
    locked.save(update_fields=["owner", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.ASSIGN,
        instance=locked,
        changes={"owner": {"old": before, "new": str(owner)}},
        reason=note.strip(),
    )
    return locked


# --- Escalation -----------------------------------------------------------------------------


@transaction.atomic
def exception_escalate_overdue(*, now: dt.datetime) -> int:
    """Move every unresolved exception without a decision past its deadline one level up the
    ladder (owner → department lead → PMO → executive), with a new deadline `now` + the same
    number of days, an ESCALATE event and a notice to the new level's people. Idempotent: a
    second run at the same `now` finds nothing past its (new) deadline. Returns how many moved."""
    due = list(
        KpiException.objects.select_for_update().filter(
            status__in=[ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED],
            decided_at__isnull=True,
            decision_deadline__lt=now,
            escalation_level__lt=EscalationLevel.EXECUTIVE,
        )
    )
    events = []
    for exception in due:
        old_level, old_deadline = exception.escalation_level, exception.decision_deadline
        exception.escalation_level = old_level + 1
        exception.escalated_at = now
        exception.decision_deadline = now + dt.timedelta(days=deadline_days(exception.kind))
        events.append(
            _event(
                exception,
                AuditAction.ESCALATE,
                {
                    "escalation_level": {"old": old_level, "new": exception.escalation_level},
                    "decision_deadline": {
                        "old": old_deadline.isoformat(),
                        "new": exception.decision_deadline.isoformat(),
                    },
                },
                reason=(
                    f"No decision by {timezone.localtime(old_deadline):%d %b %Y %H:%M}: escalated "
                    f"to {EscalationLevel(exception.escalation_level).label}."
                ),
            )
        )
        exception.updated_at = now
    KpiException.objects.bulk_update(
        due, ["escalation_level", "escalated_at", "decision_deadline", "updated_at"], batch_size=500
    )
    AuditEvent.objects.bulk_create(events)
    notifications.notify_on_commit(notifications.ESCALATED, [e.pk for e in due])
    return len(due)


# --- Public names of the shared plumbing, for the other syncs (the contracts' health monitor,
# dependencies/services/health.py) ---------------------------------------------------------

Resolution = _Resolution
recent_results = _recent_results
days_open = _days_open
sync_values = _values
save_changed = _save_changed
resolve_exceptions = _resolve
create_exceptions = _create
record_opened = _record_opened


# --- Decisions (the decision log, decisions/services) -----------------------------------------


@transaction.atomic
def exception_mark_decided(*, exception: KpiException, decision, actor: Person) -> KpiException:
    """A decision (`decisions.models.Decision`) was taken on this exception: an open or
    acknowledged one moves to decided (decided_at set, a DECIDE event naming the decision), which
    also stops its escalation. A decided one stays as it is, and so does a resolved one (the
    engine resolved it meanwhile): the decision still stands, nothing is written."""
    locked = _locked(exception)
    if locked.status not in (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED):
        return locked
    old = locked.status
    locked.status = ExceptionStatus.DECIDED
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_at", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.DECIDE,
        instance=locked,
        changes={
            "status": {"old": old, "new": ExceptionStatus.DECIDED},
            "decision": {"old": None, "new": str(decision)},
        },
        reason=f"Answered by decision D-{decision.pk}: {decision.chosen_option}"[:2000],
    )
    return locked


# --- Re-escalation when a decision proved ineffective (decisions/services/effectiveness.py) --


@transaction.atomic
def exception_reescalate(
    *, exception: KpiException, reason: str, now: dt.datetime
) -> KpiException | None:
    """A decision on this unresolved exception proved ineffective: set the decision aside and
    move the exception one level up the ladder (the executives keep it at the top), with a new
    deadline `now` + its kind's days. A decided exception returns to where it was before the
    decision (acknowledged if someone had acknowledged it, else open) and loses its
    `decided_at`, so the overdue escalation watches it again. Writes an ESCALATE event giving
    `reason` and notifies the new level's people. A resolved exception is left alone (None)."""
    from govern.notifications import Notice, notify_many

    locked = _locked(exception)
    if locked.status == ExceptionStatus.RESOLVED:
        return None
    old = {
        "status": locked.status,
        "escalation_level": locked.escalation_level,
        "decision_deadline": locked.decision_deadline.isoformat(),
        "decided_at": locked.decided_at.isoformat() if locked.decided_at else None,
    }
    if locked.status == ExceptionStatus.DECIDED:
        locked.status = (
            ExceptionStatus.ACKNOWLEDGED if locked.acknowledged_at else ExceptionStatus.OPEN
        )
    locked.decided_at = None
    locked.escalation_level = min(old["escalation_level"] + 1, EscalationLevel.EXECUTIVE)
    locked.escalated_at = now
    locked.decision_deadline = now + dt.timedelta(days=deadline_days(locked.kind))
    locked.updated_at = now
    locked.save(
        update_fields=[
            "status", "decided_at", "escalation_level", "escalated_at", "decision_deadline",
            "updated_at",
        ]
    )  # fmt: skip
    new = {
        "status": locked.status,
        "escalation_level": locked.escalation_level,
        "decision_deadline": locked.decision_deadline.isoformat(),
        "decided_at": None,
    }
    level = EscalationLevel(locked.escalation_level).label
    moved = "escalated to" if new["escalation_level"] != old["escalation_level"] else "stays with"
    _event(
        locked,
        AuditAction.ESCALATE,
        {name: {"old": old[name], "new": new[name]} for name in old if old[name] != new[name]},
        reason=f"{reason.rstrip('.')}: {moved} {level}.",
    ).save()
    audience = notifications._audience([locked])
    deadline = timezone.localtime(locked.decision_deadline)
    notify_many(
        [
            Notice(
                recipients=notifications.level_people(locked, audience),
                kind=notifications.KINDS[notifications.ESCALATED],
                title=f"Escalated to {level}: {locked.title}",
                body=(
                    f"{reason.rstrip('.')}. This exception needs a new decision and is escalated "
                    f"to you ({level}). New deadline: {deadline:%d %b %Y %H:%M}.\n\n"
                    f"{locked.title}\n{locked.detail}"
                ),
                link=locked.get_absolute_url(),
                subject=locked,
            )
        ]
    )
    return locked


# --- Resolved by people: target-gaming signals and alignment (kpis/services/governance.py,
# decisions/services/alignment.py) -------------------------------------------------------------

PEOPLE_RESOLVE_KINDS = LEADERSHIP_ONLY_KINDS  # the others resolve themselves


def can_resolve(user, exception: KpiException) -> bool:
    """May `user` resolve `exception` by hand now? Only a target-gaming signal or an alignment
    exception, unresolved, by the PMO or an executive."""
    return (
        exception.kind in PEOPLE_RESOLVE_KINDS
        and exception.status != ExceptionStatus.RESOLVED
        and perms.scope_for(user).reads_everything
    )


@transaction.atomic
def exception_resolve(*, actor: Person, exception: KpiException, note: str) -> KpiException:
    """Resolve a target-gaming signal or an alignment exception: the engine never resolves a
    governance one (an alignment one also resolves when a later assessment is fine), so the PMO
    or an executive does, with a note saying why (kept in the RESOLVE event). Every other kind
    resolves itself from the state of its subject (409)."""
    if not perms.scope_for(actor).reads_everything:
        raise PermissionDenied("Only the PMO and executives may resolve this exception.")
    if exception.kind not in PEOPLE_RESOLVE_KINDS:
        raise ConflictError(
            f"A {exception.get_kind_display().lower()} exception resolves itself when its subject "
            "is back on track; only target-gaming signals and alignment exceptions are resolved "
            "by hand.",
            code="resolved_by_engine",
        )
    note = (note or "").strip()
    if not note:
        message = "Say why it is resolved: the note is kept in its history."
        raise ApplicationError(message, fields={"note": [message]})
    locked = _locked(exception)
    if locked.status == ExceptionStatus.RESOLVED:
        raise ConflictError("This exception is already resolved.", code="resolved")
    old = locked.status
    locked.status = ExceptionStatus.RESOLVED
    locked.resolved_at = timezone.now()
    locked.save(update_fields=["status", "resolved_at", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.RESOLVE,
        instance=locked,
        changes={"status": {"old": old, "new": ExceptionStatus.RESOLVED}},
        reason=note[:2000],
    )
    return locked
