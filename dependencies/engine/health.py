"""The health of contracts in force: agreed, at risk or breached, with the reason in words.

Pure and vectorised: DataFrames and a clock value in, a DataFrame out; no ORM, no I/O, no loop
per contract. The rules (docs/contract-health.md):

- **breached** when the due date has passed (the contract is in force, so not fulfilled), or
  when the service-level KPI's latest `breach_red_periods` evaluated periods are all red.
- **at risk** when the service-level KPI's latest period is amber or red, or its next period is
  forecast amber or red, or its latest actual misses the contract's threshold (`gte`: below it,
  `lte`: above it); when a provider milestone is overdue; or when the due date is at most
  `due_soon_days` days away and a provider milestone is not done.
- **agreed** otherwise.

The KPI's status (its plan and tolerance bands) and the contract's threshold (the level both
sides agreed) are two views of the same service: either one in trouble puts the contract at
risk, but only red periods of the KPI (beyond its red tolerance line) count towards a breach, so
one number decides a breach and both sides can read it on the KPI's chart. A milestone is "not
done" while it is neither done nor cancelled. Everything is derived from the current state, so a
service-level contract whose KPI recovers returns to agreed, and a contract past its due date
stays breached until it is fulfilled or cancelled (or an amendment moves the due date).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dependencies.choices import ContractStatus, ServiceComparison
from govern.choices import MilestoneStatus
from kpis.choices import Status

CONTRACT_COLUMNS = ["id", "due_date", "service_kpi_id", "service_comparison", "service_threshold"]
KPI_COLUMNS = [
    "kpi_id",
    "code",
    "latest_status",
    "latest_period",
    "latest_actual",
    "forecast_status",
    "red_streak",
]
MILESTONE_COLUMNS = ["contract_id", "name", "due_date", "status"]
RECENT_COLUMNS = ["kpi_id", "rank", "status"]
COLUMNS = ["health", "reason", "red_streak", "period"]
NOT_DONE_EXCLUDES = (MilestoneStatus.DONE.value, MilestoneStatus.CANCELLED.value)
TROUBLE = (Status.AMBER.value, Status.RED.value)
MAX_NAMES = 3  # milestones named in a reason; the rest are counted
SEPARATOR = "; "


def red_streaks(recent: pd.DataFrame) -> pd.Series:
    """Per KPI (indexed by `kpi_id`): how many of its latest evaluated periods in a row are red.

    `recent` has one row per KPI and evaluated period with `rank` 1 for the latest, 2 for the
    one before, and so on without gaps (as `kpis.services.exceptions.recent_results` returns),
    so a streak is at most the number of ranks given."""
    recent = recent.reindex(columns=RECENT_COLUMNS)
    if recent.empty:
        return pd.Series([], index=pd.Index([], name="kpi_id"), dtype="int64", name="red_streak")
    rank = recent["rank"].to_numpy(dtype="int64")
    ids, group = np.unique(recent["kpi_id"].to_numpy(dtype="int64"), return_inverse=True)
    most = np.zeros(len(ids), dtype="int64")
    np.maximum.at(most, group, rank)
    not_red = (recent["status"] != Status.RED).to_numpy()
    first_not_red = np.full(len(ids), np.iinfo("int64").max)
    np.minimum.at(first_not_red, group[not_red], rank[not_red])
    return pd.Series(
        np.where(first_not_red <= most, first_not_red - 1, most),
        index=pd.Index(ids, name="kpi_id"),
        name="red_streak",
    )


def contract_health(
    contracts: pd.DataFrame,
    kpis: pd.DataFrame,
    milestones: pd.DataFrame,
    *,
    today: dt.date,
    due_soon_days: int,
    breach_red_periods: int,
) -> pd.DataFrame:
    """The health of each contract, indexed by contract id, with columns `health` (agreed /
    at_risk / breached), `reason` ("" when agreed), `red_streak` (of its service-level KPI, 0
    without one) and `period` (the service KPI's latest period when the service level is in
    trouble, else the due date; None when neither).

    contracts:  id, due_date, service_kpi_id, service_comparison (gte/lte), service_threshold
    kpis:       kpi_id, code, latest_status, latest_period, latest_actual, forecast_status (of
                the next period), red_streak
    milestones: contract_id, name, due_date, status: one row per provider milestone of a
                contract
    """
    frame = contracts.reindex(columns=CONTRACT_COLUMNS).set_index("id")
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS, index=pd.Index([], name="id"))
    today_ts = pd.Timestamp(today)
    breach_red_periods = max(int(breach_red_periods), 1)

    # The service level: the contract's KPI state, looked up by the KPI's id.
    state = kpis.reindex(columns=KPI_COLUMNS).drop_duplicates("kpi_id")
    state["kpi_id"] = state["kpi_id"].astype("Int64")
    service = (
        frame[["service_kpi_id"]]
        .astype({"service_kpi_id": "Int64"})
        .reset_index()
        .merge(state, left_on="service_kpi_id", right_on="kpi_id", how="left")
        .set_index("id")
        .reindex(frame.index)
    )
    has_service = frame["service_kpi_id"].notna().to_numpy()
    latest = _strings(service["latest_status"])
    forecast = _strings(service["forecast_status"])
    actual = pd.to_numeric(service["latest_actual"], errors="coerce").to_numpy(dtype="float64")
    threshold = pd.to_numeric(frame["service_threshold"], errors="coerce").to_numpy(dtype="float64")
    comparison = _strings(frame["service_comparison"])
    streak = np.where(
        has_service,
        pd.to_numeric(service["red_streak"], errors="coerce").fillna(0).to_numpy(dtype="int64"),
        0,
    )
    with np.errstate(invalid="ignore"):
        misses = has_service & (
            ((comparison == ServiceComparison.AT_LEAST) & (actual < threshold))
            | ((comparison == ServiceComparison.AT_MOST) & (actual > threshold))
        )
    is_red = has_service & (latest == Status.RED)
    is_amber = has_service & (latest == Status.AMBER)
    forecast_trouble = has_service & np.isin(forecast, TROUBLE)
    service_breach = has_service & (streak >= breach_red_periods)
    service_risk = is_red | is_amber | forecast_trouble | misses

    # The due date.
    due = pd.to_datetime(frame["due_date"])
    days_left = (due - today_ts).dt.days.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        due_passed = days_left < 0
        due_soon_window = (days_left >= 0) & (days_left <= due_soon_days)

    # The provider milestones.
    overdue_text, not_done_text, any_not_done = _milestones(milestones, frame.index, today_ts)
    any_overdue = overdue_text != ""
    due_soon = due_soon_window & any_not_done

    breached = due_passed | service_breach
    at_risk = ~breached & (service_risk | any_overdue | due_soon)
    health = np.select(
        [breached, at_risk],
        [ContractStatus.BREACHED.value, ContractStatus.AT_RISK.value],
        default=ContractStatus.AGREED.value,
    )

    due_label = _dates(due)
    parts = pd.DataFrame(
        {
            "due_passed": np.where(
                due_passed, "due date " + due_label + " passed without fulfilment", ""
            ),
            "service": np.where(
                service_breach | service_risk,
                _service_text(
                    _strings(service["code"]),
                    streak,
                    is_red,
                    is_amber,
                    misses,
                    forecast_trouble,
                    forecast,
                    comparison,
                    threshold,
                    actual,
                ),
                "",
            ),
            "due_soon": np.where(
                due_soon, _due_soon_text(due_label, days_left) + not_done_text, ""
            ),
            "overdue": overdue_text,
        },
        index=frame.index,
    )
    service_period = pd.to_datetime(service["latest_period"]).dt.date.to_numpy(dtype=object)
    due_date = due.dt.date.to_numpy(dtype=object)
    period = np.where(
        (service_breach | service_risk) & pd.notna(service_period), service_period, due_date
    )
    return pd.DataFrame(
        {
            "health": health,
            "reason": _join(parts),
            "red_streak": streak.astype("int64"),
            "period": [None if pd.isna(value) else value for value in period],
        },
        index=frame.index,
    )


def _milestones(
    milestones: pd.DataFrame, index: pd.Index, today: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per contract of `index`: the "overdue" sentence ("" when none is), the "; not done"
    clause naming the open milestones that are not overdue ("" when none), and whether any
    provider milestone is not done."""
    frame = milestones.reindex(columns=MILESTONE_COLUMNS)
    frame = frame[frame["contract_id"].isin(index)]
    empty = np.full(len(index), "", dtype=object)
    if frame.empty:
        return empty, empty.copy(), np.zeros(len(index), dtype=bool)
    due = pd.to_datetime(frame["due_date"])
    not_done = ~frame["status"].isin(NOT_DONE_EXCLUDES)
    overdue = not_done & (due < today)
    frame = frame.assign(
        due=due,
        label="'" + frame["name"].astype(str) + "'",
        overdue=overdue,
        not_done=not_done,
    ).sort_values(["contract_id", "due", "name"])

    overdue_rows = frame[frame["overdue"]]
    overdue_rows = overdue_rows.assign(
        label=overdue_rows["label"] + " (due " + _dates(overdue_rows["due"]) + ")"
    )
    named = _name_lists(overdue_rows)
    overdue_text = np.where(
        named["count"] == 1,
        "provider milestone " + named["names"] + " is overdue",
        "provider milestones " + named["names"] + " are overdue",
    )
    overdue_text = pd.Series(overdue_text, index=named.index).reindex(index).fillna("")

    waiting = _name_lists(frame[frame["not_done"] & ~frame["overdue"]])
    not_done_text = np.where(
        waiting["count"] == 1,
        "; provider milestone " + waiting["names"] + " is not done",
        "; provider milestones " + waiting["names"] + " are not done",
    )
    not_done_text = pd.Series(not_done_text, index=waiting.index).reindex(index).fillna("")
    any_not_done = frame.groupby("contract_id")["not_done"].any().reindex(index, fill_value=False)
    return (
        overdue_text.to_numpy(dtype=object),
        not_done_text.to_numpy(dtype=object),
        any_not_done.to_numpy(dtype=bool),
    )


def _name_lists(rows: pd.DataFrame) -> pd.DataFrame:
    """Per contract: the first `MAX_NAMES` labels joined ("'A', 'B' and 2 more") and how many
    there are."""
    if rows.empty:
        return pd.DataFrame(
            {"names": pd.Series([], dtype=object), "count": pd.Series([], dtype="int64")}
        )
    position = rows.groupby("contract_id").cumcount()
    shown = rows[position < MAX_NAMES].groupby("contract_id")["label"].agg(", ".join)
    count = rows.groupby("contract_id").size()
    more = count - MAX_NAMES
    names = shown + np.where(more > 0, " and " + more.astype(str) + " more", "")
    return pd.DataFrame({"names": names, "count": count})


def _service_text(
    code, streak, is_red, is_amber, misses, forecast_trouble, forecast, comparison, threshold,
    actual,
) -> np.ndarray:  # fmt: skip
    """ "Service level: PROC-OTD is red for 3 periods in a row (needs ≥ 95; latest 88.0)"."""
    plural = np.where(streak == 1, " period", " periods")
    state = np.select(
        [is_red & (streak > 1), is_red, is_amber, misses, forecast_trouble],
        [
            " is red for " + streak.astype(str) + plural + " in a row",
            " is red",
            " is amber",
            " misses the agreed level",
            " is forecast " + forecast.astype(str) + " for the next period",
        ],
        default="",
    )
    sign = np.where(comparison == ServiceComparison.AT_MOST, "≤ ", "≥ ")
    needs = sign + np.array([_number(value, "g") for value in threshold], dtype=object)
    latest = np.array([_number(value, ".1f") for value in actual], dtype=object)
    return "service level: " + code + state + " (needs " + needs + "; latest " + latest + ")"


def _due_soon_text(due_label: np.ndarray, days_left: np.ndarray) -> np.ndarray:
    days = np.nan_to_num(days_left, nan=0).astype("int64")
    return np.select(
        [days == 0, days == 1],
        ["due today (" + due_label + ")", "due " + due_label + " in 1 day"],
        default="due " + due_label + " in " + days.astype(str) + " days",
    )


def _dates(values: pd.Series) -> np.ndarray:
    """Dates as "01 Nov 2026" ("" for none)."""
    return pd.to_datetime(values).dt.strftime("%d %b %Y").fillna("").to_numpy(dtype=object)


def _strings(column: pd.Series) -> np.ndarray:
    """The column as an object array of text, "" where it is empty."""
    values = column.to_numpy(dtype=object)
    return np.where(pd.isna(values), "", values).astype(object)


def _number(value: float, spec: str) -> str:
    return "—" if np.isnan(value) else format(value, spec)


def _join(parts: pd.DataFrame) -> np.ndarray:
    """Each row's non-empty parts joined with "; ", the first letter a capital ("" when none)."""
    joined = np.full(len(parts), "", dtype=object)
    for column in parts.columns:  # a few columns, each over every row at once
        part = parts[column].to_numpy(dtype=object)
        joined = np.where(
            part == "", joined, np.where(joined == "", part, joined + SEPARATOR + part)
        )
    joined = pd.Series(joined, dtype=object)
    return (joined.str[:1].str.upper() + joined.str[1:]).to_numpy(dtype=object)
