"""Admin: a helpful back office that writes the same audit trail as the services."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from govern.audit import diff, record, record_deletions, snapshot
from govern.choices import AuditAction
from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)


class AuditedAdmin(admin.ModelAdmin):
    """Every change made in the admin is recorded like one made through the services."""

    def save_model(self, request, obj, form, change):
        request._audit_before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(request, "_audit_before", {})
        changes = diff(before, snapshot(obj))
        if changes:
            action = AuditAction.UPDATE if change else AuditAction.CREATE
            record(
                actor=request.user, action=action, instance=obj, changes=changes,
                reason="Changed in the admin",
            )  # fmt: skip

    def save_formset(self, request, form, formset, change):
        """Inline rows (memberships, milestones) are recorded like the object they belong to."""
        model = formset.model
        existing = [f.instance.pk for f in formset.initial_forms if f.instance.pk]
        before = {o.pk: snapshot(o) for o in model._default_manager.filter(pk__in=existing)}
        doomed = [f.instance for f in formset.deleted_forms if f.instance.pk]
        record_deletions(actor=request.user, instances=doomed, reason="Deleted in the admin")
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            changes = diff({}, snapshot(obj))
            record(actor=request.user, action=AuditAction.CREATE, instance=obj,
                   changes=changes, reason="Added in the admin")  # fmt: skip
        for obj, _fields in formset.changed_objects:
            changes = diff(before.get(obj.pk, {}), snapshot(obj))
            if changes:
                record(actor=request.user, action=AuditAction.UPDATE, instance=obj,
                       changes=changes, reason="Changed in the admin")  # fmt: skip

    def delete_model(self, request, obj):
        record_deletions(actor=request.user, instances=[obj], reason="Deleted in the admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        record_deletions(
            actor=request.user, instances=list(queryset), reason="Deleted in the admin"
        )
        super().delete_queryset(request, queryset)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("department",)


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name", "updated_at")
    search_fields = ("code", "name", "description")


@admin.register(Person)
class PersonAdmin(AuditedAdmin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "job_title", "is_active")
    list_filter = ("is_active", "is_staff", "memberships__role", "memberships__department")
    search_fields = ("username", "first_name", "last_name", "email", "job_title")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Profile", {"fields": ("job_title",)}),
    )
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("person", "department", "role")
    list_filter = ("role", "department")
    search_fields = ("person__username", "person__first_name", "person__last_name")
    autocomplete_fields = ("person", "department")
    list_select_related = ("person", "department")


@admin.register(Objective)
class ObjectiveAdmin(AuditedAdmin):
    list_display = ("title", "level", "parent", "department", "owner", "start_date", "end_date",
                    "weight", "progress")  # fmt: skip
    list_filter = ("level", "department")
    search_fields = ("title", "description")
    autocomplete_fields = ("parent", "owner", "department")
    readonly_fields = ("progress", "progress_updated_at")
    list_select_related = ("parent", "department", "owner")


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    autocomplete_fields = ("owner",)


@admin.register(Initiative)
class InitiativeAdmin(AuditedAdmin):
    list_display = ("name", "department", "owner", "status", "start_date", "end_date", "budget",
                    "fte")  # fmt: skip
    list_filter = ("status", "department")
    search_fields = ("name", "description")
    autocomplete_fields = ("owner", "department", "objectives")
    list_select_related = ("department", "owner")
    inlines = (MilestoneInline,)


@admin.register(Milestone)
class MilestoneAdmin(AuditedAdmin):
    list_display = ("name", "initiative", "owner", "due_date", "status", "completed_date")
    list_filter = ("status", "initiative__department")
    search_fields = ("name", "initiative__name")
    autocomplete_fields = ("initiative", "owner")
    list_select_related = ("initiative", "owner")
    date_hierarchy = "due_date"


@admin.register(PlanVersion)
class PlanVersionAdmin(AuditedAdmin):
    list_display = ("name", "status", "approved_by", "approved_at", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "description")
    readonly_fields = (
        "status", "based_on", "proposed_by", "proposed_at", "approved_by", "approved_at",
        "superseded_at", "created_by",
    )  # fmt: skip


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only: nobody adds, changes or deletes history, not even a superuser."""

    list_display = ("occurred_at", "actor_name", "action", "subject_type", "subject_name")
    list_filter = ("action", "subject_type")
    search_fields = ("actor_name", "subject_name", "reason", "subject_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
