"""API serializers: the shape and types of what goes in and out, nothing more.

Writes never go through `serializer.save()`: the views pass `validated_data` to `govern.services`,
which check permissions, validate the rules across fields and uniqueness (`full_clean()`), and
write the audit event. Relations are given by id and resolved only among the objects the requesting
user may see, so an id they may not see is "Invalid pk", exactly like one that does not exist.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from govern import permissions
from govern.choices import MilestoneStatus, NotificationDelivery, ObjectiveLevel
from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Notification,
    Objective,
    Person,
    PlanVersion,
)
from kpis.choices import Status as KpiStatus
from kpis.selectors import TARGET_VERDICTS


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A relation by id, chosen among the objects the requesting user may see."""

    def get_queryset(self):
        request = self.context.get("request")
        return permissions.restrict(
            super().get_queryset(), getattr(request, "user", None), permissions.VIEW
        )


class GovernModelSerializer(serializers.ModelSerializer):
    # Input shape and types only. Uniqueness and the rules across fields are the services' job, so
    # the API and the pages answer with the same messages. (A comment, not a docstring: the schema
    # would show it as every model's description.)

    def get_validators(self):
        return []

    def get_uniqueness_extra_kwargs(self, field_names, declared_fields, extra_kwargs):
        return extra_kwargs, {}

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "validators" in kwargs:
            kwargs["validators"] = [
                v for v in kwargs["validators"] if not isinstance(v, UniqueValidator)
            ]
        return field_class, kwargs

    def create(self, validated_data):
        raise TypeError("API writes go through govern.services; serializers only validate input.")

    def update(self, instance, validated_data):
        raise TypeError("API writes go through govern.services; serializers only validate input.")


def name_of(source: str, *, allow_null: bool = False) -> serializers.CharField:
    """The display name (`str()`) of a related object, read-only."""
    return serializers.CharField(source=source, read_only=True, allow_null=allow_null)


# --- Departments ------------------------------------------------------------------------------


class DepartmentSerializer(GovernModelSerializer):
    member_count = serializers.IntegerField(read_only=True)
    initiative_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Department
        fields = [
            "id", "code", "name", "description", "member_count", "initiative_count",
            "created_at", "updated_at",
        ]  # fmt: skip


# --- People and memberships -------------------------------------------------------------------


class PersonMembershipSerializer(serializers.ModelSerializer):
    """A person's role in one department, as shown inside the person."""

    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "department", "department_name", "role"]
        read_only_fields = fields


class PersonSerializer(GovernModelSerializer):
    display_name = name_of("__str__")
    memberships = PersonMembershipSerializer(many=True, read_only=True)

    class Meta:
        model = Person
        fields = [
            "id", "username", "first_name", "last_name", "display_name", "email", "job_title",
            "is_active", "memberships", "date_joined", "last_login",
        ]  # fmt: skip
        read_only_fields = ["date_joined", "last_login"]


class PersonCreateSerializer(PersonSerializer):
    """A new person: the password is write-only and optional (no password: cannot log in yet)."""

    password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, style={"input_type": "password"}
    )

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "password"]
        read_only_fields = ["is_active", "date_joined", "last_login"]


class MembershipSerializer(GovernModelSerializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    person_name = name_of("person")
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.all())
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id", "person", "person_name", "department", "department_name", "role",
            "created_at", "updated_at",
        ]  # fmt: skip


class MembershipUpdateSerializer(MembershipSerializer):
    """Only the role changes; a move to another department is a new membership."""

    person = serializers.PrimaryKeyRelatedField(read_only=True)
    department = serializers.PrimaryKeyRelatedField(read_only=True)


# --- Objectives -------------------------------------------------------------------------------


class ObjectiveSerializer(GovernModelSerializer):
    parent = ScopedPrimaryKeyRelatedField(
        queryset=Objective.objects.all(), allow_null=True, required=False
    )
    parent_title = serializers.CharField(source="parent.title", read_only=True, allow_null=True)
    owner = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    owner_name = name_of("owner")
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.all())
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Objective
        fields = [
            "id", "title", "description", "level", "parent", "parent_title", "owner",
            "owner_name", "department", "department_name", "start_date", "end_date", "weight",
            "progress", "progress_updated_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["progress", "progress_updated_at"]
        extra_kwargs = {"level": {"required": True}}


class ObjectiveTreeNodeSerializer(serializers.Serializer):
    """One node of the cascade (`selectors.objective_tree`) with the objectives below it."""

    id = serializers.IntegerField(source="objective.pk", read_only=True)
    title = serializers.CharField(source="objective.title", read_only=True)
    level = serializers.ChoiceField(
        choices=ObjectiveLevel.choices, source="objective.level", read_only=True
    )
    department = serializers.IntegerField(source="objective.department_id", read_only=True)
    department_name = serializers.CharField(source="objective.department.name", read_only=True)
    owner = serializers.IntegerField(source="objective.owner_id", read_only=True)
    owner_name = name_of("objective.owner")
    start_date = serializers.DateField(source="objective.start_date", read_only=True)
    end_date = serializers.DateField(source="objective.end_date", read_only=True)
    weight = serializers.IntegerField(source="objective.weight", read_only=True)
    progress = serializers.DecimalField(
        source="objective.progress", max_digits=5, decimal_places=1, read_only=True,
        allow_null=True,
    )  # fmt: skip
    initiative_count = serializers.IntegerField(source="objective.initiative_count", read_only=True)


ObjectiveTreeNodeSerializer._declared_fields["children"] = ObjectiveTreeNodeSerializer(
    many=True, read_only=True
)


# --- Initiatives and milestones ---------------------------------------------------------------


class InitiativeSerializer(GovernModelSerializer):
    objectives = ScopedPrimaryKeyRelatedField(
        queryset=Objective.objects.all(), many=True, required=False
    )
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.all())
    department_name = serializers.CharField(source="department.name", read_only=True)
    owner = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    owner_name = name_of("owner")
    milestone_count = serializers.IntegerField(read_only=True)
    milestones_done = serializers.IntegerField(read_only=True)
    milestones_overdue = serializers.IntegerField(read_only=True)

    class Meta:
        model = Initiative
        fields = [
            "id", "name", "description", "objectives", "department", "department_name", "owner",
            "owner_name", "start_date", "end_date", "budget", "fte", "status", "milestone_count",
            "milestones_done", "milestones_overdue", "created_at", "updated_at",
        ]  # fmt: skip


class MilestoneSerializer(GovernModelSerializer):
    initiative = ScopedPrimaryKeyRelatedField(queryset=Initiative.objects.all())
    initiative_name = serializers.CharField(source="initiative.name", read_only=True)
    department = serializers.IntegerField(source="initiative.department_id", read_only=True)
    owner = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    owner_name = name_of("owner")
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Milestone
        fields = [
            "id", "initiative", "initiative_name", "department", "name", "description", "owner",
            "owner_name", "due_date", "completed_date", "status", "overdue",
            "created_at", "updated_at",
        ]  # fmt: skip


class MilestoneProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MilestoneStatus.choices)
    completed_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="When the status is done; defaults to today. Ignored for other statuses.",
    )


# --- Plan versions ----------------------------------------------------------------------------


class PlanVersionSerializer(GovernModelSerializer):
    is_current = serializers.BooleanField(read_only=True)
    based_on = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The version this one was copied from."
    )
    based_on_name = name_of("based_on", allow_null=True)
    created_by_name = name_of("created_by", allow_null=True)
    proposed_by_name = name_of("proposed_by", allow_null=True)
    approved_by_name = name_of("approved_by", allow_null=True)

    class Meta:
        model = PlanVersion
        fields = [
            "id", "name", "description", "status", "is_current", "based_on", "based_on_name",
            "created_by", "created_by_name", "proposed_by", "proposed_by_name", "proposed_at",
            "approved_by", "approved_by_name", "approved_at", "superseded_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "created_by", "proposed_by", "proposed_at", "approved_by", "approved_at",
            "superseded_at",
        ]  # fmt: skip


class PlanVersionCreateSerializer(GovernModelSerializer):
    based_on = ScopedPrimaryKeyRelatedField(
        queryset=PlanVersion.objects.all(),
        required=False,
        allow_null=True,
        help_text="The approved or superseded version to copy (its targets and the terms of its "
        "open contracts); the current version when omitted. Without any approved version the "
        "first draft starts empty.",
    )

    class Meta:
        model = PlanVersion
        fields = ["name", "description", "based_on"]


class PlanVersionApproveSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PlanVersionProposeSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="For the executives: what changes and why.",
    )


class PlanVersionWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the proposal goes back to draft (required)."
    )


class PlanContractActionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PlanContractSerializer(serializers.Serializer):
    """A contract as a plan version holds it, after a drop or a restore."""

    plan_version = serializers.IntegerField(source="plan_version_id")
    contract = serializers.IntegerField(source="contract_id")
    contract_code = serializers.CharField(source="contract.code")
    included = serializers.BooleanField()
    version_number = serializers.IntegerField(help_text="The contract version its terms are.")
    copied_at = serializers.DateTimeField()


# --- Plan versions compared -------------------------------------------------------------------


class PlanVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()


class TargetChangeSerializer(serializers.Serializer):
    kpi = serializers.IntegerField(source="kpi_id")
    kpi_code = serializers.CharField()
    kpi_name = serializers.CharField()
    period = serializers.DateField()
    old = serializers.FloatField(allow_null=True, help_text="The target in version `a`.")
    new = serializers.FloatField(allow_null=True, help_text="The target in version `b`.")
    change_pct = serializers.FloatField(
        allow_null=True, help_text="(new − old) in % of |old|; null when old is 0 or missing."
    )
    kind = serializers.ChoiceField(choices=["changed", "added", "removed"])
    eased = serializers.BooleanField(
        allow_null=True,
        help_text="The new target is easier to meet given the KPI's direction; null when not "
        "both are set or for a within-band KPI (judged by its band).",
    )


class KpiTargetChangeSerializer(serializers.Serializer):
    """One KPI whose targets differ between the two versions."""

    kpi = serializers.IntegerField(source="kpi_id")
    kpi_code = serializers.CharField()
    kpi_name = serializers.CharField()
    kpi_status = serializers.ChoiceField(
        choices=KpiStatus.choices, help_text="The KPI's status now (its latest period)."
    )
    department = serializers.CharField(source="department_code", help_text="Its code.")
    department_name = serializers.CharField()
    periods_differing = serializers.IntegerField(
        source="differing", help_text="Periods whose target changed, was added or removed."
    )
    periods_planned = serializers.IntegerField(
        source="planned", help_text="Periods with a target in either version."
    )
    periods_changed = serializers.IntegerField(
        source="changed", help_text="Periods with a target in both, changed."
    )
    periods_added = serializers.IntegerField(source="added", help_text="Only in `b`.")
    periods_removed = serializers.IntegerField(source="removed", help_text="Only in `a`.")
    first_period = serializers.DateField(help_text="The first differing period.")
    last_period = serializers.DateField(help_text="The last differing period.")
    first_old = serializers.FloatField(
        allow_null=True, help_text="The first differing period's target in `a`."
    )
    first_new = serializers.FloatField(
        allow_null=True, help_text="The first differing period's target in `b`."
    )
    mean_change_pct = serializers.FloatField(
        allow_null=True,
        help_text="The mean of (new − old) in % of |old| over the changed periods whose old "
        "target is not 0; null without one.",
    )
    net_change = serializers.FloatField(
        help_text="The sum of new − old over the changed periods, in the KPI's unit."
    )
    verdict = serializers.ChoiceField(
        choices=list(TARGET_VERDICTS.items()),
        allow_null=True,
        help_text="eased: easier to meet on the whole given the KPI's direction (the net change "
        "is a cut for higher-is-better, a raise for lower-is-better); tightened: the opposite; "
        "rephased: raised and cut, netting to zero; changed: a within-band KPI, judged by its "
        "band; null when no period has a target in both.",
    )
    eased_while_red = serializers.BooleanField(help_text="Eased, and the KPI is red.")


class PlannedKpiSerializer(serializers.Serializer):
    kpi = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    name = serializers.CharField()
    periods = serializers.IntegerField(help_text="Periods with a target in that version.")


class PlanTargetChangesSerializer(serializers.Serializer):
    changed_count = serializers.IntegerField(help_text="Periods whose target changed.")
    eased_count = serializers.IntegerField(help_text="Periods whose target was eased.")
    periods_added_count = serializers.IntegerField()
    periods_removed_count = serializers.IntegerField()
    kpis_changed_count = serializers.IntegerField(help_text="KPIs with a differing target.")
    kpis_eased_count = serializers.IntegerField(help_text="KPIs whose verdict is `eased`.")
    kpis_eased_while_red_count = serializers.IntegerField(help_text="Of those, the red ones.")
    kpis = KpiTargetChangeSerializer(
        many=True,
        help_text="One per KPI with a differing target: eased while red first, then eased, "
        "then the rest, each by code; cut at 500.",
    )
    rows = TargetChangeSerializer(
        many=True,
        required=False,
        help_text="Only with `?detail=periods`: one per differing KPI and period, by KPI code and "
        "period; cut at 500.",
    )
    kpis_added_count = serializers.IntegerField()
    kpis_added = PlannedKpiSerializer(many=True, help_text="KPIs with targets only in `b`.")
    kpis_removed_count = serializers.IntegerField()
    kpis_removed = PlannedKpiSerializer(many=True, help_text="KPIs with targets only in `a`.")


class PlanContractEntrySerializer(serializers.Serializer):
    contract = serializers.IntegerField(source="contract.pk")
    code = serializers.CharField(source="contract.code")
    title = serializers.CharField(source="contract.title")
    status = serializers.CharField(source="contract.status")
    state = serializers.CharField(
        help_text="carried, created, held, frozen or dropped (docs/plan-versions.md)."
    )
    version_number = serializers.IntegerField()


class TermChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(source="a", allow_null=True)
    new = serializers.JSONField(source="b", allow_null=True)
    old_text = serializers.CharField(source="a_text")
    new_text = serializers.CharField(source="b_text")


class PlanContractChangeSerializer(serializers.Serializer):
    contract = serializers.IntegerField(source="contract.pk")
    code = serializers.CharField(source="contract.code")
    title = serializers.CharField(source="contract.title")
    old_version_number = serializers.IntegerField(source="a.version_number")
    new_version_number = serializers.IntegerField(source="b.version_number")
    terms = TermChangeSerializer(many=True)


class PlanContractChangesSerializer(serializers.Serializer):
    a_count = serializers.IntegerField(help_text="Contracts `a` holds.")
    b_count = serializers.IntegerField(help_text="Contracts `b` holds.")
    added = PlanContractEntrySerializer(many=True)
    changed = PlanContractChangeSerializer(many=True)
    removed = PlanContractEntrySerializer(many=True)
    dropped = PlanContractEntrySerializer(many=True)


class PlanCompareSerializer(serializers.Serializer):
    a = PlanVersionRefSerializer(help_text="The version in the path.")
    b = PlanVersionRefSerializer(help_text="The version given by `with`.")
    targets = PlanTargetChangesSerializer()
    contracts = PlanContractChangesSerializer()


# --- Audit ------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "description": "Changed fields: {field: {old, new}}; values are copied as text or JSON.",
        "additionalProperties": {
            "type": "object",
            "properties": {"old": {}, "new": {}},
            "required": ["old", "new"],
        },
    }
)
class ChangesField(serializers.JSONField):
    pass


class AuditEventSerializer(serializers.ModelSerializer):
    changes = ChangesField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id", "occurred_at", "actor", "actor_name", "action", "subject_type", "subject_id",
            "subject_name", "changes", "reason",
        ]  # fmt: skip
        read_only_fields = fields


# --- The current user and authentication ------------------------------------------------------


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    job_title = serializers.CharField()
    memberships = PersonMembershipSerializer(many=True)
    reads_everything = serializers.BooleanField(
        help_text="Sees every department (executives and PMO)."
    )
    is_pmo = serializers.BooleanField(help_text="Maintains plans and structure everywhere.")
    is_executive = serializers.BooleanField()
    lead_departments = serializers.ListField(
        child=serializers.IntegerField(), help_text="Departments this person leads (ids)."
    )
    notification_delivery = serializers.ChoiceField(
        choices=NotificationDelivery.choices,
        help_text=(
            "How notifications reach you by email: each one as it happens, one daily digest, "
            "or none (in the app only)."
        ),
    )


class MeUpdateSerializer(serializers.Serializer):
    """What you may change about yourself here: how notifications reach you by email."""

    notification_delivery = serializers.ChoiceField(choices=NotificationDelivery.choices)


# --- Notifications ----------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    is_unread = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id", "kind", "kind_display", "title", "body", "link", "subject_type", "subject_id",
            "created_at", "read_at", "is_unread",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"link": {"help_text": "A path inside Govern: the page of the subject."}}


class NotificationsMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were marked read.")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True, help_text="Send it as `Authorization: Token <token>`."
    )
