"""/api/v1/notifications/ and the notification preference on /api/v1/me/."""

import datetime as dt

import pytest
from django.utils import timezone

from govern.models import AuditEvent, Notification, Person
from tests.factories import NotificationFactory
from tests.govern.api.support import API

pytestmark = pytest.mark.django_db

URL = f"{API}notifications/"


def _at(hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 4, 10, hour, 0))


def test_the_list_holds_only_my_notifications_newest_first(api_client, contributor):
    # given
    older = NotificationFactory(recipient=contributor, created_at=_at(8), read_at=_at(9))
    newer = NotificationFactory(
        recipient=contributor, title="New exception: PROC-OTD is red", link="/exceptions/41/",
        subject_id="41", created_at=_at(10),
    )  # fmt: skip
    NotificationFactory(created_at=_at(11))  # someone else's
    api_client.force_authenticate(contributor)

    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["results"][0] == {
        "id": newer.pk,
        "kind": "exception_opened",
        "kind_display": "New exception",
        "title": "New exception: PROC-OTD is red",
        "body": "A new exception needs a decision by 04 Apr 2026 09:00.",
        "link": "/exceptions/41/",
        "subject_type": "kpis.kpiexception",
        "subject_id": "41",
        "created_at": _at(10).isoformat().replace("+00:00", "Z"),
        "read_at": None,
        "is_unread": True,
    }


def test_unread_true_keeps_the_unread_ones(api_client, contributor):
    # given
    unread = NotificationFactory(recipient=contributor)
    NotificationFactory(recipient=contributor, read_at=_at(9))
    api_client.force_authenticate(contributor)

    # when
    response = api_client.get(URL, {"unread": "true"})

    # then
    assert [row["id"] for row in response.json()["results"]] == [unread.pk]


def test_read_marks_one_and_read_all_marks_the_rest(api_client, contributor):
    # given
    first, *_ = NotificationFactory.create_batch(3, recipient=contributor)
    api_client.force_authenticate(contributor)

    # when
    one = api_client.post(f"{URL}{first.pk}/read/")
    every = api_client.post(f"{URL}read-all/")

    # then
    assert one.status_code == 200
    assert one.json()["is_unread"] is False
    assert every.status_code == 200
    assert every.json() == {"marked": 2}
    assert Notification.objects.filter(recipient=contributor, read_at=None).count() == 0


def test_someone_elses_notification_is_404_and_stays_unread(api_client, pmo):
    # given
    theirs = NotificationFactory()
    api_client.force_authenticate(pmo)

    # when
    shown = api_client.get(f"{URL}{theirs.pk}/")
    marked = api_client.post(f"{URL}{theirs.pk}/read/")

    # then
    assert (shown.status_code, marked.status_code) == (404, 404)
    assert marked.json()["error"]["code"] == "not_found"
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_notifications_need_credentials(api_client):
    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 401


def test_the_list_runs_the_same_bounded_queries_for_3_or_30(
    api_client, contributor, django_assert_max_num_queries
):
    # given: a fresh user object per request, as every real request has
    def get():
        api_client.force_authenticate(Person.objects.get(pk=contributor.pk))
        with django_assert_max_num_queries(4) as captured:
            response = api_client.get(URL)
        return response, len(captured)

    NotificationFactory.create_batch(3, recipient=contributor)
    _, with_3 = get()

    # when
    NotificationFactory.create_batch(27, recipient=contributor)
    response, with_30 = get()

    # then
    assert response.json()["count"] == 30
    assert with_30 == with_3


def test_me_shows_and_changes_my_notification_delivery_with_an_audit_event(api_client, contributor):
    # given
    api_client.force_authenticate(contributor)

    # when
    before = api_client.get(f"{API}me/").json()["notification_delivery"]
    response = api_client.patch(
        f"{API}me/", {"notification_delivery": "in_app_only"}, format="json"
    )

    # then
    assert before == "immediate"
    assert response.status_code == 200
    assert response.json()["notification_delivery"] == "in_app_only"
    assert Person.objects.get(pk=contributor.pk).notification_delivery == "in_app_only"
    assert AuditEvent.objects.get().changes == {
        "notification_delivery": {"old": "immediate", "new": "in_app_only"}
    }


def test_me_refuses_an_unknown_delivery_and_writes_nothing(api_client, contributor):
    # given
    api_client.force_authenticate(contributor)

    # when
    response = api_client.patch(f"{API}me/", {"notification_delivery": "pigeon"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "notification_delivery": ['"pigeon" is not a valid choice.']
    }
    assert Person.objects.get(pk=contributor.pk).notification_delivery == "immediate"
    assert AuditEvent.objects.count() == 0
