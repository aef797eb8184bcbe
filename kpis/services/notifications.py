"""Email notices about exceptions: a new red or forecast-breach exception, an escalation, and
"back to green". Email only for now (console backend locally, locmem in the tests).

Callers use `notify_on_commit(event, exception_ids)` inside their transaction: nothing is sent
unless and until it commits, and a failing mail server is logged, never undoes the change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from govern.choices import Role
from govern.models import Membership
from kpis.choices import EscalationLevel
from kpis.models import KpiException

logger = logging.getLogger(__name__)

OPENED = "opened"
ESCALATED = "escalated"
BACK_TO_GREEN = "back_to_green"

SUBJECTS = {
    OPENED: "[Govern] New exception: {title}",
    ESCALATED: "[Govern] Escalated to {level}: {title}",
    BACK_TO_GREEN: "[Govern] Back to green: {title}",
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
    """Send `event` notices for these exceptions once the current transaction commits."""
    ids = sorted(set(exception_ids))
    if ids:
        transaction.on_commit(lambda: send(event, ids), robust=True)


def send(event: str, exception_ids: list[int]) -> int:
    """Send the notices now: one email per exception to the people it concerns. Returns how many
    emails were sent."""
    exceptions = list(
        KpiException.objects.filter(pk__in=exception_ids).select_related("owner", "department")
    )
    audience = _audience(exceptions)
    messages = []
    for exception in exceptions:
        recipients = sorted(_recipients(event, exception, audience))
        if not recipients:
            continue
        level = exception.get_escalation_level_display()
        messages.append(
            EmailMessage(
                subject=SUBJECTS[event].format(title=exception.title, level=level),
                body=_body(event, exception, level),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=recipients,
            )
        )
    if not messages:
        return 0
    sent = get_connection().send_messages(messages) or 0
    logger.info("Sent %s %s notice(s) for %s exception(s)", sent, event, len(exceptions))
    return sent


def _audience(exceptions: list[KpiException]) -> dict:
    """Everyone an escalation ladder may reach, in one query: leads per department, the PMO and
    the executives (as email addresses)."""
    departments = {e.department_id for e in exceptions}
    rows = Membership.objects.filter(person__is_active=True).exclude(person__email="")
    rows = rows.filter(
        Q(role=Role.DEPARTMENT_LEAD, department_id__in=departments)
        | Q(role__in=[Role.PMO, Role.EXECUTIVE])
    ).values_list("department_id", "role", "person__email")
    leads: dict[int, set[str]] = {}
    pmo: set[str] = set()
    executives: set[str] = set()
    for department_id, role, email in rows:
        if role == Role.DEPARTMENT_LEAD:
            leads.setdefault(department_id, set()).add(email)
        elif role == Role.PMO:
            pmo.add(email)
        else:
            executives.add(email)
    return {"leads": leads, "pmo": pmo, "executives": executives}


def level_people(exception: KpiException, audience: dict) -> set[str]:
    """The email addresses of the people at the exception's escalation level."""
    level = exception.escalation_level
    if level == EscalationLevel.DEPARTMENT_LEAD:
        return set(audience["leads"].get(exception.department_id, ()))
    if level == EscalationLevel.PMO:
        return set(audience["pmo"])
    if level == EscalationLevel.EXECUTIVE:
        return set(audience["executives"])
    return _owner(exception)


def _owner(exception: KpiException) -> set[str]:
    owner = exception.owner
    return {owner.email} if owner is not None and owner.is_active and owner.email else set()


def _recipients(event: str, exception: KpiException, audience: dict) -> set[str]:
    if event == ESCALATED:
        return level_people(exception, audience)
    if event == BACK_TO_GREEN:
        # The owner, and whoever it had been escalated to: they were told it needed them.
        return _owner(exception) | level_people(exception, audience)
    return _owner(exception)


def _body(event: str, exception: KpiException, level: str) -> str:
    intro = INTROS[event].format(deadline=exception.decision_deadline, level=level)
    base_url = settings.GOVERN_BASE_URL
    link = base_url + reverse("exception-detail", args=[exception.pk])
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
        "",
        f"Open it in Govern: {link}",
    ]
    return "\n".join(lines)
