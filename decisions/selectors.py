"""Reads for the decision log. Each selector scopes rows to the requesting user
(`decisions.permissions`) and owns its joins, so lists run a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from decisions import chain, filtersets
from decisions import permissions as decision_perms
from decisions.choices import DecisionStatus
from decisions.models import Decision, LogEntry, Reallocation
from govern import permissions as perms
from govern.selectors import apply_filters
from kpis.models import KpiException

DECISION_RELATED = (
    "department", "exception", "initiative", "contract", "objective", "tradeoff_objective",
    "tradeoff_objective__department", "tradeoff_initiative", "tradeoff_initiative__department",
    "expected_kpi", "proposed_by", "decided_by", "supersedes", "superseded_by",
)  # fmt: skip
LINE_RELATED = ("from_initiative", "from_department", "to_initiative", "to_department")

# What a user may do with a decision (`decision_actions`): the pages show these buttons.
DECIDE = "decide"  # take a proposed decision (someone with authority)
SUPERSEDE = "supersede"  # replace a decided one by a new decision (someone with authority)

CHAIN_STATUS_KEY = "decisions:chain-status:{sequence}"
CHAIN_STATUS_TTL = 300  # seconds: a row altered behind the services shows within five minutes


def _reallocations() -> Prefetch:
    return Prefetch(
        "reallocations",
        queryset=Reallocation.objects.select_related(*LINE_RELATED).order_by("id"),
    )


def _with_related(queryset: QuerySet[Decision]) -> QuerySet[Decision]:
    return queryset.select_related(*DECISION_RELATED).prefetch_related("kpis", _reallocations())


def decision_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Decision]:
    """The decisions the user may see, newest first, with their links, outcomes (KPIs) and
    reallocation lines loaded (a fixed number of queries per page). Filters: `department`,
    `status`, `effectiveness`, `kpi`, `exception`, `cross_department`, `q` (see
    `decisions.filtersets.DecisionFilterSet`)."""
    queryset = _with_related(Decision.objects.restrict(user)).order_by("-created_at", "-id")
    return apply_filters(filtersets.DecisionFilterSet, queryset, filters, user=user)


def decision_get(*, user, pk) -> Decision:
    """One decision through the gate: 404 when the user may not see it."""
    return perms.access(Decision, user, pk, queryset=_with_related(Decision.objects.all()))


def decisions_for_exception(*, user, exception: KpiException) -> QuerySet[Decision]:
    """The decisions answering `exception` (gated by the caller) that the user may see, newest
    first, with their reallocation lines (for the exception page)."""
    return decision_list(user=user).filter(exception=exception)


def decision_log_entries(*, user, decision: Decision) -> QuerySet[LogEntry]:
    """The decision's entries in the hash chain, oldest first (the decision gated by the
    caller)."""
    return LogEntry.objects.restrict(user).filter(decision=decision).select_related("actor")


def decision_actions(user, decision: Decision) -> set[str]:
    """What `user` may do with `decision` now: DECIDE (it is proposed) or SUPERSEDE (it is
    decided), given the authority rules. No queries beyond the user's scope."""
    may = decision_perms.may_decide(
        user, department_id=decision.department_id, cross_department=decision.cross_department
    )
    if not may:
        return set()
    if decision.status == DecisionStatus.PROPOSED:
        return {DECIDE}
    if decision.status == DecisionStatus.DECIDED:
        return {SUPERSEDE}
    return set()


def may_log(user, department_id: int | None) -> bool:
    """May `user` record decisions for this department (as proposed, at least)?"""
    return decision_perms.may_propose(user, department_id)


# --- The chain's state, for the log page ----------------------------------------------------


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    checked: int  # log entries verified
    decisions: int
    last_sequence: int
    checked_at: dt.datetime
    first_broken: chain.BrokenLink | None


def chain_status(*, refresh: bool = False) -> ChainStatus:
    """Does the decision log verify? The full `chain.verify_chain()`, cached until the next entry
    is appended or for `CHAIN_STATUS_TTL` seconds, so a page costs one query when cached."""
    last = LogEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    key = CHAIN_STATUS_KEY.format(sequence=last)
    cached = None if refresh else cache.get(key)
    if cached is not None:
        return cached
    result = chain.verify_chain()
    status = ChainStatus(
        ok=result.ok,
        checked=result.checked,
        decisions=result.decisions,
        last_sequence=last,
        checked_at=timezone.now(),
        first_broken=result.first_broken,
    )
    cache.set(key, status, CHAIN_STATUS_TTL)
    return status


def verify_chain() -> chain.Verification:
    """The full verification (every entry, every decision), uncached."""
    return chain.verify_chain()
