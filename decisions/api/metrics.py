"""GET /api/v1/metrics/decision-latency/?department=&from=&to=: decision latency, decisions within
their deadline and effective decisions, overall, per department and per month. Thin: reads the
parameters and calls `decisions.metrics`; the definitions are in docs/decision-effectiveness.md."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.metrics import DEFAULT_MONTHS, MAX_MONTHS, decision_metrics, metrics_filters
from govern.api.schema import ERROR_DESCRIPTIONS, ErrorResponseSerializer


class MetricsLatencySerializer(serializers.Serializer):
    median = serializers.FloatField(
        allow_null=True, help_text="Median days from opening to the first decision."
    )
    p90 = serializers.FloatField(
        allow_null=True, help_text="90th percentile (linear interpolation), in days."
    )
    count = serializers.IntegerField(help_text="Exceptions with a decision.")


class MetricsWithinDeadlineSerializer(serializers.Serializer):
    in_time = serializers.IntegerField(
        help_text="First decision no later than the deadline set at opening."
    )
    due = serializers.IntegerField(
        help_text=(
            "Exceptions whose outcome is known: decided, or past that deadline undecided while "
            "unresolved."
        )
    )
    share = serializers.FloatField(allow_null=True, help_text="in_time ÷ due; null when due is 0.")


class MetricsEffectivenessSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField(help_text="Decisions reviewed, whatever the verdict.")
    effective = serializers.IntegerField()
    ineffective = serializers.IntegerField()
    inconclusive = serializers.IntegerField(help_text="No data at the review: no verdict.")
    share = serializers.FloatField(
        allow_null=True, help_text="effective ÷ reviewed; null when none was reviewed."
    )


class MetricsSummarySerializer(serializers.Serializer):
    exceptions = serializers.IntegerField(help_text="Exceptions opened in the range.")
    decided = serializers.IntegerField(help_text="Of those, the ones with a decision.")
    latency_days = MetricsLatencySerializer()
    within_deadline = MetricsWithinDeadlineSerializer()
    effectiveness = MetricsEffectivenessSerializer(
        help_text="Decisions whose review date falls in the range (or the month)."
    )


class MetricsDepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class MetricsDepartmentSummarySerializer(MetricsSummarySerializer):
    department = MetricsDepartmentSerializer()

    def to_representation(self, instance):
        return {
            "department": MetricsDepartmentSerializer(instance.department).data,
            **MetricsSummarySerializer(instance.summary).data,
        }


class MetricsMonthSummarySerializer(MetricsSummarySerializer):
    month = serializers.CharField(help_text="YYYY-MM.")

    def to_representation(self, instance):
        return {"month": instance.month, **MetricsSummarySerializer(instance.summary).data}


class DecisionMetricsSerializer(serializers.Serializer):
    department = MetricsDepartmentSerializer(
        source="filters.department", allow_null=True, help_text="The department asked for."
    )
    overall = MetricsSummarySerializer()
    departments = MetricsDepartmentSummarySerializer(
        many=True, help_text="Per department with exceptions or decisions in the range, by name."
    )
    months = MetricsMonthSummarySerializer(
        many=True, help_text="Every month of the range, in order; empty months count zero."
    )

    def get_fields(self):
        # `from` is a Python keyword: the range's fields are added here, first.
        return {
            "from": serializers.DateField(
                source="filters.start", help_text="The first day counted."
            ),
            "to": serializers.DateField(source="filters.end", help_text="The last day counted."),
            **super().get_fields(),
        }


def _summary(exceptions, decided, median, p90, in_time, due, effective, ineffective, unknown):
    reviewed = effective + ineffective + unknown
    return {
        "exceptions": exceptions,
        "decided": decided,
        "latency_days": {"median": median, "p90": p90, "count": decided},
        "within_deadline": {
            "in_time": in_time,
            "due": due,
            "share": round(in_time / due, 4) if due else None,
        },
        "effectiveness": {
            "reviewed": reviewed,
            "effective": effective,
            "ineffective": ineffective,
            "inconclusive": unknown,
            "share": round(effective / reviewed, 4) if reviewed else None,
        },
    }


EXAMPLE = {
    "from": "2026-01-01",
    "to": "2026-02-28",
    "department": None,
    "overall": _summary(5, 4, 2.5, 6.4, 2, 4, 1, 1, 0),
    "departments": [
        {
            "department": {"id": 2, "code": "PROC", "name": "Procurement"},
            **_summary(3, 3, 2.0, 6.8, 1, 3, 1, 1, 0),
        },
        {
            "department": {"id": 1, "code": "SALES", "name": "Sales"},
            **_summary(2, 1, 3.0, 3.0, 1, 1, 0, 0, 0),
        },
    ],
    "months": [
        {"month": "2026-01", **_summary(3, 3, 2.0, 6.8, 1, 3, 1, 0, 0)},
        {"month": "2026-02", **_summary(2, 1, 3.0, 3.0, 1, 1, 0, 1, 0)},
    ],
}


class DecisionLatencyView(APIView):
    """Decision metrics over what the user may see."""

    @extend_schema(
        operation_id="metrics_decision_latency",
        summary="Decision latency, decisions within deadline and effective decisions",
        description=(
            "Over the exceptions opened and the decisions due for review from `from` to `to` "
            "(both included; by default the last twelve months) that you may see: decision "
            "latency (exception opened → its first decision, in days: median, 90th percentile, "
            "count), the share of exceptions decided within the deadline set at their opening, "
            "and the share of reviewed decisions judged effective; overall, per department "
            "and per month (exceptions by the month they opened, decisions by the month of "
            "their review date). See docs/decision-effectiveness.md."
        ),
        parameters=[
            OpenApiParameter(
                "department",
                int,
                required=False,
                description="Only this department (an id you may see).",
            ),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                required=False,
                description=(
                    "First day counted, YYYY-MM-DD (default: the first day of the month "
                    f"{DEFAULT_MONTHS - 1} months before `to`)."
                ),
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                required=False,
                description=(
                    "Last day counted, YYYY-MM-DD (default: today). At most "
                    f"{MAX_MONTHS} months from `from`."
                ),
            ),
        ],
        responses={
            200: DecisionMetricsSerializer,
            400: OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS["400"]),
        },
        examples=[OpenApiExample("Two months", value=EXAMPLE, response_only=True)],
    )
    def get(self, request):
        filters = metrics_filters(
            user=request.user, params=request.query_params, today=timezone.localdate()
        )
        metrics = decision_metrics(user=request.user, filters=filters)
        return Response(DecisionMetricsSerializer(metrics).data)
