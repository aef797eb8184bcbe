"""The decision log API: list, retrieve and log decisions, decide a proposed one, supersede a
decided one, read a decision's entries in the hash chain and the chain's status. Thin: reads
through `decisions.selectors`, writes through `decisions.services`.

The log is append-only: PUT, PATCH and DELETE answer 405 and change nothing.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
from rest_framework.response import Response

from decisions import filtersets, selectors, services
from decisions.api import serializers as s
from govern import permissions as perms
from govern.api.schema import ErrorResponseSerializer
from govern.api.views import GovernViewSet

APPEND_ONLY = (
    "Decisions are append-only: supersede it instead (POST /api/v1/decisions/{id}/supersede/)."
)
NOT_DECIDABLE_409 = OpenApiResponse(
    ErrorResponseSerializer,
    description="Its status forbids it: only a proposed decision is decided (`not_proposed`), "
    "only a decided one is superseded (`not_decided`).",
)
REFUSED_403 = OpenApiResponse(
    ErrorResponseSerializer,
    description="You may see it but not decide it: the message says who may (a lead of its "
    "department, the PMO or an executive; only an executive when it crosses departments).",
)

DECISION_EXAMPLE = {
    "title": "Qualify a second castings supplier",
    "context": "Castings on-time delivery has been red for three months.",
    "options_considered": "Wait for the supplier's new furnace\nExpedite a second supplier",
    "chosen_option": "Expedite a second supplier",
    "rationale": "The furnace is six months away; the line cannot wait.",
    "department": "PROC", "kpis": ["PROC-OTD"], "exception": 41,
    "tradeoff_initiative": 9,
    "tradeoff_statement": "The spring campaign is cut by a third to pay for the audit.",
    "reallocations": [
        {"from_initiative": 9, "to_department": "PROC", "amount": "120000.00", "unit": "currency"}
    ],
    "expected_kpi": "PROC-OTD", "expected_kind": "value", "expected_value": 92,
    "review_date": "2026-07-31",
}  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="Decisions you may see, newest first",
        description="Filters: `department`, `status`, `effectiveness`, `kpi` (an outcome or the "
        "expected-effect KPI), `exception`, `cross_department`, `q` (title, context, chosen "
        "option, rationale, trade-off).",
    ),
    retrieve=extend_schema(summary="One decision, with its outcomes and reallocation lines"),
    create=extend_schema(
        summary="Log a decision: decided, or proposed (`propose`)",
        description="Decided when you have authority to decide it (a lead of its department, "
        "the PMO or an executive; only an executive when it crosses departments), else 403 "
        "saying who may. With `propose: true` it is recorded as proposed by anyone who may "
        "record decisions for the department (its members other than viewers, its leads, the "
        "PMO, executives). A decided decision moves the exception it answers to `decided`.",
        request=s.DecisionInputSerializer,
        responses={201: s.DecisionSerializer, 403: REFUSED_403},
        examples=[OpenApiExample("A trade-off with a reallocation", value=DECISION_EXAMPLE)],
    ),
)
class DecisionViewSet(GovernViewSet):
    """The decision log: decisions against the outcomes (KPIs) they are meant to move, with their
    trade-off, reallocations and expected effect. Append-only: a correction is a new decision
    that supersedes the old one. Everyone sees their departments' decisions and those that
    touch their departments (executives and PMO all)."""

    serializer_class = s.DecisionSerializer
    filterset_class = filtersets.DecisionFilterSet
    search_fields = filtersets.DecisionFilterSet.search_fields
    ordering_fields = ["created_at", "decided_on", "review_date", "title", "status"]
    gated_actions: dict[str, str] = {}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.decision_list(user=self.request.user)

    def get_serializer_class(self):
        return {
            "create": s.DecisionInputSerializer,
            "decide": s.DecisionDecideSerializer,
            "supersede": s.DecisionSupersedeSerializer,
        }.get(self.action, self.serializer_class)

    def _answer(self, decision, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.reload(decision)
        body = s.DecisionSerializer(fresh, context=self.get_serializer_context()).data
        response = Response(body, status=code)
        if code == status.HTTP_201_CREATED:
            location = reverse("api-decision-detail", args=[fresh.pk])
            response["Location"] = self.request.build_absolute_uri(location)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, propose = serializer.data_for_service()
        decision = services.decision_log(actor=request.user, data=data, propose=propose)
        return self._answer(decision, status.HTTP_201_CREATED)

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method, detail=APPEND_ONLY)

    @extend_schema(exclude=True)
    def partial_update(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method, detail=APPEND_ONLY)

    @extend_schema(exclude=True)
    def destroy(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method, detail=APPEND_ONLY)

    @extend_schema(
        summary="Decide a proposed decision (someone with authority for it)",
        request=s.DecisionDecideSerializer,
        responses={200: s.DecisionSerializer, 403: REFUSED_403, 409: NOT_DECIDABLE_409},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        decision = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = services.decision_decide(
            actor=request.user, decision=decision, note=serializer.validated_data["note"]
        )
        return self._answer(decided)

    @extend_schema(
        summary="Supersede a decided decision with a new one (the body is the new decision)",
        description="The new decision is decided now and names the old one in `supersedes`; the "
        "old one becomes `superseded`. You need authority over both.",
        request=s.DecisionSupersedeSerializer,
        responses={201: s.DecisionSerializer, 403: REFUSED_403, 409: NOT_DECIDABLE_409},
    )
    @action(detail=True, methods=["post"])
    def supersede(self, request, pk=None):
        decision = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, _ = serializer.data_for_service()
        new = services.decision_supersede(actor=request.user, decision=decision, data=data)
        return self._answer(new, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The decision's entries in the tamper-evident log, oldest first",
        responses=s.LogEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[], serializer_class=s.LogEntrySerializer)
    def log(self, request, pk=None):
        decision = self.get_object()
        entries = selectors.decision_log_entries(user=request.user, decision=decision)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Does the decision log verify? (the hash chain and every decision)",
        description="The result of the last full verification, cached until the next entry or "
        "for five minutes. `refresh=true` (PMO, executives) verifies now.",
        parameters=[
            OpenApiParameter("refresh", OpenApiTypes.BOOL, description="Verify now (PMO)."),
        ],
        responses={200: s.ChainStatusSerializer},
    )
    @action(
        detail=False,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        serializer_class=s.ChainStatusSerializer,
    )
    def verify(self, request):
        refresh = request.query_params.get("refresh", "").lower() in ("1", "true", "yes")
        if refresh and not perms.scope_for(request.user).reads_everything:
            raise PermissionDenied("Only the PMO and executives may run a full verification.")
        chain_status = selectors.chain_status(refresh=refresh)
        return Response(s.ChainStatusSerializer(chain_status).data)
