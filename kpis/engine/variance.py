"""Variance and status of every KPI period against its plan. Pure numpy (DataFrames in and
out): no ORM, no I/O, no per-row Python loops, so a million KPI periods take about a second and
one KPI under a millisecond.

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
from kpis.engine import keys
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
# Statuses as object arrays, picked by index: fancy indexing is ~10× cheaper on a million rows
# than selecting among strings and converting numpy's str_ back to Python str.
COLOURS = np.array([Status.ON_TRACK.value, Status.AMBER.value, Status.RED.value], dtype=object)
UNEVALUATED = np.array(
    [Status.NO_PLAN.value, Status.MISSING.value, Status.PENDING.value], dtype=object
)


def adverse_and_status(frame, value_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Adverse variance and status of `frame[value_column]` against `frame["plan"]`, with the
    tolerance columns of `KPI_COLUMNS`; `frame` is a DataFrame or a dict of arrays. Rows
    lacking a value or a plan get NaN adverse (their status is for the caller to decide)."""
    plan = keys.floats(frame["plan"])
    value = keys.floats(frame[value_column])
    direction = keys.array(frame["direction"])
    band_low = keys.floats(frame["band_low"])
    band_high = keys.floats(frame["band_high"])
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
        in_percent = (keys.array(frame["tolerance_mode"]) == ToleranceMode.PERCENT) & (
            reference > 0
        )
        adverse = np.where(in_percent, units * 100.0 / reference, units)
        adverse = np.where(np.isnan(value) | np.isnan(plan), np.nan, adverse)
        rounded = np.round(adverse, 9)
        level = np.select(
            [rounded > keys.array(frame["red"]), rounded > keys.array(frame["amber"])], [2, 1], 0
        )
    return adverse, COLOURS[level]


def kpi_arrays(kpis: pd.DataFrame) -> dict[str, np.ndarray]:
    """The `KPI_COLUMNS` of `kpis` as numpy arrays."""
    return {name: keys.array(kpis[name]) for name in KPI_COLUMNS}


def kpi_columns(kpis: dict[str, np.ndarray], kpi_id: np.ndarray) -> tuple[np.ndarray, dict]:
    """The rows of `kpi_id` whose KPI is in `kpis` (`kpi_arrays`), as a boolean mask, and for
    those rows the KPI's other `KPI_COLUMNS`: the inner join on kpi_id."""
    at = keys.positions(kpi_id, kpis["kpi_id"].astype("int64"))
    found = at >= 0
    at = at[found]
    return found, {name: kpis[name][at] for name in KPI_COLUMNS[1:]}


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
    """Variance, adverse variance and status per (kpi, period); see the module docstring.

    numpy over packed (kpi, period) keys (`kpis.engine.keys`) rather than pandas merges: the
    same arithmetic, without pandas' fixed cost per operation, which dominated a one-KPI
    recompute."""
    plan_keys, plan_values = keys.keyed(plan, "plan")
    actual_keys, actual_values = keys.keyed(actuals, "actual")
    union, at_plan, at_actual = keys.outer(plan_keys, actual_keys)
    kpi_id, period = keys.unpack(union)
    found, columns = kpi_columns(kpi_arrays(kpis), kpi_id)
    if not found.any():
        return _empty()
    kpi_id, period = kpi_id[found], period[found]
    columns["plan"] = keys.take(plan_values, at_plan[found])
    columns["actual"] = keys.take(actual_values, at_actual[found])
    plan_values, actual_values = columns["plan"], columns["actual"]
    has_plan = ~np.isnan(plan_values)
    has_actual = ~np.isnan(actual_values)
    variance = actual_values - plan_values
    with np.errstate(invalid="ignore", divide="ignore"):
        variance_pct = variance * 100.0 / np.where(plan_values != 0, np.abs(plan_values), np.nan)
    adverse, status = adverse_and_status(columns, "actual")
    due = period_ends(period, columns["frequency"]).to_numpy() + np.timedelta64(grace_days, "D")
    overdue = pd.Timestamp(today).to_datetime64() > due
    evaluated = has_plan & has_actual
    return pd.DataFrame(
        {
            "kpi_id": kpi_id,
            "period": period,
            "plan": plan_values,
            "actual": actual_values,
            "variance": variance,
            "variance_pct": variance_pct,
            "adverse": np.where(evaluated, adverse, np.nan),
            "status": np.where(
                evaluated, status, UNEVALUATED[np.select([has_plan & overdue, has_plan], [1, 2], 0)]
            ),
        }
    )
