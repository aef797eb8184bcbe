from govern.choices import PlanVersionStatus
from govern.models import AuditEvent, PlanVersion
from tests.govern.api.support import API, stable


def test_approving_a_proposed_draft_supersedes_the_current_plan(api_client, pmo, executive, plans):
    # given
    draft, current = plans["draft"], plans["current"]
    api_client.force_authenticate(pmo)
    proposed = api_client.post(f"{API}plan-versions/{draft.pk}/propose/", {}, format="json")
    api_client.force_authenticate(executive)

    # when
    approved = api_client.post(
        f"{API}plan-versions/{draft.pk}/approve/", {"reason": "Board, 12 May"}, format="json"
    )
    now_current = api_client.get(f"{API}plan-versions/current/")

    # then
    assert (proposed.status_code, proposed.json()["status"]) == (200, "proposed")
    assert approved.status_code == 200
    body = approved.json()
    assert (body["status"], body["is_current"], body["approved_by"]) == (
        "approved",
        True,
        executive.pk,
    )
    assert body["approved_by_name"] == str(executive)
    assert now_current.json()["id"] == draft.pk
    current.refresh_from_db()
    assert current.status == PlanVersionStatus.SUPERSEDED
    assert current.superseded_at is not None
    approval = AuditEvent.objects.get(subject_id=str(draft.pk), action="approve")
    assert approval.reason == "Board, 12 May"


def test_pmo_creates_a_draft_plan_version(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.post(
        f"{API}plan-versions/", {"name": "FY27 budget", "description": "First cut"}, format="json"
    )

    # then
    assert response.status_code == 201
    version = PlanVersion.objects.get(name="FY27 budget")
    assert stable(response.json()) == {
        "id": version.pk,
        "name": "FY27 budget",
        "description": "First cut",
        "status": "draft",
        "is_current": False,
        "based_on": None,
        "based_on_name": None,
        "created_by": pmo.pk,
        "created_by_name": str(pmo),
        "proposed_by": None,
        "proposed_by_name": None,
        "proposed_at": None,
        "approved_by": None,
        "approved_by_name": None,
        "approved_at": None,
        "superseded_at": None,
    }


def test_editing_an_approved_plan_version_is_a_conflict(api_client, pmo, plans):
    # given
    current = plans["current"]
    api_client.force_authenticate(pmo)
    events_before = AuditEvent.objects.count()

    # when
    response = api_client.patch(
        f"{API}plan-versions/{current.pk}/", {"name": "Rewritten history"}, format="json"
    )

    # then
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "plan_version_not_draft",
            "message": (
                "FY26 baseline is approved (current); only a draft plan version can be edited. "
                "Create a new draft to change the plan."
            ),
            "fields": {},
        }
    }
    current.refresh_from_db()
    assert current.name == "FY26 baseline"
    assert AuditEvent.objects.count() == events_before


def test_an_approved_plan_version_cannot_be_deleted_or_approved_again(
    api_client, pmo, executive, plans
):
    # given
    current = plans["current"]
    api_client.force_authenticate(pmo)

    # when
    deleted = api_client.delete(f"{API}plan-versions/{current.pk}/")
    api_client.force_authenticate(executive)
    approved = api_client.post(f"{API}plan-versions/{current.pk}/approve/", {}, format="json")

    # then
    assert (deleted.status_code, approved.status_code) == (409, 409)
    assert PlanVersion.objects.get(pk=current.pk).status == PlanVersionStatus.APPROVED
    assert AuditEvent.objects.count() == 0


def test_current_is_a_404_before_any_approval(api_client, viewer):
    # given
    api_client.force_authenticate(viewer)

    # when
    response = api_client.get(f"{API}plan-versions/current/")

    # then
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "No plan version has been approved yet.",
        "fields": {},
    }


def test_plan_versions_are_filtered_by_status(api_client, viewer, plans):
    # given
    api_client.force_authenticate(viewer)

    # when
    response = api_client.get(f"{API}plan-versions/", {"status": "draft"})

    # then
    assert [v["name"] for v in response.json()["results"]] == ["FY26 Q2 re-forecast"]
