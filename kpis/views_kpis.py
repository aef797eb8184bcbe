"""KPI pages: the list with status chips and filters, the detail page (definition, chart,
measurement table, target editing, manual actuals, history) and the create, edit and delete
pages. Thin like `govern.views`: gate, selectors, one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from govern import permissions
from govern import selectors as govern_selectors
from govern.choices import PlanVersionStatus
from govern.errors import ApplicationError
from govern.forms import visible_departments, visible_people
from govern.middleware import render_application_error
from govern.models import PlanVersion
from govern.views import (
    _confirm_delete,
    _initial,
    _list_page,
    _may_add_somewhere,
    form_data,
    form_methods,
    form_page,
)
from kpis import filtersets, forms, selectors
from kpis.charts import kpi_chart
from kpis.choices import Direction, Status
from kpis.models import Kpi
from kpis.permissions import RECORD
from kpis.services import kpis as services
from kpis.services.targets import targets_refusal, targets_set


def _kpi(user, pk: int, *, for_write: bool = False) -> Kpi:
    return permissions.access(
        Kpi,
        user,
        pk,
        for_write=for_write,
        queryset=Kpi.objects.select_related("department", "owner"),
    )


def _targets_form(kpi: Kpi, data=None, plan_version: PlanVersion | None = None):
    """The targets form, filled with the KPI's trajectory in `plan_version` (a draft) or in the
    current plan."""
    version = plan_version or govern_selectors.current_plan_version()
    targets = selectors.kpi_targets(kpi=kpi, plan_version=version)
    initial = {"targets": forms.trajectory_text(targets)}
    if plan_version is not None:
        initial["plan_version"] = plan_version.pk
    return forms.TargetsForm(data, initial=initial)


def _requested_version(request: HttpRequest) -> PlanVersion | None:
    """The plan version the targets page works on: `plan_version` in the form or the address
    (a draft, usually); None for the current plan."""
    raw = (request.POST if request.method == "POST" else request.GET).get("plan_version", "")
    if not raw.strip().isdigit():
        return None
    return permissions.access(PlanVersion, request.user, int(raw))


def _measurement_form(kpi: Kpi, data=None) -> forms.MeasurementForm:
    period = forms.default_period(kpi, timezone.localdate())
    return forms.MeasurementForm(data, initial={"period": period})


@login_required
def kpi_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _list_page(
        request,
        template="kpis/kpis/list.html",
        filterset_class=filtersets.KpiFilterSet,
        choices={
            "department": visible_departments(user),
            "owner": visible_people(user),
            "status": ["All statuses", *Status.choices],
            "direction": ["All directions", *Direction.choices],
        },
        select=lambda filters: selectors.kpi_list(user=user, filters=filters),
        context={"can_add": _may_add_somewhere(user, Kpi)},
    )


@login_required
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    kpi = _kpi(user, pk)
    series = selectors.kpi_series(kpi=kpi)
    exception_periods = selectors.kpi_open_exception_periods(user=user, kpi=kpi)
    can_change = permissions.allowed(user, permissions.CHANGE, kpi)
    can_record = kpi.is_active and permissions.allowed(user, RECORD, kpi)
    return render(
        request,
        "kpis/kpis/detail.html",
        _detail_context(
            request,
            kpi,
            series=series,
            exception_periods=exception_periods,
            targets_form=_targets_form(kpi) if can_change else None,
            measurement_form=_measurement_form(kpi) if can_record else None,
            can_change=can_change,
        ),
    )


def _detail_context(request, kpi, *, series, exception_periods, targets_form, measurement_form,
                    can_change) -> dict:  # fmt: skip
    user = request.user
    current = govern_selectors.current_plan_version()
    latest = next((row for row in reversed(series) if row["actual"] is not None), None)
    return {
        "kpi": kpi,
        "chart": kpi_chart(series, kpi, exception_periods=exception_periods) if series else None,
        "latest": latest,
        "rows": selectors.kpi_measurement_table(kpi=kpi),
        "open_exception_count": len(exception_periods),
        "objectives": govern_selectors.objective_list(user=user).filter(kpis=kpi),
        "initiatives": govern_selectors.initiative_list(user=user)
        .filter(kpis=kpi)
        .select_related(None)
        .prefetch_related(None),
        "current_plan": current,
        "targets_form": targets_form,
        "draft_plans": (
            list(PlanVersion.objects.filter(status=PlanVersionStatus.DRAFT).order_by("-created_at"))
            if targets_form is not None
            else []
        ),
        "measurement_form": measurement_form,
        "history": govern_selectors.audit_history(subject=kpi),
        "can_change": can_change,
        "can_delete": permissions.allowed(user, permissions.DELETE, kpi),
    }


@login_required
@form_methods
def kpi_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not _may_add_somewhere(user, Kpi):
        raise PermissionDenied("Only the PMO and department leads can create KPIs.")
    form = forms.KpiForm(form_data(request), user=user, initial={"owner": user.pk})
    if form.is_valid():
        kpi = form.submit(lambda data: services.kpi_create(actor=user, **data))
        if kpi:
            messages.success(request, f"Created KPI “{kpi}”. Set its targets below.")
            return redirect(kpi)
    return form_page(
        request, form, title="New KPI", submit="Create KPI", cancel_url=reverse("kpi-list")
    )


@login_required
@form_methods
def kpi_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    kpi = _kpi(user, pk, for_write=True)
    initial = _initial(kpi, services.KPI_FIELDS)
    initial["objectives"] = list(kpi.objectives.values_list("pk", flat=True))
    initial["initiatives"] = list(kpi.initiatives.values_list("pk", flat=True))
    form = forms.KpiForm(form_data(request), user=user, instance=kpi, initial=initial)
    if form.is_valid():

        def write(data):
            data = dict(data)
            objectives, initiatives = data.pop("objectives"), data.pop("initiatives")
            return services.kpi_update(
                actor=user, kpi=kpi, data=data, objectives=objectives, initiatives=initiatives
            )

        updated = form.submit(write)
        if updated:
            messages.success(request, f"Saved KPI “{updated}”.")
            return redirect(updated)
    return form_page(
        request,
        form,
        title=f"Edit {kpi.code}",
        submit="Save changes",
        cancel_url=kpi.get_absolute_url(),
        intro="Changing the direction, tolerance or band re-evaluates every period of the KPI.",
    )


@login_required
@form_methods
def kpi_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    kpi = _kpi(user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, kpi)
    return _confirm_delete(
        request,
        kpi,
        delete=lambda: services.kpi_delete(actor=user, kpi=kpi),
        success_url=reverse("kpi-list"),
        consequences="Its targets and computed results are deleted with it; its history is "
        "kept. A KPI with measurements cannot be deleted: deactivate it instead.",
    )


@login_required
@form_methods
def kpi_targets(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    kpi = _kpi(user, pk, for_write=True)
    version = _requested_version(request)
    if version is not None and request.method == "GET":
        refusal = targets_refusal(version)
        if refusal is not None:
            return render_application_error(request, refusal)
    form = _targets_form(kpi, form_data(request), plan_version=version)
    if form.is_valid():
        report = form.submit(
            lambda data: targets_set(
                actor=user,
                kpi=kpi,
                values=data["targets"],
                reason=data["reason"],
                plan_version=data["plan_version"],
            ),
        )
        if report is not None:
            changed = report.created + report.updated
            if changed:
                messages.success(
                    request,
                    f"Saved {changed} target{'s' if changed != 1 else ''} of {kpi.code}; the KPI "
                    "is being re-evaluated.",
                )
            else:
                messages.info(request, "The targets were already set to these values.")
            return redirect(kpi)
    shown = version or govern_selectors.current_plan_version()
    where = f" The form shows and sets the targets in {shown.name}." if shown else ""
    return form_page(
        request,
        form,
        title=f"Targets of {kpi}",
        submit="Save targets",
        cancel_url=kpi.get_absolute_url(),
        intro=f"{kpi.get_frequency_display()} periods, in {kpi.get_unit_display()}.{where}",
        plan_version=shown,
    )


@login_required
@form_methods
def kpi_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter an actual by hand: the owner, the department's leads and the PMO."""
    from kpis.services.measurements import IngestRefused, MeasurementRow, measurements_record

    user = request.user
    kpi = _kpi(user, pk)
    if not permissions.allowed(user, RECORD, kpi):
        raise PermissionDenied(
            f"Only the owner of {kpi.code}, the leads of {kpi.department} and the PMO can enter "
            "its actuals."
        )
    form = _measurement_form(kpi, form_data(request))
    if form.is_valid():
        data = form.cleaned_data
        row = MeasurementRow(
            row=1, kpi_code=kpi.code, period=data["period"], value=data["value"],
            note=data["note"],
        )  # fmt: skip
        try:
            report = measurements_record(actor=user, rows=[row], source="manual")
        except IngestRefused as exc:
            for error in exc.report.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        except ApplicationError as exc:
            form.add_service_errors(exc)
        else:
            if report.unchanged:
                messages.info(request, "That actual was already recorded.")
            else:
                messages.success(
                    request,
                    f"Recorded {data['value']:g} for {data['period']:%d %b %Y}; the KPI is being "
                    "re-evaluated.",
                )
            return redirect(kpi)
    return form_page(
        request,
        form,
        title=f"Enter an actual for {kpi}",
        submit="Record actual",
        cancel_url=kpi.get_absolute_url(),
        intro="A changed value keeps the previous one as a revision.",
    )
