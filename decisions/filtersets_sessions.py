"""Filters for the review sessions, shared by the pages and the API (see `govern.filtersets`)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from decisions.choices import SessionCadence, SessionStatus
from decisions.models import ReviewSession
from govern.filtersets import SearchFilterSet
from govern.models import Department


@extend_schema_field(OpenApiTypes.INT)
class DepartmentFilter(django_filters.ModelChoiceFilter):
    """A department by id: sessions whose scope names it."""


class ReviewSessionFilterSet(SearchFilterSet):
    """`cadence`, `status`, `department` (sessions whose scope names it), `q` (title, minutes)."""

    search_fields = ("title", "minutes_summary")
    cadence = django_filters.ChoiceFilter(choices=SessionCadence.choices)
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices)
    department = DepartmentFilter(queryset=Department.objects.all(), method="filter_department")

    class Meta:
        model = ReviewSession
        fields = ["cadence", "status", "department"]

    def filter_department(self, queryset, name, value):
        if value is None:
            return queryset
        scoped = ReviewSession.departments.through.objects.filter(department=value)
        return queryset.filter(pk__in=scoped.values("reviewsession_id"))
