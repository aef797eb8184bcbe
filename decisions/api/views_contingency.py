"""The contingency plan API: list, define, retrieve and change plans, disable (with the reason)
and enable them, test one against history and list the decisions it proposed (`proposals`).
Thin: reads through `decisions.selectors_contingency`, writes through
`decisions.services.contingency`.

Plans are never deleted (the decisions they proposed name them): DELETE answers 405, saying to
disable the plan instead; PUT answers 405 too (change a plan with PATCH).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from decisions import selectors_contingency as selectors
from decisions.api import serializers_contingency as s
from decisions.api.serializers import DecisionSerializer
from decisions.filtersets_contingency import ContingencyPlanFilterSet
from decisions.services import contingency as services
from govern.api.schema import ErrorResponseSerializer
from govern.api.views import GovernViewSet

NO_DELETE = (
    "Contingency plans are never deleted (the decisions they proposed name them): disable it "
    "instead (POST /api/v1/contingency-plans/{id}/disable/ with a reason)."
)
USE_PATCH = "Change a contingency plan with PATCH, giving only what changes."
REFUSED_403 = OpenApiResponse(
    ErrorResponseSerializer,
    description="You may see the plan (or its KPI) but not define or change plans on it: the "
    "PMO and the leads of the KPI's department may.",
)
STATE_409 = OpenApiResponse(
    ErrorResponseSerializer,
    description="It is disabled already (`already_disabled`) or enabled already "
    "(`already_enabled`).",
)
PLAN_EXAMPLE = {
    "kpi": "PROC-OTD",
    "name": "Second castings supplier",
    "trigger_basis": "actual",
    "threshold_pct": 8,
    "periods": 2,
    "response": "Expedite the qualification of the second castings supplier.",
    "owner": 12,
    "reallocations": [
        {"from_initiative": 9, "to_department": "PROC", "amount": "120000.00", "unit": "currency"}
    ],
}


@extend_schema_view(
    list=extend_schema(
        summary="Contingency plans you may see, by KPI",
        description="Filters: `kpi`, `department` (the KPI's), `enabled`, `owner`, "
        "`trigger_basis`, `q` (name, response, the KPI's code and name).",
    ),
    retrieve=extend_schema(summary="One contingency plan, with its reallocation template"),
    create=extend_schema(
        summary="Define a contingency plan on a KPI",
        description="The PMO and the leads of the KPI's department (else 403). The owner must "
        "be someone who may record decisions for that department. When the engine sees the "
        "trigger after a recompute, the plan proposes a decision in the owner's name (the "
        "chosen option is the response, the reallocation lines are the template), linked to "
        "the KPI's open exception, and notifies the owner.",
        request=s.ContingencyPlanInputSerializer,
        responses={201: s.ContingencyPlanSerializer, 403: REFUSED_403},
        examples=[OpenApiExample("Two months 8% under plan", value=PLAN_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Change a contingency plan (what is given; the KPI stays)",
        description="`reallocations`, when given, replaces the whole template. Audited.",
        request=s.ContingencyPlanInputSerializer,
        responses={200: s.ContingencyPlanSerializer, 403: REFUSED_403},
    ),
)
class ContingencyPlanViewSet(GovernViewSet):
    """Contingency plans: pre-agreed responses armed on a KPI. When its adverse variance (actual,
    or forecast) is at or beyond the threshold for the periods in a row, the plan proposes a
    decision. Seen by whoever sees the KPI's department; defined, changed, disabled and enabled
    by the PMO and the department's leads; never deleted."""

    serializer_class = s.ContingencyPlanSerializer
    filterset_class = ContingencyPlanFilterSet
    search_fields = ContingencyPlanFilterSet.search_fields
    ordering_fields = ["name", "kpi__code", "created_at", "last_triggered_at", "trigger_count"]
    gated_actions: dict[str, str] = {}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.contingency_plan_list(user=self.request.user).prefetch_related(
            selectors.template_lines()
        )

    def get_serializer_class(self):
        return {
            "create": s.ContingencyPlanInputSerializer,
            "partial_update": s.ContingencyPlanInputSerializer,
            "disable": s.ContingencyDisableSerializer,
            "enable": s.ContingencyEnableSerializer,
        }.get(self.action, self.serializer_class)

    def _answer(self, plan, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.reload(plan)
        body = s.ContingencyPlanSerializer(fresh, context=self.get_serializer_context()).data
        response = Response(body, status=code)
        if code == status.HTTP_201_CREATED:
            location = reverse("api-contingency-plan-detail", args=[fresh.pk])
            response["Location"] = self.request.build_absolute_uri(location)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.contingency_plan_create(
            actor=request.user, data=serializer.data_for_service()
        )
        return self._answer(plan, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.contingency_plan_update(
            actor=request.user, plan=plan, data=serializer.data_for_service()
        )
        return self._answer(updated)

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method, detail=USE_PATCH)

    @extend_schema(exclude=True)
    def destroy(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method, detail=NO_DELETE)

    @extend_schema(
        summary="Disable a plan: it stops firing (the reason is required and kept)",
        request=s.ContingencyDisableSerializer,
        responses={200: s.ContingencyPlanSerializer, 403: REFUSED_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        plan = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        disabled = services.contingency_plan_disable(
            actor=request.user, plan=plan, reason=serializer.validated_data["reason"]
        )
        return self._answer(disabled)

    @extend_schema(
        summary="Enable a disabled plan: it is armed again",
        request=s.ContingencyEnableSerializer,
        responses={200: s.ContingencyPlanSerializer, 403: REFUSED_403, 409: STATE_409},
    )
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        plan = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enabled = services.contingency_plan_enable(
            actor=request.user, plan=plan, reason=serializer.validated_data["reason"]
        )
        return self._answer(enabled)

    @extend_schema(
        summary='Test against history: "would have triggered on these dates"',
        description="Every period at which the plan would have fired over all its KPI's stored "
        "results, oldest first: the period a run reaches the trigger (`first`: the plan fires "
        "there, once per run) and each further period while the run stays. A plan's audit "
        "trail: /api/v1/audit-events/?subject_type=decisions.contingencyplan&subject_id={id}.",
        responses=s.OccasionSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        serializer_class=s.OccasionSerializer,
    )
    def history(self, request, pk=None):
        plan = self.get_object()
        occasions = selectors.contingency_plan_history(plan=plan)
        return Response(s.OccasionSerializer(occasions, many=True).data)

    @extend_schema(
        summary="The decisions the plan proposed, newest first",
        responses=DecisionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], serializer_class=DecisionSerializer)
    def proposals(self, request, pk=None):
        plan = self.get_object()
        found = selectors.contingency_plan_decisions(user=request.user, plan=plan)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
