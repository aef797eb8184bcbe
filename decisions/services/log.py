"""Writes for the decision log: log a decision (decided, or proposed for someone with authority),
decide a proposed one, supersede a decided one.

Every write is atomic: it validates everything first (field messages, nothing written on a
refusal), writes the decision and its reallocation lines, appends the entry to the hash chain
(`decisions.chain.append`), writes the audit event, moves the answered exception to `decided`
(`kpis.services.exceptions.exception_mark_decided`) and notifies the people concerned (in-app in
the transaction, email on commit). The rules are in docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from decisions import chain
from decisions import permissions as decision_perms
from decisions.choices import DecisionStatus, ExpectedEffectKind, LogEntryKind, ReallocationUnit
from decisions.models import ContingencyPlan, Decision, Reallocation, ReviewSession
from decisions.services.validation import FieldErrors, visible
from dependencies.models import Contract
from govern.audit import record
from govern.choices import AuditAction, NotificationKind, Role
from govern.errors import ConflictError
from govern.models import Department, Initiative, Membership, Objective, Person
from govern.notifications import Notice, notify_many
from kpis.choices import ExceptionStatus
from kpis.models import Kpi, KpiException
from kpis.services.exceptions import exception_mark_decided

NO_OUTCOME = "A decision must name at least one outcome (KPI) it is meant to move."
TEXT_FIELDS = {
    "title": "Give the decision a short title.",
    "context": "Describe the situation that calls for a decision.",
    "options_considered": "List the options that were weighed.",
    "chosen_option": "Say which option was chosen.",
    "rationale": "Say why this option was chosen.",
}
LINKS: dict[str, type[models.Model]] = {
    "department": Department,
    "exception": KpiException,
    "initiative": Initiative,
    "contract": Contract,
    "objective": Objective,
    "tradeoff_objective": Objective,
    "tradeoff_initiative": Initiative,
    "expected_kpi": Kpi,
    "contingency_plan": ContingencyPlan,  # set by the contingency engine when it proposes one
    "review_session": ReviewSession,  # the session it was logged in
}
LINE_LINKS: dict[str, type[models.Model]] = {
    "from_initiative": Initiative,
    "from_department": Department,
    "to_initiative": Initiative,
    "to_department": Department,
}
ACCEPTED = {
    *TEXT_FIELDS, *LINKS, "kpis", "tradeoff_statement", "expected_kind", "expected_value",
    "review_date", "decided_on", "reallocations",
}  # fmt: skip
MAX_LINES = 50
MAX_AMOUNT = Decimal("999999999999.99")


# --- Validation -------------------------------------------------------------------------------


def _visible_many(
    actor, model: type[models.Model], values, field: str, errors: FieldErrors
) -> list:
    values = list(values or [])
    pks: list[int] = []
    for value in values:
        try:
            pks.append(int(value.pk if isinstance(value, models.Model) else value))
        except (TypeError, ValueError):
            errors.add(field, f"{value!r} is not a {model._meta.verbose_name} id.")
    found = {obj.pk: obj for obj in model.objects.restrict(actor).filter(pk__in=pks)}
    for pk in dict.fromkeys(pks):
        if pk not in found:
            errors.add(field, f"No {model._meta.verbose_name} {pk} that you may see.")
    return [found[pk] for pk in dict.fromkeys(pks) if pk in found]


def _date(value, field: str, errors: FieldErrors) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, f"Enter a date as YYYY-MM-DD; got {value!r}.")
        return None


def _number(value, field: str, errors: FieldErrors) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.add(field, f"Enter a number; got {value!r}.")
        return None
    if not math.isfinite(number):
        errors.add(field, "Enter a finite number (not NaN or infinity).")
        return None
    return number


def _amount(value, field: str, errors: FieldErrors) -> Decimal | None:
    if value in (None, ""):
        errors.add(field, "Say how much is reallocated.")
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.add(field, f"Enter an amount; got {value!r}.")
        return None
    if not amount.is_finite() or amount <= 0:
        errors.add(field, "The amount must be more than zero.")
        return None
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        errors.add(field, "Enter an amount below one trillion with at most two decimals.")
        return None
    return amount.quantize(Decimal("0.01"))


class _Draft:
    """A validated decision, ready to write."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.kpis: list[Kpi] = []
        self.lines: list[Reallocation] = []
        self.crossings: list[str] = []  # why it crosses departments, in words
        self.decided_on: dt.date | None = None

    @property
    def department(self) -> Department:
        return self.fields["department"]


def _validate(actor, data: Mapping[str, Any], *, decide: bool) -> _Draft:
    """Check the whole input (see `decision_log`); raise every field message at once."""
    errors = FieldErrors()
    unknown = sorted(set(data) - ACCEPTED)
    if unknown:
        errors.add("non_field_errors", f"Unknown fields: {', '.join(unknown)}.")
    draft = _Draft()
    decided_on = draft.decided_on = _decision_date(data.get("decided_on"), errors, decide=decide)
    fields = draft.fields
    for name, message in TEXT_FIELDS.items():
        text = str(data.get(name) or "").strip()
        if not text:
            errors.add(name, message)
        fields[name] = text
    for name, model in LINKS.items():
        fields[name] = visible(actor, model, data.get(name), name, errors)
    draft.kpis = _visible_many(actor, Kpi, data.get("kpis"), "kpis", errors)
    if not draft.kpis and "kpis" not in errors.fields:
        errors.add("kpis", NO_OUTCOME)

    exception = fields["exception"]
    if exception is not None and exception.status == ExceptionStatus.RESOLVED:
        errors.add(
            "exception",
            "This exception is resolved; a decision answers an open, acknowledged or decided one.",
        )
    if fields["department"] is None and "department" not in errors.fields:
        fields["department"] = _default_department(fields, draft.kpis)
        if fields["department"] is None:
            errors.add("department", "Say which department the decision belongs to.")
    department = fields["department"]

    _validate_tradeoff(data, fields, errors)
    _validate_expected_effect(data, fields, errors, decided_on=decided_on)
    draft.lines = _validate_lines(actor, data.get("reallocations"), errors)
    errors.raise_any()
    draft.crossings = _crossings(draft, department)
    return draft


def _default_department(fields: dict, kpis: list[Kpi]) -> Department | None:
    for source in (fields["exception"], fields["initiative"], *kpis):
        if source is not None:
            return source.department
    return None


def _validate_tradeoff(data: Mapping[str, Any], fields: dict, errors: FieldErrors) -> None:
    fields["tradeoff_statement"] = str(data.get("tradeoff_statement") or "").strip()
    sacrificed = fields["tradeoff_objective"] or fields["tradeoff_initiative"]
    exception = fields["exception"]
    if exception is not None and exception.tradeoff_required:
        if not sacrificed and "tradeoff_objective" not in errors.fields:
            errors.add(
                "tradeoff_objective",
                "This exception needs a trade-off decision (its ripple crosses into another "
                "department): name the objective or initiative that is sacrificed.",
            )
        if not fields["tradeoff_statement"]:
            errors.add(
                "tradeoff_statement",
                "This exception needs a trade-off decision: say what is sacrificed and why.",
            )
        return
    if sacrificed and not fields["tradeoff_statement"]:
        errors.add("tradeoff_statement", "Say what the trade-off sacrifices and why.")
    hidden = "tradeoff_objective" in errors.fields or "tradeoff_initiative" in errors.fields
    if fields["tradeoff_statement"] and not sacrificed and not hidden:
        errors.add(
            "tradeoff_objective", "Name the objective or initiative the trade-off sacrifices."
        )


def _validate_expected_effect(
    data: Mapping[str, Any], fields: dict, errors: FieldErrors, *, decided_on: dt.date
) -> None:
    kind = str(data.get("expected_kind") or "").strip()
    value = _number(data.get("expected_value"), "expected_value", errors)
    review = _date(data.get("review_date"), "review_date", errors)
    fields.update(expected_kind=kind, expected_value=value, review_date=review)
    given = [fields["expected_kpi"], kind, value, review, data.get("expected_kpi")]
    if all(part in (None, "") for part in given):
        return
    if fields["expected_kpi"] is None and "expected_kpi" not in errors.fields:
        errors.add("expected_kpi", "Name the KPI whose movement is expected.")
    if kind not in ExpectedEffectKind.values:
        errors.add(
            "expected_kind",
            "Say what is expected of the KPI: "
            + " or ".join(f"{v} ({label})" for v, label in ExpectedEffectKind.choices)
            + ".",
        )
    if value is None and "expected_value" not in errors.fields:
        errors.add("expected_value", "Give the value (or the variance) expected.")
    if kind == ExpectedEffectKind.VARIANCE and value is not None and value < 0:
        errors.add("expected_value", "A variance limit is zero or more.")
    if review is None and "review_date" not in errors.fields:
        errors.add("review_date", "Give the date by which the effect is expected.")
    elif review is not None and review <= decided_on:
        errors.add(
            "review_date",
            f"The review date must be after the decision date ({decided_on:%d %b %Y}).",
        )


def _validate_lines(actor, lines, errors: FieldErrors) -> list[Reallocation]:
    lines = list(lines or [])
    if len(lines) > MAX_LINES:
        errors.add("reallocations", f"At most {MAX_LINES} reallocation lines per decision.")
        return []
    built = []
    for index, line in enumerate(lines):
        at = f"reallocations[{index}]"
        if not isinstance(line, Mapping):
            errors.add(at, "A reallocation line is an object with its source, target and amount.")
            continue
        values = {
            name: visible(actor, model, line.get(name), f"{at}.{name}", errors)
            for name, model in LINE_LINKS.items()
        }
        for side, message in (
            ("from", "Say where the resources come from."),
            ("to", "Say where the resources go."),
        ):
            named = any(line.get(f"{side}_{part}") for part in ("initiative", "department"))
            if not named:
                errors.add(f"{at}.{side}_department", message)
        for side in ("from", "to"):
            initiative, department = values[f"{side}_initiative"], values[f"{side}_department"]
            if initiative and department and initiative.department_id != department.pk:
                errors.add(
                    f"{at}.{side}_department",
                    f"{initiative} belongs to {initiative.department}, not {department}.",
                )
        if _place(values, "from") is not None and _place(values, "from") == _place(values, "to"):
            errors.add(f"{at}.to_department", "The resources must go somewhere else.")
        amount = _amount(line.get("amount"), f"{at}.amount", errors)
        unit = str(line.get("unit") or "")
        if unit not in ReallocationUnit.values:
            errors.add(
                f"{at}.unit",
                "Choose the unit: " + ", ".join(ReallocationUnit.values) + ".",
            )
        built.append(Reallocation(amount=amount, unit=unit, **values))
    return built


def validate_reallocation_lines(actor, lines) -> tuple[list[Reallocation], dict[str, list[str]]]:
    """Reallocation lines checked as `decision_log` checks a decision's (among the rows the actor
    may see): the unsaved lines and the field messages (`reallocations[2].amount`), empty when
    every line is valid. The contingency plans' reallocation template uses it."""
    errors = FieldErrors()
    built = _validate_lines(actor, lines, errors)
    return built, errors.fields


def _place(values: dict, side: str) -> tuple | None:
    initiative, department = values[f"{side}_initiative"], values[f"{side}_department"]
    if initiative is not None:
        return ("initiative", initiative.pk)
    if department is not None:
        return ("department", department.pk)
    return None


def _crossings(draft: _Draft, department: Department) -> list[str]:
    """Why the decision crosses departments (empty: it stays within `department`)."""
    found: list[str] = []
    fields = draft.fields
    exception = fields["exception"]
    if exception is not None and exception.department_id != department.pk:
        found.append(f"it answers an exception of {exception.department}")
    for name, what in (("tradeoff_objective", "objective"), ("tradeoff_initiative", "initiative")):
        sacrificed = fields[name]
        if sacrificed is not None and sacrificed.department_id != department.pk:
            found.append(f"a trade-off on {sacrificed.department}'s {what} {sacrificed}")
    for line in draft.lines:
        for side, word in (("from", "from"), ("to", "to")):
            initiative = getattr(line, f"{side}_initiative")
            other = getattr(line, f"{side}_department")
            if initiative is not None and initiative.department_id != department.pk:
                found.append(f"a reallocation {word} {initiative.department}'s {initiative}")
            elif other is not None and other.pk != department.pk:
                found.append(f"a reallocation {word} {other}")
    return list(dict.fromkeys(found))


# --- Authority --------------------------------------------------------------------------------


def _ensure_may_propose(actor, department: Department) -> None:
    if not decision_perms.may_propose(actor, department.pk):
        raise PermissionDenied(
            f"You may not record decisions for {department}: its members (other than viewers), "
            "its leads, the PMO and executives may."
        )


def _refusal(department, crossings: list[str], *, verb: str = "decide this") -> str:
    if crossings:
        return (
            f"You may not {verb}: it crosses departments ({'; '.join(crossings)}), so only an "
            "executive may decide it. Record it as proposed for an executive to decide."
        )
    return (
        f"You may not {verb}: only a lead of {department}, the PMO or an executive may decide "
        f"{department}'s decisions. Record it as proposed for them to decide."
    )


def _ensure_may_decide(actor, department: Department, crossings: list[str], **kwargs) -> None:
    if not decision_perms.may_decide(
        actor, department_id=department.pk, cross_department=bool(crossings)
    ):
        raise PermissionDenied(_refusal(department, crossings, **kwargs))


def _stored_crossings(decision: Decision) -> list[str]:
    """For a stored decision: its flag, in words."""
    return ["see its trade-off and reallocations"] if decision.cross_department else []


# --- Writing ----------------------------------------------------------------------------------


def _decided_fields(actor, decision: Decision, decided_on: dt.date) -> None:
    decision.status = DecisionStatus.DECIDED
    decision.decided_by = actor
    decision.decided_by_name = chain.actor_name(actor)
    decision.decided_by_role = decision_perms.decider_role(
        actor, department_id=decision.department_id, cross_department=decision.cross_department
    )
    decision.decided_on = decided_on
    decision.decided_at = timezone.now()


def _decided_payload(decision: Decision, note: str = "") -> dict[str, Any]:
    return {"status": DecisionStatus.DECIDED, **chain.decided_block(decision), "note": note}


def _write(
    actor, draft: _Draft, *, decide: bool, decided_on: dt.date, supersedes: Decision | None
) -> Decision:
    decision = Decision(
        **draft.fields,
        status=DecisionStatus.PROPOSED,
        proposed_by=actor,
        proposed_by_name=chain.actor_name(actor),
        supersedes=supersedes,
        cross_department=bool(draft.crossings),
    )
    if decide:
        _decided_fields(actor, decision, decided_on)
    decision.full_clean()
    decision.save(force_insert=True)
    decision.kpis.set(draft.kpis)
    for line in draft.lines:
        line.decision = decision
        line.full_clean()
    Reallocation.objects.bulk_create(draft.lines)
    content = chain.decision_contents([decision.pk])[decision.pk]
    payload: dict[str, Any] = {"content": content}
    if decide:
        payload.update(_decided_payload(decision))
    else:
        payload["status"] = DecisionStatus.PROPOSED
    kind = LogEntryKind.DECISION_DECIDED if decide else LogEntryKind.DECISION_PROPOSED
    entry = chain.append(kind=kind, decision=decision, actor=actor, payload=payload)
    decision.hash = entry.hash
    decision.save(update_fields=["hash"])
    record(
        actor=actor,
        action=AuditAction.DECIDE if decide else AuditAction.PROPOSE,
        instance=decision,
        changes={
            "status": {"old": None, "new": decision.status},
            "kpis": {"old": None, "new": sorted(k.code for k in draft.kpis)},
            "chosen_option": {"old": None, "new": decision.chosen_option},
            "reallocations": {"old": None, "new": [_line_text(line) for line in draft.lines]},
        },
        reason=decision.rationale,
    )
    if decide and decision.exception_id is not None:
        exception_mark_decided(exception=decision.exception, decision=decision, actor=actor)
    return decision


def _line_text(line: Reallocation) -> str:
    source = line.from_initiative or line.from_department
    target = line.to_initiative or line.to_department
    return f"{line.amount} {line.get_unit_display()}: {source} → {target}"


def _decision_date(value, errors: FieldErrors, *, decide: bool) -> dt.date:
    """The decision's date: today when omitted (and for a proposed one, dated when decided);
    earlier is fine, later is not."""
    today = timezone.localdate()
    if not decide:
        return today
    decided_on = _date(value, "decided_on", errors)
    if decided_on is not None and decided_on > today:
        errors.add("decided_on", "A decision cannot be dated in the future.")
    return decided_on if decided_on is not None and decided_on <= today else today


@transaction.atomic
def decision_log(*, actor: Person, data: Mapping[str, Any], propose: bool = False) -> Decision:
    """Log a decision. `data`: title, context, options_considered, chosen_option, rationale,
    department (default: the exception's, initiative's or first KPI's), kpis (≥ 1), exception,
    initiative, contract, objective, tradeoff_objective / tradeoff_initiative /
    tradeoff_statement, expected_kpi / expected_kind / expected_value / review_date, decided_on
    (a decided one's date: default today, never later; a proposed one is dated when decided)
    and reallocations (a list of {from_initiative | from_department,
    to_initiative | to_department, amount, unit}); relations as instances or ids, among the rows
    the actor may see.

    Decided when the actor has authority (a lead of the department, the PMO, an executive; only
    an executive when it crosses departments), else refused (403) with who may decide; with
    `propose=True` it is recorded as proposed by anyone who may record decisions for the
    department."""
    return _log(actor=actor, data=data, propose=propose, supersedes=None)


def _log(
    *, actor: Person, data: Mapping[str, Any], propose: bool, supersedes: Decision | None
) -> Decision:
    department = visible(actor, Department, data.get("department"), "department", FieldErrors())
    if department is not None:
        _ensure_may_propose(actor, department)
    draft = _validate(actor, data, decide=not propose)
    _ensure_may_propose(actor, draft.department)
    if not propose:
        _ensure_may_decide(actor, draft.department, draft.crossings)
    decision = _write(
        actor, draft, decide=not propose, decided_on=draft.decided_on, supersedes=supersedes
    )
    _notify(actor, decision)
    return decision


def _locked(decision: Decision) -> Decision:
    found = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("department", "exception")
        .filter(pk=decision.pk)
        .first()
    )
    if found is None:
        raise ConflictError(f"Decision {decision.pk} no longer exists.", code="gone")
    return found


@transaction.atomic
def decision_decide(*, actor: Person, decision: Decision, note: str = "") -> Decision:
    """Take a proposed decision (someone with authority for it): decided today by the actor,
    logged with the note; its exception, if any and still open, moves to decided."""
    locked = _locked(decision)
    if not decision_perms.may_decide(
        actor, department_id=locked.department_id, cross_department=locked.cross_department
    ):
        raise PermissionDenied(_refusal(locked.department, _stored_crossings(locked)))
    if locked.status != DecisionStatus.PROPOSED:
        raise ConflictError(
            f"{locked} is {locked.get_status_display().lower()}; only a proposed decision can "
            "be decided.",
            code="not_proposed",
        )
    today = timezone.localdate()
    if locked.review_date is not None and locked.review_date <= today:
        raise ValidationError(
            {
                "review_date": (
                    f"Its review date ({locked.review_date:%d %b %Y}) is not after today: log a "
                    "new decision with a later review date instead."
                )
            }
        )
    _decided_fields(actor, locked, today)
    locked.save(
        update_fields=[
            "status", "decided_by", "decided_by_name", "decided_by_role", "decided_on",
            "decided_at",
        ]
    )  # fmt: skip
    note = (note or "").strip()
    chain.append(
        kind=LogEntryKind.DECISION_DECIDED,
        decision=locked,
        actor=actor,
        payload=_decided_payload(locked, note),
    )
    record(
        actor=actor,
        action=AuditAction.DECIDE,
        instance=locked,
        changes={"status": {"old": DecisionStatus.PROPOSED, "new": DecisionStatus.DECIDED}},
        reason=note,
    )
    if locked.exception_id is not None:
        exception_mark_decided(exception=locked.exception, decision=locked, actor=actor)
    _notify(actor, locked)
    return locked


@transaction.atomic
def decision_supersede(*, actor: Person, decision: Decision, data: Mapping[str, Any]) -> Decision:
    """Replace a decided decision by a new one (`data` as for `decision_log`), decided now by the
    actor: the new one names the old in `supersedes`, the old one becomes superseded (logged).
    The actor needs authority over both."""
    old = _locked(decision)
    if not decision_perms.may_decide(
        actor, department_id=old.department_id, cross_department=old.cross_department
    ):
        raise PermissionDenied(
            _refusal(old.department, _stored_crossings(old), verb="supersede it")
        )
    if old.status != DecisionStatus.DECIDED:
        raise ConflictError(
            f"{old} is {old.get_status_display().lower()}; only a decided decision can be "
            "superseded.",
            code="not_decided",
        )
    new = _log(actor=actor, data=data, propose=False, supersedes=old)
    old.status = DecisionStatus.SUPERSEDED
    old.save(update_fields=["status"])
    chain.append(
        kind=LogEntryKind.DECISION_SUPERSEDED,
        decision=old,
        actor=actor,
        payload={"status": DecisionStatus.SUPERSEDED, "superseded_by": new.pk},
    )
    record(
        actor=actor,
        action=AuditAction.SUPERSEDE,
        instance=old,
        changes={
            "status": {"old": DecisionStatus.DECIDED, "new": DecisionStatus.SUPERSEDED},
            "superseded_by": {"old": None, "new": str(new)},
        },
        reason=new.rationale,
    )
    return new


# --- Notices ----------------------------------------------------------------------------------


def _people(department_id: int, roles: Iterable[str]) -> set[int]:
    return set(
        Membership.objects.filter(department_id=department_id, role__in=list(roles)).values_list(
            "person_id", flat=True
        )
    )


def _executives() -> set[int]:
    return set(Membership.objects.filter(role=Role.EXECUTIVE).values_list("person_id", flat=True))


def _notify(actor: Person, decision: Decision) -> None:
    """Decided: tell the exception's owner and the department's leads. Proposed: tell those
    who may decide it (the department's leads, or the executives when it crosses departments).
    Never the actor."""
    link = reverse("decision-detail", args=[decision.pk])
    if decision.status == DecisionStatus.DECIDED:
        recipients = _people(decision.department_id, [Role.DEPARTMENT_LEAD])
        if decision.exception_id is not None and decision.exception.owner_id is not None:
            recipients.add(decision.exception.owner_id)
        kind, title = NotificationKind.DECISION_TAKEN, f"Decision taken: {decision.title}"
        body = f"{decision.decided_by_name} decided: {decision.chosen_option}"
    else:
        recipients = (
            _executives()
            if decision.cross_department
            else _people(decision.department_id, [Role.DEPARTMENT_LEAD])
        )
        kind, title = NotificationKind.DECISION_PROPOSED, f"Decision to take: {decision.title}"
        body = f"{decision.proposed_by_name} proposes: {decision.chosen_option}"
    if decision.exception_id is not None:
        body += f"\nIt answers the exception “{decision.exception.title}”."
    recipients.discard(actor.pk)
    if recipients:
        notify_many(
            [
                Notice(
                    recipients=recipients,
                    kind=kind,
                    title=title,
                    body=body,
                    link=link,
                    subject=decision,
                )
            ]
        )
