"""Receivers of the KPI engine's signals (`kpis.signals`): a contract's health follows the KPI
that measures its service level; a full recompute (the nightly sweep's included) checks every
contract in force with the time-based rules (due dates, provider milestones). Connected in
`DependenciesConfig.ready()`."""

from __future__ import annotations

from django.dispatch import receiver

from dependencies.services.health import contract_health_sync
from dependencies.services.ripple import schedule_ripple_sync
from kpis.services.exceptions import kpi_subject_key
from kpis.signals import kpis_recomputed, swept


@receiver(kpis_recomputed, dispatch_uid="dependencies.health.kpis_recomputed")
def check_contracts_of_recomputed_kpis(sender, *, kpi_ids, full, today, **kwargs) -> None:
    """Inside the recompute's transaction: re-check the contracts these KPIs measure (every
    contract in force after a full recompute), then, once it commits, the ripple of the KPIs'
    exceptions."""
    if full:
        contract_health_sync(today=today)
        schedule_ripple_sync(subject_keys=None)
        return
    ids = sorted(set(kpi_ids or ()))
    if not ids:
        return
    contract_health_sync(today=today, kpi_ids=ids)
    schedule_ripple_sync(subject_keys=[kpi_subject_key(kpi_id) for kpi_id in ids])


@receiver(swept, dispatch_uid="dependencies.health.swept")
def ripple_after_sweep(sender, *, today, **kwargs) -> None:
    """After the nightly sweep's milestone exceptions: their ripple, once the sweep commits. The
    contracts were checked (time-based rules included) by the sweep's full recompute above."""
    schedule_ripple_sync(subject_keys=None)
