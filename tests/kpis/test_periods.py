import datetime as dt

import pandas as pd
import pytest

from kpis.choices import Frequency
from kpis.periods import (
    is_period_start,
    not_a_period_start_message,
    period_end,
    period_range,
    period_start,
    period_starts,
    shift,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "frequency", "start"),
    [
        (D(2026, 3, 15), Frequency.WEEKLY, D(2026, 3, 9)),  # a Sunday → its ISO week's Monday
        (D(2026, 3, 9), Frequency.WEEKLY, D(2026, 3, 9)),
        (D(2027, 1, 1), Frequency.WEEKLY, D(2026, 12, 28)),  # ISO week 53 of 2026
        (D(2026, 3, 15), Frequency.MONTHLY, D(2026, 3, 1)),
        (D(2026, 3, 15), Frequency.QUARTERLY, D(2026, 1, 1)),
        (D(2026, 12, 31), Frequency.QUARTERLY, D(2026, 10, 1)),
    ],
)
def test_period_start(day, frequency, start):
    assert period_start(day, frequency) == start
    assert is_period_start(start, frequency)


@pytest.mark.parametrize(
    ("start", "frequency", "n", "expected"),
    [
        (D(2026, 12, 28), Frequency.WEEKLY, 1, D(2027, 1, 4)),
        (D(2026, 11, 1), Frequency.MONTHLY, 3, D(2027, 2, 1)),
        (D(2026, 1, 1), Frequency.MONTHLY, -1, D(2025, 12, 1)),
        (D(2026, 10, 1), Frequency.QUARTERLY, 1, D(2027, 1, 1)),
    ],
)
def test_shift(start, frequency, n, expected):
    assert shift(start, frequency, n) == expected


def test_period_end_and_range():
    assert period_end(D(2026, 2, 1), Frequency.MONTHLY) == D(2026, 2, 28)
    assert period_range(D(2026, 1, 20), D(2026, 4, 2), Frequency.MONTHLY) == [
        D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1),
    ]  # fmt: skip


def test_the_refusal_names_the_expected_date():
    assert not_a_period_start_message(D(2026, 3, 15), Frequency.MONTHLY) == (
        "2026-03-15 is not a monthly period start; did you mean 2026-03-01?"
    )


def test_vectorised_period_starts_match_the_scalar_ones():
    days = pd.Series(pd.to_datetime(["2026-03-15", "2026-03-15", "2026-03-15", "2027-01-01"]))
    frequency = pd.Series(["weekly", "monthly", "quarterly", "weekly"])
    expected = [D(2026, 3, 9), D(2026, 3, 1), D(2026, 1, 1), D(2026, 12, 28)]
    assert [d.date() for d in period_starts(days, frequency)] == expected
