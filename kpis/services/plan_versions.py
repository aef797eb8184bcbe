"""The KPI engine's share of the plan-version lifecycle (`govern.signals`, connected in
`KpisConfig.ready()`): a new draft gets the targets of the version it is made from, an approval
re-evaluates the KPIs whose targets it changes from then on, a deleted draft takes its targets with
it. Every step is one statement whatever the number of KPIs and periods, inside the lifecycle
service's transaction; the recompute itself runs on the workers once that transaction commits.

Which targets a period is held against is the recompute's rule (`kpis.services.recompute`): the
version that was current when the period ended. So an approval changes the variance of the periods
still running or to come, and of no period that ended before it (docs/plan-versions.md).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from govern.models import Person, PlanVersion
from kpis.choices import Frequency
from kpis.models import Kpi, Target
from kpis.periods import period_start

COPIED_FIELDS = ("kpi", "period", "value", "updated_at", "updated_by")


def targets_copy(*, plan_version: PlanVersion, based_on: PlanVersion) -> int:
    """Copy every target of `based_on` into the draft `plan_version`, exactly (KPI, period,
    value, and who last set it when): one INSERT … SELECT. Returns the number of targets."""
    quote = connection.ops.quote_name
    table = quote(Target._meta.db_table)
    columns = [quote(Target._meta.get_field(name).column) for name in COPIED_FIELDS]
    version = quote(Target._meta.get_field("plan_version").column)
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({version}, {listed}) "
            f"SELECT %s, {listed} FROM {table} WHERE {version} = %s",
            [plan_version.pk, based_on.pk],
        )
        return cursor.rowcount


def targets_discard(*, plan_version: PlanVersion) -> int:
    """Delete the targets of a draft that is being deleted: one DELETE."""
    deleted, _ = Target.objects.filter(plan_version=plan_version).delete()
    return deleted


def _from_day(day) -> Q:
    """Targets of the periods that had not ended on `day`, per the KPI's frequency."""
    held = Q()
    for frequency in Frequency.values:
        held |= Q(kpi__frequency=frequency, period__gte=period_start(day, frequency))
    return held


def _missing_from(targets: QuerySet[Target], other: QuerySet[Target]) -> QuerySet[Target]:
    """The rows of `targets` that `other` has not with the same KPI, period and value."""
    same = other.filter(
        kpi_id=OuterRef("kpi_id"), period=OuterRef("period"), value=OuterRef("value")
    )
    return targets.exclude(Exists(same))


def kpis_affected_by_approval(
    *, plan_version: PlanVersion, previous: PlanVersion | None
) -> QuerySet[Kpi]:
    """The KPIs whose variance changes when `plan_version` replaces `previous`: those with a
    target added, removed or changed in the periods that had not ended on the day of the
    approval. Every active KPI on the first approval (nothing had a plan before)."""
    if previous is None:
        return Kpi.objects.filter(is_active=True)
    day = timezone.localdate(plan_version.approved_at)
    new = Target.objects.filter(_from_day(day), plan_version=plan_version)
    old = Target.objects.filter(_from_day(day), plan_version=previous)
    return Kpi.objects.filter(
        Q(pk__in=_missing_from(new, old).values("kpi_id"))
        | Q(pk__in=_missing_from(old, new).values("kpi_id"))
    )


def recompute_after_approval(*, plan_version: PlanVersion, previous: PlanVersion | None) -> int:
    """Mark the KPIs the approval affects as changed (one UPDATE) and ask the workers, once the
    approval commits, to recompute the KPIs whose inputs changed since their last computation:
    the existing reconciliation task, idempotent, which also heals a lost message on its next
    scheduled run. Returns the number of KPIs marked."""
    from kpis.tasks import kpi_reconcile

    marked = kpis_affected_by_approval(plan_version=plan_version, previous=previous).update(
        inputs_changed_at=timezone.now()
    )
    if marked:
        kpi_reconcile.delay_on_commit()
    return marked


# --- Receivers --------------------------------------------------------------------------------


def on_plan_version_drafted(
    sender, *, plan_version: PlanVersion, based_on: PlanVersion, actor: Person, **kwargs
) -> None:
    targets_copy(plan_version=plan_version, based_on=based_on)


def on_plan_version_approved(
    sender,
    *,
    plan_version: PlanVersion,
    previous: PlanVersion | None,
    actor: Person,
    **kwargs,
) -> None:
    recompute_after_approval(plan_version=plan_version, previous=previous)


def on_plan_version_discarded(
    sender, *, plan_version: PlanVersion, actor: Person, **kwargs
) -> None:
    targets_discard(plan_version=plan_version)
