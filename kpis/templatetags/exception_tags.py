"""Chips for the exception pages: kind, status and escalation level, each with a label and a
colour (and, through the badge shapes, never colour alone)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus

register = template.Library()

TONES = {
    "kind": {
        ExceptionKind.KPI_RED: "danger",
        ExceptionKind.KPI_AMBER: "warning",
        ExceptionKind.FORECAST_BREACH: "accent",
        ExceptionKind.MISSING_DATA: "muted",
        ExceptionKind.MILESTONE_OVERDUE: "danger",
        ExceptionKind.CONTRACT_AT_RISK: "warning",
        ExceptionKind.CONTRACT_BREACHED: "danger",
        ExceptionKind.GOVERNANCE: "danger",
        ExceptionKind.ALIGNMENT: "warning",
    },
    "status": {
        ExceptionStatus.OPEN: "warning",
        ExceptionStatus.ACKNOWLEDGED: "info",
        ExceptionStatus.DECIDED: "accent",
        ExceptionStatus.RESOLVED: "success",
    },
    "level": {
        EscalationLevel.OWNER: "neutral",
        EscalationLevel.DEPARTMENT_LEAD: "info",
        EscalationLevel.PMO: "warning",
        EscalationLevel.EXECUTIVE: "danger",
    },
}
LABELS = {
    "kind": dict(ExceptionKind.choices),
    "status": dict(ExceptionStatus.choices),
    "level": dict(EscalationLevel.choices),
}


@register.simple_tag
def exception_chip(what: str, value) -> str:
    """`{% exception_chip "kind" exception.kind %}` (or "status", "level") → a labelled chip."""
    label = LABELS[what].get(value, value)
    return format_html(
        '<span class="badge badge-{} exception-{}" data-{}="{}">{}</span>',
        TONES[what].get(value, "neutral"),
        what,
        what,
        value,
        label,
    )


@register.filter
def severity_tone(value: float | None) -> str:
    """A band for the severity number: high (≥ 15), medium (≥ 5) or low."""
    if value is None:
        return "low"
    if value >= 15:
        return "high"
    if value >= 5:
        return "medium"
    return "low"


@register.filter
def get_count(counts: dict, key: str) -> int:
    return counts.get(key, 0)
