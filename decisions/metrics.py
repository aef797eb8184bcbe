"""Decision metrics for one user: decision latency (exception opened → first decision) per
department and per month, the share of exceptions decided within their deadline, and the share
of reviewed decisions that proved effective. Set-based: a handful of queries whatever the number
of rows, the arithmetic in `decisions.engine.metrics`. The definitions are in
docs/decision-effectiveness.md.

What a user may see scopes what is counted: the exceptions they may see
(`kpis.permissions`), the decisions they may see (`decisions.permissions`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import CharField, Min, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone

from decisions.engine import metrics as engine
from decisions.models import Decision
from govern.choices import AuditAction
from govern.models import AuditEvent, Department
from kpis.models import KpiException

MAX_MONTHS = 60
DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class MetricsFilters:
    """What to count: exceptions opened and decisions due for review from `start` to `end`
    (local dates, both included), of one department or of every department the user may see."""

    start: dt.date
    end: dt.date
    department: Department | None = None


@dataclass(frozen=True)
class Summary:
    exceptions: int
    decided: int
    latency_median: float | None
    latency_p90: float | None
    decided_in_time: int
    deadline_due: int
    within_deadline_share: float | None
    reviewed: int
    effective: int
    ineffective: int
    inconclusive: int
    effective_share: float | None

    @property
    def latency_days(self) -> dict[str, Any]:
        return {"median": self.latency_median, "p90": self.latency_p90, "count": self.decided}

    @property
    def within_deadline(self) -> dict[str, Any]:
        return {
            "in_time": self.decided_in_time,
            "due": self.deadline_due,
            "share": self.within_deadline_share,
        }

    @property
    def effectiveness(self) -> dict[str, Any]:
        return {
            "reviewed": self.reviewed,
            "effective": self.effective,
            "ineffective": self.ineffective,
            "inconclusive": self.inconclusive,
            "share": self.effective_share,
        }


@dataclass(frozen=True)
class DepartmentSummary:
    department: Department
    summary: Summary


@dataclass(frozen=True)
class MonthSummary:
    month: str  # YYYY-MM
    summary: Summary


@dataclass(frozen=True)
class DecisionMetrics:
    filters: MetricsFilters
    overall: Summary
    departments: list[DepartmentSummary]
    months: list[MonthSummary]


# --- Parameters -------------------------------------------------------------------------------


def _first_of_month(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _date(params: Mapping[str, Any], name: str, errors: dict) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = [f"Enter a date as YYYY-MM-DD, e.g. 2026-01-31; got {raw!r}."]
        return None


def metrics_filters(*, user, params: Mapping[str, Any], today: dt.date) -> MetricsFilters:
    """Read `department` (an id), `from` and `to` (ISO dates) from request parameters. By
    default the twelve months up to `today`. Bad values raise a ValidationError with a message
    per field; a department the user may not see is refused like one that does not exist."""
    errors: dict[str, list[str]] = {}
    department = None
    raw = (params.get("department") or "").strip()
    if raw:
        if not raw.isdigit():
            errors["department"] = [f"Enter a department id (a whole number); got {raw!r}."]
        else:
            department = Department.objects.restrict(user).filter(pk=int(raw)).first()
            if department is None:
                errors["department"] = [f"There is no department {raw} that you may see."]
    start, end = _date(params, "from", errors), _date(params, "to", errors)
    if errors:
        raise ValidationError(errors)
    end = end or (today if start is None else max(today, start))
    start = start or _first_of_month(end, DEFAULT_MONTHS - 1)
    if start > end:
        raise ValidationError({"to": ["The end (`to`) must be on or after the start (`from`)."]})
    if len(engine.months(start, end)) > MAX_MONTHS:
        raise ValidationError(
            {"from": [f"Ask for at most {MAX_MONTHS} months at a time; narrow `from`–`to`."]}
        )
    return MetricsFilters(start=start, end=end, department=department)


# --- The metrics ------------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _original_deadline() -> Subquery:
    """The decision deadline an exception was given at opening: the old deadline of its first
    escalation, if it was escalated (escalations move the deadline)."""
    first_escalation = AuditEvent.objects.filter(
        subject_type=KpiException._meta.label_lower,
        subject_id=Cast(OuterRef("pk"), CharField()),
        action=AuditAction.ESCALATE,
    ).order_by("occurred_at", "id")
    return Subquery(first_escalation.values("changes__decision_deadline__old")[:1])


def _exception_frame(user, filters: MetricsFilters) -> pd.DataFrame:
    queryset = KpiException.objects.restrict(user).filter(
        opened_at__gte=_local_midnight(filters.start),
        opened_at__lt=_local_midnight(filters.end + dt.timedelta(days=1)),
    )
    if filters.department is not None:
        queryset = queryset.filter(department=filters.department)
    rows = list(
        queryset.order_by()
        .annotate(
            first_decided_at=Min("decisions__decided_at"), escalated_from=_original_deadline()
        )
        .values_list(
            "pk",
            "department_id",
            "opened_at",
            "decision_deadline",
            "escalated_from",
            "first_decided_at",
            "resolved_at",
        )
    )
    columns = ["exception_id", "department_id", "opened_at", "current_deadline", "escalated_from"]
    frame = pd.DataFrame.from_records(rows, columns=[*columns, "first_decided_at", "resolved_at"])
    for column in ("opened_at", "current_deadline", "first_decided_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    escalated_from = pd.to_datetime(frame["escalated_from"], utc=True, format="ISO8601")
    frame["deadline"] = escalated_from.fillna(frame["current_deadline"])
    return frame[engine.EXCEPTION_COLUMNS]


def _decision_frame(user, filters: MetricsFilters) -> pd.DataFrame:
    queryset = Decision.objects.restrict(user).filter(
        review_date__gte=filters.start, review_date__lte=filters.end
    )
    if filters.department is not None:
        queryset = queryset.filter(department=filters.department)
    rows = queryset.order_by().values_list("pk", "department_id", "review_date", "effectiveness")
    return pd.DataFrame.from_records(list(rows), columns=engine.DECISION_COLUMNS)


def _summaries(frame: pd.DataFrame) -> dict[Any, Summary]:
    out = {}
    for key, row in zip(frame.index, frame.to_dict("records"), strict=True):
        values = {
            name: (None if pd.isna(value) else value.item() if hasattr(value, "item") else value)
            for name, value in row.items()
        }
        out[key] = Summary(**values)
    return out


def decision_metrics(
    *, user, filters: MetricsFilters, now: dt.datetime | None = None
) -> DecisionMetrics:
    """The metrics of what `user` may see under `filters`, overall, per department (those with
    exceptions or decisions in the range, by name) and per month of the range (every month,
    empty ones counting zero)."""
    now = now or timezone.now()
    exceptions = engine.exception_facts(
        _exception_frame(user, filters), now, zone=settings.TIME_ZONE
    )
    decisions = engine.decision_facts(_decision_frame(user, filters))
    overall = _summaries(engine.summarise(exceptions, decisions))[0]
    department_ids = {int(pk) for pk in (*exceptions["department_id"], *decisions["department_id"])}
    departments = list(Department.objects.filter(pk__in=department_ids).order_by("name", "pk"))
    per_department = _summaries(
        engine.summarise(
            exceptions, decisions, by="department_id", keys=[d.pk for d in departments]
        )
    )
    month_keys = engine.months(filters.start, filters.end)
    per_month = _summaries(engine.summarise(exceptions, decisions, by="month", keys=month_keys))
    return DecisionMetrics(
        filters=filters,
        overall=overall,
        departments=[DepartmentSummary(d, per_department[d.pk]) for d in departments],
        months=[MonthSummary(month, per_month[month]) for month in month_keys],
    )
