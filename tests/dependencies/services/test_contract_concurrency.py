"""Two people editing the same contract at once: the row lock and the revision let exactly one
win; the other is told its revision is stale and writes nothing. Needs PostgreSQL's row locks
(SQLite serialises whole transactions instead)."""

import threading

import pytest
from django.db import connection

from dependencies.services import contracts as services
from govern.errors import ConflictError
from govern.models import AuditEvent
from tests.dependencies.contract_support import build_world, draft


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_edits_from_the_same_revision_exactly_one_wins():
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL")
    # given
    world = build_world()
    contract = draft(world)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(title: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.contract_update(
                actor=world.pmo, contract=contract, data={"title": title}, revision=1
            )
            outcomes[title] = "saved"
        except ConflictError as exc:
            outcomes[title] = exc.code
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=edit, args=(title,)) for title in ("Mine", "Yours")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(outcomes.values()) == ["saved", "stale"]
    winner = next(title for title, outcome in outcomes.items() if outcome == "saved")
    contract.refresh_from_db()
    assert (contract.title, contract.revision) == (winner, 2)
    assert (
        AuditEvent.objects.filter(subject_type="dependencies.contract", action="update").count()
        == 1
    )
