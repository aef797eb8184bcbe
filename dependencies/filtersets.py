"""Filters for the contract lists, shared by the pages and the API (see `govern.filtersets`)."""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from dependencies.choices import CLOSED, IN_FORCE, NEGOTIATING, ContractStatus, Side
from dependencies.models import Contract
from govern import permissions as perms
from govern.filtersets import SearchFilterSet
from govern.models import Department

# Groups of statuses a list can ask for besides the single statuses.
STATUS_GROUPS = {
    "negotiating": NEGOTIATING,
    "in_force": IN_FORCE,
    "open": (*NEGOTIATING, *IN_FORCE),
    "closed": CLOSED,
}


@extend_schema_field(OpenApiTypes.INT)
class DepartmentFilter(django_filters.ModelChoiceFilter):
    """A department by id, applied by the filter set's method (either side, or `side`'s)."""


class ContractFilterSet(SearchFilterSet):
    """`department`: either side is this department; `side` (provider / consumer): that side is
    `department`, or, without a department, one of the user's own (a department they belong to,
    or a contract they own on that side); `mine`: contracts the user is party to; `status`: one
    status or a group (negotiating, in_force, open, closed); `provider` and `consumer`: that
    department on that side (a cell of the dependency matrix)."""

    search_fields = ("code", "title", "deliverable", "service_level")
    department = DepartmentFilter(
        queryset=Department.objects.all(), method="filter_department", label="Department"
    )
    side = django_filters.ChoiceFilter(choices=Side.choices, method="filter_side", label="Side")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Mine")
    status = django_filters.ChoiceFilter(
        choices=[
            *ContractStatus.choices,
            ("negotiating", "Being negotiated (draft or proposed)"),
            ("in_force", "In force (agreed, at risk or breached)"),
            ("open", "Not fulfilled or cancelled"),
            ("closed", "Fulfilled or cancelled"),
        ],
        method="filter_status",
    )
    criticality = django_filters.NumberFilter(field_name="criticality", lookup_expr="gte")
    # One cell of the dependency matrix: this provider and this consumer.
    provider = DepartmentFilter(
        field_name="provider_department", queryset=Department.objects.all(), label="Provider"
    )
    consumer = DepartmentFilter(
        field_name="consumer_department", queryset=Department.objects.all(), label="Consumer"
    )

    class Meta:
        model = Contract
        fields = [
            "department", "side", "mine", "status", "criticality", "plan_version", "provider",
            "consumer",
        ]  # fmt: skip

    def __init__(self, *args, user=None, request=None, **kwargs):
        super().__init__(*args, user=user, request=request, **kwargs)
        self.user = user if user is not None else getattr(request, "user", None)

    def filter_department(self, queryset, name, value):
        if value is None or self.data.get("side"):
            return queryset  # with a side, `filter_side` applies the department to that side
        return queryset.filter(Q(provider_department=value) | Q(consumer_department=value))

    def filter_side(self, queryset, name, value):
        if not value:
            return queryset
        department = self.form.cleaned_data.get("department")
        if department is not None:
            return queryset.filter(**{f"{value}_department": department})
        scope = perms.scope_for(self.user)
        return queryset.filter(
            Q(**{f"{value}_department_id__in": scope.departments})
            | Q(**{f"{value}_owner_id": scope.user_id})
        )

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        scope = perms.scope_for(self.user)
        condition = (
            Q(provider_department_id__in=scope.departments)
            | Q(consumer_department_id__in=scope.departments)
            | Q(provider_owner_id=scope.user_id)
            | Q(consumer_owner_id=scope.user_id)
        )
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status__in=STATUS_GROUPS.get(value, (value,)))
