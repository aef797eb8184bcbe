"""A contract in force between Procurement (provider) and Sales (consumer): castings supply at a
service level of on-time delivery ≥ 95 %, measured by Procurement's PROC-OTD, criticality 4, a
Sales initiative serving a weight-5 objective depending on it; and the people on both sides."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from govern.choices import Role
from kpis.models import KpiResult
from tests.factories import (
    ContractFactory,
    InitiativeFactory,
    KpiFactory,
    ObjectiveFactory,
    person_with_role,
)

D = dt.date
JUL, AUG, SEP, OCT, NOV = (
    D(2026, 7, 1),
    D(2026, 8, 1),
    D(2026, 9, 1),
    D(2026, 10, 1),
    D(2026, 11, 1),
)


@pytest.fixture
def world(department, other_department, lead):
    provider_owner = person_with_role(Role.CONTRIBUTOR, other_department, username="buyer")
    consumer_owner = person_with_role(Role.CONTRIBUTOR, department, username="planner")
    kpi = KpiFactory(
        code="PROC-OTD",
        name="Supplier on-time delivery",
        department=other_department,
        owner=provider_owner,
        unit="percent",
    )
    contract = in_force_contract(
        code="PROC-SALES-CASTINGS",
        title="Castings supply",
        provider_department=other_department,
        provider_owner=provider_owner,
        consumer_department=department,
        consumer_owner=consumer_owner,
        service_kpi=kpi,
        service_comparison="gte",
        service_threshold=95.0,
        due_date=None,
        criticality=4,
    )
    objective = ObjectiveFactory(department=department, weight=5)
    contract.consumer_initiatives.add(
        InitiativeFactory(department=department, objectives=[objective])
    )
    return SimpleNamespace(
        contract=contract,
        kpi=kpi,
        provider=other_department,
        consumer=department,
        provider_owner=provider_owner,
        consumer_owner=consumer_owner,
        consumer_lead=lead,
        today=timezone.localdate(),
    )


def in_force_contract(**values):
    """An agreed contract (version 1, agreed a month ago)."""
    defaults = {"status": "agreed", "version_number": 1, "agreed_at": timezone.now()}
    return ContractFactory(**{**defaults, **values})


def set_results(kpi, rows):
    """Replace the KPI's computed results with rows of (period, status, actual): plan 100."""
    KpiResult.objects.filter(kpi=kpi).delete()
    for period, status, actual in rows:
        evaluated = status in ("on_track", "amber", "red")
        KpiResult.objects.create(
            kpi=kpi,
            period=period,
            plan=100.0,
            actual=actual if evaluated else None,
            adverse=100.0 - actual if evaluated else None,
            status=status,
        )
    latest = rows[-1][1] if rows else "no_plan"
    type(kpi).objects.filter(pk=kpi.pk).update(status=latest)
