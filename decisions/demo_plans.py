"""The demo's plan versions: the re-forecast made from the computed FY baseline through the
plan-version services, the way the PMO and the CEO would make it.

The PMO drafts "FY<yy> Q<n> re-forecast" from the current baseline (the draft copies every target
and the terms of the contracts in force), re-phases three trajectories from the current week on,
proposes it, and the CEO approves it. One of the three is a cut on a red KPI: supplier on-time
delivery (PROC-OTD) drops from about 94% to 86% while it is red, which is what
`kpis.services.governance` flags as a target-gaming signal for the PMO and the executives. Customer
OTIF (CS-OTIF) is eased by a point too, but it is not red at approval and was not eased before: no
signal. Sales order intake (SALES-INTAKE) is raised (tightened: never a signal).

Past periods keep the baseline they were judged against (docs/plan-versions.md): the approval
changes the plan from the running period on. A second run finds the version and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from govern import services as govern_services
from govern.models import Person, PlanVersion
from kpis.models import Kpi, Target
from kpis.periods import period_start
from kpis.services.targets import targets_set

if TYPE_CHECKING:
    from decisions.demo import DemoContext

# (KPI, factor applied to the baseline's targets from the running period on, why)
RE_PHASED = (
    ("PROC-OTD", None, "The incumbent alloy supplier cannot recover before spring: supplier OTD "
     "re-planned at 86% until the second source is qualified."),
    ("CS-OTIF", 0.99, "Customer OTIF re-phased one point lower while the castings are short."),
    ("SALES-INTAKE", 1.05, "Order intake has run about 15% over plan all year: the intake target "
     "is raised by 5%."),
)  # fmt: skip
PROC_OTD_RE_FORECAST = 86.0


def re_forecast_name(today: dt.date) -> str:
    return f"FY{today:%y} Q{(today.month - 1) // 3 + 1} re-forecast"


def seed_plan_versions(context: DemoContext) -> None:
    name = re_forecast_name(context.today)
    if PlanVersion.objects.filter(name=name).exists():
        context.report("plan versions", 0)
        return
    pmo = Person.objects.get(username="pmo")
    ceo = Person.objects.get(username="ceo")
    draft = govern_services.plan_version_create_draft(
        actor=pmo,
        name=name,
        description=(
            "Re-forecast after the alloy supplier lost a furnace: supplier OTD and castings "
            "throughput re-phased until the second source is qualified, order intake raised. "
            "The dependency contracts are carried as agreed."
        ),
    )
    kpis = Kpi.objects.in_bulk([code for code, _, _ in RE_PHASED], field_name="code")
    for code, factor, reason in RE_PHASED:
        kpi = kpis[code]
        running = period_start(context.today, kpi.frequency)
        targets = Target.objects.filter(kpi=kpi, plan_version=draft, period__gte=running)
        values = {
            period: PROC_OTD_RE_FORECAST if factor is None else round(value * factor, 1)
            for period, value in targets.values_list("period", "value")
        }
        if values:
            targets_set(actor=pmo, kpi=kpi, values=values, reason=reason, plan_version=draft)
    govern_services.plan_version_propose(
        actor=pmo,
        plan_version=draft,
        comment="For the S&OP: the supplier recovery plan makes the baseline unreachable.",
    )
    govern_services.plan_version_approve(
        actor=ceo,
        plan_version=draft,
        reason="Approved at the S&OP: the baseline no longer describes what we can deliver.",
    )
    context.report("plan versions", 1)
