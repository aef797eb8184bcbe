"""Severity of the contract exceptions: base 1.0 at risk, 2.0 breached, × the contract's
criticality × the highest objective weight on its consumer side, + the age bonus."""

import pandas as pd
import pytest

from kpis.engine.severity import severity, with_reach


@pytest.mark.parametrize(
    ("kind", "criticality", "objective_weight", "days_open", "expected"),
    [
        ("contract_at_risk", 4, 5, 0, 20.0),
        ("contract_breached", 4, 5, 0, 40.0),
        ("contract_at_risk", 1, 1, 0, 1.0),
        ("contract_breached", 5, 5, 0, 50.0),
        ("contract_at_risk", 3, None, 0, 9.0),  # nothing served: weight 3
        ("contract_breached", None, None, 0, 18.0),  # no criticality: 3
        ("contract_at_risk", 2, 3, 12, 7.2),  # 6 + 0.1 × 12
        ("contract_breached", 2, 3, 45, 15.0),  # 12 + the age bonus capped at 3
    ],
)
def test_contract_exception_severity(kind, criticality, objective_weight, days_open, expected):
    # given
    frame = pd.DataFrame(
        [
            {
                "kind": kind,
                "criticality": criticality,
                "objective_weight": objective_weight,
                "days_open": days_open,
            }
        ]
    )

    # when
    result = severity(frame)

    # then
    assert result.tolist() == [expected]


def test_the_reach_raises_a_contract_exception_like_any_other():
    # given: a breached contract of criticality 4 serving a weight-5 objective, reach 10
    base = severity(
        pd.DataFrame([{"kind": "contract_breached", "criticality": 4, "objective_weight": 5}])
    )

    # then: 40 × (1 + 10 / 20)
    assert with_reach(base, [10.0]).tolist() == [60.0]
