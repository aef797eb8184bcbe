import datetime as dt
from decimal import Decimal

from django.urls import reverse

from govern import services
from govern.choices import AuditAction, ObjectiveLevel
from govern.models import AuditEvent, Objective
from tests.factories import InitiativeFactory, ObjectiveFactory
from tests.govern.pages.helpers import database_state, objective_tree, text


def _objective_form(department, owner, **overrides):
    data = {
        "title": "Grow repeat orders",
        "level": ObjectiveLevel.ANNUAL,
        "department": department.pk,
        "owner": owner.pk,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "weight": "4",
        "description": "Existing OEM accounts order again within the year.",
    }
    return {**data, **overrides}


def test_creating_an_objective_through_the_form_creates_it_and_records_an_audit_event(
    client, lead, department
):
    # given
    client.force_login(lead)

    # when
    response = client.post(reverse("objective-create"), _objective_form(department, lead))

    # then
    objective = Objective.objects.get(title="Grow repeat orders")
    assert response.status_code == 302
    assert response.url == objective.get_absolute_url()
    assert (objective.level, objective.department, objective.owner, objective.weight) == (
        ObjectiveLevel.ANNUAL, department, lead, 4,
    )  # fmt: skip
    assert (objective.start_date, objective.end_date) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    event = AuditEvent.objects.for_object(objective).get()
    assert (event.action, event.actor, event.changes["title"]) == (
        AuditAction.CREATE, lead, {"old": None, "new": "Grow repeat orders"},
    )  # fmt: skip
    page = client.get(response.url)
    assert "Created objective “Grow repeat orders”." in text(page)


def test_a_bad_date_range_shows_the_field_error_and_creates_nothing(client, lead, department):
    # given
    client.force_login(lead)
    before = database_state()

    # when
    response = client.post(
        reverse("objective-create"),
        _objective_form(department, lead, start_date="2026-12-31", end_date="2026-01-01"),
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "end_date": ["The end date must be after the start date."]
    }
    assert (
        '<ul class="errorlist" id="id_end_date_error">'
        "<li>The end date must be after the start date.</li></ul>"
    ) in response.content.decode()
    assert database_state() == before


def test_a_lead_cannot_create_an_objective_in_another_department(
    client, lead, department, other_department
):
    # given
    client.force_login(lead)
    before = database_state()

    # when
    response = client.post(reverse("objective-create"), _objective_form(other_department, lead))

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["department"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert database_state() == before


def test_a_lead_is_offered_only_annual_objectives_in_their_own_department(
    client, lead, department, other_department
):
    # given
    client.force_login(lead)

    # when
    response = client.get(reverse("objective-create"))

    # then
    form = response.context["form"]
    assert form.fields["level"].choices == [(ObjectiveLevel.ANNUAL, "Annual")]
    assert list(form.fields["department"].queryset) == [department]


def test_the_objective_tree_nests_children_under_parents(client, pmo, department):
    # given
    strategy = ObjectiveFactory(
        title="On-time-in-full delivery", level=ObjectiveLevel.STRATEGIC, department=department
    )
    annual = ObjectiveFactory(title="Cut transit time", parent=strategy, department=department)
    grandchild = ObjectiveFactory(title="Carrier tender", parent=annual, department=department)
    sibling = ObjectiveFactory(title="Reliable promise dates", parent=strategy)
    loose = ObjectiveFactory(title="Standalone annual goal")
    client.force_login(pmo)

    # when
    response = client.get(reverse("objective-list"))

    # then
    assert objective_tree(response) == {
        strategy.pk: None,
        annual.pk: strategy.pk,
        grandchild.pk: annual.pk,
        sibling.pk: strategy.pk,
        loose.pk: None,
    }


def test_the_tree_shows_progress_or_says_it_is_not_computed_yet(client, pmo, department):
    # given
    ObjectiveFactory(title="Computed", department=department, progress=Decimal("42.5"))
    ObjectiveFactory(title="Fresh", department=department, progress=None)
    client.force_login(pmo)

    # when
    page = text(client.get(reverse("objective-list")))

    # then
    assert "Computed Annual" in page
    assert "42.5%" in page.split("Computed", 1)[1].split("Fresh", 1)[0]
    assert "not computed yet" in page.split("Fresh", 1)[1]


def test_an_objective_page_shows_its_parent_children_and_the_initiatives_serving_it(
    client, viewer, department
):
    # given
    strategy = ObjectiveFactory(
        title="Grow share", level=ObjectiveLevel.STRATEGIC, department=department
    )
    objective = ObjectiveFactory(title="Win OEM accounts", parent=strategy, department=department)
    ObjectiveFactory(title="Win ten in Germany", parent=objective, department=department)
    InitiativeFactory(name="Distributor programme", department=department, objectives=[objective])
    client.force_login(viewer)

    # when
    page = text(client.get(objective.get_absolute_url()))

    # then
    assert "Cascades from Grow share" in page
    assert "Objectives below 1 Win ten in Germany" in page
    assert "Initiatives serving it Initiative Department Status Milestones done" in page
    assert "Distributor programme Sales Active 0/0" in page
    assert "Edit" not in page


def test_an_objective_whose_parent_is_hidden_does_not_name_it(client, viewer, department):
    # given
    hidden_parent = ObjectiveFactory(title="Procurement secret plan")
    objective = ObjectiveFactory(title="Sales goal", parent=hidden_parent, department=department)
    client.force_login(viewer)

    # when
    page = text(client.get(objective.get_absolute_url()))

    # then
    assert "Cascades from An objective outside your departments" in page
    assert "Procurement secret plan" not in page


def test_the_history_panel_shows_old_and_new_values_after_an_edit(client, lead, department):
    # given
    objective = services.objective_create(
        actor=lead, title="Win 40 OEM accounts", level=ObjectiveLevel.ANNUAL, owner=lead,
        department=department, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
    )  # fmt: skip
    client.force_login(lead)

    # when
    client.post(
        reverse("objective-update", args=[objective.pk]),
        _objective_form(department, lead, title="Win 45 OEM accounts", weight="5"),
    )
    page = text(client.get(objective.get_absolute_url()))

    # then
    history = page.split("History", 1)[1]
    assert f"{lead.get_full_name()} changed" in history
    assert "Title Win 40 OEM accounts → Win 45 OEM accounts" in history
    assert "Weight 3 → 5" in history
    assert "Description — → Existing OEM accounts order again within the year." in history
    assert history.index("changed") < history.index("created")


def test_deleting_an_objective_with_children_explains_why_and_deletes_nothing(
    client, pmo, department
):
    # given
    parent = ObjectiveFactory(title="Grow share", department=department)
    ObjectiveFactory(title="Win OEM accounts", parent=parent, department=department)
    client.force_login(pmo)
    before = database_state()

    # when
    response = client.post(reverse("objective-delete", args=[parent.pk]))

    # then
    assert response.status_code == 409
    assert (
        "It cannot be deleted. Grow share has objectives cascading from it; delete or re-parent "
        "them first."
    ) in text(response)
    assert database_state() == before


def test_deleting_an_objective_after_confirmation(client, pmo, department):
    # given
    objective = ObjectiveFactory(title="Obsolete goal", department=department)
    client.force_login(pmo)

    # when
    confirmation = client.get(reverse("objective-delete", args=[objective.pk]))
    response = client.post(reverse("objective-delete", args=[objective.pk]), follow=True)

    # then
    assert "Delete objective “Obsolete goal”?" in text(confirmation)
    assert response.redirect_chain == [(reverse("objective-list"), 302)]
    assert "Deleted objective “Obsolete goal”." in text(response)
    assert not Objective.objects.filter(pk=objective.pk).exists()
    assert AuditEvent.objects.filter(
        subject_type="govern.objective", subject_id=str(objective.pk), action=AuditAction.DELETE
    ).exists()
