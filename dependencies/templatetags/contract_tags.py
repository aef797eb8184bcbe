"""Chips for the contract pages: a contract's status, an amendment's status and a side's response,
each a labelled badge whose tone sets its colour and its shape (never colour alone)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from dependencies import terms
from dependencies.choices import AmendmentStatus, ContractStatus, Response, ServiceComparison

register = template.Library()

TONES = {
    "contract": {
        ContractStatus.DRAFT: "neutral",
        ContractStatus.PROPOSED: "info",
        ContractStatus.AGREED: "success",
        ContractStatus.AT_RISK: "warning",
        ContractStatus.BREACHED: "danger",
        ContractStatus.FULFILLED: "accent",
        ContractStatus.CANCELLED: "muted",
    },
    "amendment": {
        AmendmentStatus.PENDING: "warning",
        AmendmentStatus.ACCEPTED: "success",
        AmendmentStatus.REJECTED: "neutral",
        AmendmentStatus.OVERRIDDEN: "accent",
        AmendmentStatus.WITHDRAWN: "muted",
    },
    "response": {
        Response.ACCEPTED: "success",
        Response.REJECTED: "danger",
        "": "neutral",
    },
}
LABELS = {
    "contract": dict(ContractStatus.choices),
    "amendment": dict(AmendmentStatus.choices),
    "response": {**dict(Response.choices), "": "Awaiting answer"},
}


@register.simple_tag
def contract_chip(what: str, value, label: str = "") -> str:
    """`{% contract_chip "contract" contract.status %}` (or "amendment", "response"); `label`
    replaces the status's own words when the page knows better (e.g. which side is awaited)."""
    value = value or ""
    return format_html(
        '<span class="badge badge-{} {}-status" data-status="{}">{}</span>',
        TONES[what].get(value, "neutral"),
        what,
        value,
        label or LABELS[what].get(value, value),
    )


@register.filter
def get_item(mapping, key):
    """`{{ cells|get_item:key }}`: a dictionary lookup by a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def amendment_changes(amendment) -> list[dict[str, str]]:
    """An amendment's changes as rows to read: the term's label and its proposed value."""
    return [
        {"label": terms.TERM_LABELS.get(name, name), "text": terms.text(name, value)}
        for name, value in (amendment.changes or {}).items()
    ]


@register.filter
def comparison_sign(value: str) -> str:
    """A service level's comparison as its sign: ≥ or ≤ (the label says it in words)."""
    return {ServiceComparison.AT_LEAST: "≥", ServiceComparison.AT_MOST: "≤"}.get(value, "")
