import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from govern.choices import InitiativeStatus, ObjectiveLevel, Role
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PersonFactory,
    PlanVersionFactory,
    person_with_role,
)
from tests.govern.pages.helpers import text

LIST_PAGES = [
    "dashboard",
    "department-list",
    "person-list",
    "objective-list",
    "initiative-list",
    "planversion-list",
]
# The most queries any list page may run, whatever the number of rows (15 since the header's
# notification bell counts the unread notifications: one indexed count on every page).
MAX_QUERIES = 15


def _grow_organisation(size: int, *, owner) -> None:
    """`size` departments, each with a member, a strategic objective and an annual one below it,
    an active initiative with a done, an overdue and an open milestone, and a plan version."""
    today = timezone.localdate()
    for n in range(size):
        department = DepartmentFactory()
        person_with_role(Role.CONTRIBUTOR, department)
        strategy = ObjectiveFactory(level=ObjectiveLevel.STRATEGIC, department=department)
        annual = ObjectiveFactory(parent=strategy, department=department, owner=owner)
        initiative = InitiativeFactory(department=department, owner=owner, objectives=[annual])
        MilestoneFactory(
            initiative=initiative, status="done", completed_date=today - dt.timedelta(days=1)
        )
        MilestoneFactory(
            initiative=initiative, owner=owner, due_date=today - dt.timedelta(days=n + 1)
        )
        MilestoneFactory(initiative=initiative, owner=owner, due_date=today + dt.timedelta(days=9))
        PlanVersionFactory()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", LIST_PAGES)
def test_a_list_page_runs_the_same_bounded_number_of_queries_for_3_or_30_rows(client, pmo, page):
    # given
    client.force_login(pmo)
    url = reverse(page)
    _grow_organisation(3, owner=pmo)
    with_3 = _queries(client, url)

    # when
    _grow_organisation(27, owner=pmo)
    with_30 = _queries(client, url)

    # then
    assert with_30 == with_3
    assert with_30 <= MAX_QUERIES


def test_pagination_keeps_the_filters(client, viewer, department):
    # given
    InitiativeFactory.create_batch(30, department=department, status=InitiativeStatus.ACTIVE)
    InitiativeFactory.create_batch(4, department=department, status=InitiativeStatus.PROPOSED)
    client.force_login(viewer)

    # when
    first = client.get(reverse("initiative-list"), {"status": "active"})
    second = client.get(reverse("initiative-list"), {"status": "active", "page": "2"})

    # then
    assert "30 initiatives match these filters" in text(first)
    assert len(first.context["page"].object_list) == 25
    assert 'href="?status=active&amp;page=2" rel="next"' in first.content.decode()
    assert "Page 2 of 2" in text(second)
    assert [i.status for i in second.context["page"].object_list] == ["active"] * 5
    assert 'href="?status=active&amp;page=1" rel="prev"' in second.content.decode()


def test_the_search_box_narrows_the_list(client, viewer, department):
    # given
    InitiativeFactory(name="Vendor-managed inventory", department=department)
    InitiativeFactory(name="Carrier tender", department=department)
    client.force_login(viewer)

    # when
    response = client.get(reverse("initiative-list"), {"q": "vendor"})

    # then
    assert [i.name for i in response.context["page"].object_list] == ["Vendor-managed inventory"]
    assert "1 initiative matches these filters Clear filters" in text(response)


def test_filters_offer_only_departments_the_user_can_see(
    client, viewer, department, other_department
):
    # given
    client.force_login(viewer)

    # when
    response = client.get(reverse("initiative-list"))

    # then
    assert list(response.context["filter_form"].fields["department"].queryset) == [department]


def test_a_bad_filter_value_is_explained_on_the_form(client, viewer):
    # given
    client.force_login(viewer)

    # when
    response = client.get(reverse("initiative-list"), {"department": "not-a-number"})

    # then
    assert response.status_code == 400
    assert response.context["filter_form"].errors == {
        "department": ["Select a valid choice. That choice is not one of the available choices."]
    }


def test_an_empty_list_invites_creation_only_when_the_user_may_create(client, lead, viewer):
    # given
    url = reverse("initiative-list")

    # when
    client.force_login(lead)
    as_lead = text(client.get(url))
    client.force_login(viewer)
    as_viewer = text(client.get(url))

    # then
    assert "No initiatives yet. Create the first one" in as_lead
    assert "No initiatives yet." in as_viewer
    assert "Create the first one" not in as_viewer
    assert "New initiative" not in as_viewer


def test_a_filtered_empty_list_offers_to_clear_the_filters(client, lead, department):
    # given
    InitiativeFactory(department=department, status=InitiativeStatus.ACTIVE)
    client.force_login(lead)

    # when
    response = client.get(reverse("initiative-list"), {"status": "cancelled"})

    # then
    assert "No initiatives match these filters. Clear filters to see them all." in text(response)
    assert "Create the first one" not in text(response)


def test_people_are_listed_with_their_roles(client, pmo, department, other_department):
    # given
    person = person_with_role(
        Role.DEPARTMENT_LEAD, department, first_name="Tom", last_name="Whitfield"
    )
    person_with_role(Role.VIEWER, other_department, first_name="Ada", last_name="Zed")
    PersonFactory(first_name="Nora", last_name="Nobody", is_active=False)
    client.force_login(pmo)

    # when
    response = client.get(reverse("person-list"), {"department": department.pk})

    # then
    assert [p.pk for p in response.context["page"].object_list] == [person.pk]
    assert f"Tom Whitfield {person.username} — Department lead Sales Active" in text(response)


def test_the_objective_tree_is_paginated_by_top_level_objective(client, pmo, department):
    # given
    for n in range(27):
        top = ObjectiveFactory(title=f"Goal {n:02}", level=ObjectiveLevel.STRATEGIC)
        ObjectiveFactory(title=f"Goal {n:02} annual", parent=top)
    client.force_login(pmo)

    # when
    first = client.get(reverse("objective-list"))
    second = client.get(reverse("objective-list"), {"page": "2"})

    # then
    assert "27 top-level objectives" in text(first)
    assert len(first.context["page"].object_list) == 25
    assert [node["objective"].title for node in second.context["page"].object_list] == [
        "Goal 25",
        "Goal 26",
    ]
    assert "Goal 26 annual" in text(second)
