"""The demo organisation: Northwind Castings, a mid-market foundry group in the middle of a
supply-chain transformation, optionally grown into a large generated organisation for benchmarks.

Two stages, kept apart:

* `demo_blueprint()` is pure: from a size, a `today` anchor and a seed it returns every department,
  person, objective, initiative, milestone and plan version as plain specs. The hand-written
  organisation needs no randomness; the generated extras draw from one `random.Random(seed)` in a
  fixed order, so the same arguments always give the same organisation.
* `demo_seed()` writes the blueprint in one transaction. It reads the natural keys already present
  (department code, username, objective title under its parent, initiative department + name,
  milestone initiative + name, plan version name), creates only what is missing with `bulk_create`
  in batches, and writes one creation `AuditEvent` per new row, in batches too. The number of
  queries does not grow with the size, so a 20,000-milestone organisation builds in seconds. A
  second run with the same arguments finds everything and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from govern import services
from govern.audit import diff, snapshot
from govern.choices import (
    AuditAction,
    InitiativeStatus,
    MilestoneStatus,
    ObjectiveLevel,
    PlanVersionStatus,
    Role,
)
from govern.errors import ApplicationError, ConflictError
from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)

DEFAULT_SEED = 2026
REASON = "Demo organisation"
BATCH_SIZE = 1000
EMAIL_DOMAIN = "northwind-castings.example"

# --- Specs: what the blueprint is made of -----------------------------------------------------


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class PersonSpec:
    username: str
    first_name: str
    last_name: str
    job_title: str
    memberships: tuple[tuple[str, str], ...] = ()  # (department code, role)
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class ObjectiveSpec:
    title: str
    parent: str | None  # the parent's title; strategic objectives sit at the top
    level: str
    owner: str  # username
    department: str  # code
    start_date: dt.date
    end_date: dt.date
    weight: int
    description: str = ""

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.title, self.parent)


@dataclass(frozen=True)
class MilestoneSpec:
    name: str
    owner: str
    due_date: dt.date
    status: str
    completed_date: dt.date | None = None
    description: str = ""


@dataclass(frozen=True)
class InitiativeSpec:
    department: str
    name: str
    owner: str
    start_date: dt.date
    end_date: dt.date
    budget: Decimal
    fte: Decimal
    status: str
    objectives: tuple[tuple[str, str | None], ...]  # objective keys: (title, parent title)
    description: str
    milestones: tuple[MilestoneSpec, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.department, self.name)


@dataclass(frozen=True)
class PlanVersionSpec:
    name: str
    description: str
    created_by: str
    approved_by: str | None = None
    approved_at: dt.datetime | None = None


@dataclass(frozen=True)
class DemoBlueprint:
    departments: tuple[DepartmentSpec, ...]
    people: tuple[PersonSpec, ...]
    objectives: tuple[ObjectiveSpec, ...]
    initiatives: tuple[InitiativeSpec, ...]
    plan_versions: tuple[PlanVersionSpec, ...]
    logins: tuple[DemoLogin, ...]


# --- Sizes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSize:
    """How large an organisation to build. The hand-written demo is always included."""

    departments: int = 0  # generated departments beyond the seven named ones
    initiatives: int = 16  # in total, the demo's own 16 included
    milestones_per_initiative: int = 4  # for each generated initiative
    people_per_department: int = 4  # for each generated department: one lead, then contributors
    kpis: int = 0  # generated weekly KPIs (52 periods of history each) beyond the demo's own
    contracts: int = 0  # generated dependency contracts beyond the demo's own 16

    def errors(self) -> dict[str, list[str]]:
        minimum = {
            "departments": 0,
            "initiatives": len(_DEMO_INITIATIVES),
            "milestones_per_initiative": 1,
            "people_per_department": 1,
            "kpis": 0,
            "contracts": 0,
        }
        why = {
            "departments": "",
            "initiatives": f" (the demo's own {len(_DEMO_INITIATIVES)} are always built)",
            "milestones_per_initiative": "",
            "people_per_department": " (every generated department needs a lead)",
            "kpis": "",
            "contracts": "",
        }
        return {
            name: [f"must be at least {low}{why[name]}; got {getattr(self, name)}."]
            for name, low in minimum.items()
            if getattr(self, name) < low
        }


PROFILES: dict[str, DemoSize] = {
    "demo": DemoSize(),
    "M": DemoSize(
        departments=33,
        initiatives=1000,
        milestones_per_initiative=4,
        people_per_department=5,
        kpis=2000,
        contracts=1000,
    ),
    "L": DemoSize(
        departments=193,
        initiatives=5000,
        milestones_per_initiative=4,
        people_per_department=5,
        kpis=20000,
        contracts=10000,
    ),
}


# --- The report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    role: str
    departments: str


@dataclass(frozen=True)
class DemoReport:
    created: dict[str, int]  # plural label → rows created, in build order
    audit_events: int
    logins: tuple[DemoLogin, ...]
    password: str
    seconds: float
    progress_updated: int = 0
    recompute: dict | None = None  # the KPI recompute's report, None when it did not run
    # The contracts' health sync and ripple sync after the recompute, None when it did not run.
    contract_health: dict | None = None

    @property
    def changed(self) -> bool:
        return any(self.created.values())


# --- The hand-written organisation ------------------------------------------------------------

_DEMO_DEPARTMENTS = (
    DepartmentSpec(
        "SALES", "Sales",
        "Key-account and distributor sales of pump, valve and compressor castings to OEMs across "
        "the UK and Central Europe. Owns the order-intake forecast fed into S&OP.",
    ),
    DepartmentSpec(
        "PROC", "Procurement",
        "Buys aluminium and ductile-iron alloys, scrap, sand, binders, tooling and freight; owns "
        "the supplier base, payment terms and supplier on-time delivery.",
    ),
    DepartmentSpec(
        "PROD", "Production",
        "Two foundries (Sheffield and Ostrava) and the Telford machining plant: melting, "
        "moulding, fettling and machining, about 180,000 castings a month.",
    ),
    DepartmentSpec(
        "LOG", "Logistics",
        "Inbound materials, the Telford distribution centre and outbound transport to customers "
        "in 14 countries; owns carrier contracts and transit times.",
    ),
    DepartmentSpec(
        "FIN", "Finance",
        "FP&A, plant controlling, treasury and credit control; owns the working-capital targets "
        "and the business cases behind every initiative.",
    ),
    DepartmentSpec(
        "CS", "Customer Service",
        "The order desk: quotes, order entry, delivery promises, complaints and returns for "
        "around 900 active customer accounts.",
    ),
    DepartmentSpec(
        "PMO", "PMO / OpEx",
        "The transformation office: keeps the plan, runs the S&OP and review cadences and "
        "coaches lean problem solving across the departments.",
    ),
)  # fmt: skip

_EXEC, _LEAD, _PMO, _CONTRIB, _VIEWER = (
    Role.EXECUTIVE, Role.DEPARTMENT_LEAD, Role.PMO, Role.CONTRIBUTOR, Role.VIEWER,
)  # fmt: skip

_DEMO_PEOPLE = (
    PersonSpec("ceo", "Margaret", "Hale", "Chief Executive Officer", (("PMO", _EXEC),)),
    PersonSpec("cfo", "Rajiv", "Menon", "Chief Financial Officer", (("FIN", _EXEC),)),
    PersonSpec(
        "pmo", "Elena", "Novak", "Head of Transformation Office", (("PMO", _PMO),), is_staff=True
    ),
    PersonSpec("sales.lead", "Tom", "Whitfield", "Sales Director", (("SALES", _LEAD),)),
    PersonSpec("proc.lead", "Ingrid", "Halvorsen", "Head of Procurement", (("PROC", _LEAD),)),
    PersonSpec("prod.lead", "Marek", "Horak", "Director of Operations", (("PROD", _LEAD),)),
    PersonSpec("log.lead", "Aisha", "Bello", "Head of Logistics", (("LOG", _LEAD),)),
    PersonSpec("fin.lead", "Graham", "Pike", "Financial Controller", (("FIN", _LEAD),)),
    PersonSpec("cs.lead", "Sofia", "Marchetti", "Customer Service Manager", (("CS", _LEAD),)),
    PersonSpec(
        "proc.buyer", "Daniel", "Osei", "Senior Category Buyer, Metals", (("PROC", _CONTRIB),)
    ),
    PersonSpec(
        "prod.planner", "Hannah", "Kowalski", "Foundry Production Planner", (("PROD", _CONTRIB),)
    ),
    PersonSpec(
        "sales.analyst", "Lucy", "Tran", "Sales Operations Analyst", (("SALES", _CONTRIB),)
    ),
    PersonSpec(
        "auditor", "Peter", "Lindqvist", "Internal Auditor", (("FIN", _VIEWER), ("PMO", _VIEWER))
    ),
    PersonSpec(
        "admin", "Platform", "Administrator", "Govern administrator (IT)",
        is_staff=True, is_superuser=True,
    ),
)  # fmt: skip

_SHARE = "Grow share in the mid-market"
_OTIF = "On-time-in-full delivery ≥ 95%"
_CASH = "Cut working capital by 15%"

# (title, parent, owner, department, weight, description); dates follow from `today`.
_STRATEGIC = (
    (_SHARE, None, "ceo", "SALES", 5,
     "Take mid-market pump, valve and compressor OEMs from 11% to 15% share by the end of the "
     "plan, winning on reliability and quote speed rather than on price."),
    (_OTIF, None, "ceo", "PROD", 5,
     "Deliver at least 95% of order lines complete on the date promised (from 81% today): the "
     "promise customers keep asking for and the reason for the transformation."),
    (_CASH, None, "cfo", "FIN", 4,
     "Release working capital worth 15% of the baseline (about EUR 9m) through lower inventory, "
     "longer supplier terms and faster collection, to fund the plant investments."),
)  # fmt: skip

_ANNUAL = (
    ("Win 40 new mid-market OEM accounts", _SHARE, "sales.lead", "SALES", 5,
     "New accounts with at least EUR 150k annual potential, half of them through distributors."),
    ("Answer 90% of quote requests within 48 hours", _SHARE, "cs.lead", "CS", 3,
     "Quote speed is the first thing a mid-market buyer sees; today the median is six days."),
    ("Raise foundry schedule adherence to 92%", _OTIF, "prod.lead", "PROD", 5,
     "Share of moulding orders finished in the planned week, Sheffield and Ostrava together."),
    ("Consolidate casting-alloy suppliers from 14 to 6 partners", _OTIF, "proc.lead", "PROC", 4,
     "Fewer, better suppliers with vendor-managed stock and a qualified second source for "
     "every A-class alloy grade."),
    ("Cut outbound transit time to 3 days in the EU core", _OTIF, "log.lead", "LOG", 3,
     "Germany, Benelux, Poland and Czechia: order dispatched to goods received."),
    ("Give a reliable delivery promise on every order line", _OTIF, "cs.lead", "CS", 4,
     "Every order line confirmed against available-to-promise, not against a standard lead time."),
    ("Cut inventory from 78 to 62 days", _CASH, "prod.lead", "PROD", 4,
     "Raw material, work in progress and finished castings, measured in days of cost of sales."),
    ("Move the top 20 suppliers to 60-day payment terms", _CASH, "proc.lead", "PROC", 3,
     "From 38 days on average today, with supply-chain finance offered to smaller partners."),
    ("Collect customer invoices in 45 days (DSO)", _CASH, "fin.lead", "FIN", 4,
     "Days sales outstanding down from 58, without losing the accounts that pay late but grow."),
)  # fmt: skip

_PARENT_OF = {title: parent for title, parent, *_ in _STRATEGIC + _ANNUAL}

_DONE, _DOING, _PLANNED = MilestoneStatus.DONE, MilestoneStatus.IN_PROGRESS, MilestoneStatus.PLANNED
_ACTIVE = InitiativeStatus.ACTIVE

# (department, name, owner, start offset, end offset, budget, FTE, status, objectives,
#  description, milestones as (name, owner, due offset, status, completed offset)); offsets are
# days from `today`, so every run shows the same picture: some done, some in progress, some late.
_DEMO_INITIATIVES = (
    ("PROC", "Casting-alloy supplier consolidation", "proc.lead", -160, 210, 180_000, "2.5",
     _ACTIVE,
     ("Consolidate casting-alloy suppliers from 14 to 6 partners",
      "Move the top 20 suppliers to 60-day payment terms"),
     "Move aluminium and ductile-iron alloy spend from 14 suppliers to 6 strategic partners with "
     "vendor-managed stock, 60-day terms and a second source for every A-class grade. "
     "Production's second-source trials and the Sheffield melt plan wait on the award decisions.",
     (("Spend cube and supplier segmentation", "proc.buyer", -130, _DONE, -127),
      ("RFQ issued to the shortlisted alloy suppliers", "proc.buyer", -84, _DONE, -80),
      ("Award decisions signed off by the steering committee", "proc.lead", -21, _DOING, None),
      ("First call-offs from the consolidated suppliers", "proc.buyer", 45, _PLANNED, None),
      ("Legacy alloy contracts terminated", "proc.lead", 170, _PLANNED, None))),
    ("PROC", "Vendor-managed inventory for sand and binders", "proc.buyer", -100, 120, 45_000,
     "1.0", _ACTIVE, ("Cut inventory from 78 to 62 days",),
     "Let the binder and sand suppliers manage stock on site from our consumption data, cutting "
     "safety stock by a third and ending the emergency deliveries to Sheffield.",
     (("VMI agreement signed with the binder supplier", "proc.buyer", -60, _DONE, -62),
      ("Consumption feed to the supplier live over EDI", "proc.buyer", -10, _DOING, None),
      ("Consignment stock on site at the Sheffield foundry", "proc.buyer", 40, _PLANNED, None))),
    ("PROD", "SMED changeover programme on the moulding lines", "prod.lead", -200, 150, 320_000,
     "4.0", _ACTIVE, ("Raise foundry schedule adherence to 92%",),
     "Halve pattern and core-box changeover times with SMED workshops, quick-release clamping "
     "and pre-staged tooling, so the lines can run the smaller batches the mid-market orders.",
     (("Baseline changeover times on moulding lines 1–4", "prod.planner", -170, _DONE, -168),
      ("SMED pilot on moulding line 2", "prod.lead", -95, _DONE, -90),
      ("Roll-out to moulding lines 1, 3 and 4", "prod.lead", 40, _DOING, None),
      ("Standard work and operator training signed off", "prod.planner", 120, _PLANNED, None))),
    ("PROD", "Finite-capacity scheduling in the foundries", "prod.planner", -140, 200, 260_000,
     "3.0", _ACTIVE,
     ("Raise foundry schedule adherence to 92%", "Cut inventory from 78 to 62 days"),
     "Replace the spreadsheet melt and moulding plan with finite-capacity scheduling fed by the "
     "ERP, so promise dates reflect real furnace and line capacity.",
     (("Scheduling software selected", "prod.planner", -110, _DONE, -112),
      ("Routings and work-centre capacities cleaned in the ERP", "prod.planner", -14, _DOING,
       None),
      ("Go-live at the Sheffield foundry", "prod.lead", 60, _PLANNED, None),
      ("Go-live at the Ostrava foundry", "prod.lead", 160, _PLANNED, None))),
    ("PROD", "Second-source qualification for ductile-iron grades", "prod.lead", -60, 180,
     90_000, "1.5", _ACTIVE,
     ("Raise foundry schedule adherence to 92%",
      "Consolidate casting-alloy suppliers from 14 to 6 partners"),
     "Qualify a second alloy source for every ductile-iron grade used on A-class parts, so one "
     "supplier's failure can no longer stop a foundry. The trial melts wait on Procurement's "
     "award decisions.",
     (("Qualification plan agreed with Quality", "prod.lead", -40, _DONE, -41),
      ("Trial melts with the awarded alloy suppliers", "prod.planner", 20, _PLANNED, None),
      ("PPAP samples approved by the key customers", "prod.lead", 110, _PLANNED, None))),
    ("LOG", "Outbound carrier tender for the EU core", "log.lead", -180, 130, 60_000, "1.5",
     _ACTIVE, ("Cut outbound transit time to 3 days in the EU core",),
     "Tender the outbound lanes to Germany, Benelux, Poland and Czechia to two core carriers with "
     "transit-time clauses and monthly scorecards, replacing nine spot carriers.",
     (("Lane volumes and service levels baselined", "log.lead", -150, _DONE, -149),
      ("Tender awarded to two core carriers", "log.lead", -70, _DONE, -66),
      ("Carrier scorecards live", "log.lead", 15, _DOING, None),
      ("Three-day transit on the top 20 lanes", "log.lead", 120, _PLANNED, None))),
    ("LOG", "Slotting and cycle counting at the Telford DC", "log.lead", -120, 60, 75_000, "2.0",
     _ACTIVE, ("Cut inventory from 78 to 62 days",),
     "Re-slot fast movers next to dispatch and replace the annual stocktake with daily cycle "
     "counts, so the system stock can be trusted for available-to-promise.",
     (("Fast movers re-slotted next to dispatch", "log.lead", -90, _DONE, -92),
      ("Cycle counting replaces the annual stocktake", "log.lead", -45, _DONE, -40),
      ("Inventory accuracy at 98.5% for three months running", "log.lead", 30, _DOING, None))),
    ("SALES", "Mid-market distributor programme", "sales.lead", -130, 200, 150_000, "2.0",
     _ACTIVE, ("Win 40 new mid-market OEM accounts",),
     "Recruit stocking distributors for standard castings in Germany, Poland and Czechia to reach "
     "mid-market OEMs our field team cannot cover.",
     (("Distributor segmentation and target list", "sales.analyst", -100, _DONE, -101),
      ("Partner agreements signed in Germany, Poland and Czechia", "sales.lead", -5, _DOING,
       None),
      ("First ten distributor-sourced orders", "sales.lead", 70, _PLANNED, None),
      ("Programme review with the executive team", "sales.lead", 180, _PLANNED, None))),
    ("SALES", "Mid-market launch campaign: trade fairs and co-marketing", "sales.lead", -60,
     150, 110_000, "1.0", _ACTIVE, ("Win 40 new mid-market OEM accounts",),
     "Marketing for the mid-market push: stands at the Hannover and Poznań trade fairs, a "
     "co-marketing fund for the first distributors and a case-study campaign for OEM buyers.",
     (("Campaign plan and agency brief approved", "sales.lead", -45, _DONE, -47),
      ("Hannover trade-fair stand booked and designed", "sales.analyst", 40, _DOING, None),
      ("Co-marketing fund opened to the first distributors", "sales.lead", 90, _PLANNED,
       None))),
    ("SALES", "Key-account plans for the top 30 mid-market OEMs", "sales.analyst", -90, 90,
     35_000, "1.0", _ACTIVE, ("Win 40 new mid-market OEM accounts",),
     "Written account plans with share of wallet, white spaces and a joint 12-month forecast "
     "for the 30 mid-market OEMs with the most potential.",
     (("Account plan template agreed", "sales.analyst", -70, _DONE, -72),
      ("Plans written for the first 15 accounts", "sales.analyst", -20, _DONE, -18),
      ("Plans written for the remaining 15 accounts", "sales.analyst", 35, _DOING, None),
      ("Joint forecasts agreed with the top 10 accounts", "sales.lead", 80, _PLANNED, None))),
    ("SALES", "Configure-price-quote for standard castings", "sales.analyst", 30, 240, 110_000,
     "1.5", InitiativeStatus.PROPOSED, ("Answer 90% of quote requests within 48 hours",),
     "A configure-price-quote tool for the 2,400 standard part numbers, with alloy surcharges "
     "and Finance's margin floors built in, so the order desk can quote in minutes.",
     (("Pricing rules agreed with Finance", "sales.analyst", 50, _PLANNED, None),
      ("CPQ pilot with the order desk", "sales.analyst", 120, _PLANNED, None),
      ("CPQ live for all standard parts", "sales.lead", 220, _PLANNED, None))),
    ("CS", "Available-to-promise on every order line", "cs.lead", -110, 150, 95_000, "2.0",
     _ACTIVE,
     ("Give a reliable delivery promise on every order line",
      "Answer 90% of quote requests within 48 hours"),
     "Confirm every order line against available-to-promise from the finite schedule and the DC "
     "stock, and warn customers before a line slips rather than after.",
     (("Promise-date rules agreed with Production and Logistics", "cs.lead", -80, _DONE, -78),
      ("ATP check live in the order desk", "cs.lead", 25, _DOING, None),
      ("Proactive notice to customers of late order lines", "cs.lead", 90, _PLANNED, None))),
    ("FIN", "Working-capital reviews and cash-conversion dashboard", "fin.lead", -150, 100,
     40_000, "1.0", _ACTIVE,
     ("Collect customer invoices in 45 days (DSO)", "Cut inventory from 78 to 62 days"),
     "A monthly working-capital review inside the S&OP cycle, with inventory, payables and "
     "receivables targets for every department that moves them.",
     (("Cash-conversion baseline by business line", "fin.lead", -120, _DONE, -121),
      ("Monthly working-capital review in the S&OP cycle", "fin.lead", -60, _DONE, -58),
      ("Inventory and receivables targets in every department's plan", "fin.lead", 30, _DOING,
       None))),
    ("FIN", "Collections process redesign", "fin.lead", -80, 160, 55_000, "1.0",
     InitiativeStatus.ON_HOLD, ("Collect customer invoices in 45 days (DSO)",),
     "Automated dunning, credit limits reviewed on payment behaviour and a dispute process with "
     "Customer Service. On hold until the ERP upgrade freezes the customer master.",
     (("Dunning letters automated", "fin.lead", -50, _DONE, -49),
      ("Credit limits reviewed for the top 100 accounts", "fin.lead", 40, _PLANNED, None),
      ("Dispute-resolution SLA agreed with Customer Service", "fin.lead", 100, _PLANNED, None))),
    ("PMO", "Monthly S&OP cadence", "pmo", -170, 100, 30_000, "1.0", _ACTIVE,
     ("Raise foundry schedule adherence to 92%",
      "Give a reliable delivery promise on every order line"),
     "One monthly sales and operations plan that Sales, Production, Procurement, Logistics and "
     "Finance all work to, replacing four departmental spreadsheets.",
     (("Demand review and consensus forecast in place", "sales.analyst", -140, _DONE, -138),
      ("First integrated S&OP meeting held", "pmo", -110, _DONE, -110),
      ("Forecast accuracy tracked by product family", "sales.analyst", 20, _DOING, None),
      ("Executive S&OP with financial reconciliation", "pmo", 75, _PLANNED, None))),
    ("PMO", "Supply-chain diagnostic and transformation roadmap", "pmo", -330, -60, 120_000,
     "2.0", InitiativeStatus.COMPLETED, (_SHARE, _OTIF, _CASH),
     "Value-stream diagnostic of order-to-cash across both foundries and the DC, and the "
     "three-year roadmap the board approved: the origin of every initiative in this plan.",
     (("Value-stream maps of the order-to-cash flow", "pmo", -290, _DONE, -292),
      ("Roadmap and business case approved by the board", "pmo", -200, _DONE, -195),
      ("Initiative owners and KPIs assigned", "pmo", -90, _DONE, -85))),
)  # fmt: skip


# --- The generated extras ---------------------------------------------------------------------


# What each function works on: (title, scope with {n}, description) for generated initiatives.
_WORK = {
    "PROD": (
        ("SMED changeover reduction", "moulding line {n}",
         "Cut changeover times with SMED workshops, quick-release clamping and pre-staged "
         "tooling."),
        ("Scrap reduction in core-making", "core shop {n}",
         "Attack the top scrap causes (gas porosity, broken cores) with Pareto analysis and A3 "
         "problem solving."),
        ("Preventive maintenance for induction furnaces", "furnace {n}",
         "Move furnace maintenance from breakdowns to planned intervals with spare-part kits and "
         "reline scheduling."),
        ("OEE loss-tree reviews", "cell {n}",
         "Measure OEE automatically on the bottleneck cells and review the loss tree weekly with "
         "the shift leads."),
        ("Energy-per-tonne reduction", "melt shop {n}",
         "Lower melting energy per good tonne through charge optimisation, lid discipline and "
         "off-peak melting."),
        ("Robotic fettling cell", "line {n}",
         "Replace manual grinding of high-runner castings with a robotic cell to cut lead time "
         "and injuries."),
    ),
    "SALES": (
        ("Key-account plan refresh", "territory {n}",
         "Refresh account plans for the largest OEMs: share of wallet, white spaces and joint "
         "forecasts."),
        ("Distributor onboarding", "area {n}",
         "Recruit and onboard stocking distributors for standard castings with price lists and "
         "stock agreements."),
        ("Alloy-surcharge price realisation", "segment {n}",
         "Pass alloy surcharges through systematically and close the gap between list and "
         "realised prices."),
        ("Win-back campaign for lapsed accounts", "territory {n}",
         "Approach accounts lost in the last two years with a reliability offer backed by the new "
         "delivery promise."),
    ),
    "LOG": (
        ("Carrier tender", "lane group {n}",
         "Tender outbound lanes to fewer carriers with service-level clauses and transit-time "
         "penalties."),
        ("Warehouse slotting redesign", "warehouse {n}",
         "Re-slot fast movers close to dispatch and introduce daily cycle counting."),
        ("Cross-dock for export orders", "corridor {n}",
         "Consolidate export orders through a cross-dock to cut transit time and freight cost."),
        ("Returnable packaging loop", "customer cluster {n}",
         "Replace one-way crates with returnable racks for high-volume castings."),
    ),
    "PROC": (
        ("Supplier consolidation", "commodity group {n}",
         "Concentrate spend on a few strategic suppliers with better terms, VMI and quarterly "
         "business reviews."),
        ("Payment-terms harmonisation", "supplier panel {n}",
         "Move suppliers to 60-day terms, offering supply-chain finance to smaller partners."),
        ("Should-cost modelling", "category {n}",
         "Build should-cost models so negotiations start from facts, not last year's price."),
        ("Supplier on-time delivery scorecards", "region {n}",
         "Publish monthly delivery scorecards and run improvement plans with the bottom "
         "quartile."),
    ),
    "CS": (
        ("Proactive late-order notification", "order desk {n}",
         "Tell customers about late order lines before they chase, with a new date agreed with "
         "Production."),
        ("Complaint root-cause process", "queue {n}",
         "Give every complaint an owner and an 8D report, and close the loop with the customer."),
        ("Quote turnaround improvement", "team {n}",
         "Answer standard quote requests within 48 hours with templates and a pricing matrix."),
    ),
    "FIN": (
        ("Slow-moving stock provision review", "entity {n}",
         "Review provisions on slow-moving stock and agree write-off or rework with Production."),
        ("Collections sprint", "ledger {n}",
         "Work down overdue receivables with weekly calls and escalation to account owners."),
        ("13-week cash-flow forecast automation", "entity {n}",
         "Build the 13-week cash-flow forecast automatically from the ERP's open items."),
    ),
    "PMO": (
        ("Lean daily management roll-out", "area {n}",
         "Introduce tiered daily huddles with visual boards and clear escalation rules."),
        ("A3 problem-solving coaching", "cohort {n}",
         "Coach leads through A3 problem solving on the largest gaps in their KPIs."),
        ("Transformation benefits tracking", "wave {n}",
         "Track the transformation's benefits against the baseline, signed off by Finance."),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class _Kind:
    """One kind of generated department: a plant, a sales region, a distribution hub, …"""

    function: str  # the named department whose work it does (a key of _WORK)
    code: str  # code prefix, e.g. PROD-P → PROD-P07
    name: str  # e.g. "Plant {n} Production"
    description: str
    lead_title: str
    contributor_titles: tuple[str, ...]
    objective: str  # its annual objective, after the department's name
    parent: str  # the strategic objective that objective cascades from


_KINDS = {
    kind.function: kind
    for kind in (
        _Kind("PROD", "PROD-P", "Plant {n} Production",
              "Foundry and machining plant {n}: melting, moulding, fettling and machining.",
              "Plant Manager",
              ("Production Planner", "Shift Supervisor", "Process Engineer",
               "Maintenance Planner", "Quality Engineer"),
              "hold schedule adherence at 92%", _OTIF),
        _Kind("SALES", "SALES-R", "Region {n} Sales",
              "Field and inside sales for sales region {n}: OEM accounts and distributors.",
              "Regional Sales Manager",
              ("Account Manager", "Sales Engineer", "Inside Sales Representative"),
              "grow mid-market order intake by 10%", _SHARE),
        _Kind("LOG", "LOG-H", "Hub {n} Logistics",
              "Distribution hub {n}: warehousing, inbound receiving and outbound transport.",
              "Hub Manager",
              ("Transport Planner", "Warehouse Team Leader", "Inventory Controller"),
              "ship 97% of order lines on the promised day", _OTIF),
        _Kind("PROC", "PROC-C", "Category {n} Procurement",
              "Purchasing for commodity category {n}: contracts, suppliers and payment terms.",
              "Category Manager",
              ("Category Buyer", "Supplier Quality Engineer", "Purchasing Analyst"),
              "cut raw-material inventory by 12 days", _CASH),
        _Kind("CS", "CS-R", "Region {n} Customer Service",
              "Order desk for region {n}: quotes, order entry, delivery promises and complaints.",
              "Customer Service Team Lead",
              ("Order Desk Coordinator", "Customer Service Agent", "Complaints Coordinator"),
              "answer 90% of quote requests within 48 hours", _SHARE),
        _Kind("FIN", "FIN-U", "Business Unit {n} Finance",
              "Controlling for business unit {n}: reporting, cash and credit control.",
              "Business Unit Controller",
              ("Financial Analyst", "Credit Controller", "Cost Accountant"),
              "bring overdue receivables below 8% of the ledger", _CASH),
    )
}  # fmt: skip

# The mix of generated departments: plants and sales regions most, then the support functions.
_KIND_CYCLE = ("PROD", "SALES", "LOG", "PROD", "SALES", "PROC", "CS", "FIN")

_MILESTONE_PHASES = (
    "Baseline and business case approved",
    "Solution design signed off",
    "Pilot complete",
    "Roll-out wave 1 complete",
    "Roll-out complete",
    "Benefits verified by Finance",
    "Handover to the line organisation",
)

_FIRST_NAMES = (
    "Adam", "Agnieszka", "Alice", "Amir", "Anna", "Ben", "Carla", "Chloe", "David", "Dominik",
    "Emma", "Eva", "Fatima", "George", "Grace", "Harriet", "Isabel", "Jakub", "James", "Jana",
    "Joseph", "Julia", "Karim", "Kate", "Lars", "Laura", "Lena", "Lukas", "Maria", "Martin",
    "Mia", "Nadia", "Oliver", "Olga", "Pavel", "Priya", "Rachel", "Ravi", "Samuel", "Sara",
    "Simon", "Sophie", "Stefan", "Tereza", "Thomas", "Tomasz", "Victoria", "William", "Yusuf",
    "Zofia",
)  # fmt: skip
_LAST_NAMES = (
    "Ahmed", "Bailey", "Baker", "Bauer", "Becker", "Brown", "Carter", "Clarke", "Cerny",
    "Davies", "Dvorak", "Evans", "Fischer", "Green", "Hall", "Hughes", "Jackson", "Jensen",
    "Khan", "King", "Kowalczyk", "Kral", "Lewis", "Lopez", "Martin", "Meyer", "Mitchell",
    "Moore", "Muller", "Nowak", "Okafor", "Patel", "Pospisil", "Price", "Roberts", "Schmidt",
    "Shaw", "Singh", "Smith", "Svoboda", "Taylor", "Turner", "Walker", "Ward", "Weber", "White",
    "Wilson", "Wisniewski", "Wood", "Young",
)  # fmt: skip


# --- The blueprint (pure) ---------------------------------------------------------------------


def demo_blueprint(*, size: DemoSize, today: dt.date, seed: int = DEFAULT_SEED) -> DemoBlueprint:
    """Everything the organisation holds, as specs. Pure: no database, no clock but `today`."""
    rng = random.Random(seed)
    year_start, year_end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)

    departments = list(_DEMO_DEPARTMENTS)
    people = list(_DEMO_PEOPLE)
    objectives = [
        ObjectiveSpec(
            title, parent, ObjectiveLevel.STRATEGIC, owner, department,
            dt.date(today.year - 1, 1, 1), dt.date(today.year + 1, 12, 31), weight, description,
        )
        for title, parent, owner, department, weight, description in _STRATEGIC
    ] + [
        ObjectiveSpec(
            title, parent, ObjectiveLevel.ANNUAL, owner, department, year_start, year_end, weight,
            description,
        )
        for title, parent, owner, department, weight, description in _ANNUAL
    ]  # fmt: skip
    initiatives = [_demo_initiative(row, today) for row in _DEMO_INITIATIVES]

    # Who works where (for owners of generated work) and what each department aims at.
    staff: dict[str, list[str]] = defaultdict(list)
    for person in _DEMO_PEOPLE:
        for code, role in person.memberships:
            if role in (Role.DEPARTMENT_LEAD, Role.CONTRIBUTOR, Role.PMO):
                staff[code].append(person.username)
    aims: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for objective in objectives:
        if objective.level == ObjectiveLevel.ANNUAL:
            aims[objective.department].append(objective.key)
    function_of = {spec.code: spec.code for spec in _DEMO_DEPARTMENTS}

    counters: dict[str, int] = defaultdict(int)
    for index in range(size.departments):
        kind = _KINDS[_KIND_CYCLE[index % len(_KIND_CYCLE)]]
        counters[kind.function] += 1
        number = counters[kind.function]
        code = f"{kind.code}{number:02d}"
        name = kind.name.format(n=number)
        departments.append(DepartmentSpec(code, name, kind.description.format(n=number)))
        function_of[code] = kind.function
        for position in range(size.people_per_department):
            lead = position == 0
            username = f"{code.lower()}.{'lead' if lead else f'c{position:02d}'}"
            title = kind.lead_title if lead else rng.choice(kind.contributor_titles)
            role = Role.DEPARTMENT_LEAD if lead else Role.CONTRIBUTOR
            people.append(
                PersonSpec(
                    username, rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES), title,
                    ((code, role),),
                )
            )  # fmt: skip
            staff[code].append(username)
        objective = ObjectiveSpec(
            f"{name}: {kind.objective}", kind.parent, ObjectiveLevel.ANNUAL, staff[code][0], code,
            year_start, year_end, rng.randint(2, 4),
            f"{name}'s part in “{kind.parent}” for {today.year}.",
        )  # fmt: skip
        objectives.append(objective)
        aims[code].append(objective.key)

    strategic = [o.key for o in objectives if o.level == ObjectiveLevel.STRATEGIC]
    codes = [spec.code for spec in departments]
    for number in range(len(initiatives) + 1, size.initiatives + 1):
        code = rng.choice(codes)
        initiatives.append(
            _generated_initiative(
                rng, number=number, department=code, work=_WORK[function_of[code]],
                staff=staff[code], aims=aims[code] or strategic, today=today,
                milestones=size.milestones_per_initiative,
            )
        )  # fmt: skip

    baseline = f"FY{today:%y} baseline"
    approved_on = dt.date(today.year - 1, 12, 12)
    plan_versions = (
        PlanVersionSpec(
            baseline,
            f"The FY{today:%y} plan the executive team approved in December: targets and "
            "dependency contracts for the first year of the supply-chain transformation.",
            created_by="pmo", approved_by="ceo",
            approved_at=dt.datetime.combine(approved_on, dt.time(16, 30), tzinfo=dt.UTC),
        ),
    )  # fmt: skip
    # The re-forecast is made from the baseline through the plan-version services once the KPIs
    # are computed (decisions/demo.py), so that it copies the targets and contract terms.
    return DemoBlueprint(
        departments=tuple(departments),
        people=tuple(people),
        objectives=tuple(objectives),
        initiatives=tuple(initiatives),
        plan_versions=plan_versions,
        logins=_logins(),
    )


def _demo_initiative(row: tuple, today: dt.date) -> InitiativeSpec:
    (department, name, owner, start, end, budget, fte, status, aims, description,
     milestones) = row  # fmt: skip
    day = lambda offset: today + dt.timedelta(days=offset)  # noqa: E731
    return InitiativeSpec(
        department=department, name=name, owner=owner, start_date=day(start),
        end_date=day(end), budget=Decimal(budget).quantize(Decimal("0.01")),
        fte=Decimal(fte).quantize(Decimal("0.01")), status=status,
        objectives=tuple((title, _PARENT_OF[title]) for title in aims), description=description,
        milestones=tuple(
            MilestoneSpec(
                name=m_name, owner=m_owner, due_date=day(due), status=m_status,
                completed_date=day(done) if done is not None else None,
            )
            for m_name, m_owner, due, m_status, done in milestones
        ),
    )  # fmt: skip


def _generated_initiative(
    rng: random.Random,
    *,
    number: int,
    department: str,
    work: Sequence[tuple[str, str, str]],
    staff: Sequence[str],
    aims: Sequence[tuple[str, str | None]],
    today: dt.date,
    milestones: int,
) -> InitiativeSpec:
    title, scope, description = rng.choice(work)
    scope = scope.format(n=rng.randint(1, 9))
    name = f"{title}, {scope} (PRJ-{number:05d})"
    start = today + dt.timedelta(days=rng.randint(-420, 90))
    length = rng.randint(120, 540)
    end = start + dt.timedelta(days=length)
    owner = rng.choice(staff)
    linked = tuple(rng.sample(list(aims), k=min(len(aims), rng.choice((1, 1, 2)))))

    # Every draw is made whatever `today` is, so names (the natural keys) depend on the seed and
    # the size only: re-seeding on a later day finds the same initiatives and milestones.
    specs: list[MilestoneSpec] = []
    upcoming = True
    for position, phase in enumerate(_phase_names(milestones)):
        due = start + dt.timedelta(days=max(1, round(length * (position + 1) / milestones)))
        on_time, slip, milestone_owner = rng.random() < 0.85, rng.randint(-7, 12), rng.choice(staff)
        if due < today and on_time:
            done = min(today, max(start, due + dt.timedelta(days=slip)))
            specs.append(MilestoneSpec(phase, milestone_owner, due, MilestoneStatus.DONE, done))
            continue
        if due < today:  # late: still being worked on
            status = MilestoneStatus.IN_PROGRESS
        elif upcoming and start <= today:
            status, upcoming = MilestoneStatus.IN_PROGRESS, False
        else:
            status = MilestoneStatus.PLANNED
        specs.append(MilestoneSpec(phase, milestone_owner, due, status))

    held = rng.random() < 0.06
    if start > today:
        status = InitiativeStatus.PROPOSED
    elif all(m.status == MilestoneStatus.DONE for m in specs):
        status = InitiativeStatus.COMPLETED
    else:
        status = InitiativeStatus.ON_HOLD if held else InitiativeStatus.ACTIVE
    return InitiativeSpec(
        department=department, name=name, owner=owner, start_date=start, end_date=end,
        budget=Decimal(rng.randrange(20, 900) * 1000).quantize(Decimal("0.01")),
        fte=(Decimal(rng.randrange(5, 60)) / 10).quantize(Decimal("0.01")), status=status,
        objectives=linked, description=f"{description} Scope: {scope}.",
        milestones=tuple(specs),
    )  # fmt: skip


def _phase_names(count: int) -> list[str]:
    """`count` distinct milestone names in project order."""
    phases = _MILESTONE_PHASES
    if count == 1:
        return ["Roll-out complete"]
    if count <= len(phases):
        step = (len(phases) - 1) / (count - 1)
        return [phases[round(i * step)] for i in range(count)]
    # Longer projects roll out in more waves, between the pilot and the full roll-out.
    waves = [f"Roll-out wave {n} complete" for n in range(1, count - len(phases) + 2)]
    return [*phases[:3], *waves, *phases[4:]]


def _logins() -> tuple[DemoLogin, ...]:
    names = {spec.code: spec.name for spec in _DEMO_DEPARTMENTS}
    logins = []
    for person in _DEMO_PEOPLE:
        roles = dict.fromkeys(Role(role).label for _, role in person.memberships)
        if person.is_superuser:
            roles["Superuser (admin site)"] = None
        elif person.is_staff:
            roles["staff (admin site)"] = None
        logins.append(
            DemoLogin(
                username=person.username,
                name=person.full_name,
                role=", ".join(roles),
                departments=", ".join(names[code] for code, _ in person.memberships) or "—",
            )
        )
    return tuple(logins)


# --- Writing it (set-based) -------------------------------------------------------------------


def demo_seed(
    *,
    size: DemoSize,
    today: dt.date,
    seed: int = DEFAULT_SEED,
    stdout: TextIO | None = None,
    recompute: bool = True,
) -> DemoReport:
    """Build what is missing of the demo organisation at `size`, anchored on `today`.

    Idempotent: a second run with the same arguments creates nothing and writes no audit event.
    The KPIs and their history come from `kpis.demo`; afterwards (unless `recompute` is False)
    the KPI recompute computes results and exceptions as of `today`.
    Raises ApplicationError (with per-parameter messages) for an impossible size or date, and
    ConflictError when rows that are not the demo's already hold its names.
    """
    errors = size.errors()
    if today > timezone.localdate():
        errors["today"] = [
            f"cannot be after the current date ({timezone.localdate():%Y-%m-%d}): "
            "completed milestones would lie in the future."
        ]
    if errors:
        raise ApplicationError(
            "The demo organisation cannot be built with these parameters.",
            code="invalid_demo_size",
            fields=errors,
        )
    started = time.perf_counter()
    blueprint = demo_blueprint(size=size, today=today, seed=seed)
    writer = _Writer(blueprint, stdout)
    try:
        with transaction.atomic():
            writer.people()  # first: the PMO is the actor of the structure's creation events
            writer.departments()
            writer.memberships()
            writer.objectives()
            writer.initiatives()
            writer.milestones()
            writer.plan_versions()
            # The KPIs and their history build on the organisation (owners, objectives, plan).
            from kpis.demo import kpi_demo_seed

            kpis = kpi_demo_seed(
                org=blueprint, kpis=size.kpis, today=today, seed=seed, stdout=stdout
            )
            writer.created.update(kpis.created)
            writer.events.extend(kpis.events)
            # The dependency contracts link the plan's initiatives, milestones and KPIs.
            from dependencies.demo import contract_demo_seed

            contracts = contract_demo_seed(
                org=blueprint, kpis=size.kpis, contracts=size.contracts, today=today, seed=seed,
                stdout=stdout,
            )  # fmt: skip
            writer.created.update(contracts.created)
            writer.events.extend(contracts.events)
            audit_events = writer.flush_audit() + contracts.audited
            progress_updated = services.objective_progress_refresh() if writer.changed else 0
    except IntegrityError as exc:
        # Rows that are not the demo's hold one of its names (say a department called "Sales"
        # under another code). Nothing was written: the transaction rolled back.
        raise ConflictError(
            "The demo organisation clashes with data already in this database, so nothing was "
            f"written: {exc}. Seed an empty database, or rename or remove the clashing rows.",
            code="demo_conflict",
        ) from exc
    recomputed = contract_health = None
    if recompute:  # committed: results and exceptions exist right after seeding
        from kpis.demo import kpi_demo_recompute

        recomputed = kpi_demo_recompute(today=today, stdout=stdout)
        # The contracts' health follows the recomputed KPIs; then the ripple of every exception.
        from dependencies.demo import contract_demo_health

        contract_health = contract_demo_health(today=today, stdout=stdout)
        # The decisions (and the rest of the governance story) answer those exceptions.
        from decisions.demo import seed as governance_demo_seed

        governance = governance_demo_seed(today=today, stdout=stdout)
        writer.created.update(governance.created)
        audit_events += governance.audited
    return DemoReport(
        created=dict(writer.created),
        audit_events=audit_events,
        logins=blueprint.logins,
        password=settings.GOVERN_DEMO_PASSWORD,
        seconds=time.perf_counter() - started,
        progress_updated=progress_updated,
        recompute=recomputed,
        contract_health=contract_health,
    )


class _Writer:
    """Creates the missing rows of a blueprint, a few queries per model whatever the size."""

    def __init__(self, blueprint: DemoBlueprint, stdout: TextIO | None) -> None:
        self.blueprint = blueprint
        self.stdout = stdout
        self.created: dict[str, int] = {}
        self.events: list[AuditEvent] = []
        self.departments_by_code: dict[str, Department] = {}
        self.people_by_username: dict[str, Person] = {}
        self.objectives_by_key: dict[tuple[str, str | None], Objective] = {}
        self.new_initiatives: dict[tuple[str, str], Initiative] = {}

    @property
    def changed(self) -> bool:
        return any(self.created.values())

    # Departments, people, memberships ---------------------------------------------------------

    def departments(self) -> None:
        specs = self.blueprint.departments
        existing = Department.objects.in_bulk([s.code for s in specs], field_name="code")
        new = [
            Department(code=s.code, name=s.name, description=s.description)
            for s in specs
            if s.code not in existing
        ]
        self._create(Department, new, actor=lambda _: self.pmo)
        self.departments_by_code = {**existing, **{d.code: d for d in new}}

    def people(self) -> None:
        specs = self.blueprint.people
        existing = Person.objects.in_bulk([s.username for s in specs], field_name="username")
        missing = [s for s in specs if s.username not in existing]
        # One hash for everybody: hashing per person would cost a second each at size L.
        password = make_password(settings.GOVERN_DEMO_PASSWORD) if missing else ""
        new = [
            Person(
                username=s.username, first_name=s.first_name, last_name=s.last_name,
                email=f"{s.username}@{EMAIL_DOMAIN}", job_title=s.job_title, password=password,
                is_staff=s.is_staff, is_superuser=s.is_superuser,
            )
            for s in missing
        ]  # fmt: skip
        self.people_by_username = {**existing, **{p.username: p for p in new}}
        # Everything the organisation holds is recorded as set up by the PMO.
        self._create(Person, new, actor=lambda _: self.pmo)
        if any(p.username == "pmo" for p in new):
            # Staff who can work in the back office on the core domain, as the PMO does on pages.
            self.pmo.user_permissions.set(
                Permission.objects.filter(content_type__app_label="govern").exclude(
                    codename__in=["add_auditevent", "change_auditevent", "delete_auditevent"]
                )
            )

    @property
    def pmo(self) -> Person:
        return self.people_by_username["pmo"]

    def memberships(self) -> None:
        wanted = [
            (spec.username, code, role)
            for spec in self.blueprint.people
            for code, role in spec.memberships
        ]
        usernames = {username for username, _, _ in wanted}
        existing = set(
            Membership.objects.filter(person__username__in=usernames).values_list(
                "person__username", "department__code"
            )
        )
        new = [
            Membership(
                person=self.people_by_username[username],
                department=self.departments_by_code[code],
                role=role,
            )
            for username, code, role in wanted
            if (username, code) not in existing
        ]
        self._create(Membership, new, actor=lambda _: self.pmo)

    # Objectives -------------------------------------------------------------------------------

    def objectives(self) -> None:
        specs = self.blueprint.objectives
        strategic_titles = {s.title for s in specs if s.parent is None}
        for o in Objective.objects.select_related("parent").filter(
            Q(parent__isnull=True, title__in=strategic_titles)
            | Q(parent__parent__isnull=True, parent__title__in=strategic_titles)
        ):
            self.objectives_by_key[(o.title, o.parent.title if o.parent else None)] = o
        created = 0
        # Top level first, so the annual objectives can point at their parents.
        for level_specs in (
            [s for s in specs if s.parent is None],
            [s for s in specs if s.parent is not None],
        ):
            new = [
                Objective(
                    title=s.title, description=s.description, level=s.level,
                    parent=self.objectives_by_key[(s.parent, None)] if s.parent else None,
                    owner=self.people_by_username[s.owner],
                    department=self.departments_by_code[s.department],
                    start_date=s.start_date, end_date=s.end_date, weight=s.weight,
                )
                for s in level_specs
                if s.key not in self.objectives_by_key
            ]  # fmt: skip
            self._create(Objective, new, actor=lambda _: self.pmo, report=False)
            self.objectives_by_key.update(
                {(o.title, o.parent.title if o.parent else None): o for o in new}
            )
            created += len(new)
        self._report(Objective, created)

    # Initiatives and milestones ---------------------------------------------------------------

    def initiatives(self) -> None:
        specs = self.blueprint.initiatives
        codes = {s.department for s in specs}
        existing = set(
            Initiative.objects.filter(department__code__in=codes).values_list(
                "department__code", "name"
            )
        )
        missing = [s for s in specs if s.key not in existing]
        new = [
            Initiative(
                name=s.name, description=s.description,
                department=self.departments_by_code[s.department],
                owner=self.people_by_username[s.owner], start_date=s.start_date,
                end_date=s.end_date, budget=s.budget, fte=s.fte, status=s.status,
            )
            for s in missing
        ]  # fmt: skip
        linked = {
            id(i): [self.objectives_by_key[key] for key in s.objectives]
            for s, i in zip(missing, new, strict=True)
        }
        self._create(
            Initiative,
            new,
            actor=lambda i: i.owner,
            m2m=lambda i: {"objectives": sorted(str(o) for o in linked[id(i)])},
        )
        Through = Initiative.objectives.through
        Through.objects.bulk_create(
            (Through(initiative_id=i.pk, objective_id=o.pk) for i in new for o in linked[id(i)]),
            batch_size=BATCH_SIZE,
        )
        self.new_initiatives = {(i.department.code, i.name): i for i in new}

    def milestones(self) -> None:
        specs = self.blueprint.initiatives
        codes = {s.department for s in specs}
        existing = set(
            Milestone.objects.filter(initiative__department__code__in=codes).values_list(
                "initiative__department__code", "initiative__name", "name"
            )
        )
        missing = [(s, m) for s in specs for m in s.milestones if (*s.key, m.name) not in existing]
        initiatives = dict(self.new_initiatives)
        wanted = {s.key for s, _ in missing} - initiatives.keys()
        if wanted:  # milestones missing from initiatives that were already there
            for i in Initiative.objects.select_related("department", "owner").filter(
                department__code__in={code for code, _ in wanted},
                name__in={name for _, name in wanted},
            ):
                initiatives[(i.department.code, i.name)] = i
        new = [
            Milestone(
                initiative=initiatives[s.key], name=m.name, description=m.description,
                owner=self.people_by_username[m.owner], due_date=m.due_date,
                completed_date=m.completed_date, status=m.status,
            )
            for s, m in missing
        ]  # fmt: skip
        self._create(Milestone, new, actor=lambda m: m.initiative.owner)

    # Plan versions ----------------------------------------------------------------------------

    def plan_versions(self) -> None:
        """Seeded into an empty plan only: the seed never approves over a plan someone keeps."""
        if PlanVersion.objects.exists():
            self._report(PlanVersion, 0)
            return
        versions, approvals = [], []
        for spec in self.blueprint.plan_versions:
            version = PlanVersion(
                name=spec.name, description=spec.description,
                created_by=self.people_by_username[spec.created_by],
            )  # fmt: skip
            versions.append(version)
            if spec.approved_by:
                approvals.append((version, spec))
        # The history reads as it happened: created as a draft, then approved.
        drafts = {id(v): snapshot(v) for v in versions}
        for version, spec in approvals:
            version.status = PlanVersionStatus.APPROVED
            version.approved_by = self.people_by_username[spec.approved_by]
            version.approved_at = spec.approved_at
        PlanVersion.objects.bulk_create(versions)
        for version in versions:
            self.events.append(
                self._event(
                    version.created_by,
                    AuditAction.CREATE,
                    version,
                    {name: {"old": None, "new": v} for name, v in drafts[id(version)].items()},
                )
            )
        for version, _ in approvals:
            changes = diff(drafts[id(version)], snapshot(version))
            self.events.append(
                self._event(version.approved_by, AuditAction.APPROVE, version, changes)
            )
        self._report(PlanVersion, len(versions))

    # Plumbing ---------------------------------------------------------------------------------

    def _create(
        self,
        model: type[models.Model],
        objects: list[models.Model],
        *,
        actor,
        m2m=None,
        report: bool = True,
    ) -> None:
        """Insert `objects` in batches and queue one creation event each (actor per object)."""
        if objects:
            # Snapshot before inserting: related objects are in memory, so no query per row.
            values = [snapshot(obj) for obj in objects]
            model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
            for obj, before in zip(objects, values, strict=True):
                if m2m:
                    before.update(m2m(obj))
                changes = {name: {"old": None, "new": v} for name, v in before.items()}
                self.events.append(self._event(actor(obj), AuditAction.CREATE, obj, changes))
        if report:
            self._report(model, len(objects))

    @staticmethod
    def _event(actor: Person, action: str, instance: models.Model, changes: dict) -> AuditEvent:
        return AuditEvent(
            actor=actor,
            actor_name=(actor.get_full_name() or actor.get_username())[:150],
            action=action,
            subject_type=instance._meta.label_lower,
            subject_id=str(instance.pk),
            subject_name=str(instance)[:255],
            changes=changes,
            reason=REASON,
        )

    def flush_audit(self) -> int:
        AuditEvent.objects.bulk_create(self.events, batch_size=BATCH_SIZE)
        return len(self.events)

    def _report(self, model: type[models.Model], count: int) -> None:
        label = str(model._meta.verbose_name_plural)
        self.created[label] = count
        if self.stdout is not None:
            self.stdout.write(f"  {label}: {count:,} created\n")


# --- Helpers for callers ----------------------------------------------------------------------


def demo_size(profile: str = "demo", **overrides: Any) -> DemoSize:
    """A profile's size with some parameters replaced (None leaves the profile's value)."""
    base = PROFILES[profile]
    names = {f.name for f in fields(DemoSize)}
    unknown = set(overrides) - names
    if unknown:
        raise TypeError(f"Unknown demo size parameter(s): {', '.join(sorted(unknown))}")
    return DemoSize(
        **{name: overrides[name] if overrides.get(name) is not None else getattr(base, name)
           for name in names}
    )  # fmt: skip


def format_logins(logins: Iterable[DemoLogin], password: str) -> str:
    """The demo logins as an aligned text table, followed by the shared password."""
    header = DemoLogin("username", "name", "role", "departments")
    rows = [header, *logins]
    widths = [max(len(getattr(r, f.name)) for r in rows) for f in fields(DemoLogin)]
    lines = [
        "  ".join(
            getattr(r, f.name).ljust(w) for f, w in zip(fields(DemoLogin), widths, strict=True)
        ).rstrip()
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, "", f"Password for every demo login: {password}"])
