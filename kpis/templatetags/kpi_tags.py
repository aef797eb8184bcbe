"""Presentation helpers for the KPI pages: status chips with a label and a colour, numbers."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from kpis.choices import Status

register = template.Library()

# Every status has a tone (its colour) as well as its label, so colour is never the only signal.
STATUS_TONES = {
    Status.ON_TRACK: "success",
    Status.AMBER: "warning",
    Status.RED: "danger",
    Status.MISSING: "muted",
    Status.PENDING: "neutral",
    Status.NO_PLAN: "neutral",
}
LABELS = dict(Status.choices)


@register.simple_tag
def kpi_status(value: str | None, prefix: str = "") -> str:
    """`{% kpi_status kpi.status %}` → a labelled, coloured chip; empty for no status."""
    if not value:
        return ""
    label = LABELS.get(value, value)
    return format_html(
        '<span class="badge badge-{} kpi-status" data-status="{}">{}{}</span>',
        STATUS_TONES.get(value, "neutral"),
        value,
        prefix,
        label,
    )


@register.filter
def number(value: float | None, digits: int = 4) -> str:
    """A measured value for people: up to `digits` significant digits, thousands grouped."""
    if value is None:
        return "—"
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:,.{digits}g}"


@register.filter
def signed_pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f}%"
