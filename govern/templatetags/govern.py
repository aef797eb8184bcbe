"""Presentation helpers for the pages: status badges (colour and label), history rows, dates."""

from __future__ import annotations

import datetime as dt

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst

from govern.choices import (
    InitiativeStatus,
    MilestoneStatus,
    ObjectiveLevel,
    PlanVersionStatus,
    Role,
)

register = template.Library()

# Every status has a tone (its colour) as well as its label, so colour is never the only signal.
TONES = {
    InitiativeStatus.PROPOSED: "neutral",
    InitiativeStatus.ACTIVE: "info",
    InitiativeStatus.ON_HOLD: "warning",
    InitiativeStatus.COMPLETED: "success",
    InitiativeStatus.CANCELLED: "muted",
    MilestoneStatus.PLANNED: "neutral",
    MilestoneStatus.IN_PROGRESS: "info",
    MilestoneStatus.DONE: "success",
    MilestoneStatus.CANCELLED: "muted",
    PlanVersionStatus.DRAFT: "neutral",
    PlanVersionStatus.PROPOSED: "warning",
    PlanVersionStatus.APPROVED: "success",
    PlanVersionStatus.SUPERSEDED: "muted",
    ObjectiveLevel.STRATEGIC: "accent",
    ObjectiveLevel.ANNUAL: "neutral",
    Role.EXECUTIVE: "accent",
    Role.PMO: "accent",
    Role.DEPARTMENT_LEAD: "info",
    Role.CONTRIBUTOR: "neutral",
    Role.VIEWER: "muted",
    "overdue": "danger",
}


@register.simple_tag
def badge(value: str, label: str | None = None) -> str:
    """`{% badge obj.status obj.get_status_display %}` → a labelled, coloured status pill."""
    tone = TONES.get(value, "neutral")
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>', tone, value, label or value
    )


@register.filter
def days_late(due: dt.date | None, today: dt.date) -> int:
    return (today - due).days if due else 0


# --- History ----------------------------------------------------------------------------------


def _field(model: type[models.Model] | None, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _display(field, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField):
        try:
            return date_format(dt.datetime.fromisoformat(value), "DATETIME_FORMAT")
        except (TypeError, ValueError):
            return str(value)
    if isinstance(field, models.DateField):
        try:
            return date_format(dt.date.fromisoformat(value), "j M Y")
        except (TypeError, ValueError):
            return str(value)
    return str(value)


@register.filter
def audit_changes(event) -> list[dict[str, str]]:
    """The changed fields of one audit event as rows: label, old value, new value (as text)."""
    try:
        model = apps.get_model(event.subject_type)
    except (LookupError, ValueError):
        model = None
    rows = []
    for name, change in (event.changes or {}).items():
        field = _field(model, name)
        label = capfirst(getattr(field, "verbose_name", None) or name.replace("_", " "))
        change = change if isinstance(change, dict) else {"old": None, "new": change}
        if change and not change.keys() & {"old", "new"}:
            # A group of changes, e.g. a KPI's targets: {"targets": {"2026-04-01": {old, new}}}.
            rows.extend(
                {
                    "label": f"{label} {key}",
                    "old": _display(None, (sub or {}).get("old")),
                    "new": _display(None, (sub or {}).get("new")),
                }
                for key, sub in change.items()
            )
            continue
        rows.append(
            {
                "label": label,
                "old": _display(field, change.get("old")),
                "new": _display(field, change.get("new")),
            }
        )
    return rows
