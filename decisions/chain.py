"""The tamper-evident decision log: one hash chain over every `LogEntry`.

`append(...)` is the only way an entry is written. Appends are serialised (on PostgreSQL by a
transaction-level advisory lock held until the caller's transaction ends; SQLite serialises
writes already), so the sequence has no gaps or duplicates: `sequence` = last + 1, `prev_hash` =
the last entry's hash (64 zeros for the first), and

    hash = sha256(prev_hash + canonical JSON of {"sequence", "kind", "decision", "actor",
                                                 "occurred_at", "payload"})

where canonical JSON has sorted keys, no whitespace, UTF-8, every number written as a double
(5 → 5.0, so a value reads back the same from SQLite's JSON or PostgreSQL's jsonb), and
`occurred_at` is ISO 8601 in UTC.

The payloads (what `verify_chain` checks against the rows):

- creation (`decision_proposed` or `decision_decided`, the decision's first entry):
  `{"content": <decision_contents()>, "status": ..., + the decided block when decided}`;
  `Decision.hash` is this entry's hash;
- `decision_decided`: `{"status": "decided", "decided_by_name", "decided_by_role",
  "decided_on", "note"}`;
- `decision_superseded`: `{"status": "superseded", "superseded_by": <id>}`;
- `effectiveness_reviewed`: `{"effectiveness": <Effectiveness>, "note": <text>, ...}` (any
  further keys are kept as evidence): `Decision.effectiveness` must equal the latest one's
  `effectiveness` and `Decision.effectiveness_note` its `note`.

`verify_chain()` recomputes every entry's hash and link, re-derives each decision's canonical
content from its current rows (decision, KPIs, reallocation lines) and compares it with its
creation entry, and checks the status, decider and effectiveness columns against the latest
entries: it names the first broken row. See docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from decisions.choices import DecisionStatus, Effectiveness, LogEntryKind
from decisions.models import Decision, LogEntry, Reallocation

GENESIS = "0" * 64
# The PostgreSQL advisory lock that serialises appends (an arbitrary, fixed 64-bit key).
LOCK_KEY = 0x60_7E_DEC1_5105
CREATION_KINDS = (LogEntryKind.DECISION_PROPOSED, LogEntryKind.DECISION_DECIDED)
DECIDED_FIELDS = ("decided_by_name", "decided_by_role", "decided_on")

CONTENT_FIELDS = (
    "title", "context", "options_considered", "chosen_option", "rationale", "department_id",
    "exception_id", "initiative_id", "contract_id", "objective_id", "tradeoff_objective_id",
    "tradeoff_initiative_id", "tradeoff_statement", "expected_kpi_id", "expected_kind",
    "expected_value", "review_date", "proposed_by_name", "supersedes_id", "cross_department",
    "contingency_plan_id", "review_session_id", "created_at",
)  # fmt: skip
LINE_FIELDS = (
    "id", "from_initiative_id", "from_department_id", "to_initiative_id", "to_department_id",
    "amount", "unit",
)  # fmt: skip


# --- Canonical form ---------------------------------------------------------------------------


def _key(name: str) -> str:
    return name.removesuffix("_id") if name != "id" else name


def _doubles(value: Any) -> Any:
    """Every number as a double, recursively (booleans stay booleans)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _doubles(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_doubles(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """`value` as JSON-native data (dates and datetimes ISO, decimals as text): what a JSONField
    gives back."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def canonical_json(value: Any) -> str:
    return json.dumps(
        _doubles(plain(value)), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def entry_hash(
    *,
    prev_hash: str,
    sequence: int,
    kind: str,
    decision_id: int,
    actor_name: str,
    occurred_at: dt.datetime,
    payload: Any,
) -> str:
    document = {
        "sequence": sequence,
        "kind": str(kind),
        "decision": decision_id,
        "actor": actor_name,
        "occurred_at": iso_utc(occurred_at),
        "payload": payload,
    }
    return hashlib.sha256((prev_hash + canonical_json(document)).encode("utf-8")).hexdigest()


def _amount(value) -> str:
    return f"{value:.2f}"


def decision_contents(decision_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The canonical content of these decisions as stored now, in three queries: every content
    field (relations by id, dates ISO, `created_at` ISO in UTC), `kpis` (ids, sorted) and
    `reallocations` (lines by id, amounts as text with two decimals)."""
    ids = list(decision_ids)
    contents: dict[int, dict[str, Any]] = {}
    for row in Decision.objects.filter(pk__in=ids).order_by().values("pk", *CONTENT_FIELDS):
        content = {_key(name): row[name] for name in CONTENT_FIELDS}
        content["review_date"] = row["review_date"].isoformat() if row["review_date"] else None
        content["created_at"] = iso_utc(row["created_at"])
        content["kpis"] = []
        content["reallocations"] = []
        contents[row["pk"]] = content
    for decision_id, kpi_id in (
        Decision.kpis.through.objects.filter(decision_id__in=ids)
        .order_by("decision_id", "kpi_id")
        .values_list("decision_id", "kpi_id")
    ):
        contents[decision_id]["kpis"].append(kpi_id)
    for row in (
        Reallocation.objects.filter(decision_id__in=ids)
        .order_by("decision_id", "id")
        .values("decision_id", *LINE_FIELDS)
    ):
        line = {_key(name): row[name] for name in LINE_FIELDS}
        line["amount"] = _amount(row["amount"])
        contents[row["decision_id"]]["reallocations"].append(line)
    return contents


def decided_block(decision: Decision | Mapping[str, Any]) -> dict[str, Any]:
    """Who decided, in which role and on which day: as logged and as compared."""
    get = decision.get if isinstance(decision, Mapping) else lambda name: getattr(decision, name)
    decided_on = get("decided_on")
    return {
        "decided_by_name": get("decided_by_name"),
        "decided_by_role": str(get("decided_by_role")),
        "decided_on": decided_on.isoformat() if decided_on else None,
    }


# --- Appending --------------------------------------------------------------------------------


def actor_name(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return "system"
    return (actor.get_full_name() or actor.get_username())[:150]


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def append(*, kind: str, decision: Decision, actor, payload: Mapping[str, Any]) -> LogEntry:
    """Append one entry about `decision` to the chain and return it. Call it inside the
    transaction of the change it records: the entry commits or rolls back with it, and on
    PostgreSQL the lock taken here is held until that transaction ends."""
    if kind not in LogEntryKind.values:
        raise ValueError(f"Unknown log entry kind {kind!r}.")
    if decision.pk is None:
        raise ValueError("Save the decision before logging it.")
    with transaction.atomic():
        _lock()
        last = LogEntry.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = LogEntry(
            sequence=sequence,
            kind=kind,
            decision_id=decision.pk,
            actor=actor if actor is not None and getattr(actor, "pk", None) else None,
            actor_name=actor_name(actor),
            occurred_at=timezone.now(),
            payload=plain(dict(payload)),
            prev_hash=prev_hash,
        )
        entry.hash = entry_hash(
            prev_hash=prev_hash,
            sequence=sequence,
            kind=kind,
            decision_id=decision.pk,
            actor_name=entry.actor_name,
            occurred_at=entry.occurred_at,
            payload=entry.payload,
        )
        entry.save(force_insert=True)
    return entry


# --- Verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    """The first row that does not verify: the log entry (its sequence; None when a decision has
    no entry at all), the decision it concerns, and why."""

    sequence: int | None
    decision_id: int | None
    reason: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # log entries checked
    decisions: int  # decisions checked against their entries
    first_broken: BrokenLink | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _broken_order(problem: BrokenLink) -> tuple:
    # By position in the chain; a decision missing from the log comes after every entry.
    return (problem.sequence is None, problem.sequence or 0, problem.decision_id or 0)


def _differences(logged: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    names = sorted(set(logged) | set(current))
    return [n for n in names if _doubles(logged.get(n)) != _doubles(current.get(n))]


def verify_chain() -> Verification:
    """Walk the whole chain and every decision; report the first broken row (see the module
    docstring for what is checked). A constant number of queries, entries read in chunks."""
    problems: list[BrokenLink] = []
    chain_broken = False
    expected, prev_hash, checked = 1, GENESIS, 0
    creation: dict[int, tuple[int, str, dict]] = {}  # decision → (sequence, hash, payload)
    latest_status: dict[int, tuple[int, dict]] = {}
    latest_decided: dict[int, tuple[int, dict]] = {}
    latest_review: dict[int, tuple[int, dict]] = {}
    entries = LogEntry.objects.order_by("sequence").values_list(
        "sequence", "kind", "decision_id", "actor_name", "occurred_at", "payload", "prev_hash",
        "hash",
    )  # fmt: skip
    for sequence, kind, decision_id, actor, occurred_at, payload, prev, stored in entries.iterator(
        chunk_size=2000
    ):
        checked += 1
        if not chain_broken:
            reason = None
            if sequence != expected:
                reason = (
                    f"Entry #{expected} is missing: the chain goes from #{expected - 1} to "
                    f"#{sequence}."
                )
            elif prev != prev_hash:
                reason = (
                    f"Entry #{sequence} does not link to entry #{sequence - 1} (its previous "
                    "hash differs)."
                )
            elif stored != entry_hash(
                prev_hash=prev,
                sequence=sequence,
                kind=kind,
                decision_id=decision_id,
                actor_name=actor,
                occurred_at=occurred_at,
                payload=payload,
            ):
                reason = f"Entry #{sequence} was altered: its content no longer matches its hash."
            if reason is not None:
                chain_broken = True
                problems.append(BrokenLink(sequence, decision_id, reason))
        expected, prev_hash = sequence + 1, stored
        payload = payload if isinstance(payload, dict) else {}
        if decision_id not in creation:
            if kind not in CREATION_KINDS or "content" not in payload:
                problems.append(
                    BrokenLink(
                        sequence,
                        decision_id,
                        f"Entry #{sequence} is the first about D-{decision_id} but does not "
                        "record its content.",
                    )
                )
            creation[decision_id] = (sequence, stored, payload.get("content") or {})
        if "status" in payload:
            latest_status[decision_id] = (sequence, payload)
            if payload["status"] == DecisionStatus.DECIDED:
                latest_decided[decision_id] = (sequence, payload)
        if kind == LogEntryKind.EFFECTIVENESS_REVIEWED:
            latest_review[decision_id] = (sequence, payload)

    rows = {
        row["pk"]: row
        for row in Decision.objects.order_by().values(
            "pk", "hash", "status", "effectiveness", "effectiveness_note", *DECIDED_FIELDS
        )
    }
    contents = decision_contents(rows) if rows else {}
    for decision_id in sorted(set(creation) - set(rows)):
        sequence = creation[decision_id][0]
        problems.append(
            BrokenLink(sequence, decision_id, f"D-{decision_id} is in the log but not stored.")
        )
    for decision_id, row in rows.items():
        problem = _check_decision(
            decision_id,
            row,
            contents[decision_id],
            creation.get(decision_id),
            latest_status.get(decision_id),
            latest_decided.get(decision_id),
            latest_review.get(decision_id),
        )
        if problem is not None:
            problems.append(problem)
    first = min(problems, key=_broken_order) if problems else None
    return Verification(ok=first is None, checked=checked, decisions=len(rows), first_broken=first)


def _check_decision(
    decision_id: int,
    row: dict,
    content: dict,
    created: tuple[int, str, dict] | None,
    status: tuple[int, dict] | None,
    decided: tuple[int, dict] | None,
    review: tuple[int, dict] | None,
) -> BrokenLink | None:
    name = f"D-{decision_id}"
    if created is None:
        return BrokenLink(None, decision_id, f"{name} is stored but not in the log.")
    sequence, entry_hash_, logged = created
    changed = _differences(logged, plain(content))
    if changed:
        return BrokenLink(
            sequence,
            decision_id,
            f"{name} no longer matches its logged content (entry #{sequence}): "
            f"{', '.join(changed)} changed.",
        )
    if row["hash"] != entry_hash_:
        return BrokenLink(
            sequence, decision_id, f"{name}'s stored hash is not that of entry #{sequence}."
        )
    at, payload = status if status is not None else (sequence, {})
    if row["status"] != payload.get("status"):
        return BrokenLink(
            at,
            decision_id,
            f"{name} is {row['status']} but entry #{at} logs it as {payload.get('status')}.",
        )
    current = plain(decided_block(row))
    if decided is not None:
        at, payload = decided
        changed = _differences({k: payload.get(k) for k in current}, current)
    else:
        changed = [k for k in current if current[k] not in ("", None)]
    if changed:
        return BrokenLink(
            at, decision_id, f"{name}'s decider ({', '.join(changed)}) differs from entry #{at}."
        )
    if review is None:
        if row["effectiveness"] != Effectiveness.PENDING:
            return BrokenLink(
                sequence,
                decision_id,
                f"{name} is marked {row['effectiveness']} but no review is logged.",
            )
        return None
    at, payload = review
    if row["effectiveness"] != payload.get("effectiveness") or (
        "note" in payload and row["effectiveness_note"] != payload["note"]
    ):
        return BrokenLink(
            at,
            decision_id,
            f"{name}'s effectiveness ({row['effectiveness']}) differs from review entry #{at}.",
        )
    return None
