"""The KPI chart JSON: plan, tolerance zones, actuals coloured by status, dashed forecast and
the open exceptions, from stored results only."""

import datetime as dt
import json

import pytest

from kpis.charts import COLOURS, kpi_chart
from tests.factories import KpiFactory

JAN, FEB, MAR, APR = (dt.date(2026, m, 1) for m in (1, 2, 3, 4))

SERIES = [
    {"period": JAN, "plan": 100.0, "actual": 99.0, "status": "on_track", "forecast": None,
     "forecast_status": ""},
    {"period": FEB, "plan": 100.0, "actual": 93.0, "status": "amber", "forecast": None,
     "forecast_status": ""},
    {"period": MAR, "plan": 200.0, "actual": None, "status": "missing", "forecast": None,
     "forecast_status": ""},
    {"period": APR, "plan": 100.0, "actual": None, "status": "pending", "forecast": 85.0,
     "forecast_status": "red"},
]  # fmt: skip


def _trace(chart, name):
    found = [t for t in chart["data"] if t["name"] == name]
    assert len(found) == 1, [t["name"] for t in chart["data"]]
    return found[0]


@pytest.fixture
def kpi(db):
    return KpiFactory.build(direction="higher_is_better", amber_threshold=5.0, red_threshold=10.0)


def test_the_chart_has_plan_bands_actuals_forecast_and_exceptions(kpi):
    # when
    chart = kpi_chart(SERIES, kpi, exception_periods=[FEB])

    # then
    names = [t["name"] for t in chart["data"] if t.get("showlegend", True)]
    assert names == [
        "Amber tolerance", "Red tolerance", "Plan", "Actual", "Forecast", "Missing data",
        "Open exception",
    ]  # fmt: skip
    plan = _trace(chart, "Plan")
    assert plan["x"] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert plan["y"] == [100.0, 100.0, 200.0, 100.0]
    actual = _trace(chart, "Actual")
    assert actual["y"] == [99.0, 93.0]
    assert actual["marker"]["color"] == [COLOURS["on_track"], COLOURS["amber"]]
    forecast = _trace(chart, "Forecast")
    assert forecast["line"]["dash"] == "dash"
    assert forecast["x"] == ["2026-02-01", "2026-04-01"]  # from the last actual on
    assert forecast["y"] == [93.0, 85.0]
    assert _trace(chart, "Missing data")["x"] == ["2026-03-01"]
    assert _trace(chart, "Open exception")["x"] == ["2026-02-01"]
    json.dumps(chart)  # plain JSON for plotly.js


def test_percent_tolerance_zones_sit_below_the_plan_for_higher_is_better(kpi):
    # when
    chart = kpi_chart(SERIES, kpi)

    # then: amber from 5% to 10% below plan, red from 10% on
    edge, amber, red = (
        chart["data"][0],
        _trace(chart, "Amber tolerance"),
        _trace(chart, "Red tolerance"),
    )
    assert edge["y"] == [95.0, 95.0, 190.0, 95.0]
    assert amber["y"] == [90.0, 90.0, 180.0, 90.0]
    assert amber["fill"] == red["fill"] == "tonexty"
    assert red["y"] == [85.0, 85.0, 170.0, 85.0]


def test_absolute_tolerance_zones_sit_above_the_plan_for_lower_is_better(db):
    # given
    kpi = KpiFactory.build(
        direction="lower_is_better", tolerance_mode="absolute", amber_threshold=2.0,
        red_threshold=3.0,
    )  # fmt: skip

    # when
    chart = kpi_chart(SERIES[:1], kpi)

    # then
    assert chart["data"][0]["y"] == [102.0]
    assert _trace(chart, "Amber tolerance")["y"] == [103.0]
    assert _trace(chart, "Red tolerance")["y"] == [104.0]


def test_a_band_kpi_shows_its_band(db):
    # given
    kpi = KpiFactory.build(
        direction="within_band", band_low=18.0, band_high=22.0, tolerance_mode="absolute",
        amber_threshold=1.0, red_threshold=2.0,
    )  # fmt: skip

    # when
    chart = kpi_chart(SERIES[:2], kpi)

    # then
    band = _trace(chart, "Band")
    assert band["y"] == [22.0, 22.0]
    assert band["fill"] == "tonexty"
    ambers = [t for t in chart["data"] if t["name"] == "Amber tolerance"]
    assert [t["y"][0] for t in ambers] == [17.0, 24.0]  # amber_low, then red_high


def test_a_series_without_results_gives_an_empty_chart(kpi):
    # when
    chart = kpi_chart([], kpi)

    # then
    assert chart["data"] == []
