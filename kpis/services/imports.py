"""Spreadsheet imports: upload → dry run (what would change, every bad row) → commit.

`import_create` refuses an unreadable file at once (nothing is stored), keeps a readable one as an
`ImportJob` and checks it with `measurements_record(dry_run=True)`: in the request for files up to
GOVERN_IMPORT_ASYNC_ROWS rows, on a worker (`kpis.import_check`) above that. `import_commit` hands
a clean, checked job to `kpis.import_commit`, which writes every row through
`measurements_record(source="import")` in one transaction: all or nothing.

What the user sees while a job runs: the job row is committed as `validating` (check) or `running`
(commit) before the work starts, so every page shows the status at once. The rows written so far
cannot come from the job row (the writes and the final counts share one transaction, invisible
until it commits), so the commit reports them to the cache (`import_progress_key`) after each
chunk of rows; the progress partial reads the cache while the job runs and the job row after.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from govern import permissions as perms
from govern.errors import ApplicationError, ConflictError
from kpis.choices import ImportStatus, MeasurementSource
from kpis.models import ImportJob
from kpis.services.measurements import IngestRefused, RowError, measurements_record
from kpis.spreadsheets import ParsedSheet, SpreadsheetError, parse_spreadsheet

MAX_STORED_ERRORS = 1_000
MAX_PREVIEW = 200
PROGRESS_TTL = 6 * 3600


def import_progress_key(job_id: int) -> str:
    return f"kpis:import-progress:{job_id}"


def ensure_import_size(size: int) -> None:
    """Refuse a file above GOVERN_IMPORT_MAX_BYTES (callers check an upload's size before
    reading it)."""
    limit = settings.GOVERN_IMPORT_MAX_BYTES
    if size > limit:
        raise ApplicationError(
            f"The file is {_size(size)}; files of up to {_size(limit)} can be imported. Split it "
            "into smaller files.",
            code="file_too_large",
            fields={"file": [f"The file is larger than {_size(limit)}."]},
        )


def import_create(*, actor, filename: str, content: bytes) -> ImportJob:
    """Store the upload and check it (dry run). Raises ApplicationError, storing nothing, when the
    file is too large, empty or not a readable sheet of actuals."""
    if not actor or not actor.is_authenticated:
        raise PermissionDenied("Log in to import actuals.")
    ensure_import_size(len(content))
    filename = (filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    sheet = _parse(filename, content)
    job = ImportJob.objects.create(
        created_by=actor,
        filename=filename,
        content=content,
        size=len(content),
        format=sheet.format,
        total_rows=len(sheet.rows) + len({e.row for e in sheet.errors}),
    )
    if len(sheet.rows) > settings.GOVERN_IMPORT_ASYNC_ROWS:
        from kpis.tasks import import_check as import_check_task

        job.status = ImportStatus.VALIDATING
        job.save(update_fields=["status"])
        import_check_task.delay_on_commit(job.pk)
        return job
    _check(job, sheet)
    return job


def import_check(job_id: int) -> ImportJob | None:
    """The worker's dry run of a large upload. Idempotent: a job already checked is left alone."""
    job = ImportJob.objects.filter(pk=job_id).select_related("created_by").first()
    if job is None or job.status not in (ImportStatus.PENDING, ImportStatus.VALIDATING):
        return job
    job.status, job.started_at = ImportStatus.VALIDATING, timezone.now()
    job.save(update_fields=["status", "started_at"])
    try:
        sheet = _parse(job.filename, bytes(job.content))
    except ApplicationError as exc:
        return _fail(job, ImportStatus.INVALID, exc.message)
    _check(job, sheet)
    return job


def _parse(filename: str, content: bytes) -> ParsedSheet:
    try:
        return parse_spreadsheet(filename, content)
    except SpreadsheetError as exc:
        exc.fields = exc.fields or {"file": [exc.message]}
        raise


def _check(job: ImportJob, sheet: ParsedSheet) -> None:
    errors = list(sheet.errors)
    report = None
    try:
        report = measurements_record(
            actor=job.created_by,
            rows=sheet.rows,
            source=MeasurementSource.IMPORT,
            dry_run=True,
            max_rows=settings.GOVERN_IMPORT_MAX_ROWS,
        )
    except IngestRefused as refused:
        errors += refused.report.errors
    job.total_rows = len(sheet.rows) + len({e.row for e in sheet.errors})
    job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    if errors:
        job.status = ImportStatus.INVALID
        job.created_count = job.updated_count = job.unchanged_count = 0
        job.preview = []
        _store_errors(job, errors, sheet)
        job.message = (
            f"{job.error_count:,} problem{'' if job.error_count == 1 else 's'} found; nothing "
            "can be written until the file is corrected and uploaded again."
        )
    else:
        job.status = ImportStatus.VALIDATED
        job.created_count, job.updated_count = report.created, report.updated
        job.unchanged_count = report.unchanged
        job.error_count, job.errors = 0, []
        job.preview = report.changes[:MAX_PREVIEW]
        job.message = ""
    job.save()


def _store_errors(job: ImportJob, errors: list[RowError], sheet: ParsedSheet) -> None:
    def column(error: RowError) -> str:
        if error.field == "kpi":
            return sheet.kpi_column
        if error.field == "period" and sheet.period_column:
            return sheet.period_column
        return error.column

    ordered = sorted(errors, key=lambda e: (e.row, column(e)))
    job.error_count = len(ordered)
    job.errors = [
        {"row": e.row, "column": column(e), "message": e.message}
        for e in ordered[:MAX_STORED_ERRORS]
    ]


def import_commit(*, actor, job: ImportJob) -> ImportJob:
    """Write a clean, checked import (its creator or the PMO). Runs on a worker once this
    transaction commits (in-process in the embedded default). A job already committed or being
    committed is returned as it is."""
    scope = perms.scope_for(actor)
    if not (scope.is_pmo or job.created_by_id == actor.pk):
        raise PermissionDenied("Only the person who uploaded this file or the PMO may commit it.")
    if job.status in (ImportStatus.RUNNING, ImportStatus.COMPLETED):
        return job
    if job.status != ImportStatus.VALIDATED or job.error_count:
        raise ConflictError(_not_committable(job), code="not_committable")
    from kpis.tasks import import_commit as import_commit_task

    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATED).update(
            status=ImportStatus.RUNNING, processed_rows=0, started_at=timezone.now()
        )
        if updated:
            cache.set(import_progress_key(job.pk), 0, PROGRESS_TTL)
            import_commit_task.delay_on_commit(job.pk)
    job.refresh_from_db()
    return job


def _not_committable(job: ImportJob) -> str:
    if job.status in (ImportStatus.PENDING, ImportStatus.VALIDATING):
        return "This import is still being checked; commit it once the check has finished."
    if job.status == ImportStatus.FAILED:
        return "This import failed and wrote nothing; upload the file again to retry."
    return "This import has errors; correct the file and upload it again."


def import_run_commit(job_id: int) -> ImportJob | None:
    """The worker's commit: re-read the stored file and write it, all or nothing. Idempotent: a
    completed (or failed) job is left alone, and a redelivered message finds it so."""
    try:
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update()
                .select_related("created_by")
                .filter(pk=job_id)
                .first()
            )
            if job is None or job.status != ImportStatus.RUNNING:
                return job
            sheet = parse_spreadsheet(job.filename, bytes(job.content))
            if sheet.errors:
                raise IngestRefused(_report_of(sheet))
            key = import_progress_key(job.pk)
            report = measurements_record(
                actor=job.created_by,
                rows=sheet.rows,
                source=MeasurementSource.IMPORT,
                max_rows=settings.GOVERN_IMPORT_MAX_ROWS,
                on_progress=lambda done: cache.set(key, done, PROGRESS_TTL),
            )
            job.status = ImportStatus.COMPLETED
            job.total_rows = job.processed_rows = len(sheet.rows)
            job.created_count, job.updated_count = report.created, report.updated
            job.unchanged_count = report.unchanged
            job.finished_at = timezone.now()
            job.message = (
                f"Imported: {report.created:,} new, {report.updated:,} corrected, "
                f"{report.unchanged:,} unchanged."
            )
            job.save()
    except IngestRefused as refused:
        job = ImportJob.objects.get(pk=job_id)
        _store_errors(job, refused.report.errors, ParsedSheet(format=job.format))
        return _fail(
            job,
            ImportStatus.FAILED,
            "The data changed since the check and some rows are no longer valid; nothing was "
            "written. Upload the file again to see what to correct.",
        )
    except ApplicationError as exc:
        return _fail(
            ImportJob.objects.get(pk=job_id),
            ImportStatus.FAILED,
            f"{exc.message} Nothing was written.",
        )
    finally:
        cache.delete(import_progress_key(job_id))
    return job


def _report_of(sheet: ParsedSheet):
    from kpis.services.measurements import IngestReport

    return IngestReport(rows=len(sheet.rows), errors=list(sheet.errors))


def _fail(job: ImportJob, status: str, message: str) -> ImportJob:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    job.processed_rows = 0
    job.save(
        update_fields=[
            "status", "message", "finished_at", "processed_rows", "errors", "error_count",
        ]
    )  # fmt: skip
    return job


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):,.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 1024)):,} KB"
