"""Admin for the decision log: read-only, for everybody, superusers included. A decision's
content is written once by `decisions.services`; its status and effectiveness move only through
them, each move appended to the hash chain. Nobody adds, changes or deletes a decision, a
reallocation line or a log entry here: a row changed behind the services would break the chain
(`manage.py verify_audit` names it)."""

from __future__ import annotations

from django.contrib import admin

from decisions.models import Decision, LogEntry, Reallocation
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
