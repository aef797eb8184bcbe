"""Filters for the contingency plans, shared by the pages and the API (see `govern.filtersets`)."""

import django_filters

from decisions.choices import TriggerBasis
from decisions.filtersets import KpiFilter
from decisions.models import ContingencyPlan
from govern.filtersets import SearchFilterSet
from govern.models import Department, Person
from kpis.models import Kpi


class ContingencyPlanFilterSet(SearchFilterSet):
    """`kpi`, `department` (the KPI's), `enabled`, `owner`, `trigger_basis`, `q` (name, response,
    the KPI's code and name)."""

    search_fields = ("name", "response", "kpi__code", "kpi__name")
    kpi = KpiFilter(queryset=Kpi.objects.all(), label="KPI")
    department = django_filters.ModelChoiceFilter(
        field_name="kpi__department", queryset=Department.objects.all()
    )
    enabled = django_filters.BooleanFilter()
    owner = django_filters.ModelChoiceFilter(queryset=Person.objects.all())
    trigger_basis = django_filters.ChoiceFilter(choices=TriggerBasis.choices)

    class Meta:
        model = ContingencyPlan
        fields = ["kpi", "department", "enabled", "owner", "trigger_basis"]
