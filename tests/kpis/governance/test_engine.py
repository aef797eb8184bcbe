"""kpis/engine/governance.py: eased or not per direction, which KPIs are flagged, which revisions
go beyond the threshold, and the severity, against hand-computed tables."""

import datetime as dt

import pandas as pd
import pytest

from kpis.engine import governance as engine

D = dt.date
JAN, FEB, MAR, NOV = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 11, 1)


def _changes(rows):
    return pd.DataFrame.from_records(rows, columns=engine.CHANGE_COLUMNS)


@pytest.mark.parametrize(
    ("rows", "favour", "eased"),
    [
        # higher is better: lowered targets are easier
        ([(1, JAN, 100, 90, "higher_is_better")], 10.0, True),
        ([(1, JAN, 100, 110, "higher_is_better")], -10.0, False),
        # lower is better: raised targets are easier
        ([(1, JAN, 5, 7, "lower_is_better")], 2.0, True),
        ([(1, JAN, 5, 4, "lower_is_better")], -1.0, False),
        # the net movement over the periods: rephasing is not easing, a net cut is
        ([(1, JAN, 100, 90, "higher_is_better"), (1, FEB, 100, 110, "higher_is_better")], 0.0,
         False),
        ([(1, JAN, 100, 90, "higher_is_better"), (1, FEB, 100, 105, "higher_is_better")], 5.0,
         True),
        # rounding noise is no movement
        ([(1, JAN, 0.3, 0.1 + 0.2, "higher_is_better")], 0.0, False),
    ],
)  # fmt: skip
def test_eased_is_the_net_movement_in_the_owners_favour(rows, favour, eased):
    # when
    result = engine.eased(_changes(rows))

    # then
    assert result.loc[1, "favour"] == pytest.approx(favour)
    assert bool(result.loc[1, "eased"]) is eased


def test_a_within_band_kpi_is_never_eased():
    # given
    changes = _changes([(1, JAN, 50, 40, "within_band"), (2, JAN, 100, 90, "higher_is_better")])

    # when
    result = engine.eased(changes)

    # then
    assert result.index.tolist() == [2]


def test_no_changes_give_an_empty_frame():
    # when
    result = engine.eased(_changes([]))

    # then
    assert result.empty
    assert list(result.columns) == ["favour", "eased"]


def test_flagged_kpis_are_eased_now_and_before_or_red():
    # given: 1 eased twice, 2 eased once while red, 3 eased once and green, 4 eased twice and red,
    # 5 red but not eased now
    now = pd.DataFrame(
        {"favour": [1.0, 1.0, 1.0, 1.0, -1.0], "eased": [True, True, True, True, False]},
        index=pd.Index([1, 2, 3, 4, 5], name="kpi_id"),
    )
    before = pd.DataFrame(
        {"favour": [2.0, 3.0], "eased": [True, True]}, index=pd.Index([1, 4], name="kpi_id")
    )
    red = pd.Series({2: True, 3: False, 4: True, 5: True})

    # when
    flagged = engine.target_signals(now, before, red)

    # then
    assert flagged.to_dict("index") == {
        1: {"eased_before": True, "red": False, "base": 1.0},
        2: {"eased_before": False, "red": True, "base": 1.5},
        4: {"eased_before": True, "red": True, "base": 2.0},
    }


def _revisions(rows):
    return pd.DataFrame.from_records(rows, columns=engine.REVISION_COLUMNS)


@pytest.mark.parametrize(
    ("row", "beyond", "change_pct"),
    [
        ((1, JAN, 100.0, 106.0, "monthly"), True, 6.0),
        ((1, JAN, 100.0, 94.0, "monthly"), True, -6.0),  # down as well as up
        ((1, JAN, 100.0, 105.0, "monthly"), False, None),  # exactly the threshold: within
        ((1, JAN, 100.0, 103.0, "monthly"), False, None),
        ((1, JAN, -50.0, -60.0, "monthly"), True, -20.0),  # of |old|
        ((1, JAN, 0.0, 6.0, "monthly"), True, None),  # old 0: 6 units > 5
        ((1, JAN, 0.0, 4.0, "monthly"), False, None),
        ((1, NOV, 100.0, 150.0, "monthly"), False, None),  # November has not ended
        ((1, D(2026, 11, 9), 100.0, 150.0, "weekly"), True, 50.0),  # that week has
        ((1, D(2026, 10, 1), 100.0, 150.0, "quarterly"), False, None),  # Q4 has not
        ((1, D(2026, 7, 1), 100.0, 150.0, "quarterly"), True, 50.0),
    ],
)
def test_revisions_beyond_the_threshold_of_ended_periods(row, beyond, change_pct):
    # when
    result = engine.revisions_beyond(_revisions([row]), today=D(2026, 11, 22), threshold_pct=5.0)

    # then
    assert len(result) == (1 if beyond else 0)
    if beyond and change_pct is not None:
        assert result.loc[0, "change_pct"] == pytest.approx(change_pct)


def test_a_revision_from_zero_has_no_percentage_and_is_measured_in_units():
    # when
    result = engine.revisions_beyond(
        _revisions([(7, JAN, 0.0, 12.0, "monthly")]), today=D(2026, 11, 22), threshold_pct=5.0
    )

    # then
    row = result.iloc[0]
    assert (row["kpi_id"], row["change"], row["ratio"]) == (7, 12.0, 2.4)
    assert pd.isna(row["change_pct"])


@pytest.mark.parametrize(
    ("ratio", "base"),
    [(1.2, 0.6), (2.0, 1.0), (0.5, 0.5), (10.0, 3.0), (float("inf"), 3.0)],
)
def test_the_base_of_a_revision_is_half_its_ratio_to_the_threshold(ratio, base):
    assert engine.revision_base([ratio]).tolist() == [base]


@pytest.mark.parametrize(
    ("base", "criticality", "weight", "severity"),
    [(1.0, 4, 4, 16.0), (1.5, 4, 4, 24.0), (2.0, 5, 5, 50.0), (1.0, 3, float("nan"), 9.0)],
)
def test_severity_is_base_times_criticality_times_objective_weight(
    base, criticality, weight, severity
):
    assert engine.severity(base, criticality, weight).item() == severity
