"""Decision metrics: how fast exceptions get a decision, how many within their deadline, and how
many reviewed decisions proved effective. Pure pandas: frames in, one summary row per group out;
no ORM, no clock (the caller passes `now`).

- **Latency** of an exception: from its opening to its first decision (the earliest `decided_at`
  of the decisions logged against it), in days. Median and 90th percentile (linear
  interpolation between the closest ranks), over the exceptions that have a decision.
- **Within the deadline**: an exception is *in time* when its first decision came no later than
  its original decision deadline (the one set at opening, before any escalation moved it), and
  *missed* when it came later, or when the deadline passed with no decision while the exception
  was still unresolved. Exceptions whose deadline has not come, and those resolved before it
  without a decision, are neither. Share = in time ÷ (in time + missed).
- **Effective**: of the reviewed decisions (effective, ineffective or inconclusive), the share
  judged effective.

Groups: the exceptions by their department and by the month they opened in; the decisions by
their department and by the month of their review date. Shares are None when nothing counts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from decisions.choices import Effectiveness

EXCEPTION_COLUMNS = [
    "exception_id",
    "department_id",
    "opened_at",
    "deadline",
    "first_decided_at",
    "resolved_at",
]
DECISION_COLUMNS = ["decision_id", "department_id", "review_date", "effectiveness"]
SUMMARY_COLUMNS = [
    "exceptions",
    "decided",
    "latency_median",
    "latency_p90",
    "decided_in_time",
    "deadline_due",
    "within_deadline_share",
    "reviewed",
    "effective",
    "ineffective",
    "inconclusive",
    "effective_share",
]
REVIEWED = (Effectiveness.EFFECTIVE, Effectiveness.INEFFECTIVE, Effectiveness.INCONCLUSIVE)
DAY = pd.Timedelta(days=1)
DECIMALS = 2
SHARE_DECIMALS = 4


def exception_facts(exceptions: pd.DataFrame, now: dt.datetime, zone: str = "UTC") -> pd.DataFrame:
    """Per exception: its month (`YYYY-MM` of `opened_at` in the time zone `zone`), its latency
    in days (NaN without a decision) and whether it was decided in time or missed. Moments are
    aware datetimes (naive ones are read as UTC)."""
    frame = exceptions.reindex(columns=EXCEPTION_COLUMNS).copy()
    for column in ("opened_at", "deadline", "first_decided_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    now = pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    decided = frame["first_decided_at"].notna()
    frame["month"] = frame["opened_at"].dt.tz_convert(zone).dt.strftime("%Y-%m")
    frame["latency_days"] = (frame["first_decided_at"] - frame["opened_at"]) / DAY
    frame["in_time"] = decided & (frame["first_decided_at"] <= frame["deadline"])
    still_open_until = frame["resolved_at"].where(frame["resolved_at"] < now, now)
    frame["missed"] = (decided & ~frame["in_time"]) | (
        ~decided & (frame["deadline"] < still_open_until)
    )
    return frame


def decision_facts(decisions: pd.DataFrame) -> pd.DataFrame:
    """Per decision: the month of its review date and whether it was reviewed / effective."""
    frame = decisions.reindex(columns=DECISION_COLUMNS).copy()
    frame["month"] = pd.to_datetime(frame["review_date"]).dt.strftime("%Y-%m")
    return frame


def summarise(
    exceptions: pd.DataFrame,
    decisions: pd.DataFrame,
    *,
    by: str | None = None,
    keys: list | None = None,
) -> pd.DataFrame:
    """The metrics of `exception_facts` and `decision_facts` rows, overall (`by` None: one row) or
    per value of the column `by` ("department_id" or "month"): SUMMARY_COLUMNS, indexed by the
    group. `keys` fixes the groups listed, in order (empty groups count zero); by default the
    groups present, sorted."""
    if by is None:
        exceptions = exceptions.assign(_all=0)
        decisions = decisions.assign(_all=0)
        by, keys = "_all", [0]
    latency = exceptions[exceptions["first_decided_at"].notna()].groupby(by)["latency_days"]
    ex = pd.DataFrame(
        {
            "exceptions": exceptions.groupby(by).size(),
            "decided": latency.size(),
            "latency_median": latency.quantile(0.5),
            "latency_p90": latency.quantile(0.9),
            "decided_in_time": exceptions.groupby(by)["in_time"].sum(),
            "deadline_due": exceptions.groupby(by)["missed"].sum()
            + exceptions.groupby(by)["in_time"].sum(),
        }
    )
    reviewed = decisions[decisions["effectiveness"].isin(REVIEWED)]
    counts = (
        reviewed.groupby([by, "effectiveness"]).size().unstack(fill_value=0)
        if len(reviewed)
        else pd.DataFrame()
    )
    de = pd.DataFrame(
        {
            str(kind): counts[kind] if kind in counts.columns else pd.Series(dtype="int64")
            for kind in REVIEWED
        }
    )
    if keys is None:
        keys = sorted(set(ex.index) | set(de.index))
    out = ex.reindex(keys).join(de.reindex(keys))
    counts_columns = ["exceptions", "decided", "decided_in_time", "deadline_due"]
    counts_columns += [str(kind) for kind in REVIEWED]
    out[counts_columns] = out[counts_columns].fillna(0).astype("int64")
    out["reviewed"] = out[[str(kind) for kind in REVIEWED]].sum(axis=1)
    out["latency_median"] = out["latency_median"].round(DECIMALS)
    out["latency_p90"] = out["latency_p90"].round(DECIMALS)
    out["within_deadline_share"] = _share(out["decided_in_time"], out["deadline_due"])
    out["effective_share"] = _share(out[str(Effectiveness.EFFECTIVE)], out["reviewed"])
    out.index.name = None if by == "_all" else by
    return out[SUMMARY_COLUMNS]


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    whole = whole.astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (part / whole.where(whole > 0)).round(SHARE_DECIMALS)
    return share


def months(first: dt.date, last: dt.date) -> list[str]:
    """Every month from `first`'s to `last`'s, as `YYYY-MM`."""
    return [
        f"{period:%Y-%m}"
        for period in pd.period_range(pd.Period(first, "M"), pd.Period(last, "M"), freq="M")
    ]
