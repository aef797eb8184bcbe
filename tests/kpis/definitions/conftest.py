"""A KPI world for the definitions tests: a Sales KPI owned by a Sales contributor, with a
current plan and a draft, seen by every role of the permission matrix."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from govern.choices import PlanVersionStatus, Role
from tests.factories import (
    InitiativeFactory,
    KpiFactory,
    ObjectiveFactory,
    PlanVersionFactory,
    TargetFactory,
    person_with_role,
)

JAN, FEB, MAR, APR = (dt.date(2026, m, 1) for m in (1, 2, 3, 4))


@pytest.fixture
def other_lead(other_department):
    """Leads Procurement: Sales KPIs are none of their business."""
    return person_with_role(Role.DEPARTMENT_LEAD, other_department)


@pytest.fixture
def other_contributor(department):
    """A Sales contributor who does not own the KPI."""
    return person_with_role(Role.CONTRIBUTOR, department)


@pytest.fixture
def plans(db):
    return SimpleNamespace(
        current=PlanVersionFactory(
            name="FY26 baseline", status=PlanVersionStatus.APPROVED, approved_at=timezone.now()
        ),
        draft=PlanVersionFactory(name="FY26 Q2 re-forecast"),
        superseded=PlanVersionFactory(
            name="FY25 plan",
            status=PlanVersionStatus.SUPERSEDED,
            approved_at=timezone.now(),
            superseded_at=timezone.now(),
        ),
    )


@pytest.fixture
def kpi(department, contributor, plans):
    """Sales order intake, monthly, owned by the contributor, with targets Jan–Mar."""
    objective = ObjectiveFactory(title="Grow order intake", department=department)
    initiative = InitiativeFactory(name="Key-account programme", department=department)
    kpi = KpiFactory(
        code="SALES-INTAKE",
        name="Order intake",
        department=department,
        owner=contributor,
        unit="currency",
    )
    kpi.objectives.set([objective])
    kpi.initiatives.set([initiative])
    for period, value in ((JAN, 100.0), (FEB, 110.0), (MAR, 120.0)):
        TargetFactory(kpi=kpi, plan_version=plans.current, period=period, value=value)
    return kpi


ROLE_FIXTURES = (
    "pmo", "executive", "lead", "other_lead", "contributor", "other_contributor", "viewer",
    "outsider",
)  # fmt: skip


@pytest.fixture
def people(request, kpi):
    return {role: request.getfixturevalue(role) for role in ROLE_FIXTURES}
