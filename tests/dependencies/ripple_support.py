"""A small supply chain for the ripple tests, drawn so every figure can be worked out by hand:

    PROC-OTD (KPI, Procurement, criticality 5)
      ─measured_by→ PROC-SALES-PARTS (contract, Procurement → Sales, criticality 4, agreed)
                      ─depends_on→ "Launch" (initiative, Sales) ─serves→ "Grow" (objective,
                                   Sales, weight 4)
    "Ship" (milestone of "Launch")  ─part_of→ "Launch"
    every node ─owned_by→ its department

From PROC-OTD: the contract at depth 1 (4 / 1), Procurement at 1 (0), the initiative at 2
(1 / 2), Sales at 3 (0), the objective at 3 (4 / 3): reach 5.8333, Sales the one other
department, one objective.
"""

from __future__ import annotations

from dataclasses import dataclass

from dependencies.graph import invalidate_graph
from dependencies.models import Contract
from govern.models import Department, Initiative, Milestone, Objective
from kpis.models import Kpi
from tests.factories import (
    ContractFactory,
    InitiativeFactory,
    KpiFactory,
    MilestoneFactory,
    ObjectiveFactory,
)

REACH_FROM_KPI = 5.8333


@dataclass
class Chain:
    sales: Department
    procurement: Department
    kpi: Kpi
    contract: Contract
    initiative: Initiative
    milestone: Milestone
    objective: Objective


def supply_chain(sales: Department, procurement: Department) -> Chain:
    kpi = KpiFactory(code="PROC-OTD", name="Supplier on-time", department=procurement,
                     criticality=5)  # fmt: skip
    objective = ObjectiveFactory(title="Grow", department=sales, weight=4)
    initiative = InitiativeFactory(name="Launch", department=sales, objectives=[objective])
    milestone = MilestoneFactory(name="Ship", initiative=initiative)
    contract = ContractFactory(
        code="PROC-SALES-PARTS",
        title="Parts for the launch",
        provider_department=procurement,
        consumer_department=sales,
        criticality=4,
        status="agreed",
        service_kpi=kpi,
        service_comparison="gte",
        service_threshold=95.0,
    )
    contract.consumer_initiatives.set([initiative])
    invalidate_graph(sync=False)
    return Chain(sales, procurement, kpi, contract, initiative, milestone, objective)
