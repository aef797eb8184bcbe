"""The ripple sync: each unresolved exception carries how far its trouble travels downstream.

For every unresolved `kpis.KpiException` (on some subjects, or all), the ripple of its subject
node (its `subject_key`: "kpi:<id>", "milestone:<id>", "contract:<id>") in the dependency graph
gives `reach`, `reach_departments` (departments touched other than the exception's own),
`reach_objectives`, `tradeoff_required` (the ripple crosses into another department) and so the
final severity, `with_reach(severity_base, reach)`. One locked read (`select_for_update`), the
summaries of every subject at once (`engine.ripple.summarize`), and one set-based UPDATE of only
the changed rows (`UPDATE … FROM (VALUES …)`): a second run writes nothing. A flip of
`tradeoff_required` is audited. The formula is in `docs/ripple.md`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from dependencies.engine.ripple import summarize
from govern.choices import AuditAction
from govern.models import AuditEvent
from kpis.choices import ExceptionKind, ExceptionStatus
from kpis.engine.severity import with_reach
from kpis.models import KpiException
from kpis.services.measurements import update_by_pk

UNRESOLVED = (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED, ExceptionStatus.DECIDED)
# Signals about the plan's integrity and about people, not trouble that travels downstream: they
# keep the severity their own rules give them and never ask for a trade-off decision.
WITHOUT_RIPPLE = (ExceptionKind.GOVERNANCE, ExceptionKind.ALIGNMENT)
REACH_FIELDS = ("reach", "reach_departments", "reach_objectives", "tradeoff_required", "severity")
WRITE_BATCH_SIZE = 4_000  # exceptions per UPDATE (7 parameters each)


@dataclass
class RippleReport:
    exceptions: int = 0  # unresolved exceptions looked at
    updated: int = 0  # rows whose reach (or severity) changed
    tradeoffs_flagged: int = 0  # now need a trade-off decision
    tradeoffs_cleared: int = 0  # no longer do
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@transaction.atomic
def ripple_sync(*, subject_keys: list[str] | None = None) -> RippleReport:
    """Write the ripple reach of the unresolved exceptions on these subjects (all when None)
    and re-derive their severity. Idempotent: an unchanged graph writes nothing."""
    from dependencies.graph import graph

    started = time.perf_counter()
    report = RippleReport()
    queryset = (
        KpiException.objects.select_for_update()
        .filter(status__in=UNRESOLVED)
        .exclude(kind__in=WITHOUT_RIPPLE)
    )
    if subject_keys is not None:
        keys = sorted(set(subject_keys))
        if not keys:
            return report
        queryset = queryset.filter(subject_key__in=keys)
    rows = list(
        queryset.order_by("pk").values_list(
            "pk", "title", "subject_key", "department_id", "severity_base", *REACH_FIELDS
        )
    )
    report.exceptions = len(rows)
    if not rows:
        return report

    index = graph().index
    starts = sorted({row[2] for row in rows if row[2] in index})
    summaries = {s.start: s for s in summarize(index, starts)}
    reach = [summaries[row[2]].reach if row[2] in summaries else 0.0 for row in rows]
    severity = with_reach([row[4] for row in rows], reach).tolist()

    now = timezone.now()
    changed: list[tuple] = []
    events: list[AuditEvent] = []
    for (pk, title, subject_key, department, _, *before), value, score in zip(
        rows, reach, severity, strict=True
    ):
        summary = summaries.get(subject_key)
        others = (summary.departments - {department}) if summary else frozenset()
        wanted = (
            float(value),
            len(others),
            summary.counts.get("objective", 0) if summary else 0,
            bool(others),
            float(score),
        )
        if wanted == tuple(before):
            continue
        if wanted[3] != before[3]:
            events.append(_tradeoff_event(pk, title, wanted[3], len(others)))
            if wanted[3]:
                report.tradeoffs_flagged += 1
            else:
                report.tradeoffs_cleared += 1
        changed.append((pk, *wanted, now))
    # One UPDATE … FROM (VALUES …) per batch of changed rows, not a CASE per row and field.
    for first in range(0, len(changed), WRITE_BATCH_SIZE):
        update_by_pk(
            KpiException, [*REACH_FIELDS, "updated_at"], changed[first : first + WRITE_BATCH_SIZE]
        )
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    report.updated = len(changed)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _tradeoff_event(pk: int, title: str, required: bool, departments: int) -> AuditEvent:
    if required:
        reason = (
            f"Its ripple reaches {departments} other department"
            f"{'' if departments == 1 else 's'}: a trade-off decision is required."
        )
    else:
        reason = "Its ripple no longer reaches another department."
    return AuditEvent(
        actor=None,
        actor_name="system",
        action=AuditAction.UPDATE,
        subject_type=KpiException._meta.label_lower,
        subject_id=str(pk),
        subject_name=title[:255],
        changes={"tradeoff_required": {"old": not required, "new": required}},
        reason=reason,
    )


# --- Scheduling ---------------------------------------------------------------------------------


def schedule_ripple_sync(subject_keys: list[str] | None = None) -> None:
    """Enqueue the ripple sync (`dependencies.ripple_sync`) of these subjects (all when None)
    once the current transaction commits; nothing if it rolls back. A full sync is queued at
    most once per transaction, and makes the subject syncs queued with it redundant."""
    keys = None if subject_keys is None else sorted(set(subject_keys))
    if keys == []:
        return
    connection = transaction.get_connection()
    queued = connection.in_atomic_block and _queued(connection, _enqueue_full)
    if queued:
        return
    if keys is None:
        transaction.on_commit(_enqueue_full)
    else:
        transaction.on_commit(lambda: _enqueue(keys))


def _enqueue(subject_keys: list[str] | None) -> None:
    from dependencies.tasks import ripple_sync as task

    task.delay(subject_keys=subject_keys)


def _enqueue_full() -> None:
    _enqueue(None)


def _queued(connection, callback) -> bool:
    return any(entry[1] is callback for entry in connection.run_on_commit)
