"""The per-KPI ORM loop the engine is compared with: how alert engines evaluate one rule at a
time. For each KPI: one query for its targets, one for its measurements, the variance and status
of every period computed in plain Python (the engine's rules, no forecast), and the results
saved with the ORM (one `bulk_create(update_conflicts=True)` per KPI, the idiomatic upsert).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from kpis.choices import Direction, Status, ToleranceMode
from kpis.models import Kpi, KpiResult, Measurement, Target
from kpis.periods import period_end

UPDATE_FIELDS = ["plan", "actual", "variance", "variance_pct", "adverse", "status", "computed_at"]


def _adverse(kpi: Kpi, plan: float, actual: float) -> float:
    if kpi.direction == Direction.HIGHER_IS_BETTER:
        units, reference = plan - actual, abs(plan)
    elif kpi.direction == Direction.LOWER_IS_BETTER:
        units, reference = actual - plan, abs(plan)
    elif kpi.band_low is not None and actual < kpi.band_low:
        units, reference = kpi.band_low - actual, abs(kpi.band_low)
    elif kpi.band_high is not None and actual > kpi.band_high:
        units, reference = actual - kpi.band_high, abs(kpi.band_high)
    else:
        units, reference = 0.0, 0.0
    if kpi.tolerance_mode == ToleranceMode.PERCENT and reference > 0:
        return units * 100.0 / reference
    return units


def evaluate(kpi: Kpi, plan: float | None, actual: float | None, period, today, grace) -> dict:
    """One period of one KPI, the way a per-rule loop computes it."""
    row = {"plan": plan, "actual": actual, "variance": None, "variance_pct": None}
    row["adverse"] = None
    if plan is None:
        row["status"] = Status.NO_PLAN
    elif actual is None:
        overdue = today > period_end(period, kpi.frequency) + dt.timedelta(days=grace)
        row["status"] = Status.MISSING if overdue else Status.PENDING
    else:
        row["variance"] = actual - plan
        row["variance_pct"] = (actual - plan) * 100.0 / abs(plan) if plan else None
        adverse = _adverse(kpi, plan, actual)
        row["adverse"] = adverse
        rounded = round(adverse, 9)
        if rounded > kpi.red_threshold:
            row["status"] = Status.RED
        elif rounded > kpi.amber_threshold:
            row["status"] = Status.AMBER
        else:
            row["status"] = Status.ON_TRACK
    return row


def per_kpi_loop(kpi_ids: list[int], *, plan_version_id: int, today: dt.date, grace: int) -> int:
    """Evaluate and save the KPIs one at a time; returns the results saved."""
    saved = 0
    now = timezone.now()
    with transaction.atomic():
        for kpi in Kpi.objects.filter(pk__in=kpi_ids).order_by("pk"):
            plan = dict(
                Target.objects.filter(kpi=kpi, plan_version_id=plan_version_id).values_list(
                    "period", "value"
                )
            )
            actual = dict(Measurement.objects.filter(kpi=kpi).values_list("period", "value"))
            results = [
                KpiResult(
                    kpi=kpi,
                    period=period,
                    computed_at=now,
                    **evaluate(kpi, plan.get(period), actual.get(period), period, today, grace),
                )
                for period in sorted(plan.keys() | actual.keys())
            ]
            KpiResult.objects.bulk_create(
                results,
                update_conflicts=True,
                unique_fields=["kpi", "period"],
                update_fields=UPDATE_FIELDS,
            )
            saved += len(results)
    return saved
