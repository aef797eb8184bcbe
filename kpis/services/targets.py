"""Target trajectories: the planned value of a KPI per period, in a plan version.

`targets_set` is the one write path (API and pages): it validates every period and value, writes
set-based (new rows in one insert, changed rows in one update, unchanged rows untouched), records
one audit event per KPI with the old and new value of each changed period and the reason, and
asks the workers to recompute the KPI once the transaction commits."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from govern import permissions as perms
from govern.audit import record
from govern.choices import AuditAction, PlanVersionStatus
from govern.errors import ApplicationError, ConflictError
from govern.models import Person, PlanVersion
from kpis.models import Kpi, Target
from kpis.periods import is_period_start, not_a_period_start_message

REASON_REQUIRED = "Give a reason for changing the targets; it is kept in the KPI's history."
NO_VALUES = "Give at least one period and its target value."
NO_CURRENT_PLAN = (
    "There is no approved plan version yet: approve one, or name the draft plan version these "
    "targets belong to."
)
FROZEN = "superseded plan versions are frozen"
PROPOSED = "its targets stay as proposed while it waits for an executive's approval"


@dataclass
class TargetReport:
    kpi_id: int
    plan_version_id: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "kpi": self.kpi_id,
            "plan_version": self.plan_version_id,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "changes": self.changes,
        }


def _plan_version_for(plan_version: PlanVersion | None) -> PlanVersion:
    """The version to write into, re-read under a lock so an approval cannot slip in between."""
    if plan_version is None:
        current = (
            PlanVersion.objects.select_for_update()
            .filter(status=PlanVersionStatus.APPROVED)
            .first()
        )
        if current is None:
            raise ApplicationError(
                NO_CURRENT_PLAN, code="no_current_plan", fields={"plan_version": [NO_CURRENT_PLAN]}
            )
        return current
    locked = PlanVersion.objects.select_for_update().filter(pk=plan_version.pk).first()
    if locked is None:
        raise ConflictError("This plan version no longer exists.", code="gone")
    refusal = targets_refusal(locked)
    if refusal is not None:
        raise refusal
    return locked


def targets_refusal(plan_version: PlanVersion) -> ConflictError | None:
    """Why the targets of `plan_version` cannot be set (proposed: waiting for approval;
    superseded: frozen), as `targets_set` refuses it; None when they can. The target pages check
    it before showing their form."""
    if plan_version.status == PlanVersionStatus.SUPERSEDED:
        message = (
            f"{plan_version.name} is superseded: {FROZEN}. Set targets in the current plan or in "
            "a draft."
        )
        return ConflictError(
            message, code="plan_version_frozen", fields={"plan_version": [message]}
        )
    if plan_version.status == PlanVersionStatus.PROPOSED:
        message = (
            f"{plan_version.name} is proposed for approval: {PROPOSED}. Withdraw it to draft to "
            "change its targets."
        )
        return ConflictError(
            message, code="plan_version_proposed", fields={"plan_version": [message]}
        )
    return None


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def _validated(kpi: Kpi, values: dict) -> dict[dt.date, float]:
    """Every period a period start for the KPI's frequency, every value a finite number; all the
    problems at once, under the `targets` field."""
    if not values:
        raise ValidationError({"targets": NO_VALUES})
    errors: list[str] = []
    clean: dict[dt.date, float] = {}
    for raw_period, raw_value in values.items():
        try:
            period = _as_date(raw_period)
        except (TypeError, ValueError):
            errors.append(f"{raw_period} is not a date; use YYYY-MM-DD.")
            continue
        if not is_period_start(period, kpi.frequency):
            errors.append(not_a_period_start_message(period, kpi.frequency))
            continue
        try:
            value = float(raw_value)
        except (TypeError, ValueError):
            errors.append(f"{period.isoformat()}: {raw_value!r} is not a number.")
            continue
        if not math.isfinite(value):
            errors.append(f"{period.isoformat()}: enter a finite number (not NaN or infinity).")
            continue
        if period in clean:
            errors.append(f"{period.isoformat()} is given twice.")
            continue
        clean[period] = value
    if errors:
        raise ValidationError({"targets": errors})
    return clean


@transaction.atomic
def targets_set(
    *,
    actor: Person,
    kpi: Kpi,
    values: dict[dt.date, float],
    reason: str,
    plan_version: PlanVersion | None = None,
) -> TargetReport:
    """Set the KPI's trajectory in `plan_version` (the current approved one when None; a draft may
    be named; a proposed one waits for its approval and a superseded one is frozen). Periods not
    named keep their targets."""
    perms.ensure_allowed(actor, perms.CHANGE, kpi)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    clean = _validated(kpi, values)
    version = _plan_version_for(plan_version)

    existing = {
        target.period: target
        for target in Target.objects.filter(kpi=kpi, plan_version=version, period__in=list(clean))
    }
    now = timezone.now()
    report = TargetReport(kpi_id=kpi.pk, plan_version_id=version.pk)
    new, changed = [], []
    for period in sorted(clean):
        value = clean[period]
        target = existing.get(period)
        if target is None:
            new.append(
                Target(kpi=kpi, plan_version=version, period=period, value=value, updated_by=actor)
            )
            report.changes[period.isoformat()] = {"old": None, "new": value}
        elif target.value != value:
            report.changes[period.isoformat()] = {"old": target.value, "new": value}
            target.value, target.updated_by, target.updated_at = value, actor, now
            changed.append(target)
        else:
            report.unchanged += 1
    Target.objects.bulk_create(new, batch_size=1000)
    Target.objects.bulk_update(changed, ["value", "updated_by", "updated_at"], batch_size=1000)
    report.created, report.updated = len(new), len(changed)
    if report.changes:
        record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=kpi,
            changes={"targets": report.changes},
            reason=reason,
        )
        from kpis.tasks import kpi_recompute

        Kpi.objects.filter(pk=kpi.pk).update(inputs_changed_at=now)
        kpi_recompute.delay_on_commit(kpi_ids=[kpi.pk])
    return report
