"""Target-gaming signals, pure: which KPIs had their targets eased between two plan versions, which
of those deserve a `governance` exception, and which revisions of actuals went beyond the
threshold. DataFrames in, DataFrames out; no ORM, no clock (the caller passes `today`). The rules
are in docs/exceptions.md ("Target-gaming signals").

**Eased.** Over the periods both versions plan (their common periods), a KPI's targets are eased
when their net movement favours the owner: their sum went down for a higher-is-better KPI, up for
a lower-is-better one. Rephasing (one month lower, another higher by as much) is not easing. A
within-band KPI's band is part of the KPI's definition, not of a plan version (a widened band is
an audited change to the KPI itself), and its status does not depend on its planned centre, so a
moved centre eases nothing: within-band KPIs never count as eased.

**Flagged** (a `governance` exception): eased in this approval **and** either eased in the
approval before it (two successive versions) or red at approval.

**Revised beyond the threshold**: a measurement whose period had ended when it was revised, whose
value moved by more than `threshold_pct` % of the old value (by more than `threshold_pct` in the
KPI's unit when the old value was 0, where a percentage means nothing).

Severity, like the other kinds (`kpis/engine/severity.py`): base × criticality × objective weight
(3 when the KPI measures no objective), rounded to two decimals. Base: eased twice 1.0, eased while
red 1.5, both 2.0; a revision: the largest change over the threshold, halved, clipped to 0.5–3
(twice the threshold = 1.0).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

HIGHER_IS_BETTER = "higher_is_better"
LOWER_IS_BETTER = "lower_is_better"
WEEKLY, MONTHLY, QUARTERLY = "weekly", "monthly", "quarterly"

EASED_TWICE_BASE = 1.0
EASED_WHILE_RED_BASE = 1.5
EASED_TWICE_WHILE_RED_BASE = 2.0
REVISION_BASE_MIN = 0.5
REVISION_BASE_MAX = 3.0
DEFAULT_WEIGHT = 3.0
DECIMALS = 9  # figures are compared rounded, as in the variance engine

CHANGE_COLUMNS = ["kpi_id", "period", "old", "new", "direction"]
REVISION_COLUMNS = ["kpi_id", "period", "old", "new", "frequency"]


def eased(changes: pd.DataFrame) -> pd.DataFrame:
    """Per KPI of `changes` (rows kpi_id, period, old, new, direction: the common periods whose
    target differs between two versions), the net movement in the owner's favour and whether it
    eased the targets. Indexed by kpi_id, columns `favour` (float, positive = easier) and `eased`
    (bool); within-band KPIs are left out."""
    frame = changes.reindex(columns=CHANGE_COLUMNS)
    direction = frame["direction"].to_numpy(dtype=object)
    old = frame["old"].to_numpy(dtype="float64")
    new = frame["new"].to_numpy(dtype="float64")
    sign = np.select(
        [direction == HIGHER_IS_BETTER, direction == LOWER_IS_BETTER], [1.0, -1.0], default=0.0
    )
    keep = sign != 0
    per_row = pd.DataFrame(
        {"kpi_id": frame["kpi_id"].to_numpy()[keep], "favour": ((old - new) * sign)[keep]}
    )
    if per_row.empty:
        return pd.DataFrame(
            {"favour": pd.Series(dtype="float64"), "eased": pd.Series(dtype=bool)},
            index=pd.Index([], name="kpi_id", dtype="int64"),
        )
    result = per_row.groupby("kpi_id", sort=True)[["favour"]].sum()
    result["favour"] = result["favour"].round(DECIMALS)
    result["eased"] = result["favour"] > 0
    result.index = result.index.astype("int64")
    return result


def target_signals(now: pd.DataFrame, before: pd.DataFrame, red: pd.Series) -> pd.DataFrame:
    """The KPIs to flag after an approval: eased now (`now`, from `eased`) and eased in the
    approval before (`before`, from `eased`; empty when there was none) or red at approval (`red`,
    a bool Series by kpi_id). Indexed by kpi_id: `eased_before`, `red`, `base`."""
    eased_now = now.index[now["eased"].to_numpy(dtype=bool)]
    eased_before = set(before.index[before["eased"].to_numpy(dtype=bool)].tolist())
    frame = pd.DataFrame(index=pd.Index(eased_now, name="kpi_id", dtype="int64"))
    frame["eased_before"] = frame.index.isin(list(eased_before))
    frame["red"] = red.reindex(frame.index).fillna(False).astype(bool).to_numpy()
    frame = frame[frame["eased_before"] | frame["red"]]
    frame["base"] = np.select(
        [frame["eased_before"] & frame["red"], frame["red"]],
        [EASED_TWICE_WHILE_RED_BASE, EASED_WHILE_RED_BASE],
        default=EASED_TWICE_BASE,
    )
    return frame


def revisions_beyond(
    revisions: pd.DataFrame, *, today: dt.date, threshold_pct: float
) -> pd.DataFrame:
    """The revisions (rows kpi_id, period, old, new, frequency) of periods that had ended by
    `today` and moved by more than the threshold: the same rows with `change` (new − old),
    `change_pct` (signed, in % of |old|; NaN when old is 0), `ratio` (the change over the
    threshold) and `beyond` (True), sorted by KPI and period."""
    frame = revisions.reindex(columns=REVISION_COLUMNS).reset_index(drop=True)
    if frame.empty:
        return frame.assign(change=[], change_pct=[], ratio=[], beyond=[])
    start = pd.to_datetime(frame["period"])
    frequency = frame["frequency"].to_numpy(dtype=object)
    ends = np.select(
        [frequency == WEEKLY, frequency == MONTHLY],
        [
            (start + pd.Timedelta(days=7)).to_numpy(),
            (start + pd.offsets.MonthBegin(1)).to_numpy(),
        ],
        default=(start + pd.DateOffset(months=3)).to_numpy(),
    )  # the next period's start: the period has ended on the day before it
    reported = ends <= np.datetime64(today, "ns")
    old = frame["old"].to_numpy(dtype="float64")
    new = frame["new"].to_numpy(dtype="float64")
    change = np.round(new - old, DECIMALS)
    with np.errstate(divide="ignore", invalid="ignore"):
        change_pct = np.where(old != 0, change / np.abs(old) * 100.0, np.nan)
    measure = np.abs(np.where(old != 0, change_pct, change))
    threshold = max(float(threshold_pct), 0.0)
    beyond = reported & (np.round(measure, DECIMALS) > threshold)
    ratio = measure / threshold if threshold > 0 else np.full(len(measure), np.inf)
    frame = frame.assign(change=change, change_pct=change_pct, ratio=ratio, beyond=beyond)
    return frame[beyond].sort_values(["kpi_id", "period"], kind="stable").reset_index(drop=True)


def revision_base(ratio: np.ndarray | pd.Series) -> np.ndarray:
    """The severity base of a revision that is `ratio` times the threshold: ratio / 2, clipped
    to 0.5–3."""
    values = np.asarray(ratio, dtype="float64") / 2.0
    return np.clip(
        np.nan_to_num(values, nan=REVISION_BASE_MAX), REVISION_BASE_MIN, REVISION_BASE_MAX
    )


def severity(base, criticality, objective_weight) -> np.ndarray:
    """base × criticality (1–5) × objective weight (1–5; 3 when none), rounded to two
    decimals."""
    base = np.asarray(base, dtype="float64")
    criticality = np.clip(np.asarray(criticality, dtype="float64"), 1, 5)
    weight = np.asarray(objective_weight, dtype="float64")
    weight = np.clip(np.where(np.isnan(weight), DEFAULT_WEIGHT, weight), 1, 5)
    return np.round(base * criticality * weight, 2)
