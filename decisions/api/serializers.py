"""API serializers for the decision log: shape and types only. Writes go to `decisions.services`,
which own every rule (the outcome rule, the trade-off rule, the expected effect, who may decide),
so the API and the pages answer with the same messages.

Departments and KPIs are given by id or by code (`"PROC"`, `"PROC-OTD"`); everything else by id.
Every relation resolves among the rows the requesting user may see, so a hidden one reads like one
that does not exist.
"""

from __future__ import annotations

from rest_framework import serializers

from decisions.choices import ExpectedEffectKind, ReallocationUnit
from decisions.models import Decision, LogEntry, Reallocation
from dependencies.api.serializers import CodeOrIdRelatedField, code_or_id
from dependencies.models import Contract
from govern.api.serializers import ScopedPrimaryKeyRelatedField, name_of
from govern.models import Department, Initiative, Objective
from kpis.models import Kpi, KpiException

# --- Reading ----------------------------------------------------------------------------------


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kpi
        fields = ["id", "code", "name"]
        read_only_fields = fields


class ReallocationSerializer(serializers.ModelSerializer):
    from_initiative_name = name_of("from_initiative", allow_null=True)
    from_department_name = name_of("from_department", allow_null=True)
    to_initiative_name = name_of("to_initiative", allow_null=True)
    to_department_name = name_of("to_department", allow_null=True)
    unit_display = serializers.CharField(source="get_unit_display", read_only=True)

    class Meta:
        model = Reallocation
        fields = [
            "id", "from_initiative", "from_initiative_name", "from_department",
            "from_department_name", "to_initiative", "to_initiative_name", "to_department",
            "to_department_name", "amount", "unit", "unit_display",
        ]  # fmt: skip
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer):
    department_name = name_of("department")
    kpis = OutcomeSerializer(many=True, read_only=True, help_text="The outcomes it should move.")
    exception_title = name_of("exception", allow_null=True)
    initiative_name = name_of("initiative", allow_null=True)
    contract_code = serializers.CharField(source="contract.code", read_only=True, allow_null=True)
    objective_title = name_of("objective", allow_null=True)
    tradeoff_objective_title = name_of("tradeoff_objective", allow_null=True)
    tradeoff_initiative_name = name_of("tradeoff_initiative", allow_null=True)
    expected_kpi_code = serializers.CharField(
        source="expected_kpi.code", read_only=True, allow_null=True
    )
    reallocations = ReallocationSerializer(many=True, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    effectiveness_display = serializers.CharField(
        source="get_effectiveness_display", read_only=True
    )
    superseded_by = serializers.SerializerMethodField(
        help_text="The decision that replaced this one, once superseded."
    )
    actions = serializers.SerializerMethodField(
        help_text="What you may do with it now: `decide` (proposed) or `supersede` (decided)."
    )

    class Meta:
        model = Decision
        fields = [
            "id", "title", "context", "options_considered", "chosen_option", "rationale",
            "department", "department_name", "kpis", "exception", "exception_title",
            "initiative", "initiative_name", "contract", "contract_code", "objective",
            "objective_title", "tradeoff_objective", "tradeoff_objective_title",
            "tradeoff_initiative", "tradeoff_initiative_name", "tradeoff_statement",
            "reallocations", "expected_kpi", "expected_kpi_code", "expected_kind",
            "expected_value", "review_date", "status", "status_display", "proposed_by",
            "proposed_by_name", "decided_by", "decided_by_name", "decided_by_role", "decided_on",
            "decided_at", "supersedes", "superseded_by", "cross_department", "effectiveness",
            "effectiveness_display", "effectiveness_note", "reviewed_at", "created_at", "hash",
            "actions",
        ]  # fmt: skip
        read_only_fields = fields

    def get_superseded_by(self, decision) -> int | None:
        try:
            return decision.superseded_by.pk
        except Decision.DoesNotExist:
            return None

    def get_actions(self, decision) -> list[str]:
        from decisions.selectors import decision_actions

        request = self.context.get("request")
        return sorted(decision_actions(getattr(request, "user", None), decision))


class LogEntrySerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    payload = serializers.JSONField(
        read_only=True, help_text="What the entry records; part of what its hash covers."
    )

    class Meta:
        model = LogEntry
        fields = [
            "sequence", "kind", "kind_display", "decision", "actor", "actor_name",
            "occurred_at", "payload", "prev_hash", "hash",
        ]  # fmt: skip
        read_only_fields = fields


class BrokenLinkSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(
        allow_null=True, help_text="The first entry that does not verify (null: not logged)."
    )
    decision_id = serializers.IntegerField(allow_null=True, help_text="The decision it concerns.")
    reason = serializers.CharField()


class ChainStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Every entry and every decision verifies.")
    checked = serializers.IntegerField(help_text="Log entries verified.")
    decisions = serializers.IntegerField(help_text="Decisions checked against their entries.")
    last_sequence = serializers.IntegerField(help_text="The chain's last entry.")
    checked_at = serializers.DateTimeField(help_text="When the verification ran.")
    first_broken = BrokenLinkSerializer(allow_null=True)


# --- Writing ----------------------------------------------------------------------------------


def _scoped(model, **kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(
        queryset=model.objects.all(), required=False, allow_null=True, **kwargs
    )


class ReallocationInputSerializer(serializers.Serializer):
    from_initiative = _scoped(Initiative, help_text="Where the resources come from…")
    from_department = code_or_id(
        Department, required=False, allow_null=True
    )  # … or a department (id or code)
    to_initiative = _scoped(Initiative, help_text="Where they go…")
    to_department = code_or_id(Department, required=False, allow_null=True)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text="More than 0."
    )
    unit = serializers.ChoiceField(
        choices=ReallocationUnit.choices, required=False, allow_blank=True
    )


TEXT = {"required": False, "allow_blank": True, "default": ""}


class DecisionInputSerializer(serializers.Serializer):
    """A decision to log (or to supersede another with). The rules (at least one KPI outcome,
    the trade-off when the exception asks for one, a complete expected effect) are checked by
    the service, which answers every field's message at once."""

    title = serializers.CharField(max_length=200, help_text="Required.", **TEXT)
    context = serializers.CharField(help_text="The situation (required).", **TEXT)
    options_considered = serializers.CharField(help_text="The options weighed (required).", **TEXT)
    chosen_option = serializers.CharField(help_text="Required.", **TEXT)
    rationale = serializers.CharField(help_text="Why this option (required).", **TEXT)
    department = code_or_id(Department, required=False, allow_null=True)
    kpis = CodeOrIdRelatedField(
        queryset=Kpi.objects.all(),
        many=True,
        required=False,
        help_text="The outcomes (KPIs, by id or code) it is meant to move: at least one.",
    )
    exception = _scoped(KpiException, help_text="The exception it answers (moves it to decided).")
    initiative = _scoped(Initiative)
    contract = _scoped(Contract)
    objective = _scoped(Objective)
    tradeoff_objective = _scoped(Objective, help_text="What is sacrificed: an objective…")
    tradeoff_initiative = _scoped(Initiative, help_text="… and/or an initiative.")
    tradeoff_statement = serializers.CharField(
        help_text="What is sacrificed and why (required with a trade-off).", **TEXT
    )
    reallocations = ReallocationInputSerializer(many=True, required=False)
    expected_kpi = CodeOrIdRelatedField(
        queryset=Kpi.objects.all(),
        required=False,
        allow_null=True,
        help_text="The KPI whose movement is expected (one of the outcomes or another).",
    )
    expected_kind = serializers.ChoiceField(
        choices=ExpectedEffectKind.choices, required=False, allow_blank=True
    )
    expected_value = serializers.FloatField(required=False, allow_null=True)
    review_date = serializers.DateField(
        required=False, allow_null=True, help_text="When the effect is checked: after the decision."
    )
    decided_on = serializers.DateField(
        required=False, allow_null=True, help_text="The decision's date: today when omitted."
    )
    propose = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Record it as proposed, for someone with authority to decide.",
    )

    def data_for_service(self) -> tuple[dict, bool]:
        """(the decision's fields for `decision_log`, propose)."""
        data = dict(self.validated_data)
        propose = data.pop("propose", False)
        data["reallocations"] = [dict(line) for line in data.get("reallocations", [])]
        return data, propose


class DecisionSupersedeSerializer(DecisionInputSerializer):
    """The new decision, decided now: `propose` does not apply."""

    propose = None


class DecisionDecideSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in the log."
    )
