"""The effectiveness review: at its review date, did a decision move its KPI as it promised?

`decision_review_effectiveness(today=...)` (the nightly task `decisions.review_effectiveness`)
loads the decisions due for review set-based (a batch with its expected KPIs, then their
results: two queries), lets the pure engine (`decisions.engine.effectiveness`) judge them, and
writes each verdict in the transaction of its batch: the `effectiveness_reviewed` entry in the
hash chain (`decisions.chain.append`, with the figures as evidence) and the decision's
effectiveness, note and `reviewed_at`. The decider and the owner of the KPI are notified (in-app
in the transaction, email on commit). An ineffective decision whose exception is still
unresolved, and which is the latest decision taken on it, re-escalates the exception one level
(`kpis.services.exceptions.exception_reescalate`).

Idempotent: a reviewed decision is no longer pending, so a second run (or a duplicate task)
writes nothing; the batch re-reads its decisions under a row lock, so two runs at once never
review one decision twice. The rules are in docs/decision-effectiveness.md.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from decisions import chain
from decisions.choices import DecisionStatus, Effectiveness, LogEntryKind
from decisions.engine import effectiveness as engine
from decisions.models import Decision
from govern.choices import NotificationKind
from govern.notifications import Notice, notify_many
from kpis.choices import EscalationLevel, ExceptionStatus
from kpis.models import KpiResult
from kpis.services.exceptions import exception_reescalate

BATCH_SIZE = 500
REVIEW_FIELDS = ["effectiveness", "effectiveness_note", "reviewed_at"]
TITLES = {
    Effectiveness.EFFECTIVE: "Decision effective: {title}",
    Effectiveness.INEFFECTIVE: "Decision ineffective: {title}",
    Effectiveness.INCONCLUSIVE: "Decision review inconclusive (no data): {title}",
}
UNRESOLVED = (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED, ExceptionStatus.DECIDED)


@dataclass
class ReviewReport:
    """What one review run did."""

    reviewed: int = 0
    effective: int = 0
    ineffective: int = 0
    inconclusive: int = 0
    reescalated: int = 0
    decision_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def due_decisions(today: dt.date):
    """The decisions due for their effectiveness review on `today` (as `engine.due` says)."""
    return Decision.objects.filter(
        status=DecisionStatus.DECIDED,
        effectiveness=Effectiveness.PENDING,
        expected_kpi__isnull=False,
        expected_value__isnull=False,
        decided_on__isnull=False,
        review_date__lte=today,
    )


def decision_review_effectiveness(*, today: dt.date) -> ReviewReport:
    """Review every decision due on `today` (see the module docstring); returns what was done.
    Batches of BATCH_SIZE decisions, each in its own transaction."""
    report = ReviewReport()
    ids = list(due_decisions(today).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_SIZE):
        _review_batch(ids[start : start + BATCH_SIZE], today=today, report=report)
    return report


def _frame(decisions: list[Decision]) -> pd.DataFrame:
    """The decisions as the engine reads them (their expected KPI loaded with them)."""
    rows = [
        {
            "decision_id": d.pk,
            "kpi_id": d.expected_kpi_id,
            "kpi_code": d.expected_kpi.code,
            "direction": d.expected_kpi.direction,
            "band_low": d.expected_kpi.band_low,
            "band_high": d.expected_kpi.band_high,
            "tolerance_mode": d.expected_kpi.tolerance_mode,
            "unit": d.expected_kpi.unit,
            "expected_kind": d.expected_kind,
            "expected_value": d.expected_value,
            "decided_on": d.decided_on,
            "review_date": d.review_date,
            "status": d.status,
            "effectiveness": d.effectiveness,
        }
        for d in decisions
    ]
    return pd.DataFrame(rows, columns=engine.DECISION_COLUMNS)


def _results_frame(kpi_ids: list[int], until: dt.date) -> pd.DataFrame:
    """The computed periods of these KPIs up to `until` that carry an actual."""
    rows = (
        KpiResult.objects.filter(kpi_id__in=kpi_ids, period__lte=until)
        .exclude(actual=None)
        .order_by()
        .values_list(*engine.RESULT_COLUMNS)
    )
    return pd.DataFrame.from_records(list(rows), columns=engine.RESULT_COLUMNS)


@transaction.atomic
def _review_batch(ids: list[int], *, today: dt.date, report: ReviewReport) -> None:
    now = timezone.now()
    # Lock first, then read: a concurrent run waits here and then finds them reviewed.
    decisions = {
        d.pk: d
        for d in due_decisions(today)
        .filter(pk__in=ids)
        .select_for_update(of=("self",))
        .select_related("exception", "expected_kpi")
        .order_by("pk")
    }
    if not decisions:
        return
    results = _results_frame(
        sorted({d.expected_kpi_id for d in decisions.values()}),
        max(d.review_date for d in decisions.values()),
    )
    verdicts = engine.effectiveness(_frame(list(decisions.values())), results, today)
    reviewed = []
    for verdict in verdicts.to_dict("records"):
        decision = decisions[verdict["decision_id"]]
        decision.effectiveness = verdict["verdict"]
        decision.effectiveness_note = verdict["note"]
        decision.reviewed_at = now
        decision.save(update_fields=REVIEW_FIELDS)
        chain.append(
            kind=LogEntryKind.EFFECTIVENESS_REVIEWED,
            decision=decision,
            actor=None,
            payload=_payload(decision, verdict),
        )
        reviewed.append(decision)
    escalated = _reescalate(reviewed, now=now)
    _notify(reviewed, escalated)
    for decision in reviewed:
        report.reviewed += 1
        setattr(report, decision.effectiveness, getattr(report, decision.effectiveness) + 1)
        report.decision_ids.append(decision.pk)
    report.reescalated += len(escalated)


def _figure(value) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _payload(decision: Decision, verdict: dict) -> dict[str, Any]:
    """The review as logged: the verdict and note (checked by `verify_chain`) and the figures
    behind them, as evidence."""
    return {
        "effectiveness": decision.effectiveness,
        "note": decision.effectiveness_note,
        "reviewed_at": chain.iso_utc(decision.reviewed_at),
        "expected_kpi": decision.expected_kpi.code,
        "expected_kind": decision.expected_kind,
        "expected_value": decision.expected_value,
        "review_date": decision.review_date,
        **{
            name: _figure(verdict[name])
            for name in (
                "review_period",
                "review_actual",
                "review_adverse",
                "baseline_period",
                "baseline_actual",
                "baseline_adverse",
            )
        },
    }


def _reescalate(decisions: list[Decision], *, now: dt.datetime) -> dict[int, Any]:
    """Re-escalate the unresolved exceptions of the ineffective decisions that are the latest
    decision taken on their exception (a later one is still to be judged). Returns the
    re-escalated exceptions by decision id."""
    ineffective = [
        d
        for d in decisions
        if d.effectiveness == Effectiveness.INEFFECTIVE
        and d.exception_id is not None
        and d.exception.status in UNRESOLVED
    ]
    if not ineffective:
        return {}
    latest: dict[int, tuple] = {}
    for exception_id, decided_at, pk in Decision.objects.filter(
        exception_id__in={d.exception_id for d in ineffective},
        status=DecisionStatus.DECIDED,
        decided_at__isnull=False,
    ).values_list("exception_id", "decided_at", "pk"):
        latest[exception_id] = max(latest.get(exception_id, (decided_at, pk)), (decided_at, pk))
    escalated = {}
    for decision in ineffective:
        if latest.get(decision.exception_id, (None, decision.pk))[1] != decision.pk:
            continue
        exception = exception_reescalate(
            exception=decision.exception,
            reason=f"Decision D-{decision.pk} proved ineffective",
            now=now,
        )
        if exception is not None:
            escalated[decision.pk] = exception
    return escalated


def _notify(reviewed: list[Decision], escalated: dict[int, Any]) -> None:
    """Tell the decider and the owner of the KPI the decision was meant to move."""
    notices = []
    for decision in reviewed:
        recipients = {decision.decided_by_id, decision.expected_kpi.owner_id} - {None}
        if not recipients:
            continue
        body = [decision.effectiveness_note]
        exception = escalated.get(decision.pk)
        if exception is not None:
            level = EscalationLevel(exception.escalation_level).label
            body.append(
                f"Its exception “{exception.title}” needs a new decision and is escalated to "
                f"{level}."
            )
        notices.append(
            Notice(
                recipients=recipients,
                kind=NotificationKind.DECISION_REVIEWED,
                title=TITLES[decision.effectiveness].format(title=decision.title),
                body="\n\n".join(body),
                link=decision.get_absolute_url(),
                subject=decision,
            )
        )
    notify_many(notices)
