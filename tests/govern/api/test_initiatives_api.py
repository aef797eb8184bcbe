import datetime as dt
from decimal import Decimal

from govern.choices import InitiativeStatus, MilestoneStatus
from govern.models import AuditEvent, Initiative
from tests.factories import InitiativeFactory, MilestoneFactory, ObjectiveFactory
from tests.govern.api.support import API, stable


def test_a_lead_creates_an_initiative_serving_objectives(api_client, lead, department, sales_plan):
    # given
    api_client.force_authenticate(lead)
    objective = sales_plan["objective"]
    payload = {
        "name": "Partner channel",
        "department": department.pk,
        "owner": lead.pk,
        "objectives": [objective.pk],
        "start_date": "2026-03-01",
        "end_date": "2026-09-30",
        "budget": "80000.00",
        "fte": "1.50",
    }

    # when
    response = api_client.post(f"{API}initiatives/", payload, format="json")

    # then
    assert response.status_code == 201
    initiative = Initiative.objects.get(name="Partner channel")
    assert stable(response.json()) == {
        "id": initiative.pk,
        "name": "Partner channel",
        "description": "",
        "objectives": [objective.pk],
        "department": department.pk,
        "department_name": "Sales",
        "owner": lead.pk,
        "owner_name": str(lead),
        "start_date": "2026-03-01",
        "end_date": "2026-09-30",
        "budget": "80000.00",
        "fte": "1.50",
        "status": "proposed",
        "milestone_count": 0,
        "milestones_done": 0,
        "milestones_overdue": 0,
    }
    event = AuditEvent.objects.get(subject_type="govern.initiative", subject_id=str(initiative.pk))
    assert event.changes["objectives"] == {"old": None, "new": ["Sign 40 new mid-market accounts"]}


def test_patching_objectives_replaces_them_and_keeps_the_rest(
    api_client, lead, department, sales_plan
):
    # given
    initiative = sales_plan["initiative"]
    other = ObjectiveFactory(title="Raise NPS to 45", department=department)
    api_client.force_authenticate(lead)

    # when
    response = api_client.patch(
        f"{API}initiatives/{initiative.pk}/", {"objectives": [other.pk]}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json()["objectives"] == [other.pk]
    assert response.json()["budget"] == "100000.00"
    assert list(initiative.objectives.all()) == [other]


def test_a_lead_cannot_move_an_initiative_to_a_department_they_do_not_lead(
    api_client, lead, department, other_department, sales_plan
):
    # given
    initiative = sales_plan["initiative"]
    api_client.force_authenticate(lead)
    events_before = AuditEvent.objects.count()

    # when
    response = api_client.patch(
        f"{API}initiatives/{initiative.pk}/", {"department": other_department.pk}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "department": [f'Invalid pk "{other_department.pk}" - object does not exist.']
    }
    initiative.refresh_from_db()
    assert initiative.department == department
    assert AuditEvent.objects.count() == events_before


def test_milestone_counts_filters_and_ordering(api_client, executive, department, lead):
    # given
    cheap = InitiativeFactory(
        name="Price list refresh", department=department, budget=Decimal("5000.00")
    )
    big = InitiativeFactory(
        name="CRM rollout", department=department, status=InitiativeStatus.ON_HOLD
    )
    MilestoneFactory(initiative=big, due_date=dt.date(2026, 2, 1))
    MilestoneFactory(
        initiative=big,
        status=MilestoneStatus.DONE,
        completed_date=dt.date(2026, 1, 15),
        due_date=dt.date(2026, 1, 31),
    )
    api_client.force_authenticate(executive)

    # when
    by_budget = api_client.get(f"{API}initiatives/", {"ordering": "budget"})
    on_hold = api_client.get(f"{API}initiatives/", {"status": "on_hold"})
    searched = api_client.get(f"{API}initiatives/", {"search": "price"})

    # then
    assert [i["id"] for i in by_budget.json()["results"]] == [cheap.pk, big.pk]
    (row,) = on_hold.json()["results"]
    assert (row["id"], row["milestone_count"], row["milestones_done"]) == (big.pk, 2, 1)
    assert [i["id"] for i in searched.json()["results"]] == [cheap.pk]


def test_filtering_by_a_hidden_department_looks_like_filtering_by_a_missing_one(
    api_client, lead, other_department
):
    # given: Procurement exists but the Sales lead may not see it
    InitiativeFactory(department=other_department)
    api_client.force_authenticate(lead)

    # when
    hidden = api_client.get(f"{API}initiatives/", {"department": other_department.pk})
    missing = api_client.get(f"{API}initiatives/", {"department": 999_999})

    # then: the same 400 either way, so the filter reveals nothing
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["error"]["fields"] == missing.json()["error"]["fields"]
    assert "department" in hidden.json()["error"]["fields"]
