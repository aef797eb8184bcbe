"""API serializers for contingency plans: shape and types only. Writes go to
`decisions.services.contingency`, which owns every rule (who may define a plan, the threshold and
period limits, who may own it, the reallocation template's lines), so the API and the pages answer
with the same messages.

KPIs are given by id or code (`"PROC-OTD"`); people and initiatives by id; departments by id or
code. Every relation resolves among the rows the requesting user may see.
"""

from __future__ import annotations

from rest_framework import serializers

from decisions.api.serializers import ReallocationInputSerializer
from decisions.choices import TriggerBasis
from decisions.models import ContingencyPlan, ContingencyReallocation
from dependencies.api.serializers import CodeOrIdRelatedField
from govern.api.serializers import ScopedPrimaryKeyRelatedField, name_of
from govern.models import Person
from kpis.models import Kpi

# --- Reading ----------------------------------------------------------------------------------


class ContingencyReallocationSerializer(serializers.ModelSerializer):
    from_initiative_name = name_of("from_initiative", allow_null=True)
    from_department_name = name_of("from_department", allow_null=True)
    to_initiative_name = name_of("to_initiative", allow_null=True)
    to_department_name = name_of("to_department", allow_null=True)
    unit_display = serializers.CharField(source="get_unit_display", read_only=True)

    class Meta:
        model = ContingencyReallocation
        fields = [
            "id", "from_initiative", "from_initiative_name", "from_department",
            "from_department_name", "to_initiative", "to_initiative_name", "to_department",
            "to_department_name", "amount", "unit", "unit_display",
        ]  # fmt: skip
        read_only_fields = fields


class ContingencyPlanSerializer(serializers.ModelSerializer):
    kpi_code = serializers.CharField(source="kpi.code", read_only=True)
    kpi_name = serializers.CharField(source="kpi.name", read_only=True)
    department = serializers.IntegerField(source="kpi.department_id", read_only=True)
    department_name = serializers.CharField(source="kpi.department.name", read_only=True)
    trigger_basis_display = serializers.CharField(
        source="get_trigger_basis_display", read_only=True
    )
    owner_name = name_of("owner")
    disabled_by_name = name_of("disabled_by", allow_null=True)
    created_by_name = name_of("created_by", allow_null=True)
    definition = serializers.SerializerMethodField(
        help_text='The plan in words: "If PROC-OTD is ≥ 8% below plan for 2 consecutive months '
        '(actual), then …".'
    )
    open_proposal = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The decision it proposed that still awaits a decision; it does not fire "
        "again meanwhile.",
    )
    reallocations = ContingencyReallocationSerializer(many=True, read_only=True)

    class Meta:
        model = ContingencyPlan
        fields = [
            "id", "kpi", "kpi_code", "kpi_name", "department", "department_name", "name",
            "trigger_basis", "trigger_basis_display", "threshold_pct", "periods", "response",
            "definition", "owner", "owner_name", "reallocations", "enabled", "disabled_at",
            "disabled_by", "disabled_by_name", "disabled_reason", "last_triggered_at",
            "last_triggered_period", "trigger_count", "open_proposal", "created_by",
            "created_by_name", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_definition(self, plan) -> str:
        from decisions.services.contingency import describe_plan

        return describe_plan(plan)


class WindowPeriodSerializer(serializers.Serializer):
    period = serializers.DateField()
    value = serializers.FloatField(
        allow_null=True, help_text="The actual (forecast basis: the forecast)."
    )
    plan = serializers.FloatField(allow_null=True)
    adverse_pct = serializers.FloatField(
        allow_null=True, help_text="Adverse variance in % of plan: positive is worse."
    )


class OccasionSerializer(serializers.Serializer):
    period = serializers.DateField(
        help_text="A period at which the plan would have fired (forecast basis: the as-of "
        "period, the latest actual then)."
    )
    since = serializers.DateField(help_text="The first occasion of its run.")
    first = serializers.BooleanField(
        help_text="The run reaches the trigger here: the plan fires once per run, here."
    )
    run_length = serializers.IntegerField(
        help_text="Actual basis: periods at or beyond the threshold in a row; forecast basis: "
        "as-of periods firing in a row."
    )
    window = WindowPeriodSerializer(many=True, help_text="The periods judged, oldest first.")


# --- Writing ----------------------------------------------------------------------------------


class ContingencyPlanInputSerializer(serializers.Serializer):
    """A plan to define (POST) or what changes of it (PATCH; the KPI stays). The service checks
    the rules and answers every field's message at once."""

    kpi = CodeOrIdRelatedField(
        queryset=Kpi.objects.all(), required=False, help_text="The KPI watched (id or code)."
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    trigger_basis = serializers.ChoiceField(choices=TriggerBasis.choices, required=False)
    threshold_pct = serializers.FloatField(
        required=False, help_text="Adverse variance in % of plan, 0.1–1000."
    )
    periods = serializers.IntegerField(
        required=False,
        help_text="Consecutive periods, 1–24 (forecast basis: at most the forecast horizon).",
    )
    response = serializers.CharField(required=False, allow_blank=True)
    owner = ScopedPrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        required=False,
        help_text="Who owns the response; someone who may record decisions for the KPI's "
        "department.",
    )
    reallocations = ReallocationInputSerializer(
        many=True, required=False, help_text="The template; replaced as a whole when given."
    )

    def data_for_service(self) -> dict:
        data = dict(self.validated_data)
        if "reallocations" in data:
            data["reallocations"] = [dict(line) for line in data["reallocations"]]
        return data


class ContingencyDisableSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: why it stops."
    )


class ContingencyEnableSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Optional."
    )
