"""Variance and status of every KPI period against its plan. Pure pandas: no ORM, no I/O, no
per-row Python loops, so a million KPI periods take about a second.

Rules (the contract in docs/kpi-engine-contract.md, spelled out):

- Rows: one per (kpi, period) that has a plan or an actual. Periods are period starts (see
  `kpis.periods`) and come back as `datetime64[ns]`, sorted by KPI and period.
- **variance** = actual − plan. **variance_pct** = variance × 100 / |plan|, null when the plan
  is 0 (or when either side is missing).
- **adverse** is positive when the result is worse than planned, whatever the direction:
  `plan − actual` for higher-is-better, `actual − plan` for lower-is-better, and for a
  within-band KPI the distance outside the band (`band_low − actual` below it, `actual −
  band_high` above it, 0 inside it). In percent tolerance mode it is expressed in percent of
  |plan| (of the violated band edge for a band KPI); when that reference is 0 the percent
  tolerance is compared with the adverse variance in units instead. In absolute mode it is in
  the KPI's units. Adverse is null for a period that is not evaluated.
- **status** of a period with a plan and an actual: `red` when adverse > red threshold, `amber`
  when adverse > amber threshold, else `on_track` (a value exactly on a threshold is still the
  better colour; adverse is rounded to 9 decimals before comparing, so 5 % computed as
  5.000000000000001 stays on the threshold).
- A period with a plan and no actual is `missing` when `today` is more than `grace_days` days
  after the period's last day (weekly: Sunday; monthly/quarterly: the last day of the month or
  quarter), `pending` until then (periods still running or to come are pending).
- A period with no plan is not evaluated: it keeps its actual, with status `no_plan` and no
  variance. No plan rows at all therefore gives only `no_plan` rows (or none).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kpis.choices import Direction, Status, ToleranceMode
from kpis.periods import period_ends

KEY = ["kpi_id", "period"]
KPI_COLUMNS = [
    "kpi_id",
    "direction",
    "frequency",
    "tolerance_mode",
    "amber",
    "red",
    "band_low",
    "band_high",
]
COLUMNS = ["kpi_id", "period", "plan", "actual", "variance", "variance_pct", "adverse", "status"]
EVALUATED = tuple(s.value for s in (Status.ON_TRACK, Status.AMBER, Status.RED, Status.MISSING))


def adverse_and_status(frame: pd.DataFrame, value_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Adverse variance and status of `frame[value_column]` against `frame.plan`, with the
    tolerance columns of `KPI_COLUMNS`. Rows lacking a value or a plan get NaN adverse (their
    status is for the caller to decide)."""
    plan = frame["plan"].to_numpy(dtype="float64")
    value = frame[value_column].to_numpy(dtype="float64")
    direction = frame["direction"].to_numpy()
    band_low = frame["band_low"].to_numpy(dtype="float64")
    band_high = frame["band_high"].to_numpy(dtype="float64")
    band = direction == Direction.WITHIN_BAND
    with np.errstate(invalid="ignore", divide="ignore"):
        below = band & (value < band_low)
        above = band & (value > band_high)
        units = np.select(
            [direction == Direction.HIGHER_IS_BETTER, direction == Direction.LOWER_IS_BETTER],
            [plan - value, value - plan],
            default=np.where(below, band_low - value, np.where(above, value - band_high, 0.0)),
        )
        reference = np.abs(
            np.where(band, np.where(below, band_low, np.where(above, band_high, np.nan)), plan)
        )
        in_percent = (frame["tolerance_mode"].to_numpy() == ToleranceMode.PERCENT) & (reference > 0)
        adverse = np.where(in_percent, units * 100.0 / reference, units)
        adverse = np.where(np.isnan(value) | np.isnan(plan), np.nan, adverse)
        rounded = np.round(adverse, 9)
        status = np.select(
            [rounded > frame["red"].to_numpy(), rounded > frame["amber"].to_numpy()],
            [Status.RED.value, Status.AMBER.value],
            default=Status.ON_TRACK.value,
        ).astype(object)
    return adverse, status


def normalise(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    out = frame.loc[:, ["kpi_id", "period", value]].copy()
    out["kpi_id"] = out["kpi_id"].astype("int64")
    out["period"] = pd.to_datetime(out["period"]).astype("datetime64[ns]")
    out[value] = out[value].astype("float64")
    return out


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in COLUMNS})
    frame["kpi_id"] = frame["kpi_id"].astype("int64")
    frame["period"] = frame["period"].astype("datetime64[ns]")
    frame["status"] = frame["status"].astype(object)
    return frame


def compute_variance(
    plan: pd.DataFrame,
    actuals: pd.DataFrame,
    kpis: pd.DataFrame,
    today: dt.date,
    grace_days: int,
) -> pd.DataFrame:
    """Variance, adverse variance and status per (kpi, period); see the module docstring."""
    frame = normalise(plan, "plan").merge(normalise(actuals, "actual"), on=KEY, how="outer")
    frame = frame.merge(kpis.loc[:, KPI_COLUMNS], on="kpi_id", how="inner")
    if frame.empty:
        return _empty()
    has_plan = frame["plan"].notna().to_numpy()
    has_actual = frame["actual"].notna().to_numpy()
    frame["variance"] = frame["actual"] - frame["plan"]
    plan_size = frame["plan"].abs().where(frame["plan"] != 0)
    frame["variance_pct"] = frame["variance"] * 100.0 / plan_size
    adverse, status = adverse_and_status(frame, "actual")
    due = period_ends(frame["period"], frame["frequency"].to_numpy()) + pd.Timedelta(
        days=grace_days
    )
    overdue = (pd.Timestamp(today) > due).to_numpy()
    evaluated = has_plan & has_actual
    frame["adverse"] = np.where(evaluated, adverse, np.nan)
    frame["status"] = np.select(
        [evaluated, has_plan & overdue, has_plan],
        [status, Status.MISSING.value, Status.PENDING.value],
        default=Status.NO_PLAN.value,
    ).astype(object)
    return frame.loc[:, COLUMNS].sort_values(KEY, kind="stable").reset_index(drop=True)
