"""The exceptions API: a ranked, filterable list, one exception, its history, and the two things
people do with an exception here: acknowledge it and assign it. Thin: reads through
`kpis.selectors`, writes through `kpis.services.exceptions` (which checks `ACT` again)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from govern.api.views import GovernViewSet
from kpis import filtersets, selectors
from kpis.api import exception_serializers as s
from kpis.services import exceptions as services

EXCEPTION_EXAMPLE = {
    "id": 41, "kind": "kpi_red", "kind_display": "KPI red", "status": "open",
    "status_display": "Open", "title": "PROC-OTD is red: Supplier on-time delivery",
    "detail": "Mar 2026: actual 81.5 against a plan of 95, 14.2% adverse (red beyond 10.0%).",
    "subject_key": "kpi:7", "kpi": 7, "kpi_code": "PROC-OTD", "milestone": None,
    "milestone_name": None, "department": 3, "department_name": "Procurement", "owner": 12,
    "owner_name": "Ana Ruiz", "period": "2026-03-01", "severity": 21.3,
    "opened_at": "2026-04-08T06:00:00Z", "age_days": 2, "acknowledged_at": None,
    "decided_at": None, "resolved_at": None, "decision_deadline": "2026-04-11T06:00:00Z",
    "escalation_level": 0, "escalation_level_display": "Owner", "escalated_at": None,
    "green_streak": 0, "updated_at": "2026-04-10T06:00:00Z",
}  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="Exceptions you may see, most severe first",
        description=(
            "Filter by `status` (`unresolved` for open, acknowledged and decided ones; `all` or "
            "absent for every status), `kind`, `department`, `owner`, `kpi`, "
            "`escalation_level`, and a severity range with `severity_min` / `severity_max`."
        ),
        examples=[OpenApiExample("A red KPI", value=EXCEPTION_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One exception",
        examples=[OpenApiExample("A red KPI", value=EXCEPTION_EXAMPLE, response_only=True)],
    ),
)
class ExceptionViewSet(GovernViewSet):
    """Exceptions are raised and resolved by the engine; people acknowledge and assign them.
    Everyone sees their departments' exceptions (executives and PMO all); the owner, the
    department's leads, the PMO and executives act on them."""

    serializer_class = s.ExceptionSerializer
    filterset_class = filtersets.ExceptionFilterSet
    search_fields = filtersets.ExceptionFilterSet.search_fields
    ordering_fields = ["severity", "opened_at", "decision_deadline", "escalation_level", "period"]

    def get_queryset(self):
        return selectors.exception_list(user=self.request.user)

    def _act(self, request, write):
        exception = self.get_object()
        services.ensure_can_act(request.user, exception)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = write(exception, serializer.validated_data)
        return Response(
            s.ExceptionSerializer(self.reload(changed), context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Acknowledge: open → acknowledged (409 when it is not open)",
        request=s.ExceptionAcknowledgeSerializer,
        responses=s.ExceptionSerializer,
        examples=[
            OpenApiExample(
                "Acknowledge with a note",
                value={"note": "Supplier review booked for Thursday."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExceptionAcknowledgeSerializer)
    def acknowledge(self, request, pk=None):
        return self._act(
            request,
            lambda exception, data: services.exception_acknowledge(
                actor=request.user, exception=exception, note=data["note"]
            ),
        )

    @extend_schema(
        summary="Resolve a target-gaming signal or an alignment exception (PMO, executives)",
        description="The engine never resolves a `governance` exception (an `alignment` one also "
        "resolves when a later assessment is fine): the PMO or an executive resolves it with a "
        "note saying why (400 without one). Every other kind resolves itself: 409 "
        "`resolved_by_engine`; an already resolved one: 409 `resolved`.",
        request=s.ExceptionResolveSerializer,
        responses=s.ExceptionSerializer,
        examples=[
            OpenApiExample(
                "Resolve with the finding",
                value={"note": "Target cut agreed by the board after the supplier fire."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExceptionResolveSerializer)
    def resolve(self, request, pk=None):
        exception = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.exception_resolve(
            actor=request.user, exception=exception, note=serializer.validated_data["note"]
        )
        return Response(
            s.ExceptionSerializer(self.reload(changed), context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Assign a new owner (a member of the exception's department)",
        request=s.ExceptionAssignSerializer,
        responses=s.ExceptionSerializer,
        examples=[
            OpenApiExample(
                "Hand it to the category manager",
                value={"owner": 12, "note": "Owns the supplier relationship."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], serializer_class=s.ExceptionAssignSerializer)
    def assign(self, request, pk=None):
        return self._act(
            request,
            lambda exception, data: services.exception_assign(
                actor=request.user, exception=exception, owner=data["owner"], note=data["note"]
            ),
        )
