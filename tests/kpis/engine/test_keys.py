"""Joins on packed (kpi, period) keys, and the forecast's grouped sums against pandas'."""

import datetime as dt

import numpy as np
import pandas as pd

from kpis.engine import keys
from kpis.engine.forecast import _group_sums


def test_packed_keys_round_trip_and_sort_by_kpi_then_period():
    # given dates near the ends of datetime64[ns] and large ids
    kpi_id = np.array([2**40, 1, 1, 7], dtype="int64")
    period = np.array(["1678-01-02", "2262-04-11", "1970-01-01", "2026-03-02"], "datetime64[ns]")

    # when
    packed = keys.pack(kpi_id, period)
    back_id, back_period = keys.unpack(packed)

    # then
    assert back_id.tolist() == kpi_id.tolist()
    assert back_period.tolist() == period.tolist()
    assert np.argsort(packed).tolist() == [2, 1, 3, 0]


def test_outer_join_gives_the_sorted_union_and_each_side_position():
    # given
    left = keys.pack(np.array([2, 1]), np.array(["2026-01-01", "2026-01-01"], "datetime64[ns]"))
    right = keys.pack(np.array([3, 2]), np.array(["2026-01-01", "2026-01-01"], "datetime64[ns]"))

    # when
    union, at_left, at_right = keys.outer(left, right)

    # then
    assert keys.unpack(union)[0].tolist() == [1, 2, 3]
    assert at_left.tolist() == [1, 0, -1]
    assert at_right.tolist() == [-1, 1, 0]


def test_positions_and_take_fill_the_gaps_by_type():
    # given
    at = keys.positions(np.array([5, 9, 1]), np.array([1, 5, 3]))

    # when / then
    assert at.tolist() == [1, -1, 0]
    assert keys.take(np.array([0.5, 1.5, 2.5]), at).tolist()[::2] == [1.5, 0.5]
    assert np.isnan(keys.take(np.array([0.5, 1.5, 2.5]), at)[1])
    assert keys.take(np.array(["a", "b", "c"], dtype=object), at).tolist() == ["b", None, "a"]
    assert np.isnat(keys.take(np.array(["2026-01-01"] * 3, "datetime64[ns]"), at)[1])
    assert keys.positions(np.array([1]), np.array([], dtype="int64")).tolist() == [-1]


def test_keyed_reads_dates_datetimes_and_strings_alike():
    # given the same periods as dates, datetimes and ISO strings
    days = [dt.date(2026, 3, 2), dt.date(2025, 12, 29)]
    frames = [
        pd.DataFrame({"kpi_id": [1, 2], "period": days, "plan": [1, 2]}),
        pd.DataFrame({"kpi_id": [1, 2], "period": pd.to_datetime(days), "plan": [1, 2]}),
        pd.DataFrame({"kpi_id": [1, 2], "period": [d.isoformat() for d in days], "plan": [1, 2]}),
    ]

    # when
    keyed = [keys.keyed(frame, "plan") for frame in frames]

    # then
    for packed, values in keyed:
        assert packed.tolist() == keyed[0][0].tolist()
        assert values.dtype == "float64"
        assert values.tolist() == [1.0, 2.0]


def test_group_sums_equal_pandas_grouped_sums_to_the_last_bit():
    # given groups of 1 to 12 rows of awkward floats
    rng = np.random.default_rng(7)
    size = rng.integers(1, 13, 500)
    values = rng.normal(0.0, 1000.0, (int(size.sum()), 4)) / 7.0
    first = np.r_[0, np.cumsum(size)[:-1]]

    # when
    sums = _group_sums(values, first)

    # then
    expected = pd.DataFrame(values).groupby(np.repeat(np.arange(500), size)).sum().to_numpy()
    assert (sums == expected).all()
