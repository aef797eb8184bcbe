"""The one write path for actuals: counts, revisions, no-ops, audit, recompute, every refusal."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govern.errors import ApplicationError
from govern.models import AuditEvent
from kpis.models import Kpi, Measurement, MeasurementRevision
from kpis.services.measurements import (
    IngestRefused,
    MeasurementRow,
    RowError,
    measurements_record,
)
from tests.factories import MeasurementFactory

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def _errors(exc_info) -> list[tuple[int, str, str]]:
    return [(e.row, e.field, e.message) for e in exc_info.value.report.errors]


def test_new_values_are_created_and_recompute_is_queued_once(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    rows = [
        MeasurementRow(1, "SALES-INTAKE", "2026-01-01", "120.5", note="From CRM"),
        MeasurementRow(2, "sales-intake", FEB, 118),
        MeasurementRow(3, "SALES-CALLS", "2026-03-02", 40),
    ]

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = measurements_record(actor=contributor, rows=rows, source="api")

    # then
    assert report.counts() == {"created": 3, "updated": 0, "unchanged": 0}
    assert list(
        Measurement.objects.order_by("kpi__code", "period").values_list(
            "kpi__code", "period", "value", "source", "entered_by", "note", "revision"
        )
    ) == [
        ("SALES-CALLS", dt.date(2026, 3, 2), 40.0, "api", contributor.pk, "", 1),
        ("SALES-INTAKE", JAN, 120.5, "api", contributor.pk, "From CRM", 1),
        ("SALES-INTAKE", FEB, 118.0, "api", contributor.pk, "", 1),
    ]
    assert len(callbacks) == 1
    assert recompute_calls == [{"kpi_ids": sorted([kpis.intake.pk, kpis.weekly.pk])}]
    assert AuditEvent.objects.count() == 0  # new actuals are data, not corrections


def test_a_changed_value_keeps_the_previous_one_as_a_revision(
    kpis, contributor, lead, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    recorded = timezone.now() - dt.timedelta(days=3)
    old = MeasurementFactory(
        kpi=kpis.intake, period=JAN, value=100.0, source="manual", entered_by=lead,
        note="First estimate", recorded_at=recorded,
    )  # fmt: skip
    before = Kpi.objects.get(pk=kpis.intake.pk).inputs_changed_at

    # when
    with django_capture_on_commit_callbacks(execute=True):
        report = measurements_record(
            actor=contributor,
            rows=[MeasurementRow(1, "SALES-INTAKE", JAN, 104.0, note="Final")],
            source="import",
        )

    # then
    assert report.counts() == {"created": 0, "updated": 1, "unchanged": 0}
    old.refresh_from_db()
    assert (old.value, old.source, old.entered_by, old.note, old.revision) == (
        104.0, "import", contributor, "Final", 2,
    )  # fmt: skip
    revision = MeasurementRevision.objects.get()
    assert (
        revision.measurement, revision.revision, revision.value, revision.source,
        revision.entered_by, revision.note, revision.recorded_at, revision.superseded_by,
    ) == (old, 1, 100.0, "manual", lead, "First estimate", recorded, contributor)  # fmt: skip
    event = AuditEvent.objects.get()
    assert (event.action, event.subject_type, event.subject_id, event.actor) == (
        "revise", "kpis.kpi", str(kpis.intake.pk), contributor,
    )  # fmt: skip
    assert event.changes == {"2026-01-01": {"old": 100.0, "new": 104.0}}
    assert Kpi.objects.get(pk=kpis.intake.pk).inputs_changed_at > before
    assert recompute_calls == [{"kpi_ids": [kpis.intake.pk]}]


def test_an_identical_value_is_a_no_op(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=100.0, note="CRM")
    before = Kpi.objects.get(pk=kpis.intake.pk).inputs_changed_at

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = measurements_record(
            actor=contributor, rows=[MeasurementRow(1, "SALES-INTAKE", JAN, "100")], source="api"
        )

    # then
    assert report.counts() == {"created": 0, "updated": 0, "unchanged": 1}
    assert Measurement.objects.get().revision == 1
    assert MeasurementRevision.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert Kpi.objects.get(pk=kpis.intake.pk).inputs_changed_at == before
    assert callbacks == []
    assert recompute_calls == []


def test_one_audit_event_per_kpi_lists_every_corrected_period(kpis, contributor, recompute_calls):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=100.0)
    MeasurementFactory(kpi=kpis.intake, period=FEB, value=90.0)

    # when
    report = measurements_record(
        actor=contributor,
        rows=[
            MeasurementRow(1, "SALES-INTAKE", JAN, 101),
            MeasurementRow(2, "SALES-INTAKE", FEB, 91),
            MeasurementRow(3, "SALES-INTAKE", MAR, 95),
        ],
        source="api",
    )

    # then
    assert report.counts() == {"created": 1, "updated": 2, "unchanged": 0}
    assert list(AuditEvent.objects.values_list("subject_id", "changes")) == [
        (
            str(kpis.intake.pk),
            {"2026-01-01": {"old": 100.0, "new": 101.0}, "2026-02-01": {"old": 90.0, "new": 91.0}},
        )
    ]
    assert MeasurementRevision.objects.count() == 2


def test_a_dry_run_reports_the_changes_and_writes_nothing(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks
):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=100.0)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = measurements_record(
            actor=contributor,
            rows=[
                MeasurementRow(1, "SALES-INTAKE", JAN, 110),
                MeasurementRow(2, "SALES-INTAKE", FEB, 5),
            ],
            source="import",
            dry_run=True,
        )

    # then
    assert report.counts() == {"created": 1, "updated": 1, "unchanged": 0}
    assert report.changes == [
        {"kpi": "SALES-INTAKE", "period": "2026-01-01", "old": 100.0, "new": 110.0},
        {"kpi": "SALES-INTAKE", "period": "2026-02-01", "old": None, "new": 5.0},
    ]
    assert list(Measurement.objects.values_list("period", "value")) == [(JAN, 100.0)]
    assert MeasurementRevision.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert callbacks == []
    assert recompute_calls == []


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (MeasurementRow(1, "NOPE-1", JAN, 1), "kpi", "Unknown KPI code 'NOPE-1'."),
        (MeasurementRow(1, "", JAN, 1), "kpi", "Enter a KPI code."),
        (
            MeasurementRow(1, "SALES-INTAKE", "2026-03-15", 1),
            "period",
            "2026-03-15 is not a monthly period start; did you mean 2026-03-01?",
        ),
        (
            MeasurementRow(1, "SALES-CALLS", "2026-03-04", 1),
            "period",
            "2026-03-04 is not a weekly period start; did you mean 2026-03-02?",
        ),
        (
            MeasurementRow(1, "SALES-INTAKE", "03/01/2026", 1),
            "period",
            "'03/01/2026' is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01.",
        ),
        (
            MeasurementRow(1, "SALES-INTAKE", "", 1),
            "period",
            "Enter the period as a date (YYYY-MM-DD).",
        ),
        (MeasurementRow(1, "SALES-INTAKE", JAN, "twelve"), "value", "'twelve' is not a number."),
        (
            MeasurementRow(1, "SALES-INTAKE", JAN, "12,5"),
            "value",
            "'12,5' is not a number; use a dot as the decimal separator.",
        ),
        (
            MeasurementRow(1, "SALES-INTAKE", JAN, "NaN"),
            "value",
            "'NaN' is not a finite number; enter a number.",
        ),
        (
            MeasurementRow(1, "SALES-INTAKE", JAN, "-Infinity"),
            "value",
            "'-Infinity' is not a finite number; enter a number.",
        ),
        (
            MeasurementRow(1, "SALES-INTAKE", JAN, float("inf")),
            "value",
            "'inf' is not a finite number; enter a number.",
        ),
        (
            MeasurementRow(1, "SALES-INTAKE", JAN, 2e15),
            "value",
            "2e+15 is too large; values must lie within ±1e15.",
        ),
        (MeasurementRow(1, "SALES-INTAKE", JAN, True), "value", "'True' is not a number."),
        (MeasurementRow(1, "SALES-INTAKE", JAN, ""), "value", "Enter a value."),
    ],
)
def test_a_bad_row_is_refused_with_its_message(
    kpis, contributor, recompute_calls, django_capture_on_commit_callbacks, row, field, message
):
    # given
    good = MeasurementRow(2, "SALES-INTAKE", FEB, 10)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(IngestRefused) as refused:
            measurements_record(actor=contributor, rows=[row, good], source="api")

    # then
    assert _errors(refused) == [(1, field, message)]
    assert refused.value.code == "invalid_rows"
    assert refused.value.message == "1 of 2 rows is not valid (1 error); nothing was written."
    assert Measurement.objects.count() == 0
    assert callbacks == []
    assert recompute_calls == []


def test_every_bad_row_is_reported_at_once_and_nothing_is_written(
    kpis, contributor, recompute_calls
):
    # given
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=1.0)
    rows = [
        MeasurementRow(2, "SALES-INTAKE", JAN, 2),
        MeasurementRow(3, "SALES-INTAKE", "2026-02-02", "x"),
        MeasurementRow(4, "PROC-OTD", FEB, 3),
        MeasurementRow(5, "SALES-MARGIN", FEB, 4),
        MeasurementRow(6, "SALES-INTAKE", "2026-01-01", 5),
    ]

    # when
    with pytest.raises(IngestRefused) as refused:
        measurements_record(actor=contributor, rows=rows, source="api")

    # then
    assert _errors(refused) == [
        (3, "period", "2026-02-02 is not a monthly period start; did you mean 2026-02-01?"),
        (3, "value", "'x' is not a number."),
        (4, "kpi", "Unknown KPI code 'PROC-OTD'."),
        (
            5,
            "kpi",
            "You are not allowed to record actuals for KPI SALES-MARGIN: only its owner, its "
            "department's leads and the PMO may.",
        ),
        (6, "period", "KPI SALES-INTAKE has two values for 2026-01-01: rows 2 and 6. Keep one."),
    ]
    assert refused.value.details == {
        "rows": [
            {"row": e.row, "field": e.field, "message": e.message}
            for e in refused.value.report.errors
        ]
    }
    assert list(Measurement.objects.values_list("value", flat=True)) == [1.0]
    assert MeasurementRevision.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_an_inactive_kpi_takes_no_actuals(kpis, lead, recompute_calls):
    # given
    Kpi.objects.filter(pk=kpis.intake.pk).update(is_active=False)

    # when
    with pytest.raises(IngestRefused) as refused:
        measurements_record(
            actor=lead, rows=[MeasurementRow(1, "SALES-INTAKE", JAN, 1)], source="api"
        )

    # then
    assert _errors(refused) == [
        (1, "kpi", "KPI SALES-INTAKE is inactive; it takes no new actuals.")
    ]
    assert Measurement.objects.count() == 0


def test_the_pmo_and_the_department_lead_record_for_any_kpi_they_may(
    kpis, pmo, lead, recompute_calls
):
    # when
    by_pmo = measurements_record(
        actor=pmo, rows=[MeasurementRow(1, "PROC-OTD", JAN, 93)], source="api"
    )
    by_lead = measurements_record(
        actor=lead, rows=[MeasurementRow(1, "SALES-INTAKE", JAN, 7)], source="api"
    )

    # then
    assert (by_pmo.created, by_lead.created) == (1, 1)
    assert Measurement.objects.count() == 2


def test_more_rows_than_the_limit_are_refused_before_reading_them(
    kpis, contributor, settings, recompute_calls
):
    # given
    settings.GOVERN_MEASUREMENTS_MAX_ROWS = 2
    rows = [MeasurementRow(i, "SALES-INTAKE", JAN, i) for i in range(3)]

    # when
    with pytest.raises(ApplicationError) as refused:
        measurements_record(actor=contributor, rows=rows, source="api")

    # then
    assert (refused.value.code, refused.value.message) == (
        "too_many_rows",
        "Too many rows: 3. Send at most 2 rows at a time.",
    )
    assert Measurement.objects.count() == 0


def test_row_errors_carry_the_callers_column(kpis, contributor):
    # when
    with pytest.raises(IngestRefused) as refused:
        measurements_record(
            actor=contributor,
            rows=[MeasurementRow(4, "SALES-INTAKE", JAN, "abc", column="D (2026-01-01)")],
            source="import",
        )

    # then
    assert refused.value.report.errors == [
        RowError(4, "value", "'abc' is not a number.", "D (2026-01-01)")
    ]


def _record_half_new_half_corrected(actor, kpi, first_year, count):
    periods = [dt.date(first_year + i // 12, i % 12 + 1, 1) for i in range(count)]
    Measurement.objects.bulk_create(
        Measurement(kpi=kpi, period=period, value=0.0, source="api") for period in periods[::2]
    )
    rows = [MeasurementRow(i, kpi.code, period, i + 1) for i, period in enumerate(periods)]
    actor = type(actor).objects.get(pk=actor.pk)  # a fresh request's user: scope not cached
    with CaptureQueriesContext(connection) as queries:
        report = measurements_record(actor=actor, rows=rows, source="api")
    return report.counts(), len(queries)


def test_the_number_of_queries_does_not_grow_with_the_rows(kpis, contributor, recompute_calls):
    # when
    small = _record_half_new_half_corrected(contributor, kpis.intake, 2100, 10)
    large = _record_half_new_half_corrected(contributor, kpis.intake, 1900, 1000)

    # then
    assert small[0] == {"created": 5, "updated": 5, "unchanged": 0}
    assert large[0] == {"created": 500, "updated": 500, "unchanged": 0}
    assert small[1] == large[1] <= 10
    assert MeasurementRevision.objects.count() == 505


def test_a_batch_of_several_chunks_stores_every_value_and_note_exactly(
    kpis, contributor, recompute_calls
):
    # given: 4,000 weekly values (more than one written chunk), notes in any script or none
    mondays = [dt.date(1960, 1, 4) + dt.timedelta(weeks=i) for i in range(4000)]
    rows = [
        MeasurementRow(i, "SALES-CALLS", day, i + 0.1, note=f"Prüfung №{i} «ok»" if i % 3 else "")
        for i, day in enumerate(mondays)
    ]
    progress = []
    before = timezone.now()

    # when
    report = measurements_record(
        actor=contributor, rows=rows, source="import", on_progress=progress.append
    )

    # then
    assert report.counts() == {"created": 4000, "updated": 0, "unchanged": 0}
    assert progress == [3750, 4000]
    stored = list(
        Measurement.objects.order_by("period").values_list(
            "kpi", "period", "value", "source", "entered_by", "note", "revision"
        )
    )
    assert stored == [
        (kpis.weekly.pk, row.period, row.value, "import", contributor.pk, row.note, 1)
        for row in rows
    ]
    stamps = set(Measurement.objects.values_list("recorded_at", flat=True))
    assert len(stamps) == 1
    assert before <= stamps.pop() <= timezone.now()


def test_only_the_batchs_own_kpi_and_period_pairs_count_as_existing(kpis, lead, recompute_calls):
    # given: the batch's KPIs and periods each have a measurement, but not in these pairs
    MeasurementFactory(kpi=kpis.intake, period=JAN, value=1.0)
    MeasurementFactory(kpi=kpis.margin, period=FEB, value=2.0)
    rows = [
        MeasurementRow(1, "SALES-INTAKE", FEB, 10.0),
        MeasurementRow(2, "SALES-MARGIN", JAN, 20.0),
        MeasurementRow(3, "SALES-MARGIN", FEB, 2.0),
    ]

    # when
    report = measurements_record(actor=lead, rows=rows, source="api")

    # then
    assert report.counts() == {"created": 2, "updated": 0, "unchanged": 1}
    assert sorted(Measurement.objects.values_list("kpi__code", "period", "value", "revision")) == [
        ("SALES-INTAKE", JAN, 1.0, 1),
        ("SALES-INTAKE", FEB, 10.0, 1),
        ("SALES-MARGIN", JAN, 20.0, 1),
        ("SALES-MARGIN", FEB, 2.0, 1),
    ]
    assert MeasurementRevision.objects.count() == 0
