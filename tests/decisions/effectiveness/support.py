"""A seeded history for the effectiveness review: three Sales KPIs with computed results, four
decisions due on 1 Nov 2026 (with hand-computed verdicts) and one not yet due, all logged through
`decisions.services.decision_log` by the Sales lead on 10 Jun 2026.

    SALES-OTD (higher is better, % of plan, plan 100):  Jun 84 · Sep 93 · Oct 91 · Nov 97
    SALES-DSO (lower is better, absolute days, plan 40): Aug 50 · Sep 44
    SALES-MARGIN (higher is better):                    Jun 30, nothing after

    otd_value     SALES-OTD ≥ 95 by 15 Oct, answers the red exception  → ineffective (91 in Oct)
    otd_variance  SALES-OTD adverse ≤ 10% by 15 Oct                     → effective (9% in Oct)
    dso           SALES-DSO ≤ 45 by 30 Sep                              → effective (44 in Sep)
    margin        SALES-MARGIN ≥ 35 by 15 Oct                           → inconclusive (no data)
    later         SALES-OTD ≥ 95 by 15 Dec                              → not due
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from decisions.models import Decision
from decisions.services import decision_log
from govern.models import Person
from kpis.models import Kpi, KpiException
from tests.factories import KpiExceptionFactory, KpiFactory, KpiResultFactory

DECIDED_ON = dt.date(2026, 6, 10)
TODAY = dt.date(2026, 11, 1)


@dataclass
class History:
    owner: Person  # owns the three KPIs
    otd: Kpi
    dso: Kpi
    margin: Kpi
    exception: KpiException  # red, on SALES-OTD
    otd_value: Decision
    otd_variance: Decision
    dso_decision: Decision
    margin_decision: Decision
    later: Decision

    @property
    def due(self) -> list[Decision]:
        return [self.otd_value, self.otd_variance, self.dso_decision, self.margin_decision]


def result(kpi: Kpi, month: int, plan: float, actual: float, adverse: float, status: str):
    return KpiResultFactory(
        kpi=kpi,
        period=dt.date(2026, month, 1),
        plan=plan,
        actual=actual,
        variance=actual - plan,
        adverse=adverse,
        status=status,
    )


def decide(lead: Person, kpi: Kpi, **values: Any) -> Decision:
    """A decision within Sales moving `kpi`, decided by `lead` on DECIDED_ON."""
    data = {
        "title": f"Act on {kpi.code}",
        "context": f"{kpi.code} is off plan.",
        "options_considered": "Wait\nAct",
        "chosen_option": "Act",
        "rationale": "Waiting costs more.",
        "department": kpi.department_id,
        "kpis": [kpi.pk],
        "expected_kpi": kpi.pk,
        "expected_kind": "value",
        "decided_on": DECIDED_ON.isoformat(),
        "reallocations": [],
        **values,
    }
    return decision_log(actor=lead, data=data)


def seed(department, lead: Person, owner: Person) -> History:
    otd = KpiFactory(code="SALES-OTD", department=department, owner=owner)
    dso = KpiFactory(
        code="SALES-DSO",
        department=department,
        owner=owner,
        direction="lower_is_better",
        tolerance_mode="absolute",
        unit="days",
    )
    margin = KpiFactory(code="SALES-MARGIN", department=department, owner=owner)
    result(otd, 6, 100.0, 84.0, 16.0, "red")
    result(otd, 9, 100.0, 93.0, 7.0, "amber")
    result(otd, 10, 100.0, 91.0, 9.0, "amber")
    result(otd, 11, 100.0, 97.0, 3.0, "on_track")
    result(dso, 8, 40.0, 50.0, 10.0, "red")
    result(dso, 9, 40.0, 44.0, 4.0, "on_track")
    result(margin, 6, 40.0, 30.0, 25.0, "red")
    exception = KpiExceptionFactory(kpi=otd)
    return History(
        owner=owner,
        otd=otd,
        dso=dso,
        margin=margin,
        exception=exception,
        otd_value=decide(
            lead, otd, expected_value=95, review_date="2026-10-15", exception=exception.pk
        ),
        otd_variance=decide(
            lead, otd, expected_kind="variance", expected_value=10, review_date="2026-10-15"
        ),
        dso_decision=decide(lead, dso, expected_value=45, review_date="2026-09-30"),
        margin_decision=decide(lead, margin, expected_value=35, review_date="2026-10-15"),
        later=decide(lead, otd, expected_value=95, review_date="2026-12-15"),
    )
