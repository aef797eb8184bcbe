import datetime as dt

import pytest
from django.utils import timezone

from govern.choices import ObjectiveLevel, PlanVersionStatus, Role
from govern.models import Membership
from tests.factories import (
    InitiativeFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PlanVersionFactory,
    person_with_role,
)


@pytest.fixture
def other_lead(other_department):
    """Leads Procurement: sees nothing of Sales."""
    return person_with_role(Role.DEPARTMENT_LEAD, other_department)


@pytest.fixture
def sales_plan(department, lead, contributor):
    """A Sales cascade: a strategic objective, an annual one under it, an initiative serving the
    annual objective (owned by the lead) and a milestone owned by the contributor."""
    strategic = ObjectiveFactory(
        title="Grow mid-market share",
        level=ObjectiveLevel.STRATEGIC,
        department=department,
        owner=lead,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2028, 12, 31),
    )
    annual = ObjectiveFactory(
        title="Sign 40 new mid-market accounts", parent=strategic, department=department, owner=lead
    )
    initiative = InitiativeFactory(
        name="Key-account programme", department=department, owner=lead, objectives=[annual]
    )
    milestone = MilestoneFactory(initiative=initiative, name="Pilot accounts", owner=contributor)
    return {
        "strategic": strategic,
        "objective": annual,
        "initiative": initiative,
        "milestone": milestone,
    }


@pytest.fixture
def plans(db):
    current = PlanVersionFactory(
        name="FY26 baseline", status=PlanVersionStatus.APPROVED, approved_at=timezone.now()
    )
    draft = PlanVersionFactory(name="FY26 Q2 re-forecast")
    proposal = PlanVersionFactory(name="FY26 Q3 proposal", status=PlanVersionStatus.PROPOSED)
    return {"current": current, "draft": draft, "proposal": proposal}


@pytest.fixture
def membership(contributor, department):
    return Membership.objects.get(person=contributor, department=department)
