"""Forecast of the next periods of every KPI from its recent trend. Pure numpy (DataFrames in
and out), vectorised across KPIs: no ORM, no I/O, no per-KPI loop.

Method: an ordinary least-squares straight line through the last `points` actuals of each KPI
(x = the period's position in periods of the KPI's frequency, so a gap in the actuals stays a
gap), projected `horizon` periods after the last actual. At least 3 actuals are needed; a KPI
with fewer gets no forecast. Slope and intercept come in closed form from per-KPI sums over x,
y, x², xy, so a million actuals take well under a second.

Why least squares and not Holt's linear smoothing: with the 6 or so points a governance review
looks at, both follow the trend about equally well, but a least-squares line has no smoothing
parameters to tune or explain, gives the same answer whatever the order of computation, and is
a closed form over group sums, whereas Holt is a recursion along each series that cannot be
vectorised across time.

forecast_status is the status the forecast would have against that future period's plan, with
the KPI's tolerance rules (`kpis.engine.variance.adverse_and_status`); `no_plan` when that
period has no plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis.choices import Frequency, Status
from kpis.engine import keys
from kpis.engine.variance import adverse_and_status, kpi_arrays, kpi_columns
from kpis.periods import EPOCH_MONTH, shift_periods

MIN_POINTS = 3
NO_PLAN = np.array(Status.NO_PLAN.value, dtype=object)  # a 0-d object array: np.where stays object
COLUMNS = ["kpi_id", "period", "forecast", "forecast_status"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kpi_id": pd.Series(dtype="int64"),
            "period": pd.Series(dtype="datetime64[ns]"),
            "forecast": pd.Series(dtype="float64"),
            "forecast_status": pd.Series(dtype=object),
        }
    )


def _group_sums(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per-group sums of the columns of `values`, rows grouped in runs starting at `first`:
    row after row, as pandas' grouped sum adds them (the figures are the same to the last bit
    as they were with `groupby().sum()`), without its fixed cost."""
    return np.add.reduceat(values, first, axis=0)


def _position(periods: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Each period's position on an axis counted in periods of its KPI's frequency."""
    weeks = periods.astype("datetime64[D]").astype("int64") / 7.0
    months = (periods.astype("datetime64[M]").astype("int64") + EPOCH_MONTH).astype("float64")
    return np.where(
        frequency == Frequency.WEEKLY,
        weeks,
        np.where(frequency == Frequency.QUARTERLY, months / 3.0, months),
    )


def forecast(
    actuals: pd.DataFrame,
    plan: pd.DataFrame,
    kpis: pd.DataFrame,
    points: int,
    horizon: int,
) -> pd.DataFrame:
    """The forecast and its status for the `horizon` periods after each KPI's last actual.

    The fit is numpy over sorted arrays (group boundaries instead of `groupby`, packed keys
    instead of merges, see `kpis.engine.keys`): the same arithmetic, without pandas' fixed
    cost per operation, which dominated a one-KPI recompute."""
    actual_keys, actual = keys.keyed(actuals, "actual")
    present = ~np.isnan(actual)
    actual_keys, actual = actual_keys[present], actual[present]
    kpi_id, period = keys.unpack(actual_keys)
    parameters = kpi_arrays(kpis)
    found, columns = kpi_columns(parameters, kpi_id)
    if not found.any() or horizon < 1 or points < MIN_POINTS:
        return _empty()
    order = np.argsort(actual_keys[found], kind="stable")  # by KPI, then period
    kpi_id, period = kpi_id[found][order], period[found][order]
    actual = actual[found][order]
    frequency = columns["frequency"][order]
    first = np.flatnonzero(np.r_[True, kpi_id[1:] != kpi_id[:-1]])
    end = np.r_[first[1:], len(kpi_id)]
    size = end - first
    group = np.repeat(np.arange(len(first)), size)
    tail = (np.repeat(end, size) - np.arange(len(kpi_id))) <= points  # groupby().tail(points)
    kpi_id, period, actual, frequency = kpi_id[tail], period[tail], actual[tail], frequency[tail]
    group = group[tail]
    size = np.minimum(size, points)
    first = np.r_[0, np.cumsum(size)[:-1]]
    position = _position(period, frequency)
    x = position - np.maximum.reduceat(position, first)[group]
    y = actual
    sx, sy, sxx, sxy = _group_sums(np.column_stack([x, y, x**2, x * y]), first).T
    n = size
    fit = n >= MIN_POINTS
    if not fit.any():
        return _empty()
    n, sx, sy, sxx, sxy = n[fit], sx[fit], sy[fit], sxx[fit], sxy[fit]
    last = np.maximum.reduceat(period, first)[fit]
    kpi_frequency = frequency[first][fit]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (n * sxy - sx * sy) / (n * sxx - sx**2)
        # The fitted value at x = 0, the last actual's period.
        level = (sy - slope * sx) / n
    steps = np.tile(np.arange(1, horizon + 1), len(n))
    kpi_id = np.repeat(kpi_id[first][fit], horizon)
    period = shift_periods(
        np.repeat(last, horizon), np.repeat(kpi_frequency, horizon), steps
    ).to_numpy()
    projected = np.repeat(level, horizon) + np.repeat(slope, horizon) * steps
    plan_keys, plan_values = keys.keyed(plan, "plan")
    projected_keys = keys.pack(kpi_id, period)
    _, columns = kpi_columns(parameters, kpi_id)
    columns["plan"] = keys.take(plan_values, keys.positions(projected_keys, plan_keys))
    columns["forecast"] = projected
    _, status = adverse_and_status(columns, "forecast")
    order = np.argsort(projected_keys, kind="stable")
    return pd.DataFrame(
        {
            "kpi_id": kpi_id[order],
            "period": period[order],
            "forecast": projected[order],
            "forecast_status": np.where(np.isnan(columns["plan"]), NO_PLAN, status)[order],
        }
    )
