"""`seed_demo`'s decisions (decisions/demo.py): the story's decisions logged through the services
after the KPI recompute, the supplier OTD exception decided, a reallocation from Sales'
mid-market launch campaign (marketing), an ineffective decision reviewed and re-escalated, a
correction that supersedes, a proposal awaiting its lead, and after them the supplier OTD
contingency plan's proposal (tests/decisions/test_demo_governance.py); the chain verifies; a
second run writes nothing."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from decisions.choices import DecisionStatus, Effectiveness, LogEntryKind
from decisions.demo import decision_blueprint
from decisions.models import Decision, LogEntry, Reallocation
from govern.choices import AuditAction, NotificationKind, Role
from govern.models import AuditEvent, Notification, Person
from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus
from kpis.models import KpiException

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
SECOND_SOURCE = "Expedite a second source for the failing casting-alloy supplier"
SATURDAYS = "Saturday shifts on the Sheffield moulding lines to recover throughput"
DEGASSING = "Rotary degassing unit on moulding line 3"
EXPRESS = "Dedicated express trucks for late German OEM order lines"
GROUPAGE = "Priority groupage with the core carrier instead of dedicated express trucks"
NOTICE = "Proactive notice to customers of late castings order lines"
SPOT_BUY = "Spot-buy ductile-iron alloy to restore eight days of stock cover"
CONTINGENCY = "Contingency: Spot buys and second source when supplier OTD collapses"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def exception(code: str, kind: str) -> KpiException:
    return KpiException.objects.exclude(status=ExceptionStatus.RESOLVED).get(
        kpi__code=code, kind=kind
    )


def test_the_story_logs_seven_decisions_through_the_services():
    # when
    output = seed()

    # then: oldest first, as logged; the contingency plan's proposal comes after the story's
    # seven (its section runs after the decisions)
    rows = list(
        Decision.objects.order_by("pk").values_list(
            "title", "department__code", "status", "effectiveness", "decided_on",
            "decided_by__username", "decided_by_role", "proposed_by__username",
            "cross_department",
        )
    )  # fmt: skip
    assert rows == [
        (DEGASSING, "PROD", DecisionStatus.DECIDED, Effectiveness.EFFECTIVE, day(-100),
         "prod.lead", Role.DEPARTMENT_LEAD, "prod.lead", False),
        (SATURDAYS, "PROD", DecisionStatus.DECIDED, Effectiveness.INEFFECTIVE, day(-125),
         "prod.lead", Role.DEPARTMENT_LEAD, "prod.lead", False),
        (EXPRESS, "LOG", DecisionStatus.SUPERSEDED, Effectiveness.PENDING, day(-40),
         "log.lead", Role.DEPARTMENT_LEAD, "log.lead", False),
        (NOTICE, "CS", DecisionStatus.DECIDED, Effectiveness.PENDING, day(-21),
         "cs.lead", Role.DEPARTMENT_LEAD, "cs.lead", False),
        (GROUPAGE, "LOG", DecisionStatus.DECIDED, Effectiveness.PENDING, day(-12),
         "log.lead", Role.DEPARTMENT_LEAD, "log.lead", False),
        (SECOND_SOURCE, "PROC", DecisionStatus.DECIDED, Effectiveness.PENDING, TODAY,
         "ceo", Role.EXECUTIVE, "ceo", True),
        (SPOT_BUY, "PROC", DecisionStatus.PROPOSED, Effectiveness.PENDING, None,
         None, "", "proc.buyer", False),
        (CONTINGENCY, "PROC", DecisionStatus.PROPOSED, Effectiveness.PENDING, None,
         None, "", "proc.lead", False),
    ]  # fmt: skip
    assert "  decisions: 7 created" in output
    assert "  contingency proposals: 1 created" in output
    assert (
        "  Decision review: 2 reviewed (1 effective, 1 ineffective, 0 inconclusive), 1 of their "
        "exceptions re-escalated"
    ) in output
    # Every decision names the KPIs it is meant to move and carries an expected effect.
    outcomes = {d.title: sorted(k.code for k in d.kpis.all()) for d in Decision.objects.all()}
    assert outcomes == {
        DEGASSING: ["PROD-SCRAP", "PROD-THRU"],
        SATURDAYS: ["PROD-SCHED-ADH", "PROD-THRU"],
        EXPRESS: ["LOG-EXPEDITE", "LOG-SHIP-ONTIME"],
        NOTICE: ["CS-COMPLAINTS", "CS-OTIF"],
        GROUPAGE: ["LOG-EXPEDITE", "LOG-SHIP-ONTIME"],
        SECOND_SOURCE: ["PROC-OTD", "PROD-THRU"],
        SPOT_BUY: ["PROC-ALLOY-COVER"],
        CONTINGENCY: ["PROC-OTD"],
    }
    # The story's seven promise an effect; a plan's proposal does not (its decider adds one).
    assert list(Decision.objects.filter(expected_kpi=None).values_list("title", flat=True)) == [
        CONTINGENCY
    ]
    # Each was audited by its actor, and every decided one has its creation entry in the chain.
    assert sorted(
        AuditEvent.objects.filter(subject_type="decisions.decision").values_list(
            "action", "actor__username"
        )
    ) == sorted([
        (AuditAction.DECIDE, "prod.lead"), (AuditAction.DECIDE, "prod.lead"),
        (AuditAction.DECIDE, "log.lead"), (AuditAction.DECIDE, "cs.lead"),
        (AuditAction.DECIDE, "log.lead"), (AuditAction.SUPERSEDE, "log.lead"),
        (AuditAction.DECIDE, "ceo"), (AuditAction.PROPOSE, "proc.buyer"),
        (AuditAction.PROPOSE, "proc.lead"),
    ])  # fmt: skip


def test_the_executive_decision_answers_the_supplier_otd_exception_with_a_reallocation():
    # when
    seed()

    # then
    decision = Decision.objects.get(title=SECOND_SOURCE)
    otd = exception("PROC-OTD", ExceptionKind.KPI_RED)
    assert decision.exception_id == otd.pk
    assert (otd.status, otd.decided_at is not None) == (ExceptionStatus.DECIDED, True)
    assert list(
        AuditEvent.objects.for_object(otd)
        .filter(action=AuditAction.DECIDE)
        .values_list("actor__username", "reason")
    ) == [("ceo", f"Answered by decision D-{decision.pk}: {decision.chosen_option}")]
    assert (
        decision.contract.code, decision.initiative.name, decision.objective.title,
        decision.tradeoff_initiative.department.code, decision.tradeoff_initiative.name,
        decision.tradeoff_objective,
    ) == (
        "PROC-PROD-CASTINGS", "Casting-alloy supplier consolidation",
        "On-time-in-full delivery ≥ 95%", "SALES",
        "Mid-market launch campaign: trade fairs and co-marketing", None,
    )  # fmt: skip
    assert decision.tradeoff_statement.startswith(
        "Sales gives up most of its mid-market launch campaign: the trade-fair stands in "
        "Hannover and Poznań and the co-marketing fund for the first distributors, EUR 85,000"
    )
    assert list(
        decision.reallocations.order_by("pk").values_list(
            "from_initiative__name", "from_department", "to_initiative__department__code",
            "to_initiative__name", "amount", "unit",
        )
    ) == [
        ("Mid-market launch campaign: trade fairs and co-marketing", None, "PROC",
         "Casting-alloy supplier consolidation", Decimal("60000.00"), "currency"),
        ("Mid-market launch campaign: trade fairs and co-marketing", None, "PROD",
         "Second-source qualification for ductile-iron grades", Decimal("25000.00"), "currency"),
    ]  # fmt: skip
    assert (
        decision.expected_kpi.code, decision.expected_kind, decision.expected_value,
        decision.review_date,
    ) == ("PROC-OTD", "value", 85.0, day(42))  # fmt: skip


def test_a_reallocation_from_the_marketing_initiative_reaches_sales():
    # given
    seed()
    lines = Reallocation.objects.filter(
        from_initiative__name="Mid-market launch campaign: trade fairs and co-marketing",
        unit="currency",
    )
    sales_lead = Person.objects.get(username="sales.lead")

    # when: Sales sees the decisions that take its budget (the trade-off touches it)
    visible = Decision.objects.restrict(sales_lead)

    # then
    assert sum(line.amount for line in lines) == Decimal("85000.00")
    assert list(visible.values_list("title", flat=True)) == [SECOND_SOURCE]


def test_the_ineffective_decision_was_reviewed_and_re_escalated_its_exception():
    # when
    seed()

    # then
    decision = Decision.objects.get(title=SATURDAYS)
    assert decision.effectiveness_note == (
        "PROD-THRU: 37,892 at 2026-10-12 against an expected ≥ 41,500 by 2026-10-16; "
        "baseline 42,155 at 2026-07-13."
    )
    assert list(decision.log_entries.values_list("kind", "actor_name")) == [
        (LogEntryKind.DECISION_DECIDED, "Marek Horak"),
        (LogEntryKind.EFFECTIVENESS_REVIEWED, "system"),
    ]
    throughput = exception("PROD-THRU", ExceptionKind.KPI_RED)
    assert decision.exception_id == throughput.pk
    assert (throughput.status, throughput.decided_at, throughput.escalation_level) == (
        ExceptionStatus.OPEN, None, EscalationLevel.DEPARTMENT_LEAD,
    )  # fmt: skip
    assert list(
        AuditEvent.objects.for_object(throughput)
        .filter(action=AuditAction.ESCALATE)
        .values_list("reason", flat=True)
    ) == [f"Decision D-{decision.pk} proved ineffective: escalated to Department lead."]
    effective = Decision.objects.get(title=DEGASSING)
    assert effective.effectiveness_note == (
        "PROD-SCRAP: 3.8 at 2026-10-05 against an expected ≤ 4 by 2026-10-09; "
        "baseline 5 at 2026-08-10."
    )


def test_the_correction_supersedes_the_express_trucks_decision_both_ways():
    # when
    seed()

    # then
    original = Decision.objects.get(title=EXPRESS)
    correction = Decision.objects.get(title=GROUPAGE)
    assert correction.supersedes == original
    assert original.superseded_by == correction
    assert list(original.log_entries.values_list("kind", "payload__superseded_by")) == [
        (LogEntryKind.DECISION_DECIDED, None),
        (LogEntryKind.DECISION_SUPERSEDED, correction.pk),
    ]
    assert [
        (line.amount, line.from_initiative.name, line.to_department.code)
        for d in (original, correction)
        for line in d.reallocations.all()
    ] == [
        (Decimal("45000.00"), "Slotting and cycle counting at the Telford DC", "LOG"),
        (Decimal("28000.00"), "Slotting and cycle counting at the Telford DC", "LOG"),
    ]


def test_the_proposal_awaits_procurements_lead_who_may_decide_it(api_client):
    # given
    seed()
    proposal = Decision.objects.get(title=SPOT_BUY)
    proc_lead = Person.objects.get(username="proc.lead")
    cover = exception("PROC-ALLOY-COVER", ExceptionKind.KPI_AMBER)
    assert (proposal.exception_id, cover.status) == (cover.pk, ExceptionStatus.OPEN)
    assert proposal.review_date == timezone.localdate() + dt.timedelta(days=28)
    assert list(
        Notification.objects.filter(kind=NotificationKind.DECISION_PROPOSED)
        .order_by("pk")
        .values_list("recipient__username", "title")
    ) == [
        ("proc.lead", f"Decision to take: {SPOT_BUY}"),
        (
            "proc.lead",
            "Contingency plan triggered: Spot buys and second source when supplier OTD "
            "collapses (PROC-OTD)",
        ),
    ]

    # when
    api_client.force_authenticate(proc_lead)
    response = api_client.post(
        f"/api/v1/decisions/{proposal.pk}/decide/", {"note": "Agreed."}, format="json"
    )

    # then
    assert response.status_code == 200
    proposal.refresh_from_db()
    cover.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (DecisionStatus.DECIDED, proc_lead)
    assert cover.status == ExceptionStatus.DECIDED


def test_the_decision_log_verifies_after_seeding():
    # given
    seed()
    out = StringIO()

    # when
    call_command("verify_audit", stdout=out)

    # then
    assert out.getvalue().strip() == "The decision log verifies: 11 entries, 8 decisions."


def test_a_second_run_changes_nothing_even_on_a_later_day():
    # given
    seed()
    before = (
        Decision.objects.count(), LogEntry.objects.count(), AuditEvent.objects.count(),
        Notification.objects.count(),
        sorted(Decision.objects.values_list("title", "status", "effectiveness")),
    )  # fmt: skip

    # when
    again = seed()
    out = StringIO()
    call_command("seed_demo", "--today", day(1).isoformat(), stdout=out)

    # then
    assert (
        Decision.objects.count(), LogEntry.objects.count(), AuditEvent.objects.count(),
        Notification.objects.count(),
        sorted(Decision.objects.values_list("title", "status", "effectiveness")),
    ) == before  # fmt: skip
    for output in (again, out.getvalue()):
        assert "  decisions: 0 created" in output
        assert "Demo organisation already present; nothing changed." in output


def test_without_the_recompute_the_decisions_wait_for_their_exceptions():
    # given: no recompute, so no exceptions to answer yet
    seed("--no-recompute")
    assert not Decision.objects.exists()

    # when
    output = seed()

    # then
    assert "  decisions: 7 created" in output
    assert "  contingency proposals: 1 created" in output
    assert Decision.objects.count() == 8


def test_the_blueprint_dates_count_from_today_and_never_lie_ahead():
    # when
    specs = decision_blueprint(today=TODAY, proposed_on=day(2))

    # then
    decided = [s.decided_on for s in specs if s.decided_on is not None]
    assert max(decided) == TODAY
    assert all(s.effect.review_date > (s.decided_on or day(2)) for s in specs)
    assert [s.title for s in specs if s.propose] == [SPOT_BUY]
    assert [s.effect.review_date for s in specs if s.propose] == [day(30)]
