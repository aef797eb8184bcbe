"""Core tasks. Thin, idempotent and safe to retry: each calls one service."""

from celery import shared_task

from govern import services
from govern.notifications import digest_day, digest_send
from govern.tasking import GovernTask


@shared_task(name="govern.objective_progress_rollup", base=GovernTask)
def objective_progress_rollup() -> int:
    """Refresh every objective's progress from its milestones; returns how many rows changed."""
    return services.objective_progress_refresh()


@shared_task(name="govern.notifications_digest", base=GovernTask)
def notifications_digest(day: str | None = None) -> int:
    """Send the daily digests for `day` (ISO date; default yesterday): once per person and day,
    so a retry or a second run sends nothing more. Returns how many emails were sent."""
    return digest_send(day=digest_day(day))
