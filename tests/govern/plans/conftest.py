"""A plan to version: the contracts world (Procurement supplies Sales, a current plan), an agreed
contract in it, and a red KPI with targets in the current plan, last month and this month."""

from types import SimpleNamespace

import pytest

from kpis.models import Target
from tests.dependencies.contract_support import agreed, build_world
from tests.factories import KpiFactory, MeasurementFactory
from tests.govern.plans.support import months_ago, this_month


@pytest.fixture
def scene(db):
    world = build_world()
    kpi = KpiFactory(
        code="PROC-LEAD", name="Supplier lead time", department=world.provider,
        direction="lower_is_better", amber_threshold=5.0, red_threshold=10.0,
    )  # fmt: skip
    last, running = months_ago(1), this_month()
    for period in (last, running):
        Target.objects.create(kpi=kpi, plan_version=world.plan, period=period, value=20.0)
        MeasurementFactory(kpi=kpi, period=period, value=25.0)
    return SimpleNamespace(
        world=world,
        plan=world.plan,
        pmo=world.pmo,
        executive=world.executive,
        kpi=kpi,
        last=last,
        running=running,
        contract=agreed(world),
    )
