"""Targets eased at a plan approval: a `governance` exception when eased in two successive
versions or while red, for the PMO and the executives; nothing when eased once while green or
tightened."""

import pytest

from govern.choices import AuditAction
from govern.models import AuditEvent, Notification
from kpis.models import KpiException
from kpis.services.governance import targets_eased_check, version_before
from tests.factories import KpiFactory
from tests.kpis.governance.conftest import APR, FEB, JAN, MAR, approve, targets

pytestmark = pytest.mark.django_db


def _governance():
    return list(KpiException.objects.filter(kind="governance"))


def test_targets_eased_in_two_successive_versions_raise_a_governance_exception(world):
    # given
    targets(world.kpi, world.v1, {JAN: 100, FEB: 100, MAR: 100})
    targets(world.kpi, world.v2, {JAN: 95, FEB: 95, MAR: 100})
    targets(world.kpi, world.v3, {JAN: 90, FEB: 95, MAR: 92, APR: 50})

    # when
    approve(world)

    # then
    (exception,) = _governance()
    assert exception.status == "open"
    assert exception.subject_key == f"kpi:{world.kpi.pk}"
    assert exception.kpi == world.kpi
    assert exception.department == world.department
    assert exception.owner == world.pmo  # the first PMO member
    assert exception.escalation_level == 2  # starts with the PMO
    assert exception.title == "Target-gaming signal on SALES-INTAKE: Order intake"
    assert exception.detail == (
        "Targets eased in “FY26 rev 2” against “FY26 rev 1”: Jan 2026 95 → 90, Mar 2026 100 → 92. "
        "They were eased in the approval before too, in “FY26 rev 1” against “FY26 budget”: "
        "Jan 2026 100 → 95, Feb 2026 100 → 95."
    )
    assert exception.period == JAN
    # eased twice: base 1.0 × criticality 4 × objective weight 4
    assert (exception.severity_base, exception.severity) == (16.0, 16.0)
    opened = AuditEvent.objects.get(subject_type="kpis.kpiexception", action=AuditAction.OPEN)
    assert opened.subject_id == str(exception.pk)
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {world.pmo.username, world.later_pmo.username, world.executive.username}


def test_targets_eased_once_while_red_raise_one(world):
    # given
    world.kpi.status = "red"
    world.kpi.save(update_fields=["status"])
    targets(world.kpi, world.v1, {JAN: 100})
    targets(world.kpi, world.v2, {JAN: 100})
    targets(world.kpi, world.v3, {JAN: 80})

    # when
    approve(world)

    # then
    (exception,) = _governance()
    assert exception.detail == (
        "Targets eased in “FY26 rev 2” against “FY26 rev 1”: Jan 2026 100 → 80. "
        "SALES-INTAKE was red when “FY26 rev 2” was approved."
    )
    assert exception.severity == 24.0  # 1.5 × 4 × 4


def test_targets_eased_once_while_green_raise_nothing(world):
    # given
    world.kpi.status = "on_track"
    world.kpi.save(update_fields=["status"])
    targets(world.kpi, world.v1, {JAN: 100})
    targets(world.kpi, world.v2, {JAN: 100})
    targets(world.kpi, world.v3, {JAN: 80})

    # when
    approve(world)

    # then
    assert _governance() == []
    assert Notification.objects.count() == 0


def test_tightened_targets_raise_nothing_even_twice_and_red(world):
    # given
    world.kpi.status = "red"
    world.kpi.save(update_fields=["status"])
    targets(world.kpi, world.v1, {JAN: 100})
    targets(world.kpi, world.v2, {JAN: 110})
    targets(world.kpi, world.v3, {JAN: 120})

    # when
    approve(world)

    # then
    assert _governance() == []


def test_a_lower_is_better_kpi_is_eased_by_raising_its_targets(world):
    # given
    lead_time = KpiFactory(
        code="LOG-LEAD-TIME",
        name="Lead time",
        department=world.department,
        direction="lower_is_better",
        criticality=3,
    )
    for kpi, values in ((lead_time, (5, 6, 7)), (world.kpi, (5, 4, 3))):
        for version, value in zip((world.v1, world.v2, world.v3), values, strict=True):
            targets(kpi, version, {JAN: value})

    # when
    approve(world)

    # then: lead time raised twice is eased; intake lowered twice is eased too
    found = {e.kpi.code: e for e in _governance()}
    assert sorted(found) == ["LOG-LEAD-TIME", "SALES-INTAKE"]
    assert found["LOG-LEAD-TIME"].detail.startswith(
        "Targets eased in “FY26 rev 2” against “FY26 rev 1”: Jan 2026 6 → 7."
    )
    assert found["LOG-LEAD-TIME"].severity == 9.0  # 1.0 × 3 × no objective (3)


def test_a_lower_is_better_kpi_with_lowered_targets_is_not_eased(world):
    # given
    lead_time = KpiFactory(
        code="LOG-LEAD-TIME", department=world.department, direction="lower_is_better"
    )
    for version, value in zip((world.v1, world.v2, world.v3), (7, 6, 5), strict=True):
        targets(lead_time, version, {JAN: value})

    # when
    approve(world)

    # then
    assert _governance() == []


def test_a_within_band_kpi_with_a_moved_centre_is_not_eased(world):
    # given
    band = KpiFactory(
        code="PROD-TEMP",
        department=world.department,
        direction="within_band",
        band_low=40,
        band_high=60,
        status="red",
    )
    for version, value in zip((world.v1, world.v2, world.v3), (50, 45, 40), strict=True):
        targets(band, version, {JAN: value})

    # when
    approve(world)

    # then
    assert _governance() == []


def test_a_second_approval_updates_the_open_exception(world):
    # given: eased twice (v1 → v2 → v3), then a v4 eases it again
    from tests.factories import PlanVersionFactory

    targets(world.kpi, world.v1, {JAN: 100})
    targets(world.kpi, world.v2, {JAN: 95})
    targets(world.kpi, world.v3, {JAN: 90})
    approve(world)
    world.v3.status = "superseded"
    world.v3.superseded_at = world.v3.approved_at
    world.v3.save()
    v4 = PlanVersionFactory(
        name="FY26 rev 3", status="approved", based_on=world.v3, approved_at=world.v3.approved_at
    )
    targets(world.kpi, v4, {JAN: 85})

    # when
    approve(world, version=v4, previous=world.v3)

    # then
    (exception,) = _governance()
    assert exception.detail == (
        "Targets eased in “FY26 rev 3” against “FY26 rev 2”: Jan 2026 90 → 85. "
        "They were eased in the approval before too, in “FY26 rev 2” against “FY26 rev 1”: "
        "Jan 2026 95 → 90."
    )
    update = AuditEvent.objects.get(subject_type="kpis.kpiexception", action=AuditAction.UPDATE)
    assert update.changes["detail"]["new"] == exception.detail
    assert update.actor == world.executive


def test_a_first_approval_without_a_previous_version_does_nothing(world):
    # given
    targets(world.kpi, world.v3, {JAN: 90})

    # when
    from govern.signals import plan_version_approved

    plan_version_approved.send(
        sender=type(world.v3), plan_version=world.v3, previous=None, actor=world.executive
    )

    # then
    assert _governance() == []


def test_the_version_before_is_the_approved_one_it_was_based_on_else_the_last_approved(world):
    # given
    draft = type(world.v1).objects.create(name="Scenario", status="draft")
    world.v2.based_on = draft
    world.v2.save()

    # then
    assert version_before(world.v3) == world.v2
    assert version_before(world.v2) == world.v1  # its base was never approved
    assert version_before(world.v1) is None


def test_the_check_reads_a_fixed_number_of_queries_whatever_the_number_of_kpis(
    world, django_assert_max_num_queries
):
    # given: 40 KPIs eased twice
    kpis = [KpiFactory(department=world.department) for _ in range(40)]
    for kpi in kpis:
        for version, value in zip((world.v1, world.v2, world.v3), (100, 90, 80), strict=True):
            targets(kpi, version, {JAN: value, FEB: value})

    # when / then
    with django_assert_max_num_queries(20):
        report = targets_eased_check(
            plan_version=world.v3, previous=world.v2, actor=world.executive
        )
    assert len(report.opened) == 40
    assert len(_governance()) == 40
