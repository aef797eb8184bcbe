"""Core tasks. Thin, idempotent and safe to retry: each calls one service."""

from celery import shared_task

from govern import services
from govern.tasking import GovernTask


@shared_task(name="govern.objective_progress_rollup", base=GovernTask)
def objective_progress_rollup() -> int:
    """Refresh every objective's progress from its milestones; returns how many rows changed."""
    return services.objective_progress_refresh()
