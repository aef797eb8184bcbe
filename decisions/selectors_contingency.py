"""Reads for contingency plans. Each selector scopes rows to the requesting user
(`decisions.permissions`: a plan is seen by whoever sees its KPI's department) and owns its
joins, so lists run a bounded number of queries whatever their length. The "test against
history" runs the pure engine (`decisions.engine.contingency`) over the KPI's stored results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from decisions import selectors as decision_selectors
from decisions.choices import DecisionStatus
from decisions.engine import contingency as engine
from decisions.filtersets_contingency import ContingencyPlanFilterSet
from decisions.models import ContingencyPlan, ContingencyReallocation, Decision
from govern import permissions as perms
from govern.selectors import apply_filters
from kpis.models import Kpi, KpiResult

PLAN_RELATED = ("kpi", "kpi__department", "owner", "created_by", "disabled_by")
LINE_RELATED = ("from_initiative", "from_department", "to_initiative", "to_department")
RESULT_FIELDS = (
    "kpi_id", "period", "plan", "actual", "status", "kpi__direction", "kpi__frequency",
    "kpi__band_low", "kpi__band_high",
)  # fmt: skip

# What a user may do with a plan (`plan_actions`): the pages show these buttons.
CHANGE = "change"
DISABLE = "disable"
ENABLE = "enable"


def may_define(user, department_id: int | None) -> bool:
    """May `user` define, change, disable or enable contingency plans on this department's KPIs?
    The PMO and the department's leads (the `ADD`/`CHANGE` rows of the matrix)."""
    scope = perms.scope_for(user)
    return scope.authenticated and department_id is not None and scope.leads(department_id)


def template_lines() -> Prefetch:
    """The reallocation template's lines with their sources and targets."""
    return Prefetch(
        "reallocations",
        queryset=ContingencyReallocation.objects.select_related(*LINE_RELATED).order_by("id"),
    )


def _open_proposal() -> Subquery:
    """The id of the plan's proposed decision still awaiting a decision, if any."""
    return Subquery(
        Decision.objects.filter(contingency_plan=OuterRef("pk"), status=DecisionStatus.PROPOSED)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )


def contingency_plan_list(
    *, user, filters: Mapping[str, Any] | None = None
) -> QuerySet[ContingencyPlan]:
    """The plans the user may see, by KPI code then name, with their KPI, department and owner
    and the id of their open proposal (`open_proposal`): one query per page. Filters: `kpi`,
    `department`, `enabled`, `owner`, `trigger_basis`, `q` (`ContingencyPlanFilterSet`)."""
    queryset = (
        ContingencyPlan.objects.restrict(user)
        .select_related(*PLAN_RELATED)
        .annotate(open_proposal=_open_proposal())
        .order_by("kpi__code", "name", "id")
    )
    return apply_filters(ContingencyPlanFilterSet, queryset, filters, user=user)


def contingency_plan_get(*, user, pk, for_write: bool = False) -> ContingencyPlan:
    """One plan through the gate (404 when the user may not see it; 403 with `for_write` when
    they may not change it), with its reallocation template."""
    queryset = (
        ContingencyPlan.objects.select_related(*PLAN_RELATED)
        .annotate(open_proposal=_open_proposal())
        .prefetch_related(template_lines())
    )
    return perms.access(ContingencyPlan, user, pk, for_write=for_write, queryset=queryset)


def contingency_plans_for_kpi(*, user, kpi: Kpi) -> QuerySet[ContingencyPlan]:
    """The plans on `kpi` (gated by the caller) that the user may see: one query."""
    return contingency_plan_list(user=user).filter(kpi=kpi)


def contingency_plan_decisions(*, user, plan: ContingencyPlan) -> QuerySet[Decision]:
    """The decisions the plan proposed (gated by the caller) that the user may see, newest
    first, with their links and reallocation lines."""
    return decision_selectors.decision_list(user=user).filter(contingency_plan=plan)


def plan_actions(user, plan: ContingencyPlan) -> set[str]:
    """What `user` may do with `plan` now: CHANGE, and DISABLE or ENABLE. No queries beyond the
    user's scope (`plan.kpi` loaded)."""
    if not may_define(user, plan.kpi.department_id):
        return set()
    return {CHANGE, DISABLE if plan.enabled else ENABLE}


# --- The stored results, for the engine -------------------------------------------------------


def contingency_results_frame(*, kpi_ids: Iterable[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored results of these KPIs (`engine.RESULT_COLUMNS`) and the KPIs' parameters
    (`engine.KPI_COLUMNS`), from one query: every result row with its KPI's columns joined."""
    rows = list(
        KpiResult.objects.filter(kpi_id__in=sorted(set(kpi_ids)))
        .order_by("kpi_id", "period")
        .values_list(*RESULT_FIELDS)
    )
    frame = pd.DataFrame.from_records(rows, columns=list(RESULT_FIELDS))
    results = frame[list(engine.RESULT_COLUMNS)]
    kpis = (
        frame[["kpi_id", "kpi__direction", "kpi__frequency", "kpi__band_low", "kpi__band_high"]]
        .drop_duplicates("kpi_id")
        .set_axis(engine.KPI_COLUMNS, axis=1)
    )
    return results, kpis


def plan_frame(plans: Iterable[ContingencyPlan]) -> pd.DataFrame:
    """Plans as the engine takes them (`engine.PLAN_COLUMNS`)."""
    return pd.DataFrame.from_records(
        [
            (plan.pk, plan.kpi_id, plan.trigger_basis, plan.threshold_pct, plan.periods)
            for plan in plans
        ],
        columns=engine.PLAN_COLUMNS,
    )


def engine_settings() -> dict[str, int]:
    """The forecast's parameters, as the KPI engine uses them."""
    return {
        "points": settings.GOVERN_FORECAST_POINTS,
        "horizon": settings.GOVERN_FORECAST_HORIZON,
    }


# --- Test against history ---------------------------------------------------------------------


@dataclass(frozen=True)
class WindowPeriod:
    period: dt.date
    value: float | None  # the actual (forecast basis: the forecast)
    plan: float | None
    adverse_pct: float | None


@dataclass(frozen=True)
class Occasion:
    """A period at which the plan would have fired."""

    period: dt.date  # forecast basis: the as-of period (the latest actual then)
    since: dt.date  # the first occasion of its run
    first: bool  # the run reaches the trigger here: the plan fires once per run, here
    run_length: int
    window: tuple[WindowPeriod, ...]  # the periods judged, oldest first


def _none(value: float) -> float | None:
    return None if value != value else value  # NaN → None


def occasions_of(frame: pd.DataFrame) -> list[Occasion]:
    """The engine's occasion rows as `Occasion`s."""
    return [
        Occasion(
            period=pd.Timestamp(row.period).date(),
            since=pd.Timestamp(row.since).date(),
            first=bool(row.first),
            run_length=int(row.run_length),
            window=tuple(
                WindowPeriod(period=p, value=_none(v), plan=_none(pl), adverse_pct=_none(pct))
                for p, v, pl, pct in zip(
                    row.window_periods,
                    row.window_values,
                    row.window_plans,
                    row.window_pct,
                    strict=True,
                )
            ),
        )
        for row in frame.itertuples(index=False)
    ]


def contingency_plan_history(
    *, plan: ContingencyPlan, today: dt.date | None = None
) -> list[Occasion]:
    """The test against history ("would have triggered on these dates"): every period at which
    the plan (gated by the caller) would have fired over all its KPI's stored results, oldest
    first: the period the run reaches the trigger (`first`) and each further period while it
    stays. One query."""
    results, kpis = contingency_results_frame(kpi_ids=[plan.kpi_id])
    if results.empty:
        return []
    found = engine.occasions(results, kpis, plan_frame([plan]), today=today, **engine_settings())
    return occasions_of(found)
