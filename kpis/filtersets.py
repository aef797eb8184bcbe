"""Filters for the KPI lists, shared by the pages and the API (see `govern.filtersets`)."""

import django_filters

from govern.filtersets import SearchFilterSet
from kpis.choices import (
    Direction,
    EscalationLevel,
    ExceptionKind,
    ExceptionStatus,
    Frequency,
    Status,
)
from kpis.models import Kpi, KpiException


class KpiFilterSet(SearchFilterSet):
    search_fields = ("code", "name", "description")
    status = django_filters.ChoiceFilter(choices=Status.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)

    class Meta:
        model = Kpi
        fields = ["department", "owner", "status", "direction", "frequency", "is_active"]


# --- exceptions -------------------------------------------------------------------------------

UNRESOLVED = "unresolved"
ALL_STATUSES = "all"


class ExceptionFilterSet(SearchFilterSet):
    """`status=unresolved` (open, acknowledged or decided) or `all` besides the statuses;
    `severity_min` / `severity_max` bound the severity score."""

    search_fields = ("title", "detail", "kpi__code")
    status = django_filters.ChoiceFilter(
        choices=[
            (UNRESOLVED, "Not resolved"),
            *ExceptionStatus.choices,
            (ALL_STATUSES, "All, resolved included"),
        ],
        method="filter_status",
    )
    kind = django_filters.ChoiceFilter(choices=ExceptionKind.choices)
    escalation_level = django_filters.TypedChoiceFilter(choices=EscalationLevel.choices, coerce=int)
    severity_min = django_filters.NumberFilter(field_name="severity", lookup_expr="gte")
    severity_max = django_filters.NumberFilter(field_name="severity", lookup_expr="lte")

    class Meta:
        model = KpiException
        fields = ["status", "kind", "department", "owner", "kpi", "escalation_level"]

    def filter_status(self, queryset, name, value):
        if value == UNRESOLVED:
            return queryset.exclude(status=ExceptionStatus.RESOLVED)
        if value in ("", ALL_STATUSES):
            return queryset
        return queryset.filter(status=value)
