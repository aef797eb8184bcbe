"""The bell, the notifications page and "My settings": everyone sees only their own."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from govern.choices import AuditAction
from govern.models import AuditEvent, Notification, Person
from tests.factories import NotificationFactory, PersonFactory
from tests.govern.pages.helpers import text

pytestmark = pytest.mark.django_db

MAX_QUERIES = 9


def _at(hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 4, 10, hour, 0))


def test_the_bell_counts_my_unread_notifications_on_every_page(client, contributor):
    # given
    NotificationFactory.create_batch(2, recipient=contributor)
    NotificationFactory(recipient=contributor, read_at=_at(9))
    NotificationFactory()  # someone else's
    client.force_login(contributor)

    # when
    response = client.get(reverse("dashboard"))

    # then
    html = response.content.decode()
    assert 'aria-label="Notifications, 2 unread"' in html
    assert '<span class="bell__count" aria-hidden="true">2</span>' in html
    assert f'<a class="user-name" href="{reverse("my-settings")}"' in html


def test_the_bell_shows_no_count_when_everything_is_read(client, contributor):
    # given
    NotificationFactory(recipient=contributor, read_at=_at(9))
    client.force_login(contributor)

    # when
    response = client.get(reverse("dashboard"))

    # then
    html = response.content.decode()
    assert 'aria-label="Notifications, 0 unread"' in html
    assert "bell__count" not in html


def test_the_notifications_page_lists_mine_newest_first_with_the_unread_highlighted(
    client, contributor
):
    # given
    NotificationFactory(
        recipient=contributor, title="Older, read", created_at=_at(8), read_at=_at(9)
    )
    newer = NotificationFactory(
        recipient=contributor, title="Newer, unread", created_at=_at(10),
        body="Back to green: this exception resolved itself.\n\nMore detail",
    )  # fmt: skip
    NotificationFactory(title="Someone else's")
    client.force_login(contributor)

    # when
    response = client.get(reverse("notification-list"))

    # then
    assert response.status_code == 200
    page = text(response)
    assert "2 notifications" in page
    assert page.index("Newer, unread") < page.index("Older, read")
    assert "Someone else's" not in page
    assert "New Newer, unread" in page
    assert "Back to green: this exception resolved itself." in page
    assert "More detail" not in page
    html = response.content.decode()
    assert html.count("notification--unread") == 1
    assert f'id="notification-{newer.pk}"' in html.split("notification--unread")[1][:40]
    assert reverse("notification-open", args=[newer.pk]) in html


def test_the_unread_filter_and_the_empty_states(client, contributor):
    # given
    client.force_login(contributor)

    # when
    empty = client.get(reverse("notification-list"))
    NotificationFactory(recipient=contributor, read_at=_at(9))
    nothing_unread = client.get(reverse("notification-list"), {"unread": "true"})

    # then
    assert "No notifications yet." in text(empty)
    assert "Mark all read" not in text(empty)
    assert "Nothing unread." in text(nothing_unread)


def test_opening_a_notification_marks_it_read_and_goes_to_its_subject(client, contributor):
    # given
    notification = NotificationFactory(recipient=contributor, link="/exceptions/41/")
    client.force_login(contributor)

    # when
    response = client.get(reverse("notification-open", args=[notification.pk]))

    # then
    assert response.status_code == 302
    assert response["Location"] == "/exceptions/41/"
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_a_notification_never_redirects_off_site(client, contributor):
    # given
    notification = NotificationFactory(recipient=contributor, link="https://evil.example/")
    client.force_login(contributor)

    # when
    response = client.get(reverse("notification-open", args=[notification.pk]))

    # then
    assert response["Location"] == reverse("notification-list")


def test_mark_one_and_mark_all_read_from_the_page(client, contributor):
    # given
    first, *_ = NotificationFactory.create_batch(3, recipient=contributor)
    client.force_login(contributor)
    back = reverse("notification-list") + "?page=1"

    # when
    one = client.post(reverse("notification-read", args=[first.pk]), {"next": back})
    after_one = Notification.objects.filter(recipient=contributor, read_at=None).count()
    every = client.post(reverse("notification-read-all"), follow=True)

    # then
    assert (one.status_code, one["Location"]) == (302, back)
    assert after_one == 2
    assert "Marked 2 notifications read." in text(every)
    assert Notification.objects.filter(recipient=contributor, read_at=None).count() == 0


def test_someone_elses_notification_is_404_on_every_page_and_stays_unread(client, lead):
    # given
    theirs = NotificationFactory()
    client.force_login(lead)

    # when
    opened = client.get(reverse("notification-open", args=[theirs.pk]))
    marked = client.post(reverse("notification-read", args=[theirs.pk]))

    # then
    assert (opened.status_code, marked.status_code) == (404, 404)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_notifications_page_runs_the_same_bounded_queries_for_3_or_30(
    client, contributor, django_assert_max_num_queries
):
    # given
    client.force_login(contributor)
    NotificationFactory.create_batch(3, recipient=contributor)
    with django_assert_max_num_queries(MAX_QUERIES) as with_3:
        client.get(reverse("notification-list"))

    # when
    NotificationFactory.create_batch(27, recipient=contributor, read_at=_at(9))
    with django_assert_max_num_queries(MAX_QUERIES) as with_30:
        response = client.get(reverse("notification-list"))

    # then
    assert response.status_code == 200
    assert len(with_30) == len(with_3)


# --- My settings ------------------------------------------------------------------------------


def test_my_settings_changes_how_i_am_emailed_with_an_audit_event(client, contributor):
    # given
    client.force_login(contributor)

    # when
    form = client.get(reverse("my-settings"))
    response = client.post(
        reverse("my-settings"), {"notification_delivery": "daily_digest"}, follow=True
    )

    # then
    assert "Emails go to " + contributor.email in text(form)
    assert '<label for="id_notification_delivery">Email notifications</label>' in (
        form.content.decode()
    )
    assert "Saved: one email a day listing the day's notifications." in text(response)
    assert Person.objects.get(pk=contributor.pk).notification_delivery == "daily_digest"
    event = AuditEvent.objects.get(subject_type="govern.person", subject_id=str(contributor.pk))
    assert (event.action, event.actor_id) == (AuditAction.UPDATE, contributor.pk)
    assert event.changes == {"notification_delivery": {"old": "immediate", "new": "daily_digest"}}


def test_my_settings_refuses_an_unknown_delivery_and_writes_nothing(client, contributor):
    # given
    client.force_login(contributor)

    # when
    response = client.post(reverse("my-settings"), {"notification_delivery": "pigeon"})

    # then
    assert response.status_code == 400
    assert "Select a valid choice. pigeon is not one of the available choices." in text(response)
    assert Person.objects.get(pk=contributor.pk).notification_delivery == "immediate"
    assert AuditEvent.objects.count() == 0


def test_my_settings_says_when_i_have_no_email_address(client):
    # given
    person = PersonFactory(email="")
    client.force_login(person)

    # when
    response = client.get(reverse("my-settings"))

    # then
    assert "You have no email address in Govern, so you get no email" in text(response)
