"""Contract tasks: thin, idempotent, safe to retry; each calls one service. Arguments are ids."""

from celery import shared_task

from govern.tasking import GovernTask


@shared_task(name="dependencies.health_sync", base=GovernTask)
def contract_health_sync(contract_ids: list[int] | None = None) -> dict:
    """Re-check the health of these contracts (every contract in force when None): status,
    at-risk and breached exceptions. Idempotent: an unchanged state writes nothing."""
    from django.utils import timezone

    from dependencies.services.health import contract_health_sync as sync

    return sync(contract_ids=contract_ids, today=timezone.localdate()).as_dict()


@shared_task(name="dependencies.ripple_sync", base=GovernTask)
def ripple_sync(subject_keys: list[str] | None = None) -> dict:
    """Recompute the ripple reach (and so the severity) of the unresolved exceptions on these
    subjects ("kpi:12", "contract:3"; all when None). Idempotent."""
    from dependencies.services.ripple import ripple_sync as sync

    return sync(subject_keys=subject_keys).as_dict()
