"""The measurements and imports API: thin views over `kpis.services.measurements` (the one write
path for actuals), `kpis.services.imports` and the ingestion selectors."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from govern.api.schema import ErrorResponseSerializer
from govern.errors import ApplicationError
from kpis import selectors
from kpis.api import ingest_serializers as s
from kpis.choices import MeasurementSource
from kpis.services import imports
from kpis.services.measurements import IngestRefused, MeasurementRow, measurements_record

ROWS_EXAMPLE = [
    {"kpi": "PROC-OTD", "period": "2026-03-01", "value": 91.5, "note": "From the ERP export"},
    {"kpi": "PROC-OTD", "period": "2026-04-01", "value": 89.0},
    {"kpi": "SALES-INTAKE", "period": "2026-04-01", "value": 1250000},
]
INVALID_ROWS_EXAMPLE = {
    "error": {
        "code": "invalid_rows",
        "message": "2 of 3 rows are not valid (2 errors); nothing was written.",
        "fields": {},
        "details": {
            "rows": [
                {
                    "index": 0,
                    "field": "period",
                    "message": "2026-03-15 is not a monthly period start; did you mean 2026-03-01?",
                },
                {"index": 2, "field": "kpi", "message": "Unknown KPI code 'SALES-INTAK'."},
            ]
        },
    }
}
TOO_MANY_EXAMPLE = {
    "error": {
        "code": "too_many_rows",
        "message": "Too many rows: 12,000. Send at most 10,000 rows at a time.",
        "fields": {},
        "details": {"rows": 12000, "limit": 10000},
    }
}
NOT_A_LIST_EXAMPLE = {
    "error": {
        "code": "invalid",
        "message": 'Send a JSON list of rows, or an object {"rows": [...]}; each row is an '
        "object with kpi, period, value and optionally note.",
        "fields": {},
    }
}
JOB_EXAMPLE = {
    "id": 12, "filename": "actuals-march.xlsx", "size": 18234, "format": "wide",
    "status": "validated", "status_display": "Checked (dry run)", "created_by": 5,
    "created_by_name": "Ana Ruiz", "created_at": "2026-04-02T08:15:00Z",
    "started_at": None, "finished_at": "2026-04-02T08:15:01Z", "total_rows": 240,
    "processed_rows": 240, "progress_percent": 100, "created_count": 230, "updated_count": 4,
    "unchanged_count": 6, "error_count": 0, "errors": [],
    "preview": [{"kpi": "PROC-OTD", "period": "2026-03-01", "old": 92.0, "new": 91.5}],
    "message": "",
}  # fmt: skip


def _rows_of(data) -> list[MeasurementRow]:
    if isinstance(data, dict) and set(data) == {"rows"}:
        data = data["rows"]
    if not isinstance(data, list):
        raise ApplicationError(NOT_A_LIST_EXAMPLE["error"]["message"], code="invalid")
    not_objects = [i for i, item in enumerate(data) if not isinstance(item, dict)]
    if not_objects:
        raise ApplicationError(
            f"{len(not_objects)} of {len(data)} rows are not objects; nothing was written.",
            code="invalid_rows",
            details={
                "rows": [
                    {
                        "index": i,
                        "field": "row",
                        "message": "Each row is an object with kpi, period, value and "
                        "optionally note.",
                    }
                    for i in not_objects
                ]
            },
        )
    return [
        MeasurementRow(
            row=index,
            kpi_code="" if item.get("kpi") is None else str(item.get("kpi")),
            period=item.get("period"),
            value=item.get("value"),
            note="" if item.get("note") is None else str(item["note"]),
        )
        for index, item in enumerate(data)
    ]


@extend_schema_view(
    list=extend_schema(
        summary="Actuals of the KPIs you may see",
        description="Newest period first per KPI, with the number of earlier values kept as "
        "revisions. Filter one KPI with `?kpi=CODE`.",
        parameters=[OpenApiParameter("kpi", str, description="A KPI code, e.g. PROC-OTD.")],
    ),
)
class MeasurementViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Actuals per KPI and period. Posting rows records them through the one validated write
    path shared with spreadsheet imports and the KPI page."""

    serializer_class = s.MeasurementSerializer
    filter_backends: list = []
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.measurement_list(
            user=self.request.user, kpi_code=self.request.query_params.get("kpi")
        )

    @extend_schema(
        summary="Record actuals (all or nothing)",
        description=(
            'A JSON list of rows `{kpi, period, value, note?}` (or `{"rows": [...]}`), up to '
            "GOVERN_MEASUREMENTS_MAX_ROWS (10,000) per request. Every row is checked: a known, "
            "active KPI code you may record for (its owner, its department's leads, the PMO), a "
            "period that starts a period of the KPI's frequency, a finite number, no KPI and "
            "period twice. If any row is bad nothing is written and the answer lists every bad "
            "row with its 0-based `index`, the `field` and the message. A changed value keeps "
            "the previous one as a revision; an identical value changes nothing. The affected "
            "KPIs are recomputed once the data is committed."
        ),
        request=s.MeasurementRowSerializer(many=True),
        responses={
            200: s.IngestResultSerializer,
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="Some rows are not valid (`invalid_rows`, every bad row in "
                "`error.details.rows`), too many rows (`too_many_rows`) or the body is not a "
                "list of rows (`invalid`). Nothing was written.",
                examples=[
                    OpenApiExample("Bad rows", value=INVALID_ROWS_EXAMPLE),
                    OpenApiExample("Too many rows", value=TOO_MANY_EXAMPLE),
                    OpenApiExample("Not a list", value=NOT_A_LIST_EXAMPLE),
                ],
            ),
        },
        examples=[
            OpenApiExample("Three actuals", value=ROWS_EXAMPLE, request_only=True),
            OpenApiExample(
                "Counts",
                value={"created": 2, "updated": 1, "unchanged": 0},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        rows = _rows_of(request.data)
        try:
            report = measurements_record(
                actor=request.user, rows=rows, source=MeasurementSource.API
            )
        except IngestRefused as refused:
            raise ApplicationError(
                refused.message,
                code=refused.code,
                details={
                    "rows": [
                        {"index": e.row, "field": e.field, "message": e.message}
                        for e in refused.report.errors
                    ]
                },
            ) from None
        return Response(report.counts(), status=status.HTTP_200_OK)


@extend_schema_view(
    list=extend_schema(summary="Your spreadsheet imports, newest first (all for the PMO)"),
    retrieve=extend_schema(
        summary="One import: status, progress, counts, every bad row and a preview",
        examples=[OpenApiExample("Checked", value=JOB_EXAMPLE, response_only=True)],
    ),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spreadsheet imports of actuals: upload a CSV or XLSX file (long format `kpi_code, period,
    value[, note]` or wide format: `kpi_code[, name]` then one column per period start date),
    read the dry run (counts, every bad row with row number, column and reason, a preview of
    the changes), then commit: all rows are written, or none."""

    serializer_class = s.ImportJobSerializer
    filter_backends: list = []
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_serializer_class(self):
        if self.action == "list":
            return s.ImportJobListSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        return selectors.import_job_list(user=self.request.user)

    def get_object(self):
        return selectors.import_job_detail(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Upload a spreadsheet and check it (dry run by default)",
        description=(
            "multipart/form-data with `file` (.csv UTF-8 or .xlsx, up to "
            "GOVERN_IMPORT_MAX_BYTES and GOVERN_IMPORT_MAX_ROWS rows) and `dry_run` (default "
            "true). Small files are checked at once (`validated` or `invalid`); large ones are "
            "checked on a worker (`validating`, poll the job). An unreadable file (empty, too "
            "large, wrong columns, broken or unsafe XLSX) is refused with 400 and not stored."
        ),
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={201: s.ImportJobSerializer},
        examples=[OpenApiExample("Checked", value=JOB_EXAMPLE, response_only=True)],
    )
    def create(self, request, *args, **kwargs):
        serializer = s.ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        imports.ensure_import_size(upload.size)
        job = imports.import_create(actor=request.user, filename=upload.name, content=upload.read())
        if not serializer.validated_data["dry_run"] and job.status == "validated":
            job = imports.import_commit(actor=request.user, job=job)
        job = selectors.import_job_detail(user=request.user, pk=job.pk)
        return Response(s.ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Commit a checked import: write every row, or none",
        description=(
            "Only a `validated` job without errors, by the person who uploaded it or the PMO. "
            "The rows are written on a worker (`running`, with progress) and the job ends "
            "`completed` or `failed` (nothing written). Committing a job that is running or "
            "completed changes nothing."
        ),
        request=None,
        responses={200: s.ImportJobSerializer},
    )
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        job = self.get_object()
        imports.import_commit(actor=request.user, job=job)
        job = selectors.import_job_detail(user=request.user, pk=job.pk)
        return Response(s.ImportJobSerializer(job).data)
