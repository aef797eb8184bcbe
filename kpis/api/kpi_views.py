"""The KPI definitions API: scoped CRUD, the computed series per period, the target trajectory
and the history. Thin: reads through `kpis.selectors`, writes through `kpis.services`."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from govern import permissions as perms
from govern.api.views import CreateWithService, DestroyWithService, GovernViewSet, UpdateWithService
from govern.models import PlanVersion
from govern.selectors import current_plan_version
from kpis import filtersets, selectors
from kpis.api import kpi_serializers as s
from kpis.services import kpis as kpi_services
from kpis.services.targets import targets_set

SERIES_EXAMPLE = [
    {
        "period": "2026-03-01", "plan": 95.0, "actual": 88.1, "variance": -6.9,
        "variance_pct": -7.26, "status": "amber", "forecast": None, "forecast_status": "",
    },
    {
        "period": "2026-04-01", "plan": 95.0, "actual": None, "variance": None,
        "variance_pct": None, "status": "pending", "forecast": 85.4, "forecast_status": "red",
    },
]  # fmt: skip
TARGETS_EXAMPLE = {
    "reason": "Q2 re-forecast agreed with the supplier board",
    "targets": [{"period": "2026-04-01", "value": 95.0}, {"period": "2026-05-01", "value": 96.0}],
}


def _targets_body(kpi, plan_version) -> dict:
    return {
        "kpi": kpi.pk,
        "plan_version": plan_version.pk if plan_version else None,
        "plan_version_name": plan_version.name if plan_version else None,
        "targets": [
            {"period": t.period, "value": t.value}
            for t in selectors.kpi_targets(kpi=kpi, plan_version=plan_version)
        ],
    }


@extend_schema_view(
    list=extend_schema(summary="KPIs you may see, filterable and searchable"),
    create=extend_schema(summary="Create a KPI (PMO anywhere, department leads in their own)"),
)
class KpiViewSet(CreateWithService, UpdateWithService, DestroyWithService, GovernViewSet):
    """KPI definitions: owner, direction, frequency, tolerance. Everyone sees their departments'
    KPIs (executives and PMO all); the PMO and the department's leads change them."""

    serializer_class = s.KpiSerializer
    filterset_class = filtersets.KpiFilterSet
    search_fields = filtersets.KpiFilterSet.search_fields
    ordering_fields = ["code", "name", "criticality", "status", "status_period", "open_exceptions"]

    def get_queryset(self):
        return selectors.kpi_list(user=self.request.user)

    def service_create(self, data):
        return kpi_services.kpi_create(actor=self.request.user, **data)

    def service_update(self, kpi, data):
        objectives = data.pop("objectives", None)
        initiatives = data.pop("initiatives", None)
        return kpi_services.kpi_update(
            actor=self.request.user,
            kpi=kpi,
            data=data,
            objectives=objectives,
            initiatives=initiatives,
        )

    def service_delete(self, kpi):
        kpi_services.kpi_delete(actor=self.request.user, kpi=kpi)

    @extend_schema(
        summary="The series: per period plan, actual, variance, status and forecast",
        description="As the last recompute stored it; never computed in the request.",
        responses=s.KpiSeriesPointSerializer(many=True),
        examples=[OpenApiExample("A monthly KPI turning amber", value=SERIES_EXAMPLE)],
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def series(self, request, pk=None):
        kpi = self.get_object()
        points = selectors.kpi_series(kpi=kpi)
        return Response(s.KpiSeriesPointSerializer(points, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The target trajectory in a plan version (the current one by default)",
        parameters=[OpenApiParameter("plan_version", int, description="Another plan version's id")],
        responses=s.TargetsSerializer,
    )
    @extend_schema(
        methods=["PUT"],
        summary="Set targets for many periods at once, with a reason",
        description="Periods not named keep their targets. Every period must be a period start "
        "for the KPI's frequency. Unchanged values are left alone; changed ones are recorded "
        "in the KPI's history with the reason, and the KPI is recomputed.",
        request=s.TargetsSetSerializer,
        responses=s.TargetReportSerializer,
        examples=[
            OpenApiExample("Re-forecast two months", value=TARGETS_EXAMPLE, request_only=True)
        ],
    )
    @action(detail=True, methods=["get", "put"], filter_backends=[], pagination_class=None)
    def targets(self, request, pk=None):
        kpi = self.get_object()
        if request.method == "GET":
            plan_version = current_plan_version()
            requested = request.query_params.get("plan_version")
            if requested:
                plan_version = perms.access(PlanVersion, request.user, requested)
            return Response(s.TargetsSerializer(_targets_body(kpi, plan_version)).data)
        perms.ensure_allowed(request.user, perms.CHANGE, kpi)
        context = {**self.get_serializer_context(), "kpi": kpi}
        serializer = s.TargetsSetSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = targets_set(
            actor=request.user,
            kpi=kpi,
            values={row["period"]: row["value"] for row in data["targets"]},
            reason=data["reason"],
            plan_version=data.get("plan_version"),
        )
        version = PlanVersion.objects.get(pk=report.plan_version_id)
        body = {**report.as_dict(), "targets": _targets_body(kpi, version)["targets"]}
        return Response(s.TargetReportSerializer(body).data, status=status.HTTP_200_OK)
