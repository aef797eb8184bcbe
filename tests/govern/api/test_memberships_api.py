from govern.choices import Role
from govern.models import AuditEvent, Membership
from tests.govern.api.support import API, stable


def test_pmo_adds_changes_and_removes_a_membership(api_client, pmo, outsider, department):
    # given
    api_client.force_authenticate(pmo)

    # when
    created = api_client.post(
        f"{API}memberships/",
        {"person": outsider.pk, "department": department.pk, "role": "viewer"},
        format="json",
    )
    url = f"{API}memberships/{created.json()['id']}/"
    changed = api_client.patch(url, {"role": "contributor"}, format="json")
    removed = api_client.delete(url)

    # then
    assert created.status_code == 201
    assert stable(created.json()) == {
        "id": created.json()["id"],
        "person": outsider.pk,
        "person_name": str(outsider),
        "department": department.pk,
        "department_name": "Sales",
        "role": "viewer",
    }
    assert changed.json()["role"] == "contributor"
    assert removed.status_code == 204
    assert not Membership.objects.filter(person=outsider).exists()
    assert AuditEvent.objects.filter(subject_type="govern.membership").count() == 3


def test_a_membership_cannot_move_to_another_department(
    api_client, pmo, membership, department, other_department
):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.patch(
        f"{API}memberships/{membership.pk}/",
        {"department": other_department.pk, "role": "viewer"},
        format="json",
    )

    # then
    assert response.status_code == 200
    membership.refresh_from_db()
    assert (membership.department, membership.role) == (department, Role.VIEWER)


def test_a_second_role_in_the_same_department_is_refused(api_client, pmo, contributor, department):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.post(
        f"{API}memberships/",
        {"person": contributor.pk, "department": department.pk, "role": "viewer"},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "non_field_errors": ["This person already has a role in this department."]
    }
    assert Membership.objects.filter(person=contributor).count() == 1
