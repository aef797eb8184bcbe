"""A small organisation for the decision-log tests: Sales (the deciding department) and
Procurement, people in every role, a KPI, an objective and an initiative in each, and an open red
exception on the Sales KPI. `payload(world, ...)` is a valid decision to log, by ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from decisions import services
from decisions.models import Decision
from govern.choices import ObjectiveLevel, Role
from govern.models import Department, Initiative, Objective, Person
from kpis.models import Kpi, KpiException
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    KpiExceptionFactory,
    KpiFactory,
    ObjectiveFactory,
    person_with_role,
)


@dataclass
class World:
    sales: Department
    procurement: Department
    lead: Person  # leads Sales
    contributor: Person  # Sales
    viewer: Person  # Sales
    other_lead: Person  # leads Procurement
    pmo: Person
    executive: Person
    outsider: Person
    kpi: Kpi  # SALES-INTAKE
    other_kpi: Kpi  # PROC-OTD
    objective: Objective  # Sales' annual objective
    other_objective: Objective  # Procurement's strategic objective (everyone sees it)
    initiative: Initiative  # Sales
    other_initiative: Initiative  # Procurement
    exception: KpiException  # red, on SALES-INTAKE, owned by the contributor


def build_world() -> World:
    sales = DepartmentFactory(code="SALES", name="Sales")
    procurement = DepartmentFactory(code="PROC", name="Procurement")
    lead = person_with_role(Role.DEPARTMENT_LEAD, sales, first_name="Lea", last_name="Lead")
    contributor = person_with_role(
        Role.CONTRIBUTOR, sales, first_name="Cora", last_name="Contributor"
    )
    viewer = person_with_role(Role.VIEWER, sales, first_name="Vic", last_name="Viewer")
    other_lead = person_with_role(
        Role.DEPARTMENT_LEAD, procurement, first_name="Otto", last_name="Other"
    )
    pmo = person_with_role(
        Role.PMO, DepartmentFactory(code="PMO", name="PMO"), first_name="Pam", last_name="Pmo"
    )
    executive = person_with_role(
        Role.EXECUTIVE,
        DepartmentFactory(code="EXEC", name="Executive"),
        first_name="Eve",
        last_name="Exec",
    )
    outsider = person_with_role(
        Role.DEPARTMENT_LEAD,
        DepartmentFactory(code="HR", name="HR"),
        first_name="Oz",
        last_name="Out",
    )
    kpi = KpiFactory(code="SALES-INTAKE", name="Order intake", department=sales, owner=contributor)
    other_kpi = KpiFactory(
        code="PROC-OTD", name="Supplier on-time delivery", department=procurement, owner=other_lead
    )
    return World(
        sales=sales,
        procurement=procurement,
        lead=lead,
        contributor=contributor,
        viewer=viewer,
        other_lead=other_lead,
        pmo=pmo,
        executive=executive,
        outsider=outsider,
        kpi=kpi,
        other_kpi=other_kpi,
        objective=ObjectiveFactory(title="Grow order intake", department=sales, owner=lead),
        other_objective=ObjectiveFactory(
            title="Reliable supply",
            level=ObjectiveLevel.STRATEGIC,
            department=procurement,
            owner=other_lead,
        ),
        initiative=InitiativeFactory(name="Spring campaign", department=sales, owner=lead),
        other_initiative=InitiativeFactory(
            name="Second supplier", department=procurement, owner=other_lead
        ),
        exception=KpiExceptionFactory(kpi=kpi),
    )


def review_day(days: int = 30) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def payload(world: World, **overrides: Any) -> dict[str, Any]:
    """A complete, valid decision within Sales answering the exception, by ids."""
    data: dict[str, Any] = {
        "title": "Discount the spring bundle",
        "context": "Order intake is red for March.",
        "options_considered": "Wait\nDiscount the bundle",
        "chosen_option": "Discount the bundle by 10%",
        "rationale": "Competitors cut prices in February.",
        "department": world.sales.pk,
        "kpis": [world.kpi.pk],
        "exception": world.exception.pk,
        "expected_kpi": world.kpi.pk,
        "expected_kind": "value",
        "expected_value": 120.0,
        "review_date": review_day().isoformat(),
        "reallocations": [],
    }
    data.update(overrides)
    return data


def logged(world: World, actor: Person | None = None, *, propose: bool = False, **overrides):
    """A decision logged through the service (by the Sales lead unless told)."""
    return services.decision_log(
        actor=actor or world.lead, data=payload(world, **overrides), propose=propose
    )


def tradeoff(world: World) -> dict[str, Any]:
    """A trade-off on Procurement's objective: it crosses departments."""
    return {
        "tradeoff_objective": world.other_objective.pk,
        "tradeoff_statement": "Supplier audits slip a quarter.",
    }


def counts() -> tuple[int, int, int]:
    """(decisions, log entries, audit events)."""
    from decisions.models import LogEntry
    from govern.models import AuditEvent

    return Decision.objects.count(), LogEntry.objects.count(), AuditEvent.objects.count()
