"""Forecast engine: least-squares trend over the last N actuals on known series."""

import datetime as dt

import pandas as pd
import pytest

from kpis.engine.forecast import COLUMNS, forecast
from tests.kpis.engine.test_variance import actual_frame, kpi_frame, plan_frame


def months(*values: float, kpi_id: int = 1, year: int = 2026) -> pd.DataFrame:
    return actual_frame(
        *((kpi_id, dt.date(year, index + 1, 1), value) for index, value in enumerate(values))
    )


def test_forecast_projects_a_linear_series_exactly():
    # given y = 10 + 2k for January..June, a plan met in July and missed by 20 % in August
    actuals = months(10.0, 12.0, 14.0, 16.0, 18.0, 20.0)
    plan = plan_frame((1, dt.date(2026, 7, 1), 22.0), (1, dt.date(2026, 8, 1), 30.0))

    # when
    result = forecast(actuals, plan, kpi_frame({"kpi_id": 1}), points=6, horizon=2)

    # then
    assert result.to_dict("records") == [
        {"kpi_id": 1, "period": pd.Timestamp(2026, 7, 1), "forecast": pytest.approx(22.0),
         "forecast_status": "on_track"},
        {"kpi_id": 1, "period": pd.Timestamp(2026, 8, 1), "forecast": pytest.approx(24.0),
         "forecast_status": "red"},
    ]  # fmt: skip


def test_forecast_fits_least_squares_over_the_last_points_only():
    # given 100, 0 (ignored: older than the last 3 points), then 100, 94, 85
    actuals = months(100.0, 0.0, 100.0, 94.0, 85.0)

    # when
    result = forecast(actuals, plan_frame(), kpi_frame({"kpi_id": 1}), points=3, horizon=2)

    # then slope −7.5 and fitted level 85.5 at May: June 78, July 70.5; no plan → no_plan
    assert list(result["period"]) == [pd.Timestamp(2026, 6, 1), pd.Timestamp(2026, 7, 1)]
    assert list(result["forecast"]) == pytest.approx([78.0, 70.5])
    assert list(result["forecast_status"]) == ["no_plan", "no_plan"]


def test_forecast_keeps_gaps_in_the_actuals_on_the_time_axis():
    # given y = 10 + 2 × month index with March missing
    actuals = actual_frame(
        (1, dt.date(2026, 1, 1), 10.0), (1, dt.date(2026, 2, 1), 12.0),
        (1, dt.date(2026, 4, 1), 16.0), (1, dt.date(2026, 5, 1), 18.0),
    )  # fmt: skip

    # when
    result = forecast(actuals, plan_frame(), kpi_frame({"kpi_id": 1}), points=6, horizon=1)

    # then
    assert result["forecast"].tolist() == pytest.approx([20.0])


@pytest.mark.parametrize(
    ("frequency", "starts", "expected_periods"),
    [
        (
            "weekly",
            [dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16)],
            [pd.Timestamp(2026, 3, 23), pd.Timestamp(2026, 3, 30)],
        ),
        (
            "quarterly",
            [dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1)],
            [pd.Timestamp(2026, 10, 1), pd.Timestamp(2027, 1, 1)],
        ),
        (
            "monthly",
            [dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)],
            [pd.Timestamp(2026, 12, 1), pd.Timestamp(2027, 1, 1)],
        ),
    ],
)
def test_forecast_periods_follow_the_frequency(frequency, starts, expected_periods):
    # given 1, 2, 3 on consecutive periods
    actuals = actual_frame(*((1, start, float(n + 1)) for n, start in enumerate(starts)))

    # when
    result = forecast(actuals, plan_frame(), kpi_frame({"kpi_id": 1, "frequency": frequency}), 6, 2)

    # then
    assert list(result["period"]) == expected_periods
    assert list(result["forecast"]) == pytest.approx([4.0, 5.0])


def test_forecast_needs_three_points():
    # given KPI 1 with two actuals and KPI 2 with three
    actuals = pd.concat([months(1.0, 2.0, kpi_id=1), months(5.0, 5.0, 5.0, kpi_id=2)])
    kpis = kpi_frame({"kpi_id": 1}, {"kpi_id": 2})

    # when
    result = forecast(actuals, plan_frame(), kpis, points=6, horizon=1)

    # then only KPI 2 is forecast, flat at 5
    assert result[["kpi_id", "forecast"]].to_dict("records") == [{"kpi_id": 2, "forecast": 5.0}]


def test_forecast_of_nothing_returns_the_columns():
    # given no actuals
    # when
    result = forecast(actual_frame(), plan_frame(), kpi_frame({"kpi_id": 1}), 6, 2)

    # then
    assert list(result.columns) == COLUMNS
    assert result.empty


@pytest.mark.parametrize(
    ("kpi", "next_plan", "status"),
    [
        # lower is better, rising 100 → 104 → 108: forecast 112
        ({"direction": "lower_is_better"}, 112.0, "on_track"),
        ({"direction": "lower_is_better"}, 106.0, "amber"),  # 6 / 106 = 5.7 %
        ({"direction": "lower_is_better"}, 100.0, "red"),  # 12 %
        ({"direction": "higher_is_better"}, 120.0, "amber"),  # 8 / 120 = 6.7 %
        ({"direction": "higher_is_better", "tolerance_mode": "absolute"}, 118.0, "amber"),  # 6
        ({"direction": "within_band", "band_low": 90.0, "band_high": 110.0}, 100.0, "on_track"),
        ({"direction": "within_band", "band_low": 90.0, "band_high": 105.0}, 100.0, "amber"),
        ({"direction": "within_band", "band_low": 90.0, "band_high": 100.0}, 100.0, "red"),
    ],
)
def test_forecast_status_uses_the_tolerance_rules(kpi, next_plan, status):
    # given a rising series and a plan for the next period
    actuals = months(100.0, 104.0, 108.0)
    plan = plan_frame((1, dt.date(2026, 4, 1), next_plan))

    # when
    result = forecast(actuals, plan, kpi_frame({"kpi_id": 1, **kpi}), points=6, horizon=1)

    # then
    assert result["forecast"].tolist() == pytest.approx([112.0])
    assert result["forecast_status"].tolist() == [status]
