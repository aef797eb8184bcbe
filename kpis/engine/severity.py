"""How much an exception deserves attention: one number to rank the exceptions list by.

Pure and vectorised: DataFrames in, a Series out; no ORM, no clock (the caller passes ages).

    severity_base = base × criticality × objective_weight + age_bonus
    severity      = severity_base × (1 + min(reach / 20, 1))     (`with_reach`)

    base, by kind:
      kpi_red, kpi_amber   clip(adverse / red_threshold, 0, 3)      1.0 exactly at the red line
      forecast_breach      0.75 × clip(forecast_adverse / red_threshold, 0, 3)
      missing_data         1.0
      milestone_overdue    min(days_overdue / 14, 3)                two weeks late = 1.0
      contract_at_risk     1.0
      contract_breached    2.0
    criticality            the KPI's criticality, 1–5 (3 for a milestone, which has none; the
                           contract's own for a contract)
    objective_weight       the highest weight (1–5) of the objectives the KPI measures (for a
                           milestone: that its initiative serves; for a contract: that the
                           consumer initiatives, milestones and KPIs depending on it serve);
                           3 when there are none
    age_bonus              min(0.1 × days open, 3)

`reach` is the subject's ripple reach in the dependency graph (`dependencies/engine/ripple.py`):
an exception whose trouble travels far ranks up to twice as high as the same one in a dead end.

`adverse` is in the KPI's tolerance unit (percent of plan or absolute), like `red_threshold`, so
the ratio is unit-free. A missing or non-positive red threshold counts the base as 1.0. The result
is rounded to two decimals so that a sync that changes nothing rewrites nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KPI_RED = "kpi_red"
KPI_AMBER = "kpi_amber"
FORECAST_BREACH = "forecast_breach"
MISSING_DATA = "missing_data"
MILESTONE_OVERDUE = "milestone_overdue"
CONTRACT_AT_RISK = "contract_at_risk"
CONTRACT_BREACHED = "contract_breached"

BASE_CAP = 3.0
FORECAST_WEIGHT = 0.75
MILESTONE_DAYS_PER_UNIT = 14.0
CONTRACT_AT_RISK_BASE = 1.0
CONTRACT_BREACHED_BASE = 2.0
DEFAULT_WEIGHT = 3.0
DEFAULT_CRITICALITY = 3.0
AGE_BONUS_PER_DAY = 0.1
AGE_BONUS_CAP = 3.0
REACH_UNIT = 20.0
REACH_CAP = 1.0

COLUMNS = (
    "kind",
    "adverse",
    "forecast_adverse",
    "red_threshold",
    "days_overdue",
    "criticality",
    "objective_weight",
    "days_open",
)


def severity(frame: pd.DataFrame) -> pd.Series:
    """The severity of each row of `frame`, indexed like it.

    Columns (missing ones count as empty): kind, adverse, forecast_adverse, red_threshold,
    days_overdue, criticality, objective_weight, days_open."""
    frame = frame.reindex(columns=list(COLUMNS))
    kind = frame["kind"]
    red = _number(frame["red_threshold"])
    red = np.where(red > 0, red, np.nan)

    # numpy rather than Series methods: the same arithmetic (`_clip` keeps NaN like
    # `Series.clip`), without pandas' fixed cost per operation, which dominated a one-KPI sync.
    def ratio(column: str) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            value = _clip(_number(frame[column], 0.0) / red, 0.0, BASE_CAP)
        return np.where(np.isnan(value), 1.0, value)

    days_overdue = _number(frame["days_overdue"], 0.0)
    base = np.select(
        [
            kind.isin([KPI_RED, KPI_AMBER]).to_numpy(),
            (kind == FORECAST_BREACH).to_numpy(),
            (kind == MISSING_DATA).to_numpy(),
            (kind == MILESTONE_OVERDUE).to_numpy(),
            (kind == CONTRACT_AT_RISK).to_numpy(),
            (kind == CONTRACT_BREACHED).to_numpy(),
        ],
        [
            ratio("adverse"),
            FORECAST_WEIGHT * ratio("forecast_adverse"),
            1.0,
            _clip(_clip(days_overdue, 0.0) / MILESTONE_DAYS_PER_UNIT, upper=BASE_CAP),
            CONTRACT_AT_RISK_BASE,
            CONTRACT_BREACHED_BASE,
        ],
        default=0.0,
    )
    criticality = _clip(_number(frame["criticality"], DEFAULT_CRITICALITY), 1, 5)
    weight = _clip(_number(frame["objective_weight"], DEFAULT_WEIGHT), 1, 5)
    days_open = _clip(_number(frame["days_open"], 0.0), 0.0)
    age_bonus = _clip(AGE_BONUS_PER_DAY * days_open, upper=AGE_BONUS_CAP)
    return pd.Series(
        np.round(base * criticality * weight + age_bonus, 2), index=frame.index, name="severity"
    )


def with_reach(base, reach):
    """The severity of exceptions with base severity `base` and ripple reach `reach` (scalars or
    arrays): base × (1 + min(reach / 20, 1)), rounded to two decimals."""
    base = np.asarray(base, dtype="float64")
    reach = np.nan_to_num(np.asarray(reach, dtype="float64"), nan=0.0)
    factor = 1.0 + np.minimum(np.maximum(reach, 0.0) / REACH_UNIT, REACH_CAP)
    return np.round(base * factor, 2)


def _number(column: pd.Series, default: float | None = None) -> np.ndarray:
    """The column as floats (anything not a number is NaN, or `default` when given)."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return values if default is None else np.where(np.isnan(values), default, values)


def _clip(values: np.ndarray, lower: float | None = None, upper: float | None = None):
    """`Series.clip`: values beyond a bound become the bound, NaN stays NaN."""
    if lower is not None:
        values = np.where((values >= lower) | np.isnan(values), values, lower)
    if upper is not None:
        values = np.where((values <= upper) | np.isnan(values), values, upper)
    return values


def adverse(
    value: pd.Series,
    plan: pd.Series,
    direction: pd.Series,
    tolerance_mode: pd.Series,
    band_low: pd.Series,
    band_high: pd.Series,
) -> pd.Series:
    """How much worse than plan `value` is, signed the same way for every direction (positive =
    worse), by the variance rules of `docs/kpi-engine-contract.md`: in percent of |plan| (or of
    the violated band edge) in percent mode, in units in absolute mode and when the reference
    is 0. Used for the forecast, whose adverse the results table does not store."""
    index = value.index
    value, plan = value.astype(float).to_numpy(), plan.astype(float).to_numpy()
    low, high = band_low.astype(float).to_numpy(), band_high.astype(float).to_numpy()
    direction, tolerance_mode = direction.to_numpy(), tolerance_mode.to_numpy()
    # numpy rather than Series methods: the same arithmetic (`clip` keeps NaN), without
    # pandas' fixed cost per operation, which dominated a one-KPI sync.
    with np.errstate(invalid="ignore", divide="ignore"):
        below, above = _clip(low - value, 0.0), _clip(value - high, 0.0)
        band_units = np.where(below > 0, below, above)
        band_units = np.where(np.isnan(band_units), 0.0, band_units)
        band_edge = np.where(below > 0, low, high)
        units = np.select(
            [direction == "higher_is_better", direction == "lower_is_better"],
            [plan - value, value - plan],
            default=band_units,
        ).astype(float)
        reference = np.where(direction != "within_band", np.abs(plan), np.abs(band_edge))
        percent = np.where(reference > 0, units / reference * 100.0, units)
    return pd.Series(np.where(tolerance_mode == "percent", percent, units), index=index)
