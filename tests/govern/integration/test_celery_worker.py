"""A real Celery worker process against Redis and the test database: work queued on commit runs.
See tests/live_worker.py for how the worker is started and when these tests skip."""

import time
from decimal import Decimal

import pytest
from django.db import transaction

from govern import services
from govern.celery import app as celery_app
from govern.choices import MilestoneStatus
from tests.factories import InitiativeFactory, MilestoneFactory, ObjectiveFactory
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_progress_queued_on_commit_is_computed_by_the_worker(live_worker, pmo):
    # given: an objective with one initiative and two open milestones
    objective = ObjectiveFactory()
    initiative = InitiativeFactory(objectives=[objective])
    first = MilestoneFactory(initiative=initiative, owner=pmo)
    MilestoneFactory(initiative=initiative, owner=pmo)

    # when: one milestone is reported done, in a transaction that commits
    with transaction.atomic():
        services.milestone_report_progress(actor=pmo, milestone=first, status=MilestoneStatus.DONE)

    # then: the worker, not this process, recomputed the objective's progress to 1 of 2
    def computed() -> bool:
        objective.refresh_from_db()
        return objective.progress is not None

    assert wait_for(computed), "the worker did not run the task queued on commit"
    assert objective.progress == Decimal("50.0")
    assert objective.progress_updated_at is not None


def test_nothing_is_queued_when_the_transaction_rolls_back(live_worker, pmo):
    # given
    objective = ObjectiveFactory()
    initiative = InitiativeFactory(objectives=[objective])
    milestone = MilestoneFactory(initiative=initiative, owner=pmo)
    redis_client = celery_app.connection_for_write().default_channel.client
    # creating them committed at once and queued the dependency graph's ripple sync: let the
    # worker take it so the queue holds only what the change below might send
    assert wait_for(lambda: redis_client.llen(live_worker) == 0), "the worker left work queued"

    # when: the change is rolled back
    def change_then_abort() -> None:
        with transaction.atomic():
            services.milestone_report_progress(
                actor=pmo, milestone=milestone, status=MilestoneStatus.DONE
            )
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        change_then_abort()

    # then: nothing was sent to the worker's queue and the objective was never computed
    assert redis_client.llen(live_worker) == 0
    time.sleep(1)
    objective.refresh_from_db()
    assert objective.progress is None
