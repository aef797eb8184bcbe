"""The health monitor follows the KPI engine: a recompute re-checks the contracts its KPIs measure
(in the same transaction) and the nightly sweep re-checks every contract in force."""

import datetime as dt

import pytest

from dependencies import signals as receivers
from dependencies.models import Contract
from dependencies.services import health as health_services
from kpis.models import Kpi, KpiException
from kpis.services.recompute import kpi_recompute, kpi_sweep
from kpis.signals import kpis_recomputed
from tests.dependencies.health.conftest import in_force_contract
from tests.factories import MeasurementFactory, TargetFactory

pytestmark = pytest.mark.django_db

SEP = dt.date(2026, 9, 1)


@pytest.fixture(autouse=True)
def ripple(monkeypatch):
    """The ripple syncs asked for, by the receivers and by the health sync."""
    calls = []

    def record(**kwargs):
        calls.append(kwargs)

    monkeypatch.setattr(receivers, "schedule_ripple_sync", record)
    monkeypatch.setattr(health_services, "schedule_ripple_sync", record)
    return calls


def test_a_recompute_that_turns_the_service_kpi_red_puts_the_contract_at_risk(world, ripple):
    # given: 80 against a plan of 95 is 15.8 % adverse, beyond the 10 % red line
    TargetFactory(kpi=world.kpi, period=SEP, value=95.0)
    MeasurementFactory(kpi=world.kpi, period=SEP, value=80.0)

    # when
    kpi_recompute(kpi_ids=[world.kpi.pk], today=world.today)

    # then
    contract = Contract.objects.get(pk=world.contract.pk)
    assert contract.status == "at_risk"
    assert contract.health_reason == "Service level: PROC-OTD is red (needs ≥ 95; latest 80.0)"
    assert KpiException.objects.get(contract=contract).kind == "contract_at_risk"
    assert ripple == [
        {"subject_keys": [f"contract:{contract.pk}"]},
        {"subject_keys": [f"kpi:{world.kpi.pk}"]},
    ]


def test_a_recompute_of_other_kpis_leaves_the_contract_alone(world, ripple):
    # given
    TargetFactory(kpi=world.kpi, period=SEP, value=95.0)
    MeasurementFactory(kpi=world.kpi, period=SEP, value=80.0)
    other = TargetFactory(period=SEP, value=10.0).kpi

    # when
    kpi_recompute(kpi_ids=[other.pk], today=world.today)

    # then
    assert Contract.objects.get(pk=world.contract.pk).status == "agreed"
    assert ripple == [{"subject_keys": [f"kpi:{other.pk}"]}]


def test_a_full_recompute_checks_every_contract_in_force(world, ripple):
    # given: a delivery contract past its due date
    late = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        due_date=world.today - dt.timedelta(days=1),
    )

    # when
    kpis_recomputed.send(sender=Kpi, kpi_ids=None, full=True, today=world.today)

    # then
    late.refresh_from_db()
    assert late.status == "breached"
    assert ripple[-1] == {"subject_keys": None}


def test_the_sweep_applies_the_time_based_rules(world, ripple):
    # given: a contract due tomorrow, agreed when it was checked last
    late = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        due_date=world.today + dt.timedelta(days=1),
    )

    # when: the nightly sweep runs two days later
    kpi_sweep(today=world.today + dt.timedelta(days=2))

    # then
    late.refresh_from_db()
    assert late.status == "breached"
    assert KpiException.objects.get(contract=late).kind == "contract_breached"
    assert ripple[-1] == {"subject_keys": None}


def test_the_nightly_sweep_ends_with_the_contracts_checked_and_nothing_left_to_write(world):
    # given
    late = in_force_contract(
        provider_department=world.provider,
        provider_owner=world.provider_owner,
        consumer_department=world.consumer,
        consumer_owner=world.consumer_owner,
        due_date=world.today - dt.timedelta(days=3),
    )

    # when
    kpi_sweep(today=world.today)

    # then
    late.refresh_from_db()
    assert late.status == "breached"
    report = health_services.contract_health_sync(today=world.today)
    assert (report.changed, report.exceptions_opened, report.exceptions_resolved) == (0, 0, 0)
