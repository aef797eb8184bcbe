"""Plan-version pages: the list, a version's page (its counts, its contracts, the actions the
user's role allows), the lifecycle forms (draft from a version, edit, delete, propose, withdraw,
approve), dropping and restoring a contract in a draft, and the comparison of any two versions.

Thin like `govern.views`: the gate, one selector or service, render. The comparison composes the
KPI engine's selector (targets, one row per KPI) and the contracts' (terms), as the dashboard
composes the apps.
Every page that shows a version other than the current one says so in a banner.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dependencies import selectors as contract_selectors
from dependencies.models import Contract
from dependencies.services import plan_versions as contract_plans
from govern import filtersets, forms, permissions, selectors, services
from govern.choices import PlanVersionStatus
from govern.errors import ApplicationError
from govern.middleware import render_application_error
from govern.models import PlanVersion
from govern.views import (
    _confirm_delete,
    _initial,
    _list_page,
    form_data,
    form_methods,
    form_page,
    paginate,
)
from kpis import selectors as kpi_selectors

COMPARE_ROWS = 50  # rows of the smaller comparison lists shown before "and N more"
DETAIL_PERIODS = 26  # a KPI's changed periods listed in its row; all of them on its own comparison
DETAIL_CONTRACTS = 25  # contracts per page on a version's page


def _version(user, pk: int) -> PlanVersion:
    return permissions.access(
        PlanVersion,
        user,
        pk,
        queryset=PlanVersion.objects.select_related(
            "created_by", "approved_by", "proposed_by", "based_on"
        ),
    )


def _refused(request: HttpRequest, plan_version: PlanVersion, action: str) -> HttpResponse | None:
    """The page answering 409 when the version's status forbids `action`, else None."""
    refusal = services.plan_version_refusal(plan_version, action)
    return render_application_error(request, refusal) if refusal else None


def compare_url(one: PlanVersion, other: PlanVersion) -> str:
    """The comparison of two versions, the older (by creation) on the left."""
    a, b = sorted((one, other), key=lambda v: (v.created_at, v.pk))
    return f"{reverse('planversion-compare')}?a={a.pk}&b={b.pk}"


# --- List and detail --------------------------------------------------------------------------


@login_required
def plan_version_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    return _list_page(
        request,
        template="govern/plan_versions/list.html",
        filterset_class=filtersets.PlanVersionFilterSet,
        choices={"status": ["All statuses", *PlanVersionStatus.choices]},
        select=lambda filters: selectors.plan_version_list(user=user, filters=filters),
        context={"can_add": permissions.can_add(user, PlanVersion)},
    )


@login_required
def plan_version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan_version = _version(user, pk)
    status = plan_version.status
    current = selectors.current_plan_version()
    entries = contract_selectors.plan_version_contracts(user=user, plan_version=plan_version)
    held = [entry for entry in entries if entry.included]
    may = {
        action: permissions.allowed(user, action, plan_version)
        for action in (permissions.CHANGE, permissions.PROPOSE, permissions.WITHDRAW)
    }
    draft = status == PlanVersionStatus.DRAFT
    proposed = status == PlanVersionStatus.PROPOSED
    if current is not None and current.pk != plan_version.pk:
        compare = (compare_url(plan_version, current), f"Compare with {current.name}")
    elif plan_version.based_on is not None:
        compare = (
            compare_url(plan_version, plan_version.based_on),
            f"Compare with {plan_version.based_on.name}",
        )
    else:
        compare = None
    return render(
        request,
        "govern/plan_versions/detail.html",
        {
            "plan_version": plan_version,
            "target_counts": kpi_selectors.plan_version_target_counts(
                user=user, plan_version=plan_version
            ),
            "contract_count": len(held),
            "dropped_count": len(entries) - len(held),
            "contracts": (
                Paginator(entries, DETAIL_CONTRACTS).get_page(request.GET.get("page"))
                if draft or proposed
                else None
            ),
            "compare": compare,
            "history": selectors.audit_history(subject=plan_version),
            "can_change": draft and may[permissions.CHANGE],
            "can_delete": draft and permissions.allowed(user, permissions.DELETE, plan_version),
            "can_draft_from": status in services.BASE_STATUSES
            and permissions.can_add(user, PlanVersion),
            "can_propose": draft and may[permissions.PROPOSE],
            "can_withdraw": proposed and may[permissions.WITHDRAW],
            "can_approve": proposed
            and permissions.allowed(user, permissions.APPROVE, plan_version),
            "can_drop": draft and may[permissions.CHANGE],
        },
    )


# --- The lifecycle ----------------------------------------------------------------------------


@login_required
@form_methods
def plan_version_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_add(user, PlanVersion):
        raise PermissionDenied("Only the PMO can draft plan versions.")
    initial = {}
    if request.GET.get("based_on", "").isdigit():
        initial["based_on"] = int(request.GET["based_on"])
    form = forms.PlanVersionDraftForm(form_data(request), initial=initial)
    if form.is_valid():
        plan_version = form.submit(
            lambda data: services.plan_version_create_draft(actor=user, **data)
        )
        if plan_version:
            copied = (
                f" from {plan_version.based_on.name}, with its targets and contracts"
                if plan_version.based_on
                else ""
            )
            messages.success(request, f"Drafted plan version “{plan_version}”{copied}.")
            return redirect(plan_version)
    current = selectors.current_plan_version()
    return form_page(
        request,
        form,
        title="New draft plan version",
        submit="Create draft",
        cancel_url=reverse("planversion-list"),
        intro=(
            "The draft starts as a copy of the version it is made from: every target and the "
            "terms of every contract still open. Edit its targets, drop or add contracts, then "
            "propose it; an executive approves it."
            if current
            else "No version is approved yet: the first draft starts empty."
        ),
    )


@login_required
@form_methods
def plan_version_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan_version = permissions.access(PlanVersion, user, pk, for_write=True)
    refused = _refused(request, plan_version, "edit")
    if refused:
        return refused
    form = forms.PlanVersionForm(
        form_data(request), initial=_initial(plan_version, ("name", "description"))
    )
    if form.is_valid():
        updated = form.submit(
            lambda data: services.plan_version_update(
                actor=user, plan_version=plan_version, data=data
            ),
        )
        if updated:
            messages.success(request, f"Saved plan version “{updated}”.")
            return redirect(updated)
    return form_page(
        request,
        form,
        title=f"Edit {plan_version}",
        submit="Save changes",
        cancel_url=plan_version.get_absolute_url(),
        plan_version=plan_version,
    )


@login_required
@form_methods
def plan_version_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan_version = permissions.access(PlanVersion, user, pk)
    permissions.ensure_allowed(user, permissions.DELETE, plan_version)
    refused = _refused(request, plan_version, "delete")
    if refused:
        return refused
    return _confirm_delete(
        request,
        plan_version,
        delete=lambda: services.plan_version_delete(actor=user, plan_version=plan_version),
        success_url=reverse("planversion-list"),
        consequences="Only drafts can be deleted; the targets copied into it go with it, its "
        "history is kept. Contracts created in it must be deleted or moved first.",
    )


@login_required
@form_methods
def plan_version_propose(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan_version = _version(user, pk)
    permissions.ensure_allowed(user, permissions.PROPOSE, plan_version)
    refused = _refused(request, plan_version, "propose")
    if refused:
        return refused
    form = forms.PlanVersionProposeForm(form_data(request))
    if form.is_valid():
        proposed = form.submit(
            lambda data: services.plan_version_propose(
                actor=user, plan_version=plan_version, comment=data["comment"]
            ),
        )
        if proposed:
            messages.success(
                request, f"Proposed “{proposed}”: it waits for an executive's approval."
            )
            return redirect(proposed)
    return form_page(
        request,
        form,
        title=f"Propose {plan_version} for approval",
        submit="Propose for approval",
        cancel_url=plan_version.get_absolute_url(),
        intro="An executive approves it, after which it becomes the current plan. Until then "
        "it cannot be edited; withdraw it to draft to change it.",
        plan_version=plan_version,
    )


@login_required
@form_methods
def plan_version_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan_version = _version(user, pk)
    permissions.ensure_allowed(user, permissions.WITHDRAW, plan_version)
    refused = _refused(request, plan_version, "withdraw")
    if refused:
        return refused
    form = forms.PlanVersionWithdrawForm(form_data(request))
    if form.is_valid():
        draft = form.submit(
            lambda data: services.plan_version_withdraw(
                actor=user, plan_version=plan_version, reason=data["reason"]
            ),
        )
        if draft:
            messages.success(request, f"“{draft}” is a draft again and can be edited.")
            return redirect(draft)
    return form_page(
        request,
        form,
        title=f"Withdraw {plan_version} to draft",
        submit="Withdraw to draft",
        cancel_url=plan_version.get_absolute_url(),
        intro="The proposal goes back to draft so the PMO can change it; it is proposed again "
        "when ready.",
        plan_version=plan_version,
    )


@login_required
@form_methods
def plan_version_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan_version = _version(user, pk)
    if not permissions.allowed(user, permissions.APPROVE, plan_version):
        raise PermissionDenied("Only an executive approves a plan version; the PMO proposes it.")
    refused = _refused(request, plan_version, "approve")
    if refused:
        return refused
    form = forms.PlanVersionApproveForm(form_data(request))
    if form.is_valid():
        approved = form.submit(
            lambda data: services.plan_version_approve(
                actor=user, plan_version=plan_version, reason=data["reason"]
            ),
        )
        if approved:
            messages.success(request, f"“{approved}” is now the current plan.")
            return redirect(approved)
    current = selectors.current_plan_version()
    intro = f"Approving {plan_version} makes it the current plan for everyone. " + (
        f"{current} will be superseded; its history is kept. Variance is computed against the "
        "new targets from the running periods on; periods already ended keep theirs."
        if current
        else "There is no current plan yet."
    )
    return form_page(
        request,
        form,
        title=f"Approve {plan_version}",
        submit="Approve plan version",
        cancel_url=plan_version.get_absolute_url(),
        intro=intro,
        plan_version=plan_version,
    )


# --- Contracts in a draft ---------------------------------------------------------------------


def _contract_action(request: HttpRequest, pk: int, contract_pk: int, write, done: str):
    user = request.user
    plan_version = _version(user, pk)
    permissions.ensure_allowed(user, permissions.CHANGE, plan_version)
    contract = permissions.access(Contract, user, contract_pk)
    form = forms.PlanContractForm(request.POST)
    form.is_valid()
    try:
        write(
            actor=user,
            plan_version=plan_version,
            contract=contract,
            reason=form.cleaned_data.get("reason", ""),
        )
    except ApplicationError as exc:
        return render_application_error(request, exc)
    messages.success(request, done.format(code=contract.code, version=plan_version.name))
    return redirect(f"{plan_version.get_absolute_url()}#contracts")


@login_required
@require_POST
def plan_contract_drop(request: HttpRequest, pk: int, contract_pk: int) -> HttpResponse:
    return _contract_action(
        request,
        pk,
        contract_pk,
        contract_plans.plan_contract_drop,
        "Dropped {code} from {version}: approving it will cancel the contract.",
    )


@login_required
@require_POST
def plan_contract_restore(request: HttpRequest, pk: int, contract_pk: int) -> HttpResponse:
    return _contract_action(
        request,
        pk,
        contract_pk,
        contract_plans.plan_contract_restore,
        "{code} is carried into {version} again.",
    )


# --- Compare ----------------------------------------------------------------------------------


def _default_pair() -> dict[str, int]:
    """The current version and the newest other one (a draft, usually), older on the left."""
    current = selectors.current_plan_version()
    other = PlanVersion.objects.exclude(pk=getattr(current, "pk", None)).order_by(
        "-created_at", "-pk"
    )
    other = other.first()
    if current is None or other is None:
        return {}
    a, b = sorted((current, other), key=lambda v: (v.created_at, v.pk))
    return {"a": a.pk, "b": b.pk}


@login_required
def plan_version_compare(request: HttpRequest) -> HttpResponse:
    """One row per KPI whose targets changed (its periods behind a <details>, the first
    `DETAIL_PERIODS`), paged; with `kpi`, that KPI's targets period by period, paged."""
    user = request.user
    asked = {name: request.GET[name] for name in ("a", "b") if name in request.GET}
    asked = asked or _default_pair()
    if asked and "kpi" in request.GET:
        asked["kpi"] = request.GET["kpi"]
    form = forms.PlanCompareForm(asked or None)
    context: dict = {"form": form, "cap": COMPARE_ROWS}
    status = 200
    if form.is_bound and form.is_valid():
        a, b, kpi = (form.cleaned_data[name] for name in ("a", "b", "kpi"))
        targets = kpi_selectors.plan_target_changes(user=user, a=a, b=b, kpi=kpi)
        contracts = contract_selectors.plan_contract_changes(user=user, a=a, b=b)
        if kpi is None:
            page = paginate(request, targets.kpis.with_periods(DETAIL_PERIODS))
        else:
            page = paginate(request, targets.rows)
        context |= {
            "a": a,
            "b": b,
            "shown_plans": [v for v in (a, b) if not v.is_current],
            "targets": targets,
            "kpi": kpi,
            "kpi_change": next(iter(targets.kpis[:1]), None) if kpi else None,
            "page": page,
            "kpis_added": list(targets.kpis_added[:COMPARE_ROWS]),
            "kpis_removed": list(targets.kpis_removed[:COMPARE_ROWS]),
            "contracts": contracts,
            "contract_lists": {
                "added": contracts.added[:COMPARE_ROWS],
                "changed": contracts.changed[:COMPARE_ROWS],
                "removed": contracts.removed[:COMPARE_ROWS],
                "dropped": contracts.dropped[:COMPARE_ROWS],
                "cut": max(
                    len(contracts.added),
                    len(contracts.changed),
                    len(contracts.removed),
                    len(contracts.dropped),
                )
                > COMPARE_ROWS,
            },
        }
    elif form.is_bound:
        status = 400
    return render(request, "govern/plan_versions/compare.html", context, status=status)
