"""Decision tasks: thin, idempotent, safe to retry; each calls one service. Arguments are
primitives."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from govern.tasking import GovernTask


@shared_task(name="decisions.review_effectiveness", base=GovernTask)
def review_effectiveness(today: str | None = None) -> dict:
    """Judge the decisions whose review date has come by `today` (ISO; by default the local
    date); runs daily under beat, after the nightly KPI sweep. Idempotent: a reviewed decision
    is no longer pending, so a second run or a duplicate delivery writes nothing."""
    from decisions.services.effectiveness import decision_review_effectiveness

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    return decision_review_effectiveness(today=day).as_dict()
