"""Reads for the core domain. Each selector scopes rows to the requesting user and owns its
select_related / prefetch_related / annotations so that lists run a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from govern import filtersets
from govern.choices import MilestoneStatus, ObjectiveLevel, PlanVersionStatus
from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Notification,
    Objective,
    Person,
    PlanVersion,
)


def apply_filters(
    filterset_class, queryset: QuerySet, filters: Mapping[str, Any] | None, *, user
) -> QuerySet:
    if not filters:
        return queryset
    filterset = filterset_class(filters, queryset, user=user)
    if not filterset.is_valid():
        raise ValidationError({name: errors for name, errors in filterset.errors.items()})
    return filterset.qs


def department_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Department]:
    # Meta.ordering is dropped from GROUP BY queries: aggregated lists restate their order.
    queryset = (
        Department.objects.restrict(user)
        .annotate(
            member_count=count_related(Membership.objects.all(), "department_id"),
            initiative_count=count_related(Initiative.objects.all(), "department_id"),
        )
        .order_by(*Department._meta.ordering)
    )
    return apply_filters(filtersets.DepartmentFilterSet, queryset, filters, user=user)


def person_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Person]:
    queryset = Person.objects.restrict(user).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("department").order_by("department__name"),
        )
    )
    return apply_filters(filtersets.PersonFilterSet, queryset, filters, user=user)


def membership_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Membership]:
    queryset = Membership.objects.restrict(user).select_related("person", "department")
    return apply_filters(filtersets.MembershipFilterSet, queryset, filters, user=user)


# Strategy first, then the annual objectives cascading from it.
OBJECTIVE_ORDER = (
    Case(When(level=ObjectiveLevel.STRATEGIC, then=Value(0)), default=Value(1)),
    "start_date",
    "title",
)


def objective_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Objective]:
    queryset = (
        Objective.objects.restrict(user)
        .select_related("owner", "department", "parent")
        .order_by(*OBJECTIVE_ORDER)
    )
    return apply_filters(filtersets.ObjectiveFilterSet, queryset, filters, user=user)


def objective_tree(*, user, filters: Mapping[str, Any] | None = None) -> list[dict]:
    """The visible objectives as a cascade: [{"objective", "children": [...]}, …] in one query.

    An objective whose parent the user may not see is shown at the top of the tree."""
    objectives = list(
        objective_list(user=user, filters=filters)
        .annotate(
            initiative_count=count_related(
                Initiative.objectives.through.objects.all(), "objective_id"
            )
        )
        .order_by(*OBJECTIVE_ORDER)
    )
    nodes = {o.pk: {"objective": o, "children": []} for o in objectives}
    roots = []
    for objective in objectives:
        parent = nodes.get(objective.parent_id)
        (parent["children"] if parent else roots).append(nodes[objective.pk])
    return roots


def count_related(related: QuerySet, link: str) -> Coalesce:
    """A correlated COUNT of `related` rows whose `link` points at the outer row. The database
    evaluates it for the rows it returns, where a JOIN + GROUP BY would aggregate every row of
    the table before a page of them is cut."""
    return Coalesce(
        Subquery(
            related.filter(**{link: OuterRef("pk")})
            .order_by()
            .values(link)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def initiative_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Initiative]:
    today = timezone.localdate()
    not_open = [MilestoneStatus.DONE, MilestoneStatus.CANCELLED]
    queryset = (
        Initiative.objects.restrict(user)
        .select_related("department", "owner")
        .prefetch_related("objectives")
        .annotate(
            milestone_count=count_related(Milestone.objects.all(), "initiative_id"),
            milestones_done=count_related(
                Milestone.objects.filter(status=MilestoneStatus.DONE), "initiative_id"
            ),
            milestones_overdue=count_related(
                Milestone.objects.filter(due_date__lt=today).exclude(status__in=not_open),
                "initiative_id",
            ),
        )
        .order_by(*Initiative._meta.ordering)
    )
    return apply_filters(filtersets.InitiativeFilterSet, queryset, filters, user=user)


def milestone_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Milestone]:
    queryset = (
        Milestone.objects.restrict(user)
        .with_overdue()
        .select_related("initiative", "initiative__department", "owner")
    )
    return apply_filters(filtersets.MilestoneFilterSet, queryset, filters, user=user)


def plan_version_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[PlanVersion]:
    queryset = PlanVersion.objects.restrict(user).select_related(
        "created_by", "approved_by", "proposed_by", "based_on"
    )
    return apply_filters(filtersets.PlanVersionFilterSet, queryset, filters, user=user)


def current_plan_version() -> PlanVersion | None:
    return PlanVersion.objects.filter(status=PlanVersionStatus.APPROVED).first()


@dataclass(frozen=True)
class PlanSpan:
    """The days a plan version governs: a KPI period is held against the version that was
    current when the period ended, so the periods ending on or after `since` and before `until`
    (local dates; None: no bound) belong to `plan_version_id`."""

    plan_version_id: int
    since: dt.date | None
    until: dt.date | None


def plan_version_spans() -> list[PlanSpan]:
    """The current version and the superseded versions that were current before it, oldest
    first, each with the days it governs: from the day it was approved (the first one: from the
    beginning) to the day the next one was. History stays as it was computed: a period that ended
    before an approval keeps the plan it was judged against; the periods still running or to come
    follow the current version. Empty when no version is approved. One query."""
    rows = list(
        PlanVersion.objects.filter(
            status__in=(PlanVersionStatus.APPROVED, PlanVersionStatus.SUPERSEDED),
            approved_at__isnull=False,
        )
        .order_by("-approved_at", "-pk")
        .values_list("pk", "status", "approved_at")
    )
    chain = [row for row in rows if row[1] == PlanVersionStatus.APPROVED][:1]
    if not chain:
        return []
    for row in rows:  # newest first: each earlier version was current before the one after it
        if row[1] == PlanVersionStatus.SUPERSEDED and row[2] < chain[-1][2]:
            chain.append(row)
    chain.reverse()
    starts = [None, *(timezone.localdate(row[2]) for row in chain[1:]), None]
    return [
        PlanSpan(plan_version_id=row[0], since=since, until=until)
        for row, since, until in zip(chain, starts, starts[1:], strict=False)
        if since is None or until is None or since < until
    ]


def audit_history(
    *, subject, related: Iterable[Model] = (), limit: int | None = 50
) -> QuerySet[AuditEvent]:
    """The history of one object and, merged in time order, of `related` objects that belong to
    it (an initiative's milestones); `is_related` marks their events. Callers pass objects the
    user already got through their gates."""
    own = Q(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))
    condition = own
    by_type: dict[str, list[str]] = {}
    for obj in related:
        by_type.setdefault(obj._meta.label_lower, []).append(str(obj.pk))
    for subject_type, ids in by_type.items():
        condition |= Q(subject_type=subject_type, subject_id__in=ids)
    queryset = (
        AuditEvent.objects.filter(condition)
        .annotate(is_related=Case(When(own, then=Value(False)), default=Value(True)))
        .select_related("actor")
    )
    return queryset[:limit] if limit else queryset


def audit_log(*, user) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.restrict(user).select_related("actor")


# --- Notifications ----------------------------------------------------------------------------


def notification_list(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, newest first; `unread=True` keeps the unread ones only."""
    rows = Notification.objects.restrict(user).order_by("-created_at", "-id")
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    return rows


def notification_unread_count(*, user) -> int:
    """How many unread notifications the user has: one indexed count (no scope lookup needed:
    a person's own notifications are theirs, whatever their role)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
