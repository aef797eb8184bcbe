"""Admin for the KPI engine. KPI definitions are edited with the same audit trail as the
services; targets, measurements and their revisions, and computed results are shown read-only:
they change only through their write paths (target editing with a reason, the measurement
ingestion that keeps revisions, the recompute)."""

from django.contrib import admin
from django.utils import timezone

from govern.admin import AuditedAdmin
from kpis.models import Kpi, KpiResult, Measurement, MeasurementRevision, Target
from kpis.services.kpis import JUDGEMENT_FIELDS


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Kpi)
class KpiAdmin(AuditedAdmin):
    list_display = (
        "code", "name", "department", "owner", "direction", "frequency", "status",
        "forecast_status", "is_active",
    )  # fmt: skip
    list_filter = ("department", "status", "direction", "frequency", "is_active")
    search_fields = ("code", "name", "description")
    autocomplete_fields = ("owner",)
    filter_horizontal = ("objectives", "initiatives")
    readonly_fields = (
        "status", "status_period", "forecast_status", "computed_at", "inputs_changed_at",
    )  # fmt: skip
    list_select_related = ("department", "owner")

    def save_model(self, request, obj, form, change):
        # A change to how the KPI is judged is recomputed, like one made through the service.
        judged = bool(JUDGEMENT_FIELDS & set(form.changed_data))
        if judged:
            obj.inputs_changed_at = timezone.now()
        super().save_model(request, obj, form, change)
        if judged and change:
            from kpis.tasks import kpi_recompute

            kpi_recompute.delay_on_commit(kpi_ids=[obj.pk])


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ("kpi", "plan_version", "period", "value", "updated_by", "updated_at")
    list_filter = ("plan_version",)
    search_fields = ("kpi__code", "kpi__name")
    list_select_related = ("kpi", "plan_version", "updated_by")
    date_hierarchy = "period"


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdmin):
    list_display = ("kpi", "period", "value", "revision", "source", "entered_by", "recorded_at")
    list_filter = ("source",)
    search_fields = ("kpi__code", "kpi__name", "note")
    list_select_related = ("kpi", "entered_by")
    date_hierarchy = "period"


@admin.register(MeasurementRevision)
class MeasurementRevisionAdmin(ReadOnlyAdmin):
    list_display = ("measurement", "revision", "value", "source", "entered_by", "superseded_at")
    list_filter = ("source",)
    search_fields = ("measurement__kpi__code",)
    list_select_related = ("measurement", "entered_by")


@admin.register(KpiResult)
class KpiResultAdmin(ReadOnlyAdmin):
    list_display = (
        "kpi", "period", "plan", "actual", "variance_pct", "status", "forecast",
        "forecast_status", "computed_at",
    )  # fmt: skip
    list_filter = ("status", "forecast_status")
    search_fields = ("kpi__code", "kpi__name")
    list_select_related = ("kpi",)
    date_hierarchy = "period"
