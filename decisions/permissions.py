"""The decision log's rows in the permission matrix (govern/permissions.py, docs/permissions.md).

Who sees a decision: those who read everything (PMO, executives), the members of its department,
and the members of every other department it touches (a trade-off on their objective or
initiative, a reallocation from or to them). Who records one: members of its department who are
not viewers, its leads, the PMO and executives (`may_propose`). Who decides one (`may_decide`):
a lead of its department, or the PMO, for a decision within the department; only an executive
when it crosses departments. Nobody changes or deletes one: the log is append-only.
"""

from __future__ import annotations

from django.db.models import Q

from decisions.models import (
    AgendaItem,
    AlignmentAssessment,
    ContingencyPlan,
    ContingencyReallocation,
    Decision,
    LogEntry,
    Reallocation,
    ReviewSession,
)
from govern.choices import Role
from govern.permissions import ADD, CHANGE, VIEW, Scope, register, scope_for

PROPOSE = "propose"  # record a decision as proposed, for someone with authority to decide
DECIDE = "decide"  # take a decision (or supersede one): the authority rules above


def _touched_q(s: Scope, prefix: str = "") -> Q:
    """Decisions (at `prefix`) that concern one of the user's departments."""
    departments = s.departments
    lines = Reallocation.objects.filter(
        Q(from_department_id__in=departments)
        | Q(to_department_id__in=departments)
        | Q(from_initiative__department_id__in=departments)
        | Q(to_initiative__department_id__in=departments)
    ).values("decision_id")
    return (
        Q(**{f"{prefix}department_id__in": departments})
        | Q(**{f"{prefix}tradeoff_objective__department_id__in": departments})
        | Q(**{f"{prefix}tradeoff_initiative__department_id__in": departments})
        | Q(**{f"{prefix}pk__in": lines})
    )


def _decision_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or _touched_q(s)
    if action == DECIDE:
        if s.is_executive:
            return True
        if s.is_pmo:
            return Q(cross_department=False)
        return Q(cross_department=False, department_id__in=s.lead_departments)
    return False  # add goes through `may_propose`; change and delete: never (append-only)


def _visible_decisions(s: Scope) -> Q:
    return Q(decision_id__in=Decision.objects.filter(_touched_q(s)).values("pk"))


def _reallocation_rule(s: Scope, action: str) -> Q | bool:
    if action != VIEW:
        return False  # written with their decision, never changed
    return s.reads_everything or _visible_decisions(s)


def _log_entry_rule(s: Scope, action: str) -> Q | bool:
    if action != VIEW:
        return False  # appended by the services through `decisions.chain`, never changed
    return s.reads_everything or _visible_decisions(s)


def may_propose(user, department_id: int | None) -> bool:
    """May `user` record a decision for this department (as proposed, at least)?"""
    s = scope_for(user)
    if not s.authenticated or department_id is None:
        return False
    if s.is_pmo or s.is_executive:
        return True
    return bool(s.roles.get(department_id, frozenset()) - {Role.VIEWER})


def may_decide(user, *, department_id: int | None, cross_department: bool) -> bool:
    """May `user` take a decision of this department that does (not) cross departments?"""
    s = scope_for(user)
    if not s.authenticated or department_id is None:
        return False
    if s.is_executive:
        return True
    if cross_department:
        return False
    return s.is_pmo or department_id in s.lead_departments


def decider_role(user, *, department_id: int, cross_department: bool) -> str:
    """The role in which `user` decides (they may decide: see `may_decide`)."""
    s = scope_for(user)
    if cross_department:
        return Role.EXECUTIVE
    if department_id in s.lead_departments:
        return Role.DEPARTMENT_LEAD
    return Role.PMO if Role.PMO in s.all_roles else Role.EXECUTIVE


def who_decides(*, department, cross_department: bool) -> str:
    """Who has authority, in words, for refusals and pages."""
    if cross_department:
        return (
            "It crosses departments, so only an executive may decide it; record it as proposed "
            "for an executive to decide."
        )
    return (
        f"Only a lead of {department}, the PMO or an executive may decide it; record it as "
        "proposed for them to decide."
    )


def _contingency_rule(s: Scope, action: str) -> Q | bool:
    """Seen by whoever sees its KPI's department; defined, changed and disabled by the PMO and
    the leads of that department. Never deleted (disable it): the decisions it proposed name it."""
    if action == VIEW:
        return s.reads_everything or Q(kpi__department_id__in=s.departments)
    if action in (ADD, CHANGE):
        return s.is_pmo or Q(kpi__department_id__in=s.lead_departments)
    return False


def _contingency_line_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(plan__kpi__department_id__in=s.departments)
    return False  # written with their plan


def _sessions_in_scope(s: Scope) -> Q:
    """Sessions of the whole organisation (no departments), of one of the user's departments,
    or that the user attends."""
    scoped = ReviewSession.departments.through.objects.filter(
        department_id__in=s.departments
    ).values("reviewsession_id")
    attended = ReviewSession.attendees.through.objects.filter(person_id=s.user_id).values(
        "reviewsession_id"
    )
    unscoped = ReviewSession.departments.through.objects.values("reviewsession_id")
    return Q(pk__in=scoped) | Q(pk__in=attended) | ~Q(pk__in=unscoped)


def _session_rule(s: Scope, action: str) -> Q | bool:
    """Seen by the organisation in its scope; planned, run and closed by the PMO, executives and
    the chair."""
    if action == VIEW:
        return s.reads_everything or _sessions_in_scope(s)
    if action in (ADD, CHANGE):
        return s.reads_everything or Q(chair_id=s.user_id)
    return False  # the minutes are a record: never deleted


def _agenda_item_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(
            session_id__in=ReviewSession.objects.filter(_sessions_in_scope(s)).values("pk")
        )
    if action == CHANGE:
        return s.reads_everything or Q(session__chair_id=s.user_id)
    return False


def _alignment_rule(s: Scope, action: str) -> Q | bool:
    """Assessments of people are sensitive: the PMO and executives see and record them; a
    leader sees their own."""
    if action == VIEW:
        return s.reads_everything or Q(leader_id=s.user_id)
    if action in (ADD, CHANGE):
        return s.reads_everything
    return False


register(Decision, _decision_rule)
register(ContingencyPlan, _contingency_rule)
register(ContingencyReallocation, _contingency_line_rule)
register(ReviewSession, _session_rule)
register(AgendaItem, _agenda_item_rule)
register(AlignmentAssessment, _alignment_rule)
register(Reallocation, _reallocation_rule)
register(LogEntry, _log_entry_rule)
