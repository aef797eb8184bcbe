"""The alignment assessments API: list (filters `leader`, `department`, `period`, `from`, `to`,
`q`), record, retrieve, correct (PATCH) and each assessment's history. No delete: an assessment is
corrected, never removed (405). Thin: reads through `decisions.selectors_alignment`, writes
through `decisions.services.alignment`."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.response import Response

from decisions import selectors_alignment as selectors
from decisions.api import serializers_alignment as s
from decisions.filtersets_alignment import AlignmentFilterSet
from decisions.models import AlignmentAssessment
from decisions.services import alignment as services
from govern import permissions as perms
from govern.api.schema import ErrorResponseSerializer
from govern.api.views import GovernViewSet

ASSESSMENT_EXAMPLE = {
    "leader": 14, "department": "PROC", "period": "2026-04-01", "understanding": 4,
    "commitment": 2, "resources": 3,
    "resistance_notes": "Doubts the supplier consolidation will survive the castings shortage.",
}  # fmt: skip
INVALID_400 = OpenApiResponse(
    ErrorResponseSerializer,
    description="A field is wrong: a score outside 1–5, a quarter still to come, a leader who "
    "is not a member of the department, a second assessment of the leader for the department "
    "and quarter. `fields` names each.",
)
REFUSED_403 = OpenApiResponse(
    ErrorResponseSerializer, description="Only the PMO and executives record and correct them."
)


@extend_schema_view(
    list=extend_schema(
        summary="Alignment assessments you may see, newest quarter first",
        description="The PMO and executives see every assessment; a leader sees their own. "
        "Filters: `leader`, `department`, `period` (any day of the quarter), `from` (quarters "
        "from the one holding this date), `to` (quarters starting on or before this date), `q` "
        "(the leader's name, the notes).",
    ),
    retrieve=extend_schema(summary="One alignment assessment"),
    create=extend_schema(
        summary="Record an alignment assessment (PMO, executives)",
        description="Scores are whole numbers 1–5; `period` is normalised to the first day of "
        "its quarter. A low score or a falling mean raises (or updates) the leader's `alignment` "
        "exception for the PMO; an assessment neither low nor falling resolves it "
        "(docs/alignment.md).",
        request=s.AlignmentAssessmentInputSerializer,
        responses={201: s.AlignmentAssessmentSerializer, 400: INVALID_400, 403: REFUSED_403},
        examples=[OpenApiExample("A Procurement lead in Q2", value=ASSESSMENT_EXAMPLE)],
    ),
    partial_update=extend_schema(
        summary="Correct an alignment assessment (PMO, executives)",
        description="Send the fields that change; they are checked as when recorded, and the "
        "leader's alignment exception is re-judged.",
        request=s.AlignmentAssessmentInputSerializer(partial=True),
        responses={200: s.AlignmentAssessmentSerializer, 400: INVALID_400, 403: REFUSED_403},
    ),
)
class AlignmentAssessmentViewSet(GovernViewSet):
    """Alignment assessments: for each leader and quarter, scores 1–5 on understanding of the
    objectives, commitment and adequacy of resources, and notes on resistance. Sensitive: the PMO
    and executives see and record them; a leader sees their own. Never deleted."""

    serializer_class = s.AlignmentAssessmentSerializer
    filterset_class = AlignmentFilterSet
    search_fields = AlignmentFilterSet.search_fields
    ordering_fields = ["period", "created_at", "understanding", "commitment", "resources"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    gated_actions = {"partial_update": perms.CHANGE}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.assessment_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return s.AlignmentAssessmentInputSerializer
        return self.serializer_class

    def _answer(self, assessment: AlignmentAssessment, code: int = status.HTTP_200_OK):
        fresh = self.reload(assessment)
        body = s.AlignmentAssessmentSerializer(fresh, context=self.get_serializer_context()).data
        response = Response(body, status=code)
        if code == status.HTTP_201_CREATED:
            location = reverse("api-alignment-assessment-detail", args=[fresh.pk])
            response["Location"] = self.request.build_absolute_uri(location)
        return response

    def create(self, request, *args, **kwargs):
        perms.ensure_can_add(request.user, AlignmentAssessment)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assessment = services.assessment_record(actor=request.user, **serializer.validated_data)
        return self._answer(assessment, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        assessment = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.assessment_update(
            actor=request.user, assessment=assessment, data=dict(serializer.validated_data)
        )
        return self._answer(updated)
