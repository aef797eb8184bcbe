"""Receivers of the KPI engine's signals (`kpis.signals`): after a recompute, the contingency
plans of the recomputed KPIs are checked and a firing plan proposes its decision
(`decisions.services.contingency.contingency_check`). Connected in `DecisionsConfig.ready()`."""

from __future__ import annotations

from django.dispatch import receiver

from decisions.services.contingency import contingency_check
from kpis.signals import kpis_recomputed


@receiver(kpis_recomputed, dispatch_uid="decisions.contingency.kpis_recomputed")
def check_contingency_plans(sender, *, kpi_ids, full, today, **kwargs) -> None:
    """Inside the recompute's transaction, after the exceptions are synced (so a proposal can
    answer the exception the same recompute opened). With no plan on these KPIs the cost is one
    query that returns nothing."""
    if full:
        contingency_check(kpi_ids=None, today=today)
    elif kpi_ids:
        contingency_check(kpi_ids=kpi_ids, today=today)
