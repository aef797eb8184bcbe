"""Chips for the review session pages: a session's status and cadence, an agenda item's kind and
outcome. Each is a labelled badge whose tone sets its colour, never colour alone."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from decisions.choices import AgendaItemKind, AgendaOutcome, SessionCadence, SessionStatus

register = template.Library()

TONES = {
    "status": {
        SessionStatus.PLANNED: "info",
        SessionStatus.IN_PROGRESS: "warning",
        SessionStatus.CLOSED: "muted",
    },
    "cadence": {
        SessionCadence.WEEKLY_OPERATIONS: "neutral",
        SessionCadence.MONTHLY_BUSINESS: "accent",
    },
    "kind": {
        AgendaItemKind.EXCEPTION: "danger",
        AgendaItemKind.DECISION_REVIEW: "accent",
        AgendaItemKind.CONTRACT_AT_RISK: "warning",
    },
    "outcome": {
        AgendaOutcome.PENDING: "neutral",
        AgendaOutcome.DECIDED: "success",
        AgendaOutcome.DEFERRED: "warning",
        AgendaOutcome.NOTED: "info",
    },
}
LABELS = {
    "status": dict(SessionStatus.choices),
    "cadence": dict(SessionCadence.choices),
    "kind": dict(AgendaItemKind.choices),
    "outcome": dict(AgendaOutcome.choices),
}


@register.simple_tag
def session_chip(what: str, value) -> str:
    """`{% session_chip "status" session.status %}` (or "cadence", "kind", "outcome")."""
    value = value or ""
    return format_html(
        '<span class="badge badge-{} session-{}" data-{}="{}">{}</span>',
        TONES[what].get(value, "neutral"),
        what,
        what,
        value,
        LABELS[what].get(value, value),
    )
