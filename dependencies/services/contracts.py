"""Writes for contracts: create, edit and delete drafts, and the lifecycle (propose, agree, fulfil,
cancel). Amendments to agreed terms are in `dependencies.services.amendments`.

Every write locks the contract row, compares the caller's expected `revision` (the ETag) with the
stored one — a stale one is refused with 409 and nothing is written —, validates, bumps the
revision, writes the audit event in the same transaction, and notifies the other side (in-app
rows in the transaction, emails on commit). The rules are in `docs/contracts.md`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dependencies import permissions as contract_perms
from dependencies import terms
from dependencies.choices import CLOSED, IN_FORCE, AmendmentStatus, ContractStatus, Side
from dependencies.models import Amendment, Contract, ContractVersion
from govern import audit
from govern import permissions as perms
from govern.choices import AuditAction, NotificationKind
from govern.errors import ConflictError
from govern.models import Person
from govern.notifications import notify
from govern.selectors import current_plan_version

AMEND_INSTEAD = (
    "Agreed terms change only through an amendment: propose one on the contract page or "
    "POST /api/v1/contracts/{id}/amendments/."
)
REASON_REQUIRED = "Give a reason; it is kept in the contract's history."
AGREEMENT_CLEARED = (
    "Terms changed while proposed: both sides' agreement is cleared and each side must agree again."
)
PMO_HAS_NO_SIDE = (
    "Only a side's owner or a lead of its department speaks for a side; the PMO does not agree "
    "or answer for a side (it overrides an amendment instead, recorded as such)."
)


# --- Shared by the contract and amendment services --------------------------------------------


def stale_message(contract: Contract, revision: int) -> str:
    return (
        f"{contract.code} has changed since you loaded it (you sent revision {revision}, it is "
        f"now at revision {contract.revision}). Reload it and apply your change again."
    )


def check_revision(contract: Contract, revision: int | None) -> None:
    """Refuse (409, code "stale") when the caller's revision is not the stored one."""
    if revision is None:
        return
    try:
        revision = int(revision)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            {"revision": f"A revision is a whole number; got {revision!r}."}
        ) from exc
    if revision != contract.revision:
        raise ConflictError(
            stale_message(contract, revision),
            code="stale",
            details={"revision": contract.revision},
        )


def lock(contract: Contract, revision: int | None) -> Contract:
    """Re-read the contract under a row lock and check the caller's revision against it."""
    locked = Contract.objects.select_for_update().filter(pk=contract.pk).first()
    if locked is None:
        raise ConflictError(f"{contract.code} no longer exists.", code="gone")
    check_revision(locked, revision)
    return locked


def require_text(value: str | None, field: str, message: str = REASON_REQUIRED) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def speaking_sides(actor: Person, contract: Contract, side: str | None) -> set[str]:
    """The sides the actor answers for: `side` when named (it must be theirs), else all theirs."""
    mine = contract_perms.sides(actor, contract)
    if side is not None:
        if side not in Side.values:
            raise ValidationError({"side": f"A side is provider or consumer, not {side!r}."})
        if side not in mine:
            raise PermissionDenied(
                f"You do not speak for the {side} side of {contract.code}. " + PMO_HAS_NO_SIDE
            )
        return {side}
    if not mine:
        raise PermissionDenied(f"You speak for neither side of {contract.code}. " + PMO_HAS_NO_SIDE)
    return set(mine)


def notify_people(
    *,
    actor: Person | None,
    people: Iterable[int | None],
    kind: str,
    title: str,
    body: str,
    subject,
    link: str,
) -> None:
    """Notify `people` (ids) except the actor: in-app now, email once the transaction commits."""
    recipients = {pk for pk in people if pk is not None and (actor is None or pk != actor.pk)}
    if recipients:
        notify(recipients=recipients, kind=kind, title=title, body=body, link=link, subject=subject)


def owners(contract: Contract) -> list[int]:
    return [contract.provider_owner_id, contract.consumer_owner_id]


def current_m2m(contract: Contract) -> dict[str, list]:
    related = {"provider_milestones": "initiative", "consumer_milestones": "initiative"}
    return {
        name: list(
            getattr(contract, name).select_related(*([related[name]] if name in related else []))
        )
        for name in terms.M2M_FIELDS
    }


def schedule_health_check(contract: Contract) -> None:
    """Ask the health monitor to re-check the contract once the transaction commits."""
    from dependencies.tasks import contract_health_sync

    contract_health_sync.delay_on_commit(contract_ids=[contract.pk])


def withdraw_pending(contract: Contract, *, actor: Person, reason: str) -> None:
    """Close the contract's pending amendment, if any, as withdrawn (the contract is closing)."""
    pending = (
        Amendment.objects.select_for_update()
        .filter(contract=contract, status=AmendmentStatus.PENDING)
        .first()
    )
    if pending is None:
        return
    pending.status, pending.closed_at = AmendmentStatus.WITHDRAWN, timezone.now()
    pending.save(update_fields=["status", "closed_at"])
    audit.record(
        actor=actor,
        action=AuditAction.WITHDRAW,
        instance=pending,
        changes={"status": {"old": AmendmentStatus.PENDING, "new": AmendmentStatus.WITHDRAWN}},
        reason=reason,
    )


def save_with_event(
    contract: Contract,
    *,
    actor: Person,
    action: str,
    before: Mapping[str, Any],
    m2m: Mapping[str, Iterable] | None = None,
    extra: Mapping[str, dict] | None = None,
    reason: str = "",
) -> dict[str, dict[str, Any]]:
    """Bump the revision, save, set the linked lists and record `action` with the old and new
    values of what changed (plus `extra` entries). Returns the recorded changes."""
    contract.revision += 1
    contract.save()
    for name, values in (m2m or {}).items():
        getattr(contract, name).set(list(values))
    changes = {**audit.diff(before, audit.snapshot(contract)), **(extra or {})}
    audit.record(actor=actor, action=action, instance=contract, changes=changes, reason=reason)
    return changes


def _who(person: Person | None) -> str | None:
    return None if person is None else str(person)


# --- Create, edit, delete ---------------------------------------------------------------------


@transaction.atomic
def contract_create(*, actor: Person, data: Mapping[str, Any]) -> Contract:
    """A new draft (PMO only). `data` holds the terms: relations as instances, ids or codes,
    the linked lists as lists; `plan_version` defaults to the current approved plan."""
    perms.ensure_can_add(actor, Contract)
    fields, m2m = terms.coerce_terms(data, user=actor)
    if fields.get("plan_version") is None:
        fields["plan_version"] = current_plan_version()
    contract = Contract(**fields, status=ContractStatus.DRAFT, created_by=actor)
    linked = {name: m2m.get(name, []) for name in terms.M2M_FIELDS}
    terms.validate(contract, linked)
    contract.save()
    for name, values in linked.items():
        getattr(contract, name).set(values)
    changes = {
        name: {"old": None, "new": value} for name, value in audit.snapshot(contract).items()
    }
    audit.record(actor=actor, action=AuditAction.CREATE, instance=contract, changes=changes)
    return contract


@transaction.atomic
def contract_update(
    *, actor: Person, contract: Contract, data: Mapping[str, Any], revision: int | None = None
) -> Contract:
    """Edit the terms of a draft or proposed contract (PMO only). An edit of a proposed contract
    clears both sides' agreement (recorded in the reason). In force: 409, amend instead."""
    perms.ensure_allowed(actor, perms.CHANGE, contract)
    locked = lock(contract, revision)
    if locked.is_in_force:
        raise ConflictError(
            AMEND_INSTEAD.format(id=locked.pk),
            code="terms_frozen",
            details={"amendments": f"/api/v1/contracts/{locked.pk}/amendments/"},
        )
    if locked.status in CLOSED:
        raise ConflictError(
            f"{locked.code} is {locked.get_status_display().lower()}; its terms no longer change.",
            code="closed",
        )
    fields, m2m = terms.coerce_terms(data, user=actor, contract=locked)
    if "plan_version" in fields and fields["plan_version"] is None:
        fields["plan_version"] = current_plan_version()
    before_terms = terms.snapshot(locked)
    before = audit.snapshot(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    linked = {**current_m2m(locked), **m2m}
    after_terms = terms.snapshot(locked, linked)
    changed = [row["field"] for row in terms.compare(before_terms, after_terms) if row["changed"]]
    terms.validate(locked, linked, changed=changed)
    if not changed:
        return locked
    reason, extra = "", {}
    if locked.status == ContractStatus.PROPOSED:
        reason = AGREEMENT_CLEARED
        for side in Side.values:
            if getattr(locked, f"{side}_agreed_at") is not None:
                extra[f"{side}_agreed_by"] = {
                    "old": _who(getattr(locked, f"{side}_agreed_by")),
                    "new": None,
                }
            setattr(locked, f"{side}_agreed_by", None)
            setattr(locked, f"{side}_agreed_at", None)
    save_with_event(
        locked,
        actor=actor,
        action=AuditAction.UPDATE,
        before=before,
        m2m={name: m2m[name] for name in m2m if name in changed},
        extra=extra,
        reason=reason,
    )
    if locked.status == ContractStatus.PROPOSED:
        notify_people(
            actor=actor,
            people=owners(locked),
            kind=NotificationKind.CONTRACT_PROPOSED,
            title=f"Changed terms to agree again: {locked}",
            body=f"{actor} changed {', '.join(terms.TERM_LABELS[n].lower() for n in changed)}. "
            + AGREEMENT_CLEARED,
            subject=locked,
            link=locked.get_absolute_url(),
        )
    return locked


@transaction.atomic
def contract_delete(*, actor: Person, contract: Contract, revision: int | None = None) -> None:
    """Delete a draft (PMO only); a contract that was ever proposed is cancelled instead."""
    perms.ensure_allowed(actor, perms.DELETE, contract)
    locked = lock(contract, revision)
    if locked.status != ContractStatus.DRAFT:
        raise ConflictError(
            f"{locked.code} is {locked.get_status_display().lower()}; only a draft can be "
            "deleted. Cancel it instead (with a reason).",
            code="not_draft",
        )
    audit.audited_delete(locked, actor=actor)


# --- Lifecycle --------------------------------------------------------------------------------


@transaction.atomic
def contract_propose(
    *, actor: Person, contract: Contract, revision: int | None = None, comment: str = ""
) -> Contract:
    """draft → proposed: both sides are asked to agree (PMO, or either side)."""
    perms.ensure_allowed(actor, contract_perms.PROPOSE, contract)
    locked = lock(contract, revision)
    if locked.status != ContractStatus.DRAFT:
        raise ConflictError(
            f"{locked.code} is {locked.get_status_display().lower()}; only a draft is proposed.",
            code="not_draft",
        )
    terms.validate(locked, current_m2m(locked), changed=())
    before = audit.snapshot(locked)
    locked.status = ContractStatus.PROPOSED
    save_with_event(
        locked, actor=actor, action=AuditAction.PROPOSE, before=before, reason=comment.strip()
    )
    notify_people(
        actor=actor,
        people=owners(locked),
        kind=NotificationKind.CONTRACT_PROPOSED,
        title=f"Contract to agree: {locked}",
        body=f"{actor} proposed {locked.code} between {locked.provider_department} (provider) "
        f"and {locked.consumer_department} (consumer). Read the terms and agree for your side."
        + (f"\n\n{comment.strip()}" if comment.strip() else ""),
        subject=locked,
        link=locked.get_absolute_url(),
    )
    return locked


@transaction.atomic
def contract_agree(
    *,
    actor: Person,
    contract: Contract,
    revision: int | None = None,
    comment: str = "",
    side: str | None = None,
) -> Contract:
    """Agree to a proposed contract for the actor's side(s) (or the one `side` named). When both
    sides have agreed it is `agreed` and version 1, the snapshot of its terms, is written."""
    perms.ensure_allowed(actor, contract_perms.RESPOND, contract)
    locked = lock(contract, revision)
    speaking = speaking_sides(actor, locked, side)
    if locked.status != ContractStatus.PROPOSED:
        raise ConflictError(
            f"{locked.code} is {locked.get_status_display().lower()}; only a proposed contract "
            "is agreed to.",
            code="not_proposed",
        )
    to_agree = sorted(s for s in speaking if getattr(locked, f"{s}_agreed_at") is None)
    if not to_agree:
        done = " and ".join(sorted(speaking))
        raise ConflictError(
            f"You have already agreed to {locked.code} for the {done} side.",
            code="already_agreed",
        )
    before = audit.snapshot(locked)
    now = timezone.now()
    extra = {}
    for s in to_agree:
        setattr(locked, f"{s}_agreed_by", actor)
        setattr(locked, f"{s}_agreed_at", now)
        extra[f"{s}_agreed_by"] = {"old": None, "new": str(actor)}
    both = all(getattr(locked, f"{s}_agreed_at") is not None for s in Side.values)
    if both:
        locked.status, locked.agreed_at = ContractStatus.AGREED, now
        locked.version_number = 1
        extra["version_number"] = {"old": 0, "new": 1}
    comment = comment.strip()
    save_with_event(
        locked, actor=actor, action=AuditAction.AGREE, before=before, extra=extra, reason=comment
    )
    if both:
        reason = (
            f"Agreed by both sides: {locked.provider_agreed_by} for {locked.provider_department} "
            f"(provider), {locked.consumer_agreed_by} for {locked.consumer_department} (consumer)."
        )
        ContractVersion.objects.create(
            contract=locked,
            number=1,
            terms=terms.snapshot(locked),
            author=actor,
            author_name=str(actor)[:150],
            created_at=now,
            reason=reason + (f" {comment}" if comment else ""),
        )
        notify_people(
            actor=actor,
            people=owners(locked),
            kind=NotificationKind.CONTRACT_AGREED,
            title=f"Contract agreed: {locked}",
            body=f"Both sides agreed; version 1 of its terms is in force. {reason}",
            subject=locked,
            link=locked.get_absolute_url(),
        )
        schedule_health_check(locked)
    else:
        waiting = next(s for s in Side.values if getattr(locked, f"{s}_agreed_at") is None)
        notify_people(
            actor=actor,
            people=[getattr(locked, f"{waiting}_owner_id")],
            kind=NotificationKind.CONTRACT_PROPOSED,
            title=f"Contract to agree: {locked}",
            body=f"{actor} agreed for the {' and '.join(to_agree)} side; your side's "
            "agreement is awaited." + (f"\n\n{comment}" if comment else ""),
            subject=locked,
            link=locked.get_absolute_url(),
        )
    return locked


@transaction.atomic
def contract_fulfil(
    *, actor: Person, contract: Contract, revision: int | None = None, comment: str = ""
) -> Contract:
    """In force → fulfilled: the deliverable is delivered (the provider side, or the PMO). A
    pending amendment is withdrawn with it."""
    perms.ensure_allowed(actor, contract_perms.FULFIL, contract)
    locked = lock(contract, revision)
    if locked.status not in IN_FORCE:
        raise ConflictError(
            f"{locked.code} is {locked.get_status_display().lower()}; only a contract in force "
            "(agreed, at risk or breached) is fulfilled.",
            code="not_in_force",
        )
    before = audit.snapshot(locked)
    locked.status, locked.fulfilled_at = ContractStatus.FULFILLED, timezone.now()
    comment = comment.strip()
    withdraw_pending(locked, actor=actor, reason=f"{locked.code} was fulfilled.")
    save_with_event(locked, actor=actor, action=AuditAction.FULFIL, before=before, reason=comment)
    schedule_health_check(locked)
    return locked


@transaction.atomic
def contract_cancel(
    *, actor: Person, contract: Contract, reason: str, revision: int | None = None
) -> Contract:
    """Cancel a contract that is not fulfilled or cancelled yet (PMO, with a reason). A pending
    amendment is withdrawn with it."""
    perms.ensure_allowed(actor, contract_perms.CANCEL, contract)
    return _cancel(actor=actor, contract=contract, reason=reason, revision=revision)


@transaction.atomic
def contract_cancel_dropped(*, actor: Person, contract: Contract, plan_version) -> Contract:
    """Cancel a contract the PMO dropped from `plan_version`, as part of that version's approval:
    the authority is the approval (an executive's, checked by the plan-version service), not the
    approver's own right to cancel contracts. The reason names the version and who proposed it."""
    proposer = f", proposed by {plan_version.proposed_by}" if plan_version.proposed_by else ""
    reason = (
        f"Dropped from plan version {plan_version.name}{proposer}; cancelled when {actor} "
        "approved it."
    )
    return _cancel(actor=actor, contract=contract, reason=reason)


def _cancel(
    *, actor: Person, contract: Contract, reason: str, revision: int | None = None
) -> Contract:
    reason = require_text(reason, "reason")
    locked = lock(contract, revision)
    if locked.status in CLOSED:
        raise ConflictError(
            f"{locked.code} is already {locked.get_status_display().lower()}.", code="closed"
        )
    before = audit.snapshot(locked)
    locked.status, locked.cancelled_at = ContractStatus.CANCELLED, timezone.now()
    withdraw_pending(locked, actor=actor, reason=f"{locked.code} was cancelled: {reason}")
    save_with_event(locked, actor=actor, action=AuditAction.CANCEL, before=before, reason=reason)
    schedule_health_check(locked)
    return locked
