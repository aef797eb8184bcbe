"""Target trajectories: set in a plan version with a reason, validated per period, written
set-based, audited per KPI with old → new of each changed period, recomputed once on commit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from govern.choices import AuditAction, PlanVersionStatus
from govern.errors import ApplicationError, ConflictError
from govern.models import AuditEvent, PlanVersion
from kpis.models import Kpi, Target
from kpis.services.targets import targets_set
from tests.kpis.definitions.conftest import APR, FEB, JAN, MAR


def _targets(kpi, plan_version) -> dict[dt.date, float]:
    rows = Target.objects.filter(kpi=kpi, plan_version=plan_version).order_by("period")
    return dict(rows.values_list("period", "value"))


def _state():
    return (
        list(Target.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        list(Kpi.objects.values_list("inputs_changed_at", flat=True)),
    )


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr("kpis.tasks.kpi_recompute.delay", lambda **kwargs: calls.append(kwargs))
    return calls


def test_set_creates_new_updates_changed_and_leaves_the_rest(
    lead, kpi, plans, queued, django_capture_on_commit_callbacks
):
    # given
    untouched = Target.objects.get(kpi=kpi, period=JAN)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        report = targets_set(
            actor=lead,
            kpi=kpi,
            values={JAN: 100.0, FEB: 115.0, APR: 130.0},
            reason="Q2 re-forecast",
        )

    # then
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert _targets(kpi, plans.current) == {JAN: 100.0, FEB: 115.0, MAR: 120.0, APR: 130.0}
    assert Target.objects.get(pk=untouched.pk).updated_at == untouched.updated_at
    event = AuditEvent.objects.get(subject_type="kpis.kpi", action=AuditAction.UPDATE)
    assert event.reason == "Q2 re-forecast"
    assert event.actor == lead
    assert event.changes == {
        "targets": {
            "2026-02-01": {"old": 110.0, "new": 115.0},
            "2026-04-01": {"old": None, "new": 130.0},
        }
    }
    assert queued == [{"kpi_ids": [kpi.pk]}]


def test_setting_the_same_values_changes_nothing(
    lead, kpi, queued, django_capture_on_commit_callbacks
):
    # given
    before = _state()

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = targets_set(
            actor=lead, kpi=kpi, values={JAN: 100.0, FEB: 110.0}, reason="Checking"
        )

    # then
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert _state() == before
    assert callbacks == []
    assert queued == []


def test_a_draft_plan_version_may_be_named(lead, kpi, plans):
    # when
    targets_set(actor=lead, kpi=kpi, values={JAN: 90.0}, reason="Draft", plan_version=plans.draft)

    # then
    assert _targets(kpi, plans.draft) == {JAN: 90.0}
    assert _targets(kpi, plans.current)[JAN] == 100.0


def test_a_superseded_plan_version_is_frozen(lead, kpi, plans, django_capture_on_commit_callbacks):
    # given
    before = _state()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ConflictError) as caught:
            targets_set(
                actor=lead, kpi=kpi, values={JAN: 1.0}, reason="Late", plan_version=plans.superseded
            )

    # then
    assert caught.value.status_code == 409
    assert "superseded plan versions are frozen" in caught.value.message
    assert caught.value.message.startswith("FY25 plan is superseded")
    assert _state() == before
    assert callbacks == []


def test_without_a_current_plan_a_plan_version_must_be_named(lead, kpi, plans):
    # given
    PlanVersion.objects.filter(pk=plans.current.pk).update(
        status=PlanVersionStatus.SUPERSEDED, superseded_at=plans.current.approved_at
    )
    before = _state()

    # when
    with pytest.raises(ApplicationError) as caught:
        targets_set(actor=lead, kpi=kpi, values={APR: 1.0}, reason="Plan")

    # then
    assert caught.value.code == "no_current_plan"
    assert caught.value.fields == {
        "plan_version": [
            "There is no approved plan version yet: approve one, or name the draft plan version "
            "these targets belong to."
        ]
    }
    assert _state() == before


def test_a_period_that_is_not_a_period_start_names_the_expected_date(lead, kpi):
    # given
    before = _state()

    # when
    with pytest.raises(ValidationError) as caught:
        targets_set(
            actor=lead,
            kpi=kpi,
            values={APR: 1.0, dt.date(2026, 3, 15): 2.0},
            reason="Typo",
        )

    # then
    assert caught.value.message_dict == {
        "targets": ["2026-03-15 is not a monthly period start; did you mean 2026-03-01?"]
    }
    assert _state() == before


def test_a_weekly_kpi_wants_mondays(lead, kpi):
    # given
    Kpi.objects.filter(pk=kpi.pk).update(frequency="weekly")
    kpi.refresh_from_db()

    # when
    with pytest.raises(ValidationError) as caught:
        targets_set(actor=lead, kpi=kpi, values={dt.date(2026, 3, 4): 2.0}, reason="Weekly")

    # then
    assert caught.value.message_dict == {
        "targets": ["2026-03-04 is not a weekly period start; did you mean 2026-03-02?"]
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({APR: float("inf")}, "2026-04-01: enter a finite number (not NaN or infinity)."),
        ({APR: "abc"}, "2026-04-01: 'abc' is not a number."),
        ({"01/04/2026": 1.0}, "01/04/2026 is not a date; use YYYY-MM-DD."),
        ({}, "Give at least one period and its target value."),
    ],
    ids=["infinite", "not-a-number", "not-a-date", "empty"],
)
def test_bad_values_are_refused_and_nothing_is_written(lead, kpi, values, message):
    # given
    before = _state()

    # when
    with pytest.raises(ValidationError) as caught:
        targets_set(actor=lead, kpi=kpi, values=values, reason="Bad")

    # then
    assert caught.value.message_dict == {"targets": [message]}
    assert _state() == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(lead, kpi, reason):
    # given
    before = _state()

    # when
    with pytest.raises(ValidationError) as caught:
        targets_set(actor=lead, kpi=kpi, values={APR: 1.0}, reason=reason)

    # then
    assert caught.value.message_dict == {
        "reason": ["Give a reason for changing the targets; it is kept in the KPI's history."]
    }
    assert _state() == before


@pytest.mark.parametrize("role", ["contributor", "viewer", "executive", "other_lead"])
def test_only_the_pmo_and_the_departments_leads_set_targets(request, kpi, role):
    # given
    actor = request.getfixturevalue(role)
    before = _state()

    # when
    with pytest.raises(PermissionDenied):
        targets_set(actor=actor, kpi=kpi, values={APR: 1.0}, reason="Mine")

    # then
    assert _state() == before


def test_many_periods_are_written_in_a_bounded_number_of_queries(
    lead, kpi, django_assert_max_num_queries
):
    # given
    values = {dt.date(2020 + i // 12, i % 12 + 1, 1): float(i) for i in range(72)}

    # when
    with django_assert_max_num_queries(12):
        report = targets_set(actor=lead, kpi=kpi, values=values, reason="Six years")

    # then
    assert report.created + report.updated + report.unchanged == 72
