"""Every list answers with a bounded number of queries, whatever the number of rows."""

import datetime as dt

import pytest

from govern import services
from govern.choices import ObjectiveLevel, Role
from govern.models import Person
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    MembershipFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PlanVersionFactory,
)
from tests.govern.api.support import API


def _departments(n, pmo, department):
    for i in range(n):
        MembershipFactory(department=DepartmentFactory(), role=Role.VIEWER)
        InitiativeFactory(department=DepartmentFactory(code=f"EXTRA-{i}"))


def _memberships(n, pmo, department):
    for _ in range(n):
        MembershipFactory(department=department, role=Role.CONTRIBUTOR)


def _objectives(n, pmo, department):
    parent = ObjectiveFactory(level=ObjectiveLevel.STRATEGIC, department=department)
    for _ in range(n):
        ObjectiveFactory(parent=parent, department=department)


def _initiatives(n, pmo, department):
    objective = ObjectiveFactory(department=department)
    for _ in range(n):
        initiative = InitiativeFactory(department=department, objectives=[objective])
        MilestoneFactory(initiative=initiative, due_date=dt.date(2026, 2, 1))


def _milestones(n, pmo, department):
    initiative = InitiativeFactory(department=department)
    for _ in range(n):
        MilestoneFactory(initiative=initiative)


def _plan_versions(n, pmo, department):
    for _ in range(n):
        PlanVersionFactory(created_by=pmo)


def _audit_events(n, pmo, department):
    for i in range(n):
        services.department_update(actor=pmo, department=department, data={"description": f"{i}"})


LISTS = [
    ("departments/", _departments, 3),
    ("people/", _memberships, 4),
    ("memberships/", _memberships, 3),
    ("objectives/", _objectives, 3),
    ("objectives/tree/", _objectives, 2),
    ("initiatives/", _initiatives, 4),
    ("milestones/", _milestones, 3),
    ("plan-versions/", _plan_versions, 3),
    ("audit-events/", _audit_events, 3),
    ("departments/{department}/history/", _audit_events, 4),
]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(("path", "make_rows", "bound"), LISTS, ids=[p for p, _, _ in LISTS])
def test_lists_run_a_bounded_number_of_queries(
    api_client, django_assert_max_num_queries, pmo, department, path, make_rows, bound, rows
):
    # given
    make_rows(rows, pmo, department)
    api_client.force_authenticate(Person.objects.get(pk=pmo.pk))  # scope not cached yet

    # when
    with django_assert_max_num_queries(bound):
        response = api_client.get(API + path.format(department=department.pk))

    # then
    assert response.status_code == 200
    assert _rows(response.json()) >= rows


def _rows(body) -> int:
    if isinstance(body, dict):
        return body["count"]
    return sum(1 + _rows(node["children"]) for node in body)  # an objective tree
