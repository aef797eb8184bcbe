"""Writes for the alignment assessments: record one, correct one, record many at once (imports,
the demo), and keep each assessed leader's `alignment` exception in step with their latest
assessments.

The PMO and executives record and correct assessments (`decisions.permissions`). Every write is
atomic and audited; every field's message comes at once and nothing is written on a refusal.
After each write the affected leaders are re-judged (`alignment_exception_sync`): a low or
falling latest assessment in any of their departments raises or updates their `alignment`
exception (for the PMO: owned by a PMO member, at the PMO level, notified to the PMO); when none
is low or falling any more, it resolves, with the reason in its detail. The rules are in
docs/alignment.md, the arithmetic in `decisions.engine.alignment`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from decisions.engine import alignment as engine
from decisions.engine.alignment import quarter_label, quarter_start
from decisions.models import AlignmentAssessment
from govern import permissions as perms
from govern.audit import _actor_name, audited_create, audited_update, snapshot
from govern.choices import AuditAction
from govern.errors import ApplicationError
from govern.models import AuditEvent, Department, Membership, Person
from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus
from kpis.engine.severity import with_reach
from kpis.models import KpiException
from kpis.services import exceptions as plumbing
from kpis.services.governance import notify_leadership, pmo_owner_id

SCORES = engine.SCORES
FIELDS = ("leader", "department", "period", *SCORES, "resistance_notes")
REQUIRED = {
    "leader": "Choose the leader assessed.",
    "department": "Choose the department they lead.",
    "period": "Give the quarter assessed (any day of it).",
}
SCORE_MESSAGE = "Score it with a whole number from 1 to 5."
MAX_BULK = 5_000
NOTES_MAX = 10_000


def person_subject_key(person_id: int) -> str:
    return f"person:{person_id}"


# --- Validation ---------------------------------------------------------------------------------


def _score(value, field: str, errors: dict[str, list[str]]) -> int | None:
    if value in (None, ""):
        errors.setdefault(field, []).append(SCORE_MESSAGE)
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = None
    if number is None or not 1 <= number <= 5:
        errors.setdefault(field, []).append(SCORE_MESSAGE)
        return None
    return number


def _period(value, errors: dict[str, list[str]], today: dt.date) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    elif isinstance(value, str) and value.strip():
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            errors.setdefault("period", []).append(
                f"Enter the period as a date (YYYY-MM-DD); got {value!r}."
            )
            return None
    if not isinstance(value, dt.date):
        errors.setdefault("period", []).append(REQUIRED["period"])
        return None
    period = quarter_start(value)
    if period > today:
        errors.setdefault("period", []).append(
            f"{quarter_label(period)} has not started yet; assess a quarter that has begun."
        )
        return None
    return period


def _pk(value) -> int | None:
    if isinstance(value, models.Model):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class _Row:
    fields: dict[str, Any]
    errors: dict[str, list[str]]


def _validate(
    rows: Sequence[Mapping[str, Any]], *, instances: Sequence[AlignmentAssessment | None]
) -> list[_Row]:
    """Check every row at once: required fields, scores, the quarter, the leader's membership of
    the department and one assessment per leader, department and quarter (in the database and
    within the batch). Set-based: three queries whatever the number of rows."""
    today = timezone.localdate()
    checked: list[_Row] = []
    for data, instance in zip(rows, instances, strict=True):
        errors: dict[str, list[str]] = {}
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            errors["non_field_errors"] = [f"Unknown fields: {', '.join(unknown)}."]
        merged = {name: getattr(instance, name) for name in FIELDS} if instance else {}
        merged.update(data)
        fields: dict[str, Any] = {}
        for name in ("leader", "department"):
            fields[f"{name}_id"] = _pk(merged.get(name))
            if fields[f"{name}_id"] is None:
                errors.setdefault(name, []).append(REQUIRED[name])
        fields["period"] = _period(merged.get("period"), errors, today)
        for name in SCORES:
            fields[name] = _score(merged.get(name), name, errors)
        notes = str(merged.get("resistance_notes") or "").strip()
        if len(notes) > NOTES_MAX:
            errors.setdefault("resistance_notes", []).append(
                f"Keep the notes under {NOTES_MAX:,} characters."
            )
        fields["resistance_notes"] = notes
        checked.append(_Row(fields, errors))

    people = {
        pk: person
        for pk, person in Person.objects.in_bulk(
            {r.fields["leader_id"] for r in checked if r.fields["leader_id"]}
        ).items()
    }
    departments = Department.objects.in_bulk(
        {r.fields["department_id"] for r in checked if r.fields["department_id"]}
    )
    members = set(
        Membership.objects.filter(
            person_id__in=list(people), department_id__in=list(departments)
        ).values_list("person_id", "department_id")
    )
    keys = {
        (r.fields["period"], r.fields["leader_id"], r.fields["department_id"])
        for r in checked
        if None not in (r.fields["period"], r.fields["leader_id"], r.fields["department_id"])
    }
    taken: dict[tuple, int] = {}
    if keys:
        for pk, *key in AlignmentAssessment.objects.filter(
            period__in={k[0] for k in keys},
            leader_id__in={k[1] for k in keys},
            department_id__in={k[2] for k in keys},
        ).values_list("pk", "period", "leader_id", "department_id"):
            taken[tuple(key)] = pk
    seen: set[tuple] = set()
    for row, instance in zip(checked, instances, strict=True):
        fields, errors = row.fields, row.errors
        leader = people.get(fields["leader_id"])
        department = departments.get(fields["department_id"])
        if fields["leader_id"] is not None and leader is None:
            errors.setdefault("leader", []).append(f"No person {fields['leader_id']}.")
        if fields["department_id"] is not None and department is None:
            errors.setdefault("department", []).append(f"No department {fields['department_id']}.")
        if leader is not None and department is not None:
            if not leader.is_active:
                errors.setdefault("leader", []).append(f"{leader} is no longer active.")
            elif (leader.pk, department.pk) not in members:
                errors.setdefault("leader", []).append(
                    f"{leader} is not a member of {department}; assess one of its members."
                )
        fields["leader"], fields["department"] = leader, department
        key = (fields["period"], fields["leader_id"], fields["department_id"])
        if None not in key and not errors.get("leader"):
            clash = taken.get(key)
            if (clash is not None and (instance is None or clash != instance.pk)) or key in seen:
                errors.setdefault("period", []).append(
                    f"{leader} already has an assessment for {department} in "
                    f"{quarter_label(key[0])}; correct that one instead."
                )
            seen.add(key)
    return checked


def _raise_one(row: _Row) -> None:
    if row.errors:
        raise ValidationError(row.errors)


def _data(row: _Row) -> dict[str, Any]:
    fields = row.fields
    return {
        "leader": fields["leader"],
        "department": fields["department"],
        "period": fields["period"],
        **{name: fields[name] for name in SCORES},
        "resistance_notes": fields["resistance_notes"],
    }


# --- Writes -------------------------------------------------------------------------------------


@transaction.atomic
def assessment_record(
    *,
    actor: Person,
    leader: Person | int,
    department: Department | int,
    period: dt.date | str,
    understanding: int,
    commitment: int,
    resources: int,
    resistance_notes: str = "",
) -> AlignmentAssessment:
    """Record how aligned `leader` (a member of `department`) was in the quarter holding `period`
    (stored as its first day; not a quarter still to come): three scores 1–5 and notes on
    resistance. PMO and executives only. Re-judges the leader's alignment exception."""
    perms.ensure_can_add(actor, AlignmentAssessment)
    data = {
        "leader": leader, "department": department, "period": period,
        "understanding": understanding, "commitment": commitment, "resources": resources,
        "resistance_notes": resistance_notes,
    }  # fmt: skip
    (row,) = _validate([data], instances=[None])
    _raise_one(row)
    assessment = audited_create(
        AlignmentAssessment, actor=actor, data={**_data(row), "assessed_by": actor}
    )
    alignment_exception_sync(leader_ids=[assessment.leader_id])
    return assessment


@transaction.atomic
def assessment_update(
    *, actor: Person, assessment: AlignmentAssessment, data: Mapping[str, Any]
) -> AlignmentAssessment:
    """Correct an assessment: any of its fields, checked as when recorded. Re-judges the leader
    (and the previous leader, when it changes)."""
    perms.ensure_allowed(actor, perms.CHANGE, assessment)
    locked = (
        AlignmentAssessment.objects.select_for_update(of=("self",))
        .select_related("leader", "department")
        .get(pk=assessment.pk)
    )
    (row,) = _validate([dict(data)], instances=[locked])
    _raise_one(row)
    before_leader = locked.leader_id
    updated, _ = audited_update(locked, actor=actor, data=_data(row))
    alignment_exception_sync(leader_ids={before_leader, updated.leader_id})
    return updated


@transaction.atomic
def assessments_bulk_record(
    *, actor: Person | None, rows: Sequence[Mapping[str, Any]]
) -> list[AlignmentAssessment]:
    """Record many assessments at once, all or nothing: for imports and the demo. The same checks
    as `assessment_record` (raises ApplicationError listing every bad row in
    `details["rows"]`), one insert, one bulk of audit events and one exception sync for all
    the leaders: a fixed number of queries whatever the number of rows. `actor` None is the
    system (the demo); a person must be PMO or an executive."""
    if actor is not None:
        perms.ensure_can_add(actor, AlignmentAssessment)
    if len(rows) > MAX_BULK:
        raise ApplicationError(
            f"Too many rows: {len(rows):,}. Send at most {MAX_BULK:,} at a time.",
            code="too_many_rows",
        )
    checked = _validate(list(rows), instances=[None] * len(rows))
    bad = [
        {"row": index + 1, "field": name, "message": message}
        for index, row in enumerate(checked)
        for name, messages in row.errors.items()
        for message in messages
    ]
    if bad:
        raise ApplicationError(
            f"{len({b['row'] for b in bad})} of {len(rows)} rows are not valid; nothing was "
            "written.",
            code="invalid_rows",
            details={"rows": bad},
        )
    now = timezone.now()
    assessed_by = actor if actor is not None and actor.pk else None
    created = AlignmentAssessment.objects.bulk_create(
        [
            AlignmentAssessment(**_data(row), assessed_by=assessed_by, created_at=now)
            for row in checked
        ],
        batch_size=500,
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=assessed_by,
            actor_name=_actor_name(actor),
            action=AuditAction.CREATE,
            subject_type=AlignmentAssessment._meta.label_lower,
            subject_id=str(assessment.pk),
            subject_name=str(assessment)[:255],
            changes={name: {"old": None, "new": v} for name, v in snapshot(assessment).items()},
        )
        for assessment in created
    )
    alignment_exception_sync(leader_ids={a.leader_id for a in created})
    return created


# --- The alignment exceptions -------------------------------------------------------------------

ASSESSMENT_COLUMNS = [
    *engine.COLUMNS, "leader__first_name", "leader__last_name", "leader__username",
    "department__name",
]  # fmt: skip


@dataclass
class SyncReport:
    opened: int = 0
    updated: int = 0
    resolved: int = 0


def _name(row) -> str:
    full = f"{row['leader__first_name']} {row['leader__last_name']}".strip()
    return full or row["leader__username"]


def _concern_text(row, low: int) -> str:
    scores = ", ".join(f"{name} {int(row[name])}" for name in SCORES)
    reasons = []
    if row["low"]:
        reasons.append(f"low (a score at or below {low})")
    if row["falling"]:
        reasons.append(
            f"falling from {row['previous_score']:.2f} in "
            f"{quarter_label(row['previous_period'])} ({row['change']:+.2f})"
        )
    return (
        f"{row['department__name']}, {quarter_label(row['period'])}: {scores} "
        f"(mean {row['score']:.2f}): {' and '.join(reasons)}."
    )


def _fine_text(rows: pd.DataFrame) -> str:
    parts = [
        f"{row['department__name']}, {quarter_label(row['period'])}: mean {row['score']:.2f}"
        for _, row in rows.iterrows()
    ]
    return f"Resolved: the latest assessments are neither low nor falling ({'; '.join(parts)})."


@transaction.atomic
def alignment_exception_sync(
    *, leader_ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> SyncReport:
    """Raise, update or resolve the `alignment` exceptions of these leaders (every assessed
    leader when None) from their latest assessment in each department. Idempotent: a second run
    writes nothing. Set-based: a fixed number of queries whatever the number of leaders."""
    now = now or timezone.now()
    low, drop = settings.GOVERN_ALIGNMENT_LOW, settings.GOVERN_ALIGNMENT_DROP
    assessments = AlignmentAssessment.objects.all()
    existing_qs = KpiException.objects.select_for_update().filter(
        kind=ExceptionKind.ALIGNMENT, status__in=plumbing.UNRESOLVED
    )
    if leader_ids is not None:
        leader_ids = sorted({pk for pk in leader_ids if pk is not None})
        if not leader_ids:
            return SyncReport()
        assessments = assessments.filter(leader_id__in=leader_ids)
        existing_qs = existing_qs.filter(person_id__in=leader_ids)
    frame = pd.DataFrame.from_records(
        list(assessments.order_by().values_list(*ASSESSMENT_COLUMNS)), columns=ASSESSMENT_COLUMNS
    )
    latest = engine.latest(engine.evaluate(frame, low=low, drop=drop))
    existing = {e.person_id: e for e in existing_qs}
    concerns = latest[latest["concern"]] if not latest.empty else latest
    concerned = set(concerns["leader_id"].tolist()) if not concerns.empty else set()

    report = SyncReport()
    owner_id = pmo_owner_id() if concerned - set(existing) else None
    new: list[KpiException] = []
    changed: list[KpiException] = []
    events: list[AuditEvent] = []
    for leader_id, rows in concerns.groupby("leader_id", sort=True) if concerned else []:
        leader_id = int(leader_id)
        rows = rows.sort_values(["base", "period"], ascending=[False, False], kind="stable")
        worst = rows.iloc[0]
        detail = "\n\n".join(_concern_text(row, low) for _, row in rows.iterrows())
        base = float(np.max(rows["base"].to_numpy()))
        severity_base = float(engine.severity(base))
        exception = existing.get(leader_id)
        if exception is None:
            exception = KpiException(
                kind=ExceptionKind.ALIGNMENT,
                status=ExceptionStatus.OPEN,
                subject_key=person_subject_key(leader_id),
                person_id=leader_id,
                owner_id=owner_id,
                title=f"Alignment concern: {_name(worst)}"[:255],
                opened_at=now,
                decision_deadline=now
                + dt.timedelta(days=plumbing.deadline_days(ExceptionKind.ALIGNMENT)),
                escalation_level=EscalationLevel.PMO,
            )
            new.append(exception)
        before = (exception.detail, exception.department_id, exception.severity_base)
        exception.detail = detail
        exception.department_id = int(worst["department_id"])
        exception.period = rows["period"].max()
        exception.severity_base = severity_base
        exception.severity = float(with_reach(severity_base, exception.reach))
        if exception.pk is not None and before != (
            exception.detail,
            exception.department_id,
            exception.severity_base,
        ):
            exception.updated_at = now
            changed.append(exception)
            events.append(
                plumbing._event(
                    exception,
                    AuditAction.UPDATE,
                    {"detail": {"old": before[0], "new": detail}},
                    reason=detail[:2000],
                )
            )

    resolutions = []
    for leader_id, exception in existing.items():
        if leader_id in concerned:
            continue
        fine = latest[latest["leader_id"] == leader_id]
        reason = (
            _fine_text(fine)
            if not fine.empty
            else "Resolved: the leader has no assessment left to judge."
        )
        exception.detail = f"{exception.detail}\n\n{reason}".strip()
        resolutions.append(plumbing.Resolution(exception, reason))

    KpiException.objects.bulk_update(
        changed + [r.exception for r in resolutions],
        ["detail", "department", "period", "severity", "severity_base", "updated_at"],
        batch_size=500,
    )
    AuditEvent.objects.bulk_create(events)
    report.resolved = plumbing.resolve_exceptions(resolutions, now=now)
    created = plumbing.create_exceptions(new)
    plumbing.record_opened(created)
    report.opened, report.updated = len(created), len(changed)
    notify_leadership([*created, *changed], opened={e.pk for e in created}, executives=False)
    return report
