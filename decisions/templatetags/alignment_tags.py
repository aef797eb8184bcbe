"""Filters of the alignment pages: a quarter's label, and a mean score as a coloured cell (its
number always shown: colour is never the only signal)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html

from decisions.engine.alignment import quarter_label
from decisions.selectors_alignment import tone

register = template.Library()


@register.filter
def quarter(period: dt.date | None) -> str:
    """`{{ assessment.period|quarter }}` → "Q2 2026"."""
    return quarter_label(period) if period else "—"


@register.simple_tag
def score_chip(score: float | int | None) -> str:
    """`{% score_chip assessment.score %}` → the mean score (or one score) on its colour step of
    the 1–5 scale, its number shown."""
    if score is None:
        return format_html('<span class="muted">—</span>')
    if isinstance(score, int):  # one of the three scores
        return format_html(
            '<span class="heat-chip heat--{}" title="{} of 5">{}</span>', tone(score), score, score
        )
    return format_html(
        '<span class="heat-chip heat--{}" title="Mean score {} of 5">{}</span>',
        tone(score),
        f"{score:.2f}",
        f"{score:.1f}",
    )
