"""KPI tasks: thin, idempotent, safe to retry; each calls one service. Arguments are ids."""

from celery import shared_task

from govern.tasking import GovernTask


@shared_task(name="kpis.recompute", base=GovernTask)
def kpi_recompute(kpi_ids: list[int] | None = None) -> dict:
    """Recompute variance, forecast and exceptions for these KPIs (all when None)."""
    from kpis.services.recompute import kpi_recompute as recompute

    return recompute(kpi_ids=kpi_ids).as_dict()
