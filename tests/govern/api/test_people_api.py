from govern.models import AuditEvent, Person
from tests.govern.api.support import API, stable


def test_pmo_creates_a_person_and_the_password_is_never_returned(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)
    payload = {
        "username": "m.okafor",
        "first_name": "Mara",
        "last_name": "Okafor",
        "email": "mara.okafor@example.com",
        "job_title": "Buyer",
        "password": "tidal-orchard-91",
    }

    # when
    response = api_client.post(f"{API}people/", payload, format="json")

    # then
    assert response.status_code == 201
    person = Person.objects.get(username="m.okafor")
    assert stable(response.json()) == {
        "id": person.pk,
        "username": "m.okafor",
        "first_name": "Mara",
        "last_name": "Okafor",
        "display_name": "Mara Okafor",
        "email": "mara.okafor@example.com",
        "job_title": "Buyer",
        "is_active": True,
        "memberships": [],
    }
    assert person.check_password("tidal-orchard-91")
    assert person.password not in response.content.decode()
    assert "password" not in AuditEvent.objects.get(subject_id=str(person.pk)).changes


def test_people_never_expose_a_password_hash(api_client, executive, contributor):
    # given
    api_client.force_authenticate(executive)

    # when
    listed = api_client.get(f"{API}people/")
    fetched = api_client.get(f"{API}people/{contributor.pk}/")

    # then
    assert all("password" not in person for person in listed.json()["results"])
    assert "password" not in fetched.json()
    assert contributor.password not in listed.content.decode()
    assert contributor.password not in fetched.content.decode()


def test_a_person_shows_their_memberships(api_client, executive, contributor, department):
    # given
    api_client.force_authenticate(executive)

    # when
    response = api_client.get(f"{API}people/{contributor.pk}/")

    # then
    membership = contributor.memberships.get()
    assert response.json()["memberships"] == [
        {
            "id": membership.pk,
            "department": department.pk,
            "department_name": "Sales",
            "role": "contributor",
        }
    ]


def test_an_invalid_email_and_a_weak_password_are_refused_per_field(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    bad_email = api_client.post(
        f"{API}people/", {"username": "a.b", "email": "not-an-email"}, format="json"
    )
    weak_password = api_client.post(
        f"{API}people/", {"username": "c.d", "password": "password"}, format="json"
    )

    # then
    assert bad_email.status_code == 400
    assert bad_email.json()["error"]["fields"] == {"email": ["Enter a valid email address."]}
    assert weak_password.status_code == 400
    assert weak_password.json()["error"]["fields"] == {"password": ["This password is too common."]}
    assert not Person.objects.filter(username__in=["a.b", "c.d"]).exists()


def test_a_username_taken_in_another_case_is_refused(api_client, pmo, contributor):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.post(
        f"{API}people/", {"username": contributor.username.upper()}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "This username is taken.",
        "fields": {"username": ["This username is taken."]},
    }


def test_people_are_deactivated_not_deleted(api_client, pmo, contributor):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.patch(
        f"{API}people/{contributor.pk}/", {"is_active": False}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    contributor.refresh_from_db()
    assert contributor.is_active is False
    event = AuditEvent.objects.get(subject_id=str(contributor.pk), action="update")
    assert event.changes == {"is_active": {"old": True, "new": False}}


def test_the_pmo_cannot_deactivate_their_own_account(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.patch(f"{API}people/{pmo.pk}/", {"is_active": False}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "is_active": ["You cannot deactivate your own account."]
    }
    pmo.refresh_from_db()
    assert pmo.is_active is True


def test_a_password_cannot_be_changed_through_an_update(api_client, pmo, contributor):
    # given
    api_client.force_authenticate(pmo)
    hash_before = contributor.password

    # when
    response = api_client.patch(
        f"{API}people/{contributor.pk}/", {"password": "new-secret-4711"}, format="json"
    )

    # then
    assert response.status_code == 200
    contributor.refresh_from_db()
    assert contributor.password == hash_before


def test_people_are_filtered_by_department_and_role(
    api_client, executive, lead, contributor, viewer, department
):
    # given
    api_client.force_authenticate(executive)

    # when
    response = api_client.get(f"{API}people/", {"department": department.pk, "role": "contributor"})

    # then
    assert [p["id"] for p in response.json()["results"]] == [contributor.pk]
