"""factory_boy factories for the core domain. Dates are fixed so tests can compute exact values."""

import datetime as dt
from decimal import Decimal

import factory

from govern.choices import (
    InitiativeStatus,
    MilestoneStatus,
    ObjectiveLevel,
    PlanVersionStatus,
    Role,
)
from govern.models import (
    Department,
    Initiative,
    Membership,
    Milestone,
    Objective,
    Person,
    PlanVersion,
)

PASSWORD = "correct-horse-battery"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"DEPT{n}")
    name = factory.Sequence(lambda n: f"Department {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda p: f"{p.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = Role.CONTRIBUTOR


def person_with_role(role: str, *departments: Department, **kwargs) -> Person:
    """A person holding `role` in each of `departments` (a fresh department if none given)."""
    person = PersonFactory(**kwargs)
    for department in departments or (DepartmentFactory(),):
        MembershipFactory(person=person, department=department, role=role)
    return person


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    title = factory.Sequence(lambda n: f"Objective {n}")
    level = ObjectiveLevel.ANNUAL
    department = factory.SubFactory(DepartmentFactory)
    owner = factory.SubFactory(PersonFactory)
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 12, 31)
    weight = 3


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Initiative {n}")
    department = factory.SubFactory(DepartmentFactory)
    owner = factory.SubFactory(PersonFactory)
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 12, 31)
    budget = Decimal("100000.00")
    fte = Decimal("2.50")
    status = InitiativeStatus.ACTIVE

    @factory.post_generation
    def objectives(self, create, extracted, **kwargs):
        if create and extracted:
            self.objectives.set(extracted)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    initiative = factory.SubFactory(InitiativeFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    owner = factory.SubFactory(PersonFactory)
    due_date = dt.date(2026, 6, 30)
    status = MilestoneStatus.PLANNED


class PlanVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanVersion

    name = factory.Sequence(lambda n: f"Plan {n}")
    status = PlanVersionStatus.DRAFT
