"""Notices about exceptions: a new red or forecast-breach exception, an escalation, and "back to
green". They go through `govern.notifications.notify_many`: an in-app notification for each
person concerned, written in the caller's transaction, and an email once it commits for those who
want each one by email (the others get the daily digest, or nothing but the in-app notice).

Callers use `notify_on_commit(event, exception_ids)` inside their transaction: the notices vanish
with a rollback, the emails leave only once it commits, and a failing mail server is logged, never
undoes the change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db.models import Q
from django.urls import reverse

from govern.choices import NotificationKind, Role
from govern.models import Membership, Notification
from govern.notifications import Notice, notify_many
from kpis.choices import EscalationLevel
from kpis.models import KpiException

logger = logging.getLogger(__name__)

OPENED = "opened"
ESCALATED = "escalated"
BACK_TO_GREEN = "back_to_green"

KINDS = {
    OPENED: NotificationKind.EXCEPTION_OPENED,
    ESCALATED: NotificationKind.EXCEPTION_ESCALATED,
    BACK_TO_GREEN: NotificationKind.BACK_TO_GREEN,
}
TITLES = {
    OPENED: "New exception: {title}",
    ESCALATED: "Escalated to {level}: {title}",
    BACK_TO_GREEN: "Back to green: {title}",
}
INTROS = {
    OPENED: "A new exception needs a decision by {deadline:%d %b %Y %H:%M}.",
    ESCALATED: (
        "This exception has had no decision by its deadline and is escalated to you "
        "({level}). New deadline: {deadline:%d %b %Y %H:%M}."
    ),
    BACK_TO_GREEN: "Back to green: this exception resolved itself. No action is needed.",
}


def notify_on_commit(event: str, exception_ids: Iterable[int]) -> None:
    """Notify the people these exceptions concern about `event`: the in-app notifications join
    the current transaction, the emails leave once it commits."""
    ids = sorted(set(exception_ids))
    if ids:
        send(event, ids)


def send(event: str, exception_ids: list[int]) -> list[Notification]:
    """Write the notices now, one per exception and person it concerns, in four queries whatever
    their number. Returns the in-app notifications written."""
    exceptions = list(
        KpiException.objects.filter(pk__in=exception_ids)
        .select_related("owner", "department", "contract__consumer_owner")
        .order_by("pk")
    )
    audience = _audience(exceptions)
    notices = []
    for exception in exceptions:
        recipients = _recipients(event, exception, audience)
        if not recipients:
            continue
        level = exception.get_escalation_level_display()
        notices.append(
            Notice(
                recipients=recipients,
                kind=KINDS[event],
                title=TITLES[event].format(title=exception.title, level=level),
                body=_body(event, exception, level),
                link=reverse("exception-detail", args=[exception.pk]),
                subject=exception,
            )
        )
    created = notify_many(notices)
    logger.info("Wrote %s %s notice(s) for %s exception(s)", len(created), event, len(exceptions))
    return created


def _audience(exceptions: list[KpiException]) -> dict:
    """Everyone an escalation ladder may reach, in one query: leads per department, the PMO and
    the executives (as person ids)."""
    departments = {e.department_id for e in exceptions}
    rows = Membership.objects.filter(person__is_active=True)
    rows = rows.filter(
        Q(role=Role.DEPARTMENT_LEAD, department_id__in=departments)
        | Q(role__in=[Role.PMO, Role.EXECUTIVE])
    ).values_list("department_id", "role", "person_id")
    leads: dict[int, set[int]] = {}
    pmo: set[int] = set()
    executives: set[int] = set()
    for department_id, role, person_id in rows:
        if role == Role.DEPARTMENT_LEAD:
            leads.setdefault(department_id, set()).add(person_id)
        elif role == Role.PMO:
            pmo.add(person_id)
        else:
            executives.add(person_id)
    return {"leads": leads, "pmo": pmo, "executives": executives}


def level_people(exception: KpiException, audience: dict) -> set[int]:
    """The ids of the people at the exception's escalation level."""
    level = exception.escalation_level
    if level == EscalationLevel.DEPARTMENT_LEAD:
        return set(audience["leads"].get(exception.department_id, ()))
    if level == EscalationLevel.PMO:
        return set(audience["pmo"])
    if level == EscalationLevel.EXECUTIVE:
        return set(audience["executives"])
    return _owner(exception)


def _owner(exception: KpiException) -> set[int]:
    owner = exception.owner
    return {owner.pk} if owner is not None and owner.is_active else set()


def _consumer_owner(exception: KpiException) -> set[int]:
    """A contract's exception is owned on the provider side; its consumer owner hears of it too."""
    if exception.contract is None:
        return set()
    owner = exception.contract.consumer_owner
    return {owner.pk} if owner.is_active else set()


def _recipients(event: str, exception: KpiException, audience: dict) -> set[int]:
    if event == ESCALATED:
        return level_people(exception, audience)
    if event == BACK_TO_GREEN:
        # The owner, and whoever it had been escalated to: they were told it needed them.
        return _owner(exception) | level_people(exception, audience)
    return _owner(exception) | _consumer_owner(exception)


def _body(event: str, exception: KpiException, level: str) -> str:
    intro = INTROS[event].format(deadline=exception.decision_deadline, level=level)
    lines = [
        intro,
        "",
        exception.title,
        exception.detail,
        "",
        f"Kind: {exception.get_kind_display()}",
        f"Department: {exception.department}",
        f"Owner: {exception.owner or 'nobody'}",
        f"Severity: {exception.severity:.2f}",
        f"Escalation level: {level}",
    ]
    return "\n".join(lines)
