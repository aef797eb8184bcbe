"""Notifications: in-app notices for people, delivered by email as each person prefers.

Every app notifies through `notify(...)` (or `notify_many(...)` for a batch): the in-app rows are
written set-based in the caller's transaction, so they vanish with it on a rollback, and the
emails leave once it commits, only to the recipients whose delivery is `immediate`. People on the
`daily_digest` delivery get one email a day from `digest_send(day=...)` listing that day's
notifications; `in_app_only` people get no email at all. A failing mail server is logged and
never undoes the change that caused the notice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone

from govern import permissions as perms
from govern.audit import audited_update
from govern.choices import NotificationDelivery
from govern.models import Notification, Person

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "[Govern] "


@dataclass(frozen=True)
class Notice:
    """One thing to tell some people: the same title, body and link for each recipient."""

    recipients: Iterable[Person | int]
    kind: str
    title: str
    body: str = ""
    link: str = ""
    subject: Model | None = None


def notify(
    *,
    recipients: Iterable[Person | int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    subject: Model | None = None,
) -> list[Notification]:
    """Notify `recipients` (people or their ids): one in-app row each, an email on commit for
    those who want each notification by email. Returns the rows written."""
    notice = Notice(
        recipients=recipients, kind=kind, title=title, body=body, link=link, subject=subject
    )
    return notify_many([notice])


def notify_many(notices: Iterable[Notice]) -> list[Notification]:
    """Several notices at once, in two queries whatever their number: who the active recipients
    are and how they want email, then one bulk insert. Inactive people are left out."""
    notices = [(notice, sorted({_person_id(r) for r in notice.recipients})) for notice in notices]
    wanted = {pk for _, ids in notices for pk in ids}
    if not wanted:
        return []
    people = {
        pk: (email, delivery)
        for pk, email, delivery in Person.objects.filter(pk__in=wanted, is_active=True).values_list(
            "pk", "email", "notification_delivery"
        )
    }
    rows, messages = [], []
    for notice, ids in notices:
        subject_type, subject_id = _subject(notice.subject)
        for pk in ids:
            if pk not in people:
                continue
            rows.append(
                Notification(
                    recipient_id=pk,
                    kind=notice.kind,
                    title=notice.title[:255],
                    body=notice.body,
                    link=notice.link,
                    subject_type=subject_type,
                    subject_id=subject_id,
                )
            )
            email, delivery = people[pk]
            if email and delivery == NotificationDelivery.IMMEDIATE:
                messages.append(_email(email, notice.title, _email_body(notice.body, notice.link)))
    created = Notification.objects.bulk_create(rows)
    if messages:
        transaction.on_commit(lambda: _send(messages, "notification"), robust=True)
    return created


def notification_mark_read(*, actor: Person, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (reading it again changes nothing)."""
    perms.ensure_allowed(actor, perms.CHANGE, notification)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Person) -> int:
    """Mark every unread notification of the actor read, in one statement; returns how many."""
    mine = perms.restrict(Notification.objects.unread(), actor, perms.CHANGE)
    return mine.update(read_at=timezone.now())


def notification_delivery_set(*, actor: Person, person: Person, delivery: str) -> Person:
    """Choose how `person` gets notifications by email; each person chooses for themselves. The
    change is audited (old → new)."""
    if actor.pk != person.pk:
        raise PermissionDenied("You may only choose how you yourself are notified.")
    return audited_update(person, actor=actor, data={"notification_delivery": delivery})[0]


def digest_send(*, day: dt.date) -> int:
    """Email each active `daily_digest` person, with an address, the notifications they got on
    `day` (local time): one email per person, none for a person with nothing that day. Idempotent:
    a person's `digest_sent_on` records the last day sent, so running it again for that day (or an
    earlier one) sends nothing. The emails are sent before the day is recorded, in the same
    transaction: a mail failure rolls the record back and a retry sends them (at least once, never
    silently lost). Returns how many emails were sent."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    with transaction.atomic():
        due = Person.objects.filter(
            Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=day),
            notification_delivery=NotificationDelivery.DAILY_DIGEST,
            is_active=True,
            notifications__created_at__gte=start,
            notifications__created_at__lt=end,
        ).exclude(email="")
        locked = Person.objects.filter(pk__in=due.values("pk")).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            locked = locked.select_for_update(skip_locked=True)
        people = {pk: email for pk, email in locked.values_list("pk", "email")}
        if not people:
            return 0
        listed: dict[int, list[Notification]] = {}
        for notification in Notification.objects.filter(
            recipient_id__in=people, created_at__gte=start, created_at__lt=end
        ).order_by("recipient_id", "created_at", "pk"):
            listed.setdefault(notification.recipient_id, []).append(notification)
        messages = [
            _email(people[pk], _digest_title(day, len(items)), _digest_body(day, items))
            for pk, items in listed.items()
        ]
        sent = get_connection().send_messages(messages) or 0
        Person.objects.filter(pk__in=listed).update(digest_sent_on=day)
    logger.info("Sent %s daily digest(s) for %s", sent, day.isoformat())
    return sent


def digest_day(value: str | dt.date | None = None) -> dt.date:
    """The day a digest run covers: the given date (ISO text or a date), else yesterday (local),
    so a run in the morning lists the whole previous day."""
    if isinstance(value, dt.date):
        return value
    if value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"A digest day is a date, e.g. 2026-04-10; got {value!r}.") from exc
    return timezone.localdate() - dt.timedelta(days=1)


# --- Helpers ----------------------------------------------------------------------------------


def _person_id(recipient: Person | int) -> int:
    return recipient if isinstance(recipient, int) else recipient.pk


def _subject(subject: Model | None) -> tuple[str, str]:
    if subject is None:
        return "", ""
    return subject._meta.label_lower, str(subject.pk)


def _url(link: str) -> str:
    return settings.GOVERN_BASE_URL + link if link.startswith("/") else link


def _email(to: str, title: str, body: str) -> EmailMessage:
    return EmailMessage(
        subject=SUBJECT_PREFIX + title,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )


def _email_body(body: str, link: str) -> str:
    lines = [body] if body else []
    if link:
        lines += ["", f"Open it in Govern: {_url(link)}"] if body else [_url(link)]
    lines += ["", _settings_line()]
    return "\n".join(lines)


def _settings_line() -> str:
    return f"Choose how Govern emails you: {_url(reverse('my-settings'))}"


def _digest_title(day: dt.date, count: int) -> str:
    noun = "notification" if count == 1 else "notifications"
    return f"Your daily digest for {day:%d %b %Y}: {count} {noun}"


def _digest_body(day: dt.date, items: Sequence[Notification]) -> str:
    lines = [f"What happened in Govern on {day:%A %d %B %Y}:", ""]
    for notification in items:
        when = timezone.localtime(notification.created_at)
        lines.append(f"- {when:%H:%M} {notification.title}")
        if notification.link:
            lines.append(f"  {_url(notification.link)}")
    lines += ["", f"All your notifications: {_url(reverse('notification-list'))}"]
    lines.append(_settings_line())
    return "\n".join(lines)


def _send(messages: list[EmailMessage], what: str) -> int:
    sent = get_connection().send_messages(messages) or 0
    logger.info("Sent %s %s email(s)", sent, what)
    return sent
