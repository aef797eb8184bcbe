"""API serializers for contracts, their versions and amendments: shape and types only. Writes go
to `dependencies.services` (see `govern.api.serializers`).

Departments and KPIs are given by id or by code (`"PROC"`, `"PROC-OTD"`); people, milestones,
initiatives and plan versions by id. Every relation resolves among the rows the requesting user
may see, so a hidden one reads like one that does not exist.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dependencies.choices import Side
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.terms import TERM_FIELDS
from govern.api.serializers import GovernModelSerializer, ScopedPrimaryKeyRelatedField, name_of
from govern.models import Department, Initiative, Milestone, Person, PlanVersion
from kpis.models import Kpi

REVISION_HELP = (
    "The revision you based this on (the ETag without quotes). A stale one answers 409 and "
    "changes nothing. Optional: the If-Match header does the same and wins when both are sent."
)


@extend_schema_field(OpenApiTypes.STR)
class CodeOrIdRelatedField(ScopedPrimaryKeyRelatedField):
    """A relation given by id or by code (case-insensitive), answered as the id."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip() and not data.strip().isdigit():
            found = self.get_queryset().filter(code__iexact=data.strip()).first()
            if found is None:
                self.fail("does_not_exist", pk_value=data)
            return found
        return super().to_internal_value(data)


def code_or_id(model, **kwargs) -> CodeOrIdRelatedField:
    name = model._meta.verbose_name
    return CodeOrIdRelatedField(
        queryset=model.objects.all(), help_text=f"The {name}'s id or code.", **kwargs
    )


class ContractSerializer(GovernModelSerializer):
    provider_department = code_or_id(Department)
    provider_department_name = name_of("provider_department")
    provider_owner = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    provider_owner_name = name_of("provider_owner")
    consumer_department = code_or_id(Department)
    consumer_department_name = name_of("consumer_department")
    consumer_owner = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all())
    consumer_owner_name = name_of("consumer_owner")
    service_kpi = code_or_id(Kpi, required=False, allow_null=True)
    service_kpi_code = serializers.CharField(
        source="service_kpi.code", read_only=True, allow_null=True
    )
    provider_milestones = ScopedPrimaryKeyRelatedField(
        queryset=Milestone.objects.all(), many=True, required=False
    )
    provider_initiatives = ScopedPrimaryKeyRelatedField(
        queryset=Initiative.objects.all(), many=True, required=False
    )
    consumer_initiatives = ScopedPrimaryKeyRelatedField(
        queryset=Initiative.objects.all(), many=True, required=False
    )
    consumer_milestones = ScopedPrimaryKeyRelatedField(
        queryset=Milestone.objects.all(), many=True, required=False
    )
    consumer_kpis = CodeOrIdRelatedField(
        queryset=Kpi.objects.all(),
        many=True,
        required=False,
        help_text="The consumer's KPIs that depend on the contract, by id or code.",
    )
    plan_version = ScopedPrimaryKeyRelatedField(
        queryset=PlanVersion.objects.all(),
        required=False,
        help_text="The plan version it belongs to: the current approved one when omitted.",
    )
    plan_version_name = name_of("plan_version")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    provider_agreed_by_name = name_of("provider_agreed_by", allow_null=True)
    consumer_agreed_by_name = name_of("consumer_agreed_by", allow_null=True)
    has_pending_amendment = serializers.BooleanField(
        read_only=True, help_text="An amendment awaits the sides' answers."
    )
    revision = serializers.IntegerField(required=False, min_value=1, help_text=REVISION_HELP)

    class Meta:
        model = Contract
        fields = [
            "id", "code", "title", "provider_department", "provider_department_name",
            "provider_owner", "provider_owner_name", "consumer_department",
            "consumer_department_name", "consumer_owner", "consumer_owner_name", "deliverable",
            "acceptance_criteria", "due_date", "service_kpi", "service_kpi_code",
            "service_comparison", "service_threshold", "service_level", "criticality",
            "provider_milestones", "provider_initiatives", "consumer_initiatives",
            "consumer_milestones", "consumer_kpis", "plan_version", "plan_version_name",
            "status", "status_display", "provider_agreed_by", "provider_agreed_by_name",
            "provider_agreed_at", "consumer_agreed_by", "consumer_agreed_by_name",
            "consumer_agreed_at", "agreed_at", "fulfilled_at", "cancelled_at", "version_number",
            "revision", "has_pending_amendment", "health_reason", "health_checked_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "provider_agreed_by", "provider_agreed_at", "consumer_agreed_by",
            "consumer_agreed_at", "agreed_at", "fulfilled_at", "cancelled_at", "version_number",
            "health_reason", "health_checked_at",
        ]  # fmt: skip
        extra_kwargs = {
            "code": {"help_text": "Stable and unique, e.g. PROC-PROD-CASTINGS."},
            "due_date": {"help_text": "A one-off delivery's date; or a service level, or both."},
            "service_threshold": {"help_text": "The service level in the KPI's unit, e.g. 95."},
            "criticality": {"help_text": "1 (low) to 5 (critical): weighs the ripple's reach."},
        }

    def terms(self) -> dict:
        """The validated input without the revision: the terms for the service."""
        return {k: v for k, v in self.validated_data.items() if k in TERM_FIELDS}


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField(required=False, min_value=1, help_text=REVISION_HELP)


class ContractProposeSerializer(RevisionSerializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A note for both sides."
    )


class ContractAgreeSerializer(RevisionSerializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in the history."
    )
    side = serializers.ChoiceField(
        choices=Side.choices,
        required=False,
        help_text="Agree for this side only (when you speak for both); default: all yours.",
    )


class ContractFulfilSerializer(RevisionSerializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in the history."
    )


class ContractCancelSerializer(RevisionSerializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why it is cancelled (required); kept in the history."
    )


# --- Versions ---------------------------------------------------------------------------------


class ContractVersionSerializer(serializers.ModelSerializer):
    terms = serializers.JSONField(
        read_only=True,
        help_text='Every term: scalars as values, relations as {"id", "label"}, linked lists '
        'as lists of {"id", "label"} sorted by id.',
    )
    amendment = serializers.IntegerField(
        source="amendment.number",
        read_only=True,
        allow_null=True,
        help_text="The number of the amendment this version applied (null for version 1).",
    )
    overridden = serializers.SerializerMethodField(
        help_text="Applied by a PMO override rather than accepted by both sides."
    )

    class Meta:
        model = ContractVersion
        fields = [
            "number", "terms", "author", "author_name", "created_at", "reason", "amendment",
            "overridden",
        ]  # fmt: skip
        read_only_fields = fields

    def get_overridden(self, version) -> bool:
        return version.amendment is not None and version.amendment.status == "overridden"


class TermRowSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    a = serializers.JSONField(help_text="The value in the first version (stored encoding).")
    b = serializers.JSONField(help_text="The value in the second version.")
    a_text = serializers.CharField()
    b_text = serializers.CharField()
    changed = serializers.BooleanField()


class VersionCompareSerializer(serializers.Serializer):
    a = serializers.IntegerField(help_text="The first version's number.")
    b = serializers.IntegerField(help_text="The second version's number.")
    changed = serializers.ListField(
        child=serializers.CharField(), help_text="The terms that differ."
    )
    rows = TermRowSerializer(many=True, help_text="Every term, side by side.")


# --- Amendments -------------------------------------------------------------------------------


class AmendmentSerializer(serializers.ModelSerializer):
    changes = serializers.JSONField(
        read_only=True, help_text="{term: new value}, in the encoding of the versions' terms."
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    provider_responder_name = name_of("provider_responder", allow_null=True)
    consumer_responder_name = name_of("consumer_responder", allow_null=True)
    override_by_name = name_of("override_by", allow_null=True)
    applied_version = serializers.SerializerMethodField(
        help_text="The version it created, once accepted or overridden."
    )
    contract_revision = serializers.IntegerField(
        source="contract.revision",
        read_only=True,
        help_text="The contract's revision now: send it as If-Match with the next write.",
    )

    class Meta:
        model = Amendment
        fields = [
            "number", "contract", "base_version", "changes", "reason", "status",
            "status_display", "proposed_by", "proposed_by_name", "proposed_at",
            "provider_response", "provider_responder", "provider_responder_name",
            "provider_comment", "provider_responded_at", "consumer_response",
            "consumer_responder", "consumer_responder_name", "consumer_comment",
            "consumer_responded_at", "override_by", "override_by_name", "override_reason",
            "closed_at", "applied_version", "contract_revision",
        ]  # fmt: skip
        read_only_fields = fields

    def get_applied_version(self, amendment) -> int | None:
        try:
            return amendment.applied_version.number
        except ContractVersion.DoesNotExist:
            return None


class AmendmentProposeSerializer(RevisionSerializer):
    changes = serializers.DictField(
        child=serializers.JSONField(),
        allow_empty=True,
        help_text="{term: new value}: relations by id (departments and KPIs also by code), "
        "linked lists as lists of ids, dates as YYYY-MM-DD. Only terms that change.",
    )
    reason = serializers.CharField(allow_blank=True, help_text="Why (required).")


class AmendmentRespondSerializer(RevisionSerializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject; goes to the other side and the history.",
    )
    side = serializers.ChoiceField(
        choices=Side.choices,
        required=False,
        help_text="Answer for this side only (when you speak for both); default: all yours.",
    )


class AmendmentOverrideSerializer(RevisionSerializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the PMO applies it without both sides (required)."
    )


class AmendmentWithdrawSerializer(RevisionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
