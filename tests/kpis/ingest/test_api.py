"""POST/GET /api/v1/measurements/ and /api/v1/imports/: permissions, error shape, counts."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from kpis.models import ImportJob, Measurement
from tests.factories import MeasurementFactory
from tests.kpis.ingest.support import JAN, csv_bytes

API = "/api/v1/"


def test_the_owner_posts_actuals_for_their_kpi(api_client, kpis, contributor, recompute_calls):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=100.0)
    api_client.force_authenticate(contributor)
    rows = [
        {"kpi": "SALES-INTAKE", "period": "2026-01-01", "value": 100},
        {"kpi": "SALES-INTAKE", "period": "2026-02-01", "value": 95.5, "note": "CRM"},
    ]

    # when
    response = api_client.post(f"{API}measurements/", rows, format="json")
    wrapped = api_client.post(
        f"{API}measurements/",
        {"rows": [{"kpi": "SALES-INTAKE", "period": "2026-01-01", "value": 101}]},
        format="json",
    )

    # then
    assert (response.status_code, response.json()) == (
        200,
        {"created": 1, "updated": 0, "unchanged": 1},
    )
    assert (wrapped.status_code, wrapped.json()) == (
        200,
        {"created": 0, "updated": 1, "unchanged": 0},
    )
    assert Measurement.objects.get(period=dt.date(2026, 2, 1)).source == "api"


def test_bad_rows_answer_400_with_every_row_index_and_nothing_is_written(
    api_client, kpis, contributor, other_department, recompute_calls
):
    # given
    api_client.force_authenticate(contributor)
    rows = [
        {"kpi": "SALES-INTAKE", "period": "2026-01-01", "value": 1},
        {"kpi": "PROC-OTD", "period": "2026-01-01", "value": 1},
        {"kpi": "SALES-INTAKE", "period": "2026-03-15", "value": "NaN"},
    ]

    # when
    response = api_client.post(f"{API}measurements/", rows, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_rows",
            "message": "2 of 3 rows are not valid (3 errors); nothing was written.",
            "fields": {},
            "details": {
                "rows": [
                    {"index": 1, "field": "kpi", "message": "Unknown KPI code 'PROC-OTD'."},
                    {
                        "index": 2,
                        "field": "period",
                        "message": "2026-03-15 is not a monthly period start; did you mean "
                        "2026-03-01?",
                    },
                    {
                        "index": 2,
                        "field": "value",
                        "message": "'NaN' is not a finite number; enter a number.",
                    },
                ]
            },
        }
    }
    assert Measurement.objects.count() == 0
    assert recompute_calls == []


def test_a_viewer_may_not_record(api_client, kpis, viewer, recompute_calls):
    # given
    api_client.force_authenticate(viewer)

    # when
    response = api_client.post(
        f"{API}measurements/",
        [{"kpi": "SALES-INTAKE", "period": "2026-01-01", "value": 1}],
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"]["rows"] == [
        {
            "index": 0,
            "field": "kpi",
            "message": "You are not allowed to record actuals for KPI SALES-INTAKE: only its "
            "owner, its department's leads and the PMO may.",
        }
    ]
    assert Measurement.objects.count() == 0


def test_a_body_that_is_not_a_list_and_too_many_rows_are_refused(
    api_client, kpis, contributor, settings
):
    # given
    api_client.force_authenticate(contributor)
    settings.GOVERN_MEASUREMENTS_MAX_ROWS = 1
    two = [{"kpi": "SALES-INTAKE", "period": f"2026-0{m}-01", "value": 1} for m in (1, 2)]

    # when
    not_a_list = api_client.post(f"{API}measurements/", {"kpi": "SALES-INTAKE"}, format="json")
    too_many = api_client.post(f"{API}measurements/", two, format="json")
    not_objects = api_client.post(f"{API}measurements/", [1], format="json")

    # then
    assert (not_a_list.status_code, not_a_list.json()["error"]["message"]) == (
        400,
        'Send a JSON list of rows, or an object {"rows": [...]}; each row is an object with kpi, '
        "period, value and optionally note.",
    )
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "too_many_rows")
    assert too_many.json()["error"]["message"] == "Too many rows: 2. Send at most 1 rows at a time."
    assert not_objects.json()["error"]["details"]["rows"] == [
        {
            "index": 0,
            "field": "row",
            "message": "Each row is an object with kpi, period, value and optionally note.",
        }
    ]
    assert Measurement.objects.count() == 0


def test_the_list_shows_actuals_of_visible_kpis_with_revision_counts(
    api_client, kpis, contributor, django_assert_max_num_queries, recompute_calls
):
    # given
    api_client.force_authenticate(contributor)
    for month in range(1, 13):
        MeasurementFactory(kpi=kpis.intake, period=dt.date(2025, month, 1), value=month)
    MeasurementFactory(kpi=kpis.otd, period=JAN, value=1.0)
    api_client.post(
        f"{API}measurements/",
        [{"kpi": "SALES-INTAKE", "period": "2025-12-01", "value": 99}],
        format="json",
    )

    # when
    with django_assert_max_num_queries(6):
        response = api_client.get(f"{API}measurements/", {"kpi": "sales-intake"})
    hidden = api_client.get(f"{API}measurements/", {"kpi": "PROC-OTD"})

    # then
    body = response.json()
    assert body["count"] == 12
    first = body["results"][0]
    assert (first["kpi_code"], first["period"], first["value"]) == (
        "SALES-INTAKE",
        "2025-12-01",
        99.0,
    )
    assert (first["revision"], first["revision_count"]) == (2, 1)
    assert hidden.json()["count"] == 0


def test_an_upload_is_checked_and_committed_through_the_api(
    api_client, kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    api_client.force_authenticate(contributor)
    upload = SimpleUploadedFile(
        "actuals.csv", csv_bytes("kpi_code,period,value\nSALES-INTAKE,2026-01-01,5\n")
    )

    # when
    created = api_client.post(f"{API}imports/", {"file": upload}, format="multipart")
    job_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        committed = api_client.post(f"{API}imports/{job_id}/commit/")
    detail = api_client.get(f"{API}imports/{job_id}/")
    listed = api_client.get(f"{API}imports/")

    # then
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["created_count"]) == ("validated", 1)
    assert created.json()["preview"] == [
        {"kpi": "SALES-INTAKE", "period": "2026-01-01", "old": None, "new": 5.0}
    ]
    assert committed.status_code == 200
    assert (detail.json()["status"], detail.json()["progress_percent"]) == ("completed", 100)
    assert [job["id"] for job in listed.json()["results"]] == [job_id]
    assert Measurement.objects.get().value == 5.0


def test_a_bad_upload_answers_400_and_stores_nothing(api_client, kpis, contributor):
    # given
    api_client.force_authenticate(contributor)
    upload = SimpleUploadedFile("actuals.xlsx", b"PK\x03\x04 broken")

    # when
    response = api_client.post(f"{API}imports/", {"file": upload}, format="multipart")

    # then
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_file",
        "message": "This is not a readable .xlsx file.",
        "fields": {"file": ["This is not a readable .xlsx file."]},
    }
    assert ImportJob.objects.count() == 0


def test_other_peoples_imports_are_not_found(api_client, kpis, contributor, lead, pmo):
    # given
    api_client.force_authenticate(contributor)
    upload = SimpleUploadedFile("a.csv", b"kpi_code,period,value\nSALES-INTAKE,2026-01-01,5\n")
    job_id = api_client.post(f"{API}imports/", {"file": upload}, format="multipart").json()["id"]

    # when
    api_client.force_authenticate(lead)
    by_lead = api_client.get(f"{API}imports/{job_id}/")
    commit_by_lead = api_client.post(f"{API}imports/{job_id}/commit/")
    api_client.force_authenticate(pmo)
    by_pmo = api_client.get(f"{API}imports/{job_id}/")

    # then
    assert (by_lead.status_code, commit_by_lead.status_code, by_pmo.status_code) == (404, 404, 200)
    assert ImportJob.objects.get().status == "validated"


def test_a_dry_run_false_upload_commits_at_once(
    api_client, kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    api_client.force_authenticate(contributor)
    upload = SimpleUploadedFile("a.csv", b"kpi_code,period,value\nSALES-INTAKE,2026-01-01,5\n")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"{API}imports/", {"file": upload, "dry_run": "false"}, format="multipart"
        )

    # then
    assert response.status_code == 201
    assert ImportJob.objects.get().status == "completed"
    assert Measurement.objects.get().value == 5.0
