"""Variance engine: hand-computed expectations for every direction, tolerance mode, zero plans,
band KPIs and the missing/pending boundary."""

import datetime as dt
import math

import pandas as pd
import pytest

from kpis.engine.variance import COLUMNS, compute_variance
from kpis.periods import period_end, period_ends

TODAY = dt.date(2026, 6, 15)
MARCH = dt.date(2026, 3, 1)


def kpi_frame(*rows: dict) -> pd.DataFrame:
    defaults = {
        "direction": "higher_is_better",
        "frequency": "monthly",
        "tolerance_mode": "percent",
        "amber": 5.0,
        "red": 10.0,
        "band_low": None,
        "band_high": None,
    }
    return pd.DataFrame([{**defaults, **row} for row in rows]).astype(
        {"band_low": "float64", "band_high": "float64"}
    )


def plan_frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["kpi_id", "period", "plan"])


def actual_frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["kpi_id", "period", "actual"])


def one_period(kpi: dict, plan: float, actual: float) -> dict:
    result = compute_variance(
        plan_frame((1, MARCH, plan)),
        actual_frame((1, MARCH, actual)),
        kpi_frame({"kpi_id": 1, **kpi}),
        today=TODAY,
        grace_days=7,
    )
    assert len(result) == 1
    return result.iloc[0].to_dict()


HIGHER = {"direction": "higher_is_better"}
LOWER = {"direction": "lower_is_better"}
ABSOLUTE = {"tolerance_mode": "absolute", "amber": 2.0, "red": 5.0}
HIGHER_ABS = {**HIGHER, **ABSOLUTE}
LOWER_ABS = {**LOWER, **ABSOLUTE}
BAND = {"direction": "within_band", "band_low": 90.0, "band_high": 110.0}
BAND_ABS = {**BAND, "tolerance_mode": "absolute", "amber": 2.0, "red": 5.0}
BAND_AT_ZERO = {"direction": "within_band", "band_low": -10.0, "band_high": 0.0}


@pytest.mark.parametrize(
    ("kpi", "plan", "actual", "variance", "variance_pct", "adverse", "status"),
    [
        # higher is better, percent of plan
        (HIGHER, 100.0, 100.0, 0.0, 0.0, 0.0, "on_track"),
        (HIGHER, 100.0, 95.0, -5.0, -5.0, 5.0, "on_track"),  # exactly on amber: still green
        (HIGHER, 100.0, 94.0, -6.0, -6.0, 6.0, "amber"),
        (HIGHER, 100.0, 90.0, -10.0, -10.0, 10.0, "amber"),  # exactly on red: still amber
        (HIGHER, 100.0, 89.0, -11.0, -11.0, 11.0, "red"),
        (HIGHER, 100.0, 120.0, 20.0, 20.0, -20.0, "on_track"),
        (HIGHER, 80.0, 76.0, -4.0, -5.0, 5.0, "on_track"),  # 4 × 100 / 80, no float drift
        (HIGHER, -50.0, -55.0, -5.0, -10.0, 10.0, "amber"),  # negative plan: % of |plan|
        # lower is better, percent of plan
        (LOWER, 100.0, 106.0, 6.0, 6.0, 6.0, "amber"),
        (LOWER, 100.0, 111.0, 11.0, 11.0, 11.0, "red"),
        (LOWER, 100.0, 80.0, -20.0, -20.0, -20.0, "on_track"),
        # absolute tolerance, in units
        (HIGHER_ABS, 50.0, 49.0, -1.0, -2.0, 1.0, "on_track"),
        (HIGHER_ABS, 50.0, 47.0, -3.0, -6.0, 3.0, "amber"),
        (HIGHER_ABS, 50.0, 44.0, -6.0, -12.0, 6.0, "red"),
        (LOWER_ABS, 50.0, 52.0, 2.0, 4.0, 2.0, "on_track"),
        (LOWER_ABS, 50.0, 56.0, 6.0, 12.0, 6.0, "red"),
        # zero plan: no variance %, a percent tolerance compares the units instead
        (HIGHER, 0.0, -3.0, -3.0, None, 3.0, "on_track"),
        (HIGHER, 0.0, -6.0, -6.0, None, 6.0, "amber"),
        (LOWER, 0.0, 12.0, 12.0, None, 12.0, "red"),
        (LOWER_ABS, 0.0, 3.0, 3.0, None, 3.0, "amber"),
        # within a band 90..110, percent of the violated edge
        (BAND, 100.0, 100.0, 0.0, 0.0, 0.0, "on_track"),
        (BAND, 100.0, 110.0, 10.0, 10.0, 0.0, "on_track"),  # on the edge is inside
        (BAND, 100.0, 90.0, -10.0, -10.0, 0.0, "on_track"),
        (BAND, 100.0, 89.0, -11.0, -11.0, 100 / 90, "on_track"),
        (BAND, 100.0, 85.0, -15.0, -15.0, 500 / 90, "amber"),
        (BAND, 100.0, 80.0, -20.0, -20.0, 1000 / 90, "red"),
        (BAND, 100.0, 115.0, 15.0, 15.0, 500 / 110, "on_track"),
        (BAND, 100.0, 116.0, 16.0, 16.0, 600 / 110, "amber"),
        (BAND, 100.0, 122.0, 22.0, 22.0, 1200 / 110, "red"),
        # within a band, absolute
        (BAND_ABS, 100.0, 87.0, -13.0, -13.0, 3.0, "amber"),
        (BAND_ABS, 100.0, 116.0, 16.0, 16.0, 6.0, "red"),
        (BAND_ABS, 100.0, 95.0, -5.0, -5.0, 0.0, "on_track"),
        # a band edge at 0: the percent tolerance compares the units outside the band
        (BAND_AT_ZERO, -5.0, 3.0, 8.0, 160.0, 3.0, "on_track"),
        (BAND_AT_ZERO, -5.0, 7.0, 12.0, 240.0, 7.0, "amber"),
    ],
)
def test_compute_variance_status_per_direction_and_tolerance(
    kpi, plan, actual, variance, variance_pct, adverse, status
):
    # given one KPI period with a plan and an actual (from the parameters)
    # when
    row = one_period(kpi, plan, actual)

    # then
    assert row["plan"] == plan
    assert row["actual"] == actual
    assert row["variance"] == pytest.approx(variance)
    if variance_pct is None:
        assert math.isnan(row["variance_pct"])
    else:
        assert row["variance_pct"] == pytest.approx(variance_pct)
    assert row["adverse"] == pytest.approx(adverse)
    assert row["status"] == status


@pytest.mark.parametrize(
    ("frequency", "period", "today", "status"),
    [
        # monthly: May ends on the 31st, grace 7 days → missing from June 8
        ("monthly", dt.date(2026, 5, 1), dt.date(2026, 5, 20), "pending"),  # still running
        ("monthly", dt.date(2026, 5, 1), dt.date(2026, 6, 7), "pending"),
        ("monthly", dt.date(2026, 5, 1), dt.date(2026, 6, 8), "missing"),
        ("monthly", dt.date(2026, 7, 1), dt.date(2026, 6, 8), "pending"),  # in the future
        # weekly: the week of Monday June 1 ends on Sunday June 7 → missing from June 15
        ("weekly", dt.date(2026, 6, 1), dt.date(2026, 6, 14), "pending"),
        ("weekly", dt.date(2026, 6, 1), dt.date(2026, 6, 15), "missing"),
        # quarterly: Q1 ends on March 31 → missing from April 8
        ("quarterly", dt.date(2026, 1, 1), dt.date(2026, 4, 7), "pending"),
        ("quarterly", dt.date(2026, 1, 1), dt.date(2026, 4, 8), "missing"),
    ],
)
def test_compute_variance_missing_after_grace_from_period_end(frequency, period, today, status):
    # given a planned period without an actual
    plan = plan_frame((1, period, 100.0))
    kpis = kpi_frame({"kpi_id": 1, "frequency": frequency})

    # when
    result = compute_variance(plan, actual_frame(), kpis, today=today, grace_days=7)

    # then
    assert result[["period", "status"]].to_dict("records") == [
        {"period": pd.Timestamp(period), "status": status}
    ]
    assert result[["actual", "variance", "variance_pct", "adverse"]].isna().all(axis=None)


def test_compute_variance_actual_without_plan_is_not_evaluated():
    # given a KPI with a plan for March only and actuals for March and April
    plan = plan_frame((1, MARCH, 100.0))
    actuals = actual_frame((1, MARCH, 89.0), (1, dt.date(2026, 4, 1), 50.0))

    # when
    result = compute_variance(plan, actuals, kpi_frame({"kpi_id": 1}), today=TODAY, grace_days=7)

    # then April keeps its actual but has no variance and status no_plan
    april = result.iloc[1]
    assert list(result["status"]) == ["red", "no_plan"]
    assert april["actual"] == 50.0
    assert math.isnan(april["plan"])
    assert math.isnan(april["variance"])
    assert math.isnan(april["adverse"])


def test_compute_variance_without_any_plan_rows():
    # given actuals and no plan at all
    actuals = actual_frame((1, MARCH, 10.0), (2, MARCH, 20.0))
    kpis = kpi_frame({"kpi_id": 1}, {"kpi_id": 2})

    # when
    result = compute_variance(plan_frame(), actuals, kpis, today=TODAY, grace_days=7)

    # then
    assert list(result["status"]) == ["no_plan", "no_plan"]
    assert list(result["actual"]) == [10.0, 20.0]


def test_compute_variance_on_empty_inputs_returns_the_columns():
    # given nothing
    # when
    result = compute_variance(
        plan_frame(), actual_frame(), kpi_frame({"kpi_id": 1}), today=TODAY, grace_days=7
    )

    # then
    assert list(result.columns) == COLUMNS
    assert result.empty


def test_compute_variance_mixes_kpis_and_ignores_unknown_ones():
    # given two KPIs of different directions and frequencies, and a row for an unknown KPI
    kpis = kpi_frame(
        {"kpi_id": 1, "direction": "lower_is_better"},
        {"kpi_id": 2, "frequency": "weekly", "tolerance_mode": "absolute"},
    )
    plan = plan_frame(
        (1, MARCH, 100.0), (2, dt.date(2026, 3, 2), 10.0), (2, dt.date(2026, 3, 9), 10.0),
        (99, MARCH, 1.0),
    )  # fmt: skip
    actuals = actual_frame((1, MARCH, 104.0), (2, dt.date(2026, 3, 2), 3.0))

    # when
    result = compute_variance(plan, actuals, kpis, today=TODAY, grace_days=7)

    # then
    assert result[["kpi_id", "period", "status"]].to_dict("records") == [
        {"kpi_id": 1, "period": pd.Timestamp(MARCH), "status": "on_track"},
        {"kpi_id": 2, "period": pd.Timestamp(2026, 3, 2), "status": "amber"},
        {"kpi_id": 2, "period": pd.Timestamp(2026, 3, 9), "status": "missing"},
    ]
    assert result["adverse"].tolist()[:2] == [4.0, 7.0]
    assert math.isnan(result["adverse"].iloc[2])


@pytest.mark.parametrize(
    ("frequency", "starts"),
    [
        ("weekly", [dt.date(2025, 12, 29), dt.date(2026, 2, 23), dt.date(2026, 6, 1)]),
        ("monthly", [dt.date(2024, 2, 1), dt.date(2026, 2, 1), dt.date(2026, 12, 1)]),
        ("quarterly", [dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 10, 1)]),
    ],
)
def test_period_ends_matches_the_scalar_helper(frequency, starts):
    # given period starts
    # when
    ends = period_ends(pd.Series(pd.to_datetime(starts)), frequency)

    # then
    assert [day.date() for day in ends] == [period_end(start, frequency) for start in starts]
