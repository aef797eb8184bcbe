"""KPI tasks: thin, idempotent, safe to retry; each calls one service. Arguments are ids."""

from celery import shared_task

from govern.tasking import GovernTask


@shared_task(name="kpis.recompute", base=GovernTask)
def kpi_recompute(kpi_ids: list[int] | None = None) -> dict:
    """Recompute variance, forecast and exceptions for these KPIs (all when None)."""
    from kpis.services.recompute import kpi_recompute as recompute

    return recompute(kpi_ids=kpi_ids).as_dict()


@shared_task(name="kpis.reconcile", base=GovernTask)
def kpi_reconcile() -> dict:
    """Recompute the KPIs whose inputs changed after their last computation (heals lost
    recompute messages); runs every few minutes under beat."""
    from kpis.services.recompute import kpi_reconcile as reconcile

    return reconcile().as_dict()


@shared_task(name="kpis.sweep", base=GovernTask)
def kpi_sweep() -> dict:
    """The nightly full recompute, then the milestone exceptions."""
    from kpis.services.recompute import kpi_sweep as sweep

    return sweep().as_dict()


@shared_task(name="kpis.escalate", base=GovernTask)
def exception_escalate() -> int:
    """Escalate the exceptions past their decision deadline one level; runs every 15 minutes
    under beat. Idempotent: a second run at the same moment escalates nothing."""
    from django.utils import timezone

    from kpis.services.exceptions import exception_escalate_overdue

    return exception_escalate_overdue(now=timezone.now())


@shared_task(name="kpis.import_check", base=GovernTask)
def import_check(job_id: int) -> str | None:
    """The dry run of a large spreadsheet upload. Idempotent: a checked job is left alone."""
    from kpis.services.imports import import_check as check

    job = check(job_id)
    return job.status if job else None


@shared_task(name="kpis.import_commit", base=GovernTask)
def import_commit(job_id: int) -> str | None:
    """Write a checked import, all or nothing. Idempotent: a completed job is left alone."""
    from kpis.services.imports import import_run_commit

    job = import_run_commit(job_id)
    return job.status if job else None


@shared_task(name="kpis.governance_revisions", base=GovernTask)
def governance_revisions(revisions: list, at: str, actor_id: int | None = None) -> dict:
    """Raise the target-gaming signals of actuals revised beyond the threshold (queued by the
    write path of actuals once it commits): rows [kpi_id, ISO period, old, new, frequency].
    Idempotent: the same rows again write nothing."""
    from kpis.services.governance import revisions_raise

    return revisions_raise(revisions=revisions, actor_id=actor_id, at=at).as_dict()
