"""The review sessions' admin is read-only: a session is shown with its scope, attendees and
agenda, never added, changed or deleted there (the services audit every step)."""

import pytest

from decisions.models import ReviewSession
from tests.decisions.sessions.support import plan, state
from tests.factories import PersonFactory


@pytest.fixture
def admin_client(client, world):
    client.force_login(PersonFactory(is_staff=True, is_superuser=True, username="root"))
    return client


def test_a_session_is_shown_read_only_with_its_agenda(admin_client, world):
    # given
    session = plan(world.pmo, title="Sales weekly", departments=[world.sales.pk])

    # when
    page = admin_client.get(f"/admin/decisions/reviewsession/{session.pk}/change/")
    listing = admin_client.get("/admin/decisions/reviewsession/?q=weekly")

    # then
    html = page.content.decode()
    assert page.status_code == listing.status_code == 200
    assert "SALES-INTAKE is red: Order intake" in html  # the agenda item
    assert "Pam Pmo" in html  # the chair and attendee
    assert 'name="title"' not in html
    assert 'name="_save"' not in html
    assert "Sales weekly" in listing.content.decode()


def test_the_admin_neither_adds_nor_changes_nor_deletes(admin_client, world):
    # given
    session = plan(world.pmo, title="Sales weekly")
    before = state()

    # when
    add = admin_client.get("/admin/decisions/reviewsession/add/")
    change = admin_client.post(
        f"/admin/decisions/reviewsession/{session.pk}/change/", {"title": "Renamed"}
    )
    delete = admin_client.post(
        f"/admin/decisions/reviewsession/{session.pk}/delete/", {"post": "yes"}
    )

    # then
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert state() == before
    assert ReviewSession.objects.get().title == "Sales weekly"
