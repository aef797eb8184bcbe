"""A small organisation for the page tests: one of every governed object in Sales, seen by every
role (PMO, executive, Sales lead, Procurement lead, Sales contributor and viewer, an outsider)."""

import datetime as dt
from types import SimpleNamespace

import pytest

from govern.choices import ObjectiveLevel, PlanVersionStatus, Role
from govern.models import Membership
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PlanVersionFactory,
    person_with_role,
)


@pytest.fixture
def other_lead(other_department):
    """A department lead, but of Procurement: Sales objects are none of their business."""
    return person_with_role(Role.DEPARTMENT_LEAD, other_department)


@pytest.fixture
def world(
    department, other_department, pmo, executive, lead, other_lead, contributor, viewer, outsider
):
    strategy = ObjectiveFactory(
        title="Grow share in the mid-market",
        level=ObjectiveLevel.STRATEGIC,
        department=department,
        owner=executive,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2028, 12, 31),
    )
    objective = ObjectiveFactory(
        title="Win 40 new OEM accounts", parent=strategy, department=department, owner=lead
    )
    initiative = InitiativeFactory(
        name="Distributor programme", department=department, owner=lead, objectives=[objective]
    )
    milestone = MilestoneFactory(
        name="Partner agreements signed", initiative=initiative, owner=contributor
    )
    return SimpleNamespace(
        department=department,
        other_department=other_department,
        empty_department=DepartmentFactory(code="MKT", name="Marketing"),
        strategy=strategy,
        objective=objective,
        initiative=initiative,
        milestone=milestone,
        membership=Membership.objects.get(person=contributor, department=department),
        plan_version=PlanVersionFactory(name="FY27 draft"),
        proposed_plan=PlanVersionFactory(name="FY27 proposal", status=PlanVersionStatus.PROPOSED),
        pmo=pmo,
        executive=executive,
        lead=lead,
        other_lead=other_lead,
        contributor=contributor,
        viewer=viewer,
        outsider=outsider,
    )
