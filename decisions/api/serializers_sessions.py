"""API serializers for the review sessions: shape and types only. Writes go to
`decisions.services.sessions`, which own every rule (the date, the scope, the share, the session's
state, who may decide), so the API and the pages answer with the same messages.

Departments are given by id or code; people, by id. Every relation resolves among the rows the
requesting user may see.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from decisions.api.serializers import DecisionInputSerializer, ReallocationSerializer
from decisions.choices import SessionCadence
from decisions.models import AgendaItem, Decision, ReviewSession
from dependencies.api.serializers import CodeOrIdRelatedField
from govern.api.serializers import ScopedPrimaryKeyRelatedField, name_of
from govern.models import Department, Person

# --- Reading ----------------------------------------------------------------------------------


class SessionDepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]
        read_only_fields = fields


class SessionPersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "username", "name"]
        read_only_fields = fields


class ItemDecisionSerializer(serializers.ModelSerializer):
    """The decision logged on an agenda item, in short."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    reallocations = ReallocationSerializer(many=True, read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id", "title", "status", "status_display", "chosen_option", "decided_by_name",
            "proposed_by_name", "decided_on", "reallocations",
        ]  # fmt: skip
        read_only_fields = fields


class AgendaItemSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    department_name = name_of("department", allow_null=True)
    action_owner_name = name_of("action_owner", allow_null=True)
    outcome_decision = ItemDecisionSerializer(
        read_only=True, allow_null=True, help_text="The decision logged on it in the session."
    )

    class Meta:
        model = AgendaItem
        fields = [
            "id", "position", "kind", "kind_display", "exception", "decision", "contract",
            "title", "department", "department_name", "severity", "outcome", "outcome_display",
            "action_owner", "action_owner_name", "deferred_to", "note", "outcome_decision",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class MinutesSerializer(serializers.Serializer):
    """What the session made of its agenda."""

    summary = serializers.CharField(source="session.minutes_summary", read_only=True)
    final = serializers.SerializerMethodField(help_text="The session is closed.")
    decided = AgendaItemSerializer(many=True, read_only=True)
    deferred = AgendaItemSerializer(many=True, read_only=True)
    noted = AgendaItemSerializer(many=True, read_only=True)
    pending = AgendaItemSerializer(many=True, read_only=True)

    def get_final(self, minutes) -> bool:
        return minutes.session.status == "closed"


class ReviewSessionSerializer(serializers.ModelSerializer):
    cadence_display = serializers.CharField(source="get_cadence_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    departments = SessionDepartmentSerializer(
        many=True, read_only=True, help_text="The scope; empty: the whole organisation."
    )
    chair_name = name_of("chair", allow_null=True)
    item_count = serializers.IntegerField(read_only=True, help_text="Agenda items.")
    pending_count = serializers.IntegerField(read_only=True, help_text="Items not yet dealt with.")
    decided_count = serializers.IntegerField(read_only=True, help_text="Items decided.")

    class Meta:
        model = ReviewSession
        fields = [
            "id", "title", "cadence", "cadence_display", "scheduled_for", "departments",
            "chair", "chair_name", "agenda_share", "status", "status_display",
            "agenda_generated_at", "started_at", "closed_at", "minutes_summary", "item_count",
            "pending_count", "decided_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewSessionDetailSerializer(ReviewSessionSerializer):
    """One session with its attendees, its agenda and its minutes."""

    attendees = SessionPersonSerializer(many=True, read_only=True)
    agenda = serializers.SerializerMethodField()
    minutes = serializers.SerializerMethodField()

    class Meta(ReviewSessionSerializer.Meta):
        fields = [*ReviewSessionSerializer.Meta.fields, "attendees", "agenda", "minutes"]
        read_only_fields = fields

    def _minutes(self, session):
        minutes = self.context.get("minutes")
        if minutes is None:
            from decisions.selectors_sessions import session_minutes

            minutes = self.context["minutes"] = session_minutes(session=session)
        return minutes

    @extend_schema_field(AgendaItemSerializer(many=True))
    def get_agenda(self, session) -> list[dict]:
        return AgendaItemSerializer(self._minutes(session).items, many=True).data

    @extend_schema_field(MinutesSerializer)
    def get_minutes(self, session) -> dict:
        return MinutesSerializer(self._minutes(session)).data


# --- Writing ----------------------------------------------------------------------------------


class ReviewSessionInputSerializer(serializers.Serializer):
    """A session to plan, or the fields to change (PATCH, planned sessions only). The rules (a
    date today or later, a share in (0, 1], people and departments you may see) are checked by
    the service, which answers every field's message at once."""

    title = serializers.CharField(
        required=False, allow_blank=True, help_text="Default: the cadence and the date."
    )
    cadence = serializers.ChoiceField(choices=SessionCadence.choices, required=False)
    scheduled_for = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it is held: today or later."
    )
    departments = CodeOrIdRelatedField(
        queryset=Department.objects.all(),
        many=True,
        required=False,
        help_text="The scope (ids or codes); none: the whole organisation.",
    )
    attendees = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(), many=True, required=False
    )
    chair = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        required=False,
        allow_null=True,
        help_text="Default: you. Always an attendee.",
    )
    agenda_share = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="The share of open exceptions, worst first, on the agenda (0 < share ≤ 1; "
        "default GOVERN_AGENDA_SHARE).",
    )


class SessionCloseSerializer(serializers.Serializer):
    minutes_summary = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: the summary."
    )


class ItemDecideSerializer(DecisionInputSerializer):
    """The decision to log on the item, as for POST /api/v1/decisions/: the item sets the
    exception (or contract) and the session; department and KPIs default to the item's (the
    exception's KPI), context and options considered to the item and the session."""

    exception = None
    contract = None


class ItemDeferSerializer(serializers.Serializer):
    owner = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        required=False,
        allow_null=True,
        help_text="Who owns it (required).",
    )
    deferred_to = serializers.DateField(
        required=False, allow_null=True, help_text="When it comes back: after the session."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ItemNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
