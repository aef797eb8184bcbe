"""Two plan versions' targets compared: changed per KPI and period (old, new, change %, eased
given the KPI's direction), periods added and removed, KPIs planned in only one of them; scoped to
the KPIs the user may see, in a fixed number of queries."""

import datetime as dt

import pytest

from govern import services
from govern.choices import Role
from kpis.models import Target
from kpis.selectors import plan_target_changes
from tests.factories import DepartmentFactory, KpiFactory, PersonFactory, person_with_role
from tests.govern.plans.support import first_plan

JAN, FEB, MAR = (dt.date(2026, month, 1) for month in (1, 2, 3))


@pytest.fixture
def versions(pmo, executive):
    current = first_plan(pmo=pmo, executive=executive)
    return current, services.plan_version_create_draft(actor=pmo, name="Re-forecast")


def _plan(kpi, version, values: dict) -> None:
    Target.objects.bulk_create(
        Target(kpi=kpi, plan_version=version, period=period, value=value)
        for period, value in values.items()
    )


def _rows(changes) -> list[tuple]:
    return [
        (r["kpi_code"], r["period"], r["old"], r["new"], r["change_pct"], r["kind"], r["eased"])
        for r in changes.rows[:]
    ]


def test_targets_changed_added_and_removed_with_the_eased_flag(pmo, versions):
    # given: every kind of change between the current version (a) and a draft (b)
    a, b = versions
    department = DepartmentFactory()
    owner = PersonFactory()

    def kpi(code, direction="higher_is_better", **kwargs):
        return KpiFactory(
            code=code, direction=direction, department=department, owner=owner, **kwargs
        )

    otd, cost = kpi("PROC-OTD"), kpi("LOG-COST", "lower_is_better")
    stock = kpi("LOG-STOCK", "within_band", band_low=10.0, band_high=20.0)
    scrap = kpi("PROD-SCRAP", "lower_is_better")
    new_kpi, old_kpi = kpi("CS-NPS"), kpi("SALES-OLD")
    _plan(otd, a, {JAN: 95.0, FEB: 95.0, MAR: 95.0})
    _plan(otd, b, {JAN: 95.0, FEB: 90.0, MAR: 97.5})  # eased in Feb, harder in Mar
    _plan(cost, a, {JAN: 100.0, FEB: 0.0})
    _plan(cost, b, {JAN: 120.0, FEB: 5.0, MAR: 110.0})  # eased; from 0; a period added
    _plan(stock, a, {JAN: 15.0})
    _plan(stock, b, {JAN: 16.0})  # a band KPI: judged by its band, not its target
    _plan(scrap, a, {JAN: 2.0, FEB: 2.0})
    _plan(scrap, b, {JAN: 2.0})  # a period removed
    _plan(new_kpi, b, {JAN: 40.0, FEB: 42.0})
    _plan(old_kpi, a, {JAN: 1.0})

    # when
    changes = plan_target_changes(user=pmo, a=a, b=b)

    # then
    assert _rows(changes) == [
        ("LOG-COST", JAN, 100.0, 120.0, 20.0, "changed", True),
        ("LOG-COST", FEB, 0.0, 5.0, None, "changed", True),
        ("LOG-COST", MAR, None, 110.0, None, "added", None),
        ("LOG-STOCK", JAN, 15.0, 16.0, pytest.approx(6.666666666), "changed", None),
        ("PROC-OTD", FEB, 95.0, 90.0, pytest.approx(-5.263157894), "changed", True),
        ("PROC-OTD", MAR, 95.0, 97.5, pytest.approx(2.631578947), "changed", False),
        ("PROD-SCRAP", FEB, 2.0, None, None, "removed", None),
    ]
    assert (changes.changed, changes.eased) == (5, 3)
    assert (changes.periods_added, changes.periods_removed, changes.total) == (1, 1, 7)
    assert [(k.code, k.periods) for k in changes.kpis_added] == [("CS-NPS", 2)]
    assert [(k.code, k.periods) for k in changes.kpis_removed] == [("SALES-OLD", 1)]
    assert (changes.kpis_added_count, changes.kpis_removed_count) == (1, 1)


def _kpi_rows(changes) -> list[tuple]:
    return [
        (r["kpi_code"], r["differing"], r["planned"], r["changed"], r["added"], r["removed"],
         r["first_period"], r["last_period"], r["first_old"], r["first_new"],
         r["mean_change_pct"], r["net_change"], r["verdict"], r["eased_while_red"])
        for r in changes.kpis[:]
    ]  # fmt: skip


def test_targets_changed_per_kpi_with_the_verdict_eased_while_red_first(pmo, versions):
    # given: a red KPI eased on the whole (cut 5, raised 2.5), one raised from 0 and extended,
    # a band KPI, one with a period removed only, a red one re-phased, and an on-track one eased
    a, b = versions
    department, owner = DepartmentFactory(), PersonFactory()

    def kpi(code, direction="higher_is_better", status="on_track", **kwargs):
        return KpiFactory(
            code=code, direction=direction, status=status, department=department, owner=owner,
            **kwargs,
        )  # fmt: skip

    otd, cost = kpi("PROC-OTD", status="red"), kpi("LOG-COST", "lower_is_better")
    stock = kpi("LOG-STOCK", "within_band", band_low=10.0, band_high=20.0)
    scrap, mix = kpi("PROD-SCRAP", "lower_is_better"), kpi("FIN-MIX", status="red")
    _plan(otd, a, {JAN: 95.0, FEB: 95.0, MAR: 95.0})
    _plan(otd, b, {JAN: 95.0, FEB: 90.0, MAR: 97.5})
    _plan(cost, a, {JAN: 100.0, FEB: 0.0})
    _plan(cost, b, {JAN: 120.0, FEB: 5.0, MAR: 110.0})
    _plan(stock, a, {JAN: 15.0})
    _plan(stock, b, {JAN: 16.0})
    _plan(scrap, a, {JAN: 2.0, FEB: 2.0})
    _plan(scrap, b, {JAN: 2.0})
    _plan(mix, a, {JAN: 10.0, FEB: 20.0, MAR: 30.0})
    _plan(mix, b, {JAN: 10.1, FEB: 19.9, MAR: 30.0})  # 0.1 up, 0.1 down: re-phased

    # when
    changes = plan_target_changes(user=pmo, a=a, b=b)

    # then
    assert _kpi_rows(changes) == [
        ("PROC-OTD", 2, 3, 2, 0, 0, FEB, MAR, 95.0, 90.0, pytest.approx(-1.315789473),
         -2.5, "eased", True),
        ("LOG-COST", 3, 3, 2, 1, 0, JAN, MAR, 100.0, 120.0, 20.0, 25.0, "eased", False),
        ("FIN-MIX", 2, 3, 2, 0, 0, JAN, FEB, 10.0, 10.1, pytest.approx(0.25),
         pytest.approx(0.0), "rephased", False),
        ("LOG-STOCK", 1, 1, 1, 0, 0, JAN, JAN, 15.0, 16.0, pytest.approx(6.666666666), 1.0,
         "changed", False),
        ("PROD-SCRAP", 1, 2, 0, 0, 1, FEB, FEB, 2.0, None, None, 0.0, None, False),
    ]  # fmt: skip
    assert (changes.kpis_changed, changes.kpis_eased, changes.kpis_eased_while_red) == (5, 2, 1)
    assert (changes.changed, changes.eased, changes.total) == (7, 4, 9)


def test_a_kpis_periods_come_with_its_row_and_the_lists_narrow_to_one_kpi(pmo, versions):
    # given a KPI with four changed periods and another with one
    a, b = versions
    department, owner = DepartmentFactory(), PersonFactory()
    many = KpiFactory(code="MANY", department=department, owner=owner)
    one = KpiFactory(code="ONE", department=department, owner=owner)
    _plan(many, a, {JAN: 1.0, FEB: 2.0, MAR: 3.0, dt.date(2026, 4, 1): 4.0})
    _plan(many, b, {JAN: 2.0, FEB: 3.0, MAR: 4.0, dt.date(2026, 4, 1): 5.0})
    _plan(one, a, {JAN: 1.0})
    _plan(one, b, {JAN: 2.0})

    # when
    rows = plan_target_changes(user=pmo, a=a, b=b).kpis.with_periods(3)[:]
    narrowed = plan_target_changes(user=pmo, a=a, b=b, kpi=one.pk)

    # then
    assert [
        (r["kpi_code"], [p["period"] for p in r["periods"]], r["periods_more"]) for r in rows
    ] == [
        ("MANY", [JAN, FEB, MAR], 1),
        ("ONE", [JAN], 0),
    ]
    assert rows[0]["periods"][0] == {
        "kpi_id": many.pk, "kpi_code": "MANY", "kpi_name": many.name,
        "direction": "higher_is_better", "period": JAN, "old": 1.0, "new": 2.0,
        "change_pct": 100.0, "kind": "changed", "eased": False,
    }  # fmt: skip
    assert ([r["kpi_code"] for r in narrowed.kpis[:]], len(narrowed.rows)) == (["ONE"], 1)
    assert (narrowed.changed, narrowed.kpis_changed) == (5, 2)


def test_identical_versions_have_no_changes(pmo, versions):
    # given a draft copied from the current version
    a, _ = versions
    kpi = KpiFactory()
    _plan(kpi, a, {JAN: 1.0, FEB: 2.0})
    b = services.plan_version_create_draft(actor=pmo, name="Copy")

    # when
    changes = plan_target_changes(user=pmo, a=a, b=b)

    # then
    assert (_rows(changes), changes.total, changes.kpis_added_count) == ([], 0, 0)
    assert (changes.kpis[:], changes.kpis_changed, changes.kpis_eased) == ([], 0, 0)


def test_a_lead_compares_only_the_kpis_they_may_see(versions):
    # given a changed target in Sales and one in Procurement
    a, b = versions
    sales, procurement = DepartmentFactory(code="SALES"), DepartmentFactory(code="PROC")
    lead = person_with_role(Role.DEPARTMENT_LEAD, sales)
    mine = KpiFactory(code="SALES-FILL", department=sales)
    theirs = KpiFactory(code="PROC-OTD", department=procurement)
    for kpi in (mine, theirs):
        _plan(kpi, a, {JAN: 10.0})
        _plan(kpi, b, {JAN: 9.0})

    # when
    changes = plan_target_changes(user=lead, a=a, b=b)

    # then
    assert [row[0] for row in _rows(changes)] == ["SALES-FILL"]
    assert (changes.changed, changes.eased) == (1, 1)


def test_the_comparison_takes_a_fixed_number_of_queries(
    pmo, versions, django_assert_max_num_queries
):
    # given 30 KPIs with changed, added and removed targets
    a, b = versions
    department, owner = DepartmentFactory(), PersonFactory()
    for n in range(30):
        kpi = KpiFactory(department=department, owner=owner)
        _plan(kpi, a, {JAN: 10.0, FEB: 10.0})
        _plan(kpi, b, {JAN: 20.0 + n, MAR: 11.0})

    # when: the counts, then the first page of rows, of KPIs with their periods, the KPI lists
    with django_assert_max_num_queries(8):
        changes = plan_target_changes(user=pmo, a=a, b=b)
        rows = list(changes.rows[:20])
        kpis = changes.kpis.with_periods(10)[:25]
        listed = list(changes.kpis_added[:50]), list(changes.kpis_removed[:50])

    # then
    assert (changes.total, len(rows), listed) == (90, 20, ([], []))
    assert (changes.kpis_changed, len(kpis), {len(k["periods"]) for k in kpis}) == (30, 25, {3})
