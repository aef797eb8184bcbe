from govern.choices import ObjectiveLevel
from tests.factories import ObjectiveFactory
from tests.govern.api.support import API, stable


def test_a_lead_creates_an_annual_objective_under_a_strategic_one(
    api_client, lead, department, sales_plan
):
    # given
    api_client.force_authenticate(lead)
    strategic = sales_plan["strategic"]
    payload = {
        "title": "Open two regional offices",
        "level": "annual",
        "parent": strategic.pk,
        "owner": lead.pk,
        "department": department.pk,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "weight": 4,
    }

    # when
    response = api_client.post(f"{API}objectives/", payload, format="json")

    # then
    assert response.status_code == 201
    body = stable(response.json())
    assert body == {
        "id": body["id"],
        "title": "Open two regional offices",
        "description": "",
        "level": "annual",
        "parent": strategic.pk,
        "parent_title": "Grow mid-market share",
        "owner": lead.pk,
        "owner_name": str(lead),
        "department": department.pk,
        "department_name": "Sales",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "weight": 4,
        "progress": None,
        "progress_updated_at": None,
    }


def test_the_level_is_required(api_client, pmo, department, lead):
    # given
    api_client.force_authenticate(pmo)
    payload = {
        "title": "Cut working capital",
        "owner": lead.pk,
        "department": department.pk,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }

    # when
    response = api_client.post(f"{API}objectives/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"level": ["This field is required."]}


def test_history_shows_old_and_new_values_after_a_patch(api_client, lead, sales_plan):
    # given
    objective = sales_plan["objective"]
    api_client.force_authenticate(lead)
    url = f"{API}objectives/{objective.pk}/"

    # when
    patched = api_client.patch(url, {"weight": 5, "end_date": "2026-11-30"}, format="json")
    history = api_client.get(url + "history/")

    # then
    assert patched.status_code == 200
    events = history.json()["results"]
    assert history.json()["count"] == 1  # the factory wrote the objective without a service
    assert stable(events[0]) == {
        "id": events[0]["id"],
        "actor": lead.pk,
        "actor_name": lead.get_full_name(),
        "action": "update",
        "subject_type": "govern.objective",
        "subject_id": str(objective.pk),
        "subject_name": "Sign 40 new mid-market accounts",
        "changes": {
            "weight": {"old": 3, "new": 5},
            "end_date": {"old": "2026-12-31", "new": "2026-11-30"},
        },
        "reason": "",
    }


def test_the_tree_nests_the_cascade(api_client, executive, sales_plan, other_department):
    # given
    ObjectiveFactory(title="Cut purchase costs 4%", department=other_department)
    api_client.force_authenticate(executive)

    # when
    response = api_client.get(f"{API}objectives/tree/")

    # then
    assert response.status_code == 200
    shape = [
        (node["title"], [(child["title"], child["children"]) for child in node["children"]])
        for node in response.json()
    ]
    assert shape == [  # the strategy first, then annual objectives by start date and title
        ("Grow mid-market share", [("Sign 40 new mid-market accounts", [])]),
        ("Cut purchase costs 4%", []),
    ]
    annual = response.json()[0]["children"][0]
    assert annual["initiative_count"] == 1
    assert annual["department_name"] == "Sales"


def test_the_tree_can_be_narrowed_to_one_department(
    api_client, executive, sales_plan, other_department
):
    # given
    ObjectiveFactory(title="Cut purchase costs 4%", department=other_department)
    api_client.force_authenticate(executive)

    # when
    response = api_client.get(f"{API}objectives/tree/", {"department": other_department.pk})

    # then
    assert [node["title"] for node in response.json()] == ["Cut purchase costs 4%"]


def test_objectives_are_filtered_by_level_and_searched(api_client, pmo, sales_plan):
    # given
    api_client.force_authenticate(pmo)

    # when
    strategic = api_client.get(f"{API}objectives/", {"level": ObjectiveLevel.STRATEGIC})
    searched = api_client.get(f"{API}objectives/", {"q": "accounts"})
    top_level = api_client.get(f"{API}objectives/", {"top_level": "true"})

    # then
    assert [o["title"] for o in strategic.json()["results"]] == ["Grow mid-market share"]
    assert [o["title"] for o in searched.json()["results"]] == ["Sign 40 new mid-market accounts"]
    assert [o["title"] for o in top_level.json()["results"]] == ["Grow mid-market share"]
