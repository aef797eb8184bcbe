"""The exception pages: the list, ranked by severity, and one exception with what triggered it,
its KPI's latest figures, its lifecycle, and the acknowledge and assign forms for the people who
may act on it. Thin: reads through `kpis.selectors`, writes through `kpis.services.exceptions`."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from govern import forms as govern_forms
from govern.views import filter_form, paginate
from kpis import filtersets, selectors
from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus
from kpis.forms_exceptions import (
    ExceptionAcknowledgeForm,
    ExceptionAssignForm,
    ExceptionResolveForm,
)
from kpis.models import KpiException
from kpis.services import exceptions as services

FILTERS = ("q", "status", "kind", "department", "severity_min", "escalation_level")
SEVERITY_CHOICES = [
    ("", "Any severity"),
    ("5", "5 or more"),
    ("10", "10 or more"),
    ("20", "20 or more"),
]


@login_required
def exception_list(request: HttpRequest) -> HttpResponse:
    """Unresolved exceptions by default, most severe first; filters narrow or widen that."""
    user = request.user
    form = filter_form(
        filtersets.ExceptionFilterSet,
        request,
        {
            "status": [
                "Not resolved",
                *ExceptionStatus.choices,
                (filtersets.ALL_STATUSES, "All, resolved included"),
            ],
            "kind": ["All kinds", *ExceptionKind.choices],
            "department": govern_forms.visible_departments(user),
            "severity_min": ["Any severity"],
            "escalation_level": ["All levels", *EscalationLevel.choices],
        },
    )
    severity = form.fields["severity_min"]
    severity.label = "Severity"
    severity.widget = django_forms.Select(choices=SEVERITY_CHOICES)
    form.fields["escalation_level"].label = "Escalated to"
    filters = {name: request.GET[name] for name in FILTERS if request.GET.get(name, "").strip()}
    items, status = [], 200
    if form.is_valid():
        try:
            items = selectors.exception_list(
                user=user, filters={"status": filtersets.UNRESOLVED, **filters}
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
    else:
        status = 400
    return render(
        request,
        "kpis/exceptions/list.html",
        {
            "filter_form": form,
            "page": paginate(request, items),
            "filtered": bool(filters),
            "now": timezone.now(),
            "counts": selectors.exception_counts(user=user),
            "kinds": ExceptionKind.choices,
        },
        status=status,
    )


@login_required
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exception = selectors.exception_detail(user=request.user, pk=pk)
    return _detail(request, exception)


def _detail(
    request: HttpRequest,
    exception: KpiException,
    *,
    acknowledge_form: ExceptionAcknowledgeForm | None = None,
    assign_form: ExceptionAssignForm | None = None,
    resolve_form: ExceptionResolveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_act = services.can_act(request.user, exception)
    can_resolve = services.can_resolve(request.user, exception)
    if can_resolve and resolve_form is None:
        resolve_form = ExceptionResolveForm(prefix="resolve")
    unresolved = exception.status != ExceptionStatus.RESOLVED
    if can_act and exception.status == ExceptionStatus.OPEN and acknowledge_form is None:
        acknowledge_form = ExceptionAcknowledgeForm(prefix="ack")
    if can_act and unresolved and assign_form is None:
        assign_form = ExceptionAssignForm(
            exception=exception, prefix="assign", initial={"owner": exception.owner_id}
        )
    return render(
        request,
        "kpis/exceptions/detail.html",
        {
            "exception": exception,
            "results": selectors.exception_kpi_results(exception=exception),
            "history": selectors.exception_history(exception=exception),
            "can_act": can_act,
            "acknowledge_form": acknowledge_form if can_act else None,
            "assign_form": assign_form if can_act and unresolved else None,
            "resolve_form": resolve_form if can_resolve else None,
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
@require_POST
def exception_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    exception = selectors.exception_detail(user=user, pk=pk)
    services.ensure_can_act(user, exception)
    form = ExceptionAcknowledgeForm(request.POST, prefix="ack")
    if form.is_valid():
        done = form.submit(
            lambda data: services.exception_acknowledge(
                actor=user, exception=exception, note=data["note"]
            ),
        )
        if done:
            messages.success(request, f"Acknowledged “{done.title}”.")
            return redirect(done)
    return _detail(
        request,
        exception,
        acknowledge_form=form,
        status=getattr(form, "refusal_status", 400),
    )


@login_required
@require_POST
def exception_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    exception = selectors.exception_detail(user=user, pk=pk)
    services.ensure_can_act(user, exception)
    form = ExceptionAssignForm(request.POST, exception=exception, prefix="assign")
    if form.is_valid():
        done = form.submit(
            lambda data: services.exception_assign(
                actor=user, exception=exception, owner=data["owner"], note=data["note"]
            ),
        )
        if done:
            messages.success(request, f"“{done.title}” is now owned by {done.owner}.")
            return redirect(done)
    return _detail(
        request, exception, assign_form=form, status=getattr(form, "refusal_status", 400)
    )


@login_required
@require_POST
def exception_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve a target-gaming signal or an alignment exception with a note (PMO, executives)."""
    user = request.user
    exception = selectors.exception_detail(user=user, pk=pk)
    form = ExceptionResolveForm(request.POST, prefix="resolve")
    if form.is_valid():
        done = form.submit(
            lambda data: services.exception_resolve(
                actor=user, exception=exception, note=data["note"]
            ),
        )
        if done:
            messages.success(request, f"Resolved “{done.title}”.")
            return redirect(done)
    return _detail(
        request, exception, resolve_form=form, status=getattr(form, "refusal_status", 400)
    )
