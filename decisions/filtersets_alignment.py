"""Filters for the alignment assessments, shared by the list page and the API (see
`govern.filtersets`): `leader`, `department`, `period` (any day of the quarter), `from`, `to`
(periods from / to a date, inclusive) and `q` (the leader's name, the resistance notes)."""

from __future__ import annotations

import django_filters

from decisions.engine.alignment import quarter_start
from decisions.models import AlignmentAssessment
from govern.filtersets import SearchFilterSet
from govern.models import Department, Person


class AlignmentFilterSet(SearchFilterSet):
    search_fields = (
        "leader__first_name", "leader__last_name", "leader__username", "resistance_notes",
    )  # fmt: skip
    leader = django_filters.ModelChoiceFilter(queryset=Person.objects.all())
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    period = django_filters.DateFilter(
        method="filter_period", label="Quarter", help_text="Any day of the quarter."
    )

    class Meta:
        model = AlignmentAssessment
        fields = ["leader", "department", "period"]

    def filter_period(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(period=quarter_start(value))

    def filter_from(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(period__gte=quarter_start(value))

    def filter_to(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(period__lte=value)


# `from` and `to` are Python keywords: declared after the class, as its metaclass would have.
for _name, _label, _help in (
    ("from", "From", "Quarters from the one holding this date."),
    ("to", "To", "Quarters starting on or before this date."),
):
    _filter = django_filters.DateFilter(method=f"filter_{_name}", label=_label, help_text=_help)
    AlignmentFilterSet.declared_filters[_name] = _filter
    AlignmentFilterSet.base_filters[_name] = _filter
