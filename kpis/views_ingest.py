"""Import pages: the list of imports, the upload form, and the job page with the dry-run preview
(counts, every bad row, what would change), the Commit button and, while a job is checked or
written, a progress bar refreshed by htmx from a small partial."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from govern import permissions
from govern.errors import ApplicationError
from govern.views import form_methods
from kpis import selectors
from kpis.choices import ImportStatus
from kpis.services import imports

ACTIVE = (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.RUNNING)
TONES = {
    ImportStatus.PENDING: "muted",
    ImportStatus.VALIDATING: "info",
    ImportStatus.VALIDATED: "success",
    ImportStatus.INVALID: "danger",
    ImportStatus.RUNNING: "info",
    ImportStatus.COMPLETED: "success",
    ImportStatus.FAILED: "danger",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text="A .csv (UTF-8) or .xlsx file. Long format: columns kpi_code, period, value "
        "and optionally note. Wide format: kpi_code (and name), then one column per period, "
        "headed by its start date.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


def _may_commit(user, job) -> bool:
    return (
        job.status == ImportStatus.VALIDATED
        and not job.error_count
        and (job.created_by_id == user.pk or permissions.scope_for(user).is_pmo)
    )


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.import_job_list(user=request.user)
    page = Paginator(jobs, settings.GOVERN_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for job in page.object_list:
        job.tone = TONES.get(job.status, "neutral")
    return render(request, "kpis/imports/list.html", {"page": page})


@login_required
@form_methods
def import_create(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imports.ensure_import_size(upload.size)
            job = imports.import_create(
                actor=request.user, filename=upload.name, content=upload.read()
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(job)
    return render(
        request,
        "kpis/imports/create.html",
        {
            "form": form,
            "max_bytes": settings.GOVERN_IMPORT_MAX_BYTES,
            "max_rows": settings.GOVERN_IMPORT_MAX_ROWS,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_detail(user=request.user, pk=pk)
    return render(request, "kpis/imports/detail.html", _job_context(request.user, job))


@login_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial htmx polls every second while the job runs. Once the job is done it
    answers without the polling trigger and asks htmx to reload the page, showing the result."""
    job = selectors.import_job_detail(user=request.user, pk=pk)
    response = render(request, "kpis/imports/_progress.html", _job_context(request.user, job))
    if job.status not in ACTIVE and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_detail(user=request.user, pk=pk)
    try:
        job = imports.import_commit(actor=request.user, job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if job.status == ImportStatus.COMPLETED:
            messages.success(request, job.message or "Imported.")
        elif job.status == ImportStatus.FAILED:
            messages.error(request, job.message)
        else:
            messages.info(request, "Writing the actuals; this page shows the progress.")
    return redirect(job)


def _job_context(user, job) -> dict:
    processed = selectors.import_job_progress(job=job)
    percent = min(100, round(100 * processed / job.total_rows)) if job.total_rows else 0
    return {
        "job": job,
        "tone": TONES.get(job.status, "neutral"),
        "active": job.status in ACTIVE,
        "processed": processed,
        "percent": percent,
        "may_commit": _may_commit(user, job),
        "more_errors": max(0, job.error_count - len(job.errors)),
    }
