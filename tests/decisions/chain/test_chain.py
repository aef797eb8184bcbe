"""The tamper-evident decision log: the chain's format, an untouched chain that verifies, and rows
altered directly in the database that make `verify_chain()` and `manage.py verify_audit` fail at
the altered row."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from decisions import chain, selectors, services
from decisions.choices import LogEntryKind
from decisions.models import Decision, LogEntry, Reallocation
from tests.decisions.log_support import logged, payload


def _history(world) -> tuple[Decision, Decision, Decision]:
    """Four entries: a decided decision, a proposed one, and a correction superseding the
    first."""
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "1500.5", "unit": "currency"}  # fmt: skip
    first = logged(world, reallocations=[line])
    proposed = logged(world, world.contributor, propose=True, exception=None)
    correction = services.decision_supersede(
        actor=world.lead,
        decision=first,
        data=payload(world, title="Discount by 5% only", exception=None),
    )
    return first, proposed, correction


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_canonical_json_sorts_keys_drops_whitespace_and_writes_numbers_as_doubles():
    # when
    text = chain.canonical_json({"b": 1, "a": [1.5, True, None, "é"], "c": {"z": 10**16}})

    # then
    assert text == '{"a":[1.5,true,null,"é"],"b":1.0,"c":{"z":1e+16}}'


def test_an_entry_hash_is_sha256_of_the_previous_hash_and_the_canonical_entry():
    # given
    moment = dt.datetime(2026, 4, 1, 9, 30, tzinfo=dt.UTC)
    document = (
        '{"actor":"Lea Lead","decision":7.0,"kind":"decision_superseded",'
        '"occurred_at":"2026-04-01T09:30:00+00:00","payload":{"status":"superseded",'
        '"superseded_by":8.0},"sequence":3.0}'
    )

    # when
    found = chain.entry_hash(
        prev_hash="a" * 64,
        sequence=3,
        kind="decision_superseded",
        decision_id=7,
        actor_name="Lea Lead",
        occurred_at=moment,
        payload={"status": "superseded", "superseded_by": 8},
    )

    # then
    assert found == hashlib.sha256(("a" * 64 + document).encode()).hexdigest()


def test_entries_link_in_sequence_from_the_genesis_hash(world):
    # when
    first, proposed, correction = _history(world)

    # then
    entries = list(LogEntry.objects.order_by("sequence"))
    assert [(e.sequence, e.kind, e.decision_id) for e in entries] == [
        (1, LogEntryKind.DECISION_DECIDED, first.pk),
        (2, LogEntryKind.DECISION_PROPOSED, proposed.pk),
        (3, LogEntryKind.DECISION_DECIDED, correction.pk),
        (4, LogEntryKind.DECISION_SUPERSEDED, first.pk),
    ]
    assert entries[0].prev_hash == chain.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert entries[3].payload == {"status": "superseded", "superseded_by": correction.pk}
    assert entries[0].payload["content"]["reallocations"] == [
        {
            "id": first.reallocations.get().pk,
            "from_initiative": world.initiative.pk,
            "from_department": None,
            "to_initiative": None,
            "to_department": world.sales.pk,
            "amount": "1500.50",
            "unit": "currency",
        }
    ]


def test_an_untouched_chain_verifies(world):
    # given
    _history(world)

    # when
    result = chain.verify_chain()

    # then
    assert result == chain.Verification(ok=True, checked=4, decisions=3, first_broken=None)


def test_an_empty_chain_verifies(db):
    # when
    result = chain.verify_chain()

    # then
    assert result == chain.Verification(ok=True, checked=0, decisions=0, first_broken=None)


def test_a_decision_altered_in_the_database_is_named(world):
    # given
    _, proposed, _ = _history(world)

    # when
    Decision.objects.filter(pk=proposed.pk).update(rationale="It was always the plan.")
    result = chain.verify_chain()

    # then
    assert result.ok is False
    assert result.first_broken == chain.BrokenLink(
        sequence=2,
        decision_id=proposed.pk,
        reason=f"D-{proposed.pk} no longer matches its logged content (entry #2): "
        "rationale changed.",
    )


def test_the_first_broken_row_is_reported(world):
    # given: two rows altered, the earlier one in the chain is reported
    first, proposed, _ = _history(world)
    Decision.objects.filter(pk=proposed.pk).update(title="Something else")
    Decision.objects.filter(pk=first.pk).update(department=world.procurement)

    # when
    result = chain.verify_chain()

    # then
    assert (result.first_broken.sequence, result.first_broken.decision_id) == (1, first.pk)
    assert result.first_broken.reason.endswith("department changed.")


def test_a_reallocation_altered_in_the_database_names_its_decision(world):
    # given
    first, _, _ = _history(world)

    # when
    _sql(
        f"UPDATE {Reallocation._meta.db_table} SET amount = %s WHERE decision_id = %s",
        ["9999.00", first.pk],
    )
    result = chain.verify_chain()

    # then
    assert result.first_broken == chain.BrokenLink(
        sequence=1,
        decision_id=first.pk,
        reason=f"D-{first.pk} no longer matches its logged content (entry #1): "
        "reallocations changed.",
    )


def test_a_log_entry_altered_in_the_database_is_named(world):
    # given
    _, _, correction = _history(world)
    entry = LogEntry.objects.get(sequence=3)

    # when
    _sql(
        f"UPDATE {LogEntry._meta.db_table} SET payload = %s WHERE id = %s",
        ['{"content": {}, "status": "decided"}', entry.pk],
    )
    result = chain.verify_chain()

    # then
    assert result.first_broken == chain.BrokenLink(
        sequence=3,
        decision_id=correction.pk,
        reason="Entry #3 was altered: its content no longer matches its hash.",
    )


def test_a_deleted_log_entry_breaks_the_chain(world):
    # given
    _history(world)

    # when
    _sql(f"DELETE FROM {LogEntry._meta.db_table} WHERE sequence = %s", [2])
    result = chain.verify_chain()

    # then
    assert result.first_broken.sequence == 3
    assert result.first_broken.reason == "Entry #2 is missing: the chain goes from #1 to #3."


def test_a_status_changed_behind_the_log_is_named(world):
    # given
    first, _, _ = _history(world)

    # when
    Decision.objects.filter(pk=first.pk).update(status="decided")
    result = chain.verify_chain()

    # then
    assert result.first_broken == chain.BrokenLink(
        sequence=4,
        decision_id=first.pk,
        reason=f"D-{first.pk} is decided but entry #4 logs it as superseded.",
    )


def test_an_effectiveness_verdict_set_without_its_entry_is_named(world):
    # given
    decision = logged(world)

    # when
    Decision.objects.filter(pk=decision.pk).update(effectiveness="effective")
    result = chain.verify_chain()

    # then
    assert result.first_broken == chain.BrokenLink(
        sequence=1,
        decision_id=decision.pk,
        reason=f"D-{decision.pk} is marked effective but no review is logged.",
    )


def test_an_effectiveness_verdict_with_its_entry_verifies(world):
    # given
    decision = logged(world)

    # when
    chain.append(
        kind=LogEntryKind.EFFECTIVENESS_REVIEWED,
        decision=decision,
        actor=None,
        payload={"effectiveness": "ineffective", "note": "Still red.", "actual": 81.5},
    )
    Decision.objects.filter(pk=decision.pk).update(
        effectiveness="ineffective", effectiveness_note="Still red."
    )

    # then
    assert chain.verify_chain().ok is True
    assert LogEntry.objects.get(sequence=2).actor_name == "system"


def test_a_decision_stored_without_its_entry_is_named(world):
    # given
    decision = logged(world)
    _sql(f"DELETE FROM {LogEntry._meta.db_table} WHERE decision_id = %s", [decision.pk])

    # when
    result = chain.verify_chain()

    # then
    assert result.first_broken == chain.BrokenLink(
        sequence=None,
        decision_id=decision.pk,
        reason=f"D-{decision.pk} is stored but not in the log.",
    )


def test_verify_audit_passes_on_an_untouched_chain(world):
    # given
    _history(world)
    out = io.StringIO()

    # when
    call_command("verify_audit", stdout=out)

    # then
    assert out.getvalue() == "The decision log verifies: 4 entries, 3 decisions.\n"


def test_verify_audit_fails_and_names_the_altered_row(world):
    # given
    first, _, _ = _history(world)
    Decision.objects.filter(pk=first.pk).update(rationale="Edited afterwards.")

    # when
    with pytest.raises(CommandError) as failed:
        call_command("verify_audit")

    # then
    assert str(failed.value) == (
        f"The decision log does not verify: first broken row at entry #1, decision "
        f"D-{first.pk}. D-{first.pk} no longer matches its logged content (entry #1): "
        "rationale changed. (4 entries checked.)"
    )


def test_the_chain_status_is_cached_until_the_next_entry(world, django_assert_num_queries):
    # given
    decision = logged(world)
    assert selectors.chain_status().ok is True
    Decision.objects.filter(pk=decision.pk).update(rationale="Edited afterwards.")

    # when: cached (one query: the last sequence) until the next entry is appended
    with django_assert_num_queries(1):
        cached = selectors.chain_status()
    logged(world, exception=None)
    fresh = selectors.chain_status()

    # then
    assert (cached.ok, cached.last_sequence) == (True, 1)
    assert (fresh.ok, fresh.last_sequence, fresh.first_broken.decision_id) == (
        False,
        2,
        decision.pk,
    )
