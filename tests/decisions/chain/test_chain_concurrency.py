"""Appends from two connections at once make one consistent chain: the advisory lock serialises
them, so no sequence is taken twice and every entry links to the one before. Needs PostgreSQL
(SQLite serialises whole write transactions instead)."""

import threading

import pytest
from django.db import connection

from decisions import chain, services
from decisions.models import LogEntry
from tests.decisions.log_support import build_world, payload

PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_two_threads_appending_make_a_single_consistent_chain():
    if connection.vendor != "postgresql":
        pytest.skip("the advisory lock and concurrent writers need PostgreSQL")
    # given
    world = build_world()
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def log_decisions(actor) -> None:
        try:
            barrier.wait(timeout=10)
            for index in range(PER_THREAD):
                data = payload(world, title=f"{actor.first_name} {index}", exception=None)
                services.decision_log(actor=actor, data=data)
        except BaseException as exc:  # reported below, with the thread's own error
            failures.append(exc)
        finally:
            connection.close()

    # when
    threads = [
        threading.Thread(target=log_decisions, args=(person,)) for person in (world.lead, world.pmo)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert failures == []
    sequences = list(LogEntry.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 2 * PER_THREAD + 1))
    assert chain.verify_chain() == chain.Verification(
        ok=True, checked=2 * PER_THREAD, decisions=2 * PER_THREAD, first_broken=None
    )
