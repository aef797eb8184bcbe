"""The demo organisation's governance story: the decisions that answer the supply-chain trouble,
then the later sections of `SECTIONS` (contingency plans, alignment, review sessions: in
`decisions.demo_sections`, which builds on this module's specs).

Same two stages as `govern.demo`, `kpis.demo` and `dependencies.demo`:

* `decision_blueprint()` is pure: from the demo's `today` (and the date proposals are dated, the
  current date) it returns every decision as a spec, its links by natural key (department code,
  username, KPI code, exception as KPI code + kind, initiative department + name, objective title,
  contract code). Dates count from `today`; nothing is random.
* `seed()` runs after the KPI recompute and the contracts' health and ripple syncs, so the
  exceptions the decisions answer exist. It runs each section of `SECTIONS` in its own
  transaction; a section writes only what is missing (a decision is found by department and
  title), through the services with the people who would act: the decisions through
  `decision_log` / `decision_supersede` (hash chain, audit events, exception marked decided,
  notifications), then the nightly effectiveness review (`decision_review_effectiveness`) over
  the decisions whose review date has passed. A second run finds everything and writes nothing.

Decisions are backdated through `decided_on` (never later than `today`); the services stamp
`created_at` and the chain entries with the current time, as they would for a decision logged
late. A proposal is dated by the service on the current date, so its review date counts from
that date.

The story, newest first as the decision log shows it:

* Proposed, awaiting Procurement's lead: a spot buy of ductile-iron alloy to bring alloy stock
  cover (PROC-ALLOY-COVER, amber) back into its band, proposed by the buyer; it answers that
  exception and trades off part of the payment-terms objective.
* Decided today by the CEO, across departments: expedite a second source for the failing alloy
  supplier. It answers the red supplier on-time delivery exception (PROC-OTD, now "decided"),
  names the castings contract, takes EUR 85,000 from Sales' mid-market launch campaign (its
  marketing: the campaign is the trade-off) for Procurement's consolidation and Production's
  second-source trials, and expects supplier OTD back at 85% in six weeks.
* Logistics: dedicated express trucks for late German OEM lines (decided 40 days ago), superseded
  28 days later by a correction: priority groupage with the core carrier at a smaller budget.
* Customer Service: proactive notice of late castings lines (pending review).
* Production, months ago: Saturday shifts to recover throughput (PROD-THRU). Throughput did not
  move (the foundries were short of alloy, not of capacity): the review marks it ineffective and
  re-escalates the throughput exception it answered.
* Production, months ago: the degassing unit on moulding line 3, effective (scrap back to plan).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from decisions.choices import DecisionStatus, ExpectedEffectKind, ReallocationUnit
from decisions.demo_plans import seed_plan_versions
from decisions.models import Decision
from dependencies.models import Contract
from govern.models import AuditEvent, Department, Initiative, Objective, Person
from kpis.choices import ExceptionKind
from kpis.models import Kpi, KpiException

InitiativeKey = tuple[str, str]  # (department code, initiative name)


# --- Specs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    """One reallocation line: from an initiative or a department to another, an amount."""

    amount: str
    unit: str
    from_initiative: InitiativeKey | None = None
    from_department: str | None = None
    to_initiative: InitiativeKey | None = None
    to_department: str | None = None


@dataclass(frozen=True)
class EffectSpec:
    """What the decision promises of a KPI by its review date."""

    kpi: str  # KPI code
    kind: str
    value: float
    review_date: dt.date


@dataclass(frozen=True)
class DecisionSpec:
    title: str
    department: str  # code
    actor: str  # username: who logs it (decides it, or proposes it)
    context: str
    options: tuple[str, ...]
    chosen_option: str
    rationale: str
    kpis: tuple[str, ...]  # KPI codes: the outcomes it is meant to move
    decided_on: dt.date | None  # None: proposed, for someone with authority to decide
    exception: tuple[str, str] | None = None  # (KPI code, exception kind), unresolved
    initiative: InitiativeKey | None = None
    contract: str | None = None  # code
    objective: str | None = None  # title
    tradeoff_objective: str | None = None  # title
    tradeoff_initiative: InitiativeKey | None = None
    tradeoff_statement: str = ""
    effect: EffectSpec | None = None
    reallocations: tuple[LineSpec, ...] = ()
    supersedes: str | None = None  # the title of the decision it corrects (same department)

    @property
    def key(self) -> tuple[str, str]:
        return (self.department, self.title)

    @property
    def propose(self) -> bool:
        return self.decided_on is None


# --- The story (pure) -------------------------------------------------------------------------

_VALUE = ExpectedEffectKind.VALUE
_EUR = ReallocationUnit.CURRENCY

_CONSOLIDATION = ("PROC", "Casting-alloy supplier consolidation")
_SECOND_SOURCE = ("PROD", "Second-source qualification for ductile-iron grades")
_CAMPAIGN = ("SALES", "Mid-market launch campaign: trade fairs and co-marketing")
_SMED = ("PROD", "SMED changeover programme on the moulding lines")
_SLOTTING = ("LOG", "Slotting and cycle counting at the Telford DC")
_TENDER = ("LOG", "Outbound carrier tender for the EU core")
_ATP = ("CS", "Available-to-promise on every order line")
_OTIF = "On-time-in-full delivery ≥ 95%"
_TERMS = "Move the top 20 suppliers to 60-day payment terms"

_EXPRESS = "Dedicated express trucks for late German OEM order lines"


def decision_blueprint(*, today: dt.date, proposed_on: dt.date) -> tuple[DecisionSpec, ...]:
    """The story's decisions in the order they are logged (oldest first). `today` anchors the
    decided ones; `proposed_on` (the date the service gives a proposal) anchors the proposal's
    review date."""
    day = lambda offset: today + dt.timedelta(days=offset)  # noqa: E731
    return (
        DecisionSpec(
            "Rotary degassing unit on moulding line 3",
            "PROD", "prod.lead",
            "Scrap has run at about 5% against a plan under 4% since the winter, almost all of "
            "it gas porosity on the ductile-iron parts poured on moulding line 3. Every scrapped "
            "casting is melted, poured and fettled twice.",
            ("Tighten the manual degassing routine and retrain the melt-shop crews",
             "Lease a rotary degassing unit for line 3's ladles",
             "Move the porosity-prone part numbers to lines 1 and 2"),
            "Lease a rotary degassing unit for line 3's ladles (EUR 4,800 a month) and make the "
            "density-index test part of the pour release.",
            "The retraining of the spring did not hold, and lines 1 and 2 have no spare "
            "capacity. The supplier's trial at Ostrava cut porosity scrap by two thirds.",
            ("PROD-SCRAP", "PROD-THRU"),
            decided_on=day(-100),
            initiative=_SMED,
            effect=EffectSpec("PROD-SCRAP", _VALUE, 4.0, day(-42)),
        ),
        DecisionSpec(
            "Saturday shifts on the Sheffield moulding lines to recover throughput",
            "PROD", "prod.lead",
            "Good castings have slipped under plan for six weeks and the backlog of late order "
            "lines grows. The summer shutdown is ahead, and Logistics is booking express freight "
            "to keep the key accounts supplied.",
            ("Accept the backlog until the finite-capacity schedule goes live",
             "Add Saturday shifts on moulding lines 1–4 at Sheffield",
             "Subcontract machining of the high runners to free Telford capacity"),
            "Add Saturday shifts on moulding lines 1–4 at Sheffield until throughput is back on "
            "plan, about 2,400 overtime hours a month.",
            "Throughput is the constraint the customers feel; the moulding lines are the one "
            "lever Production controls directly.",
            ("PROD-THRU", "PROD-SCHED-ADH"),
            decided_on=day(-125),
            exception=("PROD-THRU", ExceptionKind.KPI_RED),
            tradeoff_initiative=_SMED,
            tradeoff_statement="The Saturdays were the SMED roll-out's workshop days: the "
            "roll-out to moulding lines 1, 3 and 4 slips by six weeks.",
            effect=EffectSpec("PROD-THRU", _VALUE, 41_500.0, day(-35)),
        ),
        DecisionSpec(
            _EXPRESS,
            "LOG", "log.lead",
            "Production's late castings reach the Telford DC after the planned trucks have left; "
            "the German pump OEMs on line-side supply are the first to stop.",
            ("Hold late lines for the next scheduled truck",
             "Book dedicated express trucks for late German OEM lines",
             "Air freight for the lines a customer's line-stop depends on"),
            "Book dedicated express trucks with Brandt Logistik for every German OEM order line "
            "that misses its planned truck, up to EUR 45,000 until the end of the quarter.",
            "A line-stop at a key account costs more than a quarter of express trucks; air "
            "freight is four times the price and only saves a day.",
            ("LOG-SHIP-ONTIME", "LOG-EXPEDITE"),
            decided_on=day(-40),
            initiative=_TENDER,
            effect=EffectSpec("LOG-SHIP-ONTIME", _VALUE, 95.0, day(20)),
            reallocations=(
                LineSpec("45000.00", _EUR, from_initiative=_SLOTTING, to_department="LOG"),
            ),
        ),
        DecisionSpec(
            "Proactive notice to customers of late castings order lines",
            "CS", "cs.lead",
            "On-time-in-full has started to slip with the castings shortage and complaints about "
            "lines that arrived late without warning are rising. The ATP initiative's automatic "
            "notice is not due for three months.",
            ("Wait for the automatic notice in the ATP roll-out",
             "Call the top 50 accounts about every late line, by hand, from now",
             "Offer a price discount on late lines"),
            "The order desk calls the top 50 accounts about every line Production confirms late, "
            "at least five working days before the promised date, with a new date agreed with "
            "the foundry planner.",
            "Customers forgive a late line they hear about in time; a discount costs margin and "
            "does not bring the castings sooner.",
            ("CS-OTIF", "CS-COMPLAINTS"),
            decided_on=day(-21),
            initiative=_ATP,
            effect=EffectSpec("CS-COMPLAINTS", _VALUE, 36.0, day(40)),
        ),
        DecisionSpec(
            "Priority groupage with the core carrier instead of dedicated express trucks",
            "LOG", "log.lead",
            "Since the dedicated express trucks started, expedite freight has risen from about "
            "EUR 20,500 to 22,500 a week while the trucks left Telford 40% empty on average: most "
            "late lines are one or two pallets.",
            ("Keep the dedicated express trucks",
             "Priority groupage on the core carrier's daily German lane",
             "Stop expediting and hold late lines for the planned trucks"),
            "Book late German OEM lines on Kestrel Freight's daily groupage with a priority slot "
            "(EUR 85 a pallet); a dedicated truck only for a line a customer's line-stop depends "
            "on, approved by the Head of Logistics. Budget EUR 28,000 until the end of the "
            "quarter.",
            "The groupage lane arrives the next day like the dedicated trucks, at about a third "
            "of the cost per pallet; the core carrier's contract already has the priority slot.",
            ("LOG-EXPEDITE", "LOG-SHIP-ONTIME"),
            decided_on=day(-12),
            initiative=_TENDER,
            effect=EffectSpec("LOG-EXPEDITE", _VALUE, 19_000.0, day(35)),
            reallocations=(
                LineSpec("28000.00", _EUR, from_initiative=_SLOTTING, to_department="LOG"),
            ),
            supersedes=_EXPRESS,
        ),
        DecisionSpec(
            "Expedite a second source for the failing casting-alloy supplier",
            "PROC", "ceo",
            "Supplier on-time delivery has fallen from 93% to about 76% over six months: the "
            "incumbent ductile-iron alloy supplier lost a furnace and cannot recover before "
            "spring. The castings contract with Production is breached, good castings are 15% "
            "under plan and Saturday shifts did not bring them back: the foundries are short of "
            "alloy, not of capacity. The award decisions of the consolidation are three weeks "
            "late.",
            ("Wait for the incumbent's new furnace (spring)",
             "Qualify Moravia Alloys, shortlisted in the RFQ, as a second source now, funded "
             "from Sales' mid-market launch campaign",
             "Buy on the spot market until the award decisions are signed"),
            "Qualify Moravia Alloys as the second source for the A-class ductile-iron grades "
            "now: supplier audit and first-article inspection by Procurement, trial melts at "
            "Sheffield by Production, with EUR 85,000 moved from Sales' mid-market launch "
            "campaign.",
            "A second source is in the consolidation plan anyway; doing it now is the only "
            "option that restores supply before spring. Spot buying costs 6% over contract and "
            "cannot cover 2,000 t a month. New distributors are no use if we cannot deliver "
            "the castings they sell.",
            ("PROC-OTD", "PROD-THRU"),
            decided_on=day(0),
            exception=("PROC-OTD", ExceptionKind.KPI_RED),
            initiative=_CONSOLIDATION,
            contract="PROC-PROD-CASTINGS",
            objective=_OTIF,
            tradeoff_initiative=_CAMPAIGN,
            tradeoff_statement="Sales gives up most of its mid-market launch campaign: the "
            "trade-fair stands in Hannover and Poznań and the co-marketing fund for the first "
            "distributors, EUR 85,000 of the campaign's EUR 110,000. The first ten "
            "distributor-sourced orders move out by a quarter, three or four fewer new "
            "mid-market accounts this year.",
            effect=EffectSpec("PROC-OTD", _VALUE, 85.0, day(42)),
            reallocations=(
                LineSpec("60000.00", _EUR, from_initiative=_CAMPAIGN,
                         to_initiative=_CONSOLIDATION),
                LineSpec("25000.00", _EUR, from_initiative=_CAMPAIGN,
                         to_initiative=_SECOND_SOURCE),
            ),
        ),
        DecisionSpec(
            "Spot-buy ductile-iron alloy to restore eight days of stock cover",
            "PROC", "proc.buyer",
            "Alloy stock cover is under seven days against a band of eight to fourteen: one more "
            "late delivery from the incumbent supplier stops a furnace at Sheffield.",
            ("Run the cover down and re-plan the melt week by week",
             "Spot-buy about 600 t of ductile-iron alloy from two traders",
             "Borrow alloy from Ostrava's stock"),
            "Spot-buy about 600 t of GJS-500 ductile-iron alloy from two traders for delivery "
            "within ten days.",
            "Ostrava runs on the same supplier and is short too; a stopped furnace costs more "
            "than the spot premium.",
            ("PROC-ALLOY-COVER",),
            decided_on=None,
            exception=("PROC-ALLOY-COVER", ExceptionKind.KPI_AMBER),
            tradeoff_objective=_TERMS,
            tradeoff_statement="The traders sell at about 6% over contract price on 30-day "
            "terms: roughly EUR 40,000 of this year's purchase-price savings, and a few days of "
            "average payment terms on this spend.",
            effect=EffectSpec(
                "PROC-ALLOY-COVER", _VALUE, 9.0, proposed_on + dt.timedelta(days=28)
            ),
        ),
    )  # fmt: skip


# --- Sections ---------------------------------------------------------------------------------


@dataclass
class DemoContext:
    """What every section gets: the demo's today, where to report, and the counts it reports."""

    today: dt.date
    stdout: TextIO | None
    created: dict[str, int] = field(default_factory=dict)

    def report(self, label: str, count: int) -> None:
        self.created[label] = self.created.get(label, 0) + count
        self.write(f"  {label}: {count:,} created")

    def note(self, message: str) -> None:
        self.write(f"  Note: {message}.")

    def write(self, line: str) -> None:
        if self.stdout is not None:
            self.stdout.write(f"{line}\n")


@dataclass(frozen=True)
class Section:
    """One part of the governance story, seeded in its own transaction after the recompute.
    `seed` creates what is missing (found by natural key) through the services."""

    name: str
    seed: Callable[[DemoContext], None]


@dataclass
class DemoSeedResult:
    created: dict[str, int]  # plural label → rows created, by the sections in order
    audited: int  # audit events the services wrote


def seed(*, today: dt.date, stdout: TextIO | None = None) -> DemoSeedResult:
    """Seed every section of the governance story as of `today` (see the module docstring).
    Runs after `kpi_demo_recompute` and `contract_demo_health`; idempotent."""
    context = DemoContext(today=today, stdout=stdout)
    events_before = AuditEvent.objects.count()
    for section in SECTIONS:
        with transaction.atomic():
            section.seed(context)
    return DemoSeedResult(
        created=context.created, audited=AuditEvent.objects.count() - events_before
    )


# --- The decisions ----------------------------------------------------------------------------


def seed_decisions(context: DemoContext) -> None:
    """Log the story's missing decisions, then run the effectiveness review if any was logged."""
    from decisions.services.effectiveness import decision_review_effectiveness

    specs = decision_blueprint(today=context.today, proposed_on=timezone.localdate())
    existing = _decisions([s.key for s in specs])
    missing = [s for s in specs if s.key not in existing]
    logged = 0
    if missing:
        links = _Links.for_specs(missing)
        for spec in missing:
            decision = _log(spec, links, existing, context)
            if decision is not None:
                existing[spec.key] = decision
                logged += 1
    context.report("decisions", logged)
    if logged:
        # The nightly review would have judged the decisions whose review date has passed.
        review = decision_review_effectiveness(today=context.today)
        context.write(
            f"  Decision review: {review.reviewed:,} reviewed ({review.effective:,} effective, "
            f"{review.ineffective:,} ineffective, {review.inconclusive:,} inconclusive), "
            f"{review.reescalated:,} of their exceptions re-escalated"
        )


def _decisions(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Decision]:
    query = Q(pk__in=[])
    for code, title in keys:
        query |= Q(department__code=code, title=title)
    return {
        (d.department.code, d.title): d
        for d in Decision.objects.select_related("department").filter(query).order_by("pk")
    }


def _log(
    spec: DecisionSpec,
    links: _Links,
    existing: dict[tuple[str, str], Decision],
    context: DemoContext,
) -> Decision | None:
    from decisions.services.log import decision_log, decision_supersede

    missing = links.missing(spec)
    if missing:
        context.note(f"“{spec.title}” skipped: {', '.join(missing)} missing")
        return None
    actor = links.people[spec.actor]
    data = links.data(spec)
    if spec.supersedes is None:
        return decision_log(actor=actor, data=data, propose=spec.propose)
    original = existing.get((spec.department, spec.supersedes))
    if original is None or original.status != DecisionStatus.DECIDED:
        context.note(f"“{spec.title}” skipped: “{spec.supersedes}” is not a decided decision")
        return None
    return decision_supersede(actor=actor, decision=original, data=data)


@dataclass
class _Links:
    """The rows the specs name, by natural key: a few queries whatever the number of specs."""

    people: dict[str, Person]
    departments: dict[str, Department]
    kpis: dict[str, Kpi]
    exceptions: dict[tuple[str, str], KpiException]
    initiatives: dict[InitiativeKey, Initiative]
    objectives: dict[str, Objective]
    contracts: dict[str, Contract]

    @classmethod
    def for_specs(cls, specs: Sequence[DecisionSpec]) -> _Links:
        lines = [line for s in specs for line in s.reallocations]
        codes = {s.department for s in specs} | {
            code for line in lines for code in (line.from_department, line.to_department) if code
        }
        kpi_codes = {code for s in specs for code in s.kpis} | {
            s.effect.kpi for s in specs if s.effect
        }
        initiative_keys = {key for s in specs for key in (s.initiative, s.tradeoff_initiative)}
        initiative_keys |= {
            key for line in lines for key in (line.from_initiative, line.to_initiative)
        }
        initiative_keys.discard(None)
        titles = {title for s in specs for title in (s.objective, s.tradeoff_objective) if title}
        wanted = {s.exception for s in specs if s.exception}
        exceptions = {}
        for exception in (
            KpiException.objects.open()
            .filter(kpi__code__in={code for code, _ in wanted}, kind__in={k for _, k in wanted})
            .select_related("kpi")
            .order_by("pk")
        ):
            key = (exception.kpi.code, exception.kind)
            if key in wanted:
                exceptions.setdefault(key, exception)
        initiatives = {}
        for initiative in Initiative.objects.select_related("department").filter(
            name__in={name for _, name in initiative_keys}
        ):
            key = (initiative.department.code, initiative.name)
            if key in initiative_keys:
                initiatives.setdefault(key, initiative)
        objectives = {}
        for objective in Objective.objects.filter(title__in=titles).order_by("pk"):
            objectives.setdefault(objective.title, objective)
        return cls(
            people=Person.objects.in_bulk({s.actor for s in specs}, field_name="username"),
            departments=Department.objects.in_bulk(codes, field_name="code"),
            kpis=Kpi.objects.in_bulk(kpi_codes, field_name="code"),
            exceptions=exceptions,
            initiatives=initiatives,
            objectives=objectives,
            contracts=Contract.objects.in_bulk(
                {s.contract for s in specs if s.contract}, field_name="code"
            ),
        )

    def missing(self, spec: DecisionSpec) -> list[str]:
        """What `spec` names that is not in the database, in words (empty: it can be logged)."""
        lines = spec.reallocations
        named = [
            (self.people, spec.actor, "person"),
            (self.departments, spec.department, "department"),
            *((self.kpis, code, "KPI") for code in spec.kpis),
            (self.kpis, spec.effect.kpi if spec.effect else None, "KPI"),
            (self.exceptions, spec.exception, "unresolved exception"),
            (self.initiatives, spec.initiative, "initiative"),
            (self.initiatives, spec.tradeoff_initiative, "initiative"),
            (self.objectives, spec.objective, "objective"),
            (self.objectives, spec.tradeoff_objective, "objective"),
            (self.contracts, spec.contract, "contract"),
            *((self.initiatives, line.from_initiative, "initiative") for line in lines),
            *((self.initiatives, line.to_initiative, "initiative") for line in lines),
            *((self.departments, line.from_department, "department") for line in lines),
            *((self.departments, line.to_department, "department") for line in lines),
        ]
        found = [
            f"{what} {' / '.join(key) if isinstance(key, tuple) else key}"
            for rows, key, what in named
            if key is not None and key not in rows
        ]
        return list(dict.fromkeys(found))

    def data(self, spec: DecisionSpec) -> dict[str, Any]:
        """What `decision_log` reads: every field, relations as instances."""
        pick = lambda rows, key: rows[key] if key is not None else None  # noqa: E731
        data: dict[str, Any] = {
            "title": spec.title, "context": spec.context,
            "options_considered": "\n".join(spec.options), "chosen_option": spec.chosen_option,
            "rationale": spec.rationale, "department": self.departments[spec.department],
            "kpis": [self.kpis[code] for code in spec.kpis],
            "exception": pick(self.exceptions, spec.exception),
            "initiative": pick(self.initiatives, spec.initiative),
            "contract": pick(self.contracts, spec.contract),
            "objective": pick(self.objectives, spec.objective),
            "tradeoff_objective": pick(self.objectives, spec.tradeoff_objective),
            "tradeoff_initiative": pick(self.initiatives, spec.tradeoff_initiative),
            "tradeoff_statement": spec.tradeoff_statement,
            "reallocations": [
                {
                    "from_initiative": pick(self.initiatives, line.from_initiative),
                    "from_department": pick(self.departments, line.from_department),
                    "to_initiative": pick(self.initiatives, line.to_initiative),
                    "to_department": pick(self.departments, line.to_department),
                    "amount": Decimal(line.amount), "unit": line.unit,
                }
                for line in spec.reallocations
            ],
        }  # fmt: skip
        if spec.effect is not None:
            data.update(
                expected_kpi=self.kpis[spec.effect.kpi], expected_kind=spec.effect.kind,
                expected_value=spec.effect.value, review_date=spec.effect.review_date,
            )  # fmt: skip
        if spec.decided_on is not None:
            data["decided_on"] = spec.decided_on
        return data


def _later(name: str) -> Callable[[DemoContext], None]:
    """A section seeded by `decisions.demo_sections` (which builds on this module's specs)."""

    def seed(context: DemoContext) -> None:
        from decisions import demo_sections

        getattr(demo_sections, name)(context)

    return seed


# The governance story's sections, in the order they are seeded (later ones may build on the
# decisions: review sessions that took them, contingency plans that proposed them, …).
SECTIONS: tuple[Section, ...] = (
    Section("decisions", seed_decisions),
    Section("contingency plans", _later("seed_contingency")),
    Section("alignment", _later("seed_alignment")),
    Section("review sessions", _later("seed_sessions")),
    Section("plan versions", seed_plan_versions),
)
