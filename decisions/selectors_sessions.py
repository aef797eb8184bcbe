"""Reads for the review sessions: the sessions a user may see (upcoming first, then past), one
session through the gate, its agenda with everything the page shows loaded in a fixed number of
queries, the candidates a generated agenda is made of, and the minutes.

The agenda candidates are three set-based queries whatever the organisation's size: the open
exceptions in the session's scope (ranked and cut by `decisions.engine.agenda`), the decisions
due for their effectiveness review and the contracts at risk or breached. The rules are in
docs/review-sessions.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from decisions import filtersets_sessions
from decisions.choices import AgendaItemKind, AgendaOutcome, DecisionStatus, Effectiveness
from decisions.choices import SessionStatus as S
from decisions.engine import agenda as engine
from decisions.models import AgendaItem, Decision, Reallocation, ReviewSession
from dependencies.choices import ContractStatus
from dependencies.models import Contract
from govern import permissions as perms
from govern.models import Department, Person
from govern.selectors import apply_filters, count_related
from kpis.choices import ExceptionKind, ExceptionStatus
from kpis.models import KpiException

LINE_RELATED = ("from_initiative", "from_department", "to_initiative", "to_department")
ITEM_RELATED = (
    "department", "action_owner", "exception", "exception__owner", "decision", "contract",
    "outcome_decision",
)  # fmt: skip
# Alignment exceptions are about a named leader's scores, governance exceptions (target-gaming
# signals) about how a department plans and reports: both are for the PMO and executives only,
# never on an agenda that every attendee reads.
NOT_ON_AGENDA = (ExceptionKind.ALIGNMENT, ExceptionKind.GOVERNANCE)
AT_RISK = (ContractStatus.AT_RISK, ContractStatus.BREACHED)

# What a user may do with a session now (`session_actions`): the pages show these buttons.
EDIT, GENERATE, START, WALK, CLOSE = "edit", "generate", "start", "walk", "close"


# --- Sessions ---------------------------------------------------------------------------------


def _start_of_today() -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))


def upcoming_q() -> Q:
    """Sessions still ahead: not closed and scheduled today or later."""
    return Q(scheduled_for__gte=_start_of_today()) & ~Q(status=S.CLOSED)


def _people() -> Prefetch:
    return Prefetch("attendees", queryset=Person.objects.order_by("last_name", "first_name"))


def _departments() -> Prefetch:
    return Prefetch("departments", queryset=Department.objects.order_by("name"))


def session_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[ReviewSession]:
    """The sessions the user may see: upcoming ones first (soonest first), then past ones
    (latest first), with their chair, scope and agenda counts loaded (a fixed number of queries
    per page). Filters: `cadence`, `status`, `department`, `q`."""
    upcoming = upcoming_q()
    items = AgendaItem.objects.all()
    queryset = (
        ReviewSession.objects.restrict(user)
        .select_related("chair")
        .prefetch_related(_departments())
        .annotate(
            is_past=Case(When(upcoming, then=Value(0)), default=Value(1)),
            upcoming_at=Case(When(upcoming, then=F("scheduled_for"))),
            past_at=Case(When(~upcoming, then=F("scheduled_for"))),
            item_count=count_related(items, "session_id"),
            pending_count=count_related(items.filter(outcome=AgendaOutcome.PENDING), "session_id"),
            decided_count=count_related(items.filter(outcome=AgendaOutcome.DECIDED), "session_id"),
        )
        .order_by(
            "is_past",
            F("upcoming_at").asc(nulls_last=True),
            F("past_at").desc(nulls_last=True),
            "-id",
        )
    )
    return apply_filters(filtersets_sessions.ReviewSessionFilterSet, queryset, filters, user=user)


def session_get(*, user, pk, for_write: bool = False) -> ReviewSession:
    """One session through the gate: 404 when the user may not see it, 403 (`for_write`) when
    they may not run it (the PMO, executives and its chair run it)."""
    queryset = ReviewSession.objects.select_related("chair", "created_by").prefetch_related(
        _departments(), _people()
    )
    return perms.access(ReviewSession, user, pk, for_write=for_write, queryset=queryset)


def session_actions(user, session: ReviewSession) -> set[str]:
    """What `user` may do with `session` now, given its status: EDIT, GENERATE and START while
    planned, WALK (decide, defer, note items) and CLOSE while in progress; nothing once closed."""
    if not perms.allowed(user, perms.CHANGE, session):
        return set()
    if session.status == S.PLANNED:
        return {EDIT, GENERATE, START}
    if session.status == S.IN_PROGRESS:
        return {WALK, CLOSE}
    return set()


def session_department_ids(session: ReviewSession) -> list[int]:
    """The session's scope as department ids (empty: the whole organisation)."""
    return sorted(d.pk for d in session.departments.all())


# --- The agenda -------------------------------------------------------------------------------


def _outcome_lines() -> Prefetch:
    return Prefetch(
        "outcome_decision__reallocations",
        queryset=Reallocation.objects.select_related(*LINE_RELATED).order_by("id"),
    )


def agenda_items(*, session: ReviewSession) -> QuerySet[AgendaItem]:
    """The session's agenda in order (the session gated by the caller), with the subjects, the
    owners, the decision logged for each item and its reallocation lines loaded."""
    return (
        AgendaItem.objects.filter(session=session)
        .select_related(*ITEM_RELATED)
        .prefetch_related(_outcome_lines())
        .order_by("position")
    )


def agenda_item_get(*, user, session: ReviewSession, pk) -> AgendaItem:
    """One item of the session's agenda (the session gated by the caller): 404 otherwise."""
    return perms.access(
        AgendaItem, user, pk, queryset=agenda_items(session=session).select_related("session")
    )


def visible_subjects(user, items: Iterable[AgendaItem]) -> dict[str, set[int]]:
    """Which items' subjects the reader may open (the others are named without a link): one
    query per kind of subject, none for someone who reads everything."""
    items = list(items)
    wanted = {
        "exception": (KpiException, {i.exception_id for i in items} - {None}),
        "decision": (
            Decision,
            {pk for i in items for pk in (i.decision_id, i.outcome_decision_id)} - {None},
        ),
        "contract": (Contract, {i.contract_id for i in items} - {None}),
    }
    reads_everything = perms.scope_for(user).reads_everything
    visible: dict[str, set[int]] = {}
    for name, (model, pks) in wanted.items():
        if not pks or reads_everything:
            visible[name] = pks
        else:
            rows = model.objects.restrict(user).filter(pk__in=pks)
            visible[name] = set(rows.values_list("pk", flat=True))
    return visible


@dataclass(frozen=True)
class AgendaCandidates:
    """What a generated agenda is made of, in agenda order."""

    exceptions: list[dict]  # the top share of the open exceptions, worst first
    open_exceptions: int  # how many open exceptions are in scope
    decisions: list[dict]  # due for their effectiveness review
    contracts: list[dict]  # at risk or breached


def _in_scope(department_ids: list[int], *names: str) -> Q:
    if not department_ids:
        return Q()
    condition = Q()
    for name in names:
        condition |= Q(**{f"{name}__in": department_ids})
    return condition


def agenda_candidates(*, department_ids: list[int], on: dt.date, share: float) -> AgendaCandidates:
    """The candidates for a session scoped to `department_ids` (empty: the whole organisation)
    held on `on`, in three queries: the open exceptions (not resolved; alignment and governance
    exceptions excluded) ranked by severity and cut to the top `share`; the decided decisions whose
    effectiveness is still pending with a review date on or before `on`; the contracts at risk
    or breached whose provider or consumer is in scope, breached first, then the most critical,
    unless the contract's own exception made the agenda."""
    exceptions = list(
        KpiException.objects.exclude(status=ExceptionStatus.RESOLVED)
        .exclude(kind__in=NOT_ON_AGENDA)
        .filter(_in_scope(department_ids, "department_id"))
        .order_by()
        .values("id", "title", "severity", "opened_at", "department_id", "owner_id", "contract_id")
    )
    by_id = {row["id"]: row for row in exceptions}
    chosen = engine.top_exceptions(
        (engine.Candidate(r["id"], r["severity"], r["opened_at"]) for r in exceptions), share
    )
    decisions = list(
        Decision.objects.filter(
            _in_scope(department_ids, "department_id"),
            status=DecisionStatus.DECIDED,
            effectiveness=Effectiveness.PENDING,
            review_date__lte=on,
        )
        .order_by("review_date", "id")
        .values("id", "title", "review_date", "department_id", "decided_by_id")
    )
    worst_open = (
        KpiException.objects.filter(contract_id=OuterRef("pk"))
        .exclude(status=ExceptionStatus.RESOLVED)
        .order_by("-severity")
        .values("severity")[:1]
    )
    contracts = list(
        Contract.objects.filter(
            _in_scope(department_ids, "provider_department_id", "consumer_department_id"),
            status__in=AT_RISK,
        )
        .annotate(
            open_severity=Subquery(worst_open),
            breached_first=Case(
                When(status=ContractStatus.BREACHED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("breached_first", "-criticality", "code")
        .values(
            "id",
            "code",
            "title",
            "status",
            "provider_department_id",
            "provider_owner_id",
            "open_severity",
        )
    )
    # A contract whose exception already made the agenda is discussed there, not twice.
    discussed = {by_id[c.id]["contract_id"] for c in chosen} - {None}
    return AgendaCandidates(
        exceptions=[by_id[c.id] for c in chosen],
        open_exceptions=len(exceptions),
        decisions=decisions,
        contracts=[row for row in contracts if row["id"] not in discussed],
    )


def contract_item_title(row: Mapping[str, Any]) -> str:
    state = dict(ContractStatus.choices)[row["status"]].lower()
    return f"{row['code']} {state}: {row['title']}"


def decision_item_title(row: Mapping[str, Any]) -> str:
    return f"D-{row['id']}: {row['title']} (effect due {row['review_date']:%d %b %Y})"


def default_outcome_kpis(item: AgendaItem) -> list[int]:
    """The KPIs a decision logged on `item` is meant to move unless told otherwise: the
    exception's KPI (a contract exception: the contract's service-level KPI), the reviewed
    decision's outcomes, the contract's service-level KPI."""
    if item.kind == AgendaItemKind.EXCEPTION and item.exception is not None:
        exception = item.exception
        if exception.kpi_id:
            return [exception.kpi_id]
        if exception.contract_id:
            kpi = Contract.objects.filter(pk=exception.contract_id).values("service_kpi_id")
            return [pk for pk in kpi.values_list("service_kpi_id", flat=True) if pk]
        return []
    if item.kind == AgendaItemKind.DECISION_REVIEW and item.decision_id:
        return list(
            Decision.kpis.through.objects.filter(decision_id=item.decision_id)
            .order_by("kpi_id")
            .values_list("kpi_id", flat=True)
        )
    if item.kind == AgendaItemKind.CONTRACT_AT_RISK and item.contract is not None:
        return [item.contract.service_kpi_id] if item.contract.service_kpi_id else []
    return []


# --- The minutes ------------------------------------------------------------------------------


@dataclass
class Minutes:
    """What the session made of its agenda: decided (with the decision, its owner and its
    reallocations), deferred (owner and date), noted, and still pending."""

    session: ReviewSession
    items: list[AgendaItem]
    decided: list[AgendaItem] = field(default_factory=list)
    deferred: list[AgendaItem] = field(default_factory=list)
    noted: list[AgendaItem] = field(default_factory=list)
    pending: list[AgendaItem] = field(default_factory=list)

    @property
    def reallocations(self) -> list[Reallocation]:
        return [
            line
            for item in self.decided
            if item.outcome_decision is not None
            for line in item.outcome_decision.reallocations.all()
        ]


def session_minutes(
    *, session: ReviewSession, items: Iterable[AgendaItem] | None = None
) -> Minutes:
    """The minutes of `session` (gated by the caller), from its agenda (`items` when the caller
    has loaded them already)."""
    loaded = list(items if items is not None else agenda_items(session=session))
    minutes = Minutes(session=session, items=loaded)
    groups = {
        AgendaOutcome.DECIDED: minutes.decided,
        AgendaOutcome.DEFERRED: minutes.deferred,
        AgendaOutcome.NOTED: minutes.noted,
        AgendaOutcome.PENDING: minutes.pending,
    }
    for item in loaded:
        groups[item.outcome].append(item)
    return minutes
