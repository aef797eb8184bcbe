"""The permission matrix at the queryset level: what each role sees and may change."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from govern import permissions as perms
from govern.choices import ObjectiveLevel, Role
from govern.models import AuditEvent, Department, Initiative, Milestone, Objective, Person
from tests.factories import (
    InitiativeFactory,
    MilestoneFactory,
    ObjectiveFactory,
    PersonFactory,
    person_with_role,
)


@pytest.fixture
def world(department, other_department):
    """An annual objective, initiative and milestone in Sales and in Procurement; a strategy."""
    strategic = ObjectiveFactory(level=ObjectiveLevel.STRATEGIC, department=other_department)
    sales_initiative = InitiativeFactory(department=department)
    proc_initiative = InitiativeFactory(department=other_department)
    return {
        "strategic": strategic,
        "sales_objective": ObjectiveFactory(department=department, parent=strategic),
        "proc_objective": ObjectiveFactory(department=other_department, parent=strategic),
        "sales_initiative": sales_initiative,
        "proc_initiative": proc_initiative,
        "sales_milestone": MilestoneFactory(initiative=sales_initiative),
        "proc_milestone": MilestoneFactory(initiative=proc_initiative),
    }


def _visible(model, user) -> set:
    return set(model.objects.restrict(user, perms.VIEW).values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["pmo", "executive"])
def test_executives_and_pmo_see_every_department(request, world, role):
    # given
    user = request.getfixturevalue(role)

    # then
    assert _visible(Department, user) == set(Department.objects.values_list("pk", flat=True))
    assert _visible(Initiative, user) == set(Initiative.objects.values_list("pk", flat=True))
    assert _visible(Milestone, user) == set(Milestone.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("role", ["lead", "contributor", "viewer"])
def test_department_members_see_their_department_and_the_shared_strategy(request, world, role):
    # given
    user = request.getfixturevalue(role)

    # then
    assert _visible(Objective, user) == {world["strategic"].pk, world["sales_objective"].pk}
    assert _visible(Initiative, user) == {world["sales_initiative"].pk}
    assert _visible(Milestone, user) == {world["sales_milestone"].pk}
    assert {d.code for d in Department.objects.restrict(user)} == {"SALES"}


def test_someone_without_a_membership_sees_only_the_strategy_and_themselves(world, outsider):
    # then
    assert _visible(Objective, outsider) == {world["strategic"].pk}
    assert _visible(Initiative, outsider) == set()
    assert _visible(Department, outsider) == set()
    assert _visible(Person, outsider) == {outsider.pk}


def test_people_see_colleagues_but_not_other_departments(
    world, lead, contributor, other_department
):
    # given
    stranger = person_with_role(Role.CONTRIBUTOR, other_department)

    # then
    assert {lead.pk, contributor.pk} <= _visible(Person, lead)
    assert stranger.pk not in _visible(Person, lead)


def test_anonymous_users_see_nothing(world):
    # given
    from django.contrib.auth.models import AnonymousUser

    # then
    assert _visible(Objective, AnonymousUser()) == set()


def test_an_inactive_account_sees_nothing(world, lead):
    # given
    lead.is_active = False

    # then
    assert _visible(Objective, lead) == set()


def test_a_lead_changes_annual_objectives_of_their_department_only(world, lead):
    # then
    assert perms.allowed(lead, perms.CHANGE, world["sales_objective"])
    assert not perms.allowed(lead, perms.CHANGE, world["proc_objective"])
    assert not perms.allowed(lead, perms.CHANGE, world["strategic"])


def test_who_may_create_what_where(world, department, other_department, pmo, lead, contributor):
    # then
    assert perms.can_add(lead, Initiative, department=department)
    assert not perms.can_add(lead, Initiative, department=other_department)
    assert perms.can_add(lead, Objective, department=department, level=ObjectiveLevel.ANNUAL)
    assert not perms.can_add(lead, Objective, department=department, level=ObjectiveLevel.STRATEGIC)
    assert perms.can_add(
        pmo, Objective, department=other_department, level=ObjectiveLevel.STRATEGIC
    )
    assert not perms.can_add(contributor, Initiative, department=department)
    assert perms.can_add(pmo, Department)
    assert not perms.can_add(lead, Department)


def test_contributors_report_progress_on_their_own_milestones_only(world, department, contributor):
    # given
    own = MilestoneFactory(initiative=world["sales_initiative"], owner=contributor)

    # then
    assert perms.allowed(contributor, perms.PROGRESS, own)
    assert not perms.allowed(contributor, perms.PROGRESS, world["sales_milestone"])
    assert not perms.allowed(contributor, perms.CHANGE, own)


def test_a_viewer_owning_a_milestone_still_cannot_report_progress(world, viewer):
    # given
    own = MilestoneFactory(initiative=world["sales_initiative"], owner=viewer)

    # then
    assert not perms.allowed(viewer, perms.PROGRESS, own)


def test_the_gate_answers_404_for_invisible_and_403_for_read_only_objects(world, lead, viewer):
    # then
    with pytest.raises(Http404):
        perms.access(Initiative, lead, world["proc_initiative"].pk)
    with pytest.raises(PermissionDenied):
        perms.access(Initiative, viewer, world["sales_initiative"].pk, for_write=True)
    assert (
        perms.access(Initiative, lead, world["sales_initiative"].pk, for_write=True)
        == (world["sales_initiative"])
    )


def test_the_gate_answers_404_for_a_malformed_id(lead):
    with pytest.raises(Http404):
        perms.access(Initiative, lead, "not-a-number")


def test_nobody_may_change_audit_events(world, pmo):
    # given
    superuser = PersonFactory(is_superuser=True)

    # then
    assert AuditEvent.objects.restrict(pmo, perms.CHANGE).count() == 0
    assert AuditEvent.objects.restrict(superuser, perms.DELETE).count() == 0


def test_the_scope_is_computed_once_per_user_object(world, lead, django_assert_num_queries):
    # given
    perms.scope_for(lead)

    # then: further checks on the same user object reuse it
    with django_assert_num_queries(1):
        list(Initiative.objects.restrict(lead))
