"""The ripple's JSON: the summary, the touched departments and the reached nodes with their
paths. Read-only; built from `dependencies.ripple_selectors.RippleResult`."""

from __future__ import annotations

from rest_framework import serializers

from dependencies.choices import EdgeKind, NodeType


class RippleExceptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    severity = serializers.FloatField()
    url = serializers.CharField()
    tone = serializers.ChoiceField(choices=["danger", "warning"])


class RippleNodeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='The node\'s key, "<type>:<id>".')
    type = serializers.ChoiceField(choices=NodeType.choices)
    id = serializers.IntegerField()
    depth = serializers.IntegerField(help_text="Edges from the start on a shortest path.")
    path = serializers.ListField(
        child=serializers.CharField(),
        help_text="One shortest path, node keys from the start to this node (both included).",
    )
    via = serializers.ChoiceField(
        choices=[*EdgeKind.choices, ("owns", "owns"), ("", "")],
        help_text="The kind of the path's last edge (`owns` from a department start).",
    )
    department = serializers.IntegerField(source="department_id", allow_null=True)
    department_name = serializers.CharField(source="department")
    visible = serializers.BooleanField(
        help_text="False: you may not see this node; only its type and department are given."
    )
    label = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    status = serializers.CharField(
        allow_null=True,
        help_text="KPI status, milestone status (or `overdue`), initiative or contract status.",
    )
    status_label = serializers.CharField(allow_null=True)
    tone = serializers.ChoiceField(
        choices=["danger", "warning", "success", "neutral", "muted"],
        help_text="The colour of the node's state, its worst open exception included.",
    )
    exception = RippleExceptionSerializer(
        allow_null=True, help_text="The node's worst unresolved exception, if any."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.visible:
            data.update(label=None, url=None, status=None, status_label=None, exception=None)
        return data


class RippleDepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class RippleCountsSerializer(serializers.Serializer):
    objective = serializers.IntegerField()
    initiative = serializers.IntegerField()
    milestone = serializers.IntegerField()
    kpi = serializers.IntegerField()
    contract = serializers.IntegerField()
    department = serializers.IntegerField()


class RippleSerializer(serializers.Serializer):
    start = RippleNodeSerializer()
    max_depth = serializers.IntegerField(allow_null=True)
    reach = serializers.FloatField(help_text="Σ weight / depth over the reached nodes.")
    reached = serializers.IntegerField(source="total", help_text="Every node reached.")
    truncated = serializers.BooleanField(
        help_text="True when `nodes` lists only the nearest of the reached nodes."
    )
    tradeoff_required = serializers.BooleanField(
        help_text="The ripple crosses into another department than the start's."
    )
    counts = RippleCountsSerializer(help_text="Reached nodes by type.")
    departments = RippleDepartmentSerializer(many=True, help_text="Every department touched.")
    other_departments = RippleDepartmentSerializer(
        many=True, help_text="The touched departments other than the start's own."
    )
    nodes = RippleNodeSerializer(many=True, help_text="Breadth-first: by depth, then path.")
