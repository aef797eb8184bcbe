"""The KPI engine's share of plan versions: a draft copies the targets, an approval switches the
variance to the new version from then on and leaves history as it was computed, a deleted draft
takes its targets with it, a proposed version's targets are frozen."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from govern import services
from govern.errors import ConflictError
from govern.models import AuditEvent, PlanVersion
from govern.selectors import plan_version_spans
from kpis.models import Kpi, KpiResult, Target
from kpis.selectors import recompute_spans_plan_frame
from kpis.services.plan_versions import kpis_affected_by_approval
from kpis.services.recompute import kpi_recompute
from kpis.services.targets import targets_set
from tests.factories import DepartmentFactory, KpiFactory, MeasurementFactory, PersonFactory
from tests.govern.plans.support import approve, first_plan, months_ago, this_month


def _targets(version) -> list[tuple]:
    return sorted(
        Target.objects.filter(plan_version=version).values_list(
            "kpi__code", "period", "value", "updated_by_id"
        )
    )


def _results(kpi: Kpi) -> list[tuple]:
    return list(
        KpiResult.objects.filter(kpi=kpi, actual__isnull=False)
        .order_by("period")
        .values_list("period", "plan", "actual", "status")
    )


def test_a_draft_copies_every_target_of_the_current_version_exactly(pmo, executive):
    # given a current version with targets of two KPIs, set by different people
    current = first_plan(pmo=pmo, executive=executive)
    otd, fill = KpiFactory(code="PROC-OTD"), KpiFactory(code="SALES-FILL")
    setter = PersonFactory()
    for kpi, who in ((otd, pmo), (fill, setter)):
        for months, value in ((2, 91.5), (1, 92.25), (0, 93.0)):
            Target.objects.create(
                kpi=kpi, plan_version=current, period=months_ago(months), value=value,
                updated_by=who,
            )  # fmt: skip

    # when
    draft = services.plan_version_create_draft(actor=pmo, name="FY26 Q3 re-forecast")

    # then
    assert draft.based_on == current
    assert _targets(draft) == _targets(current)
    assert len(_targets(draft)) == 6
    assert _targets(current)[0] == ("PROC-OTD", months_ago(2), 91.5, pmo.pk)
    created = AuditEvent.objects.get(subject_id=str(draft.pk), action="create")
    assert created.reason == "Drafted from FY26 baseline"


def test_copying_targets_takes_a_fixed_number_of_queries(
    pmo, executive, django_assert_max_num_queries
):
    # given a current version with 40 KPIs × 12 periods of targets
    current = first_plan(pmo=pmo, executive=executive)
    department = DepartmentFactory()
    owner = PersonFactory()
    kpis = [KpiFactory(department=department, owner=owner) for _ in range(40)]
    Target.objects.bulk_create(
        Target(kpi=kpi, plan_version=current, period=months_ago(m), value=float(m))
        for kpi in kpis
        for m in range(12)
    )

    # when: the lock, the draft's validation and insert (with its savepoints and constraint
    # checks), its audit event, one INSERT … SELECT of the targets, the contracts to copy (none)
    with django_assert_max_num_queries(22):
        draft = services.plan_version_create_draft(actor=pmo, name="FY27 draft")

    # then
    assert Target.objects.filter(plan_version=draft).count() == 480


def test_approval_recomputes_the_running_period_against_the_new_target_and_keeps_the_past(
    pmo, executive, django_capture_on_commit_callbacks
):
    # given a red KPI: target 100 and actual 85 last month and this month, computed against the
    # baseline
    kpi = KpiFactory(code="PROC-OTD", amber_threshold=5.0, red_threshold=10.0)
    last, running = months_ago(1), this_month()
    MeasurementFactory(kpi=kpi, period=last, value=85.0)
    MeasurementFactory(kpi=kpi, period=running, value=85.0)
    with django_capture_on_commit_callbacks(execute=True):
        draft = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
        targets_set(
            actor=pmo, kpi=kpi, values={last: 100.0, running: 100.0}, reason="Baseline",
            plan_version=draft,
        )  # fmt: skip
        approve(pmo=pmo, executive=executive, plan_version=draft)
    assert _results(kpi) == [(last, 100.0, 85.0, "red"), (running, 100.0, 85.0, "red")]

    # when a re-forecast lowers both targets and is approved (the scheduled recompute runs)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reforecast = services.plan_version_create_draft(actor=pmo, name="FY26 re-forecast")
        targets_set(
            actor=pmo, kpi=kpi, values={last: 80.0, running: 85.0}, reason="Supplier slip",
            plan_version=reforecast,
        )  # fmt: skip
        approve(pmo=pmo, executive=executive, plan_version=reforecast)

    # then the running month follows the new target; last month keeps the plan it was judged on
    assert callbacks
    assert _results(kpi) == [(last, 100.0, 85.0, "red"), (running, 85.0, 85.0, "on_track")]
    kpi.refresh_from_db()
    assert (kpi.status, kpi.status_period) == ("on_track", running)


def test_a_later_full_recompute_keeps_history_as_it_was_computed(
    pmo, executive, django_capture_on_commit_callbacks
):
    # given a KPI computed against the baseline, then against a re-forecast approved later
    kpi = KpiFactory(code="SALES-FILL")
    last, running = months_ago(1), this_month()
    MeasurementFactory(kpi=kpi, period=last, value=90.0)
    MeasurementFactory(kpi=kpi, period=running, value=90.0)
    with django_capture_on_commit_callbacks(execute=True):
        baseline = first_plan(pmo=pmo, executive=executive)
        targets_set(actor=pmo, kpi=kpi, values={last: 100.0, running: 100.0}, reason="Plan")
        reforecast = services.plan_version_create_draft(actor=pmo, name="Re-forecast")
        targets_set(
            actor=pmo, kpi=kpi, values={last: 90.0, running: 90.0}, reason="Re-forecast",
            plan_version=reforecast,
        )  # fmt: skip
        approve(pmo=pmo, executive=executive, plan_version=reforecast)
    before = _results(kpi)

    # when the nightly sweep recomputes everything
    report = kpi_recompute(today=timezone.localdate())

    # then nothing changes: last month is still held against the baseline
    assert baseline.pk != reforecast.pk
    assert before == [(last, 100.0, 90.0, "amber"), (running, 90.0, 90.0, "on_track")]
    assert _results(kpi) == before
    assert report.results_written == 0


def test_only_kpis_whose_targets_change_from_the_approval_on_are_recomputed(pmo, executive):
    # given four KPIs in the current plan
    baseline = first_plan(pmo=pmo, executive=executive)
    last, running, later = months_ago(1), this_month(), months_ago(-1)
    kpis = {code: KpiFactory(code=code) for code in ("A-CHANGED", "B-PAST", "C-SAME", "D-ADDED")}
    for code in ("A-CHANGED", "B-PAST", "C-SAME"):
        targets_set(actor=pmo, kpi=kpis[code], values={last: 10.0, running: 10.0}, reason="Plan")
    draft = services.plan_version_create_draft(actor=pmo, name="Re-forecast")
    edits = {"A-CHANGED": {running: 12.0}, "B-PAST": {last: 12.0}, "D-ADDED": {later: 5.0}}
    for code, values in edits.items():
        targets_set(actor=pmo, kpi=kpis[code], values=values, reason="Edit", plan_version=draft)

    # when
    approved = approve(pmo=pmo, executive=executive, plan_version=draft)
    affected = kpis_affected_by_approval(plan_version=approved, previous=baseline)

    # then
    assert sorted(affected.values_list("code", flat=True)) == ["A-CHANGED", "D-ADDED"]


def test_deleting_a_draft_deletes_the_targets_copied_into_it(pmo, executive):
    # given
    current = first_plan(pmo=pmo, executive=executive)
    kpi = KpiFactory()
    targets_set(actor=pmo, kpi=kpi, values={this_month(): 50.0}, reason="Plan")
    draft = services.plan_version_create_draft(actor=pmo, name="Scratch")

    # when
    services.plan_version_delete(actor=pmo, plan_version=draft)

    # then
    assert list(Target.objects.values_list("plan_version_id", "value")) == [(current.pk, 50.0)]


def test_the_targets_of_a_proposed_version_cannot_change(pmo, executive):
    # given
    first_plan(pmo=pmo, executive=executive)
    kpi = KpiFactory()
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 proposal")
    services.plan_version_propose(actor=pmo, plan_version=draft)

    # when
    with pytest.raises(ConflictError) as caught:
        targets_set(
            actor=pmo, kpi=kpi, values={this_month(): 1.0}, reason="Late edit",
            plan_version=draft,
        )  # fmt: skip

    # then
    assert caught.value.code == "plan_version_proposed"
    assert caught.value.fields == {
        "plan_version": [
            "FY27 proposal is proposed for approval: its targets stay as proposed while it waits "
            "for an executive's approval. Withdraw it to draft to change its targets."
        ]
    }
    assert not Target.objects.exists()


def test_an_approval_queues_the_recompute_once_and_a_refused_one_queues_nothing(
    pmo, executive, monkeypatch
):
    # given
    from kpis import tasks

    queued = []
    monkeypatch.setattr(tasks.kpi_reconcile, "delay_on_commit", lambda: queued.append("reconcile"))
    KpiFactory()
    draft = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
    services.plan_version_propose(actor=pmo, plan_version=draft)

    # when
    with pytest.raises(PermissionDenied):
        services.plan_version_approve(actor=pmo, plan_version=draft)
    refused = list(queued)
    services.plan_version_approve(actor=executive, plan_version=draft)

    # then
    assert (refused, queued) == ([], ["reconcile"])


def test_each_period_is_held_against_the_version_current_when_it_ended(pmo, executive):
    # given three versions approved in turn (the last two on 1 Feb, a Sunday, and 15 Mar 2026)
    # with targets 1, 2 and 3
    weekly = KpiFactory(code="W", frequency="weekly")
    monthly = KpiFactory(code="M", frequency="monthly")
    days = {"V1": dt.date(2025, 12, 12), "V2": dt.date(2026, 2, 1), "V3": dt.date(2026, 3, 15)}
    versions = {}
    for value, name in enumerate(days, start=1):
        draft = services.plan_version_create_draft(actor=pmo, name=name)
        Target.objects.filter(plan_version=draft).delete()
        for kpi, periods in (
            (weekly, [dt.date(2026, 1, 19), dt.date(2026, 1, 26), dt.date(2026, 3, 9)]),
            (monthly, [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]),
        ):
            for period in periods:
                Target.objects.create(kpi=kpi, plan_version=draft, period=period, value=value)
        versions[name] = approve(pmo=pmo, executive=executive, plan_version=draft)
    for name, day in days.items():
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        PlanVersion.objects.filter(pk=versions[name].pk).update(approved_at=moment)

    # when
    spans = plan_version_spans()
    frame = recompute_spans_plan_frame(spans=spans, kpi_ids=[weekly.pk, monthly.pk])

    # then: the week of 26 Jan ends on Sunday 1 Feb (V2's day): V2; January ended before: V1
    assert [(s.since, s.until) for s in spans] == [
        (None, dt.date(2026, 2, 1)), (dt.date(2026, 2, 1), dt.date(2026, 3, 15)),
        (dt.date(2026, 3, 15), None),
    ]  # fmt: skip
    held = sorted(
        ("W" if row.kpi_id == weekly.pk else "M", row.period.date(), row.plan)
        for row in frame.itertuples()
    )
    assert held == [
        ("M", dt.date(2026, 1, 1), 1.0),
        ("M", dt.date(2026, 2, 1), 2.0),
        ("M", dt.date(2026, 3, 1), 3.0),
        ("W", dt.date(2026, 1, 19), 1.0),
        ("W", dt.date(2026, 1, 26), 2.0),
        ("W", dt.date(2026, 3, 9), 3.0),
    ]
