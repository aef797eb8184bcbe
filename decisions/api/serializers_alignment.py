"""API serializers for the alignment assessments: shape and types only. Writes go to
`decisions.services.alignment`, which owns every rule (scores 1–5, the quarter, the leader's
membership, one per leader, department and quarter), so the API and the pages answer with the
same messages. The department is given by id or code; the leader by id, among the people the
requesting user may see."""

from __future__ import annotations

from rest_framework import serializers

from decisions.engine.alignment import quarter_label
from decisions.models import AlignmentAssessment
from dependencies.api.serializers import code_or_id
from govern.api.serializers import ScopedPrimaryKeyRelatedField, name_of
from govern.models import Department, Person


class AlignmentAssessmentSerializer(serializers.ModelSerializer):
    quarter = serializers.SerializerMethodField(help_text='The quarter assessed, e.g. "Q2 2026".')
    leader_name = name_of("leader")
    department_name = name_of("department")
    score = serializers.FloatField(read_only=True, help_text="The mean of the three scores.")
    assessed_by_name = name_of("assessed_by", allow_null=True)

    class Meta:
        model = AlignmentAssessment
        fields = [
            "id", "period", "quarter", "leader", "leader_name", "department", "department_name",
            "understanding", "commitment", "resources", "score", "resistance_notes",
            "assessed_by", "assessed_by_name", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_quarter(self, assessment) -> str:
        return quarter_label(assessment.period)


SCORE_HELP = "1 (not at all) to 5 (fully)."


class AlignmentAssessmentInputSerializer(serializers.Serializer):
    """An assessment to record (all of it) or to correct (PATCH: what changes). The service checks
    the rules and answers every field's message at once."""

    leader = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(), help_text="The leader assessed: a member of the department."
    )
    department = code_or_id(Department)
    period = serializers.DateField(
        help_text="Any day of the quarter assessed (stored as its first day); not a quarter "
        "still to come."
    )
    understanding = serializers.IntegerField(
        help_text=f"Understanding of the objectives, {SCORE_HELP}"
    )
    commitment = serializers.IntegerField(help_text=f"Commitment, {SCORE_HELP}")
    resources = serializers.IntegerField(help_text=f"Adequacy of the resources, {SCORE_HELP}")
    resistance_notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Notes on resistance."
    )
