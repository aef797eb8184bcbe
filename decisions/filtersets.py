"""Filters for the decision log, shared by the pages and the API (see `govern.filtersets`)."""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from decisions.choices import DecisionStatus, Effectiveness
from decisions.models import Decision
from govern.filtersets import SearchFilterSet
from govern.models import Department
from kpis.models import Kpi, KpiException


@extend_schema_field(OpenApiTypes.INT)
class KpiFilter(django_filters.ModelChoiceFilter):
    """A KPI by id: decisions naming it as an outcome or as their expected effect."""


class DecisionFilterSet(SearchFilterSet):
    """`department`, `status`, `effectiveness`, `kpi` (an outcome or the expected-effect KPI),
    `exception`, `cross_department`, `q` (title, context, chosen option, rationale, trade-off)."""

    search_fields = ("title", "context", "chosen_option", "rationale", "tradeoff_statement")
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    status = django_filters.ChoiceFilter(choices=DecisionStatus.choices)
    effectiveness = django_filters.ChoiceFilter(choices=Effectiveness.choices)
    kpi = KpiFilter(queryset=Kpi.objects.all(), method="filter_kpi", label="KPI")
    exception = django_filters.ModelChoiceFilter(queryset=KpiException.objects.all())
    cross_department = django_filters.BooleanFilter()

    class Meta:
        model = Decision
        fields = ["department", "status", "effectiveness", "kpi", "exception", "cross_department"]

    def filter_kpi(self, queryset, name, value):
        if value is None:
            return queryset
        outcomes = Decision.kpis.through.objects.filter(kpi=value).values("decision_id")
        return queryset.filter(Q(pk__in=outcomes) | Q(expected_kpi=value))
