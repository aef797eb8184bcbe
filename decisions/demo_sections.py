"""The governance story's further sections (`decisions.demo.SECTIONS`): the contingency plans, the
alignment assessments and the review sessions. Same two stages as `decisions.demo`:

* the blueprints (`contingency_blueprint()`, `alignment_blueprint(today=…)`,
  `session_blueprint(today=…)`) are pure: specs naming their links by natural key, dates counted
  from the demo's `today`, nothing random;
* the `seed_*` functions run after the decisions, each in its own transaction, and write only
  what is missing, through the services wherever the services can write it.

**Contingency plans** (`seed_contingency`), through `contingency_plan_create` /
`contingency_plan_disable` by the lead who owns the KPI, found by KPI and name: Procurement's plan
on supplier on-time delivery (PROC-OTD, ≥ 15% below plan for 3 consecutive weeks), armed; Customer
Service's plan on the forecast of on-time-in-full (CS-OTIF), armed and not triggered; Logistics'
plan of dedicated express trucks on LOG-SHIP-ONTIME, disabled since the groupage decision replaced
them. Then `contingency_check` on the armed plans' KPIs, as the recompute's receiver would call
it: the supplier OTD plan fires at the last complete week (the third in a row ≥ 15% below plan),
proposes its decision through `decision_log(propose=True)` linked to the PROC-OTD exception
(which the CEO's decision has already answered: the proposal is the pre-agreed bridge, awaiting
Procurement's lead), marks the plan triggered and notifies its owner. A second run finds the plans
and the check fires nothing (once per run of adverse weeks).

**Alignment** (`seed_alignment`): two quarters (the last completed one and the one before) for
the six department leads, through `assessments_bulk_record` by the PMO, so the audit events and
the alignment exception follow the real path: Procurement's lead falls from 4.00 to 2.67 (low
and falling), which raises her alignment exception for the PMO. A leader who has any assessment
already is left alone.

**Review sessions** (`seed_sessions`), seeded into an empty calendar only (like the plan
versions: the seed never adds meetings to a calendar someone keeps): two past sessions, written
directly because the session service plans sessions for today or later — a monthly business
review on the day the express trucks were decided and a weekly operations review on the day the
groupage correction was decided, each closed with its minutes: items decided by the story's
decisions (`outcome_decision`), deferred to an owner and a date, noted — with the audit events
the services would have written (created, agenda generated, started, each item's outcome,
closed). Their dates and times are the meeting's; the audit events carry the time of seeding, as
for decisions logged late. Then the upcoming weekly operations review, two days ahead, planned
through `session_create` by the PMO, so its agenda is the one the service generates from what is
open now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from decisions.choices import AgendaItemKind, AgendaOutcome, SessionCadence, SessionStatus
from decisions.demo import DemoContext, InitiativeKey, LineSpec
from decisions.engine.alignment import quarter_start
from decisions.models import (
    AgendaItem,
    AlignmentAssessment,
    ContingencyPlan,
    Decision,
    ReviewSession,
)
from decisions.services.sessions import agenda_summary
from dependencies.choices import ContractStatus
from dependencies.models import Contract
from govern.audit import _actor_name, snapshot
from govern.choices import AuditAction
from govern.errors import ApplicationError
from govern.models import AuditEvent, Department, Initiative, Person
from kpis.choices import ExceptionKind, ExceptionStatus
from kpis.models import Kpi, KpiException

_CONSOLIDATION = ("PROC", "Casting-alloy supplier consolidation")
_VMI = ("PROC", "Vendor-managed inventory for sand and binders")
_SLOTTING = ("LOG", "Slotting and cycle counting at the Telford DC")

_DEGASSING = ("PROD", "Rotary degassing unit on moulding line 3")
_SATURDAYS = ("PROD", "Saturday shifts on the Sheffield moulding lines to recover throughput")
_EXPRESS = ("LOG", "Dedicated express trucks for late German OEM order lines")
_GROUPAGE = ("LOG", "Priority groupage with the core carrier instead of dedicated express trucks")


# --- Contingency plans ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSpec:
    kpi: str  # KPI code
    name: str
    actor: str  # username: who defines it (a lead of the KPI's department)
    owner: str  # username
    basis: str
    threshold_pct: float
    periods: int
    response: str
    reallocations: tuple[LineSpec, ...] = ()
    disabled_reason: str = ""  # disabled by `actor` with this reason

    @property
    def key(self) -> tuple[str, str]:
        return (self.kpi, self.name.lower())


SUPPLIER_OTD_PLAN = "Spot buys and second source when supplier OTD collapses"


def contingency_blueprint() -> tuple[PlanSpec, ...]:
    """The demo's contingency plans, in the order they are defined."""
    return (
        PlanSpec(
            "PROC-OTD", SUPPLIER_OTD_PLAN, "proc.lead", "proc.lead", "actual", 15.0, 3,
            "Activate the spot-buy frame agreements with the two alloy traders for the A-class "
            "ductile-iron grades (up to 600 t a month), expedite the qualification of the "
            "second source shortlisted in the RFQ, and put the incumbent supplier on daily "
            "delivery calls until supplier OTD is back within 15% of plan.",
            reallocations=(
                LineSpec("40000.00", "currency", from_initiative=_VMI,
                         to_initiative=_CONSOLIDATION),
            ),
        ),
        PlanSpec(
            "CS-OTIF", "Daily allocation of constrained castings when OTIF is forecast to slip",
            "cs.lead", "cs.lead", "forecast", 8.0, 2,
            "Switch the order desk to daily allocation of constrained castings: the top 50 "
            "accounts first, every other late line re-promised with a date agreed with the "
            "foundry planner, and the customers told the same day.",
        ),
        PlanSpec(
            "LOG-SHIP-ONTIME", "Dedicated express trucks when shipping slips", "log.lead",
            "log.lead", "actual", 5.0, 2,
            "Book dedicated express trucks with Brandt Logistik for every German OEM order line "
            "that misses its planned truck.",
            reallocations=(
                LineSpec("15000.00", "currency", from_initiative=_SLOTTING, to_department="LOG"),
            ),
            disabled_reason="The dedicated trucks ran 40% empty: late German OEM lines go on "
            "the core carrier's priority groupage instead (decided in the weekly operations "
            "review). A new plan follows once the carrier tender is awarded.",
        ),
    )  # fmt: skip


def seed_contingency(context: DemoContext) -> None:
    """Define the missing plans, then run the trigger on the armed plans' KPIs."""
    from decisions.services.contingency import (
        contingency_check,
        contingency_plan_create,
        contingency_plan_disable,
    )

    specs = contingency_blueprint()
    existing = {
        (code, name.lower())
        for code, name in ContingencyPlan.objects.filter(
            kpi__code__in={s.kpi for s in specs}
        ).values_list("kpi__code", "name")
    }
    missing = [s for s in specs if s.key not in existing]
    created = 0
    if missing:
        kpis = Kpi.objects.in_bulk({s.kpi for s in missing}, field_name="code")
        people = Person.objects.in_bulk(
            {u for s in missing for u in (s.actor, s.owner)}, field_name="username"
        )
        initiatives = _initiatives(
            {k for s in missing for line in s.reallocations for k in _line_initiatives(line)}
        )
        departments = Department.objects.in_bulk(
            {c for s in missing for line in s.reallocations for c in _line_departments(line)},
            field_name="code",
        )
        for spec in missing:
            lacking = [
                what
                for what, found in (
                    (f"KPI {spec.kpi}", spec.kpi in kpis),
                    (f"person {spec.actor}", spec.actor in people),
                    (f"person {spec.owner}", spec.owner in people),
                    *(
                        (f"initiative {' / '.join(key)}", key in initiatives)
                        for line in spec.reallocations
                        for key in _line_initiatives(line)
                    ),
                )
                if not found
            ]
            if lacking:
                context.note(
                    f"contingency plan “{spec.name}” skipped: {', '.join(lacking)} missing"
                )
                continue
            actor = people[spec.actor]
            plan = contingency_plan_create(
                actor=actor,
                data={
                    "kpi": kpis[spec.kpi], "name": spec.name, "trigger_basis": spec.basis,
                    "threshold_pct": spec.threshold_pct, "periods": spec.periods,
                    "response": spec.response, "owner": people[spec.owner],
                    "reallocations": [
                        _line_data(line, initiatives, departments) for line in spec.reallocations
                    ],
                },
            )  # fmt: skip
            if spec.disabled_reason:
                contingency_plan_disable(actor=actor, plan=plan, reason=spec.disabled_reason)
            created += 1
    context.report("contingency plans", created)
    # What the recompute's receiver does after a recompute of these KPIs (decisions.signals).
    armed = ContingencyPlan.objects.filter(
        enabled=True, kpi__code__in={s.kpi for s in specs}, name__in=[s.name for s in specs]
    ).values_list("kpi_id", flat=True)
    proposed = contingency_check(kpi_ids=set(armed), today=context.today)
    context.report("contingency proposals", len(proposed))


def _line_initiatives(line: LineSpec) -> list[InitiativeKey]:
    return [key for key in (line.from_initiative, line.to_initiative) if key is not None]


def _line_departments(line: LineSpec) -> list[str]:
    return [code for code in (line.from_department, line.to_department) if code is not None]


def _initiatives(keys: set[InitiativeKey]) -> dict[InitiativeKey, Initiative]:
    found: dict[InitiativeKey, Initiative] = {}
    for initiative in Initiative.objects.select_related("department").filter(
        name__in={name for _, name in keys}
    ):
        key = (initiative.department.code, initiative.name)
        if key in keys:
            found.setdefault(key, initiative)
    return found


def _line_data(
    line: LineSpec,
    initiatives: dict[InitiativeKey, Initiative],
    departments: dict[str, Department],
) -> dict[str, Any]:
    return {
        "from_initiative": initiatives.get(line.from_initiative),
        "from_department": departments.get(line.from_department),
        "to_initiative": initiatives.get(line.to_initiative),
        "to_department": departments.get(line.to_department),
        "amount": Decimal(line.amount),
        "unit": line.unit,
    }


# --- Alignment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentSpec:
    leader: str  # username
    department: str  # code
    period: dt.date  # the quarter's first day
    understanding: int
    commitment: int
    resources: int
    resistance_notes: str = ""


ASSESSOR = "pmo"

# (leader, department, (scores the quarter before), (scores the last quarter), notes then, now)
_ALIGNMENT = (
    ("sales.lead", "SALES", (4, 3, 4), (4, 3, 3),
     "Backs the mid-market push in the plan reviews, but defends the key accounts' delivery "
     "slots first.",
     "Still reluctant to give the new distributors the same delivery promise as the key "
     "accounts; the launch campaign is the part of the plan he believes in."),
    ("proc.lead", "PROC", (4, 4, 4), (4, 2, 2),
     "Drives the consolidation RFQ herself; the team is complete.",
     "Understands the objectives and argues for the consolidation, but no longer commits to 14 "
     "→ 6 suppliers this year: the award decisions have waited on the steering committee for "
     "weeks and two buyer posts are vacant while the incumbent alloy supplier fails. Asks for "
     "the target to be re-phased."),
    ("prod.lead", "PROD", (4, 4, 3), (4, 3, 3),
     "",
     "Resists the timing of the SMED roll-out: the Saturday shifts took its workshop days and "
     "he wants throughput recovered first."),
    ("log.lead", "LOG", (4, 4, 3), (5, 4, 3), "", ""),
    ("fin.lead", "FIN", (4, 4, 4), (4, 4, 4), "", ""),
    ("cs.lead", "CS", (3, 4, 3), (4, 4, 3),
     "Unsure how available-to-promise will fit the order desk's way of working.",
     ""),
)  # fmt: skip


def alignment_quarters(today: dt.date) -> tuple[dt.date, dt.date]:
    """The quarter before the last completed one and the last completed one (first days)."""
    last = quarter_start(quarter_start(today) - dt.timedelta(days=1))
    return quarter_start(last - dt.timedelta(days=1)), last


def alignment_blueprint(*, today: dt.date) -> tuple[AssessmentSpec, ...]:
    """Two quarters of assessments for the six department leads, the earlier quarter first."""
    before, last = alignment_quarters(today)
    return tuple(
        AssessmentSpec(leader, code, period, *scores, notes)
        for period, index in ((before, 0), (last, 1))
        for leader, code, *quarters in _ALIGNMENT
        for scores, notes in [(quarters[index], quarters[2 + index])]
    )


def seed_alignment(context: DemoContext) -> None:
    """Record both quarters for the leaders who have no assessment yet, in one bulk."""
    from decisions.services.alignment import assessments_bulk_record

    specs = alignment_blueprint(today=context.today)
    people = Person.objects.in_bulk({s.leader for s in specs} | {ASSESSOR}, field_name="username")
    departments = Department.objects.in_bulk({s.department for s in specs}, field_name="code")
    assessed = set(
        AlignmentAssessment.objects.filter(
            leader__username__in={s.leader for s in specs}
        ).values_list("leader__username", flat=True)
    )
    rows = [
        {
            "leader": people[s.leader], "department": departments[s.department],
            "period": s.period, "understanding": s.understanding, "commitment": s.commitment,
            "resources": s.resources, "resistance_notes": s.resistance_notes,
        }
        for s in specs
        if s.leader not in assessed and s.leader in people and s.department in departments
    ]  # fmt: skip
    created = []
    if rows and ASSESSOR in people:
        try:
            created = assessments_bulk_record(actor=people[ASSESSOR], rows=rows)
        except ApplicationError as exc:  # a quarter after the current date: nothing written
            context.note(f"alignment assessments skipped: {exc.message}")
    context.report("alignment assessments", len(created))


# --- Review sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    """One item of a past agenda and what the session made of it."""

    kind: str
    outcome: str
    exception: tuple[str, str] | None = None  # (KPI code, kind), unresolved
    contract: tuple[str, str] | None = None  # (code, status at the time)
    decision: tuple[str, str] | None = None  # (department, title): the decision under review
    decided_by: tuple[str, str] | None = None  # (department, title): the outcome decision
    owner: str | None = None  # username; default the subject's owner
    deferred_to: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class PastSessionSpec:
    cadence: str
    held_at: dt.datetime  # aware
    minutes: int  # how long it ran
    chair: str
    attendees: tuple[str, ...]
    departments: tuple[str, ...]  # the scope (empty: the whole organisation)
    open_exceptions: int  # open in scope when its agenda was generated
    items: tuple[ItemSpec, ...]
    summary: str  # "{D:department/title}" placeholders are filled with the decisions' numbers

    @property
    def title(self) -> str:
        return f"{SessionCadence(self.cadence).label}, {self.held_at:%d %b %Y}"


@dataclass(frozen=True)
class UpcomingSessionSpec:
    cadence: str
    scheduled_for: dt.datetime  # aware
    chair: str
    attendees: tuple[str, ...]
    departments: tuple[str, ...]


@dataclass(frozen=True)
class SessionBlueprint:
    past: tuple[PastSessionSpec, ...]
    upcoming: UpcomingSessionSpec


_LEADS = ("sales.lead", "proc.lead", "prod.lead", "log.lead", "fin.lead", "cs.lead")
_OPERATIONS = ("PROC", "PROD", "LOG", "CS")
_OPERATIONS_LEADS = ("proc.lead", "prod.lead", "log.lead", "cs.lead")
_RED = ExceptionKind.KPI_RED
_EXC, _REVIEW, _CONTRACT = (
    AgendaItemKind.EXCEPTION, AgendaItemKind.DECISION_REVIEW, AgendaItemKind.CONTRACT_AT_RISK,
)  # fmt: skip
_DECIDED, _DEFERRED, _NOTED = AgendaOutcome.DECIDED, AgendaOutcome.DEFERRED, AgendaOutcome.NOTED
_STATE_KINDS = {
    ContractStatus.AT_RISK: ExceptionKind.CONTRACT_AT_RISK,
    ContractStatus.BREACHED: ExceptionKind.CONTRACT_BREACHED,
}
# The decisions the notes and summaries name by number ("D-{PROD/Saturday}": department and the
# title's first word).
_MENTIONED = (_SATURDAYS, _EXPRESS, _GROUPAGE)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def session_blueprint(*, today: dt.date, planned_from: dt.date) -> SessionBlueprint:
    """The monthly business review on the day the express trucks were decided (40 days ago), the
    weekly operations review on the day their correction was decided (12 days ago), and the next
    weekly operations review two days after `planned_from` (the later of the demo's today and
    the current date: the service plans sessions for today or later)."""
    day = lambda offset: today + dt.timedelta(days=offset)  # noqa: E731
    upcoming = planned_from + dt.timedelta(days=2)
    business = PastSessionSpec(
        SessionCadence.MONTHLY_BUSINESS, _at(day(-40), 14), 120, "ceo",
        ("ceo", "cfo", "pmo", *_LEADS), (), 8,
        (
            ItemSpec(
                _EXC, _DEFERRED, exception=("PROC-OTD", _RED), owner="proc.lead",
                deferred_to=day(-12),
                note="The incumbent alloy supplier lost a furnace and will not recover before "
                "spring. Procurement brings a second-source option from the RFQ shortlist, with "
                "its cost and lead time, to the weekly operations review.",
            ),
            ItemSpec(
                _EXC, _NOTED, exception=("PROD-THRU", _RED),
                note="The Saturday shifts (D-{PROD/Saturday}) have run since the summer; their "
                "effect is reviewed on " + f"{day(-35):%d %b}" + ". No new decision before "
                "then.",
            ),
            ItemSpec(
                _REVIEW, _NOTED, decision=_DEGASSING,
                note="Scrap is back under 4% since the degassing unit went in; the "
                "effectiveness review will confirm it.",
            ),
            ItemSpec(
                _CONTRACT, _DEFERRED, contract=("PROC-PROD-CASTINGS", ContractStatus.AT_RISK),
                owner="proc.lead", deferred_to=day(-12),
                note="Follows the supplier on-time delivery item: Procurement proposes how the "
                "castings contract's alloy volumes are covered.",
            ),
            ItemSpec(_CONTRACT, _DECIDED, contract=("PROD-LOG-HANDOVER", ContractStatus.AT_RISK),
                     decided_by=_EXPRESS),
        ),
        "Supply is the issue of the month: supplier on-time delivery is red and the castings "
        "contract is at risk. Logistics protects the German OEMs on line-side supply with "
        "dedicated express trucks (D-{LOG/Dedicated}, EUR 45,000 from the DC slotting "
        "initiative). Procurement returns to the weekly operations review with a second-source "
        "option. The Saturday shifts are reviewed on " + f"{day(-35):%d %b}" + "; the degassing "
        "unit has brought scrap back to plan.",
    )  # fmt: skip
    operations = PastSessionSpec(
        SessionCadence.WEEKLY_OPERATIONS, _at(day(-12), 9), 60, "pmo",
        ("pmo", *_OPERATIONS_LEADS), _OPERATIONS, 11,
        (
            ItemSpec(
                _EXC, _DEFERRED, exception=("PROC-OTD", _RED), owner="ceo", deferred_to=day(0),
                note="Procurement proposes Moravia Alloys as the second source, about EUR 85,000 "
                "for the audit, first-article inspection and trial melts. Neither Procurement "
                "nor Production has the budget: it takes a trade-off across departments, so the "
                "CEO decides.",
            ),
            ItemSpec(
                _EXC, _DEFERRED, exception=("PROD-THRU", _RED), owner="prod.lead",
                deferred_to=upcoming,
                note="Throughput is still about 10% under plan after four months of Saturday "
                "shifts (D-{PROD/Saturday}). Production shows at the next weekly review whether "
                "alloy, not capacity, is the constraint, and whether the Saturdays stop.",
            ),
            ItemSpec(_EXC, _DECIDED, exception=("LOG-EXPEDITE", _RED), decided_by=_GROUPAGE),
            ItemSpec(
                _CONTRACT, _NOTED, contract=("PROC-PROD-CASTINGS", ContractStatus.AT_RISK),
                note="Alloy deliveries under the agreed volumes for three weeks: close to "
                "breach. Handled with the supplier on-time delivery item, by the CEO.",
            ),
            ItemSpec(
                _CONTRACT, _NOTED, contract=("PROD-LOG-HANDOVER", ContractStatus.AT_RISK),
                note="Late castings still reach the DC after the planned trucks; the groupage "
                "lane takes them the same evening. On watch.",
            ),
        ),
        "Expedite freight is red: the dedicated express trucks leave Telford 40% empty, so "
        "Logistics moves late German OEM lines to priority groupage with the core carrier "
        "(D-{LOG/Priority}, superseding D-{LOG/Dedicated}: EUR 28,000 instead of 45,000). "
        "Supplier on-time delivery is under 80%: the second source needs budget from another "
        "department, so it goes to the CEO by " + f"{day(0):%d %b}" + ". The Saturday shifts "
        "(D-{PROD/Saturday}) have not brought throughput back: Production reports at the next "
        "weekly review.",
    )  # fmt: skip
    return SessionBlueprint(
        past=(business, operations),
        upcoming=UpcomingSessionSpec(
            SessionCadence.WEEKLY_OPERATIONS,
            _at(upcoming, 9),
            "pmo",
            ("pmo", *_OPERATIONS_LEADS),
            _OPERATIONS,
        ),
    )


def seed_sessions(context: DemoContext) -> None:
    """Into an empty calendar only: the two past sessions with their minutes, then the upcoming
    one through the service."""
    from decisions.services.sessions import session_create

    if ReviewSession.objects.exists():
        context.report("review sessions", 0)
        return
    blueprint = session_blueprint(
        today=context.today, planned_from=max(context.today, timezone.localdate())
    )
    links = _SessionLinks.load(blueprint)
    lacking = links.missing(blueprint)
    if lacking:
        context.note(f"review sessions skipped: {', '.join(lacking)} missing")
        context.report("review sessions", 0)
        return
    for spec in blueprint.past:
        _past_session(spec, links)
    upcoming = blueprint.upcoming
    session_create(
        actor=links.people["pmo"],
        data={
            "cadence": upcoming.cadence,
            "scheduled_for": upcoming.scheduled_for,
            "departments": [links.departments[code] for code in upcoming.departments],
            "attendees": [links.people[u] for u in upcoming.attendees],
            "chair": links.people[upcoming.chair],
        },
    )
    context.report("review sessions", len(blueprint.past) + 1)


@dataclass
class _SessionLinks:
    people: dict[str, Person]
    departments: dict[str, Department]
    exceptions: dict[tuple[str, str], KpiException]
    contracts: dict[str, Contract]
    contract_severity: dict[tuple[str, str], float]  # (code, exception kind) → worst severity
    decisions: dict[tuple[str, str], Decision]

    @classmethod
    def load(cls, blueprint: SessionBlueprint) -> _SessionLinks:
        sessions = [*blueprint.past, blueprint.upcoming]
        items = [item for s in blueprint.past for item in s.items]
        usernames = {u for s in sessions for u in (s.chair, *s.attendees)}
        usernames |= {i.owner for i in items if i.owner} | {"pmo"}
        wanted = {i.exception for i in items if i.exception}
        exceptions: dict[tuple[str, str], KpiException] = {}
        for exception in (
            KpiException.objects.exclude(status=ExceptionStatus.RESOLVED)
            .filter(kpi__code__in={c for c, _ in wanted}, kind__in={k for _, k in wanted})
            .select_related("kpi")
            .order_by("pk")
        ):
            exceptions.setdefault((exception.kpi.code, exception.kind), exception)
        titles = {key for i in items for key in (i.decision, i.decided_by) if key}
        titles |= set(_MENTIONED)
        decisions = {
            (d.department.code, d.title): d
            for d in Decision.objects.select_related("department").filter(
                title__in={t for _, t in titles}
            )
            if (d.department.code, d.title) in titles
        }
        contracts = Contract.objects.in_bulk(
            {i.contract[0] for i in items if i.contract}, field_name="code"
        )
        # An item's severity is the contract's worst exception of its state then (at risk or
        # breached), resolved or not: the one the generator would have read.
        contract_severity: dict[tuple[str, str], float] = {}
        for code, kind, severity in (
            KpiException.objects.filter(contract__in=list(contracts.values()))
            .order_by("severity")
            .values_list("contract__code", "kind", "severity")
        ):
            contract_severity[(code, kind)] = severity
        return cls(
            people=Person.objects.in_bulk(usernames, field_name="username"),
            departments=Department.objects.in_bulk(
                {c for s in sessions for c in s.departments}, field_name="code"
            ),
            exceptions=exceptions,
            contracts=contracts,
            contract_severity=contract_severity,
            decisions=decisions,
        )

    def missing(self, blueprint: SessionBlueprint) -> list[str]:
        sessions = [*blueprint.past, blueprint.upcoming]
        items = [item for s in blueprint.past for item in s.items]
        named = [
            *((self.people, u, "person") for s in sessions for u in (s.chair, *s.attendees)),
            *((self.people, i.owner, "person") for i in items),
            *((self.departments, c, "department") for s in sessions for c in s.departments),
            *((self.exceptions, i.exception, "unresolved exception") for i in items),
            *((self.contracts, i.contract and i.contract[0], "contract") for i in items),
            *((self.decisions, i.decision, "decision") for i in items),
            *((self.decisions, i.decided_by, "decision") for i in items),
            *((self.decisions, key, "decision") for key in _MENTIONED),
        ]
        found = [
            f"{what} {' / '.join(key) if isinstance(key, tuple) else key}"
            for rows, key, what in named
            if key is not None and key not in rows
        ]
        return list(dict.fromkeys(found))

    def number(self, text: str) -> str:
        """Fill "D-{DEPT/Title start}" with the number of the decision it names."""
        for (code, title), decision in self.decisions.items():
            text = text.replace(f"D-{{{code}/{title.split()[0]}}}", f"D-{decision.pk}")
        return text


def _event(actor: Person | None, action: str, instance, changes: dict, reason: str = ""):
    return AuditEvent(
        actor=actor,
        actor_name=_actor_name(actor),
        action=action,
        subject_type=instance._meta.label_lower,
        subject_id=str(instance.pk),
        subject_name=str(instance)[:255],
        changes=changes,
        reason=reason[:2000],
    )


def _past_session(spec: PastSessionSpec, links: _SessionLinks) -> ReviewSession:
    """Write a past session as the services would have left it: planned, its agenda generated,
    started, each item decided, deferred or noted, closed with its minutes; one audit event per
    step, as the services write them."""
    people = links.people
    planner, chair = people["pmo"], people[spec.chair]
    held = spec.held_at
    session = ReviewSession(
        title=spec.title, cadence=spec.cadence, scheduled_for=held, chair=chair,
        agenda_share=0.2, status=SessionStatus.PLANNED, created_by=planner,
        created_at=held - dt.timedelta(days=7), agenda_generated_at=held - dt.timedelta(hours=17),
    )  # fmt: skip
    session.full_clean()
    session.save(force_insert=True)
    session.departments.set([links.departments[c] for c in spec.departments])
    session.attendees.set([people[u] for u in dict.fromkeys((*spec.attendees, spec.chair))])
    planned = {
        **snapshot(session),
        "departments": sorted(links.departments[c].name for c in spec.departments),
        "attendees": sorted(str(people[u]) for u in dict.fromkeys((*spec.attendees, spec.chair))),
    }
    items = [_item(session, position, item, links) for position, item in enumerate(spec.items, 1)]
    for item in items:
        item.full_clean()
    AgendaItem.objects.bulk_create(items)
    counts = {kind: sum(i.kind == kind for i in items) for kind in (_EXC, _REVIEW, _CONTRACT)}
    events = [
        _event(planner, AuditAction.CREATE, session,
               {name: {"old": None, "new": value} for name, value in planned.items()}),
        _event(
            planner, AuditAction.UPDATE, session,
            {"agenda": {"old": None, "new": agenda_summary(
                exceptions=counts[_EXC], open_exceptions=spec.open_exceptions,
                decisions=counts[_REVIEW], contracts=counts[_CONTRACT],
            )}},
            reason="Agenda generated",
        ),
        _event(chair, AuditAction.UPDATE, session,
               {"status": {"old": SessionStatus.PLANNED, "new": SessionStatus.IN_PROGRESS}},
               reason="Session started"),
    ]  # fmt: skip
    for item in items:
        decision = item.outcome_decision
        events.append(
            _event(
                chair,
                AuditAction.DECIDE if decision else AuditAction.UPDATE,
                item,
                {
                    "outcome": {"old": AgendaOutcome.PENDING, "new": item.outcome},
                    **(
                        {"deferred_to": {"old": None, "new": item.deferred_to.isoformat()}}
                        if item.deferred_to
                        else {}
                    ),
                    **({"note": {"old": "", "new": item.note}} if item.note else {}),
                    **({"decision": {"old": None, "new": str(decision)}} if decision else {}),
                },
                reason=decision.chosen_option if decision else item.note,
            )
        )
    summary = links.number(spec.summary)
    session.status = SessionStatus.CLOSED
    session.started_at = held
    session.closed_at = held + dt.timedelta(minutes=spec.minutes)
    session.minutes_summary = summary
    session.save(update_fields=["status", "started_at", "closed_at", "minutes_summary"])
    events.append(
        _event(chair, AuditAction.UPDATE, session,
               {"status": {"old": SessionStatus.IN_PROGRESS, "new": SessionStatus.CLOSED}},
               reason=summary)
    )  # fmt: skip
    AuditEvent.objects.bulk_create(events)
    return session


def _item(
    session: ReviewSession, position: int, spec: ItemSpec, links: _SessionLinks
) -> AgendaItem:
    """The agenda item as the generator snapshots it, with its outcome."""
    values: dict[str, Any] = {}
    if spec.exception is not None:
        exception = links.exceptions[spec.exception]
        values = {
            "exception": exception, "title": exception.title,
            "department_id": exception.department_id, "severity": exception.severity,
            "action_owner_id": exception.owner_id,
        }  # fmt: skip
    elif spec.decision is not None:
        from decisions.selectors_sessions import decision_item_title

        decision = links.decisions[spec.decision]
        values = {
            "decision": decision,
            "title": decision_item_title(
                {"id": decision.pk, "title": decision.title, "review_date": decision.review_date}
            ),
            "department_id": decision.department_id,
            "action_owner_id": decision.decided_by_id,
        }
    elif spec.contract is not None:
        from decisions.selectors_sessions import contract_item_title

        code, status = spec.contract
        contract = links.contracts[code]
        values = {
            "contract": contract,
            "title": contract_item_title({"code": code, "status": status, "title": contract.title}),
            "department_id": contract.provider_department_id,
            "severity": links.contract_severity.get((code, _STATE_KINDS[status])),
            "action_owner_id": contract.provider_owner_id,
        }
    if spec.owner is not None:
        values["action_owner_id"] = links.people[spec.owner].pk
    decided_by = links.decisions[spec.decided_by] if spec.decided_by else None
    return AgendaItem(
        session=session,
        position=position,
        kind=spec.kind,
        outcome=spec.outcome,
        outcome_decision=decided_by,
        deferred_to=spec.deferred_to,
        note=links.number(spec.note),
        **{**values, "title": values["title"][:255]},
    )
