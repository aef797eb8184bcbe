"""Contract pages: the list with filters, one contract (terms, agreement, service-level KPI chart,
amendments, versions, ripple, history) with the forms of the actions its reader may take, the
create, edit, amend and cancel pages, the versions and their side-by-side comparison, and the
department × department dependency matrix.

Thin like `govern.views`: reads through `dependencies.selectors`, one service per write. Buttons
and forms come from `selectors.contract_actions`; the services check again and their refusals come
back as form errors (a stale revision as 409 with one clear message).
"""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dependencies import charts, filtersets, forms, page_selectors, selectors, terms
from dependencies import permissions as contract_perms
from dependencies.choices import AmendmentStatus, ContractStatus, Side
from dependencies.models import Contract
from dependencies.services import amendments as amendment_services
from dependencies.services import contracts as services
from govern import permissions
from govern import selectors as govern_selectors
from govern.forms import visible_departments
from govern.views import filter_form, form_data, form_methods, form_page, paginate
from kpis import selectors as kpi_selectors
from kpis.charts import kpi_chart

LIST_FILTERS = ("q", "department", "side", "status", "provider", "consumer")
SIDE_CHOICES = [(Side.PROVIDER, "Provider (delivers)"), (Side.CONSUMER, "Consumer (depends)")]
STATUS_CHOICES = [
    ("open", "Not fulfilled or cancelled"),
    ("in_force", "In force (agreed, at risk or breached)"),
    ("negotiating", "Negotiated (draft or proposed)"),
    *ContractStatus.choices,
    ("closed", "Fulfilled or cancelled"),
]
# The forms of the contract page, by action: (form class, prefix).
ACTION_FORMS = {
    selectors.PROPOSE: (forms.CommentForm, "propose"),
    selectors.AGREE: (forms.CommentForm, "agree"),
    selectors.FULFIL: (forms.CommentForm, "fulfil"),
    selectors.RESPOND: (forms.RespondForm, "respond"),
    selectors.OVERRIDE: (forms.ReasonForm, "override"),
    selectors.WITHDRAW: (forms.WithdrawForm, "withdraw"),
}


def _refusal_status(form) -> int:
    return getattr(form, "refusal_status", 400)


# --- List -------------------------------------------------------------------------------------


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    """Worst health first; filters by department (either side, or the side chosen), status and
    text; `provider` + `consumer` (hidden) narrow to one cell of the matrix."""
    user = request.user
    departments = visible_departments(user)
    form = filter_form(
        filtersets.ContractFilterSet,
        request,
        {
            "department": departments,
            "side": ["Either side", *SIDE_CHOICES],
            "status": ["All statuses", *STATUS_CHOICES],
            "provider": departments,
            "consumer": departments,
        },
    )
    form.fields["side"].help_text = "The side the department is on."
    for name in ("provider", "consumer"):
        form.fields[name].widget = django_forms.HiddenInput()
    filters = {n: request.GET[n] for n in LIST_FILTERS if request.GET.get(n, "").strip()}
    items, status, pair = [], 200, None
    if form.is_valid():
        try:
            items = selectors.contract_list(user=user, filters=filters)
        except ValidationError as exc:
            form.add_error(None, exc)
            status = 400
        provider, consumer = form.cleaned_data.get("provider"), form.cleaned_data.get("consumer")
        if provider or consumer:
            pair = {"provider": provider, "consumer": consumer}
    else:
        status = 400
    return render(
        request,
        "dependencies/contracts/list.html",
        {
            "filter_form": form,
            "page": paginate(request, items),
            "filtered": bool(filters),
            "pair": pair,
            "can_add": permissions.can_add(user, Contract),
        },
        status=status,
    )


# --- One contract -----------------------------------------------------------------------------


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk)
    return _detail(request, contract)


def _detail(
    request: HttpRequest, contract: Contract, *, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """The contract page; `bound` holds a submitted form by action, shown with its errors."""
    user = request.user
    pending = selectors.pending_amendment(user=user, contract=contract)
    actions = selectors.contract_actions(user, contract, pending=pending)
    action_forms = {}
    for action, (form_class, prefix) in ACTION_FORMS.items():
        if action in actions:
            action_forms[prefix] = (bound or {}).get(prefix) or form_class(
                prefix=prefix, contract=contract
            )
    scope = permissions.scope_for(user)
    sides = contract_perms.sides(user, contract)
    amendments = list(selectors.contract_amendments(user=user, contract=contract))
    kpi = contract.service_kpi
    series = kpi_selectors.kpi_series(kpi=kpi) if kpi else []
    return render(
        request,
        "dependencies/contracts/detail.html",
        {
            "contract": contract,
            "actions": actions,
            "forms": action_forms,
            "sides": sorted(sides),
            "agreed_sides": selectors.agreed_sides(contract),
            "pending": pending,
            "pending_rows": selectors.amendment_diff(amendment=pending) if pending else [],
            "pending_label": _awaiting(pending),
            "amendments": [a for a in amendments if a.status != AmendmentStatus.PENDING],
            "versions": list(selectors.contract_versions(user=user, contract=contract)),
            "exceptions": page_selectors.contract_open_exceptions(user=user, contract=contract),
            "chart": _service_chart(contract, series),
            "latest": next((r for r in reversed(series) if r["actual"] is not None), None),
            "see_provider": scope.reads_everything
            or contract.provider_department_id in scope.departments,
            "see_consumer": scope.reads_everything
            or contract.consumer_department_id in scope.departments,
            "see_kpi": kpi is not None
            and (scope.reads_everything or kpi.department_id in scope.departments),
            "history": govern_selectors.audit_history(subject=contract, related=amendments),
        },
        status=status,
    )


def _awaiting(pending) -> str:
    """The pending amendment's chip once one side has answered: "Awaiting the consumer"."""
    if pending is None:
        return ""
    waiting = [side for side in Side.values if side not in selectors.answered_sides(pending)]
    return f"Awaiting the {waiting[0]}" if len(waiting) == 1 else ""


def _service_chart(contract: Contract, series: list[dict]) -> dict | None:
    if not series:
        return None
    if contract.service_threshold is None:
        return kpi_chart(series, contract.service_kpi)
    return charts.service_level_chart(
        series,
        contract.service_kpi,
        threshold=contract.service_threshold,
        comparison=contract.service_comparison,
    )


def _post_action(request: HttpRequest, pk: int, action: str, write, success: str) -> HttpResponse:
    """One action form posted from the contract page: the service, or the page with the form's
    errors. `write(contract, cleaned_data)` calls the service."""
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    form_class, prefix = ACTION_FORMS[action]
    form = form_class(request.POST, prefix=prefix, contract=contract)
    if form.is_valid():
        done = form.submit(lambda data: write(contract, data))
        if done is not None:
            messages.success(request, success.format(code=contract.code))
            return redirect(contract)
        contract = selectors.contract_get(user=user, pk=pk)  # what is stored now
    return _detail(request, contract, bound={prefix: form}, status=_refusal_status(form))


@login_required
@require_POST
def contract_propose(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        selectors.PROPOSE,
        lambda contract, data: services.contract_propose(
            actor=request.user,
            contract=contract,
            revision=data["revision"],
            comment=data["comment"],
        ),
        "Proposed {code}: both sides are asked to agree.",
    )


@login_required
@require_POST
def contract_agree(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        selectors.AGREE,
        lambda contract, data: services.contract_agree(
            actor=request.user,
            contract=contract,
            revision=data["revision"],
            comment=data["comment"],
        ),
        "You agreed to {code} for your side.",
    )


@login_required
@require_POST
def contract_fulfil(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        selectors.FULFIL,
        lambda contract, data: services.contract_fulfil(
            actor=request.user,
            contract=contract,
            revision=data["revision"],
            comment=data["comment"],
        ),
        "{code} is fulfilled.",
    )


# --- Create, edit, delete, cancel -------------------------------------------------------------


def _terms_page(request, form, *, title, submit, cancel_url, intro="", contract=None):
    return render(
        request,
        "dependencies/contracts/terms_form.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "cancel_url": cancel_url,
            "intro": intro,
            "contract": contract,
        },
        status=_refusal_status(form) if request.method == "POST" else 200,
    )


@login_required
@form_methods
def contract_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_add(user, Contract):
        raise PermissionDenied("Only the PMO drafts contracts.")
    form = forms.ContractForm(form_data(request), user=user)
    if form.is_valid():
        contract = form.submit(lambda data: services.contract_create(actor=user, data=form.terms()))
        if contract:
            messages.success(
                request, f"Drafted {contract.code}. Propose it when both sides should agree."
            )
            return redirect(contract)
    return _terms_page(
        request,
        form,
        title="New contract",
        submit="Create the draft",
        cancel_url=reverse("contract-list"),
        intro="A draft: you can change it freely until both sides have agreed.",
    )


def _frozen(request: HttpRequest, contract: Contract) -> HttpResponse:
    """The answer to an edit of terms that are no longer editable (409)."""
    return render(
        request,
        "dependencies/contracts/terms_frozen.html",
        {
            "contract": contract,
            "actions": selectors.contract_actions(
                request.user,
                contract,
                pending=selectors.pending_amendment(user=request.user, contract=contract),
            ),
        },
        status=409,
    )


@login_required
@form_methods
def contract_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    if not contract.is_negotiating:
        return _frozen(request, contract)  # to whoever may see it: amendments are the way
    permissions.ensure_allowed(user, permissions.CHANGE, contract)
    form = forms.ContractForm(
        form_data(request), user=user, contract=contract, initial=forms.initial_terms(contract)
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.contract_update(
                actor=user, contract=contract, data=form.terms(), revision=data["revision"]
            )
        )
        if updated:
            messages.success(request, f"Saved {updated.code}.")
            return redirect(updated)
    intro = "Edit the draft terms."
    if contract.status == ContractStatus.PROPOSED:
        intro = "It is proposed: changing a term clears both sides' agreement; each agrees again."
    return _terms_page(
        request,
        form,
        title=f"Edit {contract.code}",
        submit="Save changes",
        cancel_url=contract.get_absolute_url(),
        intro=intro,
        contract=contract,
    )


@login_required
@form_methods
def contract_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    permissions.ensure_allowed(user, permissions.DELETE, contract)
    form = forms.RevisionForm(form_data(request), contract=contract)
    if form.is_valid():
        form.submit(
            lambda data: services.contract_delete(
                actor=user, contract=contract, revision=data["revision"]
            )
        )
        if not form.errors:
            messages.success(request, f"Deleted the draft {contract.code}.")
            return redirect("contract-list")
    return _confirm(
        request,
        form,
        contract=contract,
        title=f"Delete the draft {contract.code}?",
        submit="Delete the draft",
        intro="Only a draft is deleted; its history is kept. A contract that was proposed is "
        "cancelled instead.",
    )


def _confirm(request, form, *, contract, title, submit, intro) -> HttpResponse:
    response = form_page(
        request,
        form,
        title=title,
        submit=submit,
        cancel_url=contract.get_absolute_url(),
        intro=intro,
        danger=True,
    )
    if request.method == "POST":
        response.status_code = _refusal_status(form)
    return response


@login_required
@form_methods
def contract_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    permissions.ensure_allowed(user, contract_perms.CANCEL, contract)
    form = forms.ReasonForm(form_data(request), contract=contract)
    if form.is_valid():
        done = form.submit(
            lambda data: services.contract_cancel(
                actor=user, contract=contract, reason=data["reason"], revision=data["revision"]
            )
        )
        if done:
            messages.success(request, f"Cancelled {done.code}.")
            return redirect(done)
    return _confirm(
        request,
        form,
        contract=contract,
        title=f"Cancel {contract.code}?",
        submit="Cancel the contract",
        intro="Both sides are released from it; a pending amendment is withdrawn with it. "
        "This is final.",
    )


# --- Amendments -------------------------------------------------------------------------------


@login_required
@form_methods
def amendment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose new values for some terms of a contract in force: the form starts from the terms
    in force and only the changed ones are proposed."""
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    pending = selectors.pending_amendment(user=user, contract=contract)
    if selectors.AMEND not in selectors.contract_actions(user, contract, pending=pending):
        scope = permissions.scope_for(user)
        if not (scope.is_pmo or contract_perms.sides(user, contract)):
            raise PermissionDenied(
                f"Only the PMO and the two sides of {contract.code} propose amendments."
            )
        return render(
            request,
            "dependencies/contracts/terms_frozen.html",
            {"contract": contract, "pending": pending, "amend_refused": True},
            status=409,
        )
    form = forms.AmendmentForm(
        form_data(request), user=user, contract=contract, initial=forms.initial_terms(contract)
    )
    if form.is_valid():
        amendment = form.submit(
            lambda data: amendment_services.amendment_propose(
                actor=user,
                contract=contract,
                changes=form.changes(),
                reason=data["reason"],
                revision=data["revision"],
            )
        )
        if amendment:
            messages.success(
                request,
                f"Proposed amendment {amendment.number} to {contract.code}; both sides are "
                "asked to answer.",
            )
            return redirect(amendment)
    return _terms_page(
        request,
        form,
        title=f"Propose an amendment to {contract.code}",
        submit="Propose the amendment",
        cancel_url=contract.get_absolute_url(),
        intro=f"The form shows version {contract.version_number}, the terms in force. Change "
        "the terms that should change; both sides accept or reject the amendment, and when "
        "both accept it becomes the next version.",
        contract=contract,
    )


def _post_amendment(
    request: HttpRequest, pk: int, number: int, action: str, write, success
) -> HttpResponse:
    """One form about the pending amendment, posted from the contract page."""
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    amendment = selectors.amendment_get(user=user, contract=contract, number=number)
    form_class, prefix = ACTION_FORMS[action]
    form = form_class(request.POST, prefix=prefix, contract=contract)
    if form.is_valid():
        done = form.submit(lambda data: write(amendment, data))
        if done is not None:
            messages.success(request, success(done))
            return redirect(contract)
        contract = selectors.contract_get(user=user, pk=pk)
    return _detail(request, contract, bound={prefix: form}, status=_refusal_status(form))


def _answered(amendment) -> str:
    if amendment.status == AmendmentStatus.ACCEPTED:
        return (
            f"Both sides accepted amendment {amendment.number}: version "
            f"{amendment.contract.version_number} is in force."
        )
    if amendment.status == AmendmentStatus.REJECTED:
        return f"Amendment {amendment.number} is rejected; the terms are unchanged."
    return f"Your answer to amendment {amendment.number} is recorded; the other side's is awaited."


@login_required
@require_POST
def amendment_respond(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _post_amendment(
        request,
        pk,
        number,
        selectors.RESPOND,
        lambda amendment, data: amendment_services.amendment_respond(
            actor=request.user,
            amendment=amendment,
            accept=data["decision"] == forms.RespondForm.ACCEPT,
            comment=data["comment"],
            revision=data["revision"],
        ),
        _answered,
    )


@login_required
@require_POST
def amendment_override(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _post_amendment(
        request,
        pk,
        number,
        selectors.OVERRIDE,
        lambda amendment, data: amendment_services.amendment_override(
            actor=request.user,
            amendment=amendment,
            reason=data["reason"],
            revision=data["revision"],
        ),
        lambda a: (
            f"Applied amendment {a.number} by PMO override: version "
            f"{a.contract.version_number} is in force."
        ),
    )


@login_required
@require_POST
def amendment_withdraw(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _post_amendment(
        request,
        pk,
        number,
        selectors.WITHDRAW,
        lambda amendment, data: amendment_services.amendment_withdraw(
            actor=request.user,
            amendment=amendment,
            reason=data["reason"],
            revision=data["revision"],
        ),
        lambda a: f"Withdrew amendment {a.number}; the terms are unchanged.",
    )


# --- Versions ---------------------------------------------------------------------------------


@login_required
def contract_versions(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    versions = list(selectors.contract_versions(user=user, contract=contract))
    rows = [
        {
            "version": version,
            "terms": [
                {
                    "label": terms.TERM_LABELS[name],
                    "text": terms.text(name, version.terms.get(name)),
                }
                for name in terms.TERM_FIELDS
            ],
        }
        for version in versions
    ]
    return render(
        request,
        "dependencies/contracts/versions.html",
        {"contract": contract, "rows": rows, "numbers": [v.number for v in versions]},
    )


class CompareForm(django_forms.Form):
    a = django_forms.IntegerField(label="Compare version", min_value=1)
    b = django_forms.IntegerField(label="with version", min_value=1)


@login_required
def contract_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side (`?a=1&b=2`; by default the last two), changed terms marked."""
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    data = request.GET.copy()
    if not data.get("a") and not data.get("b") and contract.version_number >= 2:
        data.update({"a": contract.version_number - 1, "b": contract.version_number})
    form = CompareForm(data if data else None)
    rows, status = [], 200
    if form.is_bound and form.is_valid():
        try:
            rows = selectors.version_compare(
                contract=contract, a=form.cleaned_data["a"], b=form.cleaned_data["b"]
            )
        except ValidationError as exc:
            for messages_ in exc.message_dict.values():
                for message in messages_:
                    form.add_error(None, message)
            status = 400
    elif form.is_bound:
        status = 400
    numbers = list(
        selectors.contract_versions(user=user, contract=contract).values_list("number", flat=True)
    )
    changed = [row for row in rows if row["changed"]]
    return render(
        request,
        "dependencies/contracts/compare.html",
        {
            "contract": contract,
            "form": form,
            "rows": rows,
            "changed": changed,
            "numbers": sorted(numbers),
            "a": form.cleaned_data.get("a") if rows else None,
            "b": form.cleaned_data.get("b") if rows else None,
        },
        status=status,
    )


# --- The dependency matrix --------------------------------------------------------------------


@login_required
def contract_matrix(request: HttpRequest) -> HttpResponse:
    """Providers (rows) × consumers (columns): per cell the number of open contracts and the
    worst health among them, each linking to the list narrowed to that pair."""
    include_closed = request.GET.get("closed") == "1"
    matrix = selectors.contract_matrix(user=request.user, include_closed=include_closed)
    return render(
        request,
        "dependencies/contracts/matrix.html",
        {
            "matrix": matrix,
            "rows": [
                (provider, list(zip(matrix.departments, cells, strict=True)))
                for provider, cells in matrix.rows()
            ],
            "include_closed": include_closed,
            "status_filter": "" if include_closed else "open",
            "chart": charts.matrix_chart(matrix) if matrix.cells else None,
            "legend": [(s, ContractStatus(s).label) for s in selectors.HEALTH_ORDER],
        },
    )
