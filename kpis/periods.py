"""Reporting periods. A period is named by the date it starts: a Monday for weekly KPIs (ISO
weeks), the first of a month for monthly ones and the first of January, April, July or October
for quarterly ones. Pure functions, plus vectorised forms for pandas."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kpis.choices import Frequency

_NAMES = {
    Frequency.WEEKLY: "weekly",
    Frequency.MONTHLY: "monthly",
    Frequency.QUARTERLY: "quarterly",
}


def period_start(day: dt.date, frequency: str) -> dt.date:
    """The start of the period that contains `day`."""
    if frequency == Frequency.WEEKLY:
        return day - dt.timedelta(days=day.weekday())
    if frequency == Frequency.MONTHLY:
        return day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"Unknown frequency {frequency!r}")


def is_period_start(day: dt.date, frequency: str) -> bool:
    return period_start(day, frequency) == day


def shift(start: dt.date, frequency: str, periods: int = 1) -> dt.date:
    """The start of the period `periods` after (or before, if negative) the one starting at
    `start`."""
    if frequency == Frequency.WEEKLY:
        return start + dt.timedelta(weeks=periods)
    months = periods * (3 if frequency == Frequency.QUARTERLY else 1)
    index = start.year * 12 + (start.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_end(start: dt.date, frequency: str) -> dt.date:
    """The last day of the period starting at `start`."""
    return shift(start, frequency) - dt.timedelta(days=1)


def period_range(first: dt.date, last: dt.date, frequency: str) -> list[dt.date]:
    """Every period start from the period containing `first` to the one containing `last`."""
    current, end, out = period_start(first, frequency), period_start(last, frequency), []
    while current <= end:
        out.append(current)
        current = shift(current, frequency)
    return out


def not_a_period_start_message(day: dt.date, frequency: str) -> str:
    """'2026-03-15 is not a monthly period start; did you mean 2026-03-01?'"""
    return (
        f"{day.isoformat()} is not a {_NAMES.get(frequency, frequency)} period start; "
        f"did you mean {period_start(day, frequency).isoformat()}?"
    )


def period_starts(days: pd.Series, frequency: pd.Series | str) -> pd.Series:
    """Vectorised `period_start` over a datetime64 Series (one frequency or one per row)."""
    days = pd.to_datetime(days)
    weekly = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    monthly = days.dt.to_period("M").dt.start_time
    quarterly = days.dt.to_period("Q").dt.start_time
    if isinstance(frequency, str):
        return {Frequency.WEEKLY: weekly, Frequency.MONTHLY: monthly}.get(frequency, quarterly)
    return weekly.where(
        frequency == Frequency.WEEKLY,
        monthly.where(frequency == Frequency.MONTHLY, quarterly),
    )


EPOCH_MONTH = 1970 * 12


def _as_array(value, length: int) -> np.ndarray:
    if isinstance(value, str | int | np.integer):
        return np.full(length, value, dtype=object if isinstance(value, str) else "int64")
    return np.asarray(value)


def month_index(days: pd.Series) -> np.ndarray:
    """Months since year 0 (year × 12 + month − 1) of a datetime64 Series."""
    days = pd.to_datetime(days)
    return (days.dt.year * 12 + days.dt.month - 1).to_numpy(dtype="int64")


def shift_periods(starts: pd.Series, frequency: pd.Series | str, periods) -> pd.Series:
    """Vectorised `kpis.periods.shift`: the period start `periods` periods after each start."""
    starts = np.asarray(starts)
    if starts.dtype.kind != "M":  # dates or strings; numpy datetimes need no pandas round trip
        starts = pd.to_datetime(pd.Series(starts)).to_numpy()
    starts = starts.astype("datetime64[ns]")
    frequency = _as_array(frequency, len(starts))
    periods = _as_array(periods, len(starts)).astype("int64")
    weekly = starts + (periods * 7).astype("timedelta64[D]")
    step = np.where(frequency == Frequency.QUARTERLY, 3, 1) * periods
    months = (starts.astype("datetime64[M]").astype("int64") + step).astype("datetime64[M]")
    shifted = np.where(
        frequency == Frequency.WEEKLY, weekly, months.astype("datetime64[ns]")
    ).astype("datetime64[ns]")
    return pd.Series(shifted)


def period_ends(starts: pd.Series, frequency: pd.Series | str) -> pd.Series:
    """Vectorised `kpis.periods.period_end`: the last day of the period starting at each start."""
    return pd.Series(shift_periods(starts, frequency, 1).to_numpy() - np.timedelta64(1, "D"))
