import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from govern.choices import AuditAction, InitiativeStatus, MilestoneStatus
from govern.models import AuditEvent, Milestone
from tests.factories import InitiativeFactory, MilestoneFactory, ObjectiveFactory
from tests.govern.pages.helpers import database_state, text


def test_the_list_shows_status_dates_budget_fte_and_milestone_counts(client, viewer, department):
    # given
    today = timezone.localdate()
    initiative = InitiativeFactory(
        name="Distributor programme", department=department, status=InitiativeStatus.ON_HOLD,
        start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
        budget=Decimal("150000"), fte=Decimal("2.5"),
    )  # fmt: skip
    MilestoneFactory(initiative=initiative, status=MilestoneStatus.DONE, completed_date=today)
    MilestoneFactory(initiative=initiative, due_date=today - dt.timedelta(days=3))
    MilestoneFactory(initiative=initiative, due_date=today + dt.timedelta(days=30))
    client.force_login(viewer)

    # when
    page = text(client.get(reverse("initiative-list")))

    # then
    assert (
        f"Distributor programme Sales {initiative.owner} On hold 1 Jan 2026 – 31 Dec 2026 "
        "150,000 2.50 1/3 done 1 overdue"
    ) in page


def test_adding_a_milestone_from_the_initiative_page(client, lead, contributor, department):
    # given
    initiative = InitiativeFactory(name="Distributor programme", department=department)
    client.force_login(lead)
    detail = client.get(initiative.get_absolute_url())

    # when
    response = client.post(
        reverse("milestone-create", args=[initiative.pk]),
        {"new-name": "Pilot distributor live", "new-owner": contributor.pk,
         "new-due_date": "2026-09-30", "new-status": "planned"},
        follow=True,
    )  # fmt: skip

    # then
    assert "Add a milestone" in text(detail)
    milestone = Milestone.objects.get(initiative=initiative)
    assert (milestone.name, milestone.owner, milestone.due_date) == (
        "Pilot distributor live", contributor, dt.date(2026, 9, 30),
    )  # fmt: skip
    assert response.redirect_chain == [(milestone.get_absolute_url(), 302)]
    assert "Added milestone “Pilot distributor live” to Distributor programme." in text(response)
    assert AuditEvent.objects.for_object(milestone).get().actor == lead


def test_a_milestone_due_before_the_initiative_starts_is_refused_on_the_due_date_field(
    client, lead, department
):
    # given
    initiative = InitiativeFactory(department=department, start_date=dt.date(2026, 3, 1))
    client.force_login(lead)
    before = database_state()

    # when
    response = client.post(
        reverse("milestone-create", args=[initiative.pk]),
        {"new-name": "Too early", "new-owner": lead.pk, "new-due_date": "2026-02-01",
         "new-status": "planned"},
    )  # fmt: skip

    # then
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "due_date": ["The due date is before the initiative starts (01 Mar 2026)."]
    }
    assert database_state() == before


def test_the_milestone_owner_reports_progress_from_the_initiative_page(
    client, contributor, department
):
    # given
    initiative = InitiativeFactory(department=department)
    milestone = MilestoneFactory(initiative=initiative, owner=contributor, name="Agreements")
    client.force_login(contributor)
    detail = client.get(initiative.get_absolute_url())

    # when
    response = client.post(
        reverse("milestone-progress", args=[milestone.pk]), {"status": "done"}, follow=True
    )

    # then
    assert "data-progress-form" in detail.content.decode()
    assert reverse("milestone-update", args=[milestone.pk]) not in detail.content.decode()
    milestone.refresh_from_db()
    assert (milestone.status, milestone.completed_date) == (
        MilestoneStatus.DONE, timezone.localdate(),
    )  # fmt: skip
    assert "Progress recorded: “Agreements” is Done." in text(response)
    event = AuditEvent.objects.for_object(milestone).get(action=AuditAction.UPDATE)
    assert event.changes["status"] == {"old": "planned", "new": "done"}


def test_a_colleague_sees_no_progress_control_on_a_milestone_they_do_not_own(
    client, contributor, viewer, department
):
    # given
    initiative = InitiativeFactory(department=department)
    MilestoneFactory(initiative=initiative, owner=viewer)
    client.force_login(contributor)

    # when
    response = client.get(initiative.get_absolute_url())

    # then
    assert "data-progress-form" not in response.content.decode()
    assert "Add a milestone" not in text(response)


def test_a_viewer_sees_the_initiative_without_any_write_control(client, viewer, department):
    # given
    objective = ObjectiveFactory(title="Win OEM accounts", department=department)
    initiative = InitiativeFactory(
        name="Distributor programme", department=department, objectives=[objective]
    )
    MilestoneFactory(initiative=initiative, name="Agreements signed", owner=viewer)
    client.force_login(viewer)

    # when
    response = client.get(initiative.get_absolute_url())

    # then
    page = text(response)
    assert "Objectives served Win OEM accounts Annual" in page
    assert "Agreements signed Planned" in page
    for url in (
        reverse("initiative-update", args=[initiative.pk]),
        reverse("initiative-delete", args=[initiative.pk]),
        reverse("milestone-create", args=[initiative.pk]),
        "data-progress-form",
    ):
        assert url not in response.content.decode()


def test_editing_an_initiative_changes_its_objectives(client, lead, department):
    # given
    old = ObjectiveFactory(title="Old goal", department=department)
    new = ObjectiveFactory(title="New goal", department=department)
    initiative = InitiativeFactory(name="CRM", department=department, objectives=[old])
    client.force_login(lead)

    # when
    response = client.post(
        reverse("initiative-update", args=[initiative.pk]),
        {"name": "CRM", "department": department.pk, "owner": lead.pk, "status": "active",
         "start_date": "2026-01-01", "end_date": "2026-12-31", "budget": "100000",
         "fte": "2.5", "objectives": [new.pk]},
    )  # fmt: skip

    # then
    assert response.status_code == 302
    assert list(initiative.objectives.all()) == [new]
    history = text(client.get(initiative.get_absolute_url())).split("History", 1)[1]
    assert "Objectives Old goal → New goal" in history
    assert f"Owner {initiative.owner} → {lead}" in history


def test_deleting_an_initiative_says_its_milestones_go_with_it(client, lead, department):
    # given
    initiative = InitiativeFactory(name="CRM", department=department)
    MilestoneFactory.create_batch(2, initiative=initiative)
    client.force_login(lead)

    # when
    confirmation = client.get(reverse("initiative-delete", args=[initiative.pk]))
    client.post(reverse("initiative-delete", args=[initiative.pk]))

    # then
    assert "Its 2 milestones will be deleted with it" in text(confirmation)
    assert not Milestone.objects.filter(initiative_id=initiative.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE).count() == 3


def test_the_initiative_history_includes_its_milestones_changes(client, lead, viewer, department):
    # given: the lead reports progress on a milestone of a Sales initiative
    from govern import services

    initiative = InitiativeFactory(name="Distributor programme", department=department)
    milestone = MilestoneFactory(initiative=initiative, name="Sign partner contracts")
    services.milestone_report_progress(
        actor=lead, milestone=milestone, status=MilestoneStatus.IN_PROGRESS
    )
    client.force_login(viewer)

    # when
    page = text(client.get(reverse("initiative-detail", args=[initiative.pk])))

    # then: a viewer, who cannot open the milestone's edit page, reads its history here
    history = page[page.index("History") :]
    assert "Sign partner contracts" in history
    assert "Planned" in history
    assert "In progress" in history
