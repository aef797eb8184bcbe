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
from kpis.engine.variance import (
    KEY,
    KPI_COLUMNS,
    adverse_and_status,
    month_index,
    normalise,
    shift_periods,
)

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


def _position(periods: pd.Series, frequency: np.ndarray) -> np.ndarray:
    """Each period's position on an axis counted in periods of its KPI's frequency."""
    weeks = periods.to_numpy(dtype="datetime64[D]").astype("int64") / 7.0
    months = month_index(periods).astype("float64")
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
    """The forecast and its status for the `horizon` periods after each KPI's last actual."""
    series = normalise(actuals, "actual").dropna(subset=["actual"])
    series = series.merge(kpis.loc[:, ["kpi_id", "frequency"]], on="kpi_id", how="inner")
    if series.empty or horizon < 1 or points < MIN_POINTS:
        return _empty()
    series = series.sort_values(KEY, kind="stable").groupby("kpi_id").tail(points)
    position = _position(series["period"], series["frequency"].to_numpy())
    series["x"] = position - series.assign(p=position).groupby("kpi_id")["p"].transform("max")
    series["y"] = series["actual"]
    series["xx"] = series["x"] ** 2
    series["xy"] = series["x"] * series["y"]
    sums = series.groupby("kpi_id").agg(
        n=("y", "size"),
        sx=("x", "sum"),
        sy=("y", "sum"),
        sxx=("xx", "sum"),
        sxy=("xy", "sum"),
        last=("period", "max"),
        frequency=("frequency", "first"),
    )
    sums = sums[sums["n"] >= MIN_POINTS]
    if sums.empty:
        return _empty()
    slope = (sums["n"] * sums["sxy"] - sums["sx"] * sums["sy"]) / (
        sums["n"] * sums["sxx"] - sums["sx"] ** 2
    )
    # The fitted value at x = 0, the last actual's period.
    level = (sums["sy"] - slope * sums["sx"]) / sums["n"]
    steps = np.tile(np.arange(1, horizon + 1), len(sums))
    frame = pd.DataFrame(
        {
            "kpi_id": np.repeat(sums.index.to_numpy(dtype="int64"), horizon),
            "forecast": np.repeat(level.to_numpy(), horizon)
            + np.repeat(slope.to_numpy(), horizon) * steps,
        }
    )
    frame["period"] = shift_periods(
        np.repeat(sums["last"].to_numpy(), horizon),
        np.repeat(sums["frequency"].to_numpy(), horizon),
        steps,
    )
    frame = frame.merge(normalise(plan, "plan"), on=KEY, how="left")
    frame = frame.merge(kpis.loc[:, KPI_COLUMNS], on="kpi_id", how="inner")
    _, status = adverse_and_status(frame, "forecast")
    frame["forecast_status"] = np.where(
        frame["plan"].notna().to_numpy(), status, Status.NO_PLAN.value
    ).astype(object)
    return frame.loc[:, COLUMNS].sort_values(KEY, kind="stable").reset_index(drop=True)
