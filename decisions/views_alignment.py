"""Alignment assessment pages: the heat-map (department › leader × quarter), the list, one
assessment, and recording or correcting one (PMO, executives). Thin like `govern.views`: reads
through `decisions.selectors_alignment`, one service per write (`decisions.services.alignment`),
whose refusals come back as form errors."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from decisions import selectors_alignment as selectors
from decisions.filtersets_alignment import AlignmentFilterSet
from decisions.forms_alignment import AssessmentForm, HeatmapFilterForm
from decisions.models import AlignmentAssessment
from decisions.services import alignment as services
from govern import permissions
from govern.choices import Role
from govern.forms import DateInput, visible_departments
from govern.models import Person
from govern.selectors import audit_history
from govern.views import filter_form, form_data, form_methods, paginate

LIST_FILTERS = ("q", "leader", "department", "period", "from", "to")


def _assessed_people(user):
    """The people the user may see who have been assessed (the list's leader filter)."""
    assessed = AlignmentAssessment.objects.restrict(user).values("leader_id")
    return Person.objects.restrict(user).filter(pk__in=assessed).order_by("last_name", "first_name")


def _assessable_people(user):
    """Active people the user may see who lead, contribute to or view a department (the form's
    leaders; the service checks the membership of the department chosen)."""
    roles = [Role.DEPARTMENT_LEAD, Role.CONTRIBUTOR, Role.VIEWER]
    return (
        Person.objects.restrict(user)
        .filter(is_active=True, memberships__role__in=roles)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _ensure_may_record(user) -> None:
    if not selectors.may_record(user):
        raise PermissionDenied("Only the PMO and executives record alignment assessments.")


# --- The heat-map -------------------------------------------------------------------------------


@login_required
def alignment_heatmap(request: HttpRequest) -> HttpResponse:
    """Rows: department › leader; columns: the last 4–8 quarters; each cell the mean score,
    coloured on the 1–5 scale, with the three scores in its tooltip and a marker when falling."""
    user = request.user
    form = HeatmapFilterForm(request.GET or None, departments=visible_departments(user))
    status, department_id, quarters = 200, None, selectors.QUARTERS_DEFAULT
    if form.is_bound:
        if form.is_valid():
            department = form.cleaned_data["department"]
            department_id = department.pk if department else None
            quarters = form.cleaned_data["quarters"] or selectors.QUARTERS_DEFAULT
        else:
            status = 400
    heat = selectors.heatmap(
        user=user, today=timezone.localdate(), department_id=department_id, quarters=quarters
    )
    filtered = bool(department_id)
    return render(
        request,
        "decisions/alignment/heatmap.html",
        {
            "filter_form": form,
            "heat": heat,
            "page": paginate(request, heat.rows),
            "filtered": filtered,
            "can_record": selectors.may_record(user),
            "reads_everything": permissions.scope_for(user).reads_everything,
            "low": settings.GOVERN_ALIGNMENT_LOW,
            "drop": settings.GOVERN_ALIGNMENT_DROP,
        },
        status=status,
    )


# --- The list and one assessment ----------------------------------------------------------------


@login_required
def alignment_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = filter_form(
        AlignmentFilterSet,
        request,
        {"leader": _assessed_people(user), "department": visible_departments(user)},
    )
    form.fields["leader"].empty_label = "All leaders"
    form.fields["leader"].widget.choices = form.fields["leader"].choices
    dates = AlignmentFilterSet(request.GET, queryset=AlignmentAssessment.objects.none()).form
    for name in ("from", "to"):
        form.fields[name] = dates.fields[name]
        form.fields[name].widget = DateInput()
    filters = {n: request.GET[n] for n in LIST_FILTERS if request.GET.get(n, "").strip()}
    items, status = [], 200
    if form.is_valid():
        try:
            items = selectors.assessment_list(user=user, filters=filters)
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
    else:
        status = 400
    return render(
        request,
        "decisions/alignment/list.html",
        {
            "filter_form": form,
            "page": paginate(request, items),
            "filtered": bool(filters),
            "can_record": selectors.may_record(user),
        },
        status=status,
    )


@login_required
def alignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assessment = selectors.assessment_get(user=user, pk=pk)
    previous = selectors.assessment_previous(assessment=assessment)
    return render(
        request,
        "decisions/alignment/detail.html",
        {
            "assessment": assessment,
            "previous": previous,
            "verdict": selectors.assessment_verdict(assessment=assessment, previous=previous),
            "exception": selectors.assessment_exception(user=user, assessment=assessment),
            "can_change": permissions.allowed(user, permissions.CHANGE, assessment),
            "history": audit_history(subject=assessment),
            "low": settings.GOVERN_ALIGNMENT_LOW,
            "drop": settings.GOVERN_ALIGNMENT_DROP,
        },
    )


# --- Writing ------------------------------------------------------------------------------------


def _form(request: HttpRequest, user, **kwargs) -> AssessmentForm:
    return AssessmentForm(
        form_data(request),
        people=_assessable_people(user),
        departments=visible_departments(user),
        **kwargs,
    )


def _form_page(request, form, *, title, intro, submit, cancel_url, history=None, status=200):
    return render(
        request,
        "govern/form_page.html",
        {
            "form": form,
            "title": title,
            "intro": intro,
            "submit": submit,
            "cancel_url": cancel_url,
            "history": history,
        },
        status=status,
    )


INTRO = (
    "Score the leader 1–5 on how well they understand the objectives, how committed they are "
    "and how adequate their resources are, and note any resistance. A low score (at or below "
    "{low}) or a mean falling by {drop:g} or more against their previous assessed quarter raises "
    "an alignment exception for the PMO."
)


@login_required
@form_methods
def alignment_create(request: HttpRequest) -> HttpResponse:
    """Record an assessment; `?leader=&department=&period=` fill the form in (the heat-map's empty
    cells link here)."""
    user = request.user
    _ensure_may_record(user)
    initial = {
        name: request.GET[name]
        for name in ("leader", "department", "period")
        if request.GET.get(name, "").strip()
    }
    form = _form(request, user, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            assessment = form.submit(lambda data: services.assessment_record(actor=user, **data))
            if assessment:
                messages.success(request, f"Recorded the assessment of {assessment}.")
                return redirect("alignment-detail", pk=assessment.pk)
            status = getattr(form, "refusal_status", 400)
    return _form_page(
        request,
        form,
        title="Record an alignment assessment",
        intro=INTRO.format(low=settings.GOVERN_ALIGNMENT_LOW, drop=settings.GOVERN_ALIGNMENT_DROP),
        submit="Record the assessment",
        cancel_url=reverse("alignment-heatmap"),
        status=status,
    )


@login_required
@form_methods
def alignment_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assessment = permissions.access(
        AlignmentAssessment,
        user,
        pk,
        for_write=True,
        queryset=AlignmentAssessment.objects.select_related(*selectors.RELATED),
    )
    initial = {
        "leader": assessment.leader_id,
        "department": assessment.department_id,
        "period": assessment.period,
        "understanding": assessment.understanding,
        "commitment": assessment.commitment,
        "resources": assessment.resources,
        "resistance_notes": assessment.resistance_notes,
    }
    form = _form(request, user, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            updated = form.submit(
                lambda data: services.assessment_update(
                    actor=user, assessment=assessment, data=data
                )
            )
            if updated:
                messages.success(request, f"Saved the assessment of {updated}.")
                return redirect("alignment-detail", pk=updated.pk)
            status = getattr(form, "refusal_status", 400)
    return _form_page(
        request,
        form,
        title=f"Correct the assessment of {assessment}",
        intro="Every change is kept in the history, with who made it.",
        submit="Save the assessment",
        cancel_url=reverse("alignment-detail", args=[assessment.pk]),
        history=audit_history(subject=assessment),
        status=status,
    )
