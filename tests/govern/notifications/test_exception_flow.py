"""The exception flow notifies through govern.notifications: the owner of a new red exception and
the people an exception is escalated to find it in the app, and get email as they chose."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from govern.choices import Role
from govern.models import Notification
from kpis.models import KpiException
from kpis.services.exceptions import exception_escalate_overdue, exception_sync
from tests.factories import KpiExceptionFactory, KpiFactory, person_with_role
from tests.kpis.exceptions.conftest import MAR, set_results

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 4, 5, 12, 0))  # past the factory's 4 Apr deadline


@pytest.fixture
def kpi(department, contributor):
    return KpiFactory(
        code="SALES-INTAKE", name="Order intake", department=department, owner=contributor
    )


def _inbox(person):
    return list(
        Notification.objects.filter(recipient=person).values_list(
            "kind", "title", "link", "subject_type", "subject_id", "read_at"
        )
    )


def test_a_new_red_exception_notifies_its_owner_in_the_app_and_by_email(
    kpi, contributor, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    set_results(kpi, [(MAR, "red", 15.0)])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        exception_sync(kpi_ids=[kpi.pk], today=timezone.localdate())

    # then
    exception = KpiException.objects.get(kpi=kpi, kind="kpi_red")
    assert _inbox(contributor) == [
        (
            "exception_opened",
            "New exception: SALES-INTAKE is red: Order intake",
            f"/exceptions/{exception.pk}/",
            "kpis.kpiexception",
            str(exception.pk),
            None,
        )
    ]
    assert Notification.objects.get().summary.startswith("A new exception needs a decision by ")
    assert [m.subject for m in mailoutbox] == [
        "[Govern] New exception: SALES-INTAKE is red: Order intake"
    ]


def test_an_owner_on_the_daily_digest_gets_the_notice_in_the_app_and_no_email_now(
    kpi, contributor, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    contributor.notification_delivery = "daily_digest"
    contributor.save(update_fields=["notification_delivery"])
    set_results(kpi, [(MAR, "red", 15.0)])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        exception_sync(kpi_ids=[kpi.pk], today=timezone.localdate())

    # then
    assert [row[0] for row in _inbox(contributor)] == ["exception_opened"]
    assert mailoutbox == []


def test_an_escalation_notifies_every_lead_of_the_department_each_as_they_chose(
    kpi, lead, department, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    quiet_lead = person_with_role(Role.DEPARTMENT_LEAD, department)
    quiet_lead.notification_delivery = "in_app_only"
    quiet_lead.save(update_fields=["notification_delivery"])
    exception = KpiExceptionFactory(kpi=kpi)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        exception_escalate_overdue(now=NOW)

    # then
    title = "Escalated to Department lead: SALES-INTAKE is red: Order intake"
    assert [row[:3] for row in _inbox(lead)] == [
        ("exception_escalated", title, f"/exceptions/{exception.pk}/")
    ]
    assert [row[:3] for row in _inbox(quiet_lead)] == [
        ("exception_escalated", title, f"/exceptions/{exception.pk}/")
    ]
    assert [m.to for m in mailoutbox] == [[lead.email]]


def test_a_rolled_back_escalation_leaves_no_notification(
    kpi, lead, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    KpiExceptionFactory(kpi=kpi)

    def escalate_then_fail():
        with transaction.atomic():
            exception_escalate_overdue(now=NOW)
            raise RuntimeError("the worker died before committing")

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            escalate_then_fail()

    # then
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mailoutbox == []
