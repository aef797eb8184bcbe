"""Joins on (kpi, period) in numpy. Each pair is packed into one int64 key that sorts by KPI,
then period, so an outer join is one `np.unique` and a lookup one `np.searchsorted`.

Why not `DataFrame.merge`: it costs about a millisecond per call whatever the size, which made
most of a one-KPI recompute; these cost microseconds on a few rows and scale like a sort.
Within each input a (kpi, period) pair appears at most once, as the unique constraints on
targets, measurements and results guarantee.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# datetime64[ns] spans ±106,752 days around 1970: 18 bits with the offset hold any of them.
DAY_BITS = 18
DAY_OFFSET = 1 << (DAY_BITS - 1)
DAY_MASK = (1 << DAY_BITS) - 1


def array(column, dtype=None) -> np.ndarray:
    """A column (Series, array or list) as a numpy array. `Series.to_numpy` where it can:
    `np.asarray` on a Series probes attributes through pandas' slow `__getattr__`."""
    if isinstance(column, pd.Series | pd.Index):
        return column.to_numpy(dtype=dtype)
    return np.asarray(column, dtype=dtype)


def periods(column) -> np.ndarray:
    """Period starts (dates, datetimes or ISO strings) as datetime64[ns]."""
    values = array(column)
    if values.dtype == "datetime64[ns]":
        return values
    if values.dtype.kind == "M":
        return values.astype("datetime64[ns]")
    return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy().astype("datetime64[ns]")


def ids(column) -> np.ndarray:
    return array(column, "int64")


def floats(column) -> np.ndarray:
    return array(column, "float64")


def pack(kpi_id: np.ndarray, period: np.ndarray) -> np.ndarray:
    """One int64 per (kpi, period), ordered like the pairs."""
    days = period.astype("datetime64[D]").astype("int64")
    return (kpi_id << DAY_BITS) | (days + DAY_OFFSET)


def unpack(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kpi_id int64, period datetime64[ns]) of packed keys."""
    days = (keys & DAY_MASK) - DAY_OFFSET
    return keys >> DAY_BITS, days.astype("datetime64[D]").astype("datetime64[ns]")


def keyed(frame: pd.DataFrame, value: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The packed (kpi_id, period) keys of `frame` and, when named, its `value` column as
    floats."""
    keys = pack(ids(frame["kpi_id"]), periods(frame["period"]))
    return keys, None if value is None else floats(frame[value])


def outer(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted union of two sets of keys, and for each key its position in `left` and in
    `right` (−1 where absent)."""
    union, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
    at_left = np.full(len(union), -1, dtype="int64")
    at_right = np.full(len(union), -1, dtype="int64")
    at_left[inverse[: len(left)]] = np.arange(len(left))
    at_right[inverse[len(left) :]] = np.arange(len(right))
    return union, at_left, at_right


def positions(wanted: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each of `wanted`, its position in `values` (unique), or −1."""
    if not len(values):
        return np.full(len(wanted), -1, dtype="int64")
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    at = np.minimum(np.searchsorted(ordered, wanted), len(values) - 1)
    return np.where(ordered[at] == wanted, order[at], -1)


def take(values, at: np.ndarray) -> np.ndarray:
    """values[at], with a gap where `at` is −1: NaN for floats, NaT for datetimes, None for
    anything else (which comes back as an object array)."""
    values = array(values)
    kind = values.dtype.kind
    if kind == "f":
        out = np.full(len(at), np.nan, dtype=values.dtype)
    elif kind == "M":
        out = np.full(len(at), np.datetime64("NaT"), dtype=values.dtype)
    else:
        out = np.full(len(at), None, dtype=object)
    found = at >= 0
    out[found] = values[at[found]]
    return out


def isin(values: np.ndarray, choices) -> np.ndarray:
    """`np.isin` for object arrays that may hold None (which cannot be sorted with strings)."""
    found = np.zeros(len(values), dtype=bool)
    for choice in choices:
        found |= np.asarray(values == choice, dtype=bool)
    return found


def firsts(kpi_id: np.ndarray) -> np.ndarray:
    """A mask of the first row of each KPI in rows sorted by KPI."""
    return np.r_[True, kpi_id[1:] != kpi_id[:-1]] if len(kpi_id) else np.zeros(0, dtype=bool)


def lasts(kpi_id: np.ndarray) -> np.ndarray:
    """A mask of the last row of each KPI in rows sorted by KPI."""
    return np.r_[kpi_id[1:] != kpi_id[:-1], True] if len(kpi_id) else np.zeros(0, dtype=bool)
