"""The admin writes the same audit trail as the services and shows the log read-only."""

import pytest

from govern.choices import AuditAction, Role
from govern.models import AuditEvent, Membership
from tests.factories import DepartmentFactory, PersonFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(PersonFactory(is_staff=True, is_superuser=True, username="root"))
    return client


def test_a_change_in_the_admin_is_audited(admin_client, department):
    # when
    response = admin_client.post(
        f"/admin/govern/department/{department.pk}/change/",
        {"code": "SALES", "name": "Sales & Marketing", "description": ""},
    )

    # then
    assert response.status_code == 302
    event = AuditEvent.objects.for_object(department).get()
    assert event.action == AuditAction.UPDATE
    assert event.actor.username == "root"
    assert event.changes == {"name": {"old": "Sales", "new": "Sales & Marketing"}}
    assert event.reason == "Changed in the admin"


def test_adding_a_membership_inline_on_a_person_is_audited(admin_client, department):
    # given
    person = PersonFactory(username="newhire", first_name="Nia", last_name="Obi")
    url = f"/admin/govern/person/{person.pk}/change/"
    form = {
        "username": "newhire", "first_name": "Nia", "last_name": "Obi",
        "email": "nia@example.com", "job_title": "Buyer", "is_active": "on",
        "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-department": str(department.pk),
        "memberships-0-role": Role.CONTRIBUTOR, "memberships-0-person": str(person.pk),
    }  # fmt: skip

    # when
    response = admin_client.post(url, form)

    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(person=person)
    event = AuditEvent.objects.for_object(membership).get()
    assert event.action == AuditAction.CREATE
    assert event.changes["role"] == {"old": None, "new": "contributor"}
    assert event.changes["department"] == {"old": None, "new": "Sales"}


def test_the_audit_log_is_read_only_even_for_a_superuser(admin_client, department):
    # given
    DepartmentFactory()
    admin_client.post(
        f"/admin/govern/department/{department.pk}/change/",
        {"code": "SALES", "name": "Sales EMEA", "description": ""},
    )
    event = AuditEvent.objects.get()

    # when
    listing = admin_client.get("/admin/govern/auditevent/")
    add = admin_client.get("/admin/govern/auditevent/add/")
    delete = admin_client.post(f"/admin/govern/auditevent/{event.pk}/delete/", {"post": "yes"})
    change = admin_client.post(
        f"/admin/govern/auditevent/{event.pk}/change/", {"reason": "tampered"}
    )

    # then
    assert listing.status_code == 200
    assert "Sales EMEA" in listing.content.decode()
    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    event = AuditEvent.objects.get()
    assert event.reason == "Changed in the admin"
