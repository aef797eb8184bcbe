"""Who may see and change what: the whole permission matrix, in one place.

Every list and page scopes its rows with `Model.objects.restrict(user, action)`; single objects go
through `access(...)`, which answers 404 when the user may not know the object exists and 403 when
they may see it but not change it. Writes check `ensure_allowed` / `ensure_can_add` in the service.
`docs/permissions.md` is the same matrix in prose; keep the two together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from govern.choices import ObjectiveLevel, Role
from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Notification,
    Objective,
    Person,
    PlanVersion,
)

VIEW = "view"
ADD = "add"
CHANGE = "change"
DELETE = "delete"
PROGRESS = "progress"  # report progress on a milestone: status and completion date
APPROVE = "approve"  # approve a proposed plan version, making it the current one (executives)
PROPOSE = "propose"  # propose a draft plan version for approval (PMO)
WITHDRAW = "withdraw"  # take a proposed plan version back to draft (PMO, executives)

ACTION_VERBS = {
    VIEW: "see",
    PROGRESS: "report progress on",
    "act": "act on",
    "record": "enter actuals for",
}

M = TypeVar("M", bound=models.Model)
Rule = Callable[["Scope", str], "Q | bool"]


@dataclass(frozen=True)
class Scope:
    """What one user is, across departments. Built once per request from their memberships."""

    user_id: int | None
    is_superuser: bool = False
    roles: dict[int, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def all_roles(self) -> frozenset[str]:
        return frozenset().union(*self.roles.values()) if self.roles else frozenset()

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_pmo(self) -> bool:
        return self.is_superuser or Role.PMO in self.all_roles

    @property
    def is_executive(self) -> bool:
        return self.is_superuser or Role.EXECUTIVE in self.all_roles

    @property
    def reads_everything(self) -> bool:
        """Executives and PMO members see every department."""
        return self.is_pmo or self.is_executive

    @cached_property
    def departments(self) -> frozenset[int]:
        return frozenset(self.roles)

    @cached_property
    def lead_departments(self) -> frozenset[int]:
        return frozenset(d for d, roles in self.roles.items() if Role.DEPARTMENT_LEAD in roles)

    def leads(self, department_id: int | None) -> bool:
        return self.is_pmo or department_id in self.lead_departments


ANONYMOUS = Scope(user_id=None)


def scope_for(user) -> Scope:
    """The user's scope, computed with one query and cached on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_govern_scope", None)
    if cached is not None:
        return cached
    roles: dict[int, set[str]] = {}
    for department_id, role in Membership.objects.filter(person_id=user.pk).values_list(
        "department_id", "role"
    ):
        roles.setdefault(department_id, set()).add(role)
    scope = Scope(
        user_id=user.pk,
        is_superuser=user.is_superuser,
        roles={d: frozenset(r) for d, r in roles.items()},
    )
    user._govern_scope = scope
    return scope


# --- The matrix: one rule per model. A rule answers True (all rows), False (none) or a Q. ------


def _department_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(pk__in=s.departments)
    return s.is_pmo


def _person_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        if s.reads_everything:
            return True
        colleagues = Membership.objects.filter(department_id__in=s.departments).values("person_id")
        return Q(pk=s.user_id) | Q(pk__in=colleagues)
    return s.is_pmo


def _membership_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(department_id__in=s.departments)
    return s.is_pmo


def _objective_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        # The strategy is shared: everyone sees the strategic objectives their work cascades from.
        return s.reads_everything or Q(level=ObjectiveLevel.STRATEGIC) | Q(
            department_id__in=s.departments
        )
    if s.is_pmo:
        return True
    return Q(level=ObjectiveLevel.ANNUAL, department_id__in=s.lead_departments)


def _initiative_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(department_id__in=s.departments)
    return s.is_pmo or Q(department_id__in=s.lead_departments)


def _milestone_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or Q(initiative__department_id__in=s.departments)
    if s.is_pmo:
        return True
    in_lead_department = Q(initiative__department_id__in=s.lead_departments)
    if action == PROGRESS:
        # Contributors enter data for what they own: progress on their own milestones.
        return in_lead_department | Q(
            owner_id=s.user_id,
            initiative__department_id__in=[
                d for d, roles in s.roles.items() if roles - {Role.VIEWER}
            ],
        )
    return in_lead_department


def _plan_version_rule(s: Scope, action: str) -> Q | bool:
    # The PMO drafts, edits and proposes; an executive approves; either takes a proposal back.
    if action == VIEW:
        return True
    if action == APPROVE:
        return s.is_executive
    if action == WITHDRAW:
        return s.is_pmo or s.is_executive
    return s.is_pmo


def _audit_event_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        # Object pages show their own history after the object's gate; the full log is global.
        return s.reads_everything
    return False  # append-only, for everybody


def _notification_rule(s: Scope, action: str) -> Q | bool:
    # Private to each person, whatever their role: they see and mark read only their own.
    if action in (VIEW, CHANGE):
        return Q(recipient_id=s.user_id)
    return False  # written by the system (govern.notifications.notify), never by hand


RULES: dict[type[models.Model], Rule] = {
    Department: _department_rule,
    Person: _person_rule,
    Membership: _membership_rule,
    Objective: _objective_rule,
    Initiative: _initiative_rule,
    Milestone: _milestone_rule,
    PlanVersion: _plan_version_rule,
    AuditEvent: _audit_event_rule,
    Notification: _notification_rule,
}


# Models a department lead may create in the departments they lead (and the PMO anywhere).
DEPARTMENT_ADD: set[type[models.Model]] = {Initiative, Milestone}


def register(model: type[models.Model], rule: Rule, *, add_in_department: bool = False) -> None:
    """Later apps (KPIs, contracts, decisions) add their models' rules here at import time."""
    RULES[model] = rule
    if add_in_department:
        DEPARTMENT_ADD.add(model)


def _rule_for(model: type[models.Model]) -> Rule:
    for klass in model.__mro__:
        if klass in RULES:
            return RULES[klass]
    raise LookupError(f"No permission rule for {model.__name__}; add one in govern.permissions.")


def restrict(queryset: models.QuerySet[M], user, action: str = VIEW) -> models.QuerySet[M]:
    scope = scope_for(user)
    if not scope.authenticated:
        return queryset.none()
    verdict = _rule_for(queryset.model)(scope, action)
    if verdict is True:
        return queryset
    if verdict is False:
        return queryset.none()
    return queryset.filter(verdict)


def allowed(user, action: str, obj: models.Model) -> bool:
    scope = scope_for(user)
    if not scope.authenticated:
        return False
    verdict = _rule_for(type(obj))(scope, action)
    if isinstance(verdict, bool):
        return verdict
    return type(obj)._default_manager.filter(verdict, pk=obj.pk).exists()


def ensure_allowed(user, action: str, obj: models.Model) -> None:
    if not allowed(user, action, obj):
        verb = ACTION_VERBS.get(action, action)
        raise PermissionDenied(f"You may not {verb} this {obj._meta.verbose_name} ({obj}).")


def can_add(
    user, model: type[models.Model], *, department: Department | None = None, **attrs
) -> bool:
    """May `user` create a `model` in `department` (with `attrs` such as an objective's level)?"""
    scope = scope_for(user)
    if not scope.authenticated:
        return False
    if model is Objective:
        if scope.is_pmo:
            return True
        return (
            attrs.get("level") == ObjectiveLevel.ANNUAL
            and department is not None
            and (department.pk in scope.lead_departments)
        )
    if model in DEPARTMENT_ADD:
        return department is not None and scope.leads(department.pk)
    verdict = _rule_for(model)(scope, ADD)
    return verdict is True


def ensure_can_add(user, model: type[models.Model], *, department=None, **attrs) -> None:
    if not can_add(user, model, department=department, **attrs):
        where = f" in {department}" if department is not None else ""
        name = model._meta.verbose_name
        article = "an" if name[:1].lower() in "aeiou" else "a"
        raise PermissionDenied(f"You may not create {article} {name}{where}.")


def access(model: type[M], user, pk, *, for_write: bool = False, queryset=None) -> M:
    """The gate for one object: 404 if the user may not see it, 403 if they may not change it."""
    base = queryset if queryset is not None else model._default_manager.all()
    try:
        obj = restrict(base, user, VIEW).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from exc
    if for_write:
        ensure_allowed(user, CHANGE, obj)
    return obj
