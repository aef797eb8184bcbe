"""decisions/services/alignment.py: recording and correcting assessments (the rules, every field's
message at once, nothing written on a refusal, audited), and the alignment exception each write
raises, updates or resolves."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from decisions.models import AlignmentAssessment
from decisions.services.alignment import (
    alignment_exception_sync,
    assessment_record,
    assessment_update,
    assessments_bulk_record,
)
from govern.choices import AuditAction
from govern.errors import ApplicationError
from govern.models import AuditEvent, Notification
from kpis.models import KpiException
from tests.decisions.alignment.conftest import quarters_ago, scores

pytestmark = pytest.mark.django_db


def _record(world, leader=None, department=None, period=None, **given):
    return assessment_record(
        actor=world.pmo,
        leader=leader or world.tom,
        department=department or world.sales,
        period=period or world.last,
        **{**scores(4, 4, 4), **given},
    )


def _alignment():
    return list(KpiException.objects.filter(kind="alignment").order_by("pk"))


def test_recording_normalises_the_period_and_audits(world):
    # given
    mid_quarter = world.last.replace(day=17)

    # when
    assessment = _record(world, period=mid_quarter, resistance_notes="  Wants more staff.  ")

    # then
    assert assessment.period == world.last
    assert assessment.assessed_by == world.pmo
    assert assessment.resistance_notes == "Wants more staff."
    event = AuditEvent.objects.get(subject_type="decisions.alignmentassessment")
    assert event.action == AuditAction.CREATE
    assert event.changes["period"] == {"old": None, "new": world.last.isoformat()}
    assert _alignment() == []


def test_every_field_message_comes_at_once_and_nothing_is_written(world):
    # given
    future = quarters_ago(-1)

    # when
    with pytest.raises(ValidationError) as refused:
        assessment_record(
            actor=world.pmo,
            leader=world.ingrid,
            department=world.sales,
            period=future,
            understanding=0,
            commitment=3.5,
            resources="five",
        )

    # then
    label = f"Q{(future.month - 1) // 3 + 1} {future.year}"
    assert refused.value.message_dict == {
        "period": [f"{label} has not started yet; assess a quarter that has begun."],
        "understanding": ["Score it with a whole number from 1 to 5."],
        "commitment": ["Score it with a whole number from 1 to 5."],
        "resources": ["Score it with a whole number from 1 to 5."],
        "leader": ["Ingrid Halvorsen is not a member of Sales; assess one of its members."],
    }
    assert AlignmentAssessment.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_second_assessment_of_the_same_quarter_is_refused(world):
    # given
    _record(world)

    # when
    with pytest.raises(ValidationError) as refused:
        _record(world, period=world.last.replace(day=28))

    # then
    assert refused.value.message_dict == {
        "period": [
            f"Tom Whitfield already has an assessment for Sales in "
            f"Q{(world.last.month - 1) // 3 + 1} {world.last.year}; correct that one instead."
        ]
    }


@pytest.mark.parametrize("who", ["tom", "contributor"])
def test_only_the_pmo_and_executives_record(world, who):
    # when / then
    with pytest.raises(PermissionDenied):
        assessment_record(
            actor=getattr(world, who),
            leader=world.tom,
            department=world.sales,
            period=world.last,
            **scores(4, 4, 4),
        )
    assert AlignmentAssessment.objects.count() == 0


def test_a_low_score_raises_an_alignment_exception_for_the_pmo(world):
    # when
    _record(world, **scores(4, 2, 3, "Doubts the plan."))

    # then
    (exception,) = _alignment()
    label = f"Q{(world.last.month - 1) // 3 + 1} {world.last.year}"
    assert exception.status == "open"
    assert exception.subject_key == f"person:{world.tom.pk}"
    assert exception.person == world.tom
    assert exception.department == world.sales
    assert exception.owner == world.pmo
    assert exception.escalation_level == 2
    assert exception.title == "Alignment concern: Tom Whitfield"
    assert exception.detail == (
        f"Sales, {label}: understanding 4, commitment 2, resources 3 (mean 3.00): low (a score "
        "at or below 2)."
    )
    assert exception.period == world.last
    assert exception.severity == 9.0  # base 1.0 × 3 × 3
    notified = set(Notification.objects.values_list("recipient_id", flat=True))
    assert notified == {world.pmo.pk}  # the PMO, not the leader nor the department


def test_a_falling_mean_raises_it_and_a_later_fine_assessment_resolves_it(world):
    # given
    _record(world, period=world.before_last, **scores(5, 5, 4))

    # when: 4.67 → 3.33
    _record(world, period=world.last, **scores(4, 3, 3))

    # then
    (exception,) = _alignment()
    before = f"Q{(world.before_last.month - 1) // 3 + 1} {world.before_last.year}"
    assert exception.detail.endswith(f"falling from 4.67 in {before} (-1.33).")
    assert exception.severity == 12.0  # 1.33 / 1.0 × 9

    # when: the current quarter is neither low nor falling (3.33 → 3.67)
    _record(world, period=world.current, **scores(4, 4, 3))

    # then
    exception.refresh_from_db()
    now = f"Q{(world.current.month - 1) // 3 + 1} {world.current.year}"
    assert exception.status == "resolved"
    assert exception.detail.endswith(
        f"Resolved: the latest assessments are neither low nor falling (Sales, {now}: mean 3.67)."
    )
    resolved = AuditEvent.objects.get(action=AuditAction.RESOLVE, subject_id=str(exception.pk))
    assert resolved.reason.startswith("Resolved: the latest assessments")


def test_a_correction_re_judges_the_leader_and_updates_the_exception(world):
    # given
    assessment = _record(world, **scores(2, 4, 4))
    (exception,) = _alignment()

    # when: still low, now with a 1
    assessment_update(actor=world.executive, assessment=assessment, data={"understanding": 1})

    # then
    exception.refresh_from_db()
    assert "understanding 1" in exception.detail
    assert exception.severity == 13.5
    assert AuditEvent.objects.filter(
        subject_type="kpis.kpiexception", action=AuditAction.UPDATE
    ).exists()
    change = AuditEvent.objects.get(
        subject_type="decisions.alignmentassessment", action=AuditAction.UPDATE
    )
    assert change.changes == {"understanding": {"old": 2, "new": 1}}

    # when: corrected to fine
    assessment_update(actor=world.pmo, assessment=assessment, data={"understanding": 4})

    # then
    exception.refresh_from_db()
    assert exception.status == "resolved"


def test_moving_an_assessment_to_another_leader_re_judges_both(world):
    # given
    assessment = _record(world, **scores(1, 4, 4))

    # when
    assessment_update(actor=world.pmo, assessment=assessment, data={"leader": world.nora})

    # then
    by_person = {e.person_id: e.status for e in _alignment()}
    assert by_person == {world.tom.pk: "resolved", world.nora.pk: "open"}


def test_an_update_is_checked_like_a_record_and_changes_nothing_when_refused(world):
    # given
    assessment = _record(world)

    # when
    with pytest.raises(ValidationError) as refused:
        assessment_update(
            actor=world.pmo, assessment=assessment, data={"resources": 6, "department": 999999}
        )

    # then
    assert refused.value.message_dict == {
        "resources": ["Score it with a whole number from 1 to 5."],
        "department": ["No department 999999."],
    }
    assessment.refresh_from_db()
    assert assessment.resources == 4


def test_the_bulk_path_writes_all_or_nothing_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    # given: 2 quarters × 3 leaders; Ingrid falls
    rows = [
        {"leader": world.tom, "department": world.sales, "period": world.before_last,
         **scores(4, 4, 4)},
        {"leader": world.tom, "department": world.sales, "period": world.last, **scores(4, 4, 5)},
        {"leader": world.nora, "department": world.sales, "period": world.before_last,
         **scores(3, 4, 4)},
        {"leader": world.nora, "department": world.sales, "period": world.last, **scores(4, 4, 4)},
        {"leader": world.ingrid, "department": world.procurement, "period": world.before_last,
         **scores(5, 5, 4)},
        {"leader": world.ingrid, "department": world.procurement, "period": world.last,
         **scores(3, 3, 3)},
    ]  # fmt: skip

    # when
    with django_assert_max_num_queries(22):
        created = assessments_bulk_record(actor=world.pmo, rows=rows)

    # then
    assert len(created) == 6
    assert AuditEvent.objects.filter(subject_type="decisions.alignmentassessment").count() == 6
    assert [e.person_id for e in _alignment()] == [world.ingrid.pk]

    # when: a batch with one bad row
    with pytest.raises(ApplicationError) as refused:
        assessments_bulk_record(
            actor=world.pmo,
            rows=[
                {"leader": world.tom, "department": world.sales, "period": world.current,
                 **scores(4, 4, 4)},
                {"leader": world.tom, "department": world.procurement, "period": world.current,
                 **scores(9, 4, 4)},
            ],
        )  # fmt: skip

    # then
    assert refused.value.details == {
        "rows": [
            {"row": 2, "field": "understanding",
             "message": "Score it with a whole number from 1 to 5."},
            {"row": 2, "field": "leader",
             "message": "Tom Whitfield is not a member of Procurement; assess one of its members."},
        ]
    }  # fmt: skip
    assert AlignmentAssessment.objects.count() == 6


def test_the_sync_is_idempotent(world):
    # given
    _record(world, **scores(2, 2, 2))

    # when
    again = alignment_exception_sync(leader_ids=[world.tom.pk])

    # then
    assert (again.opened, again.updated, again.resolved) == (0, 0, 0)
    assert len(_alignment()) == 1
