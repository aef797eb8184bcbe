"""Admin for the decision log: read-only, for everybody, superusers included. A decision's
content is written once by `decisions.services`; its status and effectiveness move only through
them, each move appended to the hash chain. Nobody adds, changes or deletes a decision, a
reallocation line or a log entry here: a row changed behind the services would break the chain
(`manage.py verify_audit` names it)."""

from __future__ import annotations

from django.contrib import admin

from decisions.models import (
    AgendaItem,
    AlignmentAssessment,
    ContingencyPlan,
    ContingencyReallocation,
    Decision,
    LogEntry,
    Reallocation,
    ReviewSession,
)
from dependencies.admin import ReadOnlyInline
from kpis.admin import ReadOnlyAdmin


class ReallocationInline(ReadOnlyInline):
    model = Reallocation
    fields = ("from_initiative", "from_department", "to_initiative", "to_department", "amount",
              "unit")  # fmt: skip
    readonly_fields = fields


class LogEntryInline(ReadOnlyInline):
    model = LogEntry
    fields = ("sequence", "kind", "actor_name", "occurred_at", "hash", "prev_hash")
    readonly_fields = fields
    ordering = ("sequence",)


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__", "department", "status", "effectiveness", "decided_by_name", "decided_on",
        "review_date", "cross_department",
    )  # fmt: skip
    list_filter = ("status", "effectiveness", "cross_department", "department")
    search_fields = ("title", "context", "chosen_option", "rationale", "tradeoff_statement")
    list_select_related = ("department",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("title", "department", "status", "hash")}),
        ("Content", {"fields": ("context", "options_considered", "chosen_option", "rationale")}),
        ("Outcome", {"fields": ("outcomes", "exception", "initiative", "contract", "objective")}),
        ("Trade-off", {"fields": ("tradeoff_objective", "tradeoff_initiative",
                                  "tradeoff_statement")}),
        ("Expected effect", {"fields": ("expected_kpi", "expected_kind", "expected_value",
                                        "review_date", "effectiveness", "effectiveness_note",
                                        "reviewed_at")}),
        ("Who and when", {"fields": ("proposed_by_name", "created_at", "decided_by_name",
                                     "decided_by_role", "decided_on", "decided_at", "supersedes",
                                     "cross_department")}),
    )  # fmt: skip
    readonly_fields = ("hash", "outcomes")
    inlines = (ReallocationInline, LogEntryInline)

    @admin.display(description="Outcomes (KPIs)")
    def outcomes(self, obj: Decision) -> str:
        return ", ".join(str(kpi) for kpi in obj.kpis.all()) or "—"


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "kind", "decision", "actor_name", "occurred_at", "hash")
    list_filter = ("kind",)
    search_fields = ("hash", "actor_name", "decision__title")
    list_select_related = ("decision",)
    date_hierarchy = "occurred_at"


# --- Review sessions ------------------------------------------------------------------------------
# Read-only too: sessions are planned, walked and closed through `decisions.services.sessions`
# (every step audited, the minutes final once closed); the admin shows them with their agenda.


class AgendaItemInline(ReadOnlyInline):
    model = AgendaItem
    fields = ("position", "kind", "title", "department", "severity", "outcome", "action_owner",
              "deferred_to", "outcome_decision", "note")  # fmt: skip
    readonly_fields = fields
    ordering = ("position",)


@admin.register(ReviewSession)
class ReviewSessionAdmin(ReadOnlyAdmin):
    list_display = ("title", "cadence", "scheduled_for", "status", "chair", "agenda_share")
    list_filter = ("cadence", "status")
    search_fields = ("title", "minutes_summary")
    list_select_related = ("chair",)
    date_hierarchy = "scheduled_for"
    fields = ("title", "cadence", "scheduled_for", "scope", "attendee_names", "chair",
              "agenda_share", "status", "agenda_generated_at", "started_at", "closed_at",
              "minutes_summary", "created_by", "created_at")  # fmt: skip
    readonly_fields = fields
    inlines = (AgendaItemInline,)

    @admin.display(description="Scope")
    def scope(self, obj: ReviewSession) -> str:
        return ", ".join(d.name for d in obj.departments.all()) or "The whole organisation"

    @admin.display(description="Attendees")
    def attendee_names(self, obj: ReviewSession) -> str:
        return ", ".join(str(p) for p in obj.attendees.all()) or "—"


@admin.register(AlignmentAssessment)
class AlignmentAssessmentAdmin(ReadOnlyAdmin):
    """Read-only like the decision log: assessments are recorded and corrected through
    `decisions.services.alignment` (the pages and the API), which audits them and keeps the
    leaders' alignment exceptions in step."""

    list_display = (
        "period", "leader", "department", "understanding", "commitment", "resources",
        "assessed_by", "updated_at",
    )  # fmt: skip
    list_filter = ("period", "department")
    search_fields = ("leader__first_name", "leader__last_name", "leader__username",
                     "resistance_notes")  # fmt: skip
    list_select_related = ("leader", "department", "assessed_by")
    date_hierarchy = "period"


# --- Contingency plans: read-only here; defined, changed, disabled and enabled through the pages
# and the API (`decisions.services.contingency`: validated, audited). ---------------------------


class ContingencyReallocationInline(ReadOnlyInline):
    model = ContingencyReallocation
    fields = ("from_initiative", "from_department", "to_initiative", "to_department", "amount",
              "unit")  # fmt: skip
    readonly_fields = fields


@admin.register(ContingencyPlan)
class ContingencyPlanAdmin(ReadOnlyAdmin):
    list_display = (
        "name", "kpi", "trigger_basis", "threshold_pct", "periods", "owner", "enabled",
        "trigger_count", "last_triggered_at",
    )  # fmt: skip
    list_filter = ("enabled", "trigger_basis", "kpi__department")
    search_fields = ("name", "response", "kpi__code", "kpi__name")
    list_select_related = ("kpi", "owner")
    fieldsets = (
        (None, {"fields": ("name", "kpi", "owner", "enabled")}),
        ("Trigger", {"fields": ("trigger_basis", "threshold_pct", "periods")}),
        ("Response", {"fields": ("response",)}),
        ("State", {"fields": ("disabled_at", "disabled_by", "disabled_reason",
                              "last_triggered_at", "last_triggered_period", "trigger_count",
                              "created_by", "created_at", "updated_at")}),
    )  # fmt: skip
    inlines = (ContingencyReallocationInline,)
