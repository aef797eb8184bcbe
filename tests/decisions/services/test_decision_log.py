"""Logging decisions through the service: decided with authority, proposed without, refused with
field messages (nothing written), the exception moved to decided, the people told."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from decisions import services
from decisions.choices import DecisionStatus, LogEntryKind
from decisions.models import LogEntry
from govern.errors import ConflictError
from govern.models import AuditEvent, Notification
from kpis.choices import ExceptionStatus
from kpis.services.exceptions import exception_escalate_overdue
from tests.decisions.log_support import counts, logged, payload, review_day, tradeoff


def test_a_lead_logs_a_decided_decision_for_their_department(world):
    # when
    decision = logged(world)

    # then
    assert (decision.status, decision.decided_by, decision.decided_by_name) == (
        DecisionStatus.DECIDED,
        world.lead,
        "Lea Lead",
    )
    assert (decision.decided_by_role, decision.decided_on) == (
        "department_lead",
        timezone.localdate(),
    )
    assert (decision.department, decision.cross_department) == (world.sales, False)
    assert list(decision.kpis.all()) == [world.kpi]
    entry = LogEntry.objects.get()
    assert (entry.sequence, entry.kind, entry.decision, entry.actor_name) == (
        1,
        LogEntryKind.DECISION_DECIDED,
        decision,
        "Lea Lead",
    )
    assert entry.hash == decision.hash
    assert entry.payload["content"]["kpis"] == [world.kpi.pk]
    assert entry.payload["content"]["rationale"] == "Competitors cut prices in February."
    assert entry.payload["status"] == "decided"
    event = AuditEvent.objects.get(subject_type="decisions.decision")
    assert (event.action, event.changes["status"]) == ("decide", {"old": None, "new": "decided"})


def test_deciding_against_an_exception_moves_it_to_decided_and_tells_its_owner(world):
    # when
    decision = logged(world)

    # then
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.DECIDED
    assert world.exception.decided_at is not None
    event = AuditEvent.objects.get(subject_type="kpis.kpiexception")
    assert (event.action, event.actor, event.changes) == (
        "decide",
        world.lead,
        {
            "status": {"old": "open", "new": "decided"},
            "decision": {"old": None, "new": f"D-{decision.pk}: Discount the spring bundle"},
        },
    )
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind, notice.title, notice.link) == (
        world.contributor,
        "decision_taken",
        "Decision taken: Discount the spring bundle",
        f"/decisions/{decision.pk}/",
    )


def test_a_decision_without_an_outcome_is_refused_and_nothing_is_written(world):
    # when
    with pytest.raises(ValidationError) as refused:
        services.decision_log(actor=world.lead, data=payload(world, kpis=[]))

    # then
    assert refused.value.message_dict == {"kpis": [services.NO_OUTCOME]}
    assert counts() == (0, 0, 0)
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.OPEN


def test_every_field_message_comes_at_once(world):
    # given
    data = payload(
        world,
        title=" ",
        rationale="",
        expected_kind="",
        expected_value=None,
        review_date=timezone.localdate().isoformat(),
        reallocations=[
            {"to_department": world.sales.pk, "amount": "0", "unit": "gold"},
            {"from_initiative": world.initiative.pk, "to_initiative": world.initiative.pk,
             "amount": "10.5", "unit": "fte"},
        ],
    )  # fmt: skip

    # when
    with pytest.raises(ValidationError) as refused:
        services.decision_log(actor=world.lead, data=data)

    # then
    assert refused.value.message_dict == {
        "title": ["Give the decision a short title."],
        "rationale": ["Say why this option was chosen."],
        "expected_kind": [
            "Say what is expected of the KPI: value (reaches a value) or variance (variance "
            "within)."
        ],
        "expected_value": ["Give the value (or the variance) expected."],
        "review_date": [
            f"The review date must be after the decision date ({timezone.localdate():%d %b %Y})."
        ],
        "reallocations[0].from_department": ["Say where the resources come from."],
        "reallocations[0].amount": ["The amount must be more than zero."],
        "reallocations[0].unit": ["Choose the unit: currency, fte, capacity_hours."],
        "reallocations[1].to_department": ["The resources must go somewhere else."],
    }
    assert counts() == (0, 0, 0)


def test_the_trade_off_is_required_when_the_exception_asks_for_one(world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save()

    # when
    with pytest.raises(ValidationError) as refused:
        logged(world)

    # then
    assert sorted(refused.value.message_dict) == ["tradeoff_objective", "tradeoff_statement"]
    assert refused.value.message_dict["tradeoff_statement"] == [
        "This exception needs a trade-off decision: say what is sacrificed and why."
    ]
    assert counts() == (0, 0, 0)


def test_with_the_trade_off_the_decision_is_logged(world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save()

    # when
    decision = logged(
        world,
        tradeoff_initiative=world.initiative.pk,
        tradeoff_statement="The spring campaign loses a third of its budget.",
    )

    # then
    assert (decision.status, decision.tradeoff_initiative, decision.cross_department) == (
        DecisionStatus.DECIDED,
        world.initiative,
        False,
    )


def test_a_lead_may_not_decide_a_cross_department_trade_off(world):
    # when
    with pytest.raises(PermissionDenied) as refused:
        logged(world, **tradeoff(world))

    # then
    assert str(refused.value) == (
        "You may not decide this: it crosses departments (a trade-off on Procurement's "
        "objective Reliable supply), so only an executive may decide it. Record it as proposed "
        "for an executive to decide."
    )
    assert counts() == (0, 0, 0)
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.OPEN


def test_an_executive_decides_a_cross_department_trade_off(world):
    # when
    decision = logged(world, world.executive, **tradeoff(world))

    # then
    assert (decision.status, decision.cross_department, decision.decided_by_role) == (
        DecisionStatus.DECIDED,
        True,
        "executive",
    )
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.DECIDED


def test_a_reallocation_from_another_department_crosses_departments(world):
    # given
    line = {"from_department": world.procurement.pk, "to_initiative": world.initiative.pk,
            "amount": "25000", "unit": "currency"}  # fmt: skip

    # when
    decision = logged(world, world.pmo, propose=True, reallocations=[line])

    # then
    assert (decision.status, decision.cross_department) == (DecisionStatus.PROPOSED, True)
    assert [(r.from_department, r.to_initiative, str(r.amount), r.unit)
            for r in decision.reallocations.all()] == [
        (world.procurement, world.initiative, "25000.00", "currency")
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.decision_decide(actor=world.pmo, decision=decision)


def test_a_proposed_cross_department_decision_goes_to_the_executives(world):
    # when
    decision = logged(world, propose=True, **tradeoff(world))

    # then
    assert (decision.status, decision.decided_by_name, decision.decided_on) == (
        DecisionStatus.PROPOSED,
        "",
        None,
    )
    assert LogEntry.objects.get().kind == LogEntryKind.DECISION_PROPOSED
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind) == (world.executive, "decision_proposed")
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.OPEN


def test_a_proposed_decision_is_decided_by_someone_with_authority(world):
    # given
    decision = logged(world, propose=True, **tradeoff(world))

    # when
    with pytest.raises(PermissionDenied):
        services.decision_decide(actor=world.lead, decision=decision)
    decided = services.decision_decide(
        actor=world.executive, decision=decision, note="Agreed at the ops review."
    )

    # then
    assert (decided.status, decided.decided_by, decided.decided_by_role) == (
        DecisionStatus.DECIDED,
        world.executive,
        "executive",
    )
    entries = list(LogEntry.objects.values_list("sequence", "kind"))
    assert entries == [(1, "decision_proposed"), (2, "decision_decided")]
    assert LogEntry.objects.get(sequence=2).payload == {
        "status": "decided",
        "decided_by_name": "Eve Exec",
        "decided_by_role": "executive",
        "decided_on": timezone.localdate().isoformat(),
        "note": "Agreed at the ops review.",
    }
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.DECIDED


def test_a_decided_decision_cannot_be_decided_again(world):
    # given
    decision = logged(world)

    # when
    with pytest.raises(ConflictError) as refused:
        services.decision_decide(actor=world.lead, decision=decision)

    # then
    assert refused.value.code == "not_proposed"
    assert LogEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "propose", "outcome"),
    [
        ("lead", False, "decided"),
        ("pmo", False, "decided"),
        ("executive", False, "decided"),
        ("contributor", False, "refused"),
        ("contributor", True, "proposed"),
        ("viewer", True, "refused"),
        ("other_lead", True, "hidden"),
        ("outsider", True, "hidden"),
    ],
)
def test_who_may_log_a_decision_for_sales(world, who, propose, outcome):
    # when
    try:
        decision = logged(world, getattr(world, who), propose=propose)
        result = decision.status
    except PermissionDenied:
        result = "refused"
    except ValidationError as exc:
        hidden = [f"No department {world.sales.pk} that you may see."]
        result = "hidden" if exc.message_dict.get("department") == hidden else "invalid"

    # then
    assert result == outcome


def test_linked_objects_must_be_visible_to_the_actor(world):
    # given: Procurement's initiative is hidden from the Sales lead
    line = {"from_initiative": world.initiative.pk, "to_initiative": world.other_initiative.pk,
            "amount": "1", "unit": "fte"}  # fmt: skip

    # when
    with pytest.raises(ValidationError) as refused:
        logged(world, reallocations=[line], contract=999999)

    # then
    assert refused.value.message_dict == {
        "contract": ["No contract 999999 that you may see."],
        "reallocations[0].to_initiative": [
            f"No initiative {world.other_initiative.pk} that you may see."
        ],
    }
    assert counts() == (0, 0, 0)


def test_the_department_defaults_to_the_exceptions(world):
    # when
    decision = logged(world, department=None)

    # then
    assert decision.department == world.sales


def test_a_resolved_exception_cannot_be_answered(world):
    # given
    world.exception.status = ExceptionStatus.RESOLVED
    world.exception.save()

    # when
    with pytest.raises(ValidationError) as refused:
        logged(world)

    # then
    assert list(refused.value.message_dict) == ["exception"]


def test_a_decided_exception_is_no_longer_escalated(world):
    # given
    logged(world)
    past_deadline = world.exception.decision_deadline + dt.timedelta(days=1)

    # when
    escalated = exception_escalate_overdue(now=past_deadline)

    # then
    assert escalated == 0
    world.exception.refresh_from_db()
    assert (world.exception.status, world.exception.escalation_level) == ("decided", 0)


def test_the_decision_date_may_be_earlier_but_not_in_the_future(world):
    # given
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    # when
    with pytest.raises(ValidationError) as refused:
        logged(world, decided_on=tomorrow.isoformat())
    decision = logged(world, decided_on="2026-01-05", review_date=review_day().isoformat())

    # then
    assert refused.value.message_dict == {
        "decided_on": ["A decision cannot be dated in the future."]
    }
    assert decision.decided_on == dt.date(2026, 1, 5)
