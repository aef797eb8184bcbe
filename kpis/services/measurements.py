"""The one write path for actuals: the API, spreadsheet imports and the KPI page all call
`measurements_record`.

Validation is set-based and reports every bad row at once: one query resolves the batch's KPI
codes with the actor's right to record on each, one query loads the measurements of exactly the
batch's (KPI, period) pairs. Nothing is written unless every row is valid (all or nothing). The
writes are set-based too: new measurements are inserted with a binary COPY (PostgreSQL) or a
multi-row INSERT (SQLite), the revisions of corrected ones inserted and corrected measurements
updated with multi-row statements, their number depending on the batch size only through the
database's parameter limit (one statement per ~4,000 rows), never one query per row or per KPI.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from govern.audit import _actor_name
from govern.choices import AuditAction
from govern.errors import ApplicationError
from govern.models import AuditEvent
from govern.permissions import VIEW
from kpis.choices import MeasurementSource
from kpis.models import Kpi, Measurement, MeasurementRevision
from kpis.periods import is_period_start, not_a_period_start_message
from kpis.permissions import RECORD
from kpis.services import governance, pgcopy

MAX_ABS_VALUE = 1e15
CHANGES_SAMPLE = 200  # changes kept in the report for previews
# Bound parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
MAX_PARAMS = 30_000
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NOT_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass
class MeasurementRow:
    """One actual to record. `row` is the caller's row number, used in messages."""

    row: int
    kpi_code: str
    period: dt.date | str
    value: float | str
    note: str = ""
    column: str = ""  # the caller's label of the value's cell (spreadsheets), for messages


@dataclass(frozen=True)
class RowError:
    row: int
    field: str  # "kpi", "period", "value" or "note"
    message: str
    column: str = ""  # the caller's column label, when the row came from a spreadsheet

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class IngestReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # A sample (the first CHANGES_SAMPLE) of what changes: {kpi, period, old, new}; old is None
    # for a new measurement.
    changes: list[dict] = field(default_factory=list)
    kpi_ids: list[int] = field(default_factory=list)  # the KPIs whose actuals changed
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


class IngestRefused(ApplicationError):
    """Some rows are not valid: nothing was written. `details["rows"]` lists every bad row."""

    default_code = "invalid_rows"

    def __init__(self, report: IngestReport) -> None:
        self.report = report
        count = len(report.errors)
        bad_rows = len({e.row for e in report.errors})
        super().__init__(
            f"{bad_rows} of {report.rows} rows {'is' if bad_rows == 1 else 'are'} not valid "
            f"({count} error{'' if count == 1 else 's'}); nothing was written.",
            details={"rows": [e.as_dict() for e in report.errors]},
        )


# --- Parsing one row --------------------------------------------------------------------------


def parse_period(raw: Any) -> dt.date:
    """A date from a date, a datetime or ISO text; ValueError with the message otherwise."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise ValueError("Enter the period as a date (YYYY-MM-DD).")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01."
        ) from None


def parse_value(raw: Any) -> float:
    """A finite number of sensible size; ValueError with the message otherwise."""
    if isinstance(raw, bool):
        raise ValueError(f"'{raw}' is not a number.")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise ValueError("Enter a value.")
        if text.lower() in _NOT_FINITE:
            raise ValueError(f"'{text}' is not a finite number; enter a number.")
        if not _NUMBER.match(text):
            if "," in text and _NUMBER.match(text.replace(",", ".", 1)):
                raise ValueError(f"'{text}' is not a number; use a dot as the decimal separator.")
            raise ValueError(f"'{text}' is not a number.")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"'{raw}' is not a finite number; enter a number.")
    if abs(number) > MAX_ABS_VALUE:
        raise ValueError(f"{number:g} is too large; values must lie within ±1e15.")
    return number


# --- The write path ---------------------------------------------------------------------------


def measurements_record(
    *,
    actor,
    rows: Sequence[MeasurementRow],
    source: str,
    dry_run: bool = False,
    max_rows: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Validate every row, then upsert all of them or none (raises `IngestRefused`).

    `max_rows` defaults to GOVERN_MEASUREMENTS_MAX_ROWS (imports pass their own limit);
    `on_progress(rows_written)` is called after each written chunk. With `dry_run` nothing is
    written or queued; the report carries the counts and the sample of changes."""
    if source not in MeasurementSource.values:
        raise ValueError(f"Unknown measurement source {source!r}")
    limit = settings.GOVERN_MEASUREMENTS_MAX_ROWS if max_rows is None else max_rows
    if len(rows) > limit:
        raise ApplicationError(
            f"Too many rows: {len(rows):,}. Send at most {limit:,} rows at a time.",
            code="too_many_rows",
            details={"rows": len(rows), "limit": limit},
        )
    report = IngestReport(rows=len(rows), dry_run=dry_run)
    with transaction.atomic():
        plan = _validate(actor, rows, report, lock=not dry_run)
        if report.errors:
            raise IngestRefused(report)
        if not dry_run and (plan.new or plan.changed):
            _write(actor, source, plan, report, on_progress)
    return report


class _KpiInfo(NamedTuple):
    """What validation needs of a KPI: a tuple, not a model instance per KPI of the batch."""

    id: int
    code: str
    name: str
    frequency: str
    is_active: bool
    may_record: bool

    def __str__(self) -> str:  # as Kpi.__str__
        return f"{self.code} — {self.name}"


@dataclass
class _Plan:
    new: list[tuple[int, dt.date, float, str]] = field(default_factory=list)
    changed: list[tuple[Measurement, float, str]] = field(default_factory=list)
    kpis: dict[int, _KpiInfo] = field(default_factory=dict)


def _validate(actor, rows: Sequence[MeasurementRow], report: IngestReport, *, lock: bool):
    codes = ["" if item.kpi_code is None else str(item.kpi_code).strip() for item in rows]

    # One query: the KPIs the actor may see among the batch's codes, with their RECORD right.
    kpis = {
        kpi.code: kpi
        for kpi in map(
            _KpiInfo._make,
            Kpi.objects.restrict(actor, VIEW)
            .filter(code__in={code.upper() for code in codes if code})
            .annotate(
                may_record=Exists(Kpi.objects.restrict(actor, RECORD).filter(pk=OuterRef("pk")))
            )
            .values_list(*_KpiInfo._fields),
        )
    }

    # What each KPI of the batch refuses, worked out once per KPI rather than once per row.
    refusals: dict[str, str | None] = {}
    for kpi in kpis.values():
        if not kpi.is_active:
            refusals[kpi.code] = f"KPI {kpi.code} is inactive; it takes no new actuals."
        elif not kpi.may_record:
            refusals[kpi.code] = (
                f"You are not allowed to record actuals for KPI {kpi.code}: only its owner, "
                "its department's leads and the PMO may."
            )
        else:
            refusals[kpi.code] = None
    starts: dict[tuple[dt.date, str], bool] = {}  # (period, frequency): is a period start

    # One pass over the rows. Errors in a row's own cells are listed before those found against
    # its KPI (then both are sorted by row), as when they were two passes.
    errors: list[RowError] = []
    kpi_errors: list[RowError] = []
    valid: list[tuple[MeasurementRow, _KpiInfo, dt.date, float]] = []
    first_row: dict[tuple[int, dt.date], int] = {}
    for item, code in zip(rows, codes, strict=True):
        if not code:
            errors.append(RowError(item.row, "kpi", "Enter a KPI code."))
        period = value = None
        raw_period, raw_value = item.period, item.value
        # The common case without a call: a date and a finite float of sensible size.
        if type(raw_period) is dt.date:
            period = raw_period
        else:
            try:
                period = parse_period(raw_period)
            except ValueError as exc:
                errors.append(RowError(item.row, "period", str(exc), item.column))
        if type(raw_value) is float and -MAX_ABS_VALUE <= raw_value <= MAX_ABS_VALUE:
            value = raw_value
        else:
            try:
                value = parse_value(raw_value)
            except ValueError as exc:
                errors.append(RowError(item.row, "value", str(exc), item.column))

        kpi = kpis.get(code.upper()) if code else None
        row_ok = True
        if code and kpi is None:
            kpi_errors.append(RowError(item.row, "kpi", f"Unknown KPI code '{code}'."))
            row_ok = False
        elif kpi is not None and refusals[kpi.code] is not None:
            kpi_errors.append(RowError(item.row, "kpi", refusals[kpi.code]))
            row_ok = False
        if kpi is not None and period is not None:
            start_key = (period, kpi.frequency)
            is_start = starts.get(start_key)
            if is_start is None:
                is_start = starts[start_key] = is_period_start(period, kpi.frequency)
            if not is_start:
                kpi_errors.append(
                    RowError(
                        item.row,
                        "period",
                        not_a_period_start_message(period, kpi.frequency),
                        item.column,
                    )
                )
                row_ok = False
        if not (row_ok and kpi is not None and period is not None and value is not None):
            continue
        key = (kpi.id, period)
        if key in first_row:
            kpi_errors.append(
                RowError(
                    item.row,
                    "period",
                    f"KPI {kpi.code} has two values for {period.isoformat()}: rows "
                    f"{first_row[key]} and {item.row}. Keep one.",
                    item.column,
                )
            )
            continue
        first_row[key] = item.row
        valid.append((item, kpi, period, value))

    errors += kpi_errors
    errors.sort(key=lambda e: (e.row, ("kpi", "period", "value", "note").index(e.field)))
    report.errors = errors
    plan = _Plan(kpis={kpi.id: kpi for kpi in kpis.values()})
    if errors or not valid:
        return plan

    # One query: the measurements of exactly the batch's (kpi, period) pairs.
    existing = {
        (m.kpi_id, m.period): m
        for m in _existing([(kpi.id, period) for _, kpi, period, _ in valid], lock=lock)
    }

    touched: set[int] = set()
    for item, kpi, period, value in valid:
        note = (item.note or "").strip()
        current = existing.get((kpi.id, period))
        if current is None:
            plan.new.append((kpi.id, period, value, note))
            report.created += 1
            old = None
        elif current.value == value and (not note or note == current.note):
            report.unchanged += 1
            continue
        else:
            plan.changed.append((current, value, note))
            report.updated += 1
            old = current.value
        touched.add(kpi.id)
        if len(report.changes) < CHANGES_SAMPLE:
            report.changes.append(
                {"kpi": kpi.code, "period": period.isoformat(), "old": old, "new": value}
            )
    report.kpi_ids = sorted(touched)
    return plan


def _existing(pairs: list[tuple[int, dt.date]], *, lock: bool):
    """The measurements of these (kpi_id, period) pairs, in one query whatever their number: the
    pairs are joined as two arrays (PostgreSQL) or one JSON array (SQLite), not a growing OR.
    With `lock` (PostgreSQL) the rows found are locked until the transaction ends."""
    table = connection.ops.quote_name(Measurement._meta.db_table)
    columns = ", ".join(
        f"m.{connection.ops.quote_name(f.column)}" for f in Measurement._meta.fields
    )
    if connection.vendor == "postgresql":
        # One index probe per pair (LIMIT 1 keeps the planner from hashing the whole table;
        # the pair is unique anyway), locking what it finds.
        sql = (
            f"SELECT {columns} FROM unnest(%s::bigint[], %s::date[]) AS v(kpi_id, period) "
            f"CROSS JOIN LATERAL (SELECT * FROM {table} m "
            "WHERE m.kpi_id = v.kpi_id AND m.period = v.period LIMIT 1"
            f"{' FOR UPDATE' if lock else ''}) m"
        )
        # Array literals: two text parameters the server parses at once, not 2 × n adapted ones.
        params = [
            "{" + ",".join(str(k) for k, _ in pairs) + "}",
            "{" + ",".join(p.isoformat() for _, p in pairs) + "}",
        ]
    else:
        sql = (
            f"SELECT {columns} FROM json_each(%s) AS v JOIN {table} m "
            "ON m.kpi_id = json_extract(v.value, '$[0]') "
            "AND m.period = json_extract(v.value, '$[1]')"
        )
        params = [json.dumps([[k, p.isoformat()] for k, p in pairs])]
    return Measurement.objects.raw(sql, params)


def _write(actor, source: str, plan: _Plan, report: IngestReport, on_progress) -> None:
    from kpis.tasks import kpi_recompute

    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    done = 0
    new_chunk = MAX_PARAMS // 8
    for start in range(0, len(plan.new), new_chunk):
        chunk = plan.new[start : start + new_chunk]
        if connection.vendor == "postgresql":
            _copy_new(chunk, source, actor_id, now)
        else:
            _insert_new(chunk, source, actor_id, now)
        done += len(chunk)
        if on_progress:
            on_progress(done)

    revised: dict[int, dict[str, dict]] = {}
    changed_chunk = MAX_PARAMS // 9
    for start in range(0, len(plan.changed), changed_chunk):
        chunk = plan.changed[start : start + changed_chunk]
        _insert(
            MeasurementRevision,
            REVISION_COLUMNS,
            [_revision_of(m, now, actor_id) for m, _, _ in chunk],
        )
        update_by_pk(
            Measurement,
            ("value", "source", "entered_by", "note", "recorded_at", "revision"),
            [(m.pk, v, source, actor_id, n, now, m.revision + 1) for m, v, n in chunk],
        )
        for m, value, _ in chunk:
            revised.setdefault(m.kpi_id, {})[m.period.isoformat()] = {"old": m.value, "new": value}
        done += len(chunk)
        if on_progress:
            on_progress(done)

    if revised:
        label = MeasurementSource(source).label.lower()
        AuditEvent.objects.bulk_create(
            AuditEvent(
                actor=actor if actor_id else None,
                actor_name=_actor_name(actor),
                action=AuditAction.REVISE,
                subject_type=Kpi._meta.label_lower,
                subject_id=str(kpi_id),
                subject_name=str(plan.kpis[kpi_id])[:255],
                changes=dict(sorted(changes.items())),
                reason=f"Actuals corrected ({label}).",
            )
            for kpi_id, changes in sorted(revised.items())
        )
        # Actuals revised after the fact beyond a threshold: a target-gaming signal.
        governance.revisions_check(
            revised=revised,
            frequencies={kpi_id: plan.kpis[kpi_id].frequency for kpi_id in revised},
            actor=actor,
            now=now,
        )
    Kpi.objects.filter(pk__in=report.kpi_ids).update(inputs_changed_at=now)
    kpi_recompute.delay_on_commit(kpi_ids=report.kpi_ids)


REVISION_COLUMNS = (
    "measurement", "revision", "value", "source", "entered_by", "note", "recorded_at",
    "superseded_at", "superseded_by",
)  # fmt: skip


def _revision_of(m: Measurement, now: dt.datetime, actor_id: int | None) -> tuple:
    """The superseded value of `m` as a MeasurementRevision row (REVISION_COLUMNS)."""
    return (m.pk, m.revision, m.value, m.source, m.entered_by_id, m.note, m.recorded_at, now,
            actor_id)  # fmt: skip


# --- Multi-row statements ---------------------------------------------------------------------

NEW_COLUMNS = ("kpi", "period", "value", "source", "entered_by", "note", "recorded_at", "revision")
_PG_EPOCH = dt.date(2000, 1, 1).toordinal()
_PG_EPOCH_AT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_COPY_HEAD = struct.Struct(">hiqiiid")  # field count; kpi_id int8; period date; value float8


def _insert_new(rows: list[tuple], source: str, actor_id: int | None, now: dt.datetime) -> None:
    """New measurements (kpi_id, period, value, note) as one multi-row INSERT. The columns every
    row shares are adapted for the database once, not once per row."""
    fields = dict(zip(NEW_COLUMNS, _columns(Measurement, NEW_COLUMNS), strict=True))
    shared = [
        fields[name].get_db_prep_save(value, connection)
        for name, value in (("source", source), ("entered_by", actor_id))
    ]
    stamp = fields["recorded_at"].get_db_prep_save(now, connection)
    adapt_date = connection.ops.adapt_datefield_value
    _insert_prepared(
        Measurement,
        NEW_COLUMNS,
        [(k, adapt_date(p), v, *shared, n, stamp, 1) for k, p, v, n in rows],
    )


def _copy_new(rows: list[tuple], source: str, actor_id: int | None, now: dt.datetime) -> None:
    """PostgreSQL: new measurements (kpi_id, period, value, note) in one binary COPY, each row
    packed straight into the format (see `pgcopy`): no parameter to adapt or SQL to parse."""
    # The columns every row shares, packed once: source, entered_by and (after the note)
    # recorded_at and revision.
    source_bytes = source.encode()
    shared = struct.pack(">i", len(source_bytes)) + source_bytes
    shared += struct.pack(">i", -1) if actor_id is None else struct.pack(">iq", 8, actor_id)
    micros = (now - _PG_EPOCH_AT) // dt.timedelta(microseconds=1)
    tail = struct.pack(">iqii", 8, micros, 4, 1)
    head, length = _COPY_HEAD.pack, struct.Struct(">i").pack
    parts = [pgcopy.SIGNATURE]
    for kpi_id, period, value, note in rows:
        text = note.encode()
        parts.append(
            head(len(NEW_COLUMNS), 8, kpi_id, 4, period.toordinal() - _PG_EPOCH, 8, value)
            + shared
            + length(len(text))
            + text
            + tail
        )
    parts.append(pgcopy.TRAILER)
    fields = _columns(Measurement, NEW_COLUMNS)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {quote(Measurement._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(b"".join(parts)),
        )


def _columns(model: type[models.Model], names: Iterable[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _insert(model: type[models.Model], names: Sequence[str], rows: list[tuple]) -> None:
    """One INSERT … VALUES (…), (…) for all `rows` (the caller keeps them under MAX_PARAMS)."""
    if not rows:
        return
    fields = _columns(model, names)
    _insert_prepared(
        model,
        names,
        [
            tuple(
                f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=True)
            )
            for row in rows
        ],
    )


def _insert_prepared(model: type[models.Model], names: Sequence[str], rows: list[tuple]) -> None:
    """`_insert` of rows whose values are already adapted for the database."""
    fields = _columns(model, names)
    quote = connection.ops.quote_name
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([placeholder] * len(rows))}"
    )
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def update_by_pk(model: type[models.Model], names: Sequence[str], rows: list[tuple]) -> None:
    """One UPDATE … FROM (VALUES …) for all `rows` = (pk, *values). A CASE per row (what
    `bulk_update` writes) costs rows² comparisons; a join on the primary key does not."""
    if not rows:
        return
    fields = _columns(model, names)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    postgres = connection.vendor == "postgresql"
    width = len(fields) + 1
    placeholder = "(" + ", ".join(["%s"] * width) + ")"
    aliases = ["pk", *(f"c{i}" for i in range(len(fields)))]

    def typed(alias: str, f: models.Field) -> str:
        # PostgreSQL types a VALUES column from its first values; name the type explicitly.
        return f"CAST(v.{alias} AS {f.db_type(connection)})" if postgres else f"v.{alias}"

    if postgres:
        values = f"(VALUES {', '.join([placeholder] * len(rows))}) AS v({', '.join(aliases)})"
    else:  # SQLite names VALUES columns column1, column2, …
        values = (
            f"(SELECT {', '.join(f'column{i + 1} AS {a}' for i, a in enumerate(aliases))} "
            f"FROM (VALUES {', '.join([placeholder] * len(rows))})) AS v"
        )
    assignments = ", ".join(
        f"{quote(f.column)} = {typed(alias, f)}"
        for f, alias in zip(fields, aliases[1:], strict=True)
    )
    pk = model._meta.pk
    sql = (
        f"UPDATE {table} SET {assignments} FROM {values} "
        f"WHERE {table}.{quote(pk.column)} = {typed('pk', pk) if postgres else 'v.pk'}"
    )
    params = []
    for pk_value, *values_ in rows:
        params.append(pk_value)
        params.extend(
            f.get_db_prep_save(value, connection) for f, value in zip(fields, values_, strict=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
