"""Acknowledge, assign, escalate; overdue milestones. Refusals write nothing and send nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from govern.choices import AuditAction, MilestoneStatus
from govern.errors import ApplicationError, ConflictError
from govern.models import AuditEvent
from kpis.models import KpiException
from kpis.services.exceptions import (
    exception_acknowledge,
    exception_assign,
    exception_escalate_overdue,
    milestone_exception_sync,
)
from tests.factories import (
    InitiativeFactory,
    KpiExceptionFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

OPENED = timezone.make_aware(dt.datetime(2026, 4, 1, 9, 0))  # the factory's; deadline +3 days
NOW = timezone.make_aware(dt.datetime(2026, 4, 5, 12, 0))


def _state():
    return list(KpiException.objects.values()), AuditEvent.objects.count()


@pytest.fixture
def red(world):
    return KpiExceptionFactory(kpi=world.kpi)


# --- Acknowledge and assign ---------------------------------------------------------------


def test_the_owner_acknowledges_an_open_exception(world, red):
    # when
    exception = exception_acknowledge(actor=world.owner, exception=red, note="Calling the buyer.")

    # then
    assert exception.status == "acknowledged"
    assert exception.acknowledged_at is not None
    event = AuditEvent.objects.get(action=AuditAction.ACKNOWLEDGE)
    assert (event.actor, event.subject_id, event.reason) == (
        world.owner,
        str(red.pk),
        "Calling the buyer.",
    )
    assert event.changes == {"status": {"old": "open", "new": "acknowledged"}}


def test_acknowledging_twice_is_a_conflict_that_writes_nothing(world, red):
    # given
    exception_acknowledge(actor=world.owner, exception=red)
    before = _state()

    # when
    with pytest.raises(ConflictError) as refused:
        exception_acknowledge(actor=world.lead, exception=red)

    # then
    assert refused.value.status_code == 409
    assert refused.value.message == (
        "This exception is acknowledged; only an open exception can be acknowledged."
    )
    assert _state() == before


@pytest.mark.parametrize("who", ["viewer", "other_lead"])
def test_people_without_act_may_not_acknowledge(world, red, who):
    # given
    before = _state()

    # when
    with pytest.raises(PermissionDenied):
        exception_acknowledge(actor=getattr(world, who), exception=red)

    # then
    assert _state() == before


def test_a_lead_assigns_the_exception_to_a_member_of_the_department(world, red):
    # when
    exception = exception_assign(
        actor=world.lead, exception=red, owner=world.viewer, note="Knows the accounts."
    )

    # then
    assert exception.owner == world.viewer
    event = AuditEvent.objects.get(action=AuditAction.ASSIGN)
    assert event.changes == {"owner": {"old": str(world.owner), "new": str(world.viewer)}}
    assert event.reason == "Knows the accounts."


def test_assigning_someone_outside_the_department_is_a_field_error(world, red):
    # given
    before = _state()

    # when
    with pytest.raises(ApplicationError) as refused:
        exception_assign(actor=world.pmo, exception=red, owner=world.other_lead)

    # then
    assert refused.value.fields == {
        "owner": [f"{world.other_lead} is not an active member of Sales; choose someone who is."]
    }
    assert _state() == before


# --- Escalation -----------------------------------------------------------------------------


def test_escalation_climbs_the_ladder_once_per_missed_deadline(
    world, red, django_capture_on_commit_callbacks, mailoutbox
):
    # given: red, opened 1 Apr 09:00, deadline 4 Apr 09:00
    # when
    with django_capture_on_commit_callbacks(execute=True):
        moved = exception_escalate_overdue(now=NOW)
        again = exception_escalate_overdue(now=NOW)

    # then
    assert (moved, again) == (1, 0)
    red.refresh_from_db()
    assert red.escalation_level == 1
    assert red.escalated_at == NOW
    assert red.decision_deadline == NOW + dt.timedelta(days=3)
    event = AuditEvent.objects.get(action=AuditAction.ESCALATE)
    assert event.changes["escalation_level"] == {"old": 0, "new": 1}
    assert event.reason == "No decision by 04 Apr 2026 09:00: escalated to Department lead."
    assert [m.to for m in mailoutbox] == [[world.lead.email]]
    assert mailoutbox[0].subject == (
        "[Govern] Escalated to Department lead: SALES-INTAKE is red: Order intake"
    )

    # when: nobody decides; the next deadlines pass as well
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        to_pmo = exception_escalate_overdue(now=NOW + dt.timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        to_executive = exception_escalate_overdue(now=NOW + dt.timedelta(days=8))
    with django_capture_on_commit_callbacks(execute=True):
        beyond = exception_escalate_overdue(now=NOW + dt.timedelta(days=30))

    # then
    assert (to_pmo, to_executive, beyond) == (1, 1, 0)
    red.refresh_from_db()
    assert red.escalation_level == 3
    assert [m.to for m in mailoutbox] == [[world.pmo.email], [world.executive.email]]
    levels = [
        e.changes["escalation_level"]
        for e in AuditEvent.objects.filter(action=AuditAction.ESCALATE).order_by("pk")
    ]
    assert levels == [{"old": 0, "new": 1}, {"old": 1, "new": 2}, {"old": 2, "new": 3}]


def test_decided_resolved_and_not_yet_due_exceptions_do_not_escalate(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    KpiExceptionFactory(kpi=world.kpi, status="decided", decided_at=OPENED)
    KpiExceptionFactory(kpi=world.kpi, kind="kpi_amber", status="resolved", resolved_at=OPENED)
    KpiExceptionFactory(
        kpi=world.kpi, kind="missing_data", decision_deadline=NOW + dt.timedelta(hours=1)
    )
    before = _state()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        moved = exception_escalate_overdue(now=NOW)

    # then
    assert moved == 0
    assert _state() == before
    assert mailoutbox == []


def test_an_escalation_rolled_back_sends_nothing(world, red, django_capture_on_commit_callbacks):
    # given
    def escalate_then_fail():
        with transaction.atomic():
            exception_escalate_overdue(now=NOW)
            raise RuntimeError("the surrounding work failed")

    # when
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        escalate_then_fail()

    # then
    assert callbacks == []
    red.refresh_from_db()
    assert red.escalation_level == 0


def test_the_escalate_command_runs_the_check(world, red, capsys):
    # when
    call_command("escalate", "--now", NOW.isoformat())

    # then
    assert capsys.readouterr().out == "Escalated 1 exception.\n"
    red.refresh_from_db()
    assert red.escalation_level == 1


# --- Milestones -----------------------------------------------------------------------------


def test_an_overdue_milestone_opens_one_exception_and_resolves_when_done(world):
    # given
    initiative = InitiativeFactory(
        name="Distributor programme",
        department=world.department,
        objectives=[ObjectiveFactory(department=world.department, weight=5)],
    )
    late = MilestoneFactory(
        initiative=initiative, name="Contracts signed", due_date=dt.date(2026, 3, 20)
    )
    MilestoneFactory(initiative=initiative, due_date=dt.date(2026, 4, 30))  # not due yet
    today = dt.date(2026, 4, 10)

    # when
    first = milestone_exception_sync(today=today)
    second = milestone_exception_sync(today=today)

    # then
    assert (first, second) == ((1, 0), (0, 0))
    exception = KpiException.objects.get()
    assert exception.kind == "milestone_overdue"
    assert exception.subject_key == f"milestone:{late.pk}"
    assert exception.title == "Milestone overdue: Contracts signed (Distributor programme)"
    assert (exception.owner, exception.department) == (late.owner, world.department)
    assert exception.detail == "Due 20 Mar 2026, 21 days overdue, and neither done nor cancelled."
    # 21 / 14 × criticality 3 × weight 5, plus the age of an exception opened today
    assert exception.severity == 22.5 + round(
        0.1 * max((today - timezone.localdate(exception.opened_at)).days, 0), 2
    )
    assert AuditEvent.objects.filter(action=AuditAction.OPEN).count() == 1

    # when
    late.status, late.completed_date = MilestoneStatus.DONE, today
    late.save()
    result = milestone_exception_sync(today=today)

    # then
    assert result == (0, 1)
    exception.refresh_from_db()
    assert exception.status == "resolved"
    assert AuditEvent.objects.get(action=AuditAction.RESOLVE).reason == "The milestone is done."


def test_assign_refuses_a_deactivated_member(world, red):
    # given
    from tests.factories import MembershipFactory

    gone = PersonFactory(is_active=False)
    MembershipFactory(person=gone, department=world.department)
    before = _state()

    # when
    with pytest.raises(ApplicationError):
        exception_assign(actor=world.lead, exception=red, owner=gone)

    # then
    assert _state() == before
