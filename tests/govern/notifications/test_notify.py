"""notify(): in-app rows in the caller's transaction, emails on commit per person's delivery; the
daily digest; marking read; notifications are append-only apart from read_at."""

import datetime as dt

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from govern.models import Notification
from govern.notifications import (
    digest_send,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
)
from govern.tasks import notifications_digest
from tests.factories import NotificationFactory, PersonFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 4, 10)


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.GOVERN_BASE_URL = "https://govern.example.com"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _notify(recipients, subject=None):
    return notify(
        recipients=recipients,
        kind="exception_opened",
        title="New exception: PROC-OTD is red",
        body="A new exception needs a decision by 13 Apr 2026 09:00.",
        link="/exceptions/41/",
        subject=subject,
    )


def test_notify_writes_a_row_per_person_and_emails_only_the_immediate_ones_on_commit(
    django_capture_on_commit_callbacks, mailoutbox, department
):
    # given
    immediate = PersonFactory(username="ana")
    digest = PersonFactory(notification_delivery="daily_digest")
    in_app = PersonFactory(notification_delivery="in_app_only")
    no_email = PersonFactory(email="")
    inactive = PersonFactory(is_active=False)

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = _notify(
            [immediate, digest, in_app, no_email.pk, inactive, immediate], subject=department
        )
    outbox_before_commit = list(mailoutbox)
    for callback in callbacks:
        callback()

    # then
    assert outbox_before_commit == []
    assert len(callbacks) == 1
    rows = Notification.objects.order_by("recipient_id")
    assert [n.pk for n in created] == sorted(n.pk for n in rows)
    assert sorted(rows.values_list("recipient_id", flat=True)) == sorted(
        [immediate.pk, digest.pk, in_app.pk, no_email.pk]
    )
    assert {(n.kind, n.title, n.link, n.subject_type, n.subject_id, n.read_at) for n in rows} == {
        (
            "exception_opened",
            "New exception: PROC-OTD is red",
            "/exceptions/41/",
            "govern.department",
            str(department.pk),
            None,
        )
    }
    assert [m.to for m in mailoutbox] == [["ana@example.com"]]
    assert mailoutbox[0].subject == "[Govern] New exception: PROC-OTD is red"
    assert mailoutbox[0].body == (
        "A new exception needs a decision by 13 Apr 2026 09:00.\n"
        "\n"
        "Open it in Govern: https://govern.example.com/exceptions/41/\n"
        "\n"
        "Choose how Govern emails you: https://govern.example.com/me/settings/"
    )


def test_a_rolled_back_notify_leaves_no_notification_and_sends_nothing(
    django_capture_on_commit_callbacks, mailoutbox
):
    # given
    person = PersonFactory()

    # when
    def failing_change():
        with transaction.atomic():
            _notify([person])
            raise RuntimeError("the change that caused the notice failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            failing_change()

    # then
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_no_recipients_writes_and_queues_nothing(django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        created = _notify([PersonFactory(is_active=False)])

    # then
    assert created == []
    assert callbacks == []
    assert Notification.objects.count() == 0


# --- The daily digest -------------------------------------------------------------------------


def test_the_daily_digest_lists_the_days_notifications_once_per_person(mailoutbox):
    # given
    digest = PersonFactory(username="bo", notification_delivery="daily_digest")
    NotificationFactory(
        recipient=digest, title="Back to green: SALES-OTD", link="/exceptions/3/",
        created_at=_at(DAY, 15),
    )  # fmt: skip
    NotificationFactory(
        recipient=digest, title="New exception: PROC-OTD", link="/exceptions/7/",
        created_at=_at(DAY, 8, 30),
    )  # fmt: skip
    midnight = _at(DAY, 0)
    NotificationFactory(
        recipient=digest, title="The next day", created_at=midnight + dt.timedelta(days=1)
    )
    NotificationFactory(
        recipient=digest, title="The day before", created_at=midnight - dt.timedelta(seconds=1)
    )
    NotificationFactory(recipient=PersonFactory(), created_at=_at(DAY, 9))  # immediate
    in_app = PersonFactory(notification_delivery="in_app_only")
    NotificationFactory(recipient=in_app, created_at=_at(DAY, 9))

    # when
    sent = digest_send(day=DAY)
    again = digest_send(day=DAY)

    # then
    assert (sent, again) == (1, 0)
    assert [m.to for m in mailoutbox] == [["bo@example.com"]]
    assert mailoutbox[0].subject == "[Govern] Your daily digest for 10 Apr 2026: 2 notifications"
    assert mailoutbox[0].body == (
        "What happened in Govern on Friday 10 April 2026:\n"
        "\n"
        "- 08:30 New exception: PROC-OTD\n"
        "  https://govern.example.com/exceptions/7/\n"
        "- 15:00 Back to green: SALES-OTD\n"
        "  https://govern.example.com/exceptions/3/\n"
        "\n"
        "All your notifications: https://govern.example.com/notifications/\n"
        "Choose how Govern emails you: https://govern.example.com/me/settings/"
    )
    digest.refresh_from_db()
    assert digest.digest_sent_on == DAY

    # when: the next day
    mailoutbox.clear()
    next_day = digest_send(day=DAY + dt.timedelta(days=1))

    # then
    assert next_day == 1
    assert mailoutbox[0].subject == "[Govern] Your daily digest for 11 Apr 2026: 1 notification"
    assert "- 00:00 The next day" in mailoutbox[0].body


def test_no_digest_for_a_day_without_notifications_or_for_someone_without_email(mailoutbox):
    # given
    quiet = PersonFactory(notification_delivery="daily_digest")
    NotificationFactory(recipient=quiet, created_at=_at(DAY - dt.timedelta(days=1), 12))
    no_email = PersonFactory(email="", notification_delivery="daily_digest")
    NotificationFactory(recipient=no_email, created_at=_at(DAY, 12))

    # when
    sent = digest_send(day=DAY)

    # then
    assert sent == 0
    assert mailoutbox == []
    quiet.refresh_from_db()
    no_email.refresh_from_db()
    assert (quiet.digest_sent_on, no_email.digest_sent_on) == (None, None)


def test_the_digest_command_and_task_send_once_for_a_day(mailoutbox):
    # given
    digest = PersonFactory(notification_delivery="daily_digest")
    NotificationFactory(recipient=digest, created_at=_at(DAY, 12))

    # when
    call_command("send_digest", "--day", "2026-04-10", stdout=(out := _Out()))
    by_task = notifications_digest("2026-04-10")

    # then
    assert out.text == "Sent 1 digest for 10 Apr 2026.\n"
    assert by_task == 0
    assert len(mailoutbox) == 1


def test_the_digest_command_refuses_a_day_that_is_not_a_date(mailoutbox):
    # when
    with pytest.raises(CommandError) as refused:
        call_command("send_digest", "--day", "10/04/2026")

    # then
    assert str(refused.value) == (
        "--day: A digest day is a date, e.g. 2026-04-10; got '10/04/2026'."
    )
    assert mailoutbox == []


def test_the_digest_runs_under_beat_every_morning_at_7():
    # when
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-digest-daily"]

    # then
    assert entry["task"] == "govern.notifications_digest"
    assert entry["schedule"] == crontab(hour=7, minute=0)


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, value):
        self.text += value

    def flush(self):
        pass


# --- Reading ----------------------------------------------------------------------------------


def test_marking_a_notification_read_keeps_the_first_read_time():
    # given
    notification = NotificationFactory()
    owner = notification.recipient

    # when
    notification_mark_read(actor=owner, notification=notification)
    first = Notification.objects.get(pk=notification.pk).read_at
    notification_mark_read(actor=owner, notification=Notification.objects.get(pk=notification.pk))

    # then
    assert first is not None
    assert Notification.objects.get(pk=notification.pk).read_at == first


def test_mark_all_read_marks_only_the_actors_unread_notifications():
    # given
    me = PersonFactory()
    mine = NotificationFactory.create_batch(3, recipient=me)
    already = NotificationFactory(recipient=me, read_at=_at(DAY, 9))
    theirs = NotificationFactory()

    # when
    marked = notifications_mark_all_read(actor=me)

    # then
    assert marked == 3
    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).count() == 0
    assert Notification.objects.get(pk=already.pk).read_at == _at(DAY, 9)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_nobody_marks_someone_elses_notification_read_not_even_the_pmo(pmo):
    # given
    theirs = NotificationFactory()

    # when
    with pytest.raises(PermissionDenied):
        notification_mark_read(actor=pmo, notification=theirs)

    # then
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert notifications_mark_all_read(actor=pmo) == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_notifications_are_append_only_apart_from_read_at():
    # given
    notification = NotificationFactory(title="Original")

    # when
    with pytest.raises(TypeError, match="only read_at can change") as by_update:
        Notification.objects.filter(pk=notification.pk).update(title="Changed")
    notification.title = "Changed"
    with pytest.raises(TypeError, match="only read_at can change") as by_save:
        notification.save()

    # then
    assert (by_update.type, by_save.type) == (TypeError, TypeError)
    assert Notification.objects.get(pk=notification.pk).title == "Original"
