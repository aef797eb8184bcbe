"""The import pages with the Django test client: upload, preview, commit, progress partial."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kpis.models import ImportJob, Measurement
from kpis.services.imports import import_commit, import_create
from tests.kpis.ingest.support import csv_bytes

BAD = b"kpi_code,period,value\nSALES-INTAKE,2026-01-01,5\nSALES-INTAKE,2026-01-09,x\n"
GOOD = b"kpi_code,period,value\nSALES-INTAKE,2026-01-01,5\nSALES-INTAKE,2026-02-01,6\n"


def test_upload_preview_with_row_errors_then_commit(
    client, kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    client.force_login(contributor)

    # when: a file with errors
    response = client.post(
        reverse("import-create"), {"file": SimpleUploadedFile("bad.csv", BAD)}, follow=True
    )

    # then: every bad row with row, column and reason, and no Commit button
    page = response.content.decode()
    assert response.status_code == 200
    assert "Rows to correct" in page
    assert (
        '<tr><td class="num">3</td><td class="nowrap">B (period)</td><td>2026-01-09 is not a '
        "monthly period start; did you mean 2026-01-01?</td></tr>"
    ) in page
    assert '<td class="nowrap">C (value)</td><td>&#x27;x&#x27; is not a number.</td>' in page
    assert "Commit" not in page

    # when: the corrected file, then Commit
    response = client.post(
        reverse("import-create"), {"file": SimpleUploadedFile("good.csv", GOOD)}, follow=True
    )
    job = ImportJob.objects.get(filename="good.csv")
    preview = response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(reverse("import-commit", args=[job.pk]))
    committed = client.get(posted["Location"])

    # then
    assert "What would change" in preview
    assert "Commit 2 changes" in preview
    assert "This was a dry run: nothing has been written yet." in preview
    assert (posted.status_code, committed.status_code) == (302, 200)
    assert "Imported: 2 new, 0 corrected, 0 unchanged." in committed.content.decode()
    assert 'data-status="completed"' in committed.content.decode()
    assert Measurement.objects.count() == 2


def test_an_unreadable_file_is_refused_on_the_form(client, kpis, contributor):
    # given
    client.force_login(contributor)

    # when
    response = client.post(
        reverse("import-create"), {"file": SimpleUploadedFile("a.xlsx", b"PK\x03\x04 no")}
    )

    # then
    assert response.status_code == 400
    assert "This is not a readable .xlsx file." in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_the_progress_partial_polls_while_running_and_stops_when_done(
    client, kpis, contributor, recompute_calls
):
    # given
    client.force_login(contributor)
    job = import_create(actor=contributor, filename="a.csv", content=csv_bytes(GOOD.decode()))
    job = import_commit(actor=contributor, job=job)  # queued, not yet run
    url = reverse("import-progress", args=[job.pk])

    # when
    running = client.get(url, headers={"HX-Request": "true"})
    detail = client.get(job.get_absolute_url())
    from kpis.tasks import import_commit as task

    task(job.pk)
    done = client.get(url, headers={"HX-Request": "true"})

    # then
    assert f'hx-get="{url}" hx-trigger="every 1s"' in running.content.decode()
    assert "Writing 0 of 2 rows…" in running.content.decode()
    assert 'hx-trigger="every 1s"' in detail.content.decode()
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Refresh"] == "true"
    assert "Completed" in done.content.decode()


def test_the_import_list_shows_only_my_imports_with_bounded_queries(
    client, kpis, contributor, lead, django_assert_max_num_queries
):
    # given
    for name in ("one.csv", "two.csv", "three.csv"):
        import_create(actor=contributor, filename=name, content=GOOD)
    import_create(actor=lead, filename="leads.csv", content=GOOD)
    client.force_login(contributor)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("import-list"))

    # then
    page = response.content.decode()
    assert "3 imports" in page
    assert "one.csv" in page
    assert "leads.csv" not in page


def test_someone_elses_import_page_is_not_found(client, kpis, contributor, lead):
    # given
    job = import_create(actor=lead, filename="leads.csv", content=GOOD)
    client.force_login(contributor)

    # when
    response = client.get(job.get_absolute_url())

    # then
    assert response.status_code == 404


def test_the_upload_form_explains_both_layouts(client, contributor):
    # given
    client.force_login(contributor)

    # when
    response = client.get(reverse("import-create"))

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page
    assert "kpi_code,period,value,note" in page
    assert "kpi_code,name,2026-03-01,2026-04-01" in page
