"""Did a decision move its KPI as it promised? Pure pandas: decisions and computed KPI results in,
one verdict per decision due for review out. No ORM, no clock (the caller passes `today`).

Rules (docs/decision-effectiveness.md):

- **Due**: a decided decision (not proposed, not superseded) with an expected effect (KPI, kind,
  value, review date) whose review date is on or before `today` and whose effectiveness is still
  pending.
- **Window**: the KPI's periods that start after the decision date (`decided_on`) and on or
  before the review date. Periods are named by the day they start (`kpis.periods`), so a period
  in the window was measured after the decision was taken.
- **Reading**: the latest period in the window with an actual (kind `value`) or with an adverse
  variance, i.e. an actual against a plan (kind `variance`). **Baseline**: the latest such period
  starting on or before the decision date; it is reported in the note, never judged.
- **Verdict**: no reading → `inconclusive`. Kind `value`: higher-is-better → effective when the
  actual ≥ the expected value; lower-is-better → actual ≤ expected; within-band → effective when
  the actual is no farther outside the band than the expected value is (inside the band when
  the expected value is inside it). Kind `variance`: effective when the adverse variance (in the
  KPI's tolerance unit: percent of plan or absolute) ≤ the expected value. Otherwise
  `ineffective`. Figures are rounded to 9 decimals before comparing, as in the variance engine.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from decisions.choices import DecisionStatus, Effectiveness, ExpectedEffectKind
from kpis.choices import Direction, ToleranceMode, Unit

DECISION_COLUMNS = [
    "decision_id",
    "kpi_id",
    "kpi_code",
    "direction",
    "band_low",
    "band_high",
    "tolerance_mode",
    "unit",
    "expected_kind",
    "expected_value",
    "decided_on",
    "review_date",
    "status",
    "effectiveness",
]
RESULT_COLUMNS = ["kpi_id", "period", "actual", "adverse"]
VERDICT_COLUMNS = [
    "decision_id",
    "verdict",
    "note",
    "review_period",
    "review_actual",
    "review_adverse",
    "baseline_period",
    "baseline_actual",
    "baseline_adverse",
]
DECIMALS = 9
UNIT_LABELS = dict(Unit.choices)


def due(decisions: pd.DataFrame, today: dt.date) -> pd.Series:
    """Which rows of `decisions` are due for their effectiveness review on `today`."""
    review = pd.to_datetime(decisions["review_date"])
    return (
        (decisions["status"] == DecisionStatus.DECIDED)
        & (decisions["effectiveness"] == Effectiveness.PENDING)
        & decisions["kpi_id"].notna()
        & decisions["expected_value"].notna()
        & decisions["decided_on"].notna()
        & (review <= pd.Timestamp(today))
    )


def effectiveness(decisions: pd.DataFrame, results: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """The verdict, with the figures and a note stating them, of each decision due on `today`.

    `decisions`: DECISION_COLUMNS, one row per decision (`unit` and `tolerance_mode` as stored on
    the KPI). `results`: RESULT_COLUMNS, the computed periods of the expected KPIs (others are
    ignored). Returns VERDICT_COLUMNS sorted by decision id; periods as dates, NaN/None when
    there is no such period."""
    frame = decisions.loc[due(decisions, today)].copy()
    if frame.empty:
        return pd.DataFrame(columns=VERDICT_COLUMNS)
    frame["kpi_id"] = frame["kpi_id"].astype("int64")
    frame["review_day"] = pd.to_datetime(frame["review_date"])
    frame["decision_day"] = pd.to_datetime(frame["decided_on"])
    for column in ("expected_value", "band_low", "band_high"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame = frame.sort_values("decision_id").set_index("decision_id")

    rows = _results(results)
    with_actual = rows[rows["actual"].notna()]
    with_adverse = rows[rows["adverse"].notna()]
    variance = (frame["expected_kind"] == ExpectedEffectKind.VARIANCE).to_numpy()
    reading = _pick(
        variance,
        _latest(frame, with_adverse, "review_day"),
        _latest(frame, with_actual, "review_day"),
    )
    baseline = _pick(
        variance,
        _latest(frame, with_adverse, "decision_day"),
        _latest(frame, with_actual, "decision_day"),
    )
    # A reading must come from the window: a period that starts after the decision date.
    outside = ~(reading["period"] > frame["decision_day"]).to_numpy()
    reading.loc[outside, :] = np.nan
    reading["period"] = pd.to_datetime(reading["period"])

    verdict = _verdict(frame, reading, variance)
    out = pd.DataFrame(
        {
            "decision_id": frame.index.to_numpy(),
            "verdict": verdict,
            "review_period": _dates(reading["period"]),
            "review_actual": reading["actual"].to_numpy(dtype="float64"),
            "review_adverse": reading["adverse"].to_numpy(dtype="float64"),
            "baseline_period": _dates(baseline["period"]),
            "baseline_actual": baseline["actual"].to_numpy(dtype="float64"),
            "baseline_adverse": baseline["adverse"].to_numpy(dtype="float64"),
        }
    )
    out["note"] = [
        _note(row, out_row)
        for row, out_row in zip(
            frame.reset_index().to_dict("records"), out.to_dict("records"), strict=True
        )
    ]
    return out[VERDICT_COLUMNS].reset_index(drop=True)


def _results(results: pd.DataFrame) -> pd.DataFrame:
    rows = results.reindex(columns=RESULT_COLUMNS).copy()
    rows["kpi_id"] = rows["kpi_id"].astype("int64")
    rows["period"] = pd.to_datetime(rows["period"])
    rows["actual"] = pd.to_numeric(rows["actual"], errors="coerce").astype("float64")
    rows["adverse"] = pd.to_numeric(rows["adverse"], errors="coerce").astype("float64")
    return rows.sort_values("period", kind="stable")


def _latest(frame: pd.DataFrame, rows: pd.DataFrame, on: str) -> pd.DataFrame:
    """Per decision of `frame`, the latest row of its KPI starting on or before `frame[on]`."""
    left = frame[["kpi_id", on]].reset_index().sort_values(on, kind="stable")
    right = rows.rename(columns={"period": "found"})
    merged = pd.merge_asof(
        left, right, left_on=on, right_on="found", by="kpi_id", direction="backward"
    )
    merged = merged.set_index("decision_id").reindex(frame.index)
    return pd.DataFrame(
        {"period": merged["found"], "actual": merged["actual"], "adverse": merged["adverse"]},
        index=frame.index,
    )


def _pick(variance: np.ndarray, when_variance: pd.DataFrame, otherwise: pd.DataFrame):
    picked = otherwise.copy()
    picked.loc[variance, :] = when_variance.loc[variance, :]
    picked["period"] = pd.to_datetime(picked["period"])
    return picked


def _round(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype="float64"), DECIMALS)


def _outside_band(values, low, high) -> np.ndarray:
    values = np.asarray(values, dtype="float64")
    return np.maximum(np.maximum(low - values, values - high), 0.0)


def _verdict(frame: pd.DataFrame, reading: pd.DataFrame, variance: np.ndarray) -> np.ndarray:
    actual = reading["actual"].to_numpy(dtype="float64")
    adverse = reading["adverse"].to_numpy(dtype="float64")
    expected = frame["expected_value"].to_numpy(dtype="float64")
    low = frame["band_low"].to_numpy(dtype="float64")
    high = frame["band_high"].to_numpy(dtype="float64")
    direction = frame["direction"].to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        reached = np.select(
            [
                direction == Direction.HIGHER_IS_BETTER,
                direction == Direction.LOWER_IS_BETTER,
                direction == Direction.WITHIN_BAND,
            ],
            [
                _round(actual) >= _round(expected),
                _round(actual) <= _round(expected),
                _round(_outside_band(actual, low, high))
                <= _round(_outside_band(expected, low, high)),
            ],
            default=False,
        )
        within = _round(adverse) <= _round(expected)
    effective = np.where(variance, within, reached)
    has_reading = reading["period"].notna().to_numpy()
    return np.where(
        ~has_reading,
        Effectiveness.INCONCLUSIVE.value,
        np.where(effective, Effectiveness.EFFECTIVE.value, Effectiveness.INEFFECTIVE.value),
    ).astype(object)


def _dates(values: pd.Series) -> list[dt.date | None]:
    return [None if pd.isna(value) else value.date() for value in values]


# --- The note -------------------------------------------------------------------------------


def number(value: float) -> str:
    """A figure as people read it: up to 6 significant digits, thousands separated."""
    return f"{value:,.6g}"


def _adverse_text(value: float, decision: dict) -> str:
    if decision["tolerance_mode"] == ToleranceMode.PERCENT:
        return f"{number(value)}%"
    return f"{number(value)} {UNIT_LABELS.get(decision['unit'], decision['unit'])}"


def _expectation(decision: dict) -> str:
    """What was promised, e.g. "≥ 95" or "adverse variance ≤ 2%"."""
    expected = decision["expected_value"]
    if decision["expected_kind"] == ExpectedEffectKind.VARIANCE:
        return f"adverse variance ≤ {_adverse_text(expected, decision)}"
    direction = decision["direction"]
    if direction == Direction.HIGHER_IS_BETTER:
        return f"≥ {number(expected)}"
    if direction == Direction.LOWER_IS_BETTER:
        return f"≤ {number(expected)}"
    low, high = decision["band_low"], decision["band_high"]
    band = f"{number(low)}–{number(high)}"
    off = float(_outside_band([expected], low, high)[0])
    if off == 0:
        return f"{number(expected)}, inside the band {band}"
    return f"{number(expected)}, at most {number(off)} outside the band {band}"


def _baseline(decision: dict, verdict: dict) -> str:
    if verdict["baseline_period"] is None:
        return "no baseline before the decision"
    if decision["expected_kind"] == ExpectedEffectKind.VARIANCE:
        figure = f"adverse variance {_adverse_text(verdict['baseline_adverse'], decision)}"
    else:
        figure = number(verdict["baseline_actual"])
    return f"baseline {figure} at {verdict['baseline_period']:%Y-%m-%d}"


def _note(decision: dict, verdict: dict) -> str:
    """The figures behind the verdict, e.g. "PROC-OTD: 91 at 2026-10-01 against an expected ≥ 95
    by 2026-10-15; baseline 84 at 2026-06-01."."""
    code = decision["kpi_code"]
    review = f"{decision['review_day']:%Y-%m-%d}"
    expected = _expectation(decision)
    baseline = _baseline(decision, verdict)
    if verdict["review_period"] is None:
        what = (
            "an adverse variance (an actual against a plan)"
            if decision["expected_kind"] == ExpectedEffectKind.VARIANCE
            else "an actual"
        )
        return (
            f"{code}: no period with {what} between the decision on "
            f"{decision['decision_day']:%Y-%m-%d} and its review date {review}; expected "
            f"{expected}; {baseline}."
        )
    if decision["expected_kind"] == ExpectedEffectKind.VARIANCE:
        figure = f"adverse variance {_adverse_text(verdict['review_adverse'], decision)}"
    else:
        figure = number(verdict["review_actual"])
    return (
        f"{code}: {figure} at {verdict['review_period']:%Y-%m-%d} against an expected "
        f"{expected} by {review}; {baseline}."
    )
