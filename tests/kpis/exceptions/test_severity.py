"""The severity formula on hand-computed rows (docs/exceptions.md)."""

import pandas as pd
import pytest

from kpis.engine.severity import adverse, severity

ROWS = [
    # kind, adverse, forecast_adverse, red, days_overdue, criticality, weight, days_open → severity
    ("at the red line, no objective", "kpi_red", 10.0, None, 10.0, None, 3, None, 0, 9.0),
    ("twice the red line, 2 days old", "kpi_red", 20.0, None, 10.0, None, 5, 4, 2, 40.2),
    ("capped at 3× the red line, age capped", "kpi_red", 50.0, None, 10.0, None, 1, 1, 40, 6.0),
    ("amber, 0.7 of the red line", "kpi_amber", 7.0, None, 10.0, None, 2, 5, 0, 7.0),
    ("back on track: only the age counts", "kpi_red", -5.0, None, 10.0, None, 5, 5, 1, 0.1),
    ("absolute tolerance in units", "kpi_red", 3.0, None, 2.0, None, 1, 2, 0, 3.0),
    ("forecast at 0.75 weight", "forecast_breach", None, 20.0, 10.0, None, 4, 3, 0, 18.0),
    ("missing data counts 1.0", "missing_data", None, None, 10.0, None, 3, 2, 5, 6.5),
    ("milestone three weeks late", "milestone_overdue", None, None, None, 21, None, 5, 0, 22.5),
    ("milestone ten weeks: capped", "milestone_overdue", None, None, None, 70, None, 3, 0, 27.0),
    ("no red threshold: base 1.0", "kpi_red", 4.0, None, 0.0, None, 2, 1, 0, 2.0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "adverse_", "forecast", "red", "overdue", "criticality", "weight", "age", "expected"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_severity_matches_the_hand_computed_table(
    kind, adverse_, forecast, red, overdue, criticality, weight, age, expected
):
    # given
    frame = pd.DataFrame(
        [
            {
                "kind": kind,
                "adverse": adverse_,
                "forecast_adverse": forecast,
                "red_threshold": red,
                "days_overdue": overdue,
                "criticality": criticality,
                "objective_weight": weight,
                "days_open": age,
            }
        ]
    )

    # when
    result = severity(frame)

    # then
    assert result.tolist() == [expected]


def test_severity_scores_a_whole_frame_at_once_and_keeps_its_index():
    # given
    frame = pd.DataFrame(
        {
            "kind": ["kpi_red", "missing_data"],
            "adverse": [15.0, None],
            "red_threshold": [10.0, 10.0],
            "criticality": [2, 1],
            "objective_weight": [None, 1],
            "days_open": [0, 0],
        },
        index=[7, 9],
    )

    # when
    result = severity(frame)

    # then
    assert result.to_dict() == {7: 9.0, 9: 1.0}


ADVERSE_ROWS = [
    # direction, mode, value, plan, band_low, band_high → adverse
    ("higher_is_better", "percent", 85.0, 100.0, None, None, 15.0),
    ("higher_is_better", "percent", 110.0, 100.0, None, None, -10.0),
    ("lower_is_better", "absolute", 12.0, 10.0, None, None, 2.0),
    ("lower_is_better", "percent", 12.0, 0.0, None, None, 12.0),  # plan 0: in units
    ("within_band", "percent", 110.0, 95.0, 90.0, 100.0, 10.0),  # 10 above the high edge of 100
    ("within_band", "absolute", 85.0, 95.0, 90.0, 100.0, 5.0),
    ("within_band", "percent", 95.0, 95.0, 90.0, 100.0, 0.0),
]


@pytest.mark.parametrize(
    ("direction", "mode", "value", "plan", "low", "high", "expected"), ADVERSE_ROWS
)
def test_forecast_adverse_follows_the_variance_rules(
    direction, mode, value, plan, low, high, expected
):
    # given
    def one(x):
        return pd.Series([x], dtype=object)

    # when
    result = adverse(one(value), one(plan), one(direction), one(mode), one(low), one(high))

    # then
    assert result.tolist() == [pytest.approx(expected)]
