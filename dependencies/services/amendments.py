"""Amendments: the only way agreed terms change. Proposed by either side or the PMO with a
reason; each side accepts or rejects it once, with a comment (required to reject); accepted by
both sides it is applied, and the PMO may apply it alone by an override with a reason. Applying
writes the contract's next version (an immutable snapshot of every term) and bumps its revision;
a rejection or a withdrawal changes nothing on the contract.

Every write locks the contract row first (one writer at a time per contract) and checks the
caller's expected revision when given (`dependencies.services.contracts.lock`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dependencies import permissions as contract_perms
from dependencies import terms
from dependencies.choices import IN_FORCE, AmendmentStatus, Response, Side
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.services.contracts import (
    current_m2m,
    lock,
    notify_people,
    owners,
    require_text,
    save_with_event,
    schedule_health_check,
    speaking_sides,
)
from govern import audit
from govern import permissions as perms
from govern.choices import AuditAction, NotificationKind
from govern.errors import ConflictError
from govern.models import Person

NO_CHANGES = 'Name at least one term and its new value, e.g. {"due_date": "2026-09-30"}.'
COMMENT_TO_REJECT = "Say why you reject it; the comment goes to the other side and the history."


def _pending_message(contract: Contract, pending: Amendment) -> str:
    return (
        f"{contract.code} already has a pending amendment (number {pending.number}, proposed by "
        f"{pending.proposed_by_name}); it must be accepted, rejected or withdrawn before "
        "another is proposed."
    )


def _lock_amendment(amendment: Amendment, contract: Contract) -> Amendment:
    locked = Amendment.objects.select_for_update().get(pk=amendment.pk)
    locked.contract = contract
    if locked.status != AmendmentStatus.PENDING:
        raise ConflictError(
            f"Amendment {locked.number} to {contract.code} is already closed "
            f"({locked.get_status_display().lower()}).",
            code="amendment_closed",
        )
    return locked


def _proposed_terms(
    contract: Contract, changes: Mapping[str, Any], *, user, scoped: bool
) -> tuple[Contract, dict[str, list], dict[str, Any], dict[str, Any]]:
    """`changes` applied to a copy of `contract`: (the copy, its linked lists, the current terms,
    the proposed terms). Raises field errors for unknown terms and values that cannot be read."""
    fields, m2m = terms.coerce_terms(
        changes, user=user, contract=contract, strict=True, scoped=scoped
    )
    current = terms.snapshot(contract)
    candidate = copy.copy(contract)
    for name, value in fields.items():
        setattr(candidate, name, value)
    linked = {**current_m2m(contract), **m2m}
    return candidate, linked, current, terms.snapshot(candidate, linked)


@transaction.atomic
def amendment_propose(
    *,
    actor: Person,
    contract: Contract,
    changes: Mapping[str, Any],
    reason: str,
    revision: int | None = None,
) -> Amendment:
    """Propose new values for some terms of a contract in force (either side, or the PMO). Each
    named term must differ from the current version; the terms it would produce must pass the
    same validation as a new contract. At most one pending amendment per contract."""
    perms.ensure_allowed(actor, contract_perms.PROPOSE, contract)
    reason = require_text(reason, "reason")
    locked = lock(contract, revision)
    if locked.status not in IN_FORCE:
        raise ConflictError(
            f"{locked.code} is {locked.get_status_display().lower()}; only a contract in force "
            "(agreed, at risk or breached) is amended. A draft or proposed contract is edited "
            "directly by the PMO.",
            code="not_in_force",
        )
    pending = Amendment.objects.filter(contract=locked, status=AmendmentStatus.PENDING).first()
    if pending is not None:
        raise ConflictError(
            _pending_message(locked, pending),
            code="amendment_pending",
            details={"pending": pending.number},
        )
    if not isinstance(changes, Mapping) or not changes:
        raise ValidationError({"changes": NO_CHANGES})
    candidate, linked, current, proposed = _proposed_terms(locked, changes, user=actor, scoped=True)
    rows = {row["field"]: row for row in terms.compare(current, proposed)}
    unchanged = {
        name: f"{rows[name]['label']} is already {rows[name]['a_text']}; name only the terms "
        "that change."
        for name in changes
        if not rows[name]["changed"]
    }
    if unchanged:
        raise ValidationError(unchanged)
    terms.validate(candidate, linked, changed=list(changes))
    number = (Amendment.objects.filter(contract=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    amendment = Amendment(
        contract=locked,
        number=number,
        base_version=locked.version_number,
        changes={name: proposed[name] for name in terms.TERM_FIELDS if name in changes},
        reason=reason,
        proposed_by=actor,
        proposed_by_name=str(actor)[:150],
    )
    amendment.full_clean()
    amendment.save()
    audit.record(
        actor=actor,
        action=AuditAction.PROPOSE,
        instance=amendment,
        changes={
            name: {"old": rows[name]["a_text"], "new": rows[name]["b_text"]}
            for name in amendment.changes
        },
        reason=reason,
    )
    labels = ", ".join(terms.TERM_LABELS[name].lower() for name in amendment.changes)
    notify_people(
        actor=actor,
        people=owners(locked),
        kind=NotificationKind.AMENDMENT_PROPOSED,
        title=f"Amendment to answer: {locked}",
        body=f"{actor} proposes to change {labels}. Reason: {reason}\n\nAccept or reject it "
        "for your side.",
        subject=amendment,
        link=amendment.get_absolute_url(),
    )
    return amendment


@transaction.atomic
def amendment_respond(
    *,
    actor: Person,
    amendment: Amendment,
    accept: bool,
    comment: str = "",
    side: str | None = None,
    revision: int | None = None,
) -> Amendment:
    """Accept or reject a pending amendment for the actor's side(s) (or the one `side` named);
    each side answers once and a rejection needs a comment. Both sides accepted: applied (the
    next version). Either side rejected: rejected, and the contract is untouched."""
    perms.ensure_allowed(actor, contract_perms.RESPOND, amendment)
    locked_contract = lock(amendment.contract, revision)
    speaking = speaking_sides(actor, locked_contract, side)
    comment = (comment or "").strip()
    if not accept:
        require_text(comment, "comment", COMMENT_TO_REJECT)
    locked = _lock_amendment(amendment, locked_contract)
    to_answer = sorted(s for s in speaking if not getattr(locked, f"{s}_response"))
    if not to_answer:
        raise ConflictError(
            f"You have already answered amendment {locked.number} for the "
            f"{' and '.join(sorted(speaking))} side.",
            code="already_answered",
        )
    now = timezone.now()
    response = Response.ACCEPTED if accept else Response.REJECTED
    changes = {}
    for s in to_answer:
        setattr(locked, f"{s}_response", response)
        setattr(locked, f"{s}_responder", actor)
        setattr(locked, f"{s}_comment", comment)
        setattr(locked, f"{s}_responded_at", now)
        changes[f"{s}_response"] = {"old": "", "new": str(response)}
    if not accept:
        locked.status, locked.closed_at = AmendmentStatus.REJECTED, now
    elif all(getattr(locked, f"{s}_response") == Response.ACCEPTED for s in Side.values):
        locked.status, locked.closed_at = AmendmentStatus.ACCEPTED, now
    if locked.status != AmendmentStatus.PENDING:
        changes["status"] = {"old": AmendmentStatus.PENDING, "new": locked.status}
    locked.full_clean()
    locked.save()
    audit.record(
        actor=actor,
        action=AuditAction.ACCEPT if accept else AuditAction.REJECT,
        instance=locked,
        changes=changes,
        reason=comment,
    )
    if locked.status == AmendmentStatus.ACCEPTED:
        _apply(locked_contract, locked, actor=actor, reason=_accepted_reason(locked))
    if locked.status != AmendmentStatus.PENDING:
        _notify_closed(locked, actor=actor)
    return locked


@transaction.atomic
def amendment_override(
    *, actor: Person, amendment: Amendment, reason: str, revision: int | None = None
) -> Amendment:
    """Apply a pending amendment without waiting for both sides (PMO only, with a reason): the
    next version is written and both the amendment and the version say it was an override."""
    perms.ensure_allowed(actor, contract_perms.OVERRIDE, amendment)
    reason = require_text(reason, "reason")
    locked_contract = lock(amendment.contract, revision)
    locked = _lock_amendment(amendment, locked_contract)
    now = timezone.now()
    locked.status, locked.closed_at = AmendmentStatus.OVERRIDDEN, now
    locked.override_by, locked.override_reason = actor, reason
    locked.full_clean()
    locked.save()
    audit.record(
        actor=actor,
        action=AuditAction.OVERRIDE,
        instance=locked,
        changes={"status": {"old": AmendmentStatus.PENDING, "new": AmendmentStatus.OVERRIDDEN}},
        reason=reason,
    )
    version_reason = (
        f"PMO override by {actor}: {reason} (amendment {locked.number}, proposed by "
        f"{locked.proposed_by_name}: {locked.reason})"
    )
    _apply(locked_contract, locked, actor=actor, reason=version_reason, action=AuditAction.OVERRIDE)
    _notify_closed(locked, actor=actor)
    return locked


@transaction.atomic
def amendment_withdraw(
    *, actor: Person, amendment: Amendment, reason: str = "", revision: int | None = None
) -> Amendment:
    """Withdraw a pending amendment (its proposer, or the PMO); the contract is untouched."""
    if not (
        perms.scope_for(actor).is_pmo
        or (actor.is_authenticated and amendment.proposed_by_id == actor.pk)
    ):
        raise PermissionDenied(
            f"Only the person who proposed amendment {amendment.number} or the PMO withdraws it."
        )
    locked_contract = lock(amendment.contract, revision)
    locked = _lock_amendment(amendment, locked_contract)
    locked.status, locked.closed_at = AmendmentStatus.WITHDRAWN, timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    audit.record(
        actor=actor,
        action=AuditAction.WITHDRAW,
        instance=locked,
        changes={"status": {"old": AmendmentStatus.PENDING, "new": AmendmentStatus.WITHDRAWN}},
        reason=(reason or "").strip(),
    )
    _notify_closed(locked, actor=actor)
    return locked


# --- Applying ---------------------------------------------------------------------------------


def _apply(
    contract: Contract,
    amendment: Amendment,
    *,
    actor: Person,
    reason: str,
    action: str = AuditAction.ACCEPT,
) -> ContractVersion:
    """Write the amendment's values into the (locked) contract, re-validated as they stand now,
    and the next version; bump the revision; record `action` on the contract."""
    try:
        candidate, linked, _, proposed = _proposed_terms(
            contract, amendment.changes, user=actor, scoped=False
        )
        terms.validate(candidate, linked, changed=list(amendment.changes))
    except ValidationError as exc:
        raise ValidationError(
            {
                name: [f"The amendment can no longer be applied: {m}" for m in messages]
                for name, messages in exc.message_dict.items()
            }
        ) from exc
    before = audit.snapshot(contract)
    for name in terms.TERM_FIELDS:
        if name in amendment.changes and name not in terms.M2M_FIELDS:
            setattr(contract, name, getattr(candidate, name))
    contract.version_number += 1
    save_with_event(
        contract,
        actor=actor,
        action=action,
        before=before,
        m2m={name: linked[name] for name in terms.M2M_FIELDS if name in amendment.changes},
        extra={
            "version_number": {"old": contract.version_number - 1, "new": contract.version_number}
        },
        reason=f"Amendment {amendment.number}: {amendment.reason}",
    )
    version = ContractVersion.objects.create(
        contract=contract,
        number=contract.version_number,
        terms=proposed,
        author=actor,
        author_name=str(actor)[:150],
        created_at=amendment.closed_at or timezone.now(),
        reason=reason,
        amendment=amendment,
    )
    schedule_health_check(contract)
    return version


def _accepted_reason(amendment: Amendment) -> str:
    answers = "; ".join(
        f"accepted for the {side} by {getattr(amendment, f'{side}_responder')}"
        + (
            f": {getattr(amendment, f'{side}_comment')}"
            if getattr(amendment, f"{side}_comment")
            else ""
        )
        for side in Side.values
    )
    return f"{amendment.reason} (amendment {amendment.number}; {answers})"


def _notify_closed(amendment: Amendment, *, actor: Person) -> None:
    contract = amendment.contract
    notify_people(
        actor=actor,
        people=[*owners(contract), amendment.proposed_by_id],
        kind=NotificationKind.AMENDMENT_CLOSED,
        title=f"Amendment {amendment.get_status_display().lower()}: {contract}",
        body=f"Amendment {amendment.number} ({amendment.reason}) is "
        f"{amendment.get_status_display().lower()}."
        + (
            f" Version {contract.version_number} of the terms is in force."
            if amendment.status in (AmendmentStatus.ACCEPTED, AmendmentStatus.OVERRIDDEN)
            else " The terms are unchanged."
        ),
        subject=amendment,
        link=amendment.get_absolute_url(),
    )
