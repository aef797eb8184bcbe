"""API serializers for KPI definitions, their series and their target trajectories: shape and
types only. Writes go to `kpis.services` (see `govern.api.serializers`)."""

from __future__ import annotations

from rest_framework import serializers

from govern.api.serializers import GovernModelSerializer, ScopedPrimaryKeyRelatedField, name_of
from govern.models import Department, Initiative, Objective, Person, PlanVersion
from kpis.choices import Status
from kpis.models import Kpi
from kpis.periods import is_period_start, not_a_period_start_message

MAX_TARGETS = 1000


class KpiSerializer(GovernModelSerializer):
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.all())
    department_name = serializers.CharField(source="department.name", read_only=True)
    owner = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    owner_name = name_of("owner")
    objectives = ScopedPrimaryKeyRelatedField(
        queryset=Objective.objects.all(), many=True, required=False
    )
    initiatives = ScopedPrimaryKeyRelatedField(
        queryset=Initiative.objects.all(), many=True, required=False
    )
    open_exceptions = serializers.IntegerField(
        read_only=True, help_text="Unresolved exceptions raised on this KPI."
    )

    class Meta:
        model = Kpi
        fields = [
            "id", "code", "name", "description", "department", "department_name", "owner",
            "owner_name", "unit", "direction", "frequency", "criticality", "objectives",
            "initiatives", "tolerance_mode", "amber_threshold", "red_threshold", "band_low",
            "band_high", "is_active", "status", "status_period", "forecast_status",
            "computed_at", "open_exceptions", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["status", "status_period", "forecast_status", "computed_at"]
        extra_kwargs = {
            "code": {"help_text": "Stable and unique, used by imports: e.g. PROC-OTD."},
            "amber_threshold": {
                "help_text": "Adverse variance beyond which a period is amber: percent of plan "
                "(tolerance_mode percent) or units (absolute)."
            },
            "red_threshold": {"help_text": "Beyond this a period is red; above the amber one."},
            "band_low": {"help_text": "Within-band KPIs only: the low end of the band."},
            "band_high": {"help_text": "Within-band KPIs only: the high end of the band."},
        }


class KpiSeriesPointSerializer(serializers.Serializer):
    """One period of a KPI as the recompute stored it."""

    period = serializers.DateField(help_text="The period's start date.")
    plan = serializers.FloatField(allow_null=True)
    actual = serializers.FloatField(allow_null=True)
    variance = serializers.FloatField(allow_null=True, help_text="actual − plan")
    variance_pct = serializers.FloatField(
        allow_null=True, help_text="variance / |plan| × 100; null when the plan is 0"
    )
    status = serializers.ChoiceField(choices=Status.choices)
    forecast = serializers.FloatField(allow_null=True)
    forecast_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True)


class TargetValueSerializer(serializers.Serializer):
    period = serializers.DateField(help_text="A period start for the KPI's frequency.")
    value = serializers.FloatField()

    def validate_period(self, value):
        kpi = self.context.get("kpi")
        if kpi is not None and not is_period_start(value, kpi.frequency):
            raise serializers.ValidationError(not_a_period_start_message(value, kpi.frequency))
        return value


class TargetsSerializer(serializers.Serializer):
    """A KPI's trajectory in one plan version."""

    kpi = serializers.IntegerField(read_only=True)
    plan_version = serializers.IntegerField(read_only=True, allow_null=True)
    plan_version_name = serializers.CharField(read_only=True, allow_null=True)
    targets = TargetValueSerializer(many=True, read_only=True)


class TargetsSetSerializer(serializers.Serializer):
    plan_version = ScopedPrimaryKeyRelatedField(
        queryset=PlanVersion.objects.all(),
        required=False,
        allow_null=True,
        help_text="The plan version to write into: the current approved one when omitted; a "
        "draft may be named; superseded versions are frozen.",
    )
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the targets change; kept in the KPI's history."
    )
    targets = TargetValueSerializer(many=True, max_length=MAX_TARGETS)

    def validate_targets(self, rows):
        seen, duplicates = set(), []
        for row in rows:
            if row["period"] in seen:
                duplicates.append(row["period"].isoformat())
            seen.add(row["period"])
        if duplicates:
            raise serializers.ValidationError(
                f"Each period once: {', '.join(sorted(set(duplicates)))} is given more than once."
            )
        return rows


class TargetReportSerializer(serializers.Serializer):
    kpi = serializers.IntegerField()
    plan_version = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    changes = serializers.DictField(
        child=serializers.DictField(),
        help_text='Per changed period: {"old": value or null, "new": value}.',
    )
    targets = TargetValueSerializer(many=True)
