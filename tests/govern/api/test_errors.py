"""Every refusal answers one JSON shape: {"error": {"code", "message", "fields"}}."""

from govern.models import AuditEvent, Department, Initiative, Objective
from tests.factories import ObjectiveFactory
from tests.govern.api.support import API

OBJECTIVE = {
    "title": "Cut working capital",
    "level": "annual",
    "start_date": "2026-12-31",
    "end_date": "2026-01-01",
}


def test_end_before_start_is_a_400_with_the_models_message(api_client, pmo, department, lead):
    # given
    api_client.force_authenticate(pmo)
    payload = {**OBJECTIVE, "owner": lead.pk, "department": department.pk}

    # when
    response = api_client.post(f"{API}objectives/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "The end date must be after the start date.",
            "fields": {"non_field_errors": ["The end date must be after the start date."]},
        }
    }
    assert Objective.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_field_types_are_checked_before_the_service_runs(api_client, pmo, department, lead):
    # given
    api_client.force_authenticate(pmo)
    payload = {
        **OBJECTIVE,
        "end_date": "not a date",
        "weight": 9,
        "owner": lead.pk,
        "department": department.pk,
    }

    # when
    response = api_client.post(f"{API}objectives/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Please correct: end date, weight.",
            "fields": {
                "end_date": [
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                ],
                "weight": ["Ensure this value is less than or equal to 5."],
            },
        }
    }


def test_a_relation_the_user_may_not_see_is_an_invalid_pk(api_client, lead, other_department):
    # given
    api_client.force_authenticate(lead)
    payload = {
        "name": "Supplier portal",
        "department": other_department.pk,
        "owner": lead.pk,
        "start_date": "2026-01-01",
        "end_date": "2026-06-30",
    }

    # when
    response = api_client.post(f"{API}initiatives/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "department": [f'Invalid pk "{other_department.pk}" - object does not exist.']
    }
    assert Initiative.objects.count() == 0


def test_malformed_json_is_a_400_in_the_error_shape(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.post(
        f"{API}departments/", data='{"code": "LOG",', content_type="application/json"
    )

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert error["message"].startswith("JSON parse error")
    assert error["fields"] == {}
    assert not Department.objects.filter(code="LOG").exists()


def test_no_credentials_is_a_401_with_a_token_challenge(api_client):
    # when
    response = api_client.get(f"{API}departments/")

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_an_object_the_user_may_not_see_is_a_404(api_client, lead, other_department):
    # given
    api_client.force_authenticate(lead)

    # when
    response = api_client.get(f"{API}departments/{other_department.pk}/")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "No department matches the given query.",
            "fields": {},
        }
    }


def test_seeing_but_not_changing_is_a_403_with_the_services_message(api_client, lead, department):
    # given
    api_client.force_authenticate(lead)

    # when
    response = api_client.patch(
        f"{API}departments/{department.pk}/", {"name": "Sales & Marketing"}, format="json"
    )

    # then
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "You may not change this department (Sales).",
            "fields": {},
        }
    }
    department.refresh_from_db()
    assert department.name == "Sales"
    assert AuditEvent.objects.count() == 0


def test_a_lead_may_not_create_a_strategic_objective(api_client, lead, department):
    # given
    api_client.force_authenticate(lead)
    payload = {
        **OBJECTIVE,
        "level": "strategic",
        "end_date": "2028-12-31",
        "owner": lead.pk,
        "department": department.pk,
    }

    # when
    response = api_client.post(f"{API}objectives/", payload, format="json")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You may not create an objective in Sales."
    assert Objective.objects.count() == 0


def test_a_method_that_does_not_exist_is_a_405(api_client, pmo, contributor):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.delete(f"{API}people/{contributor.pk}/")

    # then
    assert response.status_code == 405
    assert response.json() == {
        "error": {
            "code": "method_not_allowed",
            "message": 'Method "DELETE" not allowed.',
            "fields": {},
        }
    }


def test_an_invalid_filter_value_is_a_400(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.get(f"{API}initiatives/", {"status": "bogus"})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "status": ["Select a valid choice. bogus is not one of the available choices."]
    }


def test_a_page_past_the_end_is_a_404(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.get(f"{API}departments/", {"page": 9})

    # then
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "Invalid page.",
        "fields": {},
    }


def test_deleting_an_objective_with_children_is_a_conflict(api_client, pmo, department):
    # given
    parent = ObjectiveFactory(title="Grow share", level="strategic", department=department)
    ObjectiveFactory(title="Win accounts", parent=parent, department=department)
    api_client.force_authenticate(pmo)
    events_before = AuditEvent.objects.count()

    # when
    response = api_client.delete(f"{API}objectives/{parent.pk}/")

    # then
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "protected",
        "message": ("Grow share has objectives cascading from it; delete or re-parent them first."),
        "fields": {},
    }
    assert Objective.objects.filter(pk=parent.pk).exists()
    assert AuditEvent.objects.count() == events_before


def test_an_unknown_api_address_answers_404_in_the_error_shape(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.get("/api/v1/no-such-thing/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "There is no API endpoint or object at this address.",
            "fields": {},
        }
    }


def test_an_unknown_page_answers_the_html_404_page(client, pmo):
    # given
    client.force_login(pmo)

    # when
    response = client.get("/no-such-page/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
