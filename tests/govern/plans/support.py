"""Helpers shared by the plan-version tests (tests/govern/plans, tests/kpis/plans,
tests/dependencies/plans): the lifecycle as the PMO and an executive walk it, and periods relative
to today (the recompute the approval schedules runs against the real date)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from govern import services
from govern.models import Person, PlanVersion
from kpis.periods import period_start, shift

API = "/api/v1/"


def this_month() -> dt.date:
    return period_start(timezone.localdate(), "monthly")


def months_ago(count: int) -> dt.date:
    return shift(this_month(), "monthly", -count)


def approve(
    *, pmo: Person, executive: Person, plan_version: PlanVersion, reason: str = "Board"
) -> PlanVersion:
    """Propose (the PMO) and approve (an executive)."""
    services.plan_version_propose(actor=pmo, plan_version=plan_version)
    return services.plan_version_approve(actor=executive, plan_version=plan_version, reason=reason)


def first_plan(*, pmo: Person, executive: Person, name: str = "FY26 baseline") -> PlanVersion:
    """The first current plan version, drafted empty, proposed and approved."""
    draft = services.plan_version_create_draft(actor=pmo, name=name)
    return approve(pmo=pmo, executive=executive, plan_version=draft)
