"""A plan to version: the contracts world (Procurement supplies Sales, a current plan), an agreed
contract in it, and a red KPI with targets in the current plan, last month and this month."""

from types import SimpleNamespace

import pytest

from govern import services
from kpis.models import Kpi, Target
from kpis.periods import shift
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


@pytest.fixture
def reforecast(scene):
    """A draft re-forecast touching five KPIs, one per case of the per-KPI comparison (last month
    L, this month R, next month N):

    - PROC-LEAD (the scene's, lower is better, red): R 20 → 24, eased while red;
    - SALES-WIN (higher is better, red): R 80 → 72, eased while red;
    - PROC-COST (lower is better, on track): L 100 → 110, R 100 → 120, eased;
    - PROC-AUDIT (higher is better, on track): R 50 → 55 and N added at 60, tightened;
    - PROC-MIX (higher is better, red): L 100 → 110, R 50 → 40, nets to 0: re-phased."""
    world, last, running = scene.world, scene.last, scene.running
    nxt = shift(running, "monthly", 1)
    kpis = {"PROC-LEAD": scene.kpi}
    planned = {
        "SALES-WIN": (world.consumer, "higher_is_better", {last: 80.0, running: 80.0}),
        "PROC-COST": (world.provider, "lower_is_better", {last: 100.0, running: 100.0}),
        "PROC-AUDIT": (world.provider, "higher_is_better", {last: 50.0, running: 50.0}),
        "PROC-MIX": (world.provider, "higher_is_better", {last: 100.0, running: 50.0}),
    }
    for code, (department, direction, values) in planned.items():
        kpis[code] = KpiFactory(
            code=code, name=code.title(), department=department, direction=direction
        )
        Target.objects.bulk_create(
            Target(kpi=kpis[code], plan_version=scene.plan, period=period, value=value)
            for period, value in values.items()
        )
    draft = services.plan_version_create_draft(actor=scene.pmo, name="Re-forecast")
    changes = {
        ("PROC-LEAD", running): 24.0,
        ("SALES-WIN", running): 72.0,
        ("PROC-COST", last): 110.0,
        ("PROC-COST", running): 120.0,
        ("PROC-AUDIT", running): 55.0,
        ("PROC-MIX", last): 110.0,
        ("PROC-MIX", running): 40.0,
    }
    for (code, period), value in changes.items():
        Target.objects.filter(plan_version=draft, kpi=kpis[code], period=period).update(value=value)
    Target.objects.create(kpi=kpis["PROC-AUDIT"], plan_version=draft, period=nxt, value=60.0)
    Kpi.objects.filter(code__in=["PROC-LEAD", "SALES-WIN", "PROC-MIX"]).update(status="red")
    Kpi.objects.filter(code__in=["PROC-COST", "PROC-AUDIT"]).update(status="on_track")
    return SimpleNamespace(draft=draft, kpis=kpis, next=nxt)
