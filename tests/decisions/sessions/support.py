"""The review-session tests' world: the decision-log world (`tests.decisions.log_support`: Sales
decides, Procurement is the other department) plus helpers to plan and run sessions through the
services, and an Operations department with ten open exceptions of distinct severities for the
ranking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from decisions.models import AgendaItem, ReviewSession
from decisions.services import sessions as services
from govern.choices import Role
from govern.models import Department, Person
from kpis.models import KpiException
from tests.factories import DepartmentFactory, KpiExceptionFactory, KpiFactory, person_with_role

# Ten open exceptions in Operations, as (KPI code, severity): the worst are OPS-F (10), OPS-B (9),
# OPS-H (8).
SEVERITIES = [
    ("OPS-A", 3.0), ("OPS-B", 9.0), ("OPS-C", 1.0), ("OPS-D", 7.0), ("OPS-E", 5.0),
    ("OPS-F", 10.0), ("OPS-G", 2.0), ("OPS-H", 8.0), ("OPS-I", 4.0), ("OPS-J", 6.0),
]  # fmt: skip


def tomorrow_at_nine() -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


@dataclass
class Operations:
    department: Department
    lead: Person
    exceptions: dict[str, KpiException]  # by KPI code


def operations() -> Operations:
    """Operations with ten open red exceptions of distinct severities (`SEVERITIES`)."""
    department = DepartmentFactory(code="OPS", name="Operations")
    lead = person_with_role(Role.DEPARTMENT_LEAD, department, first_name="Olga", last_name="Ops")
    exceptions = {}
    for code, severity in SEVERITIES:
        kpi = KpiFactory(code=code, name=f"Measure {code[-1]}", department=department, owner=lead)
        exceptions[code] = KpiExceptionFactory(kpi=kpi, severity=severity)
    return Operations(department=department, lead=lead, exceptions=exceptions)


def plan(actor: Person, **data: Any) -> ReviewSession:
    """A weekly session tomorrow at 9:00, planned through the service (its agenda generated)."""
    values: dict[str, Any] = {
        "cadence": "weekly_operations",
        "scheduled_for": tomorrow_at_nine(),
        "departments": [],
        "attendees": [],
    }
    values.update(data)
    return services.session_create(actor=actor, data=values)


def started(actor: Person, **data: Any) -> ReviewSession:
    session = plan(actor, **data)
    return services.session_start(actor=actor, session=session)


def agenda(session: ReviewSession) -> list[tuple[int, str, str]]:
    """The agenda as (position, kind, title)."""
    return list(
        AgendaItem.objects.filter(session=session)
        .order_by("position")
        .values_list("position", "kind", "title")
    )


def item_for(session: ReviewSession, exception: KpiException) -> AgendaItem:
    return AgendaItem.objects.select_related("session").get(session=session, exception=exception)


def state() -> dict[str, list[dict]]:
    """Every row a session write may touch: to prove a refused request wrote nothing."""
    from decisions.models import Decision, LogEntry, Reallocation
    from govern.models import AuditEvent, Notification

    models = [
        ReviewSession, ReviewSession.departments.through, ReviewSession.attendees.through,
        AgendaItem, Decision, Reallocation, LogEntry, AuditEvent, Notification, KpiException,
    ]  # fmt: skip
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
