"""A real Celery worker process against Redis and the test database: work queued on commit runs.

Needs REDIS_URL and a database the worker process can share (PostgreSQL); on the embedded
default these skip with the reason, and under CI (GOVERN_REQUIRE_SERVICES=1) a skip is a failure.
"""

import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from govern import services
from govern.celery import app as celery_app
from govern.choices import MilestoneStatus
from tests.conftest import require_service
from tests.factories import InitiativeFactory, MilestoneFactory, ObjectiveFactory

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _redis_available() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False
    return True


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


@pytest.fixture
def live_worker(transactional_db):
    """Start `celery worker` in its own process on a queue of its own; yield the queue name."""
    require_service(_redis_available(), "REDIS_URL is not set or Redis is unreachable")
    require_service(
        connection.vendor == "postgresql",
        "the worker process must share the test database: run the suite on PostgreSQL",
    )
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govern.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "govern", "worker", "--pool=solo",
            "--concurrency=1", "-Q", queue, "-n", f"{queue}@%h", "--without-gossip",
            "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        _wait_until_ready(process, queue)
        yield queue
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_ready(process: subprocess.Popen, queue: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{process.stdout.read()}")
        replies = celery_app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1)
        if replies:
            return
    process.kill()
    raise AssertionError(f"the worker did not answer within {timeout} s:\n{process.stdout.read()}")


def _wait_for(predicate, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


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

    assert _wait_for(computed), "the worker did not run the task queued on commit"
    assert objective.progress == Decimal("50.0")
    assert objective.progress_updated_at is not None


def test_nothing_is_queued_when_the_transaction_rolls_back(live_worker, pmo):
    # given
    objective = ObjectiveFactory()
    initiative = InitiativeFactory(objectives=[objective])
    milestone = MilestoneFactory(initiative=initiative, owner=pmo)
    redis_client = celery_app.connection_for_write().default_channel.client

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
