"""The contracts API's details: input validation answers 400 with field messages, ETags and
If-Match, the version diff's parameter, codes accepted for departments and KPIs, filters, and
list endpoints that run a bounded number of queries."""

import pytest

from dependencies.models import Contract
from dependencies.services import amendments
from govern.models import AuditEvent
from tests.dependencies.contract_support import agreed, build_world, draft
from tests.factories import ContractFactory

API = "/api/v1/contracts/"


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def pmo_client(api_client, world):
    api_client.force_authenticate(world.pmo)
    return api_client


def test_a_contract_reads_with_its_etag_and_names(pmo_client, world):
    # given
    contract = draft(world)

    # when
    response = pmo_client.get(f"{API}{contract.pk}/")

    # then
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert {
        key: body[key]
        for key in (
            "code", "provider_department", "provider_department_name", "consumer_owner_name",
            "service_kpi", "consumer_kpis", "status", "status_display", "revision",
            "version_number", "has_pending_amendment", "plan_version_name",
        )
    } == {
        "code": "PROC-SALES-CASTINGS",
        "provider_department": world.provider.pk,
        "provider_department_name": "Procurement",
        "consumer_owner_name": "Carl Consumer",
        "service_kpi": None,
        "consumer_kpis": [world.consumer_kpi.pk],
        "status": "draft",
        "status_display": "Draft",
        "revision": 1,
        "version_number": 0,
        "has_pending_amendment": False,
        "plan_version_name": "Approved plan",
    }  # fmt: skip


def test_bad_input_answers_400_with_a_message_per_field(pmo_client, world):
    # when
    response = pmo_client.post(
        API,
        {
            "code": "lower case!",
            "provider_department": "NOPE",
            "consumer_department": world.consumer.pk,
            "consumer_owner": world.consumer_owner.pk,
            "due_date": "31/12/2026",
            "criticality": 9,
            "consumer_kpis": ["SALES-FILL", "NOPE"],
        },
        format="json",
    )

    # then
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert sorted(fields) == [
        "code", "consumer_kpis", "criticality", "deliverable", "due_date", "provider_department",
        "provider_owner", "title",
    ]  # fmt: skip
    assert fields["provider_department"] == ['Invalid pk "NOPE" - object does not exist.']
    assert fields["criticality"] == ["Ensure this value is less than or equal to 5."]
    assert not Contract.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_rules_across_terms_answer_400_too(pmo_client, world):
    # when
    response = pmo_client.post(
        API,
        {
            "code": "PROC-SALES-X",
            "title": "X",
            "provider_department": "PROC",
            "provider_owner": world.consumer_owner.pk,
            "consumer_department": "SALES",
            "consumer_owner": world.consumer_owner.pk,
            "deliverable": "Things",
            "service_kpi": "PROC-OTD",
        },
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "provider_owner": [
            "Carl Consumer is not a member of Procurement; the provider owner must be."
        ],
        "service_threshold": ["A service-level KPI needs a threshold."],
        "service_comparison": [
            "Say whether the KPI must stay at least or at most at the threshold."
        ],
    }


def test_an_id_the_user_may_not_see_is_invalid_like_a_missing_one(api_client, world):
    # given: a contract between Procurement and Sales; HR's lead may not see Sales' KPIs
    contract = agreed(world)
    api_client.force_authenticate(world.provider_lead)

    # when
    response = api_client.post(
        f"{API}{contract.pk}/amendments/",
        {"changes": {"consumer_kpis": [999999]}, "reason": "x"},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "consumer_kpis": ["No KPI 999999 that you can see."]
    }


def test_put_replaces_the_terms_of_a_draft(pmo_client, world):
    # given
    contract = draft(world)
    body = pmo_client.get(f"{API}{contract.pk}/").json()
    body.update({"title": "Replaced", "consumer_kpis": ["SALES-NPS"]})

    # when
    response = pmo_client.put(f"{API}{contract.pk}/", body, format="json", HTTP_IF_MATCH='"1"')

    # then
    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"2"'
    assert response.json()["title"] == "Replaced"
    assert response.json()["consumer_kpis"] == [world.other_consumer_kpi.pk]


def test_a_malformed_if_match_is_a_400(pmo_client, world):
    # given
    contract = draft(world)

    # when
    response = pmo_client.patch(
        f"{API}{contract.pk}/", {"title": "X"}, format="json", HTTP_IF_MATCH="yesterday"
    )
    star = pmo_client.patch(
        f"{API}{contract.pk}/", {"title": "Y"}, format="json", HTTP_IF_MATCH="*"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "If-Match": ["Send the ETag you read, e.g. \"7\"; got 'yesterday'."]
    }
    assert star.status_code == 200
    assert star["ETag"] == '"2"'


def test_if_match_and_a_body_revision_must_agree(pmo_client, world):
    # given
    contract = draft(world)

    # when
    response = pmo_client.patch(
        f"{API}{contract.pk}/", {"title": "X", "revision": 2}, format="json", HTTP_IF_MATCH='"1"'
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["revision"]


@pytest.mark.parametrize("value", ["1", "2,x", "1,2,3", ","])
def test_a_bad_compare_value_is_a_400(pmo_client, world, value):
    # given
    contract = agreed(world)

    # when
    response = pmo_client.get(f"{API}{contract.pk}/versions/", {"compare": value})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "compare": [f"Give two version numbers separated by a comma, e.g. 1,2; got {value!r}."]
    }


def test_comparing_a_missing_version_is_a_400_naming_those_that_exist(pmo_client, world):
    # given
    contract = agreed(world)

    # when
    response = pmo_client.get(f"{API}{contract.pk}/versions/", {"compare": "1,4"})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "compare": ["PROC-SALES-CASTINGS has no version 4; it has version 1 only."]
    }


def test_missing_versions_and_amendments_are_404(pmo_client, world):
    # given
    contract = agreed(world)

    # when
    version = pmo_client.get(f"{API}{contract.pk}/versions/9/")
    amendment = pmo_client.get(f"{API}{contract.pk}/amendments/9/")
    accept = pmo_client.post(f"{API}{contract.pk}/amendments/9/accept/", {}, format="json")
    no_contract = pmo_client.get(f"{API}999999/versions/")

    # then
    assert [r.status_code for r in (version, amendment, accept, no_contract)] == [404] * 4
    assert version.json()["error"]["message"] == "PROC-SALES-CASTINGS has no version 9."


def test_a_second_pending_amendment_is_a_409(api_client, world):
    # given
    contract = agreed(world)
    amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )
    api_client.force_authenticate(world.provider_owner)

    # when
    response = api_client.post(
        f"{API}{contract.pk}/amendments/",
        {"changes": {"title": "Other"}, "reason": "Tidy"},
        format="json",
    )

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "amendment_pending"
    assert response.json()["error"]["details"] == {"pending": 1}


def test_amendment_changes_must_be_terms(pmo_client, world):
    # given
    contract = agreed(world)

    # when
    response = pmo_client.post(
        f"{API}{contract.pk}/amendments/",
        {"changes": {"revision": 9}, "reason": "Tidy"},
        format="json",
    )
    not_a_dict = pmo_client.post(
        f"{API}{contract.pk}/amendments/", {"changes": ["title"], "reason": "x"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["revision"]
    assert not_a_dict.status_code == 400
    assert list(not_a_dict.json()["error"]["fields"]) == ["changes"]


def test_the_list_filters_by_department_side_and_status(pmo_client, world):
    # given
    draft(world)
    agreed(world, code="PROC-SALES-AGREED")
    ContractFactory(code="ELSEWHERE")

    # when
    by_side = pmo_client.get(API, {"department": world.consumer.pk, "side": "consumer"})
    in_force = pmo_client.get(API, {"status": "in_force"})
    bad = pmo_client.get(API, {"status": "asleep"})

    # then
    assert [c["code"] for c in by_side.json()["results"]] == [
        "PROC-SALES-CASTINGS",
        "PROC-SALES-AGREED",
    ]
    assert [c["code"] for c in in_force.json()["results"]] == ["PROC-SALES-AGREED"]
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["status"]


def test_the_contract_list_runs_a_bounded_number_of_queries(
    pmo_client, world, django_assert_max_num_queries
):
    # given
    for n in range(3):
        agreed(world, code=f"PROC-SALES-{n}")
    pmo_client.get(API)

    # when
    with django_assert_max_num_queries(10):
        few = pmo_client.get(API)
    for n in range(3, 12):
        agreed(world, code=f"PROC-SALES-{n}")
    with django_assert_max_num_queries(10):
        many = pmo_client.get(API)

    # then
    assert few.json()["count"] == 3
    assert many.json()["count"] == 12


def test_versions_and_amendments_lists_run_a_bounded_number_of_queries(
    pmo_client, world, django_assert_max_num_queries
):
    # given: three versions and three amendments
    contract = agreed(world)
    for level in (5, 2, 1):
        amendment = amendments.amendment_propose(
            actor=world.pmo, contract=contract, changes={"criticality": level}, reason="Tune"
        )
        amendments.amendment_override(actor=world.pmo, amendment=amendment, reason="Board")

    # when
    with django_assert_max_num_queries(6):
        versions = pmo_client.get(f"{API}{contract.pk}/versions/")
    with django_assert_max_num_queries(6):
        listed = pmo_client.get(f"{API}{contract.pk}/amendments/")

    # then
    assert [v["number"] for v in versions.json()["results"]] == [4, 3, 2, 1]
    assert [a["applied_version"] for a in listed.json()["results"]] == [4, 3, 2]


def test_the_history_merges_the_contract_and_its_amendments(pmo_client, world):
    # given
    contract = agreed(world)
    amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )

    # when
    response = pmo_client.get(f"{API}{contract.pk}/history/")

    # then
    assert [(e["action"], e["subject_type"]) for e in response.json()["results"]] == [
        ("propose", "dependencies.amendment"),
        ("agree", "dependencies.contract"),
        ("agree", "dependencies.contract"),
        ("propose", "dependencies.contract"),
        ("create", "dependencies.contract"),
    ]


def test_the_schema_documents_the_contract_endpoints(api_client, db):
    # when
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    # then
    paths = sorted(p for p in schema["paths"] if p.startswith(API))
    assert paths == [
        "/api/v1/contracts/",
        "/api/v1/contracts/{contract_pk}/amendments/",
        "/api/v1/contracts/{contract_pk}/amendments/{number}/",
        "/api/v1/contracts/{contract_pk}/amendments/{number}/accept/",
        "/api/v1/contracts/{contract_pk}/amendments/{number}/override/",
        "/api/v1/contracts/{contract_pk}/amendments/{number}/reject/",
        "/api/v1/contracts/{contract_pk}/amendments/{number}/withdraw/",
        "/api/v1/contracts/{contract_pk}/versions/",
        "/api/v1/contracts/{contract_pk}/versions/{number}/",
        "/api/v1/contracts/{id}/",
        "/api/v1/contracts/{id}/agree/",
        "/api/v1/contracts/{id}/cancel/",
        "/api/v1/contracts/{id}/fulfil/",
        "/api/v1/contracts/{id}/history/",
        "/api/v1/contracts/{id}/propose/",
    ]
    patch = schema["paths"]["/api/v1/contracts/{id}/"]["patch"]
    assert sorted(patch["responses"]) == ["200", "400", "401", "403", "404", "409"]
    assert "If-Match" in [p["name"] for p in patch["parameters"]]
