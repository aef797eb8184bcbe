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

    # when: the counts, then the first page of rows and the KPI lists
    with django_assert_max_num_queries(6):
        changes = plan_target_changes(user=pmo, a=a, b=b)
        rows = list(changes.rows[:20])
        listed = list(changes.kpis_added[:50]), list(changes.kpis_removed[:50])

    # then
    assert (changes.total, len(rows), listed) == (90, 20, ([], []))
