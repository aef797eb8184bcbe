from govern.choices import AuditAction
from govern.models import AuditEvent, Department
from tests.factories import DepartmentFactory, InitiativeFactory
from tests.govern.api.support import API, stable


def test_pmo_creates_reads_updates_and_deletes_a_department(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    created = api_client.post(
        f"{API}departments/", {"code": "LOG", "name": "Logistics"}, format="json"
    )
    url = f"{API}departments/{created.json()['id']}/"
    patched = api_client.patch(url, {"description": "Warehouses and fleet"}, format="json")
    replaced = api_client.put(
        url, {"code": "LOGI", "name": "Logistics & Fleet", "description": ""}, format="json"
    )
    fetched = api_client.get(url)
    deleted = api_client.delete(url)

    # then
    department_id = created.json()["id"]
    assert created.status_code == 201
    assert stable(created.json()) == {
        "id": department_id,
        "code": "LOG",
        "name": "Logistics",
        "description": "",
        "member_count": 0,
        "initiative_count": 0,
    }
    assert patched.status_code == 200
    assert patched.json()["description"] == "Warehouses and fleet"
    assert replaced.status_code == 200
    assert stable(fetched.json()) == {
        "id": department_id,
        "code": "LOGI",
        "name": "Logistics & Fleet",
        "description": "",
        "member_count": 0,
        "initiative_count": 0,
    }
    assert deleted.status_code == 204
    assert not Department.objects.filter(pk=department_id).exists()
    actions = AuditEvent.objects.filter(
        subject_type="govern.department", subject_id=str(department_id)
    ).values_list("action", flat=True)
    assert sorted(actions) == sorted(
        [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE, AuditAction.DELETE]
    )


def test_deleting_a_department_that_still_has_initiatives_is_a_conflict(api_client, pmo):
    # given
    logistics = DepartmentFactory(code="LOG", name="Logistics")
    InitiativeFactory(department=logistics, name="Cross-docking")
    api_client.force_authenticate(pmo)
    events_before = AuditEvent.objects.count()

    # when
    response = api_client.delete(f"{API}departments/{logistics.pk}/")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "protected",
            "message": (
                "Logistics cannot be deleted while it still has initiatives. "
                "Move or remove them first."
            ),
            "fields": {},
            "details": {"blocking": ["initiatives"]},
        }
    }
    assert Department.objects.filter(pk=logistics.pk).exists()
    assert AuditEvent.objects.count() == events_before


def test_a_duplicate_code_is_refused_with_the_field_message(api_client, pmo, department):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.post(
        f"{API}departments/", {"code": "SALES", "name": "Sales again"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "code": ["Department with this Code already exists."]
    }
    assert Department.objects.count() == 2  # Sales and the PMO's own department


def test_departments_are_paginated_searched_and_ordered(api_client, executive):
    # given
    for number in range(1, 6):
        DepartmentFactory(code=f"PLANT-{number}", name=f"Plant {number}")
    DepartmentFactory(code="FIN", name="Finance", description="Controlling and treasury")
    api_client.force_authenticate(executive)

    # when
    first_page = api_client.get(f"{API}departments/", {"page_size": 2, "ordering": "-name"})
    by_q = api_client.get(f"{API}departments/", {"q": "treasury"})
    by_search = api_client.get(f"{API}departments/", {"search": "plant"})
    by_code = api_client.get(f"{API}departments/", {"code": "FIN"})

    # then
    body = first_page.json()
    assert body["count"] == 7  # five plants, Finance, the executive's own department
    assert [d["name"] for d in body["results"]] == ["Plant 5", "Plant 4"]
    assert body["next"] == "http://testserver/api/v1/departments/?ordering=-name&page=2&page_size=2"
    assert body["previous"] is None
    assert [d["name"] for d in by_q.json()["results"]] == ["Finance"]
    assert [d["code"] for d in by_search.json()["results"]] == [
        "PLANT-1", "PLANT-2", "PLANT-3", "PLANT-4", "PLANT-5",
    ]  # fmt: skip
    assert [d["code"] for d in by_code.json()["results"]] == ["FIN"]
