from govern import services
from govern.models import AuditEvent
from tests.govern.api.support import API


def test_me_tells_a_lead_what_they_may_do(api_client, lead, department):
    # given
    api_client.force_authenticate(lead)

    # when
    response = api_client.get(f"{API}me/")

    # then
    membership = lead.memberships.get()
    assert response.json() == {
        "id": lead.pk,
        "username": lead.username,
        "display_name": lead.get_full_name(),
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "job_title": "",
        "memberships": [
            {
                "id": membership.pk,
                "department": department.pk,
                "department_name": "Sales",
                "role": "department_lead",
            }
        ],
        "reads_everything": False,
        "is_pmo": False,
        "is_executive": False,
        "lead_departments": [department.pk],
        "notification_delivery": "immediate",
    }


def test_me_tells_the_pmo_they_read_everything(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.get(f"{API}me/")

    # then
    body = response.json()
    assert (body["reads_everything"], body["is_pmo"], body["is_executive"]) == (True, True, False)
    assert body["lead_departments"] == []


def test_the_audit_log_lists_every_event_for_executives(api_client, pmo, executive, department):
    # given
    services.department_update(actor=pmo, department=department, data={"name": "Sales EMEA"})
    services.plan_version_create_draft(actor=pmo, name="FY27 draft")
    api_client.force_authenticate(executive)

    # when
    everything = api_client.get(f"{API}audit-events/")
    departments_only = api_client.get(f"{API}audit-events/", {"subject_type": "govern.department"})

    # then
    assert [e["subject_name"] for e in everything.json()["results"]] == [
        "FY27 draft",
        "Sales EMEA",
    ]
    (event,) = departments_only.json()["results"]
    assert (event["action"], event["actor"], event["actor_name"]) == (
        "update",
        pmo.pk,
        pmo.get_full_name(),
    )
    assert event["changes"] == {"name": {"old": "Sales", "new": "Sales EMEA"}}


def test_the_audit_log_is_refused_to_leads(api_client, pmo, lead, department):
    # given
    services.department_update(actor=pmo, department=department, data={"name": "Sales EMEA"})
    api_client.force_authenticate(lead)

    # when
    response = api_client.get(f"{API}audit-events/")

    # then
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "The audit log is open to executives and the PMO only.",
        "fields": {},
    }
    assert AuditEvent.objects.count() == 1


def test_a_lead_reads_the_history_of_their_departments_objects(api_client, pmo, lead, department):
    # given
    services.department_update(actor=pmo, department=department, data={"description": "B2B"})
    api_client.force_authenticate(lead)

    # when
    response = api_client.get(f"{API}departments/{department.pk}/history/")

    # then
    (event,) = response.json()["results"]
    assert event["changes"] == {"description": {"old": "", "new": "B2B"}}
