"""Decision metrics engine: latency percentiles, within-deadline shares and effective shares,
overall, per department and per month, hand-computed."""

import datetime as dt
import math

import pandas as pd
import pytest

from decisions.engine.metrics import (
    DECISION_COLUMNS,
    EXCEPTION_COLUMNS,
    SUMMARY_COLUMNS,
    decision_facts,
    exception_facts,
    months,
    summarise,
)

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=dt.UTC)


# (id, department, opened, deadline, first decision, resolved)
EXCEPTIONS = [
    (1, 10, at(1, 5), at(1, 8), at(1, 6), None),  # 1 day, in time
    (2, 10, at(1, 10), at(1, 13), at(1, 20, 21), None),  # 10.5 days, missed
    (3, 20, at(2, 1), at(2, 4), None, None),  # no decision, deadline passed: missed
    (4, 20, at(2, 1), at(2, 4), None, at(2, 2)),  # resolved before the deadline: neither
    (5, 20, at(2, 20), at(3, 5), None, None),  # deadline still to come: neither
    (6, 20, at(2, 10), at(2, 13), at(2, 12, 3), None),  # 1.75 days, in time
    (7, 10, at(1, 15), at(1, 18), None, at(1, 20)),  # resolved after the deadline: missed
]
DECISIONS = [
    (1, 10, dt.date(2026, 1, 30), "effective"),
    (2, 10, dt.date(2026, 2, 28), "ineffective"),
    (3, 20, dt.date(2026, 2, 15), "inconclusive"),
    (4, 20, dt.date(2026, 3, 1), "pending"),
    (5, 20, dt.date(2026, 2, 20), "effective"),
]


@pytest.fixture
def facts():
    exceptions = exception_facts(pd.DataFrame(EXCEPTIONS, columns=EXCEPTION_COLUMNS), NOW)
    decisions = decision_facts(pd.DataFrame(DECISIONS, columns=DECISION_COLUMNS))
    return exceptions, decisions


def row(frame: pd.DataFrame, key) -> dict:
    values = frame.loc[key].to_dict()
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()}


def test_exception_facts(facts):
    # when
    exceptions, _ = facts

    # then
    assert exceptions["latency_days"].fillna(-1).tolist() == [1.0, 10.5, -1, -1, -1, 1.75, -1]
    assert exceptions["in_time"].tolist() == [True, False, False, False, False, True, False]
    assert exceptions["missed"].tolist() == [False, True, True, False, False, False, True]
    assert exceptions["month"].tolist() == ["2026-01"] * 2 + ["2026-02"] * 4 + ["2026-01"]


def test_overall(facts):
    # when
    out = summarise(*facts)

    # then: latencies 1, 1.75, 10.5 → median 1.75, p90 at rank 1.8 = 1.75 + 0.8 × 8.75
    assert list(out.columns) == SUMMARY_COLUMNS
    assert row(out, 0) == {
        "exceptions": 7,
        "decided": 3,
        "latency_median": 1.75,
        "latency_p90": 8.75,
        "decided_in_time": 2,
        "deadline_due": 5,
        "within_deadline_share": 0.4,
        "reviewed": 4,
        "effective": 2,
        "ineffective": 1,
        "inconclusive": 1,
        "effective_share": 0.5,
    }


def test_per_department(facts):
    # when
    out = summarise(*facts, by="department_id")

    # then: department 10 has latencies 1 and 10.5 → p90 = 1 + 0.9 × 9.5
    assert out.index.tolist() == [10, 20]
    assert row(out, 10) == {
        "exceptions": 3,
        "decided": 2,
        "latency_median": 5.75,
        "latency_p90": 9.55,
        "decided_in_time": 1,
        "deadline_due": 3,
        "within_deadline_share": 0.3333,
        "reviewed": 2,
        "effective": 1,
        "ineffective": 1,
        "inconclusive": 0,
        "effective_share": 0.5,
    }
    assert row(out, 20) == {
        "exceptions": 4,
        "decided": 1,
        "latency_median": 1.75,
        "latency_p90": 1.75,
        "decided_in_time": 1,
        "deadline_due": 2,
        "within_deadline_share": 0.5,
        "reviewed": 2,
        "effective": 1,
        "ineffective": 0,
        "inconclusive": 1,
        "effective_share": 0.5,
    }


def test_per_month_lists_every_month_asked_for(facts):
    # when
    out = summarise(*facts, by="month", keys=months(dt.date(2026, 1, 1), dt.date(2026, 3, 31)))

    # then: exceptions by opening month, decisions by review month
    assert out.index.tolist() == ["2026-01", "2026-02", "2026-03"]
    january, february, march = (row(out, m) for m in ("2026-01", "2026-02", "2026-03"))
    assert (january["exceptions"], january["latency_median"], january["deadline_due"]) == (
        3,
        5.75,
        3,
    )
    assert (january["reviewed"], january["effective_share"]) == (1, 1.0)
    assert (february["exceptions"], february["decided"], february["within_deadline_share"]) == (
        4,
        1,
        0.5,
    )
    assert (february["reviewed"], february["effective_share"]) == (3, 0.3333)
    assert march == {
        "exceptions": 0,
        "decided": 0,
        "latency_median": None,
        "latency_p90": None,
        "decided_in_time": 0,
        "deadline_due": 0,
        "within_deadline_share": None,
        "reviewed": 0,
        "effective": 0,
        "ineffective": 0,
        "inconclusive": 0,
        "effective_share": None,
    }


def test_nothing_to_count():
    # given
    exceptions = exception_facts(pd.DataFrame(columns=EXCEPTION_COLUMNS), NOW)
    decisions = decision_facts(pd.DataFrame(columns=DECISION_COLUMNS))

    # when
    out = summarise(exceptions, decisions)

    # then
    assert row(out, 0)["exceptions"] == 0
    assert row(out, 0)["latency_median"] is None
    assert row(out, 0)["effective_share"] is None


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (dt.date(2026, 2, 1), dt.date(2026, 1, 31), []),
        (dt.date(2026, 1, 15), dt.date(2026, 1, 20), ["2026-01"]),
        (dt.date(2025, 11, 30), dt.date(2026, 2, 1), ["2025-11", "2025-12", "2026-01", "2026-02"]),
    ],
)
def test_months(first, last, expected):
    assert months(first, last) == expected
