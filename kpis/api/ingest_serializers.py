"""Shapes of the measurements and imports API. Validation of the rows themselves (KPI codes,
periods, values, permissions) is the write path's job, `kpis.services.measurements`, so every row
is checked by the same rules and every bad row reported at once."""

from __future__ import annotations

from rest_framework import serializers

from kpis.models import ImportJob, Measurement


class MeasurementRowSerializer(serializers.Serializer):
    """One actual to record (documentation of the request; rows are validated by the service)."""

    kpi = serializers.CharField(help_text="The KPI's code, e.g. PROC-OTD.")
    period = serializers.DateField(
        help_text="The start of the period: a Monday (weekly), the 1st (monthly) or the 1st of "
        "January, April, July or October (quarterly)."
    )
    value = serializers.FloatField(help_text="The actual: a finite number within ±1e15.")
    note = serializers.CharField(required=False, allow_blank=True)


class MeasurementRowsSerializer(serializers.Serializer):
    rows = MeasurementRowSerializer(many=True)


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="New actuals.")
    updated = serializers.IntegerField(
        help_text="Changed actuals; the previous values are kept as revisions."
    )
    unchanged = serializers.IntegerField(help_text="Rows identical to what was stored: no-ops.")


class MeasurementSerializer(serializers.ModelSerializer):
    kpi_code = serializers.CharField(source="kpi.code", read_only=True)
    entered_by_name = serializers.CharField(
        source="entered_by", read_only=True, allow_null=True, default=None
    )
    revision_count = serializers.IntegerField(
        read_only=True, help_text="Earlier values kept for this period."
    )

    class Meta:
        model = Measurement
        fields = [
            "id", "kpi", "kpi_code", "period", "value", "source", "entered_by",
            "entered_by_name", "note", "recorded_at", "revision", "revision_count",
        ]  # fmt: skip
        read_only_fields = fields


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row number in the sheet (the header is row 1).")
    column = serializers.CharField(help_text='The column, e.g. "C (value)".')
    message = serializers.CharField()


class ImportChangeSerializer(serializers.Serializer):
    kpi = serializers.CharField()
    period = serializers.DateField()
    old = serializers.FloatField(allow_null=True, help_text="null for a new actual.")
    new = serializers.FloatField()


class ImportJobSerializer(serializers.ModelSerializer):
    created_by_name = serializers.CharField(source="created_by", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    progress_percent = serializers.SerializerMethodField()
    processed_rows = serializers.SerializerMethodField()
    errors = ImportErrorSerializer(many=True, read_only=True)
    preview = ImportChangeSerializer(many=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id", "filename", "size", "format", "status", "status_display", "created_by",
            "created_by_name", "created_at", "started_at", "finished_at", "total_rows",
            "processed_rows", "progress_percent", "created_count", "updated_count",
            "unchanged_count", "error_count", "errors", "preview", "message",
        ]  # fmt: skip
        read_only_fields = fields

    def get_processed_rows(self, job) -> int:
        from kpis.selectors import import_job_progress

        return import_job_progress(job=job)

    def get_progress_percent(self, job) -> int:
        if not job.total_rows:
            return 0
        return min(100, round(100 * self.get_processed_rows(job) / job.total_rows))


class ImportJobListSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = [
            name for name in ImportJobSerializer.Meta.fields if name not in ("errors", "preview")
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv (UTF-8) or .xlsx file.")
    dry_run = serializers.BooleanField(
        default=True,
        help_text="true (default): only check the file. false: write it right away if the "
        "check finds no errors (files checked on a worker are committed with "
        "POST /imports/{id}/commit/).",
    )
