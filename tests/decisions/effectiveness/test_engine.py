"""Effectiveness engine: hand-computed verdicts for each direction and kind, the review window,
missing data, the band rule and which decisions are due."""

import datetime as dt
import math

import pandas as pd
import pytest

from decisions.engine.effectiveness import DECISION_COLUMNS, VERDICT_COLUMNS, effectiveness

DECIDED = dt.date(2026, 6, 10)
REVIEW = dt.date(2026, 10, 15)
TODAY = dt.date(2026, 11, 1)
JUNE, SEPTEMBER, OCTOBER, NOVEMBER = (dt.date(2026, m, 1) for m in (6, 9, 10, 11))

HIGHER = {"direction": "higher_is_better"}
LOWER = {"direction": "lower_is_better"}
BAND = {"direction": "within_band", "band_low": 20.0, "band_high": 30.0}
VARIANCE = {"expected_kind": "variance"}
ABSOLUTE = {"tolerance_mode": "absolute", "unit": "days"}


def decision(**values) -> dict:
    defaults = {
        "decision_id": 12,
        "kpi_id": 1,
        "kpi_code": "PROC-OTD",
        "direction": "higher_is_better",
        "band_low": None,
        "band_high": None,
        "tolerance_mode": "percent",
        "unit": "percent",
        "expected_kind": "value",
        "expected_value": 95.0,
        "decided_on": DECIDED,
        "review_date": REVIEW,
        "status": "decided",
        "effectiveness": "pending",
    }
    return {**defaults, **values}


def decisions(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=DECISION_COLUMNS)


def results(*rows: tuple) -> pd.DataFrame:
    """(period, actual, adverse) rows of KPI 1, or (kpi_id, period, actual, adverse)."""
    full = [row if len(row) == 4 else (1, *row) for row in rows]
    return pd.DataFrame(full, columns=["kpi_id", "period", "actual", "adverse"])


def one(kpi: dict, expected: float, *rows: tuple) -> dict:
    out = effectiveness(decisions(decision(expected_value=expected, **kpi)), results(*rows), TODAY)
    assert len(out) == 1
    return out.iloc[0].to_dict()


@pytest.mark.parametrize(
    ("kpi", "expected", "actual", "adverse", "verdict"),
    [
        # higher is better: the actual must reach the expected value or more
        (HIGHER, 95.0, 91.0, 4.2, "ineffective"),
        (HIGHER, 95.0, 95.0, 0.0, "effective"),  # exactly on the expected value
        (HIGHER, 95.0, 97.5, -2.5, "effective"),
        (HIGHER, 0.3, 0.1 + 0.2, 0.0, "effective"),  # 0.30000000000000004: no float drift
        # lower is better: the actual must come down to the expected value or less
        (LOWER, 45.0, 44.0, 0.0, "effective"),
        (LOWER, 45.0, 45.0, 0.0, "effective"),
        (LOWER, 45.0, 46.0, 2.2, "ineffective"),
        # within a band 20–30, expected inside it: the actual must be inside the band
        (BAND, 28.0, 25.0, 0.0, "effective"),
        (BAND, 28.0, 20.0, 0.0, "effective"),  # on the band's edge
        (BAND, 28.0, 31.0, 3.3, "ineffective"),  # 1 outside, where 0 was expected
        (BAND, 28.0, 19.5, 2.5, "ineffective"),
        # within a band, expected 35 (5 outside it): at most 5 outside, on either side
        (BAND, 35.0, 34.0, 13.3, "effective"),
        (BAND, 35.0, 15.0, 25.0, "effective"),
        (BAND, 35.0, 14.0, 30.0, "ineffective"),
        (BAND, 35.0, 36.0, 20.0, "ineffective"),
        # variance: the adverse variance must be at most the expected value
        ({**HIGHER, **VARIANCE}, 5.0, 91.0, 4.2, "effective"),
        ({**HIGHER, **VARIANCE}, 5.0, 90.0, 5.0, "effective"),
        ({**HIGHER, **VARIANCE}, 5.0, 89.5, 5.5, "ineffective"),
        ({**HIGHER, **VARIANCE}, 0.0, 101.0, -1.0, "effective"),  # better than plan
        ({**LOWER, **VARIANCE, **ABSOLUTE}, 2.0, 47.0, 3.0, "ineffective"),
        ({**BAND, **VARIANCE}, 0.0, 29.0, 0.0, "effective"),
    ],
)
def test_verdicts(kpi, expected, actual, adverse, verdict):
    # when
    out = one(kpi, expected, (JUNE, 84.0, 11.6), (OCTOBER, actual, adverse))

    # then
    assert out["verdict"] == verdict
    assert out["review_period"] == OCTOBER
    assert out["baseline_period"] == JUNE


@pytest.mark.parametrize(
    ("kpi", "expected", "rows", "note"),
    [
        (
            HIGHER,
            95.0,
            [(JUNE, 84.0, 11.6), (OCTOBER, 91.0, 4.2)],
            "PROC-OTD: 91 at 2026-10-01 against an expected ≥ 95 by 2026-10-15; baseline 84 "
            "at 2026-06-01.",
        ),
        (
            LOWER,
            45.0,
            [(OCTOBER, 1234.5, 2.0)],
            "PROC-OTD: 1,234.5 at 2026-10-01 against an expected ≤ 45 by 2026-10-15; no "
            "baseline before the decision.",
        ),
        (
            BAND,
            28.0,
            [(JUNE, 38.0, 26.7), (OCTOBER, 31.0, 3.3)],
            "PROC-OTD: 31 at 2026-10-01 against an expected 28, inside the band 20–30 by "
            "2026-10-15; baseline 38 at 2026-06-01.",
        ),
        (
            BAND,
            35.0,
            [(OCTOBER, 34.0, 13.3)],
            "PROC-OTD: 34 at 2026-10-01 against an expected 35, at most 5 outside the band "
            "20–30 by 2026-10-15; no baseline before the decision.",
        ),
        (
            {**HIGHER, **VARIANCE},
            5.0,
            [(JUNE, 84.0, 11.6), (OCTOBER, 91.0, 4.2)],
            "PROC-OTD: adverse variance 4.2% at 2026-10-01 against an expected adverse variance "
            "≤ 5% by 2026-10-15; baseline adverse variance 11.6% at 2026-06-01.",
        ),
        (
            {**LOWER, **VARIANCE, **ABSOLUTE},
            2.0,
            [(OCTOBER, 47.0, 3.0)],
            "PROC-OTD: adverse variance 3 days at 2026-10-01 against an expected adverse "
            "variance ≤ 2 days by 2026-10-15; no baseline before the decision.",
        ),
        (
            HIGHER,
            95.0,
            [(JUNE, 84.0, 11.6)],
            "PROC-OTD: no period with an actual between the decision on 2026-06-10 and its "
            "review date 2026-10-15; expected ≥ 95; baseline 84 at 2026-06-01.",
        ),
        (
            {**HIGHER, **VARIANCE},
            5.0,
            [(OCTOBER, 91.0, None)],
            "PROC-OTD: no period with an adverse variance (an actual against a plan) between "
            "the decision on 2026-06-10 and its review date 2026-10-15; expected adverse "
            "variance ≤ 5%; no baseline before the decision.",
        ),
    ],
)
def test_the_note_states_the_figures(kpi, expected, rows, note):
    # when
    out = one(kpi, expected, *rows)

    # then
    assert out["note"] == note


def test_the_reading_is_the_latest_actual_in_the_window():
    # given: October has no actual (missing), November is after the review date
    rows = [
        (JUNE, 84.0, 11.6),
        (SEPTEMBER, 96.0, -1.0),
        (OCTOBER, None, None),
        (NOVEMBER, 80.0, 16.0),
    ]

    # when
    out = one(HIGHER, 95.0, *rows)

    # then
    assert (out["verdict"], out["review_period"], out["review_actual"]) == (
        "effective",
        SEPTEMBER,
        96.0,
    )


def test_no_actual_after_the_decision_is_inconclusive():
    # when: only the baseline, and a period after the review date
    out = one(HIGHER, 95.0, (JUNE, 84.0, 11.6), (NOVEMBER, 99.0, 0.0))

    # then
    assert out["verdict"] == "inconclusive"
    assert out["review_period"] is None
    assert math.isnan(out["review_actual"])
    assert (out["baseline_period"], out["baseline_actual"]) == (JUNE, 84.0)


def test_a_period_starting_on_the_decision_date_is_the_baseline_not_the_reading():
    # given
    frame = decisions(decision(decided_on=JUNE))

    # when
    out = effectiveness(frame, results((JUNE, 99.0, 0.0)), TODAY).iloc[0]

    # then
    assert (out["verdict"], out["baseline_period"]) == ("inconclusive", JUNE)


def test_a_variance_promise_needs_a_plan_an_actual_alone_is_inconclusive():
    # when: an actual without a plan (status no_plan) has no adverse variance
    out = one({**HIGHER, **VARIANCE}, 5.0, (OCTOBER, 91.0, None))

    # then
    assert out["verdict"] == "inconclusive"


def test_no_results_at_all_is_inconclusive():
    # when
    out = effectiveness(decisions(decision()), results(), TODAY)

    # then
    assert out["verdict"].tolist() == ["inconclusive"]


def test_only_decided_pending_decisions_whose_review_date_has_come_are_judged():
    # given
    frame = decisions(
        decision(decision_id=1),
        decision(decision_id=2, review_date=TODAY),  # due today
        decision(decision_id=3, review_date=TODAY + dt.timedelta(days=1)),  # not yet
        decision(decision_id=4, status="proposed"),
        decision(decision_id=5, status="superseded"),
        decision(decision_id=6, effectiveness="effective"),  # reviewed already
        decision(decision_id=7, kpi_id=None, expected_value=None),  # no expected effect
    )

    # when
    out = effectiveness(frame, results((OCTOBER, 96.0, 0.0)), TODAY)

    # then
    assert out["decision_id"].tolist() == [1, 2]
    assert list(out.columns) == VERDICT_COLUMNS


def test_each_decision_reads_its_own_kpi_and_dates():
    # given: two KPIs, decisions with different windows
    frame = decisions(
        decision(decision_id=20, kpi_id=2, kpi_code="SALES-DSO", **LOWER, expected_value=45.0),
        decision(decision_id=10, review_date=dt.date(2026, 9, 15)),
        decision(decision_id=11),
    )
    rows = results(
        (1, SEPTEMBER, 96.0, 0.0),
        (1, OCTOBER, 91.0, 4.2),
        (2, SEPTEMBER, 50.0, 11.1),
        (2, OCTOBER, 44.0, 0.0),
    )

    # when
    out = effectiveness(frame, rows, TODAY)

    # then
    assert out[["decision_id", "verdict", "review_period"]].to_dict("records") == [
        {"decision_id": 10, "verdict": "effective", "review_period": SEPTEMBER},
        {"decision_id": 11, "verdict": "ineffective", "review_period": OCTOBER},
        {"decision_id": 20, "verdict": "effective", "review_period": OCTOBER},
    ]


def test_nothing_due_gives_an_empty_frame():
    # when
    out = effectiveness(
        decisions(decision(review_date=NOVEMBER + dt.timedelta(days=30))), results(), TODAY
    )

    # then
    assert out.empty
    assert list(out.columns) == VERDICT_COLUMNS
