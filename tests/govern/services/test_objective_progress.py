import datetime as dt
from decimal import Decimal

from django.db import transaction

from govern import services
from govern.choices import MilestoneStatus, ObjectiveLevel
from govern.tasks import objective_progress_rollup
from tests.factories import InitiativeFactory, MilestoneFactory, ObjectiveFactory


def _milestones(initiative, done: int, open_: int, cancelled: int = 0) -> None:
    for _ in range(done):
        MilestoneFactory(
            initiative=initiative, status=MilestoneStatus.DONE, completed_date=dt.date(2026, 2, 1)
        )
    for _ in range(open_):
        MilestoneFactory(initiative=initiative)
    for _ in range(cancelled):
        MilestoneFactory(initiative=initiative, status=MilestoneStatus.CANCELLED)


def test_progress_rolls_up_the_cascade_and_ignores_cancelled_milestones(db):
    # given: a strategic objective with two annual children, each served by one initiative
    strategic = ObjectiveFactory(
        level=ObjectiveLevel.STRATEGIC,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2028, 12, 31),
    )
    annual_a = ObjectiveFactory(parent=strategic)
    annual_b = ObjectiveFactory(parent=strategic)
    unserved = ObjectiveFactory()
    _milestones(InitiativeFactory(objectives=[annual_a]), done=1, open_=3, cancelled=2)
    _milestones(InitiativeFactory(objectives=[annual_b]), done=3, open_=1)

    # when
    changed = services.objective_progress_refresh()

    # then: a = 1/4, b = 3/4, strategic = 4/8; unserved has nothing to measure
    for objective in (strategic, annual_a, annual_b, unserved):
        objective.refresh_from_db()
    assert annual_a.progress == Decimal("25.0")
    assert annual_b.progress == Decimal("75.0")
    assert strategic.progress == Decimal("50.0")
    assert unserved.progress is None
    assert changed == 3


def test_an_initiative_serving_a_parent_and_its_child_counts_once(db):
    # given
    parent = ObjectiveFactory(level=ObjectiveLevel.STRATEGIC)
    child = ObjectiveFactory(parent=parent)
    _milestones(InitiativeFactory(objectives=[parent, child]), done=1, open_=2)

    # when
    services.objective_progress_refresh()

    # then
    parent.refresh_from_db()
    assert parent.progress == Decimal("33.3")


def test_the_rollup_is_idempotent(db):
    # given
    objective = ObjectiveFactory()
    _milestones(InitiativeFactory(objectives=[objective]), done=1, open_=1)
    objective_progress_rollup.delay()
    objective.refresh_from_db()
    first_stamp = objective.progress_updated_at

    # when
    changed = objective_progress_rollup.delay().get()

    # then
    objective.refresh_from_db()
    assert changed == 0
    assert objective.progress == Decimal("50.0")
    assert objective.progress_updated_at == first_stamp


def test_reporting_progress_queues_the_rollup_once_on_commit(
    pmo, django_capture_on_commit_callbacks
):
    # given
    objective = ObjectiveFactory()
    milestone = MilestoneFactory(initiative=InitiativeFactory(objectives=[objective]))

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.milestone_report_progress(
            actor=pmo, milestone=milestone, status=MilestoneStatus.DONE
        )

    # then
    assert len(callbacks) == 1
    objective.refresh_from_db()
    assert objective.progress == Decimal("100.0")


def test_a_rolled_back_change_queues_nothing(pmo, django_capture_on_commit_callbacks):
    # given
    objective = ObjectiveFactory()
    milestone = MilestoneFactory(initiative=InitiativeFactory(objectives=[objective]))

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.milestone_report_progress(
                    actor=pmo, milestone=milestone, status=MilestoneStatus.DONE
                )
                raise RuntimeError("abort")
        except RuntimeError:
            pass

    # then
    assert callbacks == []
    milestone.refresh_from_db()
    objective.refresh_from_db()
    assert milestone.status == MilestoneStatus.PLANNED
    assert objective.progress is None


def test_a_milestone_without_a_linked_objective_queues_nothing(
    pmo, django_capture_on_commit_callbacks
):
    # given
    milestone = MilestoneFactory(initiative=InitiativeFactory())

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.milestone_report_progress(
            actor=pmo, milestone=milestone, status=MilestoneStatus.IN_PROGRESS
        )

    # then
    assert callbacks == []
