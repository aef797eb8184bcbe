import datetime as dt

from django.utils import timezone

from govern.choices import MilestoneStatus
from govern.models import AuditEvent, Milestone
from tests.factories import InitiativeFactory, MilestoneFactory
from tests.govern.api.support import API, stable


def test_the_owner_reports_a_milestone_done_today(api_client, contributor, sales_plan):
    # given
    milestone = sales_plan["milestone"]
    api_client.force_authenticate(contributor)

    # when
    response = api_client.post(
        f"{API}milestones/{milestone.pk}/progress/", {"status": "done"}, format="json"
    )

    # then
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert (response.json()["status"], response.json()["completed_date"]) == ("done", today)
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DONE
    event = AuditEvent.objects.get(subject_type="govern.milestone", action="update")
    assert event.changes == {
        "status": {"old": "planned", "new": "done"},
        "completed_date": {"old": None, "new": today},
    }


def test_a_future_completion_date_is_refused(api_client, contributor, sales_plan):
    # given
    milestone = sales_plan["milestone"]
    api_client.force_authenticate(contributor)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    # when
    response = api_client.post(
        f"{API}milestones/{milestone.pk}/progress/",
        {"status": "done", "completed_date": tomorrow.isoformat()},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "completed_date": ["The completion date cannot be in the future."]
    }
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PLANNED
    assert AuditEvent.objects.count() == 0


def test_the_owner_may_report_progress_but_not_edit(api_client, contributor, sales_plan):
    # given
    milestone = sales_plan["milestone"]
    api_client.force_authenticate(contributor)

    # when
    response = api_client.patch(
        f"{API}milestones/{milestone.pk}/", {"due_date": "2026-12-31"}, format="json"
    )

    # then
    assert response.status_code == 403
    milestone.refresh_from_db()
    assert milestone.due_date == dt.date(2026, 6, 30)


def test_a_lead_creates_a_milestone(api_client, lead, contributor, sales_plan):
    # given
    initiative = sales_plan["initiative"]
    api_client.force_authenticate(lead)
    payload = {
        "initiative": initiative.pk,
        "name": "Contracts signed",
        "owner": contributor.pk,
        "due_date": "2026-10-31",
    }

    # when
    response = api_client.post(f"{API}milestones/", payload, format="json")

    # then
    assert response.status_code == 201
    milestone = Milestone.objects.get(name="Contracts signed")
    assert stable(response.json()) == {
        "id": milestone.pk,
        "initiative": initiative.pk,
        "initiative_name": "Key-account programme",
        "department": initiative.department_id,
        "name": "Contracts signed",
        "description": "",
        "owner": contributor.pk,
        "owner_name": str(contributor),
        "due_date": "2026-10-31",
        "completed_date": None,
        "status": "planned",
        "overdue": timezone.localdate() > dt.date(2026, 10, 31),
    }


def test_overdue_is_derived_and_filterable(api_client, executive, department):
    # given
    initiative = InitiativeFactory(department=department, start_date=dt.date(2020, 1, 1))
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    late = MilestoneFactory(initiative=initiative, name="Late", due_date=yesterday)
    MilestoneFactory(
        initiative=initiative,
        name="Done late",
        due_date=yesterday,
        status=MilestoneStatus.DONE,
        completed_date=yesterday,
    )
    on_time = MilestoneFactory(initiative=initiative, name="Next week", due_date=today)
    api_client.force_authenticate(executive)

    # when
    overdue = api_client.get(f"{API}milestones/", {"overdue": "true"})
    not_overdue = api_client.get(f"{API}milestones/", {"overdue": "false", "status": "planned"})

    # then
    assert [(m["id"], m["overdue"]) for m in overdue.json()["results"]] == [(late.pk, True)]
    assert [(m["id"], m["overdue"]) for m in not_overdue.json()["results"]] == [(on_time.pk, False)]
