from django.urls import reverse

from govern import services
from govern.choices import PlanVersionStatus, Role
from govern.models import Membership, Person
from tests.factories import (
    InitiativeFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PlanVersionFactory,
)
from tests.govern.pages.helpers import database_state, text


def test_approving_a_plan_version_asks_for_confirmation_and_a_reason(client, executive, pmo):
    # given
    current = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
    services.plan_version_propose(actor=pmo, plan_version=current)
    services.plan_version_approve(actor=executive, plan_version=current, reason="Board")
    draft = services.plan_version_create_draft(actor=pmo, name="FY26 Q2 re-forecast")
    services.plan_version_propose(actor=pmo, plan_version=draft)
    client.force_login(executive)
    url = reverse("planversion-approve", args=[draft.pk])

    # when
    confirmation = client.get(url)
    without_reason = client.post(url, {"reason": ""})
    approved = client.post(url, {"reason": "Q2 demand is 8% below plan"}, follow=True)

    # then
    assert (
        "Approving FY26 Q2 re-forecast makes it the current plan for everyone. FY26 baseline "
        "will be superseded; its history is kept."
    ) in text(confirmation)
    assert without_reason.status_code == 400
    assert without_reason.context["form"].errors == {"reason": ["This field is required."]}
    draft.refresh_from_db()
    current.refresh_from_db()
    assert (draft.status, current.status) == (
        PlanVersionStatus.APPROVED, PlanVersionStatus.SUPERSEDED,
    )  # fmt: skip
    page = text(approved)
    assert "“FY26 Q2 re-forecast” is now the current plan." in page
    assert "Plan: FY26 Q2 re-forecast" in page
    assert "Reason: Q2 demand is 8% below plan" in page.split("History", 1)[1]


def test_an_approved_plan_version_cannot_be_edited_and_the_page_says_why(client, pmo, executive):
    # given
    version = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")
    services.plan_version_propose(actor=pmo, plan_version=version)
    services.plan_version_approve(actor=executive, plan_version=version, reason="Board")
    client.force_login(pmo)
    before = database_state()

    # when
    detail = client.get(version.get_absolute_url())
    response = client.post(
        reverse("planversion-update", args=[version.pk]), {"name": "Something else"}
    )

    # then
    assert reverse("planversion-update", args=[version.pk]) not in detail.content.decode()
    assert response.status_code == 409
    assert (
        "FY26 baseline is approved (current); only a draft plan version can be edited. "
        "Create a new draft to change the plan."
    ) in text(response)
    assert database_state() == before


def test_a_proposed_version_shows_approve_to_the_executive_but_not_edit(client, executive):
    # given
    draft = PlanVersionFactory(name="FY27 draft", status=PlanVersionStatus.PROPOSED)
    client.force_login(executive)

    # when
    response = client.get(draft.get_absolute_url())

    # then
    html = response.content.decode()
    assert reverse("planversion-approve", args=[draft.pk]) in html
    assert reverse("planversion-update", args=[draft.pk]) not in html
    assert reverse("planversion-delete", args=[draft.pk]) not in html


def test_the_pmo_adds_a_person_and_gives_them_a_role(client, pmo, department):
    # given
    client.force_login(pmo)

    # when
    created = client.post(
        reverse("person-create"),
        {"username": "hkowalski", "first_name": "Hannah", "last_name": "Kowalski",
         "email": "hannah@example.com", "job_title": "Production planner",
         "password": "foundry-schedule-2026", "password_again": "foundry-schedule-2026"},
    )  # fmt: skip
    person = Person.objects.get(username="hkowalski")
    response = client.post(
        reverse("membership-create", args=[person.pk]),
        {"department": department.pk, "role": Role.CONTRIBUTOR},
        follow=True,
    )

    # then
    assert created.url == person.get_absolute_url()
    assert person.check_password("foundry-schedule-2026")
    assert Membership.objects.get(person=person).role == Role.CONTRIBUTOR
    page = text(response)
    assert "Hannah Kowalski is now Contributor in Sales." in page
    assert "Roles Add a role Department Role Actions Sales Contributor Change role Remove" in page


def test_mismatched_passwords_are_refused_on_the_second_field(client, pmo):
    # given
    client.force_login(pmo)
    before = database_state()

    # when
    response = client.post(
        reverse("person-create"),
        {"username": "hkowalski", "password": "foundry-schedule-2026", "password_again": "x"},
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "password_again": ["The two passwords do not match."]
    }
    assert database_state() == before


def test_a_taken_username_is_refused_on_the_username_field(client, pmo, viewer):
    # given
    client.force_login(pmo)
    before = database_state()

    # when
    response = client.post(reverse("person-create"), {"username": viewer.username.upper()})

    # then
    assert response.status_code == 400
    assert response.context["form"].errors == {"username": ["This username is taken."]}
    assert database_state() == before


def test_changing_a_role_is_recorded_in_its_history(client, pmo, contributor, department):
    # given
    membership = Membership.objects.get(person=contributor, department=department)
    client.force_login(pmo)

    # when
    client.post(reverse("membership-update", args=[membership.pk]), {"role": Role.VIEWER})
    page = text(client.get(reverse("membership-update", args=[membership.pk])))

    # then
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    assert "Role Contributor → Viewer" in page.split("History", 1)[1]


def test_the_last_pmo_cannot_remove_their_own_role_and_is_told_why(client, pmo):
    # given
    membership = Membership.objects.get(person=pmo, role=Role.PMO)
    client.force_login(pmo)
    before = database_state()

    # when
    response = client.post(reverse("membership-delete", args=[membership.pk]))

    # then
    assert response.status_code == 409
    assert (
        "It cannot be deleted. You are the last PMO member; removing this role would lock the plan."
    ) in text(response)
    assert database_state() == before


def test_a_person_page_lists_what_they_own(client, viewer, lead, department):
    # given
    ObjectiveFactory(title="Win OEM accounts", department=department, owner=lead)
    initiative = InitiativeFactory(name="Distributor programme", department=department, owner=lead)
    MilestoneFactory(name="Agreements signed", initiative=initiative, owner=lead)
    client.force_login(viewer)

    # when
    page = text(client.get(lead.get_absolute_url()))

    # then
    assert "Objectives owned 1 Win OEM accounts Annual Sales" in page
    assert "Initiatives owned 1 Distributor programme Active Sales · 0/1 milestones done" in page
    assert "Milestones owned 1 Agreements signed" in page
    assert "Edit profile" not in page
