"""/api/v1/contingency-plans/ at the HTTP boundary: define (by codes), read, change, disable with
a reason, enable, test against history, the decisions a plan proposed; refusals in the one error
shape with nothing written; no delete; 404 for those who may not see a plan, 403 for those who
see it but may not change it; bounded queries on the list; the schema."""

import pytest

from decisions.models import ContingencyPlan
from decisions.services.contingency import contingency_check
from govern.models import AuditEvent
from tests.decisions.contingency.support import (
    RESPONSE_IN_WORDS,
    defined,
    month,
    plan_data,
    stored,
)
from tests.factories import KpiFactory

API = "/api/v1/contingency-plans/"


def _as(api_client, person):
    api_client.force_authenticate(person)
    return api_client


def _state():
    return (
        list(ContingencyPlan.objects.values()),
        list(AuditEvent.objects.values_list("pk", flat=True)),
    )


def test_a_lead_defines_a_plan_by_codes(api_client, world):
    # given
    data = plan_data(
        world,
        kpi="SALES-INTAKE",
        reallocations=[
            {"from_department": "SALES", "to_initiative": world.initiative.pk,
             "amount": "5000.00", "unit": "currency"},
        ],
    )  # fmt: skip

    # when
    response = _as(api_client, world.lead).post(API, data, format="json")

    # then
    assert response.status_code == 201, response.content
    plan = ContingencyPlan.objects.get()
    assert response["Location"] == f"http://testserver{API}{plan.pk}/"
    body = response.json()
    assert {key: body[key] for key in (
        "id", "kpi", "kpi_code", "department_name", "name", "trigger_basis", "threshold_pct",
        "periods", "owner_name", "enabled", "trigger_count", "open_proposal", "definition",
        "created_by_name",
    )} == {
        "id": plan.pk, "kpi": world.kpi.pk, "kpi_code": "SALES-INTAKE",
        "department_name": "Sales", "name": "Early promotion", "trigger_basis": "actual",
        "threshold_pct": 8.0, "periods": 2, "owner_name": "Cora Contributor", "enabled": True,
        "trigger_count": 0, "open_proposal": None,
        "definition": "If SALES-INTAKE is ≥ 8% below plan for 2 consecutive months (actual), "
        f"then {RESPONSE_IN_WORDS}",
        "created_by_name": "Lea Lead",
    }  # fmt: skip
    [line] = body["reallocations"]
    assert (line["from_department_name"], line["to_initiative_name"], line["amount"]) == (
        "Sales", "Spring campaign", "5000.00",
    )  # fmt: skip


def test_bad_input_is_a_400_with_every_field_message_and_nothing_written(api_client, world):
    # given
    data = plan_data(world, name="", threshold_pct=2000, periods=0, owner=world.viewer.pk)
    data["reallocations"] = [{"from_department": "SALES", "amount": "10", "unit": "fte"}]
    before = _state()

    # when
    response = _as(api_client, world.lead).post(API, data, format="json")

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "name": ["Give the plan a short name."],
        "threshold_pct": ["The threshold is an adverse variance between 0.1% and 1000% of plan."],
        "periods": ["Between 1 and 24 consecutive periods."],
        "owner": [
            "Vic Viewer may not record decisions for Sales: choose one of its members (not a "
            "viewer), its leads, the PMO or an executive, so that the decision the plan proposes "
            "can be recorded in their name."
        ],
        "reallocations[0].to_department": ["Say where the resources go."],
    }
    assert _state() == before


def test_a_malformed_value_is_a_400_from_the_shape_check(api_client, world):
    # when
    response = _as(api_client, world.lead).post(
        API, plan_data(world, threshold_pct="lots", trigger_basis="gut"), format="json"
    )

    # then
    assert response.status_code == 400
    assert sorted(response.json()["error"]["fields"]) == ["threshold_pct", "trigger_basis"]
    assert ContingencyPlan.objects.count() == 0


def test_who_may_define_a_plan_on_a_kpi(api_client, world):
    # when: a Sales contributor sees the KPI but may not; the Procurement lead does not see it
    contributor = _as(api_client, world.contributor).post(API, plan_data(world), format="json")
    other_lead = _as(api_client, world.other_lead).post(API, plan_data(world), format="json")

    # then
    assert contributor.status_code == 403
    assert contributor.json()["error"]["message"] == (
        "Only the PMO and the leads of Sales may define, change or disable contingency plans on "
        "SALES-INTAKE."
    )
    assert other_lead.status_code == 400
    # a hidden KPI (and the Sales owner, department and initiative) reads as one that does not
    # exist
    assert sorted(other_lead.json()["error"]["fields"]) == [
        "kpi", "owner", "reallocations.0.from_department", "reallocations.0.to_initiative",
    ]  # fmt: skip
    assert ContingencyPlan.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "read", "change"),
    [
        ("pmo", 200, 200),
        ("lead", 200, 200),
        ("executive", 200, 403),
        ("contributor", 200, 403),
        ("viewer", 200, 403),
        ("other_lead", 404, 404),
        ("outsider", 404, 404),
    ],
)
def test_who_sees_and_who_changes_a_plan(api_client, world, role, read, change):
    # given
    plan = defined(world)
    client = _as(api_client, getattr(world, role))

    # when
    got = client.get(f"{API}{plan.pk}/")
    patched = client.patch(f"{API}{plan.pk}/", {"threshold_pct": 9.5}, format="json")

    # then
    assert (got.status_code, patched.status_code) == (read, change)
    plan.refresh_from_db()
    assert plan.threshold_pct == (9.5 if change == 200 else 8.0)


def test_patch_changes_what_is_given(api_client, world):
    # given
    plan = defined(world)

    # when
    response = _as(api_client, world.lead).patch(
        f"{API}{plan.pk}/", {"periods": 3, "reallocations": []}, format="json"
    )

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["periods"], body["threshold_pct"], body["reallocations"]) == (3, 8.0, [])
    assert body["definition"].startswith("If SALES-INTAKE is ≥ 8% below plan for 3 consecutive")


def test_a_plan_is_never_deleted_nor_replaced_whole(api_client, world):
    # given
    plan = defined(world)
    client = _as(api_client, world.pmo)
    before = _state()

    # when
    deleted = client.delete(f"{API}{plan.pk}/")
    put = client.put(f"{API}{plan.pk}/", plan_data(world), format="json")

    # then
    assert (deleted.status_code, put.status_code) == (405, 405)
    assert deleted.json()["error"]["message"] == (
        "Contingency plans are never deleted (the decisions they proposed name them): disable it "
        "instead (POST /api/v1/contingency-plans/{id}/disable/ with a reason)."
    )
    assert put.json()["error"]["message"] == (
        "Change a contingency plan with PATCH, giving only what changes."
    )
    assert _state() == before


def test_disable_needs_a_reason_then_enable_arms_it_again(api_client, world):
    # given
    plan = defined(world)
    client = _as(api_client, world.lead)

    # when
    no_reason = client.post(f"{API}{plan.pk}/disable/", {}, format="json")
    disabled = client.post(f"{API}{plan.pk}/disable/", {"reason": "Budget spent."}, format="json")
    twice = client.post(f"{API}{plan.pk}/disable/", {"reason": "Again."}, format="json")
    enabled = client.post(f"{API}{plan.pk}/enable/", {}, format="json")

    # then
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["fields"] == {
        "reason": ["Say why the plan is disabled; it is kept in its history."]
    }
    assert disabled.status_code == 200
    assert (disabled.json()["enabled"], disabled.json()["disabled_reason"]) == (
        False, "Budget spent.",
    )  # fmt: skip
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_disabled")
    assert (enabled.status_code, enabled.json()["enabled"]) == (200, True)


def test_a_viewer_may_not_disable_a_plan(api_client, world):
    # given
    plan = defined(world)

    # when
    response = _as(api_client, world.viewer).post(
        f"{API}{plan.pk}/disable/", {"reason": "Noise."}, format="json"
    )

    # then
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.enabled is True


def test_history_lists_the_dates_it_would_have_triggered_on(api_client, world):
    # given: 9%, 12%, 3%, 10%, 8% under plan from January; ≥ 8% for 2 months
    plan = defined(world)
    stored(world.kpi, {1: 91, 2: 88, 3: 97, 4: 90, 5: 92})

    # when
    response = _as(api_client, world.viewer).get(f"{API}{plan.pk}/history/")

    # then: fires in February and May (the second run), never in April alone
    assert response.status_code == 200
    assert [(o["period"], o["since"], o["first"], o["run_length"]) for o in response.json()] == [
        ("2026-02-01", "2026-02-01", True, 2),
        ("2026-05-01", "2026-05-01", True, 2),
    ]
    assert response.json()[1]["window"] == [
        {"period": "2026-04-01", "value": 90.0, "plan": 100.0, "adverse_pct": 10.0},
        {"period": "2026-05-01", "value": 92.0, "plan": 100.0, "adverse_pct": 8.0},
    ]


def test_proposals_lists_the_decisions_a_plan_proposed(api_client, world):
    # given
    plan = defined(world)
    stored(world.kpi, {1: 90, 2: 90})
    [decision] = contingency_check(kpi_ids=[world.kpi.pk], today=month(2))

    # when
    response = _as(api_client, world.lead).get(f"{API}{plan.pk}/proposals/")
    listed = _as(api_client, world.lead).get(f"{API}{plan.pk}/").json()

    # then
    assert [(d["id"], d["status"]) for d in response.json()["results"]] == [
        (decision.pk, "proposed")
    ]
    assert (listed["open_proposal"], listed["trigger_count"], listed["last_triggered_period"]) == (
        decision.pk, 1, "2026-02-01",
    )  # fmt: skip


def test_the_list_filters(api_client, world):
    # given
    early = defined(world)
    late = defined(world, name="Late promotion", owner=world.lead.pk, threshold_pct=15)
    world_other = defined(world, actor=world.pmo, kpi=world.other_kpi.pk, name="Second supplier",
                          owner=world.other_lead.pk, reallocations=[])  # fmt: skip
    late.enabled = False
    late.save()
    client = _as(api_client, world.pmo)

    def names(**query) -> list[str]:
        response = client.get(API, query)
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    # then
    assert names() == ["Second supplier", "Early promotion", "Late promotion"]
    assert names(kpi=world.kpi.pk) == ["Early promotion", "Late promotion"]
    assert names(department=world.procurement.pk) == [world_other.name]
    assert names(enabled="false") == ["Late promotion"]
    assert names(owner=world.contributor.pk) == [early.name]
    assert names(q="second") == ["Second supplier"]
    assert names(trigger_basis="forecast") == []
    assert _as(api_client, world.contributor).get(API).json()["count"] == 2


def test_the_list_runs_a_bounded_number_of_queries(
    api_client, world, django_assert_max_num_queries
):
    # given
    for index in range(8):
        kpi = KpiFactory(department=world.sales, owner=world.contributor)
        defined(world, kpi=kpi.pk, name=f"Plan {index}")
    client = _as(api_client, world.lead)

    # when / then
    with django_assert_max_num_queries(6):
        response = client.get(API)
    assert response.json()["count"] == 8


def test_the_contingency_paths_and_their_errors_are_in_the_schema(api_client, db):
    # when
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    # then
    paths = {p: sorted(item) for p, item in schema["paths"].items() if "/contingency-" in p}
    assert paths == {
        "/api/v1/contingency-plans/": ["get", "post"],
        "/api/v1/contingency-plans/{id}/": ["get", "patch"],
        "/api/v1/contingency-plans/{id}/disable/": ["post"],
        "/api/v1/contingency-plans/{id}/enable/": ["post"],
        "/api/v1/contingency-plans/{id}/history/": ["get"],
        "/api/v1/contingency-plans/{id}/proposals/": ["get"],
    }
    disable = schema["paths"]["/api/v1/contingency-plans/{id}/disable/"]["post"]
    assert sorted(disable["responses"]) == ["200", "400", "401", "403", "404", "409"]
