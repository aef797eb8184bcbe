"""Contract health engine: hand-computed verdicts and reasons for the service level (KPI status,
forecast, threshold, red streaks), the due date and the provider milestones, and their mix."""

import datetime as dt

import pandas as pd
import pytest

from dependencies.engine.health import COLUMNS, contract_health, red_streaks

TODAY = dt.date(2026, 12, 7)
OCTOBER = dt.date(2026, 10, 1)


def contract(**values) -> dict:
    return {
        "id": 1,
        "due_date": None,
        "service_kpi_id": None,
        "service_comparison": "",
        "service_threshold": None,
        **values,
    }


def service(comparison: str = "gte", threshold: float = 95.0, **values) -> dict:
    return contract(
        service_kpi_id=10, service_comparison=comparison, service_threshold=threshold, **values
    )


def kpi(status: str = "on_track", actual: float | None = 96.0, **values) -> dict:
    return {
        "kpi_id": 10,
        "code": "PROC-OTD",
        "latest_status": status,
        "latest_period": OCTOBER,
        "latest_actual": actual,
        "forecast_status": "on_track",
        "red_streak": 1 if status == "red" else 0,
        **values,
    }


def milestone(name: str, due: dt.date, status: str = "planned", contract_id: int = 1) -> dict:
    return {"contract_id": contract_id, "name": name, "due_date": due, "status": status}


def verdict(contract_row, kpis=(), milestones=(), breach_red_periods=2) -> tuple:
    result = contract_health(
        pd.DataFrame([contract_row]),
        pd.DataFrame(list(kpis)),
        pd.DataFrame(list(milestones)),
        today=TODAY,
        due_soon_days=14,
        breach_red_periods=breach_red_periods,
    )
    assert list(result.columns) == COLUMNS
    assert list(result.index) == [contract_row["id"]]
    row = result.iloc[0]
    return row["health"], row["reason"], int(row["red_streak"]), row["period"]


SERVICE_CASES = [
    # (case, contract, kpi, expected health, expected reason, red streak)
    ("on track and meets the threshold", service(), kpi(), "agreed", "", 0),
    ("exactly at an at-least threshold", service(), kpi(actual=95.0), "agreed", "", 0),
    (
        "amber",
        service(),
        kpi("amber", 91.0),
        "at_risk",
        "Service level: PROC-OTD is amber (needs ≥ 95; latest 91.0)",
        0,
    ),
    (
        "red for one period",
        service(),
        kpi("red", 88.0),
        "at_risk",
        "Service level: PROC-OTD is red (needs ≥ 95; latest 88.0)",
        1,
    ),
    (
        "red for two periods: the breach count",
        service(),
        kpi("red", 88.0, red_streak=2),
        "breached",
        "Service level: PROC-OTD is red for 2 periods in a row (needs ≥ 95; latest 88.0)",
        2,
    ),
    (
        "red for three periods",
        service(),
        kpi("red", 88.0, red_streak=3),
        "breached",
        "Service level: PROC-OTD is red for 3 periods in a row (needs ≥ 95; latest 88.0)",
        3,
    ),
    (
        "on track but forecast red",
        service(),
        kpi(forecast_status="red"),
        "at_risk",
        "Service level: PROC-OTD is forecast red for the next period (needs ≥ 95; latest 96.0)",
        0,
    ),
    (
        "on track but forecast amber",
        service(),
        kpi(forecast_status="amber"),
        "at_risk",
        "Service level: PROC-OTD is forecast amber for the next period (needs ≥ 95; latest 96.0)",
        0,
    ),
    (
        "on track against its plan but below the agreed level",
        service(),
        kpi(actual=94.0),
        "at_risk",
        "Service level: PROC-OTD misses the agreed level (needs ≥ 95; latest 94.0)",
        0,
    ),
    (
        "at most: above the threshold misses",
        service("lte", 5.0),
        kpi(actual=5.5),
        "at_risk",
        "Service level: PROC-OTD misses the agreed level (needs ≤ 5; latest 5.5)",
        0,
    ),
    ("at most: exactly at the threshold", service("lte", 5.0), kpi(actual=5.0), "agreed", "", 0),
    ("at most: below the threshold", service("lte", 5.0), kpi(actual=4.0), "agreed", "", 0),
    ("no evaluated period yet", service(), [], "agreed", "", 0),
    ("missing data", service(), kpi("missing", None), "agreed", "", 0),
    (
        "amber with no actual",
        service(),
        kpi("amber", None),
        "at_risk",
        "Service level: PROC-OTD is amber (needs ≥ 95; latest —)",
        0,
    ),
]


@pytest.mark.parametrize(
    ("contract_row", "kpi_row", "health", "reason", "streak"),
    [case[1:] for case in SERVICE_CASES],
    ids=[case[0] for case in SERVICE_CASES],
)
def test_service_level_rules(contract_row, kpi_row, health, reason, streak):
    # given
    kpis = [kpi_row] if kpi_row else []

    # when
    result = verdict(contract_row, kpis)

    # then
    assert result[:3] == (health, reason, streak)


def test_a_red_period_breaches_when_one_red_period_is_the_breach_count():
    # when
    result = verdict(service(), [kpi("red", 88.0)], breach_red_periods=1)

    # then
    assert result[:3] == (
        "breached",
        "Service level: PROC-OTD is red (needs ≥ 95; latest 88.0)",
        1,
    )


def test_a_recovered_service_level_is_agreed_again():
    # given: the KPI was red for three periods, and its latest period is on track again
    recovered = kpi("on_track", 97.0, red_streak=0)

    # when
    result = verdict(service(), [recovered])

    # then
    assert result[:3] == ("agreed", "", 0)


DUE_CASES = [
    # (case, due date, milestones, expected health, expected reason)
    ("far off", dt.date(2027, 6, 30), [milestone("Tooling", dt.date(2027, 5, 1))], "agreed", ""),
    (
        "passed",
        dt.date(2026, 11, 1),
        [],
        "breached",
        "Due date 01 Nov 2026 passed without fulfilment",
    ),
    (
        "passed yesterday, milestones done",
        dt.date(2026, 12, 6),
        [milestone("Tooling", dt.date(2026, 11, 1), "done")],
        "breached",
        "Due date 06 Dec 2026 passed without fulfilment",
    ),
    (
        "in 5 days with a milestone not done",
        dt.date(2026, 12, 12),
        [milestone("Pattern tooling", dt.date(2026, 12, 10), "in_progress")],
        "at_risk",
        "Due 12 Dec 2026 in 5 days; provider milestone 'Pattern tooling' is not done",
    ),
    (
        "today with a milestone not done",
        TODAY,
        [milestone("Pattern tooling", TODAY)],
        "at_risk",
        "Due today (07 Dec 2026); provider milestone 'Pattern tooling' is not done",
    ),
    (
        "tomorrow",
        dt.date(2026, 12, 8),
        [milestone("Pattern tooling", dt.date(2026, 12, 8))],
        "at_risk",
        "Due 08 Dec 2026 in 1 day; provider milestone 'Pattern tooling' is not done",
    ),
    (
        "in exactly the due-soon days",
        dt.date(2026, 12, 21),
        [milestone("A", dt.date(2026, 12, 20)), milestone("B", dt.date(2026, 12, 19))],
        "at_risk",
        "Due 21 Dec 2026 in 14 days; provider milestones 'B', 'A' are not done",
    ),
    (
        "one day beyond the due-soon days",
        dt.date(2026, 12, 22),
        [milestone("A", dt.date(2026, 12, 20))],
        "agreed",
        "",
    ),
    (
        "soon, every milestone done or cancelled",
        dt.date(2026, 12, 12),
        [
            milestone("A", dt.date(2026, 12, 1), "done"),
            milestone("B", dt.date(2026, 12, 10), "cancelled"),
        ],
        "agreed",
        "",
    ),
    ("soon, no provider milestone", dt.date(2026, 12, 12), [], "agreed", ""),
    (
        "a provider milestone overdue",
        dt.date(2027, 6, 30),
        [milestone("Pattern tooling", dt.date(2026, 11, 30))],
        "at_risk",
        "Provider milestone 'Pattern tooling' (due 30 Nov 2026) is overdue",
    ),
    (
        "a milestone due today is not overdue yet",
        dt.date(2027, 6, 30),
        [milestone("Pattern tooling", TODAY)],
        "agreed",
        "",
    ),
    (
        "four milestones overdue: three named",
        dt.date(2027, 6, 30),
        [
            milestone("D", dt.date(2026, 12, 1)),
            milestone("A", dt.date(2026, 11, 2)),
            milestone("C", dt.date(2026, 11, 20)),
            milestone("B", dt.date(2026, 11, 2)),
        ],
        "at_risk",
        "Provider milestones 'A' (due 02 Nov 2026), 'B' (due 02 Nov 2026), 'C' (due 20 Nov 2026) "
        "and 1 more are overdue",
    ),
    (
        "soon: one milestone overdue, one not done",
        dt.date(2026, 12, 12),
        [milestone("Casting", dt.date(2026, 12, 10)), milestone("Tooling", dt.date(2026, 11, 30))],
        "at_risk",
        "Due 12 Dec 2026 in 5 days; provider milestone 'Casting' is not done; provider milestone "
        "'Tooling' (due 30 Nov 2026) is overdue",
    ),
    (
        "soon: the only open milestone is overdue",
        dt.date(2026, 12, 12),
        [milestone("Tooling", dt.date(2026, 11, 30))],
        "at_risk",
        "Due 12 Dec 2026 in 5 days; provider milestone 'Tooling' (due 30 Nov 2026) is overdue",
    ),
]


@pytest.mark.parametrize(
    ("due", "milestones", "health", "reason"),
    [case[1:] for case in DUE_CASES],
    ids=[case[0] for case in DUE_CASES],
)
def test_due_date_and_milestone_rules(due, milestones, health, reason):
    # when
    result = verdict(contract(due_date=due), milestones=milestones)

    # then
    assert result[:2] == (health, reason)
    assert result[3] == due


def test_every_rule_that_applies_is_in_the_reason_worst_first():
    # given: past due, the service level amber, a provider milestone overdue
    row = service(due_date=dt.date(2026, 11, 1))

    # when
    result = verdict(
        row, [kpi("amber", 91.0)], [milestone("Pattern tooling", dt.date(2026, 10, 15))]
    )

    # then
    assert result[:2] == (
        "breached",
        "Due date 01 Nov 2026 passed without fulfilment; service level: PROC-OTD is amber "
        "(needs ≥ 95; latest 91.0); provider milestone 'Pattern tooling' (due 15 Oct 2026) is "
        "overdue",
    )


def test_the_period_is_the_kpi_period_when_the_service_level_is_in_trouble():
    # given
    row = service(due_date=dt.date(2027, 3, 31))

    # when
    trouble = verdict(row, [kpi("amber", 91.0)])
    fine = verdict(row, [kpi()])
    neither = verdict(service(), [kpi()])

    # then
    assert trouble[3] == OCTOBER
    assert fine[3] == dt.date(2027, 3, 31)
    assert neither[3] is None


def test_many_contracts_at_once_keep_their_own_state():
    # given: two contracts on the same KPI, one on another, milestones of one contract only
    contracts = pd.DataFrame(
        [
            service(id=1),
            service(threshold=80.0, id=2),
            contract(id=3, due_date=dt.date(2026, 12, 12)),
            contract(id=4, due_date=dt.date(2026, 12, 12)),
        ]
    )
    kpis = pd.DataFrame([kpi(actual=90.0)])
    milestones = pd.DataFrame([milestone("Tooling", dt.date(2026, 12, 10), contract_id=3)])

    # when
    result = contract_health(
        contracts, kpis, milestones, today=TODAY, due_soon_days=14, breach_red_periods=2
    )

    # then
    assert result["health"].to_dict() == {1: "at_risk", 2: "agreed", 3: "at_risk", 4: "agreed"}
    assert result.loc[1, "reason"] == (
        "Service level: PROC-OTD misses the agreed level (needs ≥ 95; latest 90.0)"
    )
    assert result.loc[3, "reason"] == (
        "Due 12 Dec 2026 in 5 days; provider milestone 'Tooling' is not done"
    )


def test_no_contracts_give_an_empty_frame():
    # when
    result = contract_health(
        pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), today=TODAY, due_soon_days=14,
        breach_red_periods=2,
    )  # fmt: skip

    # then
    assert result.empty
    assert list(result.columns) == COLUMNS


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["red", "red", "amber"], 2),
        (["red", "red", "red"], 3),
        (["amber", "red", "red"], 0),
        (["red"], 1),
        (["on_track"], 0),
        (["red", "missing", "red"], 1),
    ],
)
def test_red_streak_counts_the_latest_red_periods_in_a_row(statuses, expected):
    # given: rank 1 is the latest period
    recent = pd.DataFrame({"kpi_id": 7, "rank": range(1, len(statuses) + 1), "status": statuses})

    # when
    streaks = red_streaks(recent)

    # then
    assert streaks.to_dict() == {7: expected}


def test_red_streaks_of_several_kpis_and_of_none():
    # given
    recent = pd.DataFrame(
        {
            "kpi_id": [3, 3, 5, 5, 5],
            "rank": [2, 1, 1, 2, 3],
            "status": ["red", "red", "red", "amber", "red"],
        }
    )

    # then
    assert red_streaks(recent).to_dict() == {3: 2, 5: 1}
    assert red_streaks(pd.DataFrame()).empty
