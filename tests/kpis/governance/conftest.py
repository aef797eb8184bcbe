"""The target-gaming world: a Sales KPI (higher is better, criticality 4, measuring an objective
of weight 4) owned by a contributor, the Sales lead, the PMO (two members: the first one owns the
signals) and an executive, and three plan versions approved one after the other (v1 → v2 → v3,
v3 current). Targets are set per version with `targets(...)`; the approval of v3 is announced by
sending `plan_version_approved` as the plan-version lifecycle does."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from govern.choices import PlanVersionStatus, Role
from govern.signals import plan_version_approved
from kpis.models import Target
from tests.factories import (
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    PersonFactory,
    PlanVersionFactory,
)

D = dt.date
JAN, FEB, MAR, APR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)


def _at(day: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 1, day, 9, 0))


@pytest.fixture
def world(department, pmo, executive, lead, contributor):
    later_pmo = PersonFactory(username="pmo.second")
    MembershipFactory(person=later_pmo, department=pmo.departments.get(), role=Role.PMO)
    kpi = KpiFactory(
        code="SALES-INTAKE",
        name="Order intake",
        department=department,
        owner=contributor,
        criticality=4,
    )
    kpi.objectives.add(ObjectiveFactory(department=department, weight=4))
    v1 = PlanVersionFactory(
        name="FY26 budget",
        status=PlanVersionStatus.SUPERSEDED,
        approved_at=_at(2),
        superseded_at=_at(10),
    )
    v2 = PlanVersionFactory(
        name="FY26 rev 1",
        status=PlanVersionStatus.SUPERSEDED,
        based_on=v1,
        approved_at=_at(10),
        superseded_at=_at(20),
    )
    v3 = PlanVersionFactory(
        name="FY26 rev 2", status=PlanVersionStatus.APPROVED, based_on=v2, approved_at=_at(20)
    )
    return SimpleNamespace(
        kpi=kpi,
        department=department,
        pmo=pmo,
        later_pmo=later_pmo,
        executive=executive,
        lead=lead,
        owner=contributor,
        v1=v1,
        v2=v2,
        v3=v3,
    )


def targets(kpi, version, values: dict[dt.date, float]) -> None:
    Target.objects.bulk_create(
        Target(kpi=kpi, plan_version=version, period=period, value=value)
        for period, value in values.items()
    )


def approve(world, version=None, previous=None):
    """Announce that `version` (v3) replaced `previous` (v2), as the lifecycle does."""
    return plan_version_approved.send(
        sender=type(world.v3),
        plan_version=version or world.v3,
        previous=previous or world.v2,
        actor=world.executive,
    )
