"""A real Celery worker in its own process, against Redis and the test database.

Needs REDIS_URL and a database the worker process can share (PostgreSQL); on the embedded default
the tests that use it skip with the reason, and under CI (GOVERN_REQUIRE_SERVICES=1) a skip is a
failure. Use the `live_worker` fixture (registered in tests/conftest.py; it yields the worker's
private queue name) and `wait_for(predicate)`.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from govern.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SERVICES = os.environ.get("GOVERN_REQUIRE_SERVICES") == "1"


def require_service(available: bool, reason: str) -> None:
    """Skip when a service is missing on a developer machine; fail when CI requires it."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"GOVERN_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


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


def wait_for(predicate, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
