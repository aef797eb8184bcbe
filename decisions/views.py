"""Decision log pages: the log with its filters and the hash chain's verdict, one decision (its
content, links, reallocations, expected effect, effectiveness and log entries), and the pages
that write: log a decision (from scratch or answering an exception), decide a proposed one,
supersede a decided one. There is no edit and no delete: the log is append-only.

Thin like `govern.views`: reads through `decisions.selectors`, one service per write; buttons
come from `selectors.decision_actions` and the services check again (their refusals come back as
form errors, an authority refusal with 403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from decisions import filtersets, forms, selectors, services
from decisions import permissions as decision_perms
from decisions.choices import DecisionStatus, Effectiveness
from decisions.models import Decision
from dependencies.models import Contract
from govern import permissions
from govern.errors import ConflictError
from govern.forms import visible_departments
from govern.models import Department, Initiative, Objective
from govern.views import filter_form, form_data, form_methods, paginate
from kpis import selectors as kpi_selectors
from kpis.models import Kpi, KpiException

LIST_FILTERS = ("q", "department", "status", "effectiveness", "kpi")


def _loggable_departments(user):
    """The visible departments the user may record decisions for."""
    allowed = [d.pk for d in visible_departments(user) if selectors.may_log(user, d.pk)]
    return Department.objects.filter(pk__in=allowed)


# --- The log ----------------------------------------------------------------------------------


@login_required
def decision_list(request: HttpRequest) -> HttpResponse:
    """Newest first; filters by department, status, effectiveness, KPI (an outcome or the KPI
    expected to move) and text. The banner says whether the hash chain verifies."""
    user = request.user
    named = Q(decisions__isnull=False) | Q(expected_by_decisions__isnull=False)
    form = filter_form(
        filtersets.DecisionFilterSet,
        request,
        {
            "department": visible_departments(user),
            "status": ["All statuses", *DecisionStatus.choices],
            "effectiveness": ["Any effectiveness", *Effectiveness.choices],
            "kpi": Kpi.objects.restrict(user).filter(named).distinct().order_by("code"),
        },
    )
    form.fields["kpi"].label = "KPI"
    form.fields["kpi"].empty_label = "All KPIs"
    form.fields["kpi"].widget.choices = form.fields["kpi"].choices
    filters = {n: request.GET[n] for n in LIST_FILTERS if request.GET.get(n, "").strip()}
    items, status = [], 200
    if form.is_valid():
        try:
            items = selectors.decision_list(user=user, filters=filters)
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
    else:
        status = 400
    return render(
        request,
        "decisions/list.html",
        {
            "filter_form": form,
            "page": paginate(request, items),
            "filtered": bool(filters),
            "chain": selectors.chain_status(),
            "can_log": _loggable_departments(user).exists(),
            "reads_everything": permissions.scope_for(user).reads_everything,
        },
        status=status,
    )


# --- One decision -----------------------------------------------------------------------------


def _visible_links(user, decision: Decision) -> dict[str, set[int]]:
    """Which linked rows the reader may open (the rest are named without a link): one query per
    kind of link, none for someone who reads everything."""
    superseded = _superseded_or_none(decision)
    links = {
        "kpi": (Kpi, {k.pk for k in decision.kpis.all()} | {decision.expected_kpi_id}),
        "exception": (KpiException, {decision.exception_id}),
        "initiative": (
            Initiative,
            {decision.initiative_id, decision.tradeoff_initiative_id}
            | {
                pk
                for line in decision.reallocations.all()
                for pk in (line.from_initiative_id, line.to_initiative_id)
            },
        ),
        "contract": (Contract, {decision.contract_id}),
        "objective": (Objective, {decision.objective_id, decision.tradeoff_objective_id}),
        "decision": (Decision, {decision.supersedes_id, getattr(superseded, "pk", None)}),
    }
    reads_everything = permissions.scope_for(user).reads_everything
    visible = {}
    for name, (model, pks) in links.items():
        pks.discard(None)
        if not pks or reads_everything:
            visible[name] = pks
        else:
            rows = model.objects.restrict(user).filter(pk__in=pks)
            visible[name] = set(rows.values_list("pk", flat=True))
    return visible


@login_required
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = selectors.decision_get(user=request.user, pk=pk)
    return _detail(request, decision)


def _detail(
    request: HttpRequest, decision: Decision, *, decide_form=None, status: int = 200
) -> HttpResponse:
    user = request.user
    actions = selectors.decision_actions(user, decision)
    if selectors.DECIDE in actions and decide_form is None:
        decide_form = forms.DecideForm(prefix="decide")
    return render(
        request,
        "decisions/detail.html",
        {
            "decision": decision,
            "superseded_by": _superseded_or_none(decision),
            "actions": actions,
            "decide_form": decide_form if selectors.DECIDE in actions else None,
            "entries": list(selectors.decision_log_entries(user=user, decision=decision)),
            "visible": _visible_links(user, decision),
            "who_decides": decision_perms.who_decides(
                department=decision.department, cross_department=decision.cross_department
            ),
        },
        status=status,
    )


def _superseded_or_none(decision: Decision) -> Decision | None:
    try:
        return decision.superseded_by
    except Decision.superseded_by.RelatedObjectDoesNotExist:
        return None


# --- Writing ----------------------------------------------------------------------------------


def lines_form_page(
    request,
    form,
    *,
    title,
    intro,
    submit,
    cancel_url,
    template: str = "decisions/form.html",
):
    """A form with reallocation lines (a decision, a contingency plan), answered with its status:
    200 when shown or when a line was added, else the form's refusal status (400 when invalid)."""
    return render(
        request,
        template,
        {
            "form": form,
            "title": title,
            "intro": intro,
            "submit": submit,
            "cancel_url": cancel_url,
        },
        status=_status(request, form),
    )


def _status(request: HttpRequest, form) -> int:
    if request.method != "POST" or "add_line" in request.POST:
        return 200
    return getattr(form, "refusal_status", 400)


@login_required
@form_methods
def decision_create(request: HttpRequest) -> HttpResponse:
    """Log a decision; `?exception=<id>` starts it as an answer to that exception (its
    department, its KPI as the outcome and as the KPI expected to move)."""
    user = request.user
    departments = _loggable_departments(user)
    if not departments.exists():
        raise PermissionDenied(
            "You may not record decisions: the members of a department (other than viewers), "
            "its leads, the PMO and executives may."
        )
    initial, exception = {}, None
    exception_id = request.GET.get("exception", "").strip()
    if exception_id:
        exception = kpi_selectors.exception_detail(user=user, pk=exception_id)
        initial = forms.initial_from_exception(exception)
    add_line = "add_line" in request.POST
    form = forms.DecisionForm(
        form_data(request), user=user, departments=departments, initial=initial, add_line=add_line
    )
    if add_line:
        form.hold()
    elif request.method == "POST" and form.is_valid():
        decision = form.submit(
            lambda data: services.decision_log(
                actor=user, data=form.content(), propose=form.propose
            )
        )
        if decision:
            done = "Proposed" if decision.status == DecisionStatus.PROPOSED else "Logged"
            messages.success(request, f"{done} {decision}.")
            return redirect(decision)
    intro = (
        "A decision names the outcome (KPI) it is meant to move, what it sacrifices, the "
        "resources it moves and the effect expected by a review date. It is written once: a "
        "correction is a new decision that supersedes it."
    )
    return lines_form_page(
        request,
        form,
        title=f"Log a decision on “{exception.title}”" if exception else "Log a decision",
        intro=intro,
        submit="Log the decision",
        cancel_url=exception.get_absolute_url() if exception else reverse("decision-list"),
    )


@login_required
@form_methods
def decision_supersede(request: HttpRequest, pk: int) -> HttpResponse:
    """A correction: a new decision, started from the old one's content, that supersedes it."""
    user = request.user
    old = selectors.decision_get(user=user, pk=pk)
    _ensure_action(user, old, selectors.SUPERSEDE)
    lines = forms.initial_lines(old)
    add_line = "add_line" in request.POST
    form = forms.DecisionForm(
        form_data(request),
        user=user,
        departments=(
            _loggable_departments(user) | Department.objects.filter(pk=old.department_id)
        ).distinct(),
        corrects=old,
        initial={**forms.initial_content(old), "mode": forms.DECIDE},
        lines=lines,
        add_line=add_line,
    )
    form.fields.pop("mode")  # a correction is decided by whoever supersedes
    if add_line:
        form.hold()
    elif request.method == "POST" and form.is_valid():
        new = form.submit(
            lambda data: services.decision_supersede(actor=user, decision=old, data=form.content())
        )
        if new:
            messages.success(request, f"Logged {new}; it supersedes {old}.")
            return redirect(new)
    return lines_form_page(
        request,
        form,
        title=f"Supersede {old}",
        intro=(
            f"The new decision starts from {old}'s content: change what the correction changes. "
            f"{old} stays in the log, marked superseded, and both link to each other."
        ),
        submit="Log the correction",
        cancel_url=old.get_absolute_url(),
    )


def _ensure_action(user, decision: Decision, action: str) -> None:
    """403 for someone without the authority; 409 when the decision's state does not allow it."""
    if action in selectors.decision_actions(user, decision):
        return
    may = decision_perms.may_decide(
        user, department_id=decision.department_id, cross_department=decision.cross_department
    )
    if not may:
        raise PermissionDenied(
            decision_perms.who_decides(
                department=decision.department, cross_department=decision.cross_department
            )
        )
    state = decision.get_status_display().lower()
    if action == selectors.DECIDE:
        raise ConflictError(f"{decision} is {state}; only a proposed decision can be decided.")
    raise ConflictError(f"{decision} is {state}; only a decided decision can be superseded.")


@login_required
@form_methods
def decision_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a proposed decision: GET shows it with the form, POST decides it."""
    user = request.user
    decision = selectors.decision_get(user=user, pk=pk)
    _ensure_action(user, decision, selectors.DECIDE)
    form = forms.DecideForm(form_data(request), prefix="decide")
    if form.is_valid():
        done = form.submit(
            lambda data: services.decision_decide(actor=user, decision=decision, note=data["note"])
        )
        if done:
            messages.success(request, f"Decided {done}.")
            return redirect(done)
        decision = selectors.decision_get(user=user, pk=pk)  # what is stored now
    status = getattr(form, "refusal_status", 400) if request.method == "POST" else 200
    return _detail(request, decision, decide_form=form, status=status)
