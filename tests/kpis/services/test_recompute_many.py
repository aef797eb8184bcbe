"""The recompute of several KPIs at once: each KPI gets what it gets when recomputed alone,
whatever order its id and code sort in; on PostgreSQL the paths chosen by size (a plain fetch
or COPY to load, one INSERT … VALUES or a binary COPY to write) store the same rows."""

import datetime as dt

import pandas as pd
import pytest
from django.db import connection

from kpis import selectors
from kpis.models import Kpi, KpiResult
from kpis.services import recompute as service
from kpis.services.recompute import kpi_recompute
from tests.factories import KpiFactory, MeasurementFactory, TargetFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 20)
JAN, FEB, MAR, APR, MAY, JUN = (dt.date(2026, month, 1) for month in range(1, 7))


def kpi(code: str, plan: dict, actuals: dict, **kwargs) -> Kpi:
    made = KpiFactory(code=code, **kwargs)
    for period, value in plan.items():
        TargetFactory(kpi=made, period=period, value=value)
    for period, value in actuals.items():
        MeasurementFactory(kpi=made, period=period, value=value)
    return made


def five_kpis() -> list[Kpi]:
    """Five KPIs in different states, created so that their ids sort the opposite way to
    their codes."""
    return [
        kpi(
            "E-RED", dict.fromkeys((JAN, FEB, MAR, APR), 100.0), {JAN: 100.0, FEB: 94.0, MAR: 85.0}
        ),
        kpi("D-PENDING", {JUN: 100.0}, {}),
        kpi("C-BARE", {}, {JAN: 3.0}),
        kpi(
            "B-LOWER",
            dict.fromkeys((JAN, FEB, MAR), 50.0),
            {JAN: 50.0, FEB: 53.0, MAR: 51.0},
            direction="lower_is_better",
            tolerance_mode="absolute",
            amber_threshold=2.0,
            red_threshold=5.0,
        ),
        kpi(
            "A-BAND",
            dict.fromkeys((JAN, FEB, MAR, APR), 100.0),
            {JAN: 100.0, FEB: 95.0, MAR: 121.0},
            direction="within_band",
            band_low=90.0,
            band_high=110.0,
        ),
    ]


def snapshot() -> tuple[list, dict]:
    results = list(
        KpiResult.objects.order_by("kpi__code", "period").values_list(
            "kpi__code", "period", "plan", "actual", "variance", "variance_pct", "adverse",
            "status", "forecast", "forecast_status",
        )
    )  # fmt: skip
    statuses = {
        code: (status, period, forecast_status)
        for code, status, period, forecast_status in Kpi.objects.values_list(
            "code", "status", "status_period", "forecast_status"
        )
    }
    return results, statuses


def forget_results() -> None:
    KpiResult.objects.all().delete()
    Kpi.objects.update(status="no_plan", status_period=None, forecast_status="", computed_at=None)


def test_recomputing_kpis_together_gives_each_what_it_gets_alone():
    # given
    kpis = five_kpis()

    # when
    report = kpi_recompute(kpi_ids=[k.pk for k in kpis], today=TODAY)
    together = snapshot()
    forget_results()
    for one in kpis:
        kpi_recompute(kpi_ids=[one.pk], today=TODAY)
    alone = snapshot()

    # then
    assert together == alone
    assert together[1] == {
        "E-RED": ("red", MAR, "red"),  # March 15% short; the trend forecasts 78 for April
        "D-PENDING": ("pending", None, ""),
        "C-BARE": ("no_plan", None, ""),
        "B-LOWER": ("on_track", MAR, "no_plan"),  # 1 over in March; no plan after March
        "A-BAND": ("amber", MAR, "red"),  # 10% above the band; 126.3 forecast for April
    }
    assert (report.kpis, report.results_written, report.kpis_changed) == (5, 17, 5)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_plain_and_copy_loads_give_the_same_frames(monkeypatch):
    # given computed KPIs
    kpis = five_kpis()
    kpi_recompute(kpi_ids=[k.pk for k in kpis], today=TODAY)
    ids = [k.pk for k in kpis]
    plan_version = kpis[0].targets.first().plan_version_id

    def loads() -> list[pd.DataFrame]:
        frames = [
            selectors.recompute_plan_frame(plan_version_id=plan_version, kpi_ids=ids),
            selectors.recompute_actuals_frame(kpi_ids=ids),
            selectors.recompute_results_frame(kpi_ids=ids),
        ]
        return [f.sort_values(["kpi_id", "period"]).reset_index(drop=True) for f in frames]

    # when
    plain = loads()
    monkeypatch.setattr(selectors, "PLAIN_LOAD_KPIS", 0)
    copied = loads()

    # then
    assert [len(frame) for frame in plain] == [12, 10, 17]
    for one, other in zip(plain, copied, strict=True):
        pd.testing.assert_frame_equal(one, other)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_values_and_copy_writes_store_the_same_rows(monkeypatch):
    # given
    kpis = five_kpis()
    ids = [k.pk for k in kpis]

    # when
    kpi_recompute(kpi_ids=ids, today=TODAY)
    by_values = snapshot()
    forget_results()
    monkeypatch.setattr(service, "VALUES_WRITE_ROWS", 0)
    monkeypatch.setattr(selectors, "PLAIN_LOAD_KPIS", 0)
    kpi_recompute(kpi_ids=ids, today=TODAY)
    by_copy = snapshot()

    # then
    assert by_values == by_copy
    assert len(by_values[0]) == 17
    assert kpi_recompute(kpi_ids=ids, today=TODAY).results_written == 0
