"""Builders for the contingency tests: a valid plan on SALES-INTAKE, defined through the service,
and stored KPI results written as the recompute would have left them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from decisions.models import ContingencyPlan
from decisions.services.contingency import contingency_plan_create
from kpis.models import Kpi, KpiResult
from tests.decisions.log_support import World

RESPONSE = "Run the spring promotion two weeks early."
RESPONSE_IN_WORDS = "run the spring promotion two weeks early."  # after "If …, then"


def plan_data(world: World, **overrides: Any) -> dict[str, Any]:
    """SALES-INTAKE ≥ 8% below plan for 2 consecutive months, owned by the Sales contributor,
    moving 5,000 from Sales to its spring campaign."""
    data: dict[str, Any] = {
        "kpi": world.kpi.pk,
        "name": "Early promotion",
        "trigger_basis": "actual",
        "threshold_pct": 8,
        "periods": 2,
        "response": RESPONSE,
        "owner": world.contributor.pk,
        "reallocations": [
            {"from_department": world.sales.pk, "to_initiative": world.initiative.pk,
             "amount": "5000", "unit": "currency"},
        ],
    }  # fmt: skip
    data.update(overrides)
    return data


def defined(world: World, actor=None, **overrides: Any) -> ContingencyPlan:
    """A plan defined through the service (by the Sales lead unless told)."""
    return contingency_plan_create(actor=actor or world.lead, data=plan_data(world, **overrides))


def month(index: int) -> dt.date:
    """The first of the `index`-th month of 2026 (13 is January 2027)."""
    return dt.date(2026 + (index - 1) // 12, (index - 1) % 12 + 1, 1)


def stored(
    kpi: Kpi, actuals: dict[int, float | None], *, plan: float = 100.0, pending: Iterable[int] = ()
) -> None:
    """Results of 2026 months (1 = January) as the recompute stores them, against a plan of
    `plan`: an actual, or None for a month that is due with no actual (missing); `pending`
    months have a plan and are not due yet. Replaces what is stored for those months."""
    for index in pending:
        KpiResult.objects.update_or_create(
            kpi=kpi, period=month(index), defaults={"plan": plan, "actual": None,
                                                    "status": "pending"}
        )  # fmt: skip
    for index, actual in actuals.items():
        period = month(index)
        if actual is None:
            values = {"actual": None, "variance": None, "variance_pct": None, "adverse": None,
                      "status": "missing"}  # fmt: skip
        else:
            adverse = (plan - actual) * 100 / plan
            status = "red" if adverse > 10 else "amber" if adverse > 5 else "on_track"
            values = {"actual": actual, "variance": actual - plan,
                      "variance_pct": (actual - plan) * 100 / plan, "adverse": adverse,
                      "status": status}  # fmt: skip
        KpiResult.objects.update_or_create(
            kpi=kpi, period=period, defaults={"plan": plan, **values}
        )
