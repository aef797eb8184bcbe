"""Contingency plan pages: the list with its filters, one plan (its definition in words, the
reallocation template, the test against history, the decisions it proposed, disable and enable),
defining and editing one, and the small card on a KPI's page.

Thin like `decisions.views`: reads through `decisions.selectors_contingency`, one service per
write; buttons come from `selectors.plan_actions` and the services check again (their refusals
come back as form errors; an authority refusal is a 403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from decisions import forms_contingency as forms
from decisions import selectors_contingency as selectors
from decisions.choices import TriggerBasis
from decisions.filtersets_contingency import ContingencyPlanFilterSet
from decisions.models import ContingencyPlan
from decisions.services import contingency as services
from decisions.views import lines_form_page
from govern import permissions
from govern.forms import visible_departments, visible_people
from govern.selectors import audit_history
from govern.views import filter_form, form_data, form_methods, paginate
from kpis.choices import Frequency
from kpis.models import Kpi

LIST_FILTERS = ("q", "kpi", "department", "enabled", "owner")


# --- The list ---------------------------------------------------------------------------------


@login_required
@require_GET
def contingency_list(request: HttpRequest) -> HttpResponse:
    """By KPI; filters by KPI, department, enabled, owner and text."""
    user = request.user
    form = filter_form(
        ContingencyPlanFilterSet,
        request,
        {
            "kpi": Kpi.objects.restrict(user)
            .filter(contingency_plans__isnull=False)
            .distinct()
            .order_by("code"),
            "department": visible_departments(user),
            "enabled": ["Enabled and disabled", ("true", "Enabled"), ("false", "Disabled")],
            "owner": visible_people(user)
            .filter(contingency_plans__isnull=False)
            .distinct()
            .order_by("last_name", "first_name"),
        },
    )
    form.fields["kpi"].label = "KPI"
    form.fields["kpi"].empty_label = "All KPIs"
    form.fields["kpi"].widget.choices = form.fields["kpi"].choices
    form.fields["owner"].empty_label = "All owners"
    form.fields["owner"].widget.choices = form.fields["owner"].choices
    filters = {n: request.GET[n] for n in LIST_FILTERS if request.GET.get(n, "").strip()}
    items, status = [], 200
    if form.is_valid():
        try:
            items = selectors.contingency_plan_list(user=user, filters=filters)
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
    else:
        status = 400
    page = paginate(request, items)
    return render(
        request,
        "decisions/contingency/list.html",
        {
            "filter_form": form,
            "page": page,
            "rows": [(plan, services.describe_trigger(plan)) for plan in page.object_list],
            "filtered": bool(filters),
            "can_add": forms.may_define_somewhere(user),
        },
        status=status,
    )


# --- One plan ---------------------------------------------------------------------------------


@login_required
@require_GET
def contingency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.contingency_plan_get(user=request.user, pk=pk)
    return _detail(request, plan)


def _detail(request: HttpRequest, plan: ContingencyPlan, *, form=None, status: int = 200):
    user = request.user
    actions = selectors.plan_actions(user, plan)
    if form is None and selectors.DISABLE in actions:
        form = forms.DisableForm(prefix="disable")
    elif form is None and selectors.ENABLE in actions:
        form = forms.EnableForm(prefix="enable")
    history = selectors.contingency_plan_history(plan=plan)
    return render(
        request,
        "decisions/contingency/detail.html",
        {
            "plan": plan,
            "kpi": plan.kpi,
            "trigger": services.describe_trigger(plan),
            "forecast": plan.trigger_basis == TriggerBasis.FORECAST,
            "lines": list(plan.reallocations.all()),
            "runs": _runs(history, plan.kpi.frequency),
            "periods": services.count_periods(plan.periods, plan.kpi.frequency),
            "last_fired": plan.last_triggered_period
            and services.period_label(plan.last_triggered_period, plan.kpi.frequency),
            "decisions": list(selectors.contingency_plan_decisions(user=user, plan=plan)),
            "actions": actions,
            "toggle_form": form,
            "audit": audit_history(subject=plan),
        },
        status=status,
    )


def _label(period, frequency: str) -> str:
    """A period as a table cell names it: "Jun 2026", "Q2 2026", "7 Sep 2026" (a week)."""
    if frequency == Frequency.WEEKLY:
        return f"{period.day} {period:%b %Y}"
    return services.period_label(period, frequency)


def _runs(history: list[selectors.Occasion], frequency: str) -> list[dict]:
    """The occasions grouped by run: the date the plan would have fired, the periods judged
    then, and until when (and for how many periods) it stayed triggered."""
    runs: list[dict] = []
    for occasion in history:
        if occasion.first or not runs:
            runs.append(
                {
                    "fires": _label(occasion.period, frequency),
                    "window": [(_label(p.period, frequency), p) for p in occasion.window],
                    "until": None,
                    "count": 1,
                }
            )
        else:
            runs[-1]["until"] = _label(occasion.period, frequency)
            runs[-1]["count"] += 1
    return runs


# --- Writing ----------------------------------------------------------------------------------


INTRO = (
    "A pre-agreed response, armed on a KPI: when the KPI misses its plan by the threshold (or "
    "is forecast to) for the periods in a row, the plan proposes a decision with the response "
    "and the reallocation template, linked to the KPI's open exception, and tells its owner."
)


@login_required
@form_methods
def contingency_create(request: HttpRequest) -> HttpResponse:
    """Define a plan; `?kpi=<id>` preselects the KPI."""
    user = request.user
    if not forms.may_define_somewhere(user):
        raise PermissionDenied(
            "Only the PMO and department leads may define contingency plans, on the KPIs of "
            "the departments they lead."
        )
    initial = {"owner": user.pk}
    chosen = request.GET.get("kpi", "").strip()
    if chosen.isdigit():
        kpi = forms.definable_kpis(user).filter(pk=int(chosen)).first()
        if kpi is not None:
            initial.update(kpi=kpi.pk, owner=kpi.owner_id)
    add_line = "add_line" in request.POST
    form = forms.ContingencyPlanForm(
        form_data(request), user=user, initial=initial, add_line=add_line
    )
    if add_line:
        form.hold()
    elif request.method == "POST" and form.is_valid():
        plan = form.submit(
            lambda data: services.contingency_plan_create(actor=user, data=form.content())
        )
        if plan:
            messages.success(request, f"Defined contingency plan “{plan}” on {plan.kpi.code}.")
            return redirect(plan)
    return lines_form_page(
        request,
        form,
        title="New contingency plan",
        intro=INTRO,
        submit="Define the plan",
        cancel_url=reverse("contingency-list"),
        template="decisions/contingency/form.html",
    )


@login_required
@form_methods
def contingency_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = selectors.contingency_plan_get(user=user, pk=pk)
    if selectors.CHANGE not in selectors.plan_actions(user, plan):
        raise PermissionDenied(
            f"Only the PMO and the leads of {plan.kpi.department} may change “{plan}”."
        )
    add_line = "add_line" in request.POST
    form = forms.ContingencyPlanForm(
        form_data(request),
        user=user,
        editing=plan,
        initial=forms.initial_plan(plan),
        lines=forms.initial_lines(plan),
        add_line=add_line,
    )
    if add_line:
        form.hold()
    elif request.method == "POST" and form.is_valid():
        updated = form.submit(
            lambda data: services.contingency_plan_update(
                actor=user, plan=plan, data=form.content()
            )
        )
        if updated:
            messages.success(request, f"Saved contingency plan “{updated}”.")
            return redirect(updated)
    return lines_form_page(
        request,
        form,
        title=f"Edit “{plan}”",
        intro=f"A contingency plan on {plan.kpi.code} {plan.kpi.name}. {INTRO}",
        submit="Save changes",
        cancel_url=plan.get_absolute_url(),
        template="decisions/contingency/form.html",
    )


def _toggle(request: HttpRequest, pk: int, *, action: str) -> HttpResponse:
    """Disable (reason required) or enable a plan; a refusal shows on the plan's page."""
    user = request.user
    plan = selectors.contingency_plan_get(user=user, pk=pk)
    if not selectors.may_define(user, plan.kpi.department_id):
        raise PermissionDenied(
            f"Only the PMO and the leads of {plan.kpi.department} may disable or enable “{plan}”."
        )
    if action == selectors.DISABLE:
        form = forms.DisableForm(request.POST, prefix="disable")
        write = services.contingency_plan_disable
        done = "Disabled"
    else:
        form = forms.EnableForm(request.POST, prefix="enable")
        write = services.contingency_plan_enable
        done = "Enabled"
    if form.is_valid():
        changed = form.submit(lambda data: write(actor=user, plan=plan, reason=data["reason"]))
        if changed:
            messages.success(request, f"{done} contingency plan “{changed}”.")
            return redirect(changed)
    plan = selectors.contingency_plan_get(user=user, pk=pk)  # what is stored now
    return _detail(request, plan, form=form, status=getattr(form, "refusal_status", 400))


@login_required
@require_POST
def contingency_disable(request: HttpRequest, pk: int) -> HttpResponse:
    return _toggle(request, pk, action=selectors.DISABLE)


@login_required
@require_POST
def contingency_enable(request: HttpRequest, pk: int) -> HttpResponse:
    return _toggle(request, pk, action=selectors.ENABLE)


# --- On a KPI's page --------------------------------------------------------------------------


@login_required
@require_GET
def contingency_kpi_panel(request: HttpRequest, kpi_pk: int) -> HttpResponse:
    """The contingency plans of one KPI, loaded into its page (htmx)."""
    user = request.user
    kpi = permissions.access(Kpi, user, kpi_pk, queryset=Kpi.objects.select_related(None))
    plans = list(selectors.contingency_plans_for_kpi(user=user, kpi=kpi))
    return render(
        request,
        "decisions/contingency/_kpi_panel.html",
        {
            "kpi": kpi,
            "rows": [(plan, services.describe_trigger(plan)) for plan in plans],
            "can_add": kpi.is_active and selectors.may_define(user, kpi.department_id),
        },
    )
