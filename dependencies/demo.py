"""The demo organisation's dependency contracts: sixteen hand-written ones that make the
supply-chain story visible, and, for benchmarks, any number of generated ones between the
generated departments.

Same two stages as `govern.demo` and `kpis.demo`:

* `contract_blueprint()` is pure: from the organisation's and the KPIs' blueprints, a count, a
  `today` anchor and a seed it returns every contract as a spec, with its links by natural key
  (department code, username, initiative department + name, milestone initiative + name, KPI
  code). The generated contracts draw from one `random.Random` seeded from `seed`, in a fixed
  order, so the same arguments always give the same contracts.
* `contract_demo_seed()` writes what is missing, inside the organisation's transaction. The
  hand-written story goes through the contract services (create, propose, agree by both sides'
  owners, amendments proposed and answered, fulfil, cancel), so its versions, audit events and
  notifications are the real ones. The generated contracts are written set-based: contracts, their
  links and the versions of the agreed ones with `bulk_create`, one creation `AuditEvent` each,
  then the dependency graph's cache is invalidated. A contract whose code exists is left alone,
  so a second run writes nothing.

At risk and breached are never set here: after the KPI recompute, `contract_demo_health()` runs
the health monitor and then the ripple sync, which decide them from the KPIs and milestones.

The story, as the health monitor sees it after the KPI recompute:

* Procurement → Production castings supply (PROC-PROD-CASTINGS): its service level is supplier
  on-time delivery (PROC-OTD), red for weeks, and the award milestone it depends on is overdue:
  breached. Procurement has proposed an amendment lowering the threshold while the new partners
  are qualified; Production has not answered yet (the pending amendment).
* Production → Logistics finished-goods handover (PROD-LOG-HANDOVER): schedule adherence is
  amber and the ERP clean-up milestone is overdue: at risk.
* Sales → Production monthly demand forecast (SALES-PROD-FORECAST): healthy, at version 2 after
  an amendment both sides accepted (5th working day instead of the 3rd).
* Logistics → Customer Service delivery-date commitments (LOG-CS-DELIVERY): healthy; an amendment
  Logistics proposed was rejected by Customer Service, so it stays at version 1.
* Finance → Procurement budget release (FIN-PROC-BUDGET) and six more agreed, healthy
  contracts; one proposed that Finance agreed to and Sales not yet, one draft, one fulfilled and
  one cancelled.
* The ripple from the castings contract reaches Production throughput (PROD-THRU), Logistics
  expedite cost (LOG-EXPEDITE, through the handover contract) and the on-time-in-full objective.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from django.db import models
from django.utils import timezone

from dependencies import terms
from dependencies.choices import AmendmentStatus, ContractStatus, ServiceComparison
from dependencies.models import Amendment, Contract, ContractVersion
from govern.audit import snapshot
from govern.choices import AuditAction, MilestoneStatus, PlanVersionStatus, Role
from govern.models import AuditEvent, Department, Initiative, Milestone, Person, PlanVersion
from kpis.choices import Direction
from kpis.models import Kpi, KpiException

if TYPE_CHECKING:
    from govern.demo import DemoBlueprint
    from kpis.demo import KpiBlueprint

REASON = "Demo organisation"
BATCH_SIZE = 1000
GENERATED_PREFIX = "CTR-"  # generated contracts are CTR-00001 …; the story's codes never are

InitiativeKey = tuple[str, str]  # (department code, initiative name)
MilestoneKey = tuple[str, str, str]  # (department code, initiative name, milestone name)


# --- Specs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmendmentSpec:
    """An amendment to an agreed contract: who proposes which changes, and how each side answers
    (None: not yet; else (accepted?, comment))."""

    proposer: str  # username
    changes: tuple[tuple[str, Any], ...]  # (term, new value) as the services read input
    reason: str
    provider: tuple[bool, str] | None = None
    consumer: tuple[bool, str] | None = None


@dataclass(frozen=True)
class ContractSpec:
    code: str
    title: str
    provider: str  # department code
    provider_owner: str  # username
    consumer: str
    consumer_owner: str
    deliverable: str
    criticality: int
    # Where the story takes it: draft, proposed (agreed by `agreed_by` only), agreed, fulfilled
    # or cancelled. At risk and breached come from the health monitor, never from here.
    stage: str
    acceptance_criteria: str = ""
    due_date: dt.date | None = None
    service_kpi: str | None = None  # KPI code
    service_comparison: str = ""
    service_threshold: float | None = None
    service_level: str = ""
    provider_milestones: tuple[MilestoneKey, ...] = ()
    provider_initiatives: tuple[InitiativeKey, ...] = ()
    consumer_initiatives: tuple[InitiativeKey, ...] = ()
    consumer_milestones: tuple[MilestoneKey, ...] = ()
    consumer_kpis: tuple[str, ...] = ()
    agreed_by: tuple[str, ...] = ()  # the sides that agreed while still proposed
    amendments: tuple[AmendmentSpec, ...] = ()
    closing_reason: str = ""  # of the fulfilment or the cancellation


@dataclass(frozen=True)
class ContractBlueprint:
    story: tuple[ContractSpec, ...]
    generated: tuple[ContractSpec, ...]

    @property
    def specs(self) -> tuple[ContractSpec, ...]:
        return self.story + self.generated


# --- The hand-written story -------------------------------------------------------------------

_AT_LEAST, _AT_MOST = ServiceComparison.AT_LEAST, ServiceComparison.AT_MOST
_AGREED, _PROPOSED, _DRAFT = ContractStatus.AGREED, ContractStatus.PROPOSED, ContractStatus.DRAFT
_FULFILLED, _CANCELLED = ContractStatus.FULFILLED, ContractStatus.CANCELLED
_DONE = MilestoneStatus.DONE

# The demo's initiatives (govern.demo) by their natural key, and some of their milestones.
_CONSOLIDATION = ("PROC", "Casting-alloy supplier consolidation")
_VMI = ("PROC", "Vendor-managed inventory for sand and binders")
_SMED = ("PROD", "SMED changeover programme on the moulding lines")
_SCHEDULING = ("PROD", "Finite-capacity scheduling in the foundries")
_SECOND_SOURCE = ("PROD", "Second-source qualification for ductile-iron grades")
_TENDER = ("LOG", "Outbound carrier tender for the EU core")
_SLOTTING = ("LOG", "Slotting and cycle counting at the Telford DC")
_DISTRIBUTORS = ("SALES", "Mid-market distributor programme")
_ACCOUNT_PLANS = ("SALES", "Key-account plans for the top 30 mid-market OEMs")
_CPQ = ("SALES", "Configure-price-quote for standard castings")
_ATP = ("CS", "Available-to-promise on every order line")
_WORKING_CAPITAL = ("FIN", "Working-capital reviews and cash-conversion dashboard")
_BENEFITS = ("PMO", "Supply-chain diagnostic and transformation roadmap")
_SOP = ("PMO", "Monthly S&OP cadence")


def _milestone(initiative: InitiativeKey, name: str) -> MilestoneKey:
    return (*initiative, name)


def _story(today: dt.date) -> tuple[ContractSpec, ...]:
    """The sixteen hand-written contracts; due dates are days from `today`."""
    day = lambda offset: today + dt.timedelta(days=offset)  # noqa: E731
    return (
        ContractSpec(
            "PROC-PROD-CASTINGS", "Casting alloys for the Sheffield and Ostrava melt plans",
            "PROC", "proc.lead", "PROD", "prod.lead",
            "Aluminium and ductile-iron casting alloys, about 2,000 tonnes a month, delivered "
            "to both foundries against the weekly melt plan.",
            5, _AGREED,
            acceptance_criteria="Purchase-order lines received complete on the confirmed day, "
            "with mill certificates; alloy stock cover never below eight days of the melt plan.",
            service_kpi="PROC-OTD", service_comparison=_AT_LEAST, service_threshold=90.0,
            service_level="2,000 t of alloy a month, ≥ 90% of PO lines on the confirmed day",
            provider_initiatives=(_CONSOLIDATION,),
            provider_milestones=(
                _milestone(_CONSOLIDATION, "Award decisions signed off by the steering committee"),
            ),
            consumer_initiatives=(_SECOND_SOURCE, _SCHEDULING),
            consumer_milestones=(
                _milestone(_SECOND_SOURCE, "Trial melts with the awarded alloy suppliers"),
            ),
            consumer_kpis=("PROD-THRU",),
            amendments=(
                AmendmentSpec(
                    "proc.lead",
                    (("service_threshold", 85.0),
                     ("service_level",
                      "2,000 t of alloy a month, ≥ 85% of PO lines on the confirmed day until "
                      "the six alloy partners are qualified")),
                    "The award decisions slipped by three weeks: until the six partners deliver, "
                    "the legacy suppliers cannot hold 90%. Procurement asks for 85% for one "
                    "quarter rather than a permanent breach.",
                    provider=(True, "Proposed by Procurement; the recovery plan is attached to "
                              "the steering-committee minutes."),
                ),
            ),
        ),
        ContractSpec(
            "SALES-PROD-FORECAST", "Monthly consensus demand forecast for the melt plan",
            "SALES", "sales.lead", "PROD", "prod.lead",
            "The consensus demand forecast by product family for the next 18 months, loaded into "
            "the ERP for the foundries' finite-capacity plan.",
            4, _AGREED,
            acceptance_criteria="Forecast loaded by the 3rd working day of the month, signed off "
            "in the demand review, forecast accuracy at least 75%.",
            service_kpi="SALES-FCST-ACC", service_comparison=_AT_LEAST, service_threshold=75.0,
            service_level="Monthly, by the 3rd working day, accuracy ≥ 75%",
            provider_initiatives=(_ACCOUNT_PLANS,),
            provider_milestones=(
                _milestone(_ACCOUNT_PLANS, "Joint forecasts agreed with the top 10 accounts"),
            ),
            consumer_initiatives=(_SCHEDULING,),
            consumer_kpis=("PROD-SCHED-ADH",),
            amendments=(
                AmendmentSpec(
                    "sales.lead",
                    (("service_level", "Monthly, by the 5th working day, accuracy ≥ 75%"),
                     ("acceptance_criteria",
                      "Forecast loaded by the 5th working day of the month, signed off in the "
                      "demand review, forecast accuracy at least 75%.")),
                    "The distributors' sell-out data arrives on the 3rd working day; two more "
                    "days let the forecast include it instead of last month's estimate.",
                    provider=(True, "Agreed in the demand review."),
                    consumer=(True, "Fine for the foundries: the melt plan is frozen on the 8th "
                              "working day."),
                ),
            ),
        ),
        ContractSpec(
            "PROD-LOG-HANDOVER", "Finished castings handed over to the Telford DC",
            "PROD", "prod.lead", "LOG", "log.lead",
            "Finished, inspected castings handed over to the Telford distribution centre on the "
            "day planned in the finite schedule, with complete shipping documents.",
            4, _AGREED,
            acceptance_criteria="Handed over on the planned day, labelled and booked in the ERP.",
            service_kpi="PROD-SCHED-ADH", service_comparison=_AT_LEAST, service_threshold=80.0,
            service_level="Schedule adherence ≥ 80%: handed over in the planned week",
            provider_initiatives=(_SCHEDULING,),
            provider_milestones=(
                _milestone(_SCHEDULING, "Routings and work-centre capacities cleaned in the ERP"),
            ),
            consumer_initiatives=(_SLOTTING,),
            consumer_kpis=("LOG-EXPEDITE", "LOG-SHIP-ONTIME"),
        ),
        ContractSpec(
            "FIN-PROC-BUDGET", "Budget release for onboarding the alloy partners",
            "FIN", "fin.lead", "PROC", "proc.lead",
            "EUR 180k released for the alloy partners' onboarding, tooling transfers and "
            "first-article inspections, with the 60-day payment-terms business case signed off.",
            4, _AGREED,
            acceptance_criteria="Budget lines open in the ERP and the business case signed by "
            "the CFO.",
            due_date=day(35),
            provider_initiatives=(_WORKING_CAPITAL,),
            provider_milestones=(
                _milestone(_WORKING_CAPITAL,
                           "Inventory and receivables targets in every department's plan"),
            ),
            consumer_initiatives=(_CONSOLIDATION,),
            consumer_milestones=(
                _milestone(_CONSOLIDATION, "First call-offs from the consolidated suppliers"),
            ),
        ),
        ContractSpec(
            "LOG-CS-DELIVERY", "Delivery-date commitments for every order line",
            "LOG", "log.lead", "CS", "cs.lead",
            "A committed delivery date for every order line, from the carriers' transit times "
            "and the DC's dispatch plan, available to the order desk when it confirms the order.",
            4, _AGREED,
            acceptance_criteria="Order lines shipped on the promised day at least 90% of the "
            "time, week by week.",
            service_kpi="LOG-SHIP-ONTIME", service_comparison=_AT_LEAST, service_threshold=90.0,
            service_level="≥ 90% of order lines shipped on the promised day",
            provider_initiatives=(_TENDER,),
            provider_milestones=(_milestone(_TENDER, "Carrier scorecards live"),),
            consumer_initiatives=(_ATP,),
            consumer_milestones=(
                _milestone(_ATP, "Proactive notice to customers of late order lines"),
            ),
            consumer_kpis=("CS-OTIF",),
            amendments=(
                AmendmentSpec(
                    "log.lead",
                    (("service_threshold", 85.0),
                     ("service_level", "≥ 85% of order lines shipped on the promised day")),
                    "Expedited recovery loads for Production's late castings take the dispatch "
                    "slots; Logistics asks for 85% until the handover is back on plan.",
                    provider=(True, "Proposed by Logistics."),
                    consumer=(False, "Customers were promised these dates; lowering the "
                              "commitment moves the problem to them. Fix the handover instead."),
                ),
            ),
        ),
        ContractSpec(
            "PROC-PROD-SAND", "Sand and binders on consignment at Sheffield",
            "PROC", "proc.buyer", "PROD", "prod.planner",
            "Moulding sand and binders held on consignment at the Sheffield foundry by the "
            "supplier, replenished from our consumption data.",
            3, _AGREED,
            acceptance_criteria="Consignment stock on site with at least five days of cover.",
            due_date=day(60),
            provider_initiatives=(_VMI,),
            provider_milestones=(
                _milestone(_VMI, "Consignment stock on site at the Sheffield foundry"),
            ),
            consumer_initiatives=(_SMED,),
            consumer_kpis=("PROD-SCRAP",),
        ),
        ContractSpec(
            "PROD-SALES-CAPACITY", "Reserved moulding capacity for distributor orders",
            "PROD", "prod.lead", "SALES", "sales.lead",
            "Moulding capacity reserved each week for standard castings ordered through the new "
            "distributors, released by the SMED roll-out.",
            3, _AGREED,
            acceptance_criteria="Changeovers short enough to run distributor batches of 50.",
            due_date=day(70),
            service_kpi="PROD-CHANGEOVER", service_comparison=_AT_MOST, service_threshold=1.5,
            service_level="Average changeover ≤ 1.5 hours",
            provider_initiatives=(_SMED,),
            provider_milestones=(_milestone(_SMED, "Roll-out to moulding lines 1, 3 and 4"),),
            consumer_initiatives=(_DISTRIBUTORS,),
            consumer_milestones=(
                _milestone(_DISTRIBUTORS, "First ten distributor-sourced orders"),
            ),
        ),
        ContractSpec(
            "FIN-SALES-PRICING", "Margin floors and alloy surcharges for the CPQ pricing rules",
            "FIN", "fin.lead", "SALES", "sales.analyst",
            "Margin floors by product family and the monthly alloy-surcharge table, as rules the "
            "configure-price-quote tool can apply.",
            3, _PROPOSED,
            acceptance_criteria="Rules reviewed with Sales and loaded into the CPQ test system.",
            due_date=day(45),
            consumer_initiatives=(_CPQ,),
            consumer_milestones=(_milestone(_CPQ, "Pricing rules agreed with Finance"),),
            agreed_by=("provider",),
        ),
        ContractSpec(
            "CS-SALES-QUOTES", "Standard quotes answered within 48 hours",
            "CS", "cs.lead", "SALES", "sales.lead",
            "Quotes for standard castings answered within two working days of the request, with "
            "an available-to-promise date.",
            3, _AGREED,
            service_kpi="CS-QUOTE-48H", service_comparison=_AT_LEAST, service_threshold=75.0,
            service_level="≥ 75% of standard quotes within 48 hours",
            provider_initiatives=(_ATP,),
            consumer_initiatives=(_DISTRIBUTORS,),
            consumer_kpis=("SALES-QUOTE-WIN",),
        ),
        ContractSpec(
            "LOG-PROD-STOCK", "Cycle-counted DC stock for the finite scheduler",
            "LOG", "log.lead", "PROD", "prod.planner",
            "Daily cycle counts at the Telford DC replacing the annual stocktake, so the finite "
            "scheduler nets finished stock it can trust.",
            3, _FULFILLED,
            acceptance_criteria="Cycle counting live and the annual stocktake cancelled.",
            due_date=day(-35),
            provider_initiatives=(_SLOTTING,),
            provider_milestones=(
                _milestone(_SLOTTING, "Cycle counting replaces the annual stocktake"),
            ),
            consumer_initiatives=(_SCHEDULING,),
            closing_reason="Cycle counting went live on time; the annual stocktake is cancelled.",
        ),
        ContractSpec(
            "PROC-FIN-PAYTERMS", "60-day payment terms with the top 20 suppliers",
            "PROC", "proc.lead", "FIN", "fin.lead",
            "The top 20 suppliers moved to 60-day payment terms, with supply-chain finance "
            "offered to the smaller partners.",
            3, _AGREED,
            service_kpi="PROC-PAY-TERMS", service_comparison=_AT_LEAST, service_threshold=45.0,
            service_level="Spend-weighted payment terms ≥ 45 days",
            provider_initiatives=(_CONSOLIDATION,),
            consumer_initiatives=(_WORKING_CAPITAL,),
            consumer_kpis=("FIN-WC-SALES",),
        ),
        ContractSpec(
            "PMO-FIN-BENEFITS", "Monthly transformation-benefits statement",
            "PMO", "pmo", "FIN", "fin.lead",
            "The transformation's realised benefits for the month, by initiative, ready for "
            "Finance's sign-off in the working-capital review.",
            2, _AGREED,
            service_kpi="PMO-BENEFITS", service_comparison=_AT_LEAST, service_threshold=150.0,
            service_level="Monthly, ≥ EUR 150k of benefits signed off",
            provider_initiatives=(_BENEFITS,),
            consumer_initiatives=(_WORKING_CAPITAL,),
            consumer_kpis=("FIN-WC-SALES",),
        ),
        ContractSpec(
            "PROD-CS-PROMISE", "Promise dates from the finite schedule",
            "PROD", "prod.lead", "CS", "cs.lead",
            "Order-line promise dates computed from the finite-capacity schedule of the Sheffield "
            "foundry, published to the order desk's available-to-promise check.",
            4, _AGREED,
            acceptance_criteria="Every Sheffield order line carries a schedule-based date.",
            due_date=day(75),
            provider_initiatives=(_SCHEDULING,),
            provider_milestones=(_milestone(_SCHEDULING, "Go-live at the Sheffield foundry"),),
            consumer_initiatives=(_ATP,),
            consumer_kpis=("CS-OTIF",),
        ),
        ContractSpec(
            "FIN-PROD-CAPEX", "Capex release for the robotic fettling cell",
            "FIN", "fin.lead", "PROD", "prod.lead",
            "Capital expenditure approved and released for a robotic fettling cell at Sheffield, "
            "subject to the business case.",
            2, _DRAFT,
            due_date=day(120),
            consumer_initiatives=(_SMED,),
        ),
        ContractSpec(
            "SALES-LOG-STOCK", "Weekly distributor stock report for replenishment",
            "SALES", "sales.analyst", "LOG", "log.lead",
            "Each distributor's stock of standard castings, weekly, so the DC can plan "
            "replenishment loads.",
            2, _CANCELLED,
            due_date=day(20),
            provider_initiatives=(_DISTRIBUTORS,),
            consumer_initiatives=(_TENDER,),
            closing_reason="Replaced by the EDI stock feed written into the distributor "
            "agreements.",
        ),
        ContractSpec(
            "LOG-SALES-TRANSIT", "Three-day transit to EU core customers",
            "LOG", "log.lead", "SALES", "sales.lead",
            "Outbound transit of at most three and a half days from dispatch to goods received "
            "in Germany, Benelux, Poland and Czechia.",
            3, _AGREED,
            service_kpi="LOG-TRANSIT", service_comparison=_AT_MOST, service_threshold=3.8,
            service_level="Average transit ≤ 3.8 days in the EU core",
            provider_initiatives=(_TENDER,),
            consumer_initiatives=(_DISTRIBUTORS,),
            consumer_kpis=("SALES-INTAKE",),
        ),
    )  # fmt: skip


# --- The generated contracts ------------------------------------------------------------------

# What one function delivers to another: (consumer function, title, deliverable). Generated
# departments are named after the function they serve (PROD-P07 is a plant, LOG-H03 a hub, …).
_FLOWS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "PROC": (
        ("PROD", "Alloy and consumables supply",
         "Casting alloys, sand and binders delivered against the plant's weekly melt plan."),
        ("PROD", "Qualified second source",
         "A second supplier qualified for the plant's A-class alloy grades."),
        ("FIN", "Supplier payment terms",
         "The category's suppliers moved to the agreed payment terms."),
    ),
    "PROD": (
        ("LOG", "Finished-goods handover",
         "Finished, inspected castings handed over to the hub on the planned day."),
        ("SALES", "Capacity for regional orders",
         "Moulding capacity reserved each week for the region's standard castings."),
        ("CS", "Promise dates from the schedule",
         "Order-line promise dates computed from the plant's finite schedule."),
    ),
    "LOG": (
        ("CS", "Delivery-date commitments",
         "A committed delivery date for every order line the region's order desk confirms."),
        ("PROD", "Inbound materials to the line",
         "Inbound alloys and consumables received and put away within a shift."),
        ("SALES", "Transit times for key accounts",
         "Outbound transit to the region's key accounts within the agreed days."),
    ),
    "SALES": (
        ("PROD", "Demand forecast",
         "The region's consensus demand forecast by product family, monthly."),
        ("PROC", "Volume outlook for supplier negotiations",
         "Twelve-month volume outlook by alloy grade for the category's negotiations."),
        ("FIN", "Order-intake outlook",
         "Weekly order-intake outlook feeding the 13-week cash forecast."),
    ),
    "CS": (
        ("SALES", "Quote turnaround",
         "Standard quote requests answered within two working days."),
        ("LOG", "Confirmed order lines for dispatch planning",
         "Confirmed order lines with promise dates, sent daily for dispatch planning."),
    ),
    "FIN": (
        ("PROC", "Budget release",
         "The category's budget released with the business case signed off."),
        ("PROD", "Capex release",
         "Capital expenditure released for the plant's approved projects."),
        ("SALES", "Credit limits for new accounts",
         "Credit limits set within two days for newly won accounts."),
    ),
    "PMO": (
        ("FIN", "Benefits statement", "The transformation's realised benefits, monthly."),
    ),
}  # fmt: skip
# The generated contracts' stages: mostly agreed, some still negotiated, a few cancelled.
_STAGES = ((0.04, _DRAFT), (0.10, _PROPOSED), (0.12, _CANCELLED))
_SERVICE_LEVEL_SHARE = 0.55  # the others are due-date contracts
_AHEAD_SHARE = 0.9  # of the contracts with an open provider milestone: one not yet due
_THRESHOLD_SLACK = 0.06  # a service threshold sits 6% on the worse side of the year-end plan
_CRITICALITY = ((1, 1), (2, 2), (3, 4), (4, 2), (5, 1))  # (criticality, relative weight)
_DRAWS = 14  # uniform draws per generated contract, made whatever the branches taken


def contract_blueprint(
    org: DemoBlueprint,
    kpis: KpiBlueprint | None,
    *,
    contracts: int = 0,
    today: dt.date,
    seed: int,
) -> ContractBlueprint:
    """The story's contracts and `contracts` generated ones between the generated departments
    (the seven named ones when there are none). Pure. A generated contract's parties, kind and
    stage depend on the seed only; the milestones it links and its due date follow the plan as
    of `today`."""
    story = _story(today)
    if contracts <= 0 or kpis is None:
        return ContractBlueprint(story=story, generated=())
    return ContractBlueprint(
        story=story,
        generated=tuple(_generated(org, kpis, count=contracts, today=today, seed=seed)),
    )


def _function(code: str) -> str:
    return code.split("-")[0]


def _pick(items: Sequence, u: float):
    return items[min(len(items) - 1, int(u * len(items)))]


def _generated(
    org: DemoBlueprint, kpis: KpiBlueprint, *, count: int, today: dt.date, seed: int
) -> list[ContractSpec]:
    pool = [d.code for d in org.departments if "-" in d.code] or [d.code for d in org.departments]
    by_function: dict[str, list[str]] = defaultdict(list)
    for code in pool:
        by_function[_function(code)].append(code)
    staff: dict[str, list[str]] = defaultdict(list)
    for person in org.people:
        for code, role in person.memberships:
            if role in (Role.DEPARTMENT_LEAD, Role.CONTRIBUTOR, Role.PMO):
                staff[code].append(person.username)
    initiatives: dict[str, list] = defaultdict(list)
    running: dict[str, list] = defaultdict(list)  # the initiatives with an open milestone ahead
    for initiative in org.initiatives:
        initiatives[initiative.department].append(initiative)
        if any(m.status != _DONE and m.due_date >= today for m in initiative.milestones):
            running[initiative.department].append(initiative)
    frame = kpis.generated
    thresholds = _thresholds(frame) if not frame.empty else {}
    service_kpis: dict[str, list[str]] = defaultdict(list)  # department → KPIs fit for a level
    all_kpis: dict[str, list[str]] = defaultdict(list)
    for spec in kpis.specs:
        if spec.story is None:
            all_kpis[spec.department].append(spec.code)
            if spec.code in thresholds:
                service_kpis[spec.department].append(spec.code)
    weights = [weight for _, weight in _CRITICALITY]
    # A contract is produced by some initiative: providers are departments that run one.
    providers = [code for code in pool if initiatives[code]] or pool

    rng = random.Random(f"contracts:{seed}")
    specs = []
    for number in range(1, count + 1):
        u = [rng.random() for _ in range(_DRAWS)]
        provider = _pick(providers, u[0])
        flows = _FLOWS.get(_function(provider)) or _FLOWS["PMO"]
        function, title, deliverable = _pick(flows, u[1])
        candidates = [c for c in by_function.get(function, ()) if c != provider] or [
            c for c in pool if c != provider
        ]
        consumer = _pick(candidates, u[2])
        criticality = rng.choices([c for c, _ in _CRITICALITY], weights=weights)[0]
        stage = next((s for limit, s in _STAGES if u[3] < limit), _AGREED)
        fields: dict[str, Any] = {}

        produced_by = _pick(initiatives[provider], u[4]) if initiatives[provider] else None
        open_milestones = [
            m for m in (produced_by.milestones if produced_by else ()) if m.status != _DONE
        ]
        # Mostly a deliverable still ahead; now and then one that is already late. An
        # initiative with only late work left gives way to one of the provider's initiatives
        # with work ahead (when there is one), so that the share holds.
        ahead = [m for m in open_milestones if m.due_date >= today]
        if open_milestones and not ahead and u[5] < _AHEAD_SHARE and running[provider]:
            produced_by = _pick(running[provider], u[4])
            open_milestones = [m for m in produced_by.milestones if m.status != _DONE]
            ahead = [m for m in open_milestones if m.due_date >= today]
        if ahead and u[5] < _AHEAD_SHARE:
            milestone = _pick(ahead, u[5] / _AHEAD_SHARE)
        else:
            milestone = _pick(open_milestones, u[5]) if open_milestones else None
        if u[6] < _SERVICE_LEVEL_SHARE and service_kpis[provider]:
            kpi = _pick(service_kpis[provider], u[7])
            comparison, threshold, words = thresholds[kpi]
            fields.update(
                service_kpi=kpi, service_comparison=comparison, service_threshold=threshold,
                service_level=words,
            )  # fmt: skip
            if u[8] >= 0.5:
                milestone = None  # a service level produced by the initiative as a whole
        elif milestone is not None:
            fields["due_date"] = milestone.due_date + dt.timedelta(days=3 + int(u[8] * 12))
        elif produced_by is not None and produced_by.milestones:
            # Everything the initiative had to deliver is done: so is the contract.
            milestone = produced_by.milestones[-1]
            fields["due_date"] = milestone.due_date + dt.timedelta(days=7)
            stage = _CANCELLED if stage == _CANCELLED else _FULFILLED
        else:
            fields["due_date"] = today + dt.timedelta(days=30 + int(u[8] * 240))
        if milestone is not None:
            fields["provider_milestones"] = ((provider, produced_by.name, milestone.name),)
        if produced_by is not None and (milestone is None or u[9] < 0.6):
            fields["provider_initiatives"] = (produced_by.key,)

        if initiatives[consumer]:
            depends = _pick(initiatives[consumer], u[10])
            if u[11] < 0.85:
                fields["consumer_initiatives"] = (depends.key,)
            waiting = [m for m in depends.milestones if m.status != _DONE]
            if waiting and u[11] >= 0.4:
                fields["consumer_milestones"] = (
                    (consumer, depends.name, _pick(waiting, u[12]).name),
                )
        if all_kpis[consumer] and u[13] < 0.6:
            fields["consumer_kpis"] = (_pick(all_kpis[consumer], u[13] / 0.6),)

        specs.append(
            ContractSpec(
                code=f"{GENERATED_PREFIX}{number:05d}",
                title=f"{title}: {provider} → {consumer}",
                provider=provider, provider_owner=_pick(staff[provider], u[9]),
                consumer=consumer, consumer_owner=_pick(staff[consumer], u[12]),
                deliverable=deliverable, criticality=criticality, stage=stage,
                acceptance_criteria="As measured in the monthly S&OP review.",
                **fields,
            )
        )  # fmt: skip
    return specs


def _thresholds(frame) -> dict[str, tuple[str, float, str]]:
    """Per generated KPI fit for a service level (not a band): (comparison, threshold, words).
    The threshold sits `_THRESHOLD_SLACK` on the worse side of the KPI's year-end plan."""
    found = {}
    for row in frame.itertuples(index=False):
        if row.direction == Direction.WITHIN_BAND:
            continue
        lower = row.direction == Direction.LOWER_IS_BETTER
        plan = row.base * (1 - row.growth if lower else 1 + row.growth)
        value = plan * (1 + _THRESHOLD_SLACK if lower else 1 - _THRESHOLD_SLACK)
        value = min(value, row.cap)
        value = round(value, int(row.decimals)) if row.decimals else float(round(value))
        comparison = _AT_MOST if lower else _AT_LEAST
        sign = "≤" if lower else "≥"
        found[row.code] = (comparison, float(value), f"{row.code} {sign} {value:g}")
    return found


# --- Writing it -------------------------------------------------------------------------------


@dataclass
class ContractSeedResult:
    created: dict[str, int]  # plural label → rows created
    events: list[AuditEvent]  # creation events of the generated contracts, for the caller
    audited: int = 0  # audit events the story's services wrote themselves


def contract_demo_seed(
    *,
    org: DemoBlueprint,
    kpis: int,
    contracts: int,
    today: dt.date,
    seed: int,
    stdout: TextIO | None = None,
) -> ContractSeedResult:
    """Create what is missing of the demo's contracts. Runs inside the caller's transaction,
    after the organisation and the KPIs; returns the generated contracts' creation events for the
    caller to write with its own."""
    from kpis.demo import kpi_blueprint

    blueprint = contract_blueprint(
        org,
        kpi_blueprint(org, kpis=kpis, seed=seed) if contracts > 0 else None,
        contracts=contracts,
        today=today,
        seed=seed,
    )
    writer = _ContractWriter(stdout)
    version = PlanVersion.objects.filter(status=PlanVersionStatus.APPROVED).first()
    if version is None:
        writer.note("no approved plan version, so no contracts were seeded")
        writer.report(Contract, 0)
        return ContractSeedResult(created=writer.created, events=[])
    audited = writer.story(blueprint.story, version)
    writer.generated(blueprint.generated, version)
    writer.report(Contract, writer.contracts)
    writer.report(ContractVersion, writer.versions)
    writer.report(Amendment, writer.amendments)
    if writer.contracts:
        from dependencies.graph import invalidate_graph

        invalidate_graph()
    return ContractSeedResult(created=writer.created, events=writer.events, audited=audited)


class _ContractWriter:
    def __init__(self, stdout: TextIO | None) -> None:
        self.stdout = stdout
        self.created: dict[str, int] = {}
        self.events: list[AuditEvent] = []
        self.contracts = self.versions = self.amendments = 0

    # The story, through the services ---------------------------------------------------------

    def story(self, specs: Sequence[ContractSpec], version: PlanVersion) -> int:
        """Create the story's missing contracts the way people would; returns the audit events
        the services wrote."""
        existing = set(
            Contract.objects.filter(code__in=[s.code for s in specs]).values_list("code", flat=True)
        )
        missing = [s for s in specs if s.code not in existing]
        if not missing:
            return 0
        events_before = AuditEvent.objects.count()
        links = _Links.for_specs(missing)
        for spec in missing:
            if self._story_contract(spec, links, version):
                self.contracts += 1
        return AuditEvent.objects.count() - events_before

    def _story_contract(self, spec: ContractSpec, links: _Links, version: PlanVersion) -> bool:
        from dependencies.services.amendments import amendment_propose, amendment_respond
        from dependencies.services.contracts import (
            contract_agree,
            contract_cancel,
            contract_create,
            contract_fulfil,
            contract_propose,
        )

        if spec.service_kpi is not None and spec.service_kpi not in links.kpis:
            self.note(f"{spec.code} skipped: its service-level KPI {spec.service_kpi} is missing")
            return False
        pmo = links.people["pmo"]
        owner = {"provider": links.people[spec.provider_owner],
                 "consumer": links.people[spec.consumer_owner]}  # fmt: skip
        contract = contract_create(actor=pmo, data=links.terms(spec, version))
        if spec.stage == _DRAFT:
            return True
        contract = contract_propose(
            actor=pmo, contract=contract, comment="For agreement at the next S&OP meeting."
        )
        if spec.stage == _CANCELLED:
            contract_cancel(actor=pmo, contract=contract, reason=spec.closing_reason)
            return True
        sides = spec.agreed_by if spec.stage == _PROPOSED else ("provider", "consumer")
        for side in sides:
            contract = contract_agree(actor=owner[side], contract=contract, side=side)
        if spec.stage == _PROPOSED:
            return True
        self.versions += 1
        for amendment_spec in spec.amendments:
            amendment = amendment_propose(
                actor=links.people[amendment_spec.proposer],
                contract=contract,
                changes=dict(amendment_spec.changes),
                reason=amendment_spec.reason,
            )
            self.amendments += 1
            for side in ("provider", "consumer"):
                answer = getattr(amendment_spec, side)
                if answer is not None:
                    accept, comment = answer
                    amendment = amendment_respond(
                        actor=owner[side], amendment=amendment, accept=accept, comment=comment,
                        side=side,
                    )  # fmt: skip
            if amendment.status == AmendmentStatus.ACCEPTED:
                self.versions += 1
        if spec.stage == _FULFILLED:
            contract_fulfil(actor=owner["provider"], contract=contract, comment=spec.closing_reason)
        return True

    # The generated contracts, set-based ------------------------------------------------------

    def generated(self, specs: Sequence[ContractSpec], version: PlanVersion) -> None:
        if not specs:
            return
        existing = set(
            Contract.objects.filter(code__startswith=GENERATED_PREFIX).values_list(
                "code", flat=True
            )
        )
        missing = [s for s in specs if s.code not in existing]
        if not missing:
            return
        links = _Links.for_specs(missing)
        pmo = links.people["pmo"]
        now = timezone.now()
        new, lists = [], []
        for spec in missing:
            contract = Contract(**links.fields(spec, version), status=spec.stage, created_by=pmo)
            if spec.stage in (_AGREED, _FULFILLED):
                contract.provider_agreed_by, contract.consumer_agreed_by = (
                    contract.provider_owner, contract.consumer_owner,
                )  # fmt: skip
                contract.provider_agreed_at = contract.consumer_agreed_at = now
                contract.agreed_at, contract.version_number = now, 1
            if spec.stage == _FULFILLED:
                contract.fulfilled_at = now
            if spec.stage == _CANCELLED:
                contract.cancelled_at = now
            new.append(contract)
            lists.append(links.lists(spec))
        values = [snapshot(c) for c in new]  # before inserting: no query per row
        Contract.objects.bulk_create(new, batch_size=BATCH_SIZE)
        for name in terms.M2M_FIELDS:
            field = Contract._meta.get_field(name)
            through = field.remote_field.through
            target = f"{field.m2m_reverse_field_name()}_id"
            through.objects.bulk_create(
                (
                    through(contract_id=c.pk, **{target: o.pk})
                    for c, linked in zip(new, lists, strict=True)
                    for o in linked[name]
                ),
                batch_size=BATCH_SIZE,
            )
        versions = []
        for contract, linked, before in zip(new, lists, values, strict=True):
            before.update({name: sorted(str(o) for o in linked[name]) for name in linked})
            changes = {name: {"old": None, "new": v} for name, v in before.items()}
            self.events.append(_creation_event(pmo, contract, changes))
            if contract.version_number:
                versions.append(
                    ContractVersion(
                        contract=contract, number=1, terms=terms.snapshot(contract, linked),
                        author=contract.consumer_owner,
                        author_name=str(contract.consumer_owner)[:150], created_at=now,
                        reason=f"Agreed by both sides: {contract.provider_owner} for "
                        f"{contract.provider_department} (provider), {contract.consumer_owner} "
                        f"for {contract.consumer_department} (consumer).",
                    )
                )  # fmt: skip
        ContractVersion.objects.bulk_create(versions, batch_size=BATCH_SIZE)
        self.contracts += len(new)
        self.versions += len(versions)

    # Plumbing -------------------------------------------------------------------------------

    def report(self, model: type[models.Model], count: int) -> None:
        label = str(model._meta.verbose_name_plural)
        self.created[label] = count
        if self.stdout is not None:
            self.stdout.write(f"  {label}: {count:,} created\n")

    def note(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(f"  Note: {message}.\n")


@dataclass
class _Links:
    """The rows the specs name, by natural key: a few queries whatever the number of specs."""

    departments: dict[str, Department]
    people: dict[str, Person]
    initiatives: dict[InitiativeKey, Initiative]
    milestones: dict[MilestoneKey, Milestone]
    kpis: dict[str, Kpi]

    @classmethod
    def for_specs(cls, specs: Sequence[ContractSpec]) -> _Links:
        codes = {s.provider for s in specs} | {s.consumer for s in specs}
        usernames = {"pmo"} | {s.provider_owner for s in specs} | {s.consumer_owner for s in specs}
        usernames |= {a.proposer for s in specs for a in s.amendments}
        departments = Department.objects.in_bulk(codes, field_name="code")
        by_id = {d.pk: d for d in departments.values()}
        initiatives = {}
        for initiative in Initiative.objects.filter(department_id__in=list(by_id)).only(
            "id", "name", "department_id"
        ):
            initiative.department = by_id[initiative.department_id]
            initiatives[_initiative_key(initiative)] = initiative
        by_initiative = {i.pk: i for i in initiatives.values()}
        milestones = {}
        for milestone in Milestone.objects.filter(initiative__department_id__in=list(by_id)).only(
            "id", "name", "initiative_id"
        ):
            milestone.initiative = by_initiative[milestone.initiative_id]
            milestones[(*_initiative_key(milestone.initiative), milestone.name)] = milestone
        wanted = {s.service_kpi for s in specs if s.service_kpi} | {
            code for s in specs for code in s.consumer_kpis
        }
        kpis = {
            k.code: k
            for k in Kpi.objects.filter(code__in=wanted).only("id", "code", "name", "department_id")
        }
        return cls(
            departments=departments,
            people=Person.objects.in_bulk(usernames, field_name="username"),
            initiatives=initiatives,
            milestones=milestones,
            kpis=kpis,
        )

    def fields(self, spec: ContractSpec, version: PlanVersion) -> dict[str, Any]:
        """The contract's own (not many-to-many) terms as model values."""
        return {
            "code": spec.code, "title": spec.title,
            "provider_department": self.departments[spec.provider],
            "provider_owner": self.people[spec.provider_owner],
            "consumer_department": self.departments[spec.consumer],
            "consumer_owner": self.people[spec.consumer_owner],
            "deliverable": spec.deliverable, "acceptance_criteria": spec.acceptance_criteria,
            "due_date": spec.due_date,
            "service_kpi": self.kpis[spec.service_kpi] if spec.service_kpi else None,
            "service_comparison": spec.service_comparison,
            "service_threshold": spec.service_threshold, "service_level": spec.service_level,
            "criticality": spec.criticality, "plan_version": version,
        }  # fmt: skip

    def lists(self, spec: ContractSpec) -> dict[str, list[models.Model]]:
        """The linked lists, sorted by id; links to rows that are gone are left out."""
        found = {
            "provider_milestones": [self.milestones.get(k) for k in spec.provider_milestones],
            "provider_initiatives": [self.initiatives.get(k) for k in spec.provider_initiatives],
            "consumer_initiatives": [self.initiatives.get(k) for k in spec.consumer_initiatives],
            "consumer_milestones": [self.milestones.get(k) for k in spec.consumer_milestones],
            "consumer_kpis": [self.kpis.get(code) for code in spec.consumer_kpis],
        }
        return {
            name: sorted((o for o in linked if o is not None), key=lambda o: o.pk)
            for name, linked in found.items()
        }

    def terms(self, spec: ContractSpec, version: PlanVersion) -> dict[str, Any]:
        """What `contract_create` reads: every term, relations as instances."""
        return {**self.fields(spec, version), **self.lists(spec)}


def _initiative_key(initiative: Initiative) -> InitiativeKey:
    return (initiative.department.code, initiative.name)


def _creation_event(actor: Person, instance: models.Model, changes: dict) -> AuditEvent:
    return AuditEvent(
        actor=actor,
        actor_name=(actor.get_full_name() or actor.get_username())[:150],
        action=AuditAction.CREATE,
        subject_type=instance._meta.label_lower,
        subject_id=str(instance.pk),
        subject_name=str(instance)[:255],
        changes=changes,
        reason=REASON,
    )


# --- After the KPI recompute ------------------------------------------------------------------


def contract_demo_health(*, today: dt.date, stdout: TextIO | None = None) -> dict:
    """Run the contracts' health monitor over every contract in force as of `today`, then the
    ripple sync over every unresolved exception: what the nightly sweep does after the KPIs."""
    from dependencies.services.health import contract_health_sync
    from dependencies.services.ripple import UNRESOLVED, ripple_sync

    health = contract_health_sync(today=today).as_dict()
    ripple = ripple_sync().as_dict()
    if stdout is not None:
        unresolved = KpiException.objects.filter(status__in=UNRESOLVED)
        stdout.write(
            f"  Contract health: {health['contracts']:,} contracts in force checked, "
            f"{health['at_risk']:,} at risk, {health['breached']:,} breached; ripple: "
            f"{ripple['exceptions']:,} unresolved exceptions, "
            f"{unresolved.filter(tradeoff_required=True).count():,} reaching another "
            "department (trade-off decision required)\n"
        )
    return {"health": health, "ripple": ripple}
