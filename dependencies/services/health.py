"""The contracts' health monitor: derive each contract in force's health (agreed, at risk or
breached) from its service-level KPI, its provider milestones and its due date, write it, and
raise the `contract_at_risk` / `contract_breached` exceptions into the exception lifecycle.

Set-based: a handful of queries whatever the number of contracts (the contracts with their
consumer objective weights, the service KPIs' recent results, the provider milestones, the
unresolved contract exceptions), then bulk writes of only what changed; a second run with the
same inputs writes nothing. The pure rules are `dependencies.engine.health`; the rules, settings
and severity are in `docs/contract-health.md`.

Runs inside the KPI recompute's transaction (the `kpis_recomputed` receiver, for the contracts
whose service level the recomputed KPIs measure), in the nightly sweep (every contract in force,
for the time-based rules) and as the `dependencies.health_sync` task after a contract is agreed,
amended, fulfilled or cancelled (`schedule_contract_health`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from dependencies.choices import IN_FORCE, ContractStatus
from dependencies.engine.health import contract_health, red_streaks
from dependencies.models import Contract
from dependencies.services.ripple import schedule_ripple_sync
from govern.choices import AuditAction
from govern.models import AuditEvent, Objective
from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus
from kpis.engine.severity import severity as severity_of
from kpis.models import KpiException
from kpis.services import exceptions as plumbing
from kpis.services import notifications
from kpis.services.measurements import update_by_pk

CONTRACT_KINDS = (ExceptionKind.CONTRACT_AT_RISK, ExceptionKind.CONTRACT_BREACHED)
KIND_OF_HEALTH = {
    ContractStatus.AT_RISK: ExceptionKind.CONTRACT_AT_RISK,
    ContractStatus.BREACHED: ExceptionKind.CONTRACT_BREACHED,
}
TITLES = {
    ExceptionKind.CONTRACT_AT_RISK: "{code} is at risk: {title}",
    ExceptionKind.CONTRACT_BREACHED: "{code} is breached: {title}",
}
CLOSED_REASONS = {
    ContractStatus.FULFILLED: "The contract was fulfilled.",
    ContractStatus.CANCELLED: "The contract was cancelled.",
}
HEALTH_FIELDS = [
    "status", "health_reason", "red_streak", "health_checked_at", "revision", "updated_at",
]  # fmt: skip
# The red streak is counted over at most this many latest periods (or the breach count, if more).
STREAK_WINDOW = 12
MAX_STREAK = 32767
WRITE_BATCH_SIZE = 4_000  # contracts per UPDATE (7 parameters each)
CONTRACT_COLUMNS = [
    "id", "code", "title", "status", "revision", "due_date", "service_kpi_id",
    "service_comparison", "service_threshold", "criticality", "provider_department_id",
    "provider_owner_id", "health_reason", "red_streak", "health_checked_at",
    "service_kpi__code", "service_kpi__forecast_status", "weight_initiatives",
    "weight_milestones", "weight_kpis",
]  # fmt: skip


@dataclass
class HealthReport:
    contracts: int = 0  # contracts in force checked
    changed: int = 0  # contracts whose health (status, reason, red streak) was written
    status_changed: int = 0
    at_risk: int = 0  # among those checked, after the sync
    breached: int = 0
    exceptions_opened: int = 0
    exceptions_resolved: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def contract_subject_key(contract_id: int) -> str:
    return f"contract:{contract_id}"


@transaction.atomic
def contract_health_sync(
    *,
    today: dt.date,
    kpi_ids: list[int] | None = None,
    contract_ids: list[int] | None = None,
) -> HealthReport:
    """Re-check the health of the contracts in force: all of them when both `kpi_ids` and
    `contract_ids` are None (the full run, time-based rules included); those whose service-level
    KPI is among `kpi_ids`; those among `contract_ids` (whose exceptions are resolved if they are
    no longer in force). Writes status, reason and red streak where they changed, an audit event
    per status change, and opens, updates or resolves their exceptions. Idempotent."""
    report = HealthReport()
    if (kpi_ids is not None and not kpi_ids) or (contract_ids is not None and not contract_ids):
        return report
    now = timezone.now()
    rows = _contracts(kpi_ids, contract_ids)
    report.contracts = len(rows)
    if kpi_ids is not None and rows.empty:
        return report  # no contract's service level is measured by these KPIs: one query
    health = _health(rows, kpi_ids, contract_ids, today)

    changed_status = _write_health(rows, health, now, report)
    created, resolved = _sync_exceptions(
        rows, health, kpi_ids=kpi_ids, contract_ids=contract_ids, today=today, now=now
    )
    report.exceptions_opened, report.exceptions_resolved = len(created), resolved
    report.at_risk = int((health["health"] == ContractStatus.AT_RISK).sum())
    report.breached = int((health["health"] == ContractStatus.BREACHED).sum())

    notifications.notify_on_commit(notifications.OPENED, [e.pk for e in created])
    touched = {e.subject_key for e in created} | {contract_subject_key(i) for i in changed_status}
    if touched:
        schedule_ripple_sync(subject_keys=sorted(touched))
    return report


def schedule_contract_health(contract_ids: Iterable[int]) -> None:
    """Re-check these contracts' health on a worker once the current transaction commits: after
    a contract is agreed, amended, fulfilled or cancelled. Nothing is queued on a rollback."""
    from dependencies.tasks import contract_health_sync as task

    ids = sorted(set(contract_ids))
    if ids:
        task.delay_on_commit(contract_ids=ids)


# --- Reading the state ----------------------------------------------------------------------


def _max_weight(path: str) -> Subquery:
    """The highest weight of the objectives reached from the contract through `path`."""
    objectives = Objective.objects.filter(**{path: OuterRef("pk")}).order_by("-weight")
    return Subquery(objectives.values("weight")[:1])


def _contracts(kpi_ids: list[int] | None, contract_ids: list[int] | None) -> pd.DataFrame:
    """The contracts in scope, locked (a fulfilment or an amendment waits for the sync, and the
    sync sees it once committed), with what the rules and the severity need: one query."""
    queryset = Contract.objects.in_force().select_for_update(of=("self",))
    if kpi_ids is not None:
        queryset = queryset.filter(service_kpi_id__in=list(kpi_ids))
    if contract_ids is not None:
        queryset = queryset.filter(pk__in=list(contract_ids))
    queryset = queryset.annotate(
        weight_initiatives=_max_weight("initiatives__dependent_contracts"),
        weight_milestones=_max_weight("initiatives__milestones__dependent_contracts"),
        weight_kpis=_max_weight("kpis__dependent_contracts"),
    ).order_by("pk")
    frame = pd.DataFrame.from_records(
        list(queryset.values_list(*CONTRACT_COLUMNS)), columns=CONTRACT_COLUMNS
    )
    frame["objective_weight"] = frame[
        ["weight_initiatives", "weight_milestones", "weight_kpis"]
    ].max(axis=1)
    return frame.set_index("id", drop=False)


def _kpi_state(rows: pd.DataFrame) -> pd.DataFrame:
    """The service KPIs' latest evaluated period (status, period, actual), the forecast status
    of their next period and their red streak: one query for the recent results."""
    source = ["service_kpi_id", "service_kpi__code", "service_kpi__forecast_status"]
    kpis = (
        rows.loc[rows["service_kpi_id"].notna(), source]
        .set_axis(["kpi_id", "code", "forecast_status"], axis=1)
        .drop_duplicates("kpi_id")
        .astype({"kpi_id": "int64"})
    )
    if kpis.empty:
        return kpis
    window = max(settings.GOVERN_CONTRACT_BREACH_RED_PERIODS, STREAK_WINDOW)
    recent = plumbing.recent_results(kpis["kpi_id"].tolist(), window)
    latest = recent[recent["rank"] == 1].set_index("kpi_id")
    state = kpis.set_index("kpi_id")
    state["latest_status"] = latest["status"]
    state["latest_period"] = latest["period"]
    state["latest_actual"] = latest["actual"]
    state["red_streak"] = red_streaks(recent).reindex(state.index).fillna(0).astype("int64")
    return state.reset_index()


def _milestones(kpi_ids: list[int] | None, contract_ids: list[int] | None) -> pd.DataFrame:
    """The provider milestones of the contracts in scope: one query."""
    columns = ["contract_id", "name", "due_date", "status"]
    queryset = Contract.provider_milestones.through.objects.filter(contract__status__in=IN_FORCE)
    if kpi_ids is not None:
        queryset = queryset.filter(contract__service_kpi_id__in=list(kpi_ids))
    if contract_ids is not None:
        queryset = queryset.filter(contract_id__in=list(contract_ids))
    return pd.DataFrame.from_records(
        list(
            queryset.values_list(
                "contract_id", "milestone__name", "milestone__due_date", "milestone__status"
            )
        ),
        columns=columns,
    )


def _health(rows: pd.DataFrame, kpi_ids, contract_ids, today: dt.date) -> pd.DataFrame:
    """The engine's verdict per contract in scope (indexed by contract id)."""
    return contract_health(
        rows.reset_index(drop=True),
        _kpi_state(rows),
        _milestones(kpi_ids, contract_ids) if not rows.empty else pd.DataFrame(),
        today=today,
        due_soon_days=settings.GOVERN_CONTRACT_DUE_SOON_DAYS,
        breach_red_periods=settings.GOVERN_CONTRACT_BREACH_RED_PERIODS,
    )


# --- Writing the contracts ------------------------------------------------------------------


def _write_health(
    rows: pd.DataFrame, health: pd.DataFrame, now: dt.datetime, report: HealthReport
) -> list[int]:
    """Write status, reason and red streak of the contracts where they changed (a status
    change also bumps the revision, the ETag, and is audited). Returns the ids whose status
    changed."""
    if rows.empty:
        return []
    merged = rows.join(health, suffixes=("", "_new"))
    streak = merged["red_streak_new"].clip(upper=MAX_STREAK).astype("int64")
    status_changed = merged["status"] != merged["health"]
    changed = (
        status_changed
        | (merged["health_reason"] != merged["reason"])
        | (merged["red_streak"] != streak)
        | merged["health_checked_at"].isna()
    )
    merged = merged[changed].assign(
        red_streak_new=streak[changed],
        revision=merged.loc[changed, "revision"] + status_changed[changed].astype("int64"),
    )
    columns = ["id", "health", "reason", "red_streak_new", "revision"]
    updates = [
        (int(pk), health_, reason, int(red_streak), now, int(revision), now)
        for pk, health_, reason, red_streak, revision in merged[columns].itertuples(index=False)
    ]
    for start in range(0, len(updates), WRITE_BATCH_SIZE):
        update_by_pk(Contract, HEALTH_FIELDS, updates[start : start + WRITE_BATCH_SIZE])
    moved = merged[merged["status"] != merged["health"]]
    AuditEvent.objects.bulk_create(
        _health_event(pk, code, title, old, new, reason, now)
        for pk, code, title, old, new, reason in moved[
            ["id", "code", "title", "status", "health", "reason"]
        ].itertuples(index=False)
    )
    report.changed, report.status_changed = len(updates), len(moved)
    return moved["id"].astype("int64").tolist()


def _health_event(pk, code, title, old, new, reason, now: dt.datetime) -> AuditEvent:
    if new == ContractStatus.AGREED:
        reason = "Healthy again: no health rule applies any more."
    return AuditEvent(
        actor=None,
        actor_name="system",
        action=AuditAction.HEALTH,
        subject_type=Contract._meta.label_lower,
        subject_id=str(pk),
        subject_name=f"{code} — {title}"[:255],
        changes={"status": {"old": old, "new": new}},
        reason=reason,
        occurred_at=now,
    )


# --- The exceptions -------------------------------------------------------------------------


def _existing(kpi_ids, contract_ids, rows: pd.DataFrame) -> list[KpiException]:
    """The unresolved contract exceptions in scope, locked, with their contract's status."""
    queryset = (
        KpiException.objects.select_for_update(of=("self",))
        .filter(kind__in=CONTRACT_KINDS, status__in=plumbing.UNRESOLVED)
        .annotate(
            contract_status=Subquery(
                Contract.objects.filter(pk=OuterRef("contract_id")).values("status")[:1]
            )
        )
    )
    if kpi_ids is not None:
        queryset = queryset.filter(contract_id__in=rows["id"].tolist())
    elif contract_ids is not None:
        queryset = queryset.filter(contract_id__in=list(contract_ids))
    return list(queryset.order_by("pk"))


def _sync_exceptions(
    rows: pd.DataFrame,
    health: pd.DataFrame,
    *,
    kpi_ids,
    contract_ids,
    today: dt.date,
    now: dt.datetime,
) -> tuple[list[KpiException], int]:
    """Open, update, supersede and resolve the contracts' exceptions. Returns (created,
    resolved)."""
    existing = _existing(kpi_ids, contract_ids, rows)
    before = plumbing.sync_values(existing)
    verdicts = health.to_dict("index")
    resolutions, kept = [], []
    for exception in existing:
        verdict = verdicts.get(exception.contract_id)
        reason = _resolution(exception, verdict)
        if reason is None:
            kept.append(exception)
        else:
            resolutions.append(plumbing.Resolution(exception, reason))
    open_keys = {(e.contract_id, e.kind) for e in kept}
    new = []
    for contract_id, verdict in verdicts.items():
        kind = KIND_OF_HEALTH.get(verdict["health"])
        if kind is not None and (contract_id, kind) not in open_keys:
            new.append(_new_exception(kind, rows.loc[contract_id], now))
    for exception in kept + new:
        verdict = verdicts[exception.contract_id]
        exception.detail = verdict["reason"]
        exception.period = verdict["period"]
    _score(kept + new, rows, today=today)

    resolved = plumbing.resolve_exceptions(resolutions, now=now)
    plumbing.save_changed(kept, before, now=now)
    created = plumbing.create_exceptions(new)
    plumbing.record_opened(created)
    return created, resolved


def _resolution(exception: KpiException, verdict: dict | None) -> str | None:
    """Why this unresolved contract exception resolves now (None: it stays)."""
    if verdict is None:
        return CLOSED_REASONS.get(exception.contract_status, "The contract is no longer in force.")
    wanted = KIND_OF_HEALTH.get(verdict["health"])
    if wanted is None:
        return "Back to agreed: the contract is healthy again."
    if wanted == exception.kind:
        return None
    if wanted == ExceptionKind.CONTRACT_BREACHED:
        return "Worsened to breached: superseded by the breached exception."
    return "Improved to at risk: superseded by the at-risk exception."


def _new_exception(kind: str, row: pd.Series, now: dt.datetime) -> KpiException:
    contract_id = int(row["id"])
    return KpiException(
        kind=kind,
        status=ExceptionStatus.OPEN,
        subject_key=contract_subject_key(contract_id),
        contract_id=contract_id,
        department_id=int(row["provider_department_id"]),
        owner_id=int(row["provider_owner_id"]),
        title=TITLES[kind].format(code=row["code"], title=row["title"])[:255],
        opened_at=now,
        decision_deadline=now + dt.timedelta(days=plumbing.deadline_days(kind)),
        escalation_level=EscalationLevel.OWNER,
    )


def _score(exceptions: list[KpiException], rows: pd.DataFrame, *, today: dt.date) -> None:
    """Base severity (kind × contract criticality × consumer objective weight + age) in one
    vectorised pass; the severity keeps each exception's stored ripple reach."""
    if not exceptions:
        return
    ids = [e.contract_id for e in exceptions]
    frame = pd.DataFrame(
        {
            "kind": [e.kind for e in exceptions],
            "criticality": rows.loc[ids, "criticality"].to_numpy(),
            "objective_weight": rows.loc[ids, "objective_weight"].to_numpy(),
            "days_open": [plumbing.days_open(e, today) for e in exceptions],
        }
    )
    plumbing.set_severity(exceptions, severity_of(frame))
