"""The contracts' share of the plan-version lifecycle (`govern.signals`, connected in
`DependenciesConfig.ready()`), and the PMO's drop and restore of a contract in a draft.

- A new draft gets a `PlanContract` row, with the live terms, for each contract the version it is
  made from holds that is still open (not fulfilled or cancelled).
- The PMO drops a carried contract from a draft (its row: `included` False) or restores it; a
  contract created in the draft is deleted or cancelled instead.
- An approval freezes what the previous version held (a row per contract it holds, with the live
  terms at that moment), cancels through the contract service the contracts the PMO dropped from
  the approved version, and moves every contract it carries to it: those copied into it and those
  created in the previous version since, unless dropped; its copies of contracts closed meanwhile
  are forgotten. Contracts created in the draft stay where they are: in it.

Set-based: a handful of statements whatever the number of contracts (the cancellations, one per
dropped contract, go through the contract service one by one). The states a version's contracts
are in are read by `dependencies.selectors.plan_contract_states` (docs/plan-versions.md).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dependencies import selectors, terms
from dependencies.choices import CLOSED
from dependencies.models import Contract, PlanContract
from dependencies.services.contracts import contract_cancel_dropped
from govern import permissions as perms
from govern.audit import _actor_name, record
from govern.choices import AuditAction, PlanVersionStatus
from govern.errors import ConflictError
from govern.models import AuditEvent, Person, PlanVersion

NOT_A_DRAFT = "{name} is {status}; contracts are dropped from or restored to a draft only. {advice}"


def _live(contract_ids) -> list[Contract]:
    """The contracts (ids, or a queryset of them) with everything their terms name, in a fixed
    number of queries."""
    return list(
        Contract.objects.filter(pk__in=contract_ids)
        .select_related(*selectors.CONTRACT_RELATED)
        .prefetch_related(*selectors.CONTRACT_M2M)
        .order_by("pk")
    )


def _terms_in(contract: Contract, plan_version: PlanVersion) -> dict:
    """The contract's live terms as `plan_version` holds them (the plan version term naming it)."""
    return {**terms.snapshot(contract), "plan_version": terms.encode("plan_version", plan_version)}


# --- A new draft --------------------------------------------------------------------------------


def contract_terms_copy(*, plan_version: PlanVersion, based_on: PlanVersion) -> int:
    """Copy into the new draft the live terms of the contracts `based_on` holds that are still
    open, one `PlanContract` row each (one insert). Returns the number of rows."""
    states, _ = selectors.plan_contract_states(based_on, Contract.objects.all())
    held = [pk for pk, state in states.items() if state != selectors.DROPPED]
    now = timezone.now()
    rows = [
        PlanContract(
            plan_version=plan_version,
            contract=contract,
            version_number=contract.version_number,
            terms=_terms_in(contract, plan_version),
            included=True,
            copied_at=now,
        )
        for contract in _live(Contract.objects.filter(pk__in=held).exclude(status__in=CLOSED))
    ]
    PlanContract.objects.bulk_create(rows, batch_size=500)
    return len(rows)


# --- Drop and restore in a draft ----------------------------------------------------------------


def _lock_draft(plan_version: PlanVersion) -> PlanVersion:
    locked = PlanVersion.objects.select_for_update().filter(pk=plan_version.pk).first()
    if locked is None:
        raise ConflictError("This plan version no longer exists.", code="gone")
    if locked.status != PlanVersionStatus.DRAFT:
        advice = (
            "Withdraw the proposal to draft to change it."
            if locked.status == PlanVersionStatus.PROPOSED
            else "Make a new draft to change the plan."
        )
        raise ConflictError(
            NOT_A_DRAFT.format(
                name=locked.name, status=locked.get_status_display().lower(), advice=advice
            ),
            code="plan_version_not_draft",
        )
    return locked


def _record(
    *, actor: Person, plan_version: PlanVersion, contract: Contract, old: str, new: str, reason: str
) -> None:
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=plan_version,
        changes={contract.code: {"old": old, "new": new}},
        reason=(reason or "").strip(),
    )


@transaction.atomic
def plan_contract_drop(
    *, actor: Person, plan_version: PlanVersion, contract: Contract, reason: str = ""
) -> PlanContract:
    """Drop a contract the draft carries (PMO): approving the draft will cancel it. Recorded in
    the draft's history."""
    perms.ensure_allowed(actor, perms.CHANGE, plan_version)
    locked = _lock_draft(plan_version)
    states, rows = selectors.plan_contract_states(locked, Contract.objects.filter(pk=contract.pk))
    state = states.get(contract.pk)
    if state == selectors.CREATED:
        raise ConflictError(
            f"{contract.code} was created in {locked.name}: delete it (a draft contract) or "
            "cancel it instead of dropping it.",
            code="created_in_draft",
        )
    if state == selectors.DROPPED:
        raise ConflictError(
            f"{contract.code} is already dropped from {locked.name}.", code="already_dropped"
        )
    if state != selectors.CARRIED:
        raise ConflictError(
            f"{locked.name} does not carry {contract.code} (it is "
            f"{contract.get_status_display().lower()} or not in the current plan); there is "
            "nothing to drop.",
            code="not_carried",
        )
    row = rows.get(contract.pk)
    if row is None:  # created in the current plan after the draft was made: record its terms
        (live,) = _live([contract.pk])
        row = PlanContract(
            plan_version=locked,
            contract=live,
            version_number=live.version_number,
            terms=_terms_in(live, locked),
        )
    row.included = False
    row.save()
    _record(
        actor=actor, plan_version=locked, contract=contract, old="carried", new="dropped",
        reason=reason,
    )  # fmt: skip
    return row


@transaction.atomic
def plan_contract_restore(
    *, actor: Person, plan_version: PlanVersion, contract: Contract, reason: str = ""
) -> PlanContract:
    """Carry a dropped contract again (PMO), unless it was fulfilled or cancelled since."""
    perms.ensure_allowed(actor, perms.CHANGE, plan_version)
    locked = _lock_draft(plan_version)
    row = (
        PlanContract.objects.select_related("contract")
        .filter(plan_version=locked, contract=contract)
        .first()
    )
    if row is None or row.included:
        raise ConflictError(
            f"{contract.code} is not dropped from {locked.name}; there is nothing to restore.",
            code="not_dropped",
        )
    if row.contract.status in CLOSED:
        raise ConflictError(
            f"{contract.code} is {row.contract.get_status_display().lower()}; a closed contract "
            "is not carried into a plan.",
            code="closed",
        )
    row.included = True
    row.save(update_fields=["included"])
    _record(
        actor=actor, plan_version=locked, contract=contract, old="dropped", new="carried",
        reason=reason,
    )  # fmt: skip
    return row


# --- An approval --------------------------------------------------------------------------------


def contract_terms_freeze(*, plan_version: PlanVersion) -> int:
    """Write `plan_version`'s rows for the contracts it holds live, with their live terms (its
    dropped rows are kept): run when it is superseded, before its contracts move on. Running it
    again writes the same rows. Returns the rows written."""
    live = _live(Contract.objects.filter(plan_version=plan_version))
    existing = {
        row.contract_id: row for row in PlanContract.objects.filter(plan_version=plan_version)
    }
    now = timezone.now()
    new, changed = [], []
    for contract in live:
        row = existing.get(contract.pk)
        if row is None:
            row = PlanContract(plan_version=plan_version, contract=contract)
            new.append(row)
        else:
            changed.append(row)
        row.terms, row.version_number = terms.snapshot(contract), contract.version_number
        row.included, row.copied_at = True, now
    PlanContract.objects.bulk_create(new, batch_size=500)
    PlanContract.objects.bulk_update(
        changed, ["terms", "version_number", "included", "copied_at"], batch_size=500
    )
    return len(new) + len(changed)


def contract_terms_settle(*, plan_version: PlanVersion) -> int:
    """After the approved version's contracts moved: forget its copies of contracts it did not
    carry after all (fulfilled or cancelled before the approval), so that its rows, once frozen,
    are exactly what it held. Returns the rows deleted."""
    deleted, _ = (
        PlanContract.objects.filter(plan_version=plan_version, included=True)
        .exclude(contract__plan_version=plan_version)
        .delete()
    )
    return deleted


def contracts_cancel_dropped(*, actor: Person, plan_version: PlanVersion) -> list[Contract]:
    """Cancel, through the contract service, the open contracts the PMO dropped from the version
    being approved."""
    dropped = (
        Contract.objects.filter(plan_terms__plan_version=plan_version, plan_terms__included=False)
        .exclude(status__in=CLOSED)
        .exclude(plan_version=plan_version)
        .order_by("code")
    )
    return [
        contract_cancel_dropped(actor=actor, contract=contract, plan_version=plan_version)
        for contract in dropped
    ]


def contracts_move(
    *, actor: Person, plan_version: PlanVersion, previous: PlanVersion | None
) -> int:
    """Move to the approved version the open contracts it carries: those copied into it and those
    the previous version holds, except the dropped ones. One UPDATE (bumping each contract's
    revision, its ETag) and one insert of their audit events. Returns the number moved."""
    rows = PlanContract.objects.filter(plan_version=plan_version)
    carried = Contract.objects.filter(pk__in=rows.filter(included=True).values("contract_id"))
    if previous is not None:
        carried = carried | Contract.objects.filter(plan_version=previous)
    moving = list(
        carried.exclude(status__in=CLOSED)
        .exclude(plan_version=plan_version)
        .exclude(pk__in=rows.filter(included=False).values("contract_id"))
        .select_related("plan_version")
        .order_by("pk")
    )
    if not moving:
        return 0
    now = timezone.now()
    Contract.objects.filter(pk__in=[c.pk for c in moving]).update(
        plan_version=plan_version, revision=F("revision") + 1, updated_at=now
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_name=_actor_name(actor),
            action=AuditAction.UPDATE,
            subject_type=Contract._meta.label_lower,
            subject_id=str(contract.pk),
            subject_name=str(contract)[:255],
            changes={"plan_version": {"old": str(contract.plan_version), "new": plan_version.name}},
            reason=f"Carried into plan version {plan_version.name} when {actor} approved it.",
        )
        for contract in moving
    )
    return len(moving)


# --- Receivers ----------------------------------------------------------------------------------


def on_plan_version_drafted(
    sender, *, plan_version: PlanVersion, based_on: PlanVersion, actor: Person, **kwargs
) -> None:
    contract_terms_copy(plan_version=plan_version, based_on=based_on)


def on_plan_version_approved(
    sender,
    *,
    plan_version: PlanVersion,
    previous: PlanVersion | None,
    actor: Person,
    **kwargs,
) -> None:
    if previous is not None:
        contract_terms_freeze(plan_version=previous)
    contracts_cancel_dropped(actor=actor, plan_version=plan_version)
    contracts_move(actor=actor, plan_version=plan_version, previous=previous)
    contract_terms_settle(plan_version=plan_version)
