"""The exceptions API's shapes: what an exception looks like, and the input of its actions."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from govern.api.serializers import ScopedPrimaryKeyRelatedField, name_of
from govern.models import Person
from kpis.models import KpiException


class ExceptionSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    escalation_level_display = serializers.CharField(
        source="get_escalation_level_display", read_only=True
    )
    kpi_code = serializers.CharField(source="kpi.code", read_only=True, allow_null=True)
    milestone_name = serializers.CharField(source="milestone.name", read_only=True, allow_null=True)
    department_name = name_of("department")
    owner_name = name_of("owner", allow_null=True)
    age_days = serializers.SerializerMethodField(help_text="Whole days since it was opened.")

    class Meta:
        model = KpiException
        fields = [
            "id", "kind", "kind_display", "status", "status_display", "title", "detail",
            "subject_key", "kpi", "kpi_code", "milestone", "milestone_name", "person", "department",
            "department_name", "owner", "owner_name", "period", "severity", "opened_at",
            "age_days", "acknowledged_at", "decided_at", "resolved_at", "decision_deadline",
            "escalation_level", "escalation_level_display", "escalated_at", "green_streak",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_age_days(self, obj: KpiException) -> int:
        return max((timezone.now() - obj.opened_at).days, 0)


class ExceptionAcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text="What you are doing about it; kept in the exception's history.",
    )  # fmt: skip


class ExceptionAssignSerializer(serializers.Serializer):
    owner = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        help_text="The new owner: an active member of the exception's department.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text="Why this person; kept in the exception's history.",
    )  # fmt: skip


class ExceptionResolveSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text="Why it is resolved (required); kept in the exception's history.",
    )  # fmt: skip
