"""The demo organisation's KPIs: 33 hand-written ones whose 18 months of history tell the
supply-chain story, and, for benchmarks, any number of generated weekly KPIs with 52 periods each.

Same two stages as `govern.demo`:

* `kpi_blueprint()` is pure: from the organisation's blueprint, a number of generated KPIs and a
  seed it returns every KPI as a spec. `kpi_history()` is pure too: from the KPIs and the weeks and
  months the history ends at it returns every target, measurement and revision as DataFrames,
  vectorised with numpy for the generated KPIs. The hand-written story draws its noise from one
  `random.Random` with a fixed seed (the story reads the same whatever `--seed` is); the generated
  KPIs from `numpy.random.default_rng(seed)`.
* `kpi_demo_seed()` writes what is missing, inside the organisation's transaction: KPIs by code
  with one creation `AuditEvent` each (reason "Demo organisation"), then targets on
  (kpi, plan version, period) and measurements on (kpi, period) with `INSERT … ON CONFLICT DO
  NOTHING` in large batches (through `COPY` into a temporary table on PostgreSQL), so existing rows
  are never touched and a second run inserts nothing.

The story, seen from the last complete period before `today` (months count from the first period
of the 18-month history):

* Sales order intake (SALES-INTAKE) runs about 15% over plan throughout.
* Supplier on-time delivery (PROC-OTD) drifts down from month 12 and ends about 18% under plan,
  red; alloy stock cover (PROC-ALLOY-COVER) falls out of its band with it.
* Production throughput (PROD-THRU) falls from month 13, a few weeks later, into red; OEE and
  schedule adherence slip to amber. Scrap (PROD-SCRAP) was red from month 7 to 15 and has been
  back to green for the last seven weeks.
* Expedite freight (LOG-EXPEDITE, lower is better) climbs from month 12.5 to about +45%, red.
* Finance and Customer Service stay green; customer OTIF (CS-OTIF) starts to slip in the last
  weeks, still green but trending towards its tolerance (a forecast breach).
* Missing data: inventory accuracy (LOG-DC-ACCURACY) has no actuals for the last three weeks, and
  complaints (CS-COMPLAINTS) none for the month five months back.
* Two corrected values keep their first value as a `MeasurementRevision`.

The history is anchored once: a later run (`make run` seeds with the current date) reads the
first target period of the hand-written KPIs back and finds the same periods, so it adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import pandas as pd
from django.db import connection, models
from django.db.models import Min
from django.utils import timezone

from govern.audit import snapshot
from govern.choices import AuditAction, ObjectiveLevel, PlanVersionStatus, Role
from govern.models import AuditEvent, Department, Initiative, Objective, Person, PlanVersion
from kpis.choices import Direction, Frequency, MeasurementSource, ToleranceMode, Unit
from kpis.models import Kpi, Measurement, MeasurementRevision, Target
from kpis.periods import period_end, period_start, shift

if TYPE_CHECKING:
    from govern.demo import DemoBlueprint

REASON = "Demo organisation"
BATCH_SIZE = 1000
ROW_BATCH_SIZE = 50_000  # target and measurement rows per INSERT … ON CONFLICT batch
STORY_SEED = 2026  # the hand-written story reads the same whatever --seed is

HISTORY_WEEKS = 78  # 18 months of weekly actuals
HISTORY_MONTHS = 18
PLAN_AHEAD_WEEKS = 13  # targets beyond the history, so the forecast has a plan to meet
PLAN_AHEAD_MONTHS = 3
GENERATED_WEEKS = 52  # each generated KPI: 52 weekly targets and 52 actuals
# The generated KPIs' drift: most hold their plan; an adverse share drifts out from a random week
# (by 10–24%: red, or amber when the drift starts late), another share runs ahead of plan. At
# profile L this makes about 1,500 KPI exceptions, and about 2,000 with the contracts': the
# few that deserve attention, as the product describes profile L.
ADVERSE_SHARE = 0.08
ADVERSE_DRIFT = (0.10, 0.24)
AHEAD_SHARE = 0.15
AHEAD_DRIFT = (0.03, 0.08)
DAYS_PER_MONTH = 365.25 / 12
REPORTED_AFTER_DAYS = 2  # actuals are recorded two days after their period ends, at 07:30 UTC
CORRECTED_AFTER_DAYS = 9


# --- Specs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """How a KPI's plan runs and how its actuals move against it. Changes are relative to the
    plan in the KPI's own terms (−0.2 = 20% under plan, whatever the direction)."""

    plan: tuple[float, float]  # planned value at the first and the last target period
    bias: float = 0.0  # steady offset of the actuals (+0.15 = 15% over plan)
    noise: float = 0.01  # relative standard deviation of the actuals
    # (from month, to month, change): a ramp from no change to `change`, held afterwards.
    ramps: tuple[tuple[float, float, float], ...] = ()
    season: tuple[tuple[int, float], ...] = ()  # (calendar month, change) of plan and actuals
    missing: tuple[int, ...] = ()  # periods without an actual, counted back (1 = the last)
    # (period counted back, first value as a share of the corrected one): corrected later.
    revised: tuple[tuple[int, float], ...] = ()
    decimals: int = 1
    cap: float | None = None  # percentages stop at 100


@dataclass(frozen=True)
class KpiSpec:
    code: str
    name: str
    department: str
    owner: str
    unit: str
    direction: str
    frequency: str
    criticality: int
    description: str
    source: str = MeasurementSource.IMPORT
    tolerance_mode: str = ToleranceMode.PERCENT
    amber: float = 5.0
    red: float = 10.0
    band: tuple[float, float] | None = None
    objectives: tuple[tuple[str, str | None], ...] = ()  # objective keys (title, parent title)
    initiatives: tuple[tuple[str, str], ...] = ()  # initiative keys (department, name)
    story: Story | None = None  # None: a generated KPI, its history lives in the blueprint frame


@dataclass(frozen=True)
class KpiBlueprint:
    specs: tuple[KpiSpec, ...]  # the hand-written KPIs, then the generated ones
    # One row per generated KPI (same order as its specs): code, base, growth, bias, drift,
    # drift_start, noise, decimals, cap, direction, band_low, band_high, source, owner.
    generated: pd.DataFrame = field(default_factory=pd.DataFrame)
    seed: int = STORY_SEED  # of the generated KPIs' noise

    @property
    def demo_codes(self) -> list[str]:
        return [s.code for s in self.specs if s.story is not None]


# --- The hand-written KPIs --------------------------------------------------------------------

_W, _M = Frequency.WEEKLY, Frequency.MONTHLY
_UP, _DOWN, _BAND = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER, Direction.WITHIN_BAND
_ABS = ToleranceMode.ABSOLUTE
_API, _IMPORT = MeasurementSource.API, MeasurementSource.IMPORT

_SHARE = "Grow share in the mid-market"
_OTIF = "On-time-in-full delivery ≥ 95%"
_CASH = "Cut working capital by 15%"
_ACCOUNTS = "Win 40 new mid-market OEM accounts"
_QUOTES = "Answer 90% of quote requests within 48 hours"
_ADHERENCE = "Raise foundry schedule adherence to 92%"
_SUPPLIERS = "Consolidate casting-alloy suppliers from 14 to 6 partners"
_TRANSIT = "Cut outbound transit time to 3 days in the EU core"
_PROMISE = "Give a reliable delivery promise on every order line"
_INVENTORY = "Cut inventory from 78 to 62 days"
_TERMS = "Move the top 20 suppliers to 60-day payment terms"
_DSO = "Collect customer invoices in 45 days (DSO)"

_SALES_SEASON = ((8, -0.12), (12, -0.15))  # August holidays, December slowdown
_PLANT_SEASON = ((8, -0.25), (12, -0.18))  # summer shutdown, Christmas shutdown

# (code, name, department, owner, unit, direction, frequency, criticality, source, tolerance
#  (mode, amber, red), band, objectives, initiatives, description, story)
_DEMO_KPIS = (
    ("SALES-INTAKE", "Order intake", "SALES", "sales.analyst", Unit.CURRENCY, _UP, _W, 5, _API,
     (None, 5, 10), None, (_SHARE, _ACCOUNTS), ("Mid-market distributor programme",),
     "Value of customer orders booked in the week, in thousands of euros, from the CRM.",
     Story((2300, 2600), bias=0.15, noise=0.03, season=_SALES_SEASON, revised=((6, 0.9),),
           decimals=0)),
    ("SALES-NEW-ACCTS", "New mid-market accounts won", "SALES", "sales.lead", Unit.COUNT, _UP,
     _M, 4, _IMPORT, (_ABS, 1, 3), None, (_ACCOUNTS,),
     ("Mid-market distributor programme", "Key-account plans for the top 30 mid-market OEMs"),
     "New OEM accounts with at least EUR 150k annual potential that placed a first order.",
     Story((2, 5), bias=0.1, noise=0.1, decimals=0)),
    ("SALES-QUOTE-WIN", "Quote hit rate", "SALES", "sales.analyst", Unit.PERCENT, _UP, _M, 3,
     _IMPORT, (None, 5, 10), None, (_SHARE,), ("Key-account plans for the top 30 mid-market OEMs",),
     "Share of quoted value that turned into orders within 60 days.",
     Story((28, 33), bias=0.03, noise=0.02)),
    ("SALES-FCST-ACC", "Demand forecast accuracy", "SALES", "sales.analyst", Unit.PERCENT, _UP,
     _M, 3, _IMPORT, (None, 5, 10), None, (_PROMISE,), ("Monthly S&OP cadence",),
     "100% minus the weighted absolute error of the consensus forecast, by product family.",
     Story((72, 82), bias=0.01, noise=0.015, cap=100)),
    ("SALES-PRICE-REAL", "Price realisation", "SALES", "sales.lead", Unit.PERCENT, _UP, _M, 3,
     _IMPORT, (None, 5, 10), None, (_SHARE,), (), "Realised price as a share of list price, "
     "alloy surcharges included.", Story((93, 95), noise=0.008, cap=100)),
    ("PROC-OTD", "Supplier on-time delivery", "PROC", "proc.buyer", Unit.PERCENT, _UP, _W, 5,
     _IMPORT, (None, 5, 10), None, (_SUPPLIERS, _OTIF), ("Casting-alloy supplier consolidation",),
     "Share of purchase-order lines for alloys, sand and binders received on the confirmed day.",
     Story((90, 94), bias=0.01, noise=0.012, ramps=((12, 18, -0.2),), cap=100)),
    ("PROC-ALLOY-COVER", "Alloy stock cover", "PROC", "proc.buyer", Unit.DAYS, _BAND, _W, 4,
     _IMPORT, (_ABS, 1, 3), (8, 14), (_SUPPLIERS,), ("Casting-alloy supplier consolidation",),
     "Days of melt-plan consumption covered by aluminium and ductile-iron alloy on hand. Below "
     "eight days a furnace may stop; above fourteen ties up cash.",
     Story((11, 11), noise=0.03, ramps=((12, 18, -0.4),))),
    ("PROC-PAY-TERMS", "Average supplier payment terms", "PROC", "proc.lead", Unit.DAYS, _UP,
     _M, 3, _IMPORT, (None, 5, 10), None, (_TERMS, _CASH),
     ("Casting-alloy supplier consolidation",),
     "Spend-weighted average payment terms of the top 20 suppliers.",
     Story((38, 56), bias=0.01, noise=0.01)),
    ("PROC-SAVINGS", "Purchase price savings", "PROC", "proc.lead", Unit.CURRENCY, _UP, _M, 3,
     _IMPORT, (None, 5, 10), None, (_CASH,), ("Casting-alloy supplier consolidation",),
     "Savings against last year's prices for the same volumes, in thousands of euros.",
     Story((80, 140), bias=0.02, noise=0.015, decimals=0)),
    ("PROC-SUPPLIERS", "Active casting-alloy suppliers", "PROC", "proc.lead", Unit.COUNT, _DOWN,
     _M, 2, _IMPORT, (_ABS, 1, 2), None, (_SUPPLIERS,), ("Casting-alloy supplier consolidation",),
     "Suppliers that delivered casting alloys in the month.",
     Story((14, 8), noise=0.0, decimals=0)),
    ("PROD-THRU", "Good castings produced", "PROD", "prod.planner", Unit.UNITS, _UP, _W, 5,
     _IMPORT, (None, 5, 10), None, (_OTIF, _ADHERENCE),
     ("Finite-capacity scheduling in the foundries",),
     "Good castings through fettling in the week, Sheffield and Ostrava together.",
     Story((40000, 44000), noise=0.012, ramps=((13, 18, -0.16),), season=_PLANT_SEASON,
           decimals=0)),
    ("PROD-OEE", "OEE of the moulding lines", "PROD", "prod.lead", Unit.PERCENT, _UP, _W, 4,
     _API, (None, 5, 10), None, (_ADHERENCE,), ("SMED changeover programme on the moulding lines",),
     "Availability × performance × quality on moulding lines 1–4, from the line counters.",
     Story((68, 75), bias=0.01, noise=0.012, ramps=((13.5, 18, -0.075),), cap=100)),
    ("PROD-SCHED-ADH", "Foundry schedule adherence", "PROD", "prod.planner", Unit.PERCENT, _UP,
     _W, 4, _IMPORT, (None, 5, 10), None, (_ADHERENCE,),
     ("Finite-capacity scheduling in the foundries",),
     "Share of moulding orders finished in the planned week.",
     Story((84, 92), bias=0.01, noise=0.012, ramps=((13, 18, -0.09),), cap=100)),
    ("PROD-SCRAP", "Scrap rate", "PROD", "prod.lead", Unit.PERCENT, _DOWN, _W, 3, _API,
     (None, 10, 20), None, (_ADHERENCE,), ("SMED changeover programme on the moulding lines",),
     "Scrapped castings as a share of castings poured. A gas-porosity problem on line 3 ran for "
     "eight months until the degassing fix.",
     Story((4.5, 3.5), noise=0.03, ramps=((7, 8.5, 0.32), (15.6, 16.3, -0.32)), decimals=2)),
    ("PROD-CHANGEOVER", "Average changeover time", "PROD", "prod.planner", Unit.HOURS, _DOWN,
     _W, 3, _IMPORT, (None, 5, 10), None, (_ADHERENCE,),
     ("SMED changeover programme on the moulding lines",),
     "Average pattern and core-box changeover time on the moulding lines, first good mould to "
     "first good mould.", Story((1.6, 0.9), bias=-0.01, noise=0.015, decimals=2)),
    ("PROD-ENERGY", "Melting energy per good tonne", "PROD", "prod.lead", Unit.UNITS, _DOWN, _M,
     2, _IMPORT, (None, 5, 10), None, (_CASH,), (),
     "Kilowatt hours of melting energy per tonne of good castings.",
     Story((690, 640), noise=0.012, decimals=0)),
    ("LOG-EXPEDITE", "Expedite freight cost", "LOG", "log.lead", Unit.CURRENCY, _DOWN, _W, 4,
     _IMPORT, (None, 10, 25), None, (_OTIF,), ("Outbound carrier tender for the EU core",),
     "Premium freight and express deliveries booked to recover late orders, in euros.",
     Story((18000, 15000), noise=0.03, ramps=((12.5, 18, 0.5),), decimals=0)),
    ("LOG-TRANSIT", "Outbound transit time, EU core", "LOG", "log.lead", Unit.DAYS, _DOWN, _W, 3,
     _API, (_ABS, 0.3, 0.6), None, (_TRANSIT,), ("Outbound carrier tender for the EU core",),
     "Average days from dispatch to goods received in Germany, Benelux, Poland and Czechia.",
     Story((4.4, 3.1), noise=0.015, decimals=2)),
    ("LOG-DC-ACCURACY", "Inventory record accuracy", "LOG", "log.lead", Unit.PERCENT, _UP, _W, 3,
     _IMPORT, (None, 5, 10), None, (_INVENTORY,),
     ("Slotting and cycle counting at the Telford DC",),
     "Share of cycle-counted locations at the Telford DC whose system stock matches the shelf.",
     Story((94, 98.5), noise=0.006, missing=(1, 2, 3), cap=100)),
    ("LOG-SHIP-ONTIME", "Order lines shipped on the promised day", "LOG", "log.lead",
     Unit.PERCENT, _UP, _W, 4, _API, (None, 5, 10), None, (_OTIF,),
     ("Slotting and cycle counting at the Telford DC",),
     "Share of order lines leaving the Telford DC on the day promised to the customer.",
     Story((92, 96), bias=0.005, noise=0.008, ramps=((14, 18, -0.035),), cap=100)),
    ("LOG-FREIGHT-COST", "Outbound freight cost per tonne", "LOG", "log.lead", Unit.CURRENCY,
     _DOWN, _M, 3, _IMPORT, (None, 5, 10), None, (_TRANSIT,),
     ("Outbound carrier tender for the EU core",),
     "Outbound freight cost per tonne shipped, in euros.", Story((168, 150), noise=0.012,
                                                                 decimals=0)),
    ("FIN-DSO", "Days sales outstanding", "FIN", "fin.lead", Unit.DAYS, _DOWN, _M, 4, _IMPORT,
     (None, 5, 10), None, (_DSO, _CASH), ("Collections process redesign",),
     "Trade receivables divided by the last three months' sales, times 91 days.",
     Story((58, 47), bias=-0.01, noise=0.008, revised=((2, 1.06),))),
    ("FIN-INV-DAYS", "Inventory days", "FIN", "fin.lead", Unit.DAYS, _BAND, _M, 4, _IMPORT,
     (None, 5, 10), (55, 80), (_INVENTORY, _CASH),
     ("Working-capital reviews and cash-conversion dashboard",),
     "Raw material, work in progress and finished castings in days of cost of sales. Below 55 "
     "days the plants run short; above 80 the cash target is lost.",
     Story((76, 64), noise=0.01)),
    ("FIN-WC-SALES", "Working capital as a share of sales", "FIN", "cfo", Unit.PERCENT, _DOWN, _M,
     5, _IMPORT, (None, 5, 10), None, (_CASH,),
     ("Working-capital reviews and cash-conversion dashboard",),
     "Inventory plus receivables minus payables, as a share of annualised sales.",
     Story((24, 20.5), noise=0.008)),
    ("FIN-OVERDUE", "Overdue receivables", "FIN", "fin.lead", Unit.PERCENT, _DOWN, _M, 3,
     _IMPORT, (None, 10, 20), None, (_DSO,), ("Collections process redesign",),
     "Receivables past their due date as a share of the ledger.",
     Story((14, 9), bias=-0.02, noise=0.02)),
    ("FIN-CLOSE-DAYS", "Working days to close the month", "FIN", "fin.lead", Unit.DAYS, _DOWN, _M,
     2, _IMPORT, (_ABS, 1, 2), None, (_CASH,), (),
     "Working days from month end to the signed-off "
     "management accounts.", Story((7, 5), noise=0.0, decimals=0)),
    ("CS-OTIF", "On time in full to customers", "CS", "cs.lead", Unit.PERCENT, _UP, _W, 5, _API,
     (None, 5, 10), None, (_OTIF, _PROMISE), ("Available-to-promise on every order line",),
     "Share of order lines delivered complete on the date promised to the customer.",
     Story((83, 92), bias=0.01, noise=0.008, ramps=((15.5, 18, -0.05),), cap=100)),
    ("CS-QUOTE-48H", "Quotes answered within 48 hours", "CS", "cs.lead", Unit.PERCENT, _UP, _W,
     3, _IMPORT, (None, 5, 10), None, (_QUOTES,), ("Available-to-promise on every order line",),
     "Share of standard quote requests answered within two working days.",
     Story((60, 85), bias=0.02, noise=0.015, cap=100)),
    ("CS-RESPONSE-HRS", "First response time", "CS", "cs.lead", Unit.HOURS, _DOWN, _W, 2,
     _API, (None, 10, 20), None, (_PROMISE,), (), "Median working hours from a customer's "
     "e-mail to the first answer from the order desk.", Story((6, 4), noise=0.03, decimals=2)),
    ("CS-COMPLAINTS", "Customer complaints", "CS", "cs.lead", Unit.COUNT, _DOWN, _M, 3, _IMPORT,
     (None, 10, 20), None, (_PROMISE,), (), "Complaints logged in the month, all causes.",
     Story((46, 34), bias=-0.03, noise=0.03, missing=(5,), decimals=0)),
    ("PMO-MS-ON-TIME", "Milestones completed on time", "PMO", "pmo", Unit.PERCENT, _UP, _M, 3,
     _IMPORT, (None, 5, 10), None, (_OTIF, _SHARE, _CASH), ("Monthly S&OP cadence",),
     "Share of the transformation's milestones due in the month that were done by their date.",
     Story((75, 85), noise=0.015, cap=100)),
    ("PMO-BENEFITS", "Transformation benefits realised", "PMO", "pmo", Unit.CURRENCY, _UP, _M, 4,
     _IMPORT, (None, 5, 10), None, (_CASH,),
     ("Supply-chain diagnostic and transformation roadmap",),
     "Benefits signed off by Finance in the month, in thousands of euros.",
     Story((150, 420), bias=0.01, noise=0.015, decimals=0)),
    ("PMO-SOP-ATTEND", "S&OP decisions taken on time", "PMO", "pmo", Unit.PERCENT, _UP, _M, 2,
     _IMPORT, (None, 5, 10), None, (_PROMISE,), ("Monthly S&OP cadence",),
     "Share of S&OP decisions taken in the meeting they were due at.",
     Story((80, 90), bias=0.01, noise=0.015, cap=100)),
)  # fmt: skip


# --- The generated KPIs -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Metric:
    key: str  # code part, e.g. OEE → PROD-P07-OEE-01
    name: str
    unit: str
    direction: str
    base: tuple[float, float]  # range of the starting plan
    growth: float  # planned improvement over the year, in the direction's favour
    decimals: int
    description: str
    tolerance: tuple[str, float, float] = (ToleranceMode.PERCENT, 5.0, 10.0)


_P, _D, _H, _C, _U, _EUR = (
    Unit.PERCENT, Unit.DAYS, Unit.HOURS, Unit.COUNT, Unit.UNITS, Unit.CURRENCY,
)  # fmt: skip

_METRICS = {
    "PROD": (
        _Metric("OEE", "OEE", _P, _UP, (65, 82), 0.06, 1, "Availability × performance × quality."),
        _Metric("THRU", "Good castings produced", _U, _UP, (2000, 9000), 0.05, 0,
                "Good castings through fettling in the week."),
        _Metric("SCRAP", "Scrap rate", _P, _DOWN, (2.5, 6), 0.15, 2,
                "Scrapped castings as a share of castings poured.",
                (ToleranceMode.PERCENT, 10, 20)),
        _Metric("SCHED", "Schedule adherence", _P, _UP, (80, 92), 0.05, 1,
                "Orders finished in the planned week."),
        _Metric("CHG", "Average changeover time", _H, _DOWN, (0.8, 2.0), 0.2, 2,
                "Pattern and core-box changeover time."),
    ),
    "SALES": (
        _Metric("INTAKE", "Order intake", _EUR, _UP, (150, 900), 0.08, 0,
                "Orders booked in the week, in thousands of euros."),
        _Metric("QUOTES", "Quotes sent", _C, _UP, (20, 80), 0.1, 0, "Quotes sent in the week.",
                (ToleranceMode.PERCENT, 10, 20)),
        _Metric("HITRATE", "Quote hit rate", _P, _UP, (22, 38), 0.05, 1,
                "Quoted value that turned into orders."),
    ),
    "LOG": (
        _Metric("SHIP", "Order lines shipped on time", _P, _UP, (88, 96), 0.02, 1,
                "Order lines leaving on the promised day."),
        _Metric("TRANSIT", "Transit time", _D, _DOWN, (2.5, 5), 0.1, 2,
                "Days from dispatch to goods received.", (ToleranceMode.ABSOLUTE, 0.3, 0.6)),
        _Metric("EXPEDITE", "Expedite freight cost", _EUR, _DOWN, (2000, 12000), 0.1, 0,
                "Premium freight booked to recover late orders.", (ToleranceMode.PERCENT, 10, 25)),
        _Metric("ACCURACY", "Inventory record accuracy", _P, _UP, (92, 98), 0.01, 1,
                "Cycle-counted locations matching the system."),
    ),
    "PROC": (
        _Metric("OTD", "Supplier on-time delivery", _P, _UP, (85, 95), 0.03, 1,
                "Purchase-order lines received on the confirmed day."),
        _Metric("COVER", "Stock cover", _D, _BAND, (9, 13), 0.0, 1,
                "Days of consumption covered by stock on hand.", (ToleranceMode.ABSOLUTE, 1, 3)),
        _Metric("TERMS", "Average payment terms", _D, _UP, (35, 55), 0.1, 1,
                "Spend-weighted supplier payment terms."),
    ),
    "CS": (
        _Metric("OTIF", "On time in full", _P, _UP, (82, 94), 0.04, 1,
                "Order lines delivered complete on the promised date."),
        _Metric("QUOTE48", "Quotes answered within 48 hours", _P, _UP, (60, 90), 0.08, 1,
                "Standard quote requests answered within two working days."),
        _Metric("COMPLAINTS", "Customer complaints", _C, _DOWN, (5, 25), 0.15, 0,
                "Complaints logged in the week.", (ToleranceMode.PERCENT, 15, 30)),
    ),
    "FIN": (
        _Metric("OVERDUE", "Overdue receivables", _P, _DOWN, (6, 15), 0.2, 1,
                "Receivables past due as a share of the ledger."),
        _Metric("INVDAYS", "Inventory days", _D, _BAND, (55, 75), 0.0, 1,
                "Inventory in days of cost of sales."),
        _Metric("CASH", "Cash collected", _EUR, _UP, (300, 1500), 0.05, 0,
                "Customer receipts in the week, in thousands of euros."),
    ),
    "PMO": (
        _Metric("MILESTONES", "Milestones completed on time", _P, _UP, (70, 90), 0.05, 1,
                "Milestones due in the week done by their date."),
    ),
}  # fmt: skip


def kpi_blueprint(org: DemoBlueprint, *, kpis: int = 0, seed: int = STORY_SEED) -> KpiBlueprint:
    """Every KPI as a spec: the hand-written ones, then `kpis` generated ones spread evenly over
    the generated departments (over the seven named ones when there are none). Pure; no dates:
    codes and names depend on the organisation, `kpis` and the seed only."""
    objective_keys = {o.title: o.key for o in org.objectives}
    initiative_keys = {i.name: i.key for i in org.initiatives}
    specs = [
        KpiSpec(
            code=code, name=name, department=department, owner=owner, unit=unit,
            direction=direction, frequency=frequency, criticality=criticality, source=source,
            tolerance_mode=mode or ToleranceMode.PERCENT, amber=float(amber), red=float(red),
            band=band, objectives=tuple(objective_keys[t] for t in objectives),
            initiatives=tuple(initiative_keys[n] for n in initiatives), description=description,
            story=story,
        )
        for (code, name, department, owner, unit, direction, frequency, criticality, source,
             (mode, amber, red), band, objectives, initiatives, description, story) in _DEMO_KPIS
    ]  # fmt: skip
    if kpis <= 0:
        return KpiBlueprint(specs=tuple(specs), seed=seed)

    # Generated departments have dashed codes (PROD-P07); the seven named ones do not.
    departments = [d for d in org.departments if "-" in d.code] or list(org.departments)
    staff: dict[str, list[str]] = defaultdict(list)
    for person in org.people:
        for code, role in person.memberships:
            if role in (Role.DEPARTMENT_LEAD, Role.CONTRIBUTOR, Role.PMO):
                staff[code].append(person.username)
    aims: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for objective in org.objectives:
        if objective.level == ObjectiveLevel.ANNUAL:
            aims[objective.department].append(objective.key)

    rng = np.random.default_rng(seed)
    index = np.arange(kpis)
    department_of = index % len(departments)
    position = index // len(departments)  # the department's n-th generated KPI
    u_base, u_bias, u_drift, u_kind, u_start, u_noise, u_side = rng.random((7, kpis))

    rows, generated = [], []
    for i in range(kpis):
        department = departments[department_of[i]]
        metrics = _METRICS[department.code.split("-")[0]]
        metric = metrics[position[i] % len(metrics)]
        serial = position[i] // len(metrics) + 1
        people = staff[department.code]
        low, high = metric.base
        base = low + (high - low) * u_base[i]
        mode, amber, red = metric.tolerance
        band = (
            (round(base * 0.85, metric.decimals), round(base * 1.15, metric.decimals))
            if metric.direction == _BAND
            else None
        )
        code = f"{department.code}-{metric.key}-{serial:02d}"
        specs.append(
            KpiSpec(
                code=code, name=f"{metric.name}, {department.name} #{serial}",
                department=department.code, owner=people[position[i] % len(people)],
                unit=metric.unit, direction=metric.direction, frequency=Frequency.WEEKLY,
                criticality=1 + int(u_noise[i] * 5), description=metric.description,
                source=_API if u_side[i] < 0.5 else _IMPORT, tolerance_mode=mode,
                amber=float(amber), red=float(red), band=band,
                objectives=tuple(aims[department.code][:1]),
            )
        )  # fmt: skip
        # Most KPIs hold their plan; a few drift adverse from a random week (into red, or amber
        # when late), some run ahead of plan.
        drift = 0.0
        if u_kind[i] < ADVERSE_SHARE:
            drift = -(ADVERSE_DRIFT[0] + (ADVERSE_DRIFT[1] - ADVERSE_DRIFT[0]) * u_drift[i])
        elif u_kind[i] > 1 - AHEAD_SHARE:
            drift = AHEAD_DRIFT[0] + (AHEAD_DRIFT[1] - AHEAD_DRIFT[0]) * u_drift[i]
        rows.append(
            (code, base, metric.growth, (u_bias[i] - 0.5) * 0.03, drift, 20 + 28 * u_start[i],
             0.005 + 0.015 * u_noise[i], metric.decimals, 100.0 if metric.unit == _P else np.inf,
             metric.direction, band[0] if band else np.nan, band[1] if band else np.nan)
        )  # fmt: skip
        generated.append(code)
    frame = pd.DataFrame(
        rows,
        columns=[
            "code", "base", "growth", "bias", "drift", "drift_start", "noise", "decimals", "cap",
            "direction", "band_low", "band_high",
        ],
    )  # fmt: skip
    return KpiBlueprint(specs=tuple(specs), generated=frame, seed=seed)


# --- The history (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """Where the history ends: the current week's Monday and the current month's first day.
    The last complete periods, the last with actuals, are the ones just before."""

    week: dt.date
    month: dt.date

    @classmethod
    def from_today(cls, today: dt.date) -> Anchor:
        return cls(period_start(today, _W), period_start(today, _M))

    @classmethod
    def from_first_targets(cls, weekly: dt.date, monthly: dt.date) -> Anchor:
        return cls(shift(weekly, _W, HISTORY_WEEKS), shift(monthly, _M, HISTORY_MONTHS))

    def history(self, frequency: str) -> list[dt.date]:
        """The periods with actuals: 78 weeks or 18 months up to the last complete one."""
        end, count = (self.week, HISTORY_WEEKS) if frequency == _W else (self.month, HISTORY_MONTHS)
        return [shift(end, frequency, -n) for n in range(count, 0, -1)]

    def plan(self, frequency: str) -> list[dt.date]:
        """The periods with targets: the history, the current period and a quarter ahead."""
        end, ahead = (self.week, PLAN_AHEAD_WEEKS) if frequency == _W else (
            self.month, PLAN_AHEAD_MONTHS
        )  # fmt: skip
        return [*self.history(frequency), *(shift(end, frequency, n) for n in range(ahead))]


@dataclass(frozen=True)
class History:
    targets: pd.DataFrame  # code, period, value
    measurements: pd.DataFrame  # code, period, value, source, recorded_at, revision
    revisions: pd.DataFrame  # code, period, value, source, recorded_at, superseded_at


def _recorded(period: dt.date, frequency: str, days: int, today: dt.date) -> dt.datetime:
    day = min(period_end(period, frequency) + dt.timedelta(days=days), today)
    return dt.datetime.combine(day, dt.time(7, 30), tzinfo=dt.UTC)


def kpi_history(blueprint: KpiBlueprint, anchor: Anchor, *, today: dt.date) -> History:
    """Every target, actual and corrected first value of the blueprint's KPIs. Pure."""
    rng = random.Random(STORY_SEED)
    targets: list[tuple] = []
    actuals: list[tuple] = []
    revisions: list[tuple] = []
    for spec in blueprint.specs:
        story = spec.story
        if story is None:
            continue
        planned, history = anchor.plan(spec.frequency), anchor.history(spec.frequency)
        first = planned[0]
        steps = len(planned) - 1
        missing = {history[-n] for n in story.missing}
        revised = {history[-n]: share for n, share in story.revised}
        for step, period in enumerate(planned):
            season = dict(story.season).get(period.month, 0.0)
            level = story.plan[0] + (story.plan[1] - story.plan[0]) * step / steps
            plan = _rounded(level * (1 + season), story)
            targets.append((spec.code, period, plan))
            if period not in history:
                continue
            noise = rng.gauss(0.0, 1.0) * story.noise  # drawn for every period: same sequence
            if period in missing:
                continue
            month = (period - first).days / DAYS_PER_MONTH
            change = (
                story.bias
                + noise
                + sum(
                    delta * min(1.0, max(0.0, (month - start) / (end - start)))
                    for start, end, delta in story.ramps
                )
            )
            value = _rounded(level * (1 + season) * (1 + change), story)
            recorded = _recorded(period, spec.frequency, REPORTED_AFTER_DAYS, today)
            if period in revised:
                corrected = _recorded(period, spec.frequency, CORRECTED_AFTER_DAYS, today)
                first_value = _rounded(value * revised[period], story)
                revisions.append((spec.code, period, first_value, spec.source, recorded, corrected))
                actuals.append((spec.code, period, value, _API, corrected, 2))
            else:
                actuals.append((spec.code, period, value, spec.source, recorded, 1))

    generated_targets, generated_actuals = _generated_history(blueprint, anchor, today=today)
    target_columns = ["code", "period", "value"]
    actual_columns = ["code", "period", "value", "source", "recorded_at", "revision"]
    return History(
        targets=_concat(pd.DataFrame(targets, columns=target_columns), generated_targets),
        measurements=_concat(pd.DataFrame(actuals, columns=actual_columns), generated_actuals),
        revisions=pd.DataFrame(
            revisions,
            columns=["code", "period", "value", "source", "recorded_at", "superseded_at"],
        ),
    )


def _concat(demo: pd.DataFrame, generated: pd.DataFrame | None) -> pd.DataFrame:
    if generated is None:
        return demo
    return pd.concat([demo, generated], ignore_index=True)


def _rounded(value: float, story: Story) -> float:
    if story.cap is not None:
        value = min(value, story.cap)
    return round(value, story.decimals) if story.decimals else float(round(value))


def _generated_history(
    blueprint: KpiBlueprint, anchor: Anchor, *, today: dt.date
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """52 weekly targets and actuals for each generated KPI, as arrays: no loop per value."""
    frame = blueprint.generated
    periods = [shift(anchor.week, _W, -n) for n in range(GENERATED_WEEKS, 0, -1)]
    if frame.empty:
        return None, None
    rng = np.random.default_rng([blueprint.seed, len(frame)])
    n, weeks = len(frame), len(periods)
    t = np.arange(weeks) / (weeks - 1)  # 0 → 1 over the year
    sign = np.where(frame["direction"].to_numpy() == _DOWN, -1.0, 1.0)[:, None]
    # The plan improves steadily in the KPI's favour; band KPIs aim at the middle of the band.
    plan = frame["base"].to_numpy()[:, None] * (1 + sign * frame["growth"].to_numpy()[:, None] * t)
    ramp = np.clip(
        (np.arange(weeks)[None, :] - frame["drift_start"].to_numpy()[:, None]) / 6.0, 0.0, 1.0
    )
    # A drift is adverse in the KPI's own terms: down for higher-is-better, up for lower.
    change = (
        frame["bias"].to_numpy()[:, None]
        + sign * frame["drift"].to_numpy()[:, None] * ramp
        + rng.standard_normal((n, weeks)) * frame["noise"].to_numpy()[:, None]
    )
    actual = np.minimum(plan * (1 + change), frame["cap"].to_numpy()[:, None])
    plan = np.minimum(plan, frame["cap"].to_numpy()[:, None])
    scale = 10.0 ** frame["decimals"].to_numpy()[:, None]
    plan, actual = np.round(plan * scale) / scale, np.round(actual * scale) / scale

    codes = pd.Categorical(np.repeat(frame["code"].to_numpy(), weeks), categories=frame["code"])
    period_column = np.tile(np.array(periods, dtype=object), n)
    recorded = np.tile(
        np.array([_recorded(p, _W, REPORTED_AFTER_DAYS, today) for p in periods], dtype=object), n
    )
    sources = np.repeat(np.array([s.source for s in blueprint.specs[-n:]], dtype=object), weeks)
    targets = pd.DataFrame({"code": codes, "period": period_column, "value": plan.ravel()})
    measurements = pd.DataFrame(
        {
            "code": codes, "period": period_column, "value": actual.ravel(), "source": sources,
            "recorded_at": recorded, "revision": np.ones(n * weeks, dtype=np.int64),
        }
    )  # fmt: skip
    return targets, measurements


# --- Writing it -------------------------------------------------------------------------------


@dataclass
class KpiSeedResult:
    created: dict[str, int]  # plural label → rows created
    events: list[AuditEvent]  # creation events for the new KPIs, for the caller to write


def kpi_demo_seed(
    *,
    org: DemoBlueprint,
    kpis: int,
    today: dt.date,
    seed: int,
    stdout: TextIO | None = None,
) -> KpiSeedResult:
    """Create what is missing of the demo KPIs and their history. Runs inside the caller's
    transaction, after the organisation (people, departments, objectives, initiatives, plan
    versions) is written; returns the creation events for the caller to write with its own."""
    blueprint = kpi_blueprint(org, kpis=kpis, seed=seed)
    writer = _KpiWriter(blueprint, stdout)
    writer.kpis()
    writer.history(today)
    return KpiSeedResult(created=writer.created, events=writer.events)


class _KpiWriter:
    def __init__(self, blueprint: KpiBlueprint, stdout: TextIO | None) -> None:
        self.blueprint = blueprint
        self.stdout = stdout
        self.created: dict[str, int] = {}
        self.events: list[AuditEvent] = []
        self.ids: dict[str, int] = {}
        self.owner_ids: dict[str, int] = {}
        self.existing: list[int] = []
        self.new: set[int] = set()

    def kpis(self) -> None:
        specs = self.blueprint.specs
        existing = Kpi.objects.in_bulk([s.code for s in specs], field_name="code")
        missing = [s for s in specs if s.code not in existing]
        people = Person.objects.in_bulk({"pmo", *(s.owner for s in missing)}, field_name="username")
        departments = Department.objects.in_bulk({s.department for s in missing}, field_name="code")
        objectives = self._objectives({key for s in missing for key in s.objectives})
        initiatives = self._initiatives({key for s in missing for key in s.initiatives})
        new = [
            Kpi(
                code=s.code, name=s.name, description=s.description,
                department=departments[s.department], owner=people[s.owner], unit=s.unit,
                direction=s.direction, frequency=s.frequency, criticality=s.criticality,
                tolerance_mode=s.tolerance_mode, amber_threshold=s.amber, red_threshold=s.red,
                band_low=s.band[0] if s.band else None, band_high=s.band[1] if s.band else None,
            )
            for s in missing
        ]  # fmt: skip
        values = [snapshot(kpi) for kpi in new]  # before inserting: no query per row
        Kpi.objects.bulk_create(new, batch_size=BATCH_SIZE)
        linked_objectives = Kpi.objectives.through
        linked_initiatives = Kpi.initiatives.through
        objective_links, initiative_links = [], []
        pmo = people["pmo"]
        for spec, kpi, before in zip(missing, new, values, strict=True):
            mine = [objectives[key] for key in spec.objectives if key in objectives]
            ours = [initiatives[key] for key in spec.initiatives if key in initiatives]
            objective_links += [linked_objectives(kpi_id=kpi.pk, objective_id=o.pk) for o in mine]
            initiative_links += [
                linked_initiatives(kpi_id=kpi.pk, initiative_id=i.pk) for i in ours
            ]
            before.update(
                objectives=sorted(str(o) for o in mine), initiatives=sorted(str(i) for i in ours)
            )
            changes = {name: {"old": None, "new": v} for name, v in before.items()}
            self.events.append(_creation_event(pmo, kpi, changes))
        linked_objectives.objects.bulk_create(objective_links, batch_size=BATCH_SIZE)
        linked_initiatives.objects.bulk_create(initiative_links, batch_size=BATCH_SIZE)
        self.ids = {
            **{code: kpi.pk for code, kpi in existing.items()},
            **{kpi.code: kpi.pk for kpi in new},
        }
        self.owner_ids = {
            **{code: kpi.owner_id for code, kpi in existing.items()},
            **{kpi.code: kpi.owner_id for kpi in new},
        }
        self.existing = [kpi.pk for kpi in existing.values()]
        self.new = {kpi.pk for kpi in new}
        self._report(Kpi, len(new))

    def history(self, today: dt.date) -> None:
        version = PlanVersion.objects.filter(status=PlanVersionStatus.APPROVED).first()
        anchor = self._anchor(version, today)
        history = kpi_history(self.blueprint, anchor, today=today)
        now = timezone.now()
        if version is None:
            self._note("no approved plan version, so no targets were seeded")
            self._report(Target, 0)
        else:
            targets = history.targets
            targets = pd.DataFrame(
                {
                    "kpi_id": self._kpi_ids(targets["code"]), "plan_version_id": version.pk,
                    "period": targets["period"], "value": targets["value"], "updated_at": now,
                    "updated_by_id": self._owner_ids(targets["code"]),
                }
            )  # fmt: skip
            self._report(Target, _insert_missing(Target, targets, new_kpis=self.new))

        measurements = history.measurements
        revised = history.revisions
        revised_keys = list(
            zip(self._kpi_ids(revised["code"]).tolist(), revised["period"], strict=True)
        )
        already = self._measurement_keys(revised_keys)
        measurements = pd.DataFrame(
            {
                "kpi_id": self._kpi_ids(measurements["code"]), "period": measurements["period"],
                "value": measurements["value"], "source": measurements["source"],
                "entered_by_id": self._owner_ids(measurements["code"]), "note": "",
                "recorded_at": measurements["recorded_at"], "revision": measurements["revision"],
            }
        )  # fmt: skip
        inserted = _insert_missing(Measurement, measurements, new_kpis=self.new)
        self._report(Measurement, inserted)
        self._revisions(revised, revised_keys, already)
        if inserted and self.existing:
            # Rows added to KPIs that were already there: the reconciliation job will see them.
            for start in range(0, len(self.existing), BATCH_SIZE):
                Kpi.objects.filter(pk__in=self.existing[start : start + BATCH_SIZE]).update(
                    inputs_changed_at=now
                )

    def _anchor(self, version: PlanVersion | None, today: dt.date) -> Anchor:
        """Where the first run put the history, read back from its first targets; else today."""
        if version is not None:
            first = dict(
                Target.objects.filter(plan_version=version, kpi__code__in=self.blueprint.demo_codes)
                .values_list("kpi__frequency")
                .annotate(first=Min("period"))
                .order_by()
            )
            if _W in first and _M in first:
                return Anchor.from_first_targets(first[_W], first[_M])
        return Anchor.from_today(today)

    def _revisions(
        self,
        revised: pd.DataFrame,
        keys: list[tuple[int, dt.date]],
        already: set[tuple[int, dt.date]],
    ) -> None:
        """The first values of corrected measurements this run inserted (never of rows someone
        else entered)."""
        new_keys = [key for key in keys if key not in already]
        ids = self._measurement_keys(new_keys, ids=True) if new_keys else {}
        rows = [
            MeasurementRevision(
                measurement_id=ids[key], revision=1, value=row.value, source=row.source,
                entered_by_id=self.owner_ids[row.code], recorded_at=row.recorded_at,
                superseded_at=row.superseded_at, superseded_by_id=self.owner_ids[row.code],
                note="Partial export; corrected with the complete figure.",
            )
            for key, row in zip(keys, revised.itertuples(), strict=True)
            if key in ids
        ]  # fmt: skip
        MeasurementRevision.objects.bulk_create(rows)
        self._report(MeasurementRevision, len(rows))

    @staticmethod
    def _measurement_keys(keys: list[tuple[int, dt.date]], *, ids: bool = False) -> Any:
        if not keys:
            return set()
        condition = models.Q()
        for kpi_id, period in keys:
            condition |= models.Q(kpi_id=kpi_id, period=period)
        rows = Measurement.objects.filter(condition).values_list("kpi_id", "period", "pk")
        if ids:
            return {(kpi_id, period): pk for kpi_id, period, pk in rows}
        return {(kpi_id, period) for kpi_id, period, _ in rows}

    def _kpi_ids(self, codes: pd.Series) -> np.ndarray:
        return _lookup(codes, self.ids)

    def _owner_ids(self, codes: pd.Series) -> np.ndarray:
        return _lookup(codes, self.owner_ids)

    @staticmethod
    def _objectives(keys: set[tuple[str, str | None]]) -> dict[tuple[str, str | None], Objective]:
        found = Objective.objects.select_related("parent").filter(
            title__in={title for title, _ in keys}
        )
        by_key = {(o.title, o.parent.title if o.parent else None): o for o in found}
        return {key: by_key[key] for key in keys if key in by_key}

    @staticmethod
    def _initiatives(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Initiative]:
        found = Initiative.objects.select_related("department").filter(
            name__in={name for _, name in keys}
        )
        by_key = {(i.department.code, i.name): i for i in found}
        return {key: by_key[key] for key in keys if key in by_key}

    def _report(self, model: type[models.Model], count: int) -> None:
        label = str(model._meta.verbose_name_plural)
        self.created[label] = count
        if self.stdout is not None:
            self.stdout.write(f"  {label}: {count:,} created\n")

    def _note(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(f"  Note: {message}.\n")


def _lookup(codes: pd.Series, mapping: dict[str, int]) -> np.ndarray:
    """Map a column of KPI codes to ids through its categories: one dict lookup per KPI."""
    categorical = pd.Categorical(codes)
    table = np.array([mapping[c] for c in categorical.categories], dtype=np.int64)
    return table[categorical.codes]


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


# --- Inserting rows that are missing, in large batches ----------------------------------------


def _insert_missing(model: type[models.Model], frame: pd.DataFrame, *, new_kpis: set[int]) -> int:
    """Insert the rows of `frame` (columns named as the table's) whose natural key is not taken
    yet; rows already present are left as they are. Returns the number of rows inserted.

    Rows of KPIs created in this run cannot clash with anything and go straight in (`COPY` on
    PostgreSQL); the others go through `INSERT … ON CONFLICT DO NOTHING`."""
    if frame.empty:
        return 0
    frame = _as_text(frame)
    fresh = frame["kpi_id"].isin(new_kpis).to_numpy()
    return _insert(model, frame[fresh], conflicts=False) + _insert(
        model, frame[~fresh], conflicts=True
    )


def _insert(model: type[models.Model], frame: pd.DataFrame, *, conflicts: bool) -> int:
    if frame.empty:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    if connection.vendor == "postgresql":
        return _copy(table, columns, frame, conflicts=conflicts)
    # Elsewhere (SQLite): executemany of one prepared INSERT.
    placeholders = ", ".join(["%s"] * len(frame.columns))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(frame), ROW_BATCH_SIZE):
            chunk = frame.iloc[start : start + ROW_BATCH_SIZE]
            values = [chunk[name].tolist() for name in chunk.columns]  # Python, not numpy
            cursor.executemany(sql, list(zip(*values, strict=True)))
            inserted += cursor.rowcount
    return inserted


def _copy(table: str, columns: str, frame: pd.DataFrame, *, conflicts: bool) -> int:
    """PostgreSQL: COPY the rows in; where they may clash, COPY them into a temporary table and
    move them with one INSERT … SELECT … ON CONFLICT DO NOTHING."""
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    buffer.seek(0)
    # Empty text is text, not NULL (a note is blank, never null).
    text = [c for c in frame.columns if c == "note"]
    options = f"FORMAT csv, FORCE_NOT_NULL ({', '.join(text)})" if text else "FORMAT csv"
    staging = connection.ops.quote_name(f"demo_seed_{table.strip(chr(34))}")
    with connection.cursor() as cursor:
        if not conflicts:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH ({options})", buffer)
            return len(frame)
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.copy_expert(f"COPY {staging} ({columns}) FROM STDIN WITH ({options})", buffer)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} "
            "ON CONFLICT DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {staging}")
    return inserted


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and times as the database stores them, formatted once per distinct value (a
    million rows hold 52 periods): ISO dates; times as naive UTC on SQLite (as Django stores
    them there), with their offset elsewhere."""
    naive = connection.vendor == "sqlite"

    def moment(value: dt.datetime) -> str:
        utc = pd.Timestamp(value).tz_convert(dt.UTC)
        return utc.strftime("%Y-%m-%d %H:%M:%S" if naive else "%Y-%m-%d %H:%M:%S+00:00")

    formats = {"period": lambda d: d.isoformat(), "recorded_at": moment, "updated_at": moment}
    return frame.assign(
        **{
            name: frame[name].map({v: function(v) for v in pd.unique(frame[name])})
            for name, function in formats.items()
            if name in frame.columns
        }
    )


# --- After seeding ----------------------------------------------------------------------------


def kpi_demo_recompute(*, today: dt.date, stdout: TextIO | None = None) -> dict:
    """Compute results and exceptions for every active KPI, and the overdue-milestone
    exceptions, as of `today`: what the nightly sweep does."""
    from kpis.services.recompute import kpi_sweep

    report = kpi_sweep(today=today).as_dict()
    if stdout is not None:
        stdout.write(
            f"  KPI results: {report['kpis']:,} KPIs recomputed in {report['seconds']:.1f} s, "
            f"{report['results_written']:,} results written, "
            f"{report['exceptions_opened'] + report['milestone_exceptions_opened']:,} "
            f"exceptions opened, "
            f"{report['exceptions_resolved'] + report['milestone_exceptions_resolved']:,} "
            "resolved\n"
        )
    return report
