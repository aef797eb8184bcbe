"""The contingency engine on hand-computed tables: adverse % of plan whatever the direction, runs
of consecutive periods at or beyond the threshold (a missing period or a gap ends one), every
period a plan would have fired at (the run reaching N and each further period while it stays),
the forecast backtest and the live check at the KPI's latest period."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from decisions.engine import contingency as engine

D = dt.date
FORECAST = {"points": 6, "horizon": 2}


def results(*rows) -> pd.DataFrame:
    """(kpi_id, period, plan, actual, status) rows."""
    return pd.DataFrame(list(rows), columns=engine.RESULT_COLUMNS)


JANUARY = D(2026, 1, 1)


def monthly(kpi_id: int, actuals, *, plan: float = 100.0, start: dt.date = JANUARY):
    """One result per month from `start`: an actual (status red, the engine does not read it)
    or None for a missing one; "-" leaves the month out (a gap)."""
    rows, month = [], start
    for actual in actuals:
        if actual != "-":
            status = "missing" if actual is None else "red"
            rows.append((kpi_id, month, plan, actual, status))
        month = D(month.year + month.month // 12, month.month % 12 + 1, 1)
    return rows


def kpis(*rows) -> pd.DataFrame:
    """(kpi_id, direction, frequency, band_low, band_high) rows."""
    return pd.DataFrame(list(rows), columns=engine.KPI_COLUMNS)


HIGHER = (1, "higher_is_better", "monthly", None, None)


def plans(*rows) -> pd.DataFrame:
    """(plan_id, kpi_id, basis, threshold_pct, periods) rows."""
    return pd.DataFrame(list(rows), columns=engine.PLAN_COLUMNS)


def found(frame: pd.DataFrame) -> list[tuple]:
    """(plan, period, since, first, run_length) of each occasion."""
    return [
        (
            row.plan_id,
            pd.Timestamp(row.period).date(),
            pd.Timestamp(row.since).date(),
            bool(row.first),
            int(row.run_length),
        )
        for row in frame.itertuples(index=False)
    ]


# --- Adverse % of plan --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "plan", "value", "band", "expected"),
    [
        ("higher_is_better", 100.0, 92.0, (None, None), 8.0),
        ("higher_is_better", 100.0, 110.0, (None, None), -10.0),  # better than plan
        ("lower_is_better", 50.0, 56.0, (None, None), 12.0),
        ("higher_is_better", -200.0, -230.0, (None, None), 15.0),  # 30 under a plan of −200
        ("higher_is_better", 0.0, 5.0, (None, None), math.nan),  # no percent of nothing
        ("higher_is_better", 100.0, None, (None, None), math.nan),  # no actual
        ("within_band", 100.0, 85.0, (90.0, 110.0), 5 * 100 / 90),  # below the band
        ("within_band", 100.0, 121.0, (90.0, 110.0), 10.0),  # above: 11 of 110
        ("within_band", 100.0, 100.0, (90.0, 110.0), 0.0),  # inside
        ("within_band", 100.0, -5.0, (0.0, 10.0), math.nan),  # below a band edge of 0
    ],
)
def test_adverse_pct_is_positive_when_worse_in_percent_of_plan(
    direction, plan, value, band, expected
):
    # when
    pct = engine.adverse_pct([plan], [value], np.array([direction], dtype=object), *zip(band))

    # then
    if math.isnan(expected):
        assert math.isnan(pct[0])
    else:
        assert pct[0] == pytest.approx(expected, abs=1e-12)


# --- Actual basis: runs and occasions -----------------------------------------------------------

ACTUAL_CASES = [
    # (case, actuals from Jan 2026 against a plan of 100, threshold %, periods, occasions as
    #  (period, since, first, run length))
    (
        "two in a row fire at the second",
        [95, 92, 91],  # 5%, 8%, 9%
        8.0,
        2,
        [(D(2026, 3, 1), D(2026, 3, 1), True, 2)],
    ),
    (
        "exactly on the threshold counts; each further period while the run stays",
        [92, 92, 90, 97],  # 8%, 8%, 10%, 3%
        8.0,
        2,
        [(D(2026, 2, 1), D(2026, 2, 1), True, 2), (D(2026, 3, 1), D(2026, 2, 1), False, 3)],
    ),
    (
        "just below the threshold does not count",
        [92.01, 92.01],  # 7.99% each
        8.0,
        2,
        [],
    ),
    (
        "a missing period breaks the run",
        [90, None, 90, 90],
        10.0,
        2,
        [(D(2026, 4, 1), D(2026, 4, 1), True, 2)],
    ),
    (
        "a gap (no due period) breaks the run",
        [90, "-", 90, 90],
        10.0,
        2,
        [(D(2026, 4, 1), D(2026, 4, 1), True, 2)],
    ),
    (
        "two runs fire twice",
        [90, 90, 99, 90, 90],
        10.0,
        2,
        [(D(2026, 2, 1), D(2026, 2, 1), True, 2), (D(2026, 5, 1), D(2026, 5, 1), True, 2)],
    ),
    (
        "one period: every counting period, the run's first marked",
        [90, 85, 100, 88],
        10.0,
        1,
        [
            (D(2026, 1, 1), D(2026, 1, 1), True, 1),
            (D(2026, 2, 1), D(2026, 1, 1), False, 2),
            (D(2026, 4, 1), D(2026, 4, 1), True, 1),
        ],
    ),
    (
        "three periods need three",
        [80, 80, 101, 80, 80, 80],
        15.0,
        3,
        [(D(2026, 6, 1), D(2026, 6, 1), True, 3)],
    ),
]


@pytest.mark.parametrize(
    ("actuals", "threshold", "periods", "expected"),
    [case[1:] for case in ACTUAL_CASES],
    ids=[case[0] for case in ACTUAL_CASES],
)
def test_actual_basis_occasions(actuals, threshold, periods, expected):
    # given
    table = results(*monthly(1, actuals))

    # when
    occasions = engine.occasions(
        table, kpis(HIGHER), plans((7, 1, "actual", threshold, periods)), **FORECAST
    )

    # then
    assert found(occasions) == [(7, *occasion) for occasion in expected]


def test_an_occasion_names_the_periods_judged_with_their_values():
    # given: 8% then 12.5% under plan (plan 100 then 80)
    table = results((1, D(2026, 5, 1), 100.0, 92.0, "amber"), (1, D(2026, 6, 1), 80.0, 70.0, "red"))

    # when
    occasion = engine.occasions(
        table, kpis(HIGHER), plans((7, 1, "actual", 8.0, 2)), **FORECAST
    ).iloc[0]

    # then
    assert occasion["window_periods"] == (D(2026, 5, 1), D(2026, 6, 1))
    assert occasion["window_values"] == (92.0, 70.0)
    assert occasion["window_plans"] == (100.0, 80.0)
    assert occasion["window_pct"] == pytest.approx((8.0, 12.5))


def test_lower_is_better_counts_overruns():
    # given: plan 50; 56 is 12% over, 55 is 10% over
    table = results(*monthly(1, [56, 55], plan=50.0))
    lower = (1, "lower_is_better", "monthly", None, None)

    # when
    occasions = engine.occasions(table, kpis(lower), plans((7, 1, "actual", 10.0, 2)), **FORECAST)

    # then
    assert found(occasions) == [(7, D(2026, 2, 1), D(2026, 2, 1), True, 2)]


def test_weekly_and_quarterly_periods_follow_each_other():
    # given: three Mondays in a row (weekly KPI 1), Q1–Q2 then Q4 (quarterly KPI 2)
    table = results(
        (1, D(2026, 3, 2), 100.0, 80.0, "red"),
        (1, D(2026, 3, 9), 100.0, 80.0, "red"),
        (1, D(2026, 3, 16), 100.0, 80.0, "red"),
        (2, D(2026, 1, 1), 100.0, 80.0, "red"),
        (2, D(2026, 4, 1), 100.0, 80.0, "red"),
        (2, D(2026, 10, 1), 100.0, 80.0, "red"),
    )
    frequencies = kpis(
        (1, "higher_is_better", "weekly", None, None),
        (2, "higher_is_better", "quarterly", None, None),
    )

    # when
    occasions = engine.occasions(
        table,
        frequencies,
        plans((7, 1, "actual", 10.0, 3), (8, 2, "actual", 10.0, 2)),
        **FORECAST,
    )

    # then: Q3 has no due row, so Q4 starts a new run of one
    assert found(occasions) == [
        (7, D(2026, 3, 16), D(2026, 3, 16), True, 3),
        (8, D(2026, 4, 1), D(2026, 4, 1), True, 2),
    ]


def test_periods_not_yet_due_and_after_today_are_not_judged():
    # given: Jan and Feb 10% under, Mar still pending (no actual yet)
    table = results(
        (1, D(2026, 1, 1), 100.0, 90.0, "red"),
        (1, D(2026, 2, 1), 100.0, 90.0, "red"),
        (1, D(2026, 3, 1), 100.0, None, "pending"),
    )
    plan = plans((7, 1, "actual", 10.0, 2))

    # when
    live = engine.firing(table, kpis(HIGHER), plan, **FORECAST)
    before_feb = engine.firing(table, kpis(HIGHER), plan, today=D(2026, 1, 31), **FORECAST)

    # then
    assert found(live) == [(7, D(2026, 2, 1), D(2026, 2, 1), True, 2)]
    assert before_feb.empty


# --- Forecast basis -----------------------------------------------------------------------------

# Actuals 100, 98, 96, 94 (Jan–Apr) against a plan of 100 through Jun. The least-squares line
# through the last actuals falls 2 a month: as of Mar (100, 98, 96) it forecasts Apr 94 (6%),
# May 92 (8%); as of Apr (four points) May 92 (8%), Jun 90 (10%). Jan and Feb have too few
# actuals (3 are needed) for a forecast.
TREND = [
    (1, D(2026, 1, 1), 100.0, 100.0, "on_track"),
    (1, D(2026, 2, 1), 100.0, 98.0, "on_track"),
    (1, D(2026, 3, 1), 100.0, 96.0, "on_track"),
    (1, D(2026, 4, 1), 100.0, 94.0, "amber"),
    (1, D(2026, 5, 1), 100.0, None, "pending"),
    (1, D(2026, 6, 1), 100.0, None, "pending"),
]

FORECAST_CASES = [
    # (case, threshold %, periods, occasions as (as-of period, since, first, run length))
    (
        "both as-of months fire, one run",
        6.0,
        2,
        [(D(2026, 3, 1), D(2026, 3, 1), True, 1), (D(2026, 4, 1), D(2026, 3, 1), False, 2)],
    ),
    ("only April's forecast reaches 8% twice", 8.0, 2, [(D(2026, 4, 1), D(2026, 4, 1), True, 1)]),
    ("the next period alone", 8.0, 1, [(D(2026, 4, 1), D(2026, 4, 1), True, 1)]),
    ("never 9% in the next period", 9.0, 1, []),
]


@pytest.mark.parametrize(
    ("threshold", "periods", "expected"),
    [case[1:] for case in FORECAST_CASES],
    ids=[case[0] for case in FORECAST_CASES],
)
def test_forecast_basis_occasions(threshold, periods, expected):
    # when
    occasions = engine.occasions(
        results(*TREND), kpis(HIGHER), plans((9, 1, "forecast", threshold, periods)), **FORECAST
    )

    # then
    assert found(occasions) == [(9, *occasion) for occasion in expected]


def test_the_forecast_series_is_what_the_engine_would_have_forecast_then():
    # when
    series = engine.forecast_series(results(*TREND), kpis(HIGHER), **FORECAST)

    # then
    assert [
        (pd.Timestamp(r.as_of).date(), r.step, pd.Timestamp(r.period).date(), r.plan)
        for r in series.itertuples()
    ] == [
        (D(2026, 3, 1), 1, D(2026, 4, 1), 100.0),
        (D(2026, 3, 1), 2, D(2026, 5, 1), 100.0),
        (D(2026, 4, 1), 1, D(2026, 5, 1), 100.0),
        (D(2026, 4, 1), 2, D(2026, 6, 1), 100.0),
    ]
    assert series["value"].tolist() == pytest.approx([94.0, 92.0, 92.0, 90.0])
    assert series["pct"].tolist() == pytest.approx([6.0, 8.0, 8.0, 10.0])


def test_a_forecast_period_without_a_plan_ends_the_window():
    # given: no plan for June
    table = results(*TREND[:5])

    # when
    occasions = engine.occasions(table, kpis(HIGHER), plans((9, 1, "forecast", 8.0, 2)), **FORECAST)

    # then
    assert occasions.empty


def test_the_live_forecast_check_reads_the_forecast_from_the_latest_actual():
    # when
    live = engine.firing(
        results(*TREND), kpis(HIGHER), plans((9, 1, "forecast", 6.0, 2)), **FORECAST
    )

    # then: as of April, a run that started in March
    assert found(live) == [(9, D(2026, 4, 1), D(2026, 3, 1), False, 2)]
    assert live.iloc[0]["window_periods"] == (D(2026, 5, 1), D(2026, 6, 1))


# --- The live check -----------------------------------------------------------------------------


def test_only_plans_whose_run_reaches_the_latest_period_fire():
    # given: KPI 1 fired in Feb but is back under 10% in Mar; KPI 2 is at 12% for two months;
    # KPI 3 has no results
    table = results(
        *monthly(1, [90, 90, 95]),
        *monthly(2, [88, 88]),
    )
    both = kpis(HIGHER, (2, "higher_is_better", "monthly", None, None))
    three = plans((7, 1, "actual", 10.0, 2), (8, 2, "actual", 10.0, 2), (5, 3, "actual", 10.0, 1))

    # when
    live = engine.firing(table, both, three, **FORECAST)

    # then
    assert found(live) == [(8, D(2026, 2, 1), D(2026, 2, 1), True, 2)]


def test_a_missing_latest_period_stops_the_plan_firing():
    # given
    table = results(*monthly(1, [90, 90, None]))

    # when
    live = engine.firing(table, kpis(HIGHER), plans((7, 1, "actual", 10.0, 2)), **FORECAST)

    # then
    assert live.empty


def test_nothing_in_nothing_out():
    # when
    occasions = engine.occasions(
        results(), kpis(), plans((7, 1, "actual", 10.0, 2), (9, 1, "forecast", 5.0, 1)),
        **FORECAST,
    )  # fmt: skip

    # then
    assert occasions.empty
    assert list(occasions.columns) == engine.OCCASION_COLUMNS
