"""A Sales KPI owned by a contributor, measured against an objective of weight 4, and the people
around it: the Sales lead and viewer, a Procurement lead, the PMO and an executive."""

import datetime as dt
from types import SimpleNamespace

import pytest

from govern.choices import Role
from kpis.models import KpiResult
from tests.factories import KpiFactory, ObjectiveFactory, person_with_role

D = dt.date
JAN, FEB, MAR, APR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)


@pytest.fixture
def other_lead(other_department):
    return person_with_role(Role.DEPARTMENT_LEAD, other_department)


@pytest.fixture
def world(department, other_department, pmo, executive, lead, contributor, viewer, other_lead):
    kpi = KpiFactory(
        code="SALES-INTAKE",
        name="Order intake",
        department=department,
        owner=contributor,
        criticality=4,
        amber_threshold=5.0,
        red_threshold=10.0,
    )
    kpi.objectives.add(ObjectiveFactory(department=department, weight=4))
    kpi.objectives.add(ObjectiveFactory(department=department, weight=2))
    return SimpleNamespace(
        kpi=kpi,
        department=department,
        other_department=other_department,
        pmo=pmo,
        executive=executive,
        lead=lead,
        owner=contributor,
        viewer=viewer,
        other_lead=other_lead,
    )


def set_results(kpi, rows):
    """Replace the KPI's computed results: rows of (period, status, adverse[, forecast,
    forecast_status]); plan 100, actual 100 − adverse (none when missing or pending)."""
    KpiResult.objects.filter(kpi=kpi).delete()
    for period, status, adverse, *forecast in rows:
        evaluated = status in ("on_track", "amber", "red")
        KpiResult.objects.create(
            kpi=kpi,
            period=period,
            plan=100.0,
            actual=100.0 - adverse if evaluated else None,
            variance=-adverse if evaluated else None,
            variance_pct=-adverse if evaluated else None,
            adverse=adverse if evaluated else None,
            status=status,
            forecast=forecast[0] if forecast else None,
            forecast_status=forecast[1] if forecast else "",
        )
