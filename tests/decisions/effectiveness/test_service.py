"""The effectiveness review on a seeded history (tests/decisions/effectiveness/support.py): the
hand-computed verdicts and notes, the chain entries (and a chain that still verifies),
idempotence, the notices (in-app in the transaction, email on commit) and the re-escalation of
the exception an ineffective decision answered."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from decisions.chain import verify_chain
from decisions.choices import LogEntryKind
from decisions.models import Decision, LogEntry
from decisions.services.effectiveness import ReviewReport, decision_review_effectiveness
from govern.choices import AuditAction, NotificationKind
from govern.models import AuditEvent, Notification
from kpis.choices import EscalationLevel, ExceptionStatus
from kpis.models import KpiException
from tests.decisions.effectiveness.support import TODAY, decide

NOTES = {
    "otd_value": (
        "SALES-OTD: 91 at 2026-10-01 against an expected ≥ 95 by 2026-10-15; baseline 84 at "
        "2026-06-01."
    ),
    "otd_variance": (
        "SALES-OTD: adverse variance 9% at 2026-10-01 against an expected adverse variance ≤ "
        "10% by 2026-10-15; baseline adverse variance 16% at 2026-06-01."
    ),
    "dso_decision": (
        "SALES-DSO: 44 at 2026-09-01 against an expected ≤ 45 by 2026-09-30; no baseline "
        "before the decision."
    ),
    "margin_decision": (
        "SALES-MARGIN: no period with an actual between the decision on 2026-06-10 and its "
        "review date 2026-10-15; expected ≥ 35; baseline 30 at 2026-06-01."
    ),
}


def _reviewed(kind=LogEntryKind.EFFECTIVENESS_REVIEWED):
    return list(LogEntry.objects.filter(kind=kind).order_by("sequence"))


def _escalations():
    return list(AuditEvent.objects.filter(action=AuditAction.ESCALATE).order_by("id"))


def test_the_review_gives_the_hand_computed_verdicts(history):
    # when
    report = decision_review_effectiveness(today=TODAY)

    # then
    verdicts = {
        "otd_value": "ineffective",
        "otd_variance": "effective",
        "dso_decision": "effective",
        "margin_decision": "inconclusive",
    }
    for name, verdict in verdicts.items():
        decision = Decision.objects.get(pk=getattr(history, name).pk)
        assert (decision.effectiveness, decision.effectiveness_note) == (verdict, NOTES[name])
        assert decision.reviewed_at is not None
    later = Decision.objects.get(pk=history.later.pk)
    assert (later.effectiveness, later.effectiveness_note, later.reviewed_at) == (
        "pending",
        "",
        None,
    )
    assert report == ReviewReport(
        reviewed=4,
        effective=2,
        ineffective=1,
        inconclusive=1,
        reescalated=1,
        decision_ids=[d.pk for d in history.due],
    )


def test_each_verdict_is_logged_in_the_chain_and_the_chain_still_verifies(history):
    # given
    before = LogEntry.objects.count()

    # when
    decision_review_effectiveness(today=TODAY)

    # then
    entries = _reviewed()
    assert LogEntry.objects.count() == before + 4
    assert [e.decision_id for e in entries] == [d.pk for d in history.due]
    assert {e.actor_name for e in entries} == {"system"}
    decision = Decision.objects.get(pk=history.otd_value.pk)
    assert entries[0].payload == {
        "effectiveness": "ineffective",
        "note": NOTES["otd_value"],
        "reviewed_at": decision.reviewed_at.astimezone(dt.UTC).isoformat(),
        "expected_kpi": "SALES-OTD",
        "expected_kind": "value",
        "expected_value": 95.0,
        "review_date": "2026-10-15",
        "review_period": "2026-10-01",
        "review_actual": 91.0,
        "review_adverse": 9.0,
        "baseline_period": "2026-06-01",
        "baseline_actual": 84.0,
        "baseline_adverse": 16.0,
    }
    assert entries[3].payload["review_period"] is None
    verification = verify_chain()
    assert verification.ok, verification.first_broken
    assert verification.checked == before + 4


def test_a_second_run_writes_nothing(history):
    # given
    decision_review_effectiveness(today=TODAY)
    counts = (LogEntry.objects.count(), AuditEvent.objects.count(), Notification.objects.count())
    notes = list(Decision.objects.order_by("pk").values_list("effectiveness_note", "reviewed_at"))

    # when
    report = decision_review_effectiveness(today=TODAY)

    # then
    assert report == ReviewReport()
    assert (
        LogEntry.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    ) == counts
    assert (
        list(Decision.objects.order_by("pk").values_list("effectiveness_note", "reviewed_at"))
        == notes
    )


def test_nothing_is_due_before_the_review_dates(history):
    # when
    report = decision_review_effectiveness(today=dt.date(2026, 9, 29))

    # then
    assert report.reviewed == 0
    assert set(Decision.objects.values_list("effectiveness", flat=True)) == {"pending"}


def test_the_decider_and_the_kpi_owner_are_told(history, lead, contributor):
    # when
    decision_review_effectiveness(today=TODAY)

    # then
    notices = Notification.objects.filter(kind=NotificationKind.DECISION_REVIEWED)
    assert sorted(notices.values_list("recipient_id", "title")) == sorted(
        (person.pk, title)
        for person in (lead, contributor)
        for title in (
            "Decision ineffective: Act on SALES-OTD",
            "Decision effective: Act on SALES-OTD",
            "Decision effective: Act on SALES-DSO",
            "Decision review inconclusive (no data): Act on SALES-MARGIN",
        )
    )
    notice = notices.get(recipient=lead, subject_id=str(history.otd_value.pk))
    assert notice.body == (
        f"{NOTES['otd_value']}\n\nIts exception “{history.exception.title}” needs a new "
        "decision and is escalated to Department lead."
    )
    assert notice.link == f"/decisions/{history.otd_value.pk}/"
    assert notice.subject_type == "decisions.decision"


def test_an_ineffective_decision_reescalates_its_unresolved_exception(history, lead):
    # given: logging the decision moved the exception to decided
    exception = history.exception
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.DECIDED
    decided_at, old_deadline = exception.decided_at, exception.decision_deadline

    # when
    decision_review_effectiveness(today=TODAY)

    # then: never acknowledged, so it is open again, one level up, with a new deadline
    exception.refresh_from_db()
    reviewed_at = Decision.objects.get(pk=history.otd_value.pk).reviewed_at
    assert exception.status == ExceptionStatus.OPEN
    assert exception.decided_at is None
    assert exception.escalation_level == EscalationLevel.DEPARTMENT_LEAD
    assert exception.escalated_at == reviewed_at
    assert exception.decision_deadline == reviewed_at + dt.timedelta(days=3)
    [event] = _escalations()
    assert event.subject_id == str(exception.pk)
    assert event.actor_name == "system"
    assert event.reason == (
        f"Decision D-{history.otd_value.pk} proved ineffective: escalated to Department lead."
    )
    assert event.changes == {
        "status": {"old": "decided", "new": "open"},
        "escalation_level": {"old": 0, "new": 1},
        "decision_deadline": {
            "old": old_deadline.isoformat(),
            "new": exception.decision_deadline.isoformat(),
        },
        "decided_at": {"old": decided_at.isoformat(), "new": None},
    }
    [notice] = Notification.objects.filter(kind=NotificationKind.EXCEPTION_ESCALATED)
    assert notice.recipient_id == lead.pk
    assert notice.title == f"Escalated to Department lead: {exception.title}"
    assert notice.body.startswith(
        f"Decision D-{history.otd_value.pk} proved ineffective. This exception needs a new "
        "decision and is escalated to you (Department lead). New deadline: "
    )


def test_an_acknowledged_exception_goes_back_to_acknowledged(history):
    # given: someone had acknowledged it before the decision was taken
    KpiException.objects.filter(pk=history.exception.pk).update(
        acknowledged_at=timezone.make_aware(dt.datetime(2026, 6, 2, 9, 0))
    )

    # when
    decision_review_effectiveness(today=TODAY)

    # then
    history.exception.refresh_from_db()
    assert history.exception.status == ExceptionStatus.ACKNOWLEDGED
    assert history.exception.decided_at is None


def test_at_the_top_of_the_ladder_the_executives_keep_it(history, executive):
    # given
    history.exception.refresh_from_db()
    history.exception.escalation_level = EscalationLevel.EXECUTIVE
    history.exception.save(update_fields=["escalation_level"])

    # when
    decision_review_effectiveness(today=TODAY)

    # then
    history.exception.refresh_from_db()
    assert history.exception.escalation_level == EscalationLevel.EXECUTIVE
    [event] = _escalations()
    assert event.reason.endswith("proved ineffective: stays with Executive.")
    assert "escalation_level" not in event.changes
    [notice] = Notification.objects.filter(kind=NotificationKind.EXCEPTION_ESCALATED)
    assert notice.recipient_id == executive.pk


def test_a_resolved_exception_is_left_alone(history):
    # given
    history.exception.refresh_from_db()
    history.exception.status = ExceptionStatus.RESOLVED
    history.exception.save(update_fields=["status"])

    # when
    report = decision_review_effectiveness(today=TODAY)

    # then
    assert (report.ineffective, report.reescalated) == (1, 0)
    assert _escalations() == []
    history.exception.refresh_from_db()
    assert history.exception.status == ExceptionStatus.RESOLVED


def test_a_later_decision_on_the_exception_holds_off_the_reescalation(history, lead):
    # given: a second decision on the same exception, taken after the first
    decide(
        lead,
        history.otd,
        expected_value=96,
        review_date="2026-12-31",
        exception=history.exception.pk,
    )

    # when
    report = decision_review_effectiveness(today=TODAY)

    # then
    assert (report.ineffective, report.reescalated) == (1, 0)
    assert _escalations() == []
    history.exception.refresh_from_db()
    assert history.exception.status == ExceptionStatus.DECIDED


def test_a_superseded_decision_is_never_judged(history, lead):
    # given
    from decisions.services import decision_supersede

    data = {
        "title": "Act harder on SALES-MARGIN",
        "context": "The first plan was too timid.",
        "options_considered": "Act\nAct harder",
        "chosen_option": "Act harder",
        "rationale": "Better late than never.",
        "department": history.margin.department_id,
        "kpis": [history.margin.pk],
        "reallocations": [],
    }
    decision_supersede(actor=lead, decision=history.margin_decision, data=data)

    # when
    report = decision_review_effectiveness(today=TODAY)

    # then
    assert history.margin_decision.pk not in report.decision_ids
    assert Decision.objects.get(pk=history.margin_decision.pk).effectiveness == "pending"
    assert verify_chain().ok


def test_the_emails_leave_once_the_review_commits(history, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        decision_review_effectiveness(today=TODAY)

    # then: one batch, one email send for the reviews and one for the re-escalation
    assert len(callbacks) == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects.count("[Govern] Decision ineffective: Act on SALES-OTD") == 2
    assert subjects.count(f"[Govern] Escalated to Department lead: {history.exception.title}") == 1
    assert len(subjects) == 9


@transaction.atomic
def _review_then_fail():
    decision_review_effectiveness(today=TODAY)
    raise RuntimeError("the caller's transaction fails")


def test_a_rolled_back_review_writes_and_sends_nothing(history, django_capture_on_commit_callbacks):
    # given
    counts = (LogEntry.objects.count(), AuditEvent.objects.count(), Notification.objects.count())

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            _review_then_fail()

    # then
    assert callbacks == []
    assert mail.outbox == []
    assert (
        LogEntry.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    ) == counts
    assert set(Decision.objects.values_list("effectiveness", flat=True)) == {"pending"}
    history.exception.refresh_from_db()
    assert history.exception.status == ExceptionStatus.DECIDED


def test_inactive_people_are_not_told(history, lead, contributor):
    # given
    contributor.is_active = False
    contributor.save(update_fields=["is_active"])

    # when
    decision_review_effectiveness(today=TODAY)

    # then
    recipients = set(
        Notification.objects.filter(kind=NotificationKind.DECISION_REVIEWED).values_list(
            "recipient_id", flat=True
        )
    )
    assert recipients == {lead.pk}


def test_a_decision_logged_by_hand_later_is_reviewed_by_the_next_run(history, lead):
    # given: the first run, then a backdated decision whose review date has passed
    decision_review_effectiveness(today=TODAY)
    late = decide(lead, history.dso, expected_value=49, review_date="2026-08-31")

    # when
    report = decision_review_effectiveness(today=TODAY)

    # then: August's 50 is above the promised 49
    assert report.decision_ids == [late.pk]
    late.refresh_from_db()
    assert (late.effectiveness, late.effectiveness_note) == (
        "ineffective",
        "SALES-DSO: 50 at 2026-08-01 against an expected ≤ 49 by 2026-08-31; no baseline "
        "before the decision.",
    )


def test_the_loads_are_set_based(history, lead):
    # given: ten more decisions due
    for value in range(10):
        decide(lead, history.dso, expected_value=40 + value, review_date="2026-10-31")

    # when
    with CaptureQueriesContext(connection) as queries:
        report = decision_review_effectiveness(today=TODAY)

    # then: one read of the decisions with their KPIs, one of the results, for 14 decisions
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert report.reviewed == 14
    assert sum('FROM "kpis_kpiresult"' in sql for sql in reads) == 1
    assert sum(sql.count('"kpis_kpi"') > 0 and '"decisions_decision"' in sql for sql in reads) == 1
