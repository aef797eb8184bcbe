"""Filters shared by the pages and the API: one definition of what each list can be narrowed by."""

import django_filters
from django.db import models
from django.db.models import Q

from govern.choices import (
    InitiativeStatus,
    MilestoneStatus,
    NotificationKind,
    ObjectiveLevel,
    PlanVersionStatus,
    Role,
)
from govern.models import (
    Department,
    Initiative,
    Membership,
    Milestone,
    Notification,
    Objective,
    Person,
    PlanVersion,
)


class ScopedFilterSet(django_filters.FilterSet):
    """Filters that take a related object (`?department=3`) accept only rows the user may see, so
    a filter cannot be used to probe whether a hidden object exists: the user comes from the
    request (the API) or is passed by the selector (`user=`)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = user if user is not None else getattr(request, "user", None)
        if user is None:
            return
        for filter_ in self.filters.values():
            related = getattr(filter_, "queryset", None)
            if isinstance(related, models.QuerySet) and hasattr(related, "restrict"):
                filter_.queryset = related.restrict(user)


class SearchFilterSet(ScopedFilterSet):
    """Adds `q`: a case-insensitive search over the fields listed in `search_fields`."""

    q = django_filters.CharFilter(method="search", label="Search")
    search_fields: tuple[str, ...] = ()

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class DepartmentFilterSet(SearchFilterSet):
    search_fields = ("code", "name", "description")

    class Meta:
        model = Department
        fields = ["code"]


class PersonFilterSet(SearchFilterSet):
    search_fields = ("username", "first_name", "last_name", "email", "job_title")
    department = django_filters.ModelChoiceFilter(
        field_name="memberships__department", queryset=Department.objects.all(), distinct=True
    )
    role = django_filters.ChoiceFilter(
        field_name="memberships__role", choices=Role.choices, distinct=True
    )

    class Meta:
        model = Person
        fields = ["department", "role", "is_active"]


class MembershipFilterSet(ScopedFilterSet):
    class Meta:
        model = Membership
        fields = ["person", "department", "role"]


class ObjectiveFilterSet(SearchFilterSet):
    search_fields = ("title", "description")
    level = django_filters.ChoiceFilter(choices=ObjectiveLevel.choices)
    parent = django_filters.ModelChoiceFilter(queryset=Objective.objects.all())
    top_level = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = Objective
        fields = ["level", "department", "owner", "parent", "top_level"]


class InitiativeFilterSet(SearchFilterSet):
    search_fields = ("name", "description")
    status = django_filters.ChoiceFilter(choices=InitiativeStatus.choices)
    objective = django_filters.ModelChoiceFilter(
        field_name="objectives", queryset=Objective.objects.all(), distinct=True
    )

    class Meta:
        model = Initiative
        fields = ["department", "owner", "status", "objective"]


class MilestoneFilterSet(SearchFilterSet):
    search_fields = ("name", "description")
    status = django_filters.ChoiceFilter(choices=MilestoneStatus.choices)
    department = django_filters.ModelChoiceFilter(
        field_name="initiative__department", queryset=Department.objects.all()
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Milestone
        fields = ["initiative", "department", "owner", "status", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.with_overdue().filter(overdue=value)


class PlanVersionFilterSet(SearchFilterSet):
    search_fields = ("name", "description")
    status = django_filters.ChoiceFilter(choices=PlanVersionStatus.choices)

    class Meta:
        model = PlanVersion
        fields = ["status"]


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        label="Unread",
        help_text="`true`: only the unread notifications; `false`: only the read ones.",
    )
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices)

    class Meta:
        model = Notification
        fields = ["unread", "kind"]
