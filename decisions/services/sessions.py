"""Writes for the review sessions: plan one (its agenda is generated at once), change it while it
is planned (the agenda follows a new scope, date or share), regenerate its agenda, start it, walk
its agenda (log a decision on an item, defer it to an owner and a date, or note it), and close it
with the summary of its minutes. Once closed, nothing on it changes (409).

Who: the PMO and executives plan sessions; they and the session's chair run them
(`decisions.permissions`). A decision logged on an item goes through
`decisions.services.log.decision_log`, which keeps its own authority rules: someone who may not
decide it records it as proposed only when they say so (`propose`), else 403.

Every write is atomic, validates everything first (field messages, nothing written on a refusal)
and writes its audit event in the same transaction. The rules are in docs/review-sessions.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from decisions import selectors_sessions as selectors
from decisions.choices import AgendaItemKind, AgendaOutcome, SessionCadence, SessionStatus
from decisions.models import AgendaItem, ReviewSession
from decisions.services.log import decision_log
from decisions.services.validation import FieldErrors
from govern import permissions as perms
from govern.audit import diff, record, snapshot
from govern.choices import AuditAction
from govern.errors import ConflictError
from govern.models import Department, Person

SESSION_FIELDS = (
    "title", "cadence", "scheduled_for", "departments", "attendees", "chair", "agenda_share",
)  # fmt: skip
# A change to one of these regenerates a generated agenda (the session is still planned).
AGENDA_FIELDS = ("scheduled_for", "departments", "agenda_share")
MAX_TITLE = 200
MAX_NOTE = 4000
MAX_SUMMARY = 20000
SHARE_MESSAGE = "The agenda share must be more than 0 and at most 1 (0.2: the worst 20%)."
# The decision fields an item's decision may carry; the item sets exception, contract and the
# session itself.
DECISION_FIELDS = (
    "title", "context", "options_considered", "chosen_option", "rationale", "department",
    "kpis", "initiative", "objective", "tradeoff_objective", "tradeoff_initiative",
    "tradeoff_statement", "expected_kpi", "expected_kind", "expected_value", "review_date",
    "decided_on", "reallocations",
)  # fmt: skip


# --- Validation -------------------------------------------------------------------------------


def _pk(value) -> int | None:
    if isinstance(value, models.Model):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _visible_one(actor, model, value, name: str, errors: FieldErrors, *, what: str):
    if value in (None, ""):
        return None
    pk = _pk(value)
    found = model.objects.restrict(actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        errors.add(name, f"No {what} {value} that you may see.")
    return found


def _visible_many(actor, model, values, name: str, errors: FieldErrors, *, what: str) -> list:
    if values in (None, ""):
        return []
    if isinstance(values, str | int | models.Model):
        values = [values]
    pks: list[int] = []
    for value in values:
        pk = _pk(value)
        if pk is None:
            errors.add(name, f"{value!r} is not a {what} id.")
        else:
            pks.append(pk)
    found = {obj.pk: obj for obj in model.objects.restrict(actor).filter(pk__in=pks)}
    for pk in dict.fromkeys(pks):
        if pk not in found:
            errors.add(name, f"No {what} {pk} that you may see.")
    return [found[pk] for pk in dict.fromkeys(pks) if pk in found]


def _scheduled(value, errors: FieldErrors) -> dt.datetime | None:
    if value in (None, ""):
        errors.add("scheduled_for", "Say when the session is held.")
        return None
    moment = value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        moment = dt.datetime.combine(value, dt.time(9, 0))
    elif not isinstance(value, dt.datetime):
        moment = parse_datetime(str(value).strip())
        if moment is None:
            try:
                day = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                errors.add(
                    "scheduled_for", f"Enter a date and time (YYYY-MM-DDTHH:MM); got {value!r}."
                )
                return None
            moment = dt.datetime.combine(day, dt.time(9, 0))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _share(value, errors: FieldErrors) -> float | None:
    if value in (None, ""):
        return float(settings.GOVERN_AGENDA_SHARE)
    try:
        share = float(value)
    except (TypeError, ValueError):
        errors.add("agenda_share", SHARE_MESSAGE)
        return None
    if not math.isfinite(share) or not 0 < share <= 1:
        errors.add("agenda_share", SHARE_MESSAGE)
        return None
    return share


def _clean_session(
    actor, data: Mapping[str, Any], *, session: ReviewSession | None
) -> tuple[dict[str, Any], dict[str, list]]:
    """The validated fields and many-to-many values of a session to create (`session` None:
    every field) or to change (only the fields in `data`)."""
    errors = FieldErrors()
    unknown = sorted(set(data) - set(SESSION_FIELDS))
    if unknown:
        errors.add("non_field_errors", f"Unknown fields: {', '.join(unknown)}.")
    creating = session is None
    given = set(SESSION_FIELDS) if creating else set(data)
    fields: dict[str, Any] = {}
    m2m: dict[str, list] = {}
    if "cadence" in given:
        cadence = str(data.get("cadence") or "")
        if cadence not in SessionCadence.values:
            errors.add("cadence", "Choose the cadence: " + ", ".join(SessionCadence.values) + ".")
        fields["cadence"] = cadence
    if "scheduled_for" in given:
        moment = _scheduled(data.get("scheduled_for"), errors)
        if moment is not None:
            unchanged = session is not None and moment == session.scheduled_for
            if timezone.localdate(moment) < timezone.localdate() and not unchanged:
                errors.add("scheduled_for", "A session is planned for today or later.")
            fields["scheduled_for"] = moment
    if "title" in given:
        title = str(data.get("title") or "").strip()
        if len(title) > MAX_TITLE:
            errors.add("title", f"Keep the title within {MAX_TITLE} characters.")
        fields["title"] = title
    if "agenda_share" in given:
        fields["agenda_share"] = _share(data.get("agenda_share"), errors)
    if "departments" in given:
        m2m["departments"] = _visible_many(
            actor, Department, data.get("departments"), "departments", errors, what="department"
        )
    if "attendees" in given:
        m2m["attendees"] = _visible_many(
            actor, Person, data.get("attendees"), "attendees", errors, what="person"
        )
        inactive = [str(p) for p in m2m["attendees"] if not p.is_active]
        if inactive:
            errors.add("attendees", f"Inactive people cannot attend: {', '.join(inactive)}.")
    if "chair" in given:
        chair = _visible_one(actor, Person, data.get("chair"), "chair", errors, what="person")
        if data.get("chair") in (None, ""):
            chair = actor  # "me": whoever plans or changes the session
        if chair is not None and not chair.is_active:
            errors.add("chair", f"{chair} is inactive and cannot chair the session.")
        fields["chair"] = chair
    errors.raise_any()
    if "title" in fields and not fields["title"]:
        cadence = fields.get("cadence") or session.cadence
        moment = fields.get("scheduled_for") or session.scheduled_for
        label = SessionCadence(cadence).label
        fields["title"] = f"{label}, {timezone.localtime(moment):%d %b %Y}"
    return fields, m2m


def _state(session: ReviewSession) -> dict[str, Any]:
    """The audited values: the model's audit fields, the scope and the attendees by name."""
    return {
        **snapshot(session),
        "departments": sorted(d.name for d in session.departments.all()),
        "attendees": sorted(str(p) for p in session.attendees.all()),
    }


# --- State checks -----------------------------------------------------------------------------


def _locked(session: ReviewSession) -> ReviewSession:
    found = ReviewSession.objects.select_for_update().filter(pk=session.pk).first()
    if found is None:
        raise ConflictError(f"Review session {session.pk} no longer exists.", code="gone")
    return found


def _ensure_open(session: ReviewSession) -> None:
    if session.status == SessionStatus.CLOSED:
        raise ConflictError(
            f"“{session}” is closed: its minutes are final and nothing on it changes.",
            code="session_closed",
        )


def _ensure_planned(session: ReviewSession, doing: str) -> None:
    _ensure_open(session)
    if session.status != SessionStatus.PLANNED:
        raise ConflictError(
            f"“{session}” has started: {doing} only while it is planned.",
            code="session_started",
        )


def _ensure_in_progress(session: ReviewSession, doing: str) -> None:
    _ensure_open(session)
    if session.status != SessionStatus.IN_PROGRESS:
        raise ConflictError(
            f"“{session}” has not started yet: start it to {doing}.", code="session_not_started"
        )


def _ensure_may_run(actor, session: ReviewSession) -> None:
    if not perms.allowed(actor, perms.CHANGE, session):
        raise PermissionDenied(
            f"You may not run “{session}”: the PMO, executives and its chair run a session."
        )


# --- Sessions ---------------------------------------------------------------------------------


@transaction.atomic
def session_create(*, actor: Person, data: Mapping[str, Any]) -> ReviewSession:
    """Plan a session. `data`: title (default: the cadence and the date), cadence,
    scheduled_for (today or later), departments (the scope; none: the whole organisation),
    attendees, chair (default: the actor; always an attendee), agenda_share (default
    `GOVERN_AGENDA_SHARE`). Its agenda is generated at once."""
    if not perms.can_add(actor, ReviewSession):
        raise PermissionDenied("Only the PMO and executives plan review sessions.")
    fields, m2m = _clean_session(actor, data, session=None)
    session = ReviewSession(**fields, created_by=actor)
    session.full_clean()
    session.save()
    attendees = list(dict.fromkeys([*m2m["attendees"], fields["chair"]]))
    session.departments.set(m2m["departments"])
    session.attendees.set(attendees)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=session,
        changes={name: {"old": None, "new": value} for name, value in _state(session).items()},
    )
    _generate(actor, session)
    return session


@transaction.atomic
def session_update(
    *, actor: Person, session: ReviewSession, data: Mapping[str, Any]
) -> ReviewSession:
    """Change a planned session (only the fields in `data`). A generated agenda is generated
    again when the date, the scope or the share changes."""
    _ensure_may_run(actor, session)
    locked = _locked(session)
    _ensure_planned(locked, "its scope, date and attendees change")
    fields, m2m = _clean_session(actor, data, session=locked)
    before = _state(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    if "departments" in m2m:
        locked.departments.set(m2m["departments"])
    if "attendees" in m2m or "chair" in fields:
        attendees = m2m.get("attendees", list(locked.attendees.all()))
        locked.attendees.set(list(dict.fromkeys([*attendees, locked.chair])))
    after = _state(locked)
    changes = diff(before, after)
    if changes:
        record(actor=actor, action=AuditAction.UPDATE, instance=locked, changes=changes)
    if locked.agenda_generated_at is not None and set(changes) & set(AGENDA_FIELDS):
        _generate(actor, locked)
    return locked


@transaction.atomic
def session_generate_agenda(*, actor: Person, session: ReviewSession) -> ReviewSession:
    """Generate the agenda again from what is open now (planned sessions only): the items are
    replaced by the current candidates."""
    _ensure_may_run(actor, session)
    locked = _locked(session)
    _ensure_planned(locked, "its agenda is generated")
    _generate(actor, locked)
    return locked


def _generate(actor, session: ReviewSession) -> list[AgendaItem]:
    """Snapshot the candidates into agenda items: the top exceptions by rank, then the decisions
    due for review, then the contracts at risk (positions 1, 2, …)."""
    candidates = selectors.agenda_candidates(
        department_ids=selectors.session_department_ids(session),
        on=timezone.localdate(session.scheduled_for),
        share=session.agenda_share,
    )
    items: list[AgendaItem] = []

    def add(**values) -> None:
        values["title"] = values["title"][:255]
        items.append(AgendaItem(session=session, position=len(items) + 1, **values))

    for row in candidates.exceptions:
        add(
            kind=AgendaItemKind.EXCEPTION,
            exception_id=row["id"],
            title=row["title"],
            department_id=row["department_id"],
            severity=row["severity"],
            action_owner_id=row["owner_id"],
        )
    for row in candidates.decisions:
        add(
            kind=AgendaItemKind.DECISION_REVIEW,
            decision_id=row["id"],
            title=selectors.decision_item_title(row),
            department_id=row["department_id"],
            action_owner_id=row["decided_by_id"],
        )
    for row in candidates.contracts:
        add(
            kind=AgendaItemKind.CONTRACT_AT_RISK,
            contract_id=row["id"],
            title=selectors.contract_item_title(row),
            department_id=row["provider_department_id"],
            severity=row["open_severity"],
            action_owner_id=row["provider_owner_id"],
        )
    replaced = AgendaItem.objects.filter(session=session).count()
    AgendaItem.objects.filter(session=session).delete()
    AgendaItem.objects.bulk_create(items)
    session.agenda_generated_at = timezone.now()
    session.save(update_fields=["agenda_generated_at", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=session,
        changes={
            "agenda": {
                "old": f"{replaced} items" if replaced else None,
                "new": agenda_summary(
                    exceptions=len(candidates.exceptions),
                    open_exceptions=candidates.open_exceptions,
                    decisions=len(candidates.decisions),
                    contracts=len(candidates.contracts),
                ),
            }
        },
        reason="Agenda generated",
    )
    return items


@transaction.atomic
def session_start(*, actor: Person, session: ReviewSession) -> ReviewSession:
    """Start walking the agenda: planned → in progress. The agenda is fixed from now on."""
    _ensure_may_run(actor, session)
    locked = _locked(session)
    _ensure_planned(locked, "a session starts")
    if locked.agenda_generated_at is None:
        raise ConflictError(f"“{locked}” has no agenda yet: generate it first.", code="no_agenda")
    locked.status = SessionStatus.IN_PROGRESS
    locked.started_at = timezone.now()
    locked.save(update_fields=["status", "started_at", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        changes={"status": {"old": SessionStatus.PLANNED, "new": SessionStatus.IN_PROGRESS}},
        reason="Session started",
    )
    return locked


@transaction.atomic
def session_close(*, actor: Person, session: ReviewSession, summary: str) -> ReviewSession:
    """Close a session in progress with the summary of its minutes: the minutes are final, and
    nothing on the session changes afterwards. Items still pending stay pending in them."""
    _ensure_may_run(actor, session)
    locked = _locked(session)
    _ensure_in_progress(locked, "close it")
    summary = str(summary or "").strip()
    if not summary:
        raise ValidationError({"minutes_summary": "Summarise the session for its minutes."})
    if len(summary) > MAX_SUMMARY:
        raise ValidationError(
            {"minutes_summary": f"Keep the summary within {MAX_SUMMARY} characters."}
        )
    locked.status = SessionStatus.CLOSED
    locked.closed_at = timezone.now()
    locked.minutes_summary = summary
    locked.save(update_fields=["status", "closed_at", "minutes_summary", "updated_at"])
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=locked,
        changes={"status": {"old": SessionStatus.IN_PROGRESS, "new": SessionStatus.CLOSED}},
        reason=summary[:2000],
    )
    return locked


# --- Walking the agenda -----------------------------------------------------------------------


def _item_locked(actor, item: AgendaItem, doing: str) -> tuple[ReviewSession, AgendaItem]:
    """The item's session (gated, locked, in progress) and the item, locked; a decided item is
    not changed again."""
    _ensure_may_run(actor, item.session)
    session = _locked(item.session)
    _ensure_in_progress(session, doing)
    locked = (
        AgendaItem.objects.select_for_update(of=("self",))
        .select_related("exception", "contract", "outcome_decision")
        .filter(pk=item.pk, session=session)
        .first()
    )
    if locked is None:
        raise ConflictError("This agenda item no longer exists.", code="gone")
    if locked.outcome == AgendaOutcome.DECIDED:
        raise ConflictError(
            f"“{locked.title}” was decided in this session (D-{locked.outcome_decision_id}); a "
            "correction supersedes that decision.",
            code="item_decided",
        )
    locked.session = session
    return session, locked


def _item_record(actor, item: AgendaItem, old: dict[str, Any], reason: str = "") -> None:
    record(
        actor=actor,
        action=AuditAction.DECIDE if item.outcome == AgendaOutcome.DECIDED else AuditAction.UPDATE,
        instance=item,
        changes=diff(old, _item_state(item)),
        reason=reason,
    )


def _item_state(item: AgendaItem) -> dict[str, Any]:
    return {
        "outcome": item.outcome,
        "owner": str(item.action_owner) if item.action_owner_id else None,
        "deferred_to": item.deferred_to.isoformat() if item.deferred_to else None,
        "note": item.note,
        "decision": str(item.outcome_decision) if item.outcome_decision_id else None,
    }


def _note(value, errors: FieldErrors) -> str:
    note = str(value or "").strip()
    if len(note) > MAX_NOTE:
        errors.add("note", f"Keep the note within {MAX_NOTE} characters.")
    return note


def _decision_data(session: ReviewSession, item: AgendaItem, data: Mapping[str, Any]) -> dict:
    """The decision to log for `item`: what was given, the rest defaulted from the item."""
    unknown = sorted(set(data) - set(DECISION_FIELDS))
    if unknown:
        raise ValidationError({"non_field_errors": f"Unknown fields: {', '.join(unknown)}."})
    chosen = str(data.get("chosen_option") or "").strip()
    when = timezone.localtime(session.scheduled_for)
    context = f"{item.get_kind_display()} on the agenda of “{session}” ({when:%d %b %Y}): "
    context += item.title + "."
    if item.exception is not None and item.exception.detail:
        context += "\n" + item.exception.detail
    decision: dict[str, Any] = {
        "title": data.get("title"),
        "chosen_option": chosen,
        "rationale": data.get("rationale"),
        "context": str(data.get("context") or "").strip() or context,
        "options_considered": str(data.get("options_considered") or "").strip()
        or (
            f"Discussed in the session; chosen: {chosen}" if chosen else "Discussed in the session"
        ),
        "department": data.get("department") or item.department_id,
        "kpis": list(data.get("kpis") or selectors.default_outcome_kpis(item)),
        "exception": item.exception_id,
        "contract": item.contract_id,
        "review_session": session.pk,
        "reallocations": list(data.get("reallocations") or []),
    }
    for name in DECISION_FIELDS:
        if name not in decision and data.get(name) not in (None, ""):
            decision[name] = data[name]
    return decision


@transaction.atomic
def agenda_item_decide(
    *, actor: Person, item: AgendaItem, data: Mapping[str, Any], propose: bool = False
) -> AgendaItem:
    """Log a decision on the item, in the session: through `decision_log` with the session, the
    item's exception (which moves to decided) or contract, and by default the item's department
    and KPIs (the exception's KPI), a context naming the session and the options as discussed.
    `data`: the decision's fields as for `decision_log` (title, chosen_option and rationale at
    least). Someone who may not decide it gets 403 with who may, unless `propose`: then it is
    recorded as proposed. The item is decided, naming the decision."""
    session, locked = _item_locked(actor, item, "decide its agenda items")
    old = _item_state(locked)
    decision = decision_log(
        actor=actor, data=_decision_data(session, locked, data), propose=propose
    )
    locked.outcome = AgendaOutcome.DECIDED
    locked.outcome_decision = decision
    locked.deferred_to = None
    locked.save(update_fields=["outcome", "outcome_decision", "deferred_to", "updated_at"])
    _item_record(actor, locked, old, reason=decision.chosen_option[:2000])
    return _reloaded(locked)


@transaction.atomic
def agenda_item_defer(
    *, actor: Person, item: AgendaItem, owner, deferred_to, note: str = ""
) -> AgendaItem:
    """Defer the item to an owner (a person the actor may see) and a date after the session,
    with an optional note."""
    session, locked = _item_locked(actor, item, "defer its agenda items")
    errors = FieldErrors()
    person = None
    if owner in (None, ""):
        errors.add("owner", "Name who owns the deferred item.")
    else:
        person = _visible_one(actor, Person, owner, "owner", errors, what="person")
        if person is not None and not person.is_active:
            errors.add("owner", f"{person} is inactive and cannot own it.")
    day = None
    if deferred_to in (None, ""):
        errors.add("deferred_to", "Say by when it comes back.")
    elif isinstance(deferred_to, dt.datetime):
        day = (
            timezone.localdate(deferred_to)
            if timezone.is_aware(deferred_to)
            else deferred_to.date()
        )
    elif isinstance(deferred_to, dt.date):
        day = deferred_to
    else:
        try:
            day = dt.date.fromisoformat(str(deferred_to).strip())
        except ValueError:
            errors.add("deferred_to", f"Enter a date as YYYY-MM-DD; got {deferred_to!r}.")
    held_on = timezone.localdate(session.scheduled_for)
    if day is not None and day <= held_on:
        errors.add("deferred_to", f"Defer it to a date after the session ({held_on:%d %b %Y}).")
    text = _note(note, errors)
    errors.raise_any()
    old = _item_state(locked)
    locked.outcome = AgendaOutcome.DEFERRED
    locked.action_owner = person
    locked.deferred_to = day
    locked.note = text
    locked.save(update_fields=["outcome", "action_owner", "deferred_to", "note", "updated_at"])
    _item_record(actor, locked, old, reason=text)
    return _reloaded(locked)


@transaction.atomic
def agenda_item_note(*, actor: Person, item: AgendaItem, note: str = "") -> AgendaItem:
    """Note the item: discussed, no decision needed (an optional note says why)."""
    _session, locked = _item_locked(actor, item, "note its agenda items")
    errors = FieldErrors()
    text = _note(note, errors)
    errors.raise_any()
    old = _item_state(locked)
    locked.outcome = AgendaOutcome.NOTED
    locked.deferred_to = None
    locked.note = text
    locked.save(update_fields=["outcome", "deferred_to", "note", "updated_at"])
    _item_record(actor, locked, old, reason=text)
    return _reloaded(locked)


def _reloaded(item: AgendaItem) -> AgendaItem:
    return selectors.agenda_items(session=item.session).select_related("session").get(pk=item.pk)


def agenda_summary(*, exceptions: int, open_exceptions: int, decisions: int, contracts: int) -> str:
    """What a generated agenda holds, as its audit event says it: "3 of 15 open exceptions,
    1 decision due for review, 2 contracts at risk"."""
    return (
        f"{exceptions} of {_count(open_exceptions, 'open exception')}, "
        f"{_count(decisions, 'decision')} due for review, {_count(contracts, 'contract')} at risk"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
