"""How much an exception deserves attention: one number to rank the exceptions list by.

Pure and vectorised: DataFrames in, a Series out; no ORM, no clock (the caller passes ages).

    severity = base × criticality × objective_weight + age_bonus

    base, by kind:
      kpi_red, kpi_amber   clip(adverse / red_threshold, 0, 3)      1.0 exactly at the red line
      forecast_breach      0.75 × clip(forecast_adverse / red_threshold, 0, 3)
      missing_data         1.0
      milestone_overdue    min(days_overdue / 14, 3)                two weeks late = 1.0
    criticality            the KPI's criticality, 1–5 (3 for a milestone, which has none)
    objective_weight       the highest weight (1–5) of the objectives the KPI measures (for a
                           milestone: that its initiative serves); 3 when there are none
    age_bonus              min(0.1 × days open, 3)

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

BASE_CAP = 3.0
FORECAST_WEIGHT = 0.75
MILESTONE_DAYS_PER_UNIT = 14.0
DEFAULT_WEIGHT = 3.0
DEFAULT_CRITICALITY = 3.0
AGE_BONUS_PER_DAY = 0.1
AGE_BONUS_CAP = 3.0

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
    red = pd.to_numeric(frame["red_threshold"], errors="coerce")
    red = red.where(red > 0)

    def ratio(column: str) -> pd.Series:
        value = pd.to_numeric(frame[column], errors="coerce").fillna(0.0)
        return (value / red).clip(0.0, BASE_CAP).fillna(1.0)

    days_overdue = pd.to_numeric(frame["days_overdue"], errors="coerce").fillna(0.0)
    base = np.select(
        [
            kind.isin([KPI_RED, KPI_AMBER]),
            kind == FORECAST_BREACH,
            kind == MISSING_DATA,
            kind == MILESTONE_OVERDUE,
        ],
        [
            ratio("adverse"),
            FORECAST_WEIGHT * ratio("forecast_adverse"),
            1.0,
            (days_overdue.clip(lower=0.0) / MILESTONE_DAYS_PER_UNIT).clip(upper=BASE_CAP),
        ],
        default=0.0,
    )
    criticality = (
        pd.to_numeric(frame["criticality"], errors="coerce").fillna(DEFAULT_CRITICALITY)
    ).clip(1, 5)
    weight = (
        pd.to_numeric(frame["objective_weight"], errors="coerce").fillna(DEFAULT_WEIGHT)
    ).clip(1, 5)
    days_open = pd.to_numeric(frame["days_open"], errors="coerce").fillna(0.0).clip(lower=0.0)
    age_bonus = (AGE_BONUS_PER_DAY * days_open).clip(upper=AGE_BONUS_CAP)
    return (base * criticality * weight + age_bonus).round(2).rename("severity")


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
    value, plan = value.astype(float), plan.astype(float)
    low, high = band_low.astype(float), band_high.astype(float)
    below, above = (low - value).clip(lower=0.0), (value - high).clip(lower=0.0)
    band_units = below.where(below > 0, above).fillna(0.0)
    band_edge = low.where(below > 0, high)
    units = np.select(
        [direction == "higher_is_better", direction == "lower_is_better"],
        [plan - value, value - plan],
        default=band_units,
    )
    units = pd.Series(units, index=value.index, dtype=float)
    reference = plan.abs().where(direction != "within_band", band_edge.abs())
    percent = (units / reference * 100.0).where(reference > 0, units)
    return percent.where(tolerance_mode == "percent", units)
