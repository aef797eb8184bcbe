"""Forecast of the next periods of every KPI from its recent trend. Pure pandas, vectorised
across KPIs: no ORM, no I/O, no per-KPI loop.

Method: an ordinary least-squares straight line through the last `points` actuals of each KPI
(x = the period's position in periods of the KPI's frequency, so a gap in the actuals stays a
gap), projected `horizon` periods after the last actual. At least 3 actuals are needed; a KPI
with fewer gets no forecast. Slope and intercept come in closed form from per-KPI sums (one
`groupby().sum()` over x, y, x², xy), so a million actuals take well under a second.

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
from kpis.engine.variance import KEY, KPI_COLUMNS, adverse_and_status, normalise
from kpis.periods import EPOCH_MONTH, shift_periods

MIN_POINTS = 3
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


def _group_sums(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per-group sums of the columns of `values`, by pandas' grouped sum (one call for all the
    columns), so that the figures are the same to the last bit as they always were."""
    return pd.DataFrame(values).groupby(group, sort=True).sum().to_numpy()


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

    The fit is numpy over sorted arrays (group boundaries instead of `groupby`): the same
    arithmetic, without pandas' fixed cost per operation, which dominated a one-KPI recompute."""
    series = normalise(actuals, "actual").dropna(subset=["actual"])
    series = series.merge(kpis.loc[:, ["kpi_id", "frequency"]], on="kpi_id", how="inner")
    if series.empty or horizon < 1 or points < MIN_POINTS:
        return _empty()
    kpi_id = series["kpi_id"].to_numpy(dtype="int64")
    period = series["period"].to_numpy(dtype="datetime64[ns]")
    order = np.lexsort((period, kpi_id))  # stable, like sort_values(KEY, kind="stable")
    kpi_id, period = kpi_id[order], period[order]
    actual = series["actual"].to_numpy(dtype="float64")[order]
    frequency = series["frequency"].to_numpy()[order]
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
    sx, sy, sxx, sxy = _group_sums(np.column_stack([x, y, x**2, x * y]), group).T
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
    frame = pd.DataFrame(
        {
            "kpi_id": np.repeat(kpi_id[first][fit], horizon),
            "forecast": np.repeat(level, horizon) + np.repeat(slope, horizon) * steps,
        }
    )
    frame["period"] = shift_periods(
        np.repeat(last, horizon), np.repeat(kpi_frequency, horizon), steps
    )
    frame = frame.merge(normalise(plan, "plan"), on=KEY, how="left")
    frame = frame.merge(kpis.loc[:, KPI_COLUMNS], on="kpi_id", how="inner")
    _, status = adverse_and_status(frame, "forecast")
    frame["forecast_status"] = np.where(
        frame["plan"].notna().to_numpy(), status, Status.NO_PLAN.value
    ).astype(object)
    return frame.loc[:, COLUMNS].sort_values(KEY, kind="stable").reset_index(drop=True)
