"""Spreadsheet imports: dry run, commit all or nothing, large files on a worker, refusals."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from govern.choices import Role
from govern.errors import ApplicationError, ConflictError
from govern.models import AuditEvent
from kpis import tasks
from kpis.models import ImportJob, Kpi, Measurement
from kpis.selectors import import_job_progress
from kpis.services.imports import (
    import_commit,
    import_create,
    import_progress_key,
    import_run_commit,
)
from tests.factories import MeasurementFactory, person_with_role
from tests.kpis.ingest.support import FEB, JAN, MAR, csv_bytes, xlsx_bytes

GOOD_CSV = (
    "kpi_code,period,value,note\nSALES-INTAKE,2026-01-01,104,final\nSALES-INTAKE,2026-02-01,90,\n"
)


def test_a_dry_run_shows_what_would_change_and_writes_nothing(kpis, contributor, recompute_calls):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=100.0)

    # when
    job = import_create(actor=contributor, filename="actuals.csv", content=csv_bytes(GOOD_CSV))

    # then
    job.refresh_from_db()
    assert (job.status, job.format, job.total_rows, job.error_count) == ("validated", "long", 2, 0)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 1, 0)
    assert job.preview == [
        {"kpi": "SALES-INTAKE", "period": "2026-01-01", "old": 100.0, "new": 104.0},
        {"kpi": "SALES-INTAKE", "period": "2026-02-01", "old": None, "new": 90.0},
    ]
    assert list(Measurement.objects.values_list("period", "value")) == [(JAN, 100.0)]
    assert recompute_calls == []


def test_a_commit_writes_every_row_and_queues_one_recompute(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=100.0)
    job = import_create(actor=contributor, filename="actuals.csv", content=csv_bytes(GOOD_CSV))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        import_commit(actor=contributor, job=job)

    # then
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("completed", 2, 2)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 1, 0)
    assert job.message == "Imported: 1 new, 1 corrected, 0 unchanged."
    assert list(
        Measurement.objects.order_by("period").values_list(
            "period", "value", "source", "note", "revision"
        )
    ) == [(JAN, 104.0, "import", "final", 2), (FEB, 90.0, "import", "", 1)]
    assert recompute_calls == [{"kpi_ids": [kpis.intake.pk]}]
    assert AuditEvent.objects.get().changes == {"2026-01-01": {"old": 100.0, "new": 104.0}}
    assert cache.get(import_progress_key(job.pk)) is None


def test_committing_a_completed_job_again_does_nothing(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD_CSV))
    with django_capture_on_commit_callbacks(execute=True):
        import_commit(actor=contributor, job=job)
    job.refresh_from_db()
    recompute_calls.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = import_commit(actor=contributor, job=job)
        import_run_commit(job.pk)

    # then
    assert again.status == "completed"
    assert callbacks == []
    assert recompute_calls == []
    assert Measurement.objects.count() == 2
    assert Measurement.objects.filter(revision=1).count() == 2


def test_every_bad_row_is_listed_with_row_column_and_reason(kpis, contributor, recompute_calls):
    # given
    content = csv_bytes(
        "kpi_code,period,value\n"
        "SALES-INTAKE,2026-01-01,5\n"
        "NOPE,2026-01-01,5\n"
        "SALES-INTAKE,2026-02-15,5\n"
        "SALES-INTAKE,2026-03-01,lots\n"
        "SALES-INTAKE,2026-01-01,6\n"
    )

    # when
    job = import_create(actor=contributor, filename="bad.csv", content=content)

    # then
    job.refresh_from_db()
    assert (job.status, job.error_count) == ("invalid", 4)
    assert job.errors == [
        {"row": 3, "column": "A (kpi_code)", "message": "Unknown KPI code 'NOPE'."},
        {
            "row": 4,
            "column": "B (period)",
            "message": "2026-02-15 is not a monthly period start; did you mean 2026-02-01?",
        },
        {"row": 5, "column": "C (value)", "message": "'lots' is not a number."},
        {
            "row": 6,
            "column": "B (period)",
            "message": "KPI SALES-INTAKE has two values for 2026-01-01: rows 2 and 6. Keep one.",
        },
    ]
    assert job.message == (
        "4 problems found; nothing can be written until the file is corrected and uploaded again."
    )
    with pytest.raises(ConflictError) as refused:
        import_commit(actor=contributor, job=job)
    assert refused.value.message == "This import has errors; correct the file and upload it again."
    assert Measurement.objects.count() == 0


def test_a_wide_xlsx_is_checked_and_committed(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    content = xlsx_bytes(
        [
            [
                "kpi_code",
                "name",
                dt.datetime(2026, 1, 1),
                dt.datetime(2026, 2, 1),
                dt.datetime(2026, 3, 1),
            ],
            ["SALES-INTAKE", "Order intake", 100, None, 120],
            ["SALES-CALLS", "Calls", None, None, None],
        ]
    )

    # when
    job = import_create(actor=contributor, filename="wide.xlsx", content=content)
    with django_capture_on_commit_callbacks(execute=True):
        import_commit(actor=contributor, job=job)

    # then
    job.refresh_from_db()
    assert (job.status, job.format, job.created_count) == ("completed", "wide", 2)
    assert list(
        Measurement.objects.order_by("period").values_list("kpi__code", "period", "value")
    ) == [
        ("SALES-INTAKE", JAN, 100.0),
        ("SALES-INTAKE", MAR, 120.0),
    ]


def test_a_wide_file_reports_the_cell_of_a_bad_value(kpis, contributor):
    # given
    content = csv_bytes("kpi_code,2026-01-01,2026-02-01\nSALES-INTAKE,1,n/a\n")

    # when
    job = import_create(actor=contributor, filename="wide.csv", content=content)

    # then
    assert job.errors == [
        {"row": 2, "column": "C (2026-02-01)", "message": "'n/a' is not a number."}
    ]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("head.csv", b"kpi_code,period,value\n", "The file has a header row but no data rows."),
        (
            "cols.csv",
            b"kpi,month,actual\nX,2026-01-01,1\n",
            "Unexpected column 'kpi'. A file in the long format has the columns kpi_code, "
            "period, value and optionally note; a file in the wide format starts with kpi_code "
            "and has one column per period, headed by its start date.",
        ),
        ("broken.xlsx", b"PK\x03\x04garbage", "This is not a readable .xlsx file."),
        (
            "big.csv",
            b"kpi_code,period,value\n" + b"SALES-INTAKE,2026-01-01,1\n" * 500,
            "The file is 13 KB; files of up to 10 KB can be imported. Split it into smaller files.",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_and_not_stored(
    kpis, contributor, settings, filename, content, message
):
    # given
    settings.GOVERN_IMPORT_MAX_BYTES = 10_000

    # when
    with pytest.raises(ApplicationError) as refused:
        import_create(actor=contributor, filename=filename, content=content)

    # then
    assert refused.value.message == message
    assert ImportJob.objects.count() == 0
    assert Measurement.objects.count() == 0


def test_a_large_file_is_checked_on_a_worker(
    kpis, contributor, settings, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    settings.GOVERN_IMPORT_ASYNC_ROWS = 1

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD_CSV))
    waiting = ImportJob.objects.get(pk=job.pk)
    callbacks[0]()

    # then
    assert (waiting.status, waiting.total_rows) == ("validating", 2)
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("validated", 2)
    assert Measurement.objects.count() == 0


def test_a_commit_fails_whole_when_the_data_changed_since_the_check(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD_CSV))
    Kpi.objects.filter(pk=kpis.intake.pk).update(is_active=False)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        import_commit(actor=contributor, job=job)

    # then
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == (
        "The data changed since the check and some rows are no longer valid; nothing was "
        "written. Upload the file again to see what to correct."
    )
    assert job.errors[0] == {
        "row": 2,
        "column": "A (kpi_code)",
        "message": "KPI SALES-INTAKE is inactive; it takes no new actuals.",
    }
    assert Measurement.objects.count() == 0
    assert recompute_calls == []


def test_only_the_uploader_or_the_pmo_may_commit(
    kpis, contributor, department, pmo, recompute_calls
):
    # given
    job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD_CSV))
    colleague = person_with_role(Role.DEPARTMENT_LEAD, department)

    # when
    with pytest.raises(PermissionDenied) as refused:
        import_commit(actor=colleague, job=job)
    by_pmo = import_commit(actor=pmo, job=job)

    # then
    assert str(refused.value) == "Only the person who uploaded this file or the PMO may commit it."
    assert by_pmo.status == "running"


def test_the_progress_comes_from_the_worker_while_a_commit_runs(kpis, contributor, recompute_calls):
    # given
    job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD_CSV))
    job = import_commit(actor=contributor, job=job)  # queued: the worker has not started
    at_start = import_job_progress(job=job)

    # when
    cache.set(import_progress_key(job.pk), 1)

    # then
    assert (job.status, at_start) == ("running", 0)
    assert import_job_progress(job=job) == 1


def test_the_commit_task_reports_progress_after_each_chunk(
    kpis, contributor, recompute_calls, monkeypatch
):
    # given
    job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD_CSV))
    job = import_commit(actor=contributor, job=job)
    seen = []
    real_set = cache.set
    monkeypatch.setattr(
        cache,
        "set",
        lambda key, value, *a, **k: (seen.append(value), real_set(key, value, *a, **k)),
    )

    # when
    status = tasks.import_commit(job.pk)

    # then
    assert status == "completed"
    assert seen == [2]
    assert Measurement.objects.count() == 2
