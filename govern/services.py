"""Writes for the core domain. Every state change goes through one of these functions: it checks the
actor's permission, validates, writes the audit event in the same transaction and schedules
follow-up work on commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from govern import permissions as perms
from govern.audit import audited_create, audited_delete, audited_update, record
from govern.choices import AuditAction, MilestoneStatus, PlanVersionStatus, Role
from govern.errors import ApplicationError, ConflictError
from govern.models import (
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)
from govern.signals import plan_version_approved, plan_version_discarded, plan_version_drafted

# --- Follow-up work ---------------------------------------------------------------------------


def _schedule_progress_rollup(objective_ids: Iterable[int]) -> None:
    """Ask the workers to refresh objective progress once the transaction commits."""
    from govern.tasks import objective_progress_rollup

    if any(objective_ids):
        objective_progress_rollup.delay_on_commit()


@transaction.atomic
def objective_progress_refresh() -> int:
    """Recompute every objective's progress: the share of done milestones (cancelled ones left
    out) across the initiatives serving it or any objective cascading from it. Three reads, one
    bulk write of the rows that changed; running it twice changes nothing. Returns rows changed."""
    counts: dict[int, tuple[int, int]] = {
        row["initiative_id"]: (row["done"], row["total"])
        for row in Milestone.objects.exclude(status=MilestoneStatus.CANCELLED)
        .values("initiative_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(status=MilestoneStatus.DONE)))
    }
    initiatives_of: dict[int, set[int]] = {}
    for objective_id, initiative_id in Initiative.objectives.through.objects.values_list(
        "objective_id", "initiative_id"
    ):
        initiatives_of.setdefault(objective_id, set()).add(initiative_id)
    objectives = list(Objective.objects.only("pk", "parent_id", "progress"))
    children: dict[int | None, list[int]] = {}
    for objective in objectives:
        children.setdefault(objective.parent_id, []).append(objective.pk)

    def subtree_initiatives(root: int) -> set[int]:
        found, stack, seen = set(), [root], set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            found |= initiatives_of.get(node, set())
            stack.extend(children.get(node, ()))
        return found

    now = timezone.now()
    changed = []
    for objective in objectives:
        done = total = 0
        for initiative_id in subtree_initiatives(objective.pk):
            d, t = counts.get(initiative_id, (0, 0))
            done, total = done + d, total + t
        progress = (Decimal(done * 100) / total).quantize(Decimal("0.1")) if total else None
        if progress != objective.progress:
            objective.progress, objective.progress_updated_at = progress, now
            changed.append(objective)
    Objective.objects.bulk_update(changed, ["progress", "progress_updated_at"], batch_size=500)
    return len(changed)


# --- Departments ------------------------------------------------------------------------------


def department_create(*, actor: Person, code: str, name: str, description: str = "") -> Department:
    perms.ensure_can_add(actor, Department)
    return audited_create(
        Department, actor=actor, data={"code": code, "name": name, "description": description}
    )


def department_update(*, actor: Person, department: Department, data: dict) -> Department:
    perms.ensure_allowed(actor, perms.CHANGE, department)
    return audited_update(department, actor=actor, data=_only(data, Department.audit_fields))[0]


def department_delete(*, actor: Person, department: Department) -> None:
    perms.ensure_allowed(actor, perms.DELETE, department)
    audited_delete(department, actor=actor)


# --- People and memberships -------------------------------------------------------------------

PERSON_FIELDS = ("username", "first_name", "last_name", "email", "job_title", "is_active")


@transaction.atomic
def person_create(
    *,
    actor: Person,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    job_title: str = "",
    password: str | None = None,
) -> Person:
    perms.ensure_can_add(actor, Person)
    if Person.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            "This username is taken.", fields={"username": ["This username is taken."]}
        )
    person = Person(
        username=username, email=email, first_name=first_name, last_name=last_name,
        job_title=job_title,
    )  # fmt: skip
    if password:
        from django.contrib.auth.password_validation import validate_password
        from django.core.exceptions import ValidationError

        try:
            validate_password(password, person)
        except ValidationError as exc:  # the messages belong to the password field
            raise ValidationError({"password": exc.messages}) from exc
        person.set_password(password)
    else:
        person.set_unusable_password()
    person.full_clean()
    person.save()
    changes = {name: {"old": None, "new": getattr(person, name)} for name in PERSON_FIELDS}
    record(actor=actor, action=AuditAction.CREATE, instance=person, changes=changes)
    return person


def person_update(*, actor: Person, person: Person, data: dict) -> Person:
    perms.ensure_allowed(actor, perms.CHANGE, person)
    data = _only(data, PERSON_FIELDS)
    if data.get("is_active") is False and person.pk == actor.pk:
        raise ApplicationError(
            "You cannot deactivate your own account.",
            fields={"is_active": ["You cannot deactivate your own account."]},
        )
    return audited_update(person, actor=actor, data=data)[0]


def membership_create(
    *, actor: Person, person: Person, department: Department, role: str
) -> Membership:
    perms.ensure_can_add(actor, Membership)
    return audited_create(
        Membership, actor=actor, data={"person": person, "department": department, "role": role}
    )


def membership_update(*, actor: Person, membership: Membership, role: str) -> Membership:
    perms.ensure_allowed(actor, perms.CHANGE, membership)
    return audited_update(membership, actor=actor, data={"role": role})[0]


def membership_delete(*, actor: Person, membership: Membership) -> None:
    perms.ensure_allowed(actor, perms.DELETE, membership)
    if (
        membership.person_id == actor.pk
        and membership.role == Role.PMO
        and not (
            Membership.objects.filter(role=Role.PMO).exclude(pk=membership.pk).exists()
            or actor.is_superuser
        )
    ):
        raise ConflictError("You are the last PMO member; removing this role would lock the plan.")
    audited_delete(membership, actor=actor)


# --- Objectives -------------------------------------------------------------------------------

OBJECTIVE_FIELDS = (
    "title", "description", "level", "parent", "owner", "department",
    "start_date", "end_date", "weight",
)  # fmt: skip


def objective_create(
    *,
    actor: Person,
    title: str,
    level: str,
    owner: Person,
    department: Department,
    start_date: dt.date,
    end_date: dt.date,
    description: str = "",
    parent: Objective | None = None,
    weight: int = 3,
) -> Objective:
    perms.ensure_can_add(actor, Objective, department=department, level=level)
    return audited_create(
        Objective,
        actor=actor,
        data={
            "title": title, "description": description, "level": level, "parent": parent,
            "owner": owner, "department": department, "start_date": start_date,
            "end_date": end_date, "weight": weight,
        },
    )  # fmt: skip


def objective_update(*, actor: Person, objective: Objective, data: dict) -> Objective:
    perms.ensure_allowed(actor, perms.CHANGE, objective)
    data = _only(data, OBJECTIVE_FIELDS)
    moved_to = data.get("department", objective.department)
    level = data.get("level", objective.level)
    if moved_to != objective.department or level != objective.level:
        perms.ensure_can_add(actor, Objective, department=moved_to, level=level)
    objective, changes = audited_update(objective, actor=actor, data=data)
    if "parent" in changes:
        _schedule_progress_rollup([objective.pk])
    return objective


def objective_delete(*, actor: Person, objective: Objective) -> None:
    perms.ensure_allowed(actor, perms.DELETE, objective)
    if objective.children.exists():
        raise ConflictError(
            f"{objective} has objectives cascading from it; delete or re-parent them first.",
            code="protected",
        )
    audited_delete(objective, actor=actor)


# --- Initiatives ------------------------------------------------------------------------------

INITIATIVE_FIELDS = (
    "name", "description", "department", "owner", "start_date", "end_date", "budget", "fte",
    "status",
)  # fmt: skip


def initiative_create(
    *,
    actor: Person,
    name: str,
    department: Department,
    owner: Person,
    start_date: dt.date,
    end_date: dt.date,
    objectives: Iterable[Objective] = (),
    description: str = "",
    budget: Decimal = Decimal("0"),
    fte: Decimal = Decimal("0"),
    status: str = "proposed",
) -> Initiative:
    perms.ensure_can_add(actor, Initiative, department=department)
    objectives = list(objectives)
    initiative = audited_create(
        Initiative,
        actor=actor,
        data={
            "name": name, "description": description, "department": department, "owner": owner,
            "start_date": start_date, "end_date": end_date, "budget": budget, "fte": fte,
            "status": status,
        },
        m2m={"objectives": objectives},
    )  # fmt: skip
    _schedule_progress_rollup(o.pk for o in objectives)
    return initiative


def initiative_update(
    *, actor: Person, initiative: Initiative, data: dict, objectives=None
) -> Initiative:
    perms.ensure_allowed(actor, perms.CHANGE, initiative)
    data = _only(data, INITIATIVE_FIELDS)
    if "department" in data and data["department"] != initiative.department:
        perms.ensure_can_add(actor, Initiative, department=data["department"])
    before = set(initiative.objectives.values_list("pk", flat=True))
    m2m = {"objectives": list(objectives)} if objectives is not None else None
    initiative, _ = audited_update(initiative, actor=actor, data=data, m2m=m2m)
    after = {o.pk for o in objectives} if objectives is not None else before
    if before != after:
        _schedule_progress_rollup(before | after)
    return initiative


def initiative_delete(*, actor: Person, initiative: Initiative) -> None:
    perms.ensure_allowed(actor, perms.DELETE, initiative)
    objective_ids = list(initiative.objectives.values_list("pk", flat=True))
    audited_delete(initiative, actor=actor, cascade=initiative.milestones.all())
    _schedule_progress_rollup(objective_ids)


# --- Milestones -------------------------------------------------------------------------------

MILESTONE_FIELDS = (
    "initiative", "name", "description", "owner", "due_date", "completed_date", "status",
)  # fmt: skip


def milestone_create(
    *,
    actor: Person,
    initiative: Initiative,
    name: str,
    owner: Person,
    due_date: dt.date,
    description: str = "",
    status: str = MilestoneStatus.PLANNED,
    completed_date: dt.date | None = None,
) -> Milestone:
    perms.ensure_can_add(actor, Milestone, department=initiative.department)
    milestone = audited_create(
        Milestone,
        actor=actor,
        data={
            "initiative": initiative, "name": name, "description": description, "owner": owner,
            "due_date": due_date, "status": status, "completed_date": completed_date,
        },
    )  # fmt: skip
    _schedule_rollup_for_initiatives([initiative.pk])
    return milestone


def milestone_update(*, actor: Person, milestone: Milestone, data: dict) -> Milestone:
    perms.ensure_allowed(actor, perms.CHANGE, milestone)
    data = _only(data, MILESTONE_FIELDS)
    old_initiative = milestone.initiative_id
    if "initiative" in data and data["initiative"].pk != old_initiative:
        perms.ensure_can_add(actor, Milestone, department=data["initiative"].department)
    milestone, changes = audited_update(milestone, actor=actor, data=data)
    if changes.keys() & {"status", "initiative"}:
        _schedule_rollup_for_initiatives({old_initiative, milestone.initiative_id})
    return milestone


def milestone_report_progress(
    *,
    actor: Person,
    milestone: Milestone,
    status: str,
    completed_date: dt.date | None = None,
) -> Milestone:
    """Progress on a milestone: open to its owner as well as the department's leads and the PMO."""
    perms.ensure_allowed(actor, perms.PROGRESS, milestone)
    if status == MilestoneStatus.DONE and completed_date is None:
        completed_date = timezone.localdate()
    if status != MilestoneStatus.DONE:
        completed_date = None
    milestone, changes = audited_update(
        milestone, actor=actor, data={"status": status, "completed_date": completed_date}
    )
    if "status" in changes:
        _schedule_rollup_for_initiatives([milestone.initiative_id])
    return milestone


def milestone_delete(*, actor: Person, milestone: Milestone) -> None:
    perms.ensure_allowed(actor, perms.DELETE, milestone)
    initiative_id = milestone.initiative_id
    audited_delete(milestone, actor=actor)
    _schedule_rollup_for_initiatives([initiative_id])


def _schedule_rollup_for_initiatives(initiative_ids: Iterable[int]) -> None:
    _schedule_progress_rollup(
        Initiative.objectives.through.objects.filter(
            initiative_id__in=list(initiative_ids)
        ).values_list("objective_id", flat=True)
    )


# --- Plan versions ----------------------------------------------------------------------------
# draft → proposed (PMO) → approved (an executive: the one current version) → superseded. A
# proposed version goes back to draft to be edited (withdraw). The apps built on `govern` do their
# share through `govern.signals`: a new draft gets the targets and contract terms of the version
# it is made from, an approval moves the contracts and recomputes against the new targets, a
# deleted draft takes its copied targets with it.

BASE_STATUSES = (PlanVersionStatus.APPROVED, PlanVersionStatus.SUPERSEDED)
WITHDRAW_REASON = "Say why the proposal goes back to draft; it is kept in the plan's history."


@transaction.atomic
def plan_version_create_draft(
    *,
    actor: Person,
    name: str,
    description: str = "",
    based_on: PlanVersion | None = None,
) -> PlanVersion:
    """A new draft copied from `based_on` (the current version when None; an approved or
    superseded one when named): its targets and the terms of its contracts still in force are
    copied in the same transaction. Without any approved version yet, the first draft is empty."""
    perms.ensure_can_add(actor, PlanVersion)
    base = _draft_base(based_on)
    draft = audited_create(
        PlanVersion,
        actor=actor,
        data={"name": name, "description": description, "created_by": actor, "based_on": base},
        reason=f"Drafted from {base.name}" if base else "",
    )
    if base is not None:
        plan_version_drafted.send(
            sender=PlanVersion, plan_version=draft, based_on=base, actor=actor
        )
    return draft


def _draft_base(based_on: PlanVersion | None) -> PlanVersion | None:
    """The version a draft is copied from, under a row lock so that target edits to it wait
    until the copy is made: the current one, or the named approved or superseded one."""
    if based_on is None:
        return (
            PlanVersion.objects.select_for_update()
            .filter(status=PlanVersionStatus.APPROVED)
            .first()
        )
    base = PlanVersion.objects.select_for_update().filter(pk=based_on.pk).first()
    if base is None:
        raise ConflictError("The plan version to copy no longer exists.", code="gone")
    if base.status not in BASE_STATUSES:
        message = (
            f"{base.name} is {base.get_status_display().lower()}; a draft is made from the "
            "current plan version or a superseded one."
        )
        raise ApplicationError(message, code="invalid_base", fields={"based_on": [message]})
    return base


def plan_version_update(*, actor: Person, plan_version: PlanVersion, data: dict) -> PlanVersion:
    perms.ensure_allowed(actor, perms.CHANGE, plan_version)
    with transaction.atomic():
        plan_version = _lock_draft(plan_version, "edited")
        data = _only(data, ("name", "description"))
        return audited_update(plan_version, actor=actor, data=data)[0]


def plan_version_delete(*, actor: Person, plan_version: PlanVersion) -> None:
    """Delete a draft with the targets copied into it; contracts created in it must be moved or
    deleted first."""
    perms.ensure_allowed(actor, perms.DELETE, plan_version)
    with transaction.atomic():
        locked = _lock_draft(plan_version, "deleted")
        plan_version_discarded.send(sender=PlanVersion, plan_version=locked, actor=actor)
        audited_delete(locked, actor=actor)


@transaction.atomic
def plan_version_propose(
    *, actor: Person, plan_version: PlanVersion, comment: str = ""
) -> PlanVersion:
    """draft → proposed (PMO): the version waits for an executive's approval and can no longer
    be edited (withdraw it to edit it again)."""
    perms.ensure_allowed(actor, perms.PROPOSE, plan_version)
    locked = _lock_in(plan_version, PlanVersionStatus.DRAFT, "proposed")
    proposed, _ = audited_update(
        locked,
        actor=actor,
        data={
            "status": PlanVersionStatus.PROPOSED,
            "proposed_by": actor,
            "proposed_at": timezone.now(),
        },
        action=AuditAction.PROPOSE,
        reason=(comment or "").strip(),
    )
    return proposed


@transaction.atomic
def plan_version_withdraw(*, actor: Person, plan_version: PlanVersion, reason: str) -> PlanVersion:
    """proposed → draft (PMO or an executive, with a reason): editable again."""
    perms.ensure_allowed(actor, perms.WITHDRAW, plan_version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": WITHDRAW_REASON})
    locked = _lock_in(plan_version, PlanVersionStatus.PROPOSED, "withdrawn")
    draft, _ = audited_update(
        locked,
        actor=actor,
        data={"status": PlanVersionStatus.DRAFT, "proposed_by": None, "proposed_at": None},
        action=AuditAction.WITHDRAW,
        reason=reason,
    )
    return draft


@transaction.atomic
def plan_version_approve(
    *, actor: Person, plan_version: PlanVersion, reason: str = ""
) -> PlanVersion:
    """Make a proposed version the one current plan (an executive); the version it replaces
    becomes superseded. The receivers of `plan_version_approved` freeze what the previous version
    held, move the contracts and schedule the recompute, in this transaction."""
    perms.ensure_allowed(actor, perms.APPROVE, plan_version)
    # Lock the candidate and the current version so two approvals cannot both win.
    locked = _lock_in(plan_version, PlanVersionStatus.PROPOSED, "approved")
    now = timezone.now()
    previous = None
    for current in PlanVersion.objects.select_for_update().filter(
        status=PlanVersionStatus.APPROVED
    ):
        previous, _ = audited_update(
            current,
            actor=actor,
            data={"status": PlanVersionStatus.SUPERSEDED, "superseded_at": now},
            action=AuditAction.SUPERSEDE,
            reason=f"Superseded by {locked.name}",
        )
    approved, _ = audited_update(
        locked,
        actor=actor,
        data={"status": PlanVersionStatus.APPROVED, "approved_by": actor, "approved_at": now},
        action=AuditAction.APPROVE,
        reason=reason,
    )
    plan_version_approved.send(
        sender=PlanVersion, plan_version=approved, previous=previous, actor=actor
    )
    return approved


def _lock_draft(plan_version: PlanVersion, verb: str) -> PlanVersion:
    """Re-read the version under a row lock and refuse unless it is still a draft."""
    locked = _lock(plan_version)
    _ensure_draft(locked, verb)
    return locked


def _lock(plan_version: PlanVersion) -> PlanVersion:
    locked = PlanVersion.objects.select_for_update().filter(pk=plan_version.pk).first()
    if locked is None:
        raise ConflictError("This plan version no longer exists.", code="gone")
    return locked


def _ensure_draft(plan_version: PlanVersion, verb: str) -> None:
    if plan_version.status == PlanVersionStatus.PROPOSED:
        raise ConflictError(
            f"{plan_version.name} is proposed for approval; only a draft plan version can be "
            f"{verb}. Withdraw the proposal to draft to change it.",
            code="plan_version_not_draft",
        )
    if plan_version.status != PlanVersionStatus.DRAFT:
        raise ConflictError(
            f"{plan_version.name} is {plan_version.get_status_display().lower()}; only a draft "
            f"plan version can be {verb}. Create a new draft to change the plan.",
            code="plan_version_not_draft",
        )


NOT_IN_STATUS = {
    # the status an action needs → the rule, and per status the version is in, what to do
    PlanVersionStatus.DRAFT: (
        "only a draft is {verb}",
        {
            PlanVersionStatus.PROPOSED: "It is already waiting for an executive's approval.",
            PlanVersionStatus.APPROVED: "Make a new draft from it to change the plan.",
            PlanVersionStatus.SUPERSEDED: "Make a new draft from the current plan instead.",
        },
    ),
    PlanVersionStatus.PROPOSED: (
        "only a version proposed for approval is {verb}",
        {
            PlanVersionStatus.DRAFT: "The PMO proposes it first.",
            PlanVersionStatus.APPROVED: "It is already the current plan.",
            PlanVersionStatus.SUPERSEDED: "Make a new draft from the current plan instead.",
        },
    ),
}
# What each lifecycle action needs: the status, and the verb its refusal uses.
NEEDS = {
    "edit": (PlanVersionStatus.DRAFT, "edited"),
    "delete": (PlanVersionStatus.DRAFT, "deleted"),
    "propose": (PlanVersionStatus.DRAFT, "proposed"),
    "withdraw": (PlanVersionStatus.PROPOSED, "withdrawn"),
    "approve": (PlanVersionStatus.PROPOSED, "approved"),
}


def _ensure_in(plan_version: PlanVersion, status: str, verb: str) -> None:
    if plan_version.status != status:
        rule, advice = NOT_IN_STATUS[status]
        raise ConflictError(
            f"{plan_version.name} is {plan_version.get_status_display().lower()}; "
            f"{rule.format(verb=verb)}. {advice[plan_version.status]}",
            code=f"plan_version_not_{status}",
        )


def _lock_in(plan_version: PlanVersion, status: str, verb: str) -> PlanVersion:
    """Re-read the version under a row lock and refuse (409) unless it is in `status`."""
    locked = _lock(plan_version)
    _ensure_in(locked, status, verb)
    return locked


def plan_version_refusal(plan_version: PlanVersion, action: str) -> ConflictError | None:
    """Why the version's status forbids `action` ("edit", "delete", "propose", "withdraw",
    "approve") now, as the service would refuse it; None when it allows it. The pages check it
    before showing a form."""
    status, verb = NEEDS[action]
    try:
        if action in ("edit", "delete"):
            _ensure_draft(plan_version, verb)
        else:
            _ensure_in(plan_version, status, verb)
    except ConflictError as exc:
        return exc
    return None


# --- helpers ----------------------------------------------------------------------------------


def _only(data: dict, allowed: Iterable[str]) -> dict:
    allowed = set(allowed)
    return {key: value for key, value in data.items() if key in allowed}
