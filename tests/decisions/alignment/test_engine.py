"""decisions/engine/alignment.py: the mean score, low, falling against the previous assessed
quarter, the severity base, the latest assessment per leader and department, the quarters."""

import datetime as dt

import pandas as pd
import pytest

from decisions.engine import alignment as engine

D = dt.date
Q1, Q2, Q3, Q4 = D(2026, 1, 1), D(2026, 4, 1), D(2026, 7, 1), D(2026, 10, 1)


def _frame(rows):
    return pd.DataFrame.from_records(rows, columns=engine.COLUMNS)


@pytest.mark.parametrize(
    ("scores", "score", "low", "base"),
    [
        ((4, 4, 4), 4.0, False, 0.0),
        ((3, 3, 3), 3.0, False, 0.0),
        ((2, 4, 5), 3.67, True, 1.0),  # a 2 at the default line of 2
        ((1, 5, 5), 3.67, True, 1.5),  # a 1: 1 + (2 − 1) / 2
        ((1, 1, 1), 1.0, True, 1.5),
    ],
)
def test_a_first_assessment_is_low_when_any_score_is_at_or_below_the_line(scores, score, low, base):
    # when
    (row,) = engine.evaluate(_frame([(1, 10, 1, Q1, *scores)]), low=2, drop=1.0).to_dict("records")

    # then
    assert (row["score"], row["low"], row["falling"], row["concern"], row["base"]) == (
        score, low, False, low, base,
    )  # fmt: skip
    assert pd.isna(row["previous_score"])


@pytest.mark.parametrize(
    ("before", "after", "change", "falling", "base"),
    [
        ((4, 4, 4), (3, 3, 3), -1.0, True, 1.0),  # exactly the drop
        ((4, 4, 4), (4, 3, 3), -0.67, False, 0.0),  # less
        ((5, 5, 5), (3, 3, 3), -2.0, True, 2.0),  # twice the drop
        ((3, 3, 3), (4, 4, 4), 1.0, False, 0.0),  # rising
        ((5, 5, 5), (2, 3, 3), -2.33, True, 3.0),  # low 1.0 + falling 2.33, capped at 3
    ],
)
def test_falling_is_a_mean_drop_of_at_least_the_threshold(before, after, change, falling, base):
    # given
    frame = _frame([(1, 10, 1, Q1, *before), (2, 10, 1, Q2, *after)])

    # when
    rows = engine.evaluate(frame, low=2, drop=1.0).to_dict("records")

    # then
    assert (rows[1]["change"], rows[1]["falling"], rows[1]["base"]) == (change, falling, base)
    assert (rows[1]["previous_id"], rows[1]["previous_period"]) == (1, Q1)


def test_the_previous_quarter_is_the_latest_assessed_one_of_the_same_department():
    # given: Q2 not assessed in department 1; department 2 judged on its own
    frame = _frame(
        [
            (1, 10, 1, Q1, 5, 5, 5),
            (2, 10, 1, Q3, 4, 4, 4),
            (3, 10, 2, Q2, 5, 5, 5),
            (4, 10, 2, Q3, 3, 3, 3),
            (5, 11, 1, Q3, 2, 2, 2),
        ]
    )

    # when
    rows = {r["id"]: r for r in engine.evaluate(frame, low=2, drop=1.5).to_dict("records")}

    # then
    assert (rows[2]["previous_period"], rows[2]["change"], rows[2]["falling"]) == (Q1, -1.0, False)
    assert (rows[4]["previous_period"], rows[4]["change"], rows[4]["falling"]) == (Q2, -2.0, True)
    assert pd.isna(rows[5]["previous_score"])  # another leader's history does not count


def test_latest_keeps_the_last_assessment_of_each_leader_and_department():
    # given
    frame = _frame(
        [
            (1, 10, 1, Q1, 1, 1, 1),
            (2, 10, 1, Q2, 4, 4, 4),
            (3, 10, 2, Q1, 3, 3, 3),
            (4, 11, 1, Q4, 2, 3, 3),
        ]
    )

    # when
    latest = engine.latest(engine.evaluate(frame, low=2, drop=1.0))

    # then
    assert latest[["id", "concern"]].to_records(index=False).tolist() == [
        (2, False),
        (3, False),
        (4, True),
    ]


@pytest.mark.parametrize(("base", "severity"), [(1.0, 9.0), (1.5, 13.5), (3.0, 27.0)])
def test_severity_is_the_base_times_the_neutral_criticality_and_weight(base, severity):
    assert engine.severity(base).item() == severity


@pytest.mark.parametrize(
    ("day", "start", "label"),
    [
        (D(2026, 1, 1), Q1, "Q1 2026"),
        (D(2026, 5, 17), Q2, "Q2 2026"),
        (D(2026, 9, 30), Q3, "Q3 2026"),
        (D(2026, 12, 31), Q4, "Q4 2026"),
    ],
)
def test_a_day_belongs_to_its_quarter(day, start, label):
    assert engine.quarter_start(day) == start
    assert engine.quarter_label(start) == label
