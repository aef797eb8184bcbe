"""Admin for the dependency contracts: a back office with the same audit trail and the same rules
as the services. A contract's terms are editable only while it is negotiated (draft or proposed);
its status, agreement and health change only through the lifecycle services and the health
monitor. Every save bumps the revision (the optimistic lock) and is refused when someone changed
the contract since the form was opened. Versions and amendments are shown read-only: they are
written by the amendment services, never by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import F

from dependencies.choices import ContractStatus
from dependencies.forms import STALE
from dependencies.models import Amendment, Contract, ContractVersion
from govern.admin import AuditedAdmin
from govern.errors import ConflictError
from kpis.admin import ReadOnlyAdmin

LIFECYCLE_FIELDS = (
    "status", "provider_agreed_by", "provider_agreed_at", "consumer_agreed_by",
    "consumer_agreed_at", "agreed_at", "fulfilled_at", "cancelled_at", "version_number",
    "revision", "health_reason", "health_checked_at", "red_streak", "created_by", "created_at",
    "updated_at",
)  # fmt: skip


class ContractAdminForm(forms.ModelForm):
    """Carries the revision the form was opened at, to refuse a save over someone else's."""

    opened_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opened_revision"].initial = self.instance.revision

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("opened_revision") != self.instance.revision:
            raise forms.ValidationError(STALE, code="stale")
        return cleaned


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ContractVersionInline(ReadOnlyInline):
    model = ContractVersion
    fields = ("number", "author_name", "created_at", "reason", "amendment")
    readonly_fields = fields
    ordering = ("-number",)


class AmendmentInline(ReadOnlyInline):
    model = Amendment
    fields = (
        "number", "status", "base_version", "changes", "reason", "proposed_by_name",
        "proposed_at", "provider_response", "provider_comment", "consumer_response",
        "consumer_comment", "override_reason", "closed_at",
    )  # fmt: skip
    readonly_fields = fields


@admin.register(Contract)
class ContractAdmin(AuditedAdmin):
    form = ContractAdminForm
    list_display = (
        "code", "title", "provider_department", "consumer_department", "status",
        "version_number", "criticality", "due_date", "service_kpi",
    )  # fmt: skip
    list_filter = (
        "status", "criticality", "provider_department", "consumer_department", "plan_version",
    )  # fmt: skip
    search_fields = ("code", "title", "deliverable", "service_level")
    autocomplete_fields = (
        "provider_department", "provider_owner", "consumer_department", "consumer_owner",
        "service_kpi", "provider_milestones", "provider_initiatives", "consumer_initiatives",
        "consumer_milestones", "consumer_kpis",
    )  # fmt: skip
    list_select_related = ("provider_department", "consumer_department", "service_kpi")
    inlines = (ContractVersionInline, AmendmentInline)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_negotiating:
            # In force or closed: the terms change only through an amendment.
            return (*Contract.TERM_FIELDS, *LIFECYCLE_FIELDS)
        return LIFECYCLE_FIELDS

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == ContractStatus.DRAFT)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one draft at a time, through its own page
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            opened = form.cleaned_data.get("opened_revision")
            current = Contract.objects.select_for_update().values_list("revision", flat=True)
            if current.get(pk=obj.pk) != opened:
                raise ConflictError(STALE, code="stale")
            obj.revision = F("revision") + 1
        else:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if change:
            obj.refresh_from_db(fields=["revision"])


@admin.register(ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    """Immutable snapshots: nobody adds, changes or deletes a version, not even a superuser."""

    list_display = ("contract", "number", "author_name", "created_at", "amendment")
    list_filter = ("contract__provider_department", "contract__consumer_department")
    search_fields = ("contract__code", "contract__title", "reason", "author_name")
    list_select_related = ("contract", "amendment")
    date_hierarchy = "created_at"


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = (
        "contract", "number", "status", "proposed_by_name", "proposed_at",
        "provider_response", "consumer_response", "closed_at",
    )  # fmt: skip
    list_filter = ("status", "provider_response", "consumer_response")
    search_fields = ("contract__code", "contract__title", "reason", "proposed_by_name")
    list_select_related = ("contract",)
    date_hierarchy = "proposed_at"
