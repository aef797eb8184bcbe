"""KPIs for the ingestion tests: Sales KPIs owned by the Sales contributor, one in Procurement."""

from types import SimpleNamespace

import pytest

from tests.factories import KpiFactory


@pytest.fixture
def kpis(department, other_department, contributor, lead):
    return SimpleNamespace(
        intake=KpiFactory(
            code="SALES-INTAKE", name="Order intake", department=department, owner=contributor
        ),
        weekly=KpiFactory(
            code="SALES-CALLS",
            name="Customer calls",
            department=department,
            owner=contributor,
            frequency="weekly",
        ),
        margin=KpiFactory(
            code="SALES-MARGIN", name="Gross margin", department=department, owner=lead
        ),
        otd=KpiFactory(
            code="PROC-OTD", name="Supplier on-time delivery", department=other_department
        ),
    )


@pytest.fixture
def recompute_calls(monkeypatch):
    """What was queued for recompute (run when the transaction commits), instead of running it."""
    from kpis import tasks

    calls = []
    monkeypatch.setattr(tasks.kpi_recompute, "delay", lambda **kwargs: calls.append(kwargs))
    return calls
