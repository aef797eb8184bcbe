"""Alignment assessments, pure: each assessment's mean score, whether it is low or falling against
the same leader's previous assessed quarter in the same department, and the severity of the
concern. DataFrames in, DataFrames out; no ORM, no clock. The rules are in docs/alignment.md.

- **Score**: the mean of the three scores (understanding, commitment, resources), two decimals.
- **Low**: any of the three scores at or below `low` (GOVERN_ALIGNMENT_LOW, default 2).
- **Falling**: the mean dropped by at least `drop` (GOVERN_ALIGNMENT_DROP, default 1.0) against
  the same leader's previous assessed quarter in that department (the latest earlier one with an
  assessment, however long ago). The first assessment of a leader in a department never falls.
- **Severity** of a concern, like the other kinds (`kpis/engine/severity.py`) with the neutral
  criticality and objective weight of 3 (a person has neither): base × 3 × 3, where base = (when
  low) 1 + (low − lowest score) / 2 plus (when falling) the drop / `drop`, at most 3. A score of
  2 at the default line: 1.0 → 9.0; a score of 1: 1.5 → 13.5; a drop of exactly `drop` adds 1.0.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

COLUMNS = [
    "id", "leader_id", "department_id", "period", "understanding", "commitment", "resources",
]  # fmt: skip
SCORES = ("understanding", "commitment", "resources")
BASE_CAP = 3.0
NEUTRAL = 3.0 * 3.0  # criticality × objective weight, neither of which a person has
DECIMALS = 9


def quarter_start(day: dt.date) -> dt.date:
    """The first day of the quarter holding `day`."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(period: dt.date) -> str:
    """'Q2 2026'."""
    return f"Q{(period.month - 1) // 3 + 1} {period.year}"


def evaluate(frame: pd.DataFrame, *, low: int, drop: float) -> pd.DataFrame:
    """Every assessment of `frame` (COLUMNS; other columns are kept) sorted by leader,
    department and period, with: `score` (mean), `lowest`, `previous_id`, `previous_period`,
    `previous_score` (the leader's previous assessed quarter in the department; NaN / None when
    none), `change` (score − previous score), `low`, `falling`, `concern` (low or falling) and
    `base` (the severity base of the concern, 0 when none)."""
    frame = frame.sort_values(["leader_id", "department_id", "period", "id"], kind="stable")
    frame = frame.reset_index(drop=True)
    scores = frame[list(SCORES)].to_numpy(dtype="float64").reshape(len(frame), len(SCORES))
    total = scores.sum(axis=1)
    lowest = scores.min(axis=1) if len(frame) else np.array([], dtype="float64")
    pairs = frame.groupby(["leader_id", "department_id"], sort=False)
    previous_total = (
        (pd.Series(total, index=frame.index).groupby([frame["leader_id"], frame["department_id"]]))
        .shift(1)
        .to_numpy(dtype="float64")
    )
    fell_by = np.round((previous_total - total) / len(SCORES), DECIMALS)
    is_low = lowest <= low
    falling = ~np.isnan(previous_total) & (fell_by >= np.round(drop, DECIMALS))
    low_part = np.where(is_low, 1.0 + (low - lowest) / 2.0, 0.0)
    unit = drop if drop > 0 else 1.0
    falling_part = np.where(falling, np.nan_to_num(fell_by, nan=0.0) / unit, 0.0)
    return frame.assign(
        score=np.round(total / len(SCORES), 2),
        lowest=lowest.astype("int64") if len(frame) else np.array([], dtype="int64"),
        previous_id=pairs["id"].shift(1),
        previous_period=pairs["period"].shift(1),
        previous_score=np.round(previous_total / len(SCORES), 2),
        change=np.round((total - previous_total) / len(SCORES), 2),
        low=is_low,
        falling=falling,
        concern=is_low | falling,
        base=np.minimum(low_part + falling_part, BASE_CAP),
    )


def latest(evaluated: pd.DataFrame) -> pd.DataFrame:
    """The latest assessment of each (leader, department) of an `evaluate` result."""
    if evaluated.empty:
        return evaluated
    return evaluated.groupby(["leader_id", "department_id"], sort=True).tail(1)


def severity(base) -> np.ndarray:
    """base × 3 × 3, rounded to two decimals."""
    return np.round(np.asarray(base, dtype="float64") * NEUTRAL, 2)
