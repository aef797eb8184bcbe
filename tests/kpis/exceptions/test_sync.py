"""exception_sync: from the computed results to one exception per KPI and kind, with its events
and notices; a second run changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from govern.choices import AuditAction
from govern.models import AuditEvent
from kpis.models import KpiException
from kpis.services.exceptions import _create, exception_sync
from tests.kpis.exceptions.conftest import APR, FEB, JAN, MAR, set_results

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _sync(world, capture):
    with capture(execute=True):
        return exception_sync(kpi_ids=[world.kpi.pk], today=_today())


def _events(action=None):
    events = AuditEvent.objects.filter(subject_type="kpis.kpiexception")
    return events.filter(action=action) if action else events


def _unresolved(world):
    return list(KpiException.objects.open().filter(kpi=world.kpi).values_list("kind", flat=True))


def test_a_red_kpi_opens_one_red_exception_for_its_owner(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    set_results(world.kpi, [(JAN, "on_track", 0.0), (FEB, "amber", 6.0), (MAR, "red", 15.0)])

    # when
    before = timezone.now()
    opened, resolved = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert (opened, resolved) == (1, 0)
    exception = KpiException.objects.get(kpi=world.kpi, status="open")
    assert exception.kind == "kpi_red"
    assert exception.subject_key == f"kpi:{world.kpi.pk}"
    assert exception.title == "SALES-INTAKE is red: Order intake"
    assert exception.detail == (
        "Mar 2026: actual 85 against a plan of 100, 15.0% adverse (red beyond 10.0%)."
    )
    assert exception.period == MAR
    assert exception.owner == world.owner
    assert exception.department == world.department
    # 1.5 × criticality 4 × the highest objective weight 4, opened today
    assert exception.severity == 24.0
    assert exception.decision_deadline - exception.opened_at == dt.timedelta(days=3)
    assert exception.opened_at >= before
    opened_event = _events(AuditAction.OPEN).get()
    assert opened_event.subject_id == str(exception.pk)
    assert opened_event.changes["kind"] == {"old": None, "new": "kpi_red"}
    assert [m.subject for m in mailoutbox] == [
        "[Govern] New exception: SALES-INTAKE is red: Order intake"
    ]
    assert mailoutbox[0].to == [world.owner.email]


def test_the_first_sync_of_a_red_kpi_opens_only_the_red_exception(
    world, django_capture_on_commit_callbacks
):
    # given
    set_results(world.kpi, [(FEB, "amber", 6.0), (MAR, "red", 15.0)])

    # when
    opened, resolved = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert (opened, resolved) == (1, 0)
    assert _unresolved(world) == ["kpi_red"]


def test_a_second_sync_changes_nothing(world, django_capture_on_commit_callbacks, mailoutbox):
    # given
    set_results(world.kpi, [(FEB, "amber", 6.0), (MAR, "red", 15.0)])
    _sync(world, django_capture_on_commit_callbacks)
    stored = list(KpiException.objects.values())
    events = _events().count()
    mailoutbox.clear()

    # when
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (0, 0)
    assert list(KpiException.objects.values()) == stored
    assert _events().count() == events
    assert mailoutbox == []


def test_amber_turning_red_supersedes_the_amber_exception(
    world, django_capture_on_commit_callbacks
):
    # given
    set_results(world.kpi, [(FEB, "amber", 6.0)])
    _sync(world, django_capture_on_commit_callbacks)
    amber = KpiException.objects.get(kind="kpi_amber")

    # when
    set_results(world.kpi, [(FEB, "amber", 6.0), (MAR, "red", 12.0)])
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (1, 1)
    amber.refresh_from_db()
    assert amber.status == "resolved"
    assert _unresolved(world) == ["kpi_red"]
    resolve = _events(AuditAction.RESOLVE).get()
    assert resolve.subject_id == str(amber.pk)
    assert resolve.reason == "Worsened to red: superseded by the red exception."
    assert resolve.changes == {"status": {"old": "open", "new": "resolved"}}


def test_red_improving_to_amber_supersedes_the_red_exception(
    world, django_capture_on_commit_callbacks
):
    # given
    set_results(world.kpi, [(FEB, "red", 12.0)])
    _sync(world, django_capture_on_commit_callbacks)

    # when
    set_results(world.kpi, [(FEB, "red", 12.0), (MAR, "amber", 7.0)])
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (1, 1)
    assert _unresolved(world) == ["kpi_amber"]
    assert _events(AuditAction.RESOLVE).get().reason == (
        "Improved to amber: superseded by the amber exception."
    )


def test_a_red_exception_resolves_after_two_periods_back_on_track(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    set_results(world.kpi, [(JAN, "red", 12.0)])
    _sync(world, django_capture_on_commit_callbacks)
    red = KpiException.objects.get(kind="kpi_red")
    set_results(world.kpi, [(JAN, "red", 12.0), (FEB, "on_track", -1.0)])
    assert _sync(world, django_capture_on_commit_callbacks) == (0, 0)
    red.refresh_from_db()
    assert (red.status, red.green_streak) == ("open", 1)
    mailoutbox.clear()

    # when
    set_results(world.kpi, [(JAN, "red", 12.0), (FEB, "on_track", -1.0), (MAR, "on_track", 0.0)])
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (0, 1)
    red.refresh_from_db()
    assert (red.status, red.green_streak) == ("resolved", 2)
    assert red.resolved_at is not None
    assert _events(AuditAction.RESOLVE).get().reason == (
        "Back to green: on track for 2 periods in a row."
    )
    assert [m.subject for m in mailoutbox] == [
        "[Govern] Back to green: SALES-INTAKE is red: Order intake"
    ]
    assert mailoutbox[0].to == [world.owner.email]


def test_a_forecast_breach_warns_while_the_kpi_is_still_on_track(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    # given: March on track, April forecast at 80 against a plan of 100
    set_results(
        world.kpi,
        [(FEB, "on_track", 0.0), (MAR, "on_track", 2.0), (APR, "pending", 0.0, 80.0, "red")],
    )

    # when
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (1, 0)
    exception = KpiException.objects.get(kind="forecast_breach")
    assert exception.period == APR
    # 0.75 × (20% / 10%) × criticality 4 × weight 4
    assert exception.severity == 24.0
    assert exception.detail == (
        "Forecast for Apr 2026: 80 against a plan of 100, 20.0% adverse "
        "(amber beyond 5.0%, red beyond 10.0%)."
    )
    assert [m.subject for m in mailoutbox] == [
        "[Govern] New exception: SALES-INTAKE is forecast to breach: Order intake"
    ]


def test_a_red_kpi_supersedes_its_forecast_breach(world, django_capture_on_commit_callbacks):
    # given
    set_results(world.kpi, [(MAR, "on_track", 0.0), (APR, "pending", 0.0, 80.0, "red")])
    _sync(world, django_capture_on_commit_callbacks)

    # when
    set_results(world.kpi, [(MAR, "on_track", 0.0), (APR, "red", 20.0)])
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (1, 1)
    assert _unresolved(world) == ["kpi_red"]


def test_missing_data_opens_and_resolves_as_soon_as_the_actual_arrives(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    set_results(world.kpi, [(FEB, "on_track", 0.0), (MAR, "missing", 0.0)])
    assert _sync(world, django_capture_on_commit_callbacks) == (1, 0)
    missing = KpiException.objects.get(kind="missing_data")
    assert missing.period == MAR
    assert missing.severity == 16.0  # 1.0 × 4 × 4
    assert missing.decision_deadline - missing.opened_at == dt.timedelta(days=7)
    assert mailoutbox == []  # missing data is on the list, not in the inbox

    # when
    set_results(world.kpi, [(FEB, "on_track", 0.0), (MAR, "on_track", 1.0)])
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (0, 1)
    missing.refresh_from_db()
    assert missing.status == "resolved"
    assert _events(AuditAction.RESOLVE).get().reason == "Data received: Mar 2026 has an actual."
    assert mailoutbox == []


def test_each_sync_updates_the_severity_of_an_open_exception(
    world, django_capture_on_commit_callbacks
):
    # given
    set_results(world.kpi, [(FEB, "red", 15.0)])
    _sync(world, django_capture_on_commit_callbacks)

    # when
    set_results(world.kpi, [(FEB, "red", 15.0), (MAR, "red", 25.0)])
    result = _sync(world, django_capture_on_commit_callbacks)

    # then
    assert result == (0, 0)
    exception = KpiException.objects.get()
    assert (exception.severity, exception.period) == (40.0, MAR)  # 2.5 × 4 × 4
    assert _events().count() == 1  # only the opening: a severity change is not an event


def test_a_sync_of_all_kpis_leaves_inactive_kpis_alone(world, django_capture_on_commit_callbacks):
    # given
    set_results(world.kpi, [(MAR, "red", 15.0)])
    world.kpi.is_active = False
    world.kpi.save()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = exception_sync(kpi_ids=None, today=_today())

    # then
    assert result == (0, 0)
    assert KpiException.objects.count() == 0


def test_opening_an_exception_another_sync_just_opened_inserts_nothing(world):
    # given: the same red exception, opened meanwhile by a concurrent sync
    from tests.factories import KpiExceptionFactory

    KpiExceptionFactory(kpi=world.kpi)
    duplicate = KpiException(
        kind="kpi_red",
        subject_key=f"kpi:{world.kpi.pk}",
        kpi=world.kpi,
        department=world.department,
        owner=world.owner,
        title="duplicate",
        decision_deadline=timezone.now(),
    )

    # when
    created = _create([duplicate])

    # then
    assert created == []
    assert KpiException.objects.count() == 1
