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


# --- KPI engine (issue 3) ---------------------------------------------------------------------


def approved_plan_version() -> PlanVersion:
    """The current approved plan version, created on first use (one is allowed at a time)."""
    from django.utils import timezone

    existing = PlanVersion.objects.filter(status=PlanVersionStatus.APPROVED).first()
    if existing is not None:
        return existing
    return PlanVersionFactory(
        name="Approved plan", status=PlanVersionStatus.APPROVED, approved_at=timezone.now()
    )


class KpiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "kpis.Kpi"

    code = factory.Sequence(lambda n: f"KPI-{n}")
    name = factory.Sequence(lambda n: f"KPI {n}")
    department = factory.SubFactory(DepartmentFactory)
    owner = factory.SubFactory(PersonFactory)
    unit = "units"
    direction = "higher_is_better"
    frequency = "monthly"
    tolerance_mode = "percent"
    amber_threshold = 5.0
    red_threshold = 10.0


class TargetFactory(factory.django.DjangoModelFactory):
    """A planned value; in the current approved plan version unless one is given."""

    class Meta:
        model = "kpis.Target"

    kpi = factory.SubFactory(KpiFactory)
    plan_version = factory.LazyFunction(approved_plan_version)
    period = dt.date(2026, 1, 1)
    value = 100.0


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "kpis.Measurement"

    kpi = factory.SubFactory(KpiFactory)
    period = dt.date(2026, 1, 1)
    value = 100.0
    source = "manual"


class KpiResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "kpis.KpiResult"

    kpi = factory.SubFactory(KpiFactory)
    period = dt.date(2026, 1, 1)
    plan = 100.0
    actual = 100.0
    variance = 0.0
    variance_pct = 0.0
    adverse = 0.0
    status = "on_track"
    forecast = None
    forecast_status = ""


class KpiExceptionFactory(factory.django.DjangoModelFactory):
    """An open red exception of a KPI, in the KPI's department, owned by its owner, due in 3
    days."""

    class Meta:
        model = "kpis.KpiException"

    kpi = factory.SubFactory(KpiFactory)
    kind = "kpi_red"
    status = "open"
    subject_key = factory.LazyAttribute(lambda e: f"kpi:{e.kpi.pk}")
    department = factory.LazyAttribute(lambda e: e.kpi.department)
    owner = factory.LazyAttribute(lambda e: e.kpi.owner)
    title = factory.LazyAttribute(lambda e: f"{e.kpi.code} is red: {e.kpi.name}")
    severity = 10.0
    opened_at = factory.LazyFunction(lambda: _aware(dt.datetime(2026, 4, 1, 9, 0)))
    decision_deadline = factory.LazyAttribute(lambda e: e.opened_at + dt.timedelta(days=3))


def _aware(moment: dt.datetime) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(moment)


class NotificationFactory(factory.django.DjangoModelFactory):
    """An unread "new exception" notification for a person, linking to an exception page."""

    class Meta:
        model = "govern.Notification"

    recipient = factory.SubFactory(PersonFactory)
    kind = "exception_opened"
    title = factory.Sequence(lambda n: f"New exception: KPI-{n} is red")
    body = "A new exception needs a decision by 04 Apr 2026 09:00."
    link = factory.Sequence(lambda n: f"/exceptions/{n + 1}/")
    subject_type = "kpis.kpiexception"
    subject_id = factory.Sequence(lambda n: str(n + 1))


class ContractFactory(factory.django.DjangoModelFactory):
    """A draft contract due on a date, between two new departments, in the current plan."""

    class Meta:
        model = "dependencies.Contract"

    code = factory.Sequence(lambda n: f"CTR-{n}")
    title = factory.Sequence(lambda n: f"Contract {n}")
    provider_department = factory.SubFactory(DepartmentFactory)
    provider_owner = factory.SubFactory(PersonFactory)
    consumer_department = factory.SubFactory(DepartmentFactory)
    consumer_owner = factory.SubFactory(PersonFactory)
    deliverable = "Castings, 2,000 units a week"
    acceptance_criteria = "Delivered to the line, first-pass quality ≥ 98%"
    due_date = dt.date(2026, 12, 31)
    criticality = 3
    plan_version = factory.LazyFunction(approved_plan_version)
    status = "draft"
