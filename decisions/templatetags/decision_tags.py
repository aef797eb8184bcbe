"""Chips for the decision pages (a decision's status, its effectiveness verdict, a log entry's
kind: each a labelled badge whose tone sets its colour and shape, never colour alone) and the
"Decisions" card of the exception page."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from decisions import selectors
from decisions.choices import DecisionStatus, Effectiveness, LogEntryKind

register = template.Library()

TONES = {
    "status": {
        DecisionStatus.PROPOSED: "info",
        DecisionStatus.DECIDED: "success",
        DecisionStatus.SUPERSEDED: "muted",
    },
    "effectiveness": {
        Effectiveness.PENDING: "neutral",
        Effectiveness.EFFECTIVE: "success",
        Effectiveness.INEFFECTIVE: "danger",
        Effectiveness.INCONCLUSIVE: "warning",
    },
    "entry": {
        LogEntryKind.DECISION_PROPOSED: "info",
        LogEntryKind.DECISION_DECIDED: "success",
        LogEntryKind.DECISION_SUPERSEDED: "muted",
        LogEntryKind.EFFECTIVENESS_REVIEWED: "accent",
    },
}
LABELS = {
    "status": dict(DecisionStatus.choices),
    "effectiveness": dict(Effectiveness.choices),
    "entry": dict(LogEntryKind.choices),
}


@register.simple_tag
def decision_chip(what: str, value) -> str:
    """`{% decision_chip "status" decision.status %}` (or "effectiveness", "entry")."""
    value = value or ""
    return format_html(
        '<span class="badge badge-{} decision-{}" data-{}="{}">{}</span>',
        TONES[what].get(value, "neutral"),
        what,
        what,
        value,
        LABELS[what].get(value, value),
    )


@register.filter
def short_hash(value: str | None) -> str:
    """The first 12 hex digits of a hash: enough to compare two at a glance."""
    return (value or "")[:12]


@register.filter
def lines(text: str | None) -> list[str]:
    """A text's non-blank lines (the options considered are written one per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@register.inclusion_tag("decisions/_exception_decisions.html", takes_context=True)
def exception_decisions(context, exception) -> dict:
    """The decisions answering `exception` that the reader may see, with their reallocation
    lines, and the "Log a decision" action for those who may record one for its department."""
    request = context["request"]
    user = request.user
    return {
        "exception": exception,
        "decisions": list(selectors.decisions_for_exception(user=user, exception=exception)),
        "may_log": exception.status != "resolved"
        and selectors.may_log(user, exception.department_id),
        "tradeoff_required": exception.tradeoff_required,
    }
