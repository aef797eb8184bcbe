"""When do contingency plans fire? Pure numpy/pandas: DataFrames in, DataFrames out; no ORM, no
clock (the caller passes `today`), no I/O. The rules are in docs/contingency-plans.md.

Inputs:

- `results`: the stored `KpiResult` rows of the plans' KPIs: `kpi_id`, `period` (period start),
  `plan`, `actual`, `status`.
- `kpis`: `kpi_id`, `direction`, `frequency`, `band_low`, `band_high`.
- `plans`: `plan_id`, `kpi_id`, `basis` (`actual` or `forecast`), `threshold_pct`, `periods`.

**Adverse %**: how much worse than plan a value is, in percent of plan, whatever the KPI's
direction and tolerance mode (`adverse_pct`: the variance engine's `adverse_and_status` in
percent mode, so the sign is the same: positive is worse). Where the reference is 0 (a plan of 0,
a violated band edge of 0) a percentage means nothing: NaN.

**Actual basis.** The KPI's due periods (status on track, amber, red or missing: periods with a
plan that are over), oldest first. A period *counts* when its actual's adverse % is at or beyond
the plan's threshold (rounded to 9 decimals, as the variance engine compares). A *run* is
consecutive counting periods; a period that does not count, a missing actual, a plan of 0 or a
gap in the periods (no due row for a period) ends it. The plan fires at a period when the run
ending there is at least `periods` long.

**Forecast basis.** At each period with an actual (the "as-of" period) the forecast the KPI
engine would have made then: `kpis.engine.forecast.forecast` on the actuals up to that period
(the same least-squares line over the last `points` actuals, `horizon` periods ahead). The plan
fires at an as-of period when the first `periods` forecast periods all count (each forecast's
adverse % against that period's plan at or beyond the threshold; a forecast period without a plan
ends it). The as-of periods at which it fires in a row (a gap between actuals ends the row) form
its *run*. This is a backtest over today's actuals: a revised actual changes the past forecasts.

**History** (`occasions`): every period at which a plan would have fired: the period the run
reaches `periods` (actual basis; for the forecast basis the first as-of period of a run) **and
each further period while it stays**. `first` marks the first occasion of a run and `since` names
it on every occasion of that run, so a caller firing once per run compares `since` with the
period it last fired at.

**Live check** (`firing`): the occasions at each plan's latest period: the KPI's latest due period
(actual basis) or latest period with an actual (forecast basis). A plan whose run broke before
that period does not fire.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kpis.choices import Direction, Frequency, Status, ToleranceMode
from kpis.engine import keys
from kpis.engine.forecast import forecast
from kpis.engine.variance import adverse_and_status

ACTUAL = "actual"
FORECAST = "forecast"
RESULT_COLUMNS = ["kpi_id", "period", "plan", "actual", "status"]
KPI_COLUMNS = ["kpi_id", "direction", "frequency", "band_low", "band_high"]
PLAN_COLUMNS = ["plan_id", "kpi_id", "basis", "threshold_pct", "periods"]
OCCASION_COLUMNS = [
    "plan_id",
    "kpi_id",
    "basis",
    "period",  # the period it fires at (forecast basis: the as-of period)
    "since",  # the run's first occasion
    "first",  # this is the run's first occasion
    "run_length",  # actual: counting periods in a row; forecast: as-of periods firing in a row
    "window_periods",  # the `periods` periods judged, oldest first (forecast: the ones ahead)
    "window_values",  # their actuals (forecast basis: the forecasts)
    "window_plans",  # their plans
    "window_pct",  # their adverse %
]
DUE = tuple(s.value for s in (Status.ON_TRACK, Status.AMBER, Status.RED, Status.MISSING))
DECIMALS = 9


# --- Adverse % ------------------------------------------------------------------------------


def adverse_pct(plan, value, direction, band_low, band_high) -> np.ndarray:
    """The adverse variance of `value` against `plan` in percent of plan (of the violated band
    edge for a within-band KPI; 0 inside the band): positive when worse, whatever the direction.
    NaN where a side is missing or the reference is 0."""
    plan, value = keys.floats(plan), keys.floats(value)
    direction = keys.array(direction)
    band_low, band_high = keys.floats(band_low), keys.floats(band_high)
    size = len(plan)
    adverse, _ = adverse_and_status(
        {
            "plan": plan,
            "value": value,
            "direction": direction,
            "band_low": band_low,
            "band_high": band_high,
            "tolerance_mode": np.full(size, ToleranceMode.PERCENT.value, dtype=object),
            "amber": np.zeros(size),
            "red": np.zeros(size),
        },
        "value",
    )
    band = direction == Direction.WITHIN_BAND
    with np.errstate(invalid="ignore"):
        below, above = band & (value < band_low), band & (value > band_high)
        reference = np.where(band, np.where(below, band_low, np.where(above, band_high, 1.0)), plan)
        return np.where(np.abs(reference) > 0, adverse, np.nan)


def _counts(pct: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """At or beyond the threshold (NaN never counts)."""
    with np.errstate(invalid="ignore"):
        return np.round(pct, DECIMALS) >= threshold


# --- Series ---------------------------------------------------------------------------------


def _position(period: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Each period start's index on an axis of its KPI's periods: consecutive periods differ
    by exactly 1 (Mondays for weekly KPIs, month or quarter starts)."""
    days = period.astype("datetime64[D]").astype("int64")
    months = period.astype("datetime64[M]").astype("int64")
    return np.where(
        frequency == Frequency.WEEKLY,
        np.floor_divide(days, 7),
        np.where(frequency == Frequency.QUARTERLY, np.floor_divide(months, 3), months),
    )


def _kpi_columns(kpis: pd.DataFrame, kpi_id: np.ndarray) -> tuple[np.ndarray, dict]:
    """Rows of `kpi_id` whose KPI is known, and the KPI's columns for them."""
    at = keys.positions(kpi_id, keys.ids(kpis["kpi_id"]))
    found = at >= 0
    return found, {name: keys.array(kpis[name])[at[found]] for name in KPI_COLUMNS[1:]}


def _sorted_results(results: pd.DataFrame, today: dt.date | None) -> dict[str, np.ndarray]:
    kpi_id, period = keys.ids(results["kpi_id"]), keys.periods(results["period"])
    columns = {
        "kpi_id": kpi_id,
        "period": period,
        "plan": keys.floats(results["plan"]),
        "actual": keys.floats(results["actual"]),
        "status": keys.array(results["status"], object),
    }
    keep = np.ones(len(kpi_id), dtype=bool)
    if today is not None:
        keep = period <= pd.Timestamp(today).to_datetime64()
    order = np.flatnonzero(keep)[np.argsort(keys.pack(kpi_id[keep], period[keep]), kind="stable")]
    return {name: values[order] for name, values in columns.items()}


def actual_series(
    results: pd.DataFrame, kpis: pd.DataFrame, *, today: dt.date | None = None
) -> pd.DataFrame:
    """The due periods of each KPI (on or before `today`), sorted by KPI and period: `kpi_id`,
    `period`, `position`, `plan`, `value` (the actual), `pct` (its adverse %)."""
    rows = _sorted_results(results, today)
    due = keys.isin(rows["status"], DUE)
    rows = {name: values[due] for name, values in rows.items()}
    found, params = _kpi_columns(kpis, rows["kpi_id"])
    rows = {name: values[found] for name, values in rows.items()}
    return pd.DataFrame(
        {
            "kpi_id": rows["kpi_id"],
            "period": rows["period"],
            "position": _position(rows["period"], params["frequency"]),
            "plan": rows["plan"],
            "value": rows["actual"],
            "pct": adverse_pct(
                rows["plan"],
                rows["actual"],
                params["direction"],
                params["band_low"],
                params["band_high"],
            ),
        }
    )


def forecast_series(
    results: pd.DataFrame,
    kpis: pd.DataFrame,
    *,
    points: int,
    horizon: int,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """For each period with an actual (on or before `today`), the forecast the KPI engine would
    have made from the actuals up to it: `kpi_id`, `as_of`, `as_of_position`, `step` (1 = the
    next period), `period`, `plan`, `value` (the forecast), `pct` (its adverse %). Sorted by KPI,
    as-of period and step. As-of periods with fewer than the engine's minimum of actuals have
    none.

    One call of `kpis.engine.forecast.forecast` for all of them: each (KPI, as-of period) is a
    series of its own (a "virtual KPI" numbered by the as-of row) holding the last `points`
    actuals up to that period."""
    empty = pd.DataFrame(
        {
            "kpi_id": pd.Series(dtype="int64"),
            "as_of": pd.Series(dtype="datetime64[ns]"),
            "as_of_position": pd.Series(dtype="int64"),
            "step": pd.Series(dtype="int64"),
            "period": pd.Series(dtype="datetime64[ns]"),
            "plan": pd.Series(dtype="float64"),
            "value": pd.Series(dtype="float64"),
            "pct": pd.Series(dtype="float64"),
        }
    )
    rows = _sorted_results(results, today)
    planned = _sorted_results(results, None)  # the plans ahead of `today` too
    measured = ~np.isnan(rows["actual"])
    kpi_id, period, actual = (rows[n][measured] for n in ("kpi_id", "period", "actual"))
    found, params = _kpi_columns(kpis, kpi_id)
    kpi_id, period, actual = kpi_id[found], period[found], actual[found]
    if not len(kpi_id) or points < 1 or horizon < 1:
        return empty
    # The window of each as-of row i: rows max(first of its KPI, i − points + 1) … i.
    index = np.arange(len(kpi_id))
    group_first = np.maximum.accumulate(np.where(keys.firsts(kpi_id), index, 0))
    size = np.minimum(index - group_first + 1, points)
    as_of_row = np.repeat(index, size)
    member = as_of_row - size.repeat(size) + 1 + _offsets(size)
    virtual = pd.DataFrame(
        {"kpi_id": as_of_row, "period": period[member], "actual": actual[member]}
    )
    virtual_kpis = pd.DataFrame(
        {
            "kpi_id": index,
            "direction": params["direction"],
            "frequency": params["frequency"],
            "tolerance_mode": np.full(len(index), ToleranceMode.PERCENT.value, dtype=object),
            "amber": np.zeros(len(index)),
            "red": np.zeros(len(index)),
            "band_low": keys.floats(params["band_low"]),
            "band_high": keys.floats(params["band_high"]),
        }
    )
    no_plan = pd.DataFrame({"kpi_id": [], "period": [], "plan": []})
    projected = forecast(virtual, no_plan, virtual_kpis, points=points, horizon=horizon)
    if projected.empty:
        return empty
    row = keys.ids(projected["kpi_id"])  # the as-of row; sorted by it, then period
    forecast_period = keys.periods(projected["period"])
    step = _offsets(np.diff(np.r_[np.flatnonzero(keys.firsts(row)), len(row)])) + 1
    owner = kpi_id[row]
    with_plan = ~np.isnan(planned["plan"])
    plan_keys = keys.pack(planned["kpi_id"][with_plan], planned["period"][with_plan])
    plan = keys.take(
        planned["plan"][with_plan], keys.positions(keys.pack(owner, forecast_period), plan_keys)
    )
    value = keys.floats(projected["forecast"])
    return pd.DataFrame(
        {
            "kpi_id": owner,
            "as_of": period[row],
            "as_of_position": _position(period[row], params["frequency"][row]),
            "step": step,
            "period": forecast_period,
            "plan": plan,
            "value": value,
            "pct": adverse_pct(
                plan,
                value,
                params["direction"][row],
                params["band_low"][row],
                params["band_high"][row],
            ),
        }
    )


def _offsets(size: np.ndarray) -> np.ndarray:
    """0, 1, …, size−1 for each size, concatenated."""
    size = np.asarray(size, dtype="int64")
    total = int(size.sum())
    return np.arange(total) - np.repeat(np.cumsum(size) - size, size)


# --- Runs -------------------------------------------------------------------------------------


def _runs(group: np.ndarray, position: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """For rows sorted by group and position: the length of the run of `ok` rows at consecutive
    positions ending at each row (0 where the row is not ok)."""
    size = len(ok)
    if not size:
        return np.zeros(0, dtype="int64")
    index = np.arange(size)
    same_group = np.r_[False, group[1:] == group[:-1]]
    next_position = np.r_[False, (position[1:] - position[:-1]) == 1]
    continues = same_group & next_position & np.r_[False, ok[:-1]]
    starts = ok & ~continues
    start = np.maximum.accumulate(np.where(starts, index, -1))
    return np.where(ok, index - start + 1, 0)


def _expand(plan_kpi: np.ndarray, series_kpi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For plans and a series sorted by KPI: (plan index, series row) for every row of each
    plan's KPI, plan by plan, in series order."""
    start = np.searchsorted(series_kpi, plan_kpi, side="left")
    count = np.searchsorted(series_kpi, plan_kpi, side="right") - start
    plan_index = np.repeat(np.arange(len(plan_kpi)), count)
    return plan_index, np.repeat(start, count) + _offsets(count)


def _empty_occasions() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in OCCASION_COLUMNS})
    frame["plan_id"] = frame["plan_id"].astype("int64")
    frame["kpi_id"] = frame["kpi_id"].astype("int64")
    frame["period"] = frame["period"].astype("datetime64[ns]")
    frame["since"] = frame["since"].astype("datetime64[ns]")
    frame["first"] = frame["first"].astype(bool)
    frame["run_length"] = frame["run_length"].astype("int64")
    return frame


def _plans(plans: pd.DataFrame, basis: str) -> dict[str, np.ndarray]:
    columns = {
        "plan_id": keys.ids(plans["plan_id"]),
        "kpi_id": keys.ids(plans["kpi_id"]),
        "basis": keys.array(plans["basis"], object),
        "threshold_pct": keys.floats(plans["threshold_pct"]),
        "periods": keys.ids(plans["periods"]),
    }
    keep = columns["basis"] == basis
    columns = {name: values[keep] for name, values in columns.items()}
    order = np.argsort(columns["plan_id"], kind="stable")
    return {name: values[order] for name, values in columns.items()}


def _windows(index: np.ndarray, size: np.ndarray, series: pd.DataFrame) -> dict[str, list]:
    """The rows index[k] … index[k] + size[k] − 1 of `series`, as lists per occasion."""
    period = series["period"].to_numpy()
    values = {
        "window_periods": [p.date() for p in pd.DatetimeIndex(period)],
        "window_values": series["value"].tolist(),
        "window_plans": series["plan"].tolist(),
        "window_pct": series["pct"].tolist(),
    }
    return {
        name: [
            tuple(column[start : start + count])
            for start, count in zip(index.tolist(), size.tolist(), strict=True)
        ]
        for name, column in values.items()
    }


def _actual_occasions(series: pd.DataFrame, plans: dict[str, np.ndarray]) -> pd.DataFrame:
    plan_index, row = _expand(plans["kpi_id"], keys.ids(series["kpi_id"]))
    if not len(row):
        return _empty_occasions()
    needed = plans["periods"][plan_index]
    ok = _counts(keys.floats(series["pct"])[row], plans["threshold_pct"][plan_index])
    run = _runs(plan_index, keys.ids(series["position"])[row], ok)
    at = np.flatnonzero(run >= needed)
    if not len(at):
        return _empty_occasions()
    period = keys.periods(series["period"])[row]
    needed, run = needed[at], run[at]
    reached = at - run + needed  # where the run reached `periods`
    window_start = row[at] - needed + 1
    return pd.DataFrame(
        {
            "plan_id": plans["plan_id"][plan_index[at]],
            "kpi_id": plans["kpi_id"][plan_index[at]],
            "basis": ACTUAL,
            "period": period[at],
            "since": period[reached],
            "first": run == needed,
            "run_length": run,
            **_windows(window_start, needed, series),
        }
    )[OCCASION_COLUMNS]


def _forecast_occasions(series: pd.DataFrame, plans: dict[str, np.ndarray]) -> pd.DataFrame:
    if series.empty:
        return _empty_occasions()
    first_row = np.flatnonzero(
        keys.firsts(keys.pack(keys.ids(series["kpi_id"]), keys.periods(series["as_of"])))
    )
    steps = np.diff(np.r_[first_row, len(series)])
    plan_index, as_of = _expand(plans["kpi_id"], keys.ids(series["kpi_id"])[first_row])
    if not len(as_of):
        return _empty_occasions()
    needed = plans["periods"][plan_index]
    threshold = plans["threshold_pct"][plan_index]
    pct = keys.floats(series["pct"])
    qualifies = needed <= steps[as_of]
    for step in range(int(needed.max())):
        judged = step < needed
        rows = np.minimum(first_row[as_of] + step, len(series) - 1)
        qualifies &= ~judged | _counts(pct[rows], threshold)
    position = keys.ids(series["as_of_position"])[first_row][as_of]
    run = _runs(plan_index, position, qualifies)
    at = np.flatnonzero(run >= 1)
    if not len(at):
        return _empty_occasions()
    as_of_period = keys.periods(series["as_of"])[first_row][as_of]
    run = run[at]
    return pd.DataFrame(
        {
            "plan_id": plans["plan_id"][plan_index[at]],
            "kpi_id": plans["kpi_id"][plan_index[at]],
            "basis": FORECAST,
            "period": as_of_period[at],
            "since": as_of_period[at - run + 1],
            "first": run == 1,
            "run_length": run,
            **_windows(first_row[as_of[at]], needed[at], series),
        }
    )[OCCASION_COLUMNS]


def occasions(
    results: pd.DataFrame,
    kpis: pd.DataFrame,
    plans: pd.DataFrame,
    *,
    points: int,
    horizon: int,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Every period at which each plan would have fired (see the module docstring), sorted by
    plan and period; `OCCASION_COLUMNS`."""
    frames = []
    actual_plans = _plans(plans, ACTUAL)
    if len(actual_plans["plan_id"]):
        frames.append(_actual_occasions(actual_series(results, kpis, today=today), actual_plans))
    forecast_plans = _plans(plans, FORECAST)
    if len(forecast_plans["plan_id"]):
        series = forecast_series(results, kpis, points=points, horizon=horizon, today=today)
        frames.append(_forecast_occasions(series, forecast_plans))
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return _empty_occasions()
    found = pd.concat(frames, ignore_index=True)
    return found.sort_values(["plan_id", "period"], kind="stable", ignore_index=True)


def latest_periods(results: pd.DataFrame, *, today: dt.date | None = None) -> pd.DataFrame:
    """Per KPI: its latest due period (`actual`) and its latest period with an actual
    (`forecast`), NaT where it has none."""
    rows = _sorted_results(results, today)
    kpi_id = np.unique(rows["kpi_id"])
    frame = {"kpi_id": kpi_id}
    for basis, mask in (
        (ACTUAL, keys.isin(rows["status"], DUE)),
        (FORECAST, ~np.isnan(rows["actual"])),
    ):
        last = np.flatnonzero(mask)[keys.lasts(rows["kpi_id"][mask])]
        frame[basis] = keys.take(rows["period"][last], keys.positions(kpi_id, rows["kpi_id"][last]))
    return pd.DataFrame(frame)


def firing(
    results: pd.DataFrame,
    kpis: pd.DataFrame,
    plans: pd.DataFrame,
    *,
    points: int,
    horizon: int,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """The plans that fire now: each plan's occasion at its KPI's latest period (the latest due
    period on the actual basis, the latest period with an actual on the forecast basis), if it
    has one. `OCCASION_COLUMNS`, one row per firing plan."""
    found = occasions(results, kpis, plans, points=points, horizon=horizon, today=today)
    if found.empty:
        return found
    latest = latest_periods(results, today=today)
    at = keys.positions(keys.ids(found["kpi_id"]), keys.ids(latest["kpi_id"]))
    basis = keys.array(found["basis"], object)
    wanted = np.where(
        basis == ACTUAL,
        keys.take(keys.array(latest[ACTUAL]), at),
        keys.take(keys.array(latest[FORECAST]), at),
    )
    now = keys.periods(found["period"]) == wanted
    return found[now].reset_index(drop=True)
