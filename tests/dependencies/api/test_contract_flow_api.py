"""The contract journey at the HTTP boundary: draft → propose → agree (version 1); a direct edit
of agreed terms refused; an amendment accepted by both sides (version 2, and the diff shows
exactly what changed); a rejection that leaves the version alone; stale If-Match; the PMO
override; and every step in the audit trail."""

import pytest

from dependencies.models import Contract
from govern.models import AuditEvent
from tests.dependencies.contract_support import agreed, build_world

API = "/api/v1/contracts/"


@pytest.fixture
def world(db):
    return build_world()


def _as(client, person):
    client.force_authenticate(person)
    return client


def _create_body(world) -> dict:
    return {
        "code": "PROC-SALES-CASTINGS",
        "title": "Castings for key accounts",
        "provider_department": "PROC",
        "provider_owner": world.provider_owner.pk,
        "consumer_department": "SALES",
        "consumer_owner": world.consumer_owner.pk,
        "deliverable": "2,000 castings a week",
        "due_date": "2026-06-30",
        "service_kpi": "PROC-OTD",
        "service_comparison": "gte",
        "service_threshold": 95,
        "criticality": 4,
        "provider_milestones": [world.provider_milestone.pk],
        "consumer_kpis": ["SALES-FILL"],
    }


def test_draft_propose_and_agree_by_both_sides_writes_version_1(api_client, world):
    # given: the PMO drafts
    created = _as(api_client, world.pmo).post(API, _create_body(world), format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created["ETag"] == '"1"'
    assert created["Location"].endswith(f"{API}{pk}/")

    # when: the PMO proposes, each side agrees
    proposed = api_client.post(f"{API}{pk}/propose/", {}, format="json", HTTP_IF_MATCH='"1"')
    provider = _as(api_client, world.provider_owner).post(
        f"{API}{pk}/agree/", {"comment": "We can"}, format="json", HTTP_IF_MATCH='"2"'
    )
    consumer = _as(api_client, world.consumer_lead).post(
        f"{API}{pk}/agree/", {"revision": 3}, format="json"
    )

    # then
    assert (proposed.status_code, proposed.json()["status"], proposed["ETag"]) == (
        200,
        "proposed",
        '"2"',
    )
    assert (provider.status_code, provider.json()["status"]) == (200, "proposed")
    assert provider.json()["provider_agreed_by_name"] == "Pia Provider"
    body = consumer.json()
    assert consumer.status_code == 200
    assert (body["status"], body["version_number"], body["revision"]) == ("agreed", 1, 4)
    assert consumer["ETag"] == '"4"'
    versions = api_client.get(f"{API}{pk}/versions/").json()
    assert [v["number"] for v in versions["results"]] == [1]
    v1 = api_client.get(f"{API}{pk}/versions/1/").json()
    assert v1["terms"]["service_threshold"] == 95.0
    assert v1["terms"]["provider_department"] == {"id": world.provider.pk, "label": "Procurement"}
    assert (v1["author_name"], v1["amendment"], v1["overridden"]) == ("Cleo Lead", None, False)
    actions = list(
        AuditEvent.objects.filter(subject_type="dependencies.contract", subject_id=str(pk))
        .order_by("pk")
        .values_list("action", "actor__username")
    )
    assert actions == [
        ("create", "pmo"),
        ("propose", "pmo"),
        ("agree", "pia"),
        ("agree", "clead"),
    ]


def test_a_direct_edit_of_agreed_terms_is_refused_and_changes_nothing(api_client, world):
    # given
    contract = agreed(world)
    events = AuditEvent.objects.count()

    # when
    response = _as(api_client, world.pmo).patch(
        f"{API}{contract.pk}/", {"title": "Quietly changed"}, format="json"
    )

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "terms_frozen"
    assert response.json()["error"]["message"] == (
        "Agreed terms change only through an amendment: propose one on the contract page or "
        f"POST /api/v1/contracts/{contract.pk}/amendments/."
    )
    contract.refresh_from_db()
    assert (contract.title, contract.revision) == ("Castings for key accounts", 4)
    assert AuditEvent.objects.count() == events


def test_an_amendment_accepted_by_both_sides_is_version_2_and_the_diff_shows_it(api_client, world):
    # given
    contract = agreed(world)
    url = f"{API}{contract.pk}/amendments/"

    # when: the consumer lead proposes, both owners accept
    proposed = _as(api_client, world.consumer_lead).post(
        url,
        {"changes": {"due_date": "2026-09-30", "criticality": 5}, "reason": "Pilot moved to Q3"},
        format="json",
        HTTP_IF_MATCH='"4"',
    )
    first = _as(api_client, world.provider_owner).post(
        f"{url}1/accept/", {"comment": "Fine"}, format="json"
    )
    second = _as(api_client, world.consumer_owner).post(f"{url}1/accept/", {}, format="json")
    diff = api_client.get(f"{API}{contract.pk}/versions/", {"compare": "1,2"})

    # then
    assert proposed.status_code == 201, proposed.json()
    assert proposed.json()["status"] == "pending"
    assert proposed.json()["changes"] == {"due_date": "2026-09-30", "criticality": 5}
    assert (first.status_code, first.json()["status"]) == (200, "pending")
    assert second.status_code == 200
    assert (second.json()["status"], second.json()["applied_version"]) == ("accepted", 2)
    assert second.json()["contract_revision"] == 5
    assert diff.status_code == 200
    body = diff.json()
    assert (body["a"], body["b"], body["changed"]) == (1, 2, ["due_date", "criticality"])
    assert [row["field"] for row in body["rows"] if row["changed"]] == ["due_date", "criticality"]
    assert diff["ETag"] == '"5"'
    contract.refresh_from_db()
    assert (contract.version_number, str(contract.due_date), contract.criticality) == (
        2,
        "2026-09-30",
        5,
    )
    versions = api_client.get(f"{API}{contract.pk}/versions/").json()["results"]
    assert [(v["number"], v["amendment"]) for v in versions] == [(2, 1), (1, None)]
    trail = list(
        AuditEvent.objects.filter(subject_type="dependencies.amendment")
        .order_by("pk")
        .values_list("action", "actor__username")
    )
    assert trail == [("propose", "clead"), ("accept", "pia"), ("accept", "carl")]


def test_a_rejection_leaves_version_1(api_client, world):
    # given
    contract = agreed(world)
    url = f"{API}{contract.pk}/amendments/"
    _as(api_client, world.provider_lead).post(
        url, {"changes": {"title": "Castings and cores"}, "reason": "Add cores"}, format="json"
    )

    # when
    no_comment = _as(api_client, world.consumer_owner).post(f"{url}1/reject/", {}, format="json")
    rejected = api_client.post(
        f"{url}1/reject/", {"comment": "Cores are not in our plan"}, format="json"
    )

    # then
    assert no_comment.status_code == 400
    assert no_comment.json()["error"]["fields"] == {
        "comment": ["Say why you reject it; the comment goes to the other side and the history."]
    }
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["consumer_comment"] == "Cores are not in our plan"
    versions = api_client.get(f"{API}{contract.pk}/versions/").json()["results"]
    assert [v["number"] for v in versions] == [1]
    detail = api_client.get(f"{API}{contract.pk}/")
    assert (detail.json()["title"], detail.json()["version_number"]) == (
        "Castings for key accounts",
        1,
    )
    assert detail["ETag"] == '"4"'


def test_a_stale_if_match_is_refused_and_changes_nothing(api_client, world):
    # given: someone else edited the draft since revision 1 was read
    created = _as(api_client, world.pmo).post(API, _create_body(world), format="json")
    pk = created.json()["id"]
    api_client.patch(f"{API}{pk}/", {"title": "First edit"}, format="json", HTTP_IF_MATCH='"1"')
    events = AuditEvent.objects.count()

    # when
    stale = api_client.patch(
        f"{API}{pk}/", {"title": "Second edit"}, format="json", HTTP_IF_MATCH='"1"'
    )
    stale_body = api_client.patch(f"{API}{pk}/", {"title": "Third", "revision": 1}, format="json")
    stale_action = api_client.post(f"{API}{pk}/propose/", {}, format="json", HTTP_IF_MATCH='W/"1"')

    # then
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale"
    assert stale.json()["error"]["details"] == {"revision": 2}
    assert stale_body.status_code == 409
    assert stale_action.status_code == 409
    contract = Contract.objects.get(pk=pk)
    assert (contract.title, contract.revision, contract.status) == ("First edit", 2, "draft")
    assert AuditEvent.objects.count() == events


def test_the_pmo_override_is_recorded_with_its_reason(api_client, world):
    # given
    contract = agreed(world)
    url = f"{API}{contract.pk}/amendments/"
    _as(api_client, world.provider_owner).post(
        url, {"changes": {"service_level": "2,000 a week"}, "reason": "Say it"}, format="json"
    )

    # when
    without = _as(api_client, world.pmo).post(f"{url}1/override/", {"reason": ""}, format="json")
    response = api_client.post(
        f"{url}1/override/", {"reason": "Agreed at the S&OP review"}, format="json"
    )

    # then
    assert without.status_code == 400
    assert list(without.json()["error"]["fields"]) == ["reason"]
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["override_by_name"], body["override_reason"]) == (
        "overridden",
        "Pam Officer",
        "Agreed at the S&OP review",
    )
    version = api_client.get(f"{API}{contract.pk}/versions/2/").json()
    assert version["overridden"] is True
    assert version["reason"].startswith("PMO override by Pam Officer: Agreed at the S&OP review")
    history = api_client.get(f"{API}{contract.pk}/history/").json()["results"]
    assert [(e["action"], e["subject_type"], e["reason"]) for e in history[:2]] == [
        ("override", "dependencies.contract", "Amendment 1: Say it"),
        ("override", "dependencies.amendment", "Agreed at the S&OP review"),
    ]


def test_fulfil_and_cancel_through_the_api(api_client, world):
    # given
    fulfilled = agreed(world)
    cancelled = agreed(world, code="PROC-SALES-OTHER")

    # when
    done = _as(api_client, world.provider_owner).post(
        f"{API}{fulfilled.pk}/fulfil/", {"comment": "All delivered"}, format="json"
    )
    refused = api_client.post(f"{API}{cancelled.pk}/cancel/", {"reason": "x"}, format="json")
    stopped = _as(api_client, world.pmo).post(
        f"{API}{cancelled.pk}/cancel/", {"reason": "Programme stopped"}, format="json"
    )

    # then
    assert (done.status_code, done.json()["status"]) == (200, "fulfilled")
    assert refused.status_code == 403
    assert (stopped.status_code, stopped.json()["status"]) == (200, "cancelled")


def test_a_draft_is_deleted_and_an_agreed_contract_is_not(api_client, world):
    # given
    draft_pk = _as(api_client, world.pmo).post(API, _create_body(world), format="json").json()["id"]
    contract = agreed(world, code="PROC-SALES-AGREED")

    # when
    deleted = api_client.delete(f"{API}{draft_pk}/", HTTP_IF_MATCH='"1"')
    refused = api_client.delete(f"{API}{contract.pk}/")

    # then
    assert deleted.status_code == 204
    assert not Contract.objects.filter(pk=draft_pk).exists()
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_draft"
