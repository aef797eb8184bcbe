"""`manage.py seed_demo`: the demo organisation, its sizes, idempotency and determinism."""

import datetime as dt
from io import StringIO

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from govern.choices import AuditAction, MilestoneStatus, ObjectiveLevel, PlanVersionStatus, Role
from govern.models import (
    AuditEvent,
    Department,
    Initiative,
    Membership,
    Milestone,
    Notification,
    Objective,
    Person,
    PlanVersion,
)
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)
MODELS = (Department, Person, Membership, Objective, Initiative, Milestone, PlanVersion, AuditEvent)
DEMO_USERNAMES = [
    "ceo", "cfo", "pmo", "sales.lead", "proc.lead", "prod.lead", "log.lead", "fin.lead",
    "cs.lead", "proc.buyer", "prod.planner", "sales.analyst", "auditor", "admin",
]  # fmt: skip


def seed(*args: str) -> str:
    # The KPI recompute after seeding is tested in tests/kpis/test_demo_kpis.py.
    out = StringIO()
    call_command("seed_demo", "--today", TODAY.isoformat(), "--no-recompute", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def canonical_dump() -> dict[str, list[tuple]]:
    """Everything the seed decides, by natural key: names, dates and values, no ids or clocks."""
    return {
        "departments": sorted(Department.objects.values_list("code", "name", "description")),
        "people": sorted(
            Person.objects.values_list(
                "username", "first_name", "last_name", "email", "job_title", "is_staff",
                "is_superuser",
            )
        ),
        "memberships": sorted(
            Membership.objects.values_list("person__username", "department__code", "role")
        ),
        "objectives": sorted(
            Objective.objects.values_list(
                "title", "parent__title", "level", "owner__username", "department__code",
                "start_date", "end_date", "weight", "description", "progress",
            ),
            key=str,
        ),
        "initiatives": sorted(
            Initiative.objects.values_list(
                "department__code", "name", "owner__username", "start_date", "end_date", "budget",
                "fte", "status", "description",
            )
        ),
        "initiative_objectives": sorted(
            Initiative.objectives.through.objects.values_list(
                "initiative__department__code", "initiative__name", "objective__title"
            )
        ),
        "milestones": sorted(
            Milestone.objects.values_list(
                "initiative__department__code", "initiative__name", "name", "owner__username",
                "due_date", "status", "completed_date",
            ),
            key=str,
        ),
        "plan_versions": sorted(
            PlanVersion.objects.values_list(
                "name", "status", "created_by__username", "approved_by__username", "approved_at"
            ),
            key=str,
        ),
    }  # fmt: skip


def test_the_demo_builds_the_named_organisation():
    # when
    seed()

    # then
    assert sorted(Department.objects.values_list("code", "name")) == [
        ("CS", "Customer Service"), ("FIN", "Finance"), ("LOG", "Logistics"),
        ("PMO", "PMO / OpEx"), ("PROC", "Procurement"), ("PROD", "Production"), ("SALES", "Sales"),
    ]  # fmt: skip
    strategic = Objective.objects.filter(level=ObjectiveLevel.STRATEGIC, parent=None)
    assert sorted(strategic.values_list("title", "start_date", "end_date")) == [
        ("Cut working capital by 15%", dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
        ("Grow share in the mid-market", dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
        ("On-time-in-full delivery ≥ 95%", dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
    ]
    annual = Objective.objects.filter(level=ObjectiveLevel.ANNUAL)
    assert sorted(annual.values_list("parent__title", "department__code")) == [
        ("Cut working capital by 15%", "FIN"), ("Cut working capital by 15%", "PROC"),
        ("Cut working capital by 15%", "PROD"), ("Grow share in the mid-market", "CS"),
        ("Grow share in the mid-market", "SALES"), ("On-time-in-full delivery ≥ 95%", "CS"),
        ("On-time-in-full delivery ≥ 95%", "LOG"), ("On-time-in-full delivery ≥ 95%", "PROC"),
        ("On-time-in-full delivery ≥ 95%", "PROD"),
    ]  # fmt: skip
    assert set(annual.values_list("start_date", "end_date")) == {
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    }
    assert Initiative.objects.count() == 16
    assert Initiative.objects.filter(objectives=None).count() == 0
    assert Milestone.objects.count() == 56
    assert dict(
        Initiative.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    ) == {"active": 13, "completed": 1, "on_hold": 1, "proposed": 1}


def test_the_demo_has_done_in_progress_and_overdue_milestones():
    # when
    seed()

    # then
    overdue = Milestone.objects.overdue(TODAY).order_by("due_date")
    assert list(overdue.values_list("initiative__name", "name", "due_date", "status")) == [
        ("Casting-alloy supplier consolidation",
         "Award decisions signed off by the steering committee", dt.date(2026, 5, 25),
         MilestoneStatus.IN_PROGRESS),
        ("Finite-capacity scheduling in the foundries",
         "Routings and work-centre capacities cleaned in the ERP", dt.date(2026, 6, 1),
         MilestoneStatus.IN_PROGRESS),
        ("Vendor-managed inventory for sand and binders",
         "Consumption feed to the supplier live over EDI", dt.date(2026, 6, 5),
         MilestoneStatus.IN_PROGRESS),
        ("Mid-market distributor programme",
         "Partner agreements signed in Germany, Poland and Czechia", dt.date(2026, 6, 10),
         MilestoneStatus.IN_PROGRESS),
    ]  # fmt: skip
    done = Milestone.objects.filter(status=MilestoneStatus.DONE)
    assert dict(
        Milestone.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    ) == {"done": 24, "in_progress": 12, "planned": 20}
    assert done.filter(completed_date__gt=TODAY).count() == 0
    assert Milestone.objects.filter(due_date__lt=F("initiative__start_date")).count() == 0


def test_every_role_has_a_demo_login_with_the_shared_password(client):
    # given
    seed()

    # when
    logged_in = {
        username: client.login(username=username, password=settings.GOVERN_DEMO_PASSWORD)
        for username in DEMO_USERNAMES
    }

    # then
    assert logged_in == dict.fromkeys(DEMO_USERNAMES, True)
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert sorted(Membership.objects.filter(person__username="auditor").values_list(
        "department__code", "role"
    )) == [("FIN", Role.VIEWER), ("PMO", Role.VIEWER)]  # fmt: skip
    assert list(
        Membership.objects.filter(person__username="pmo").values_list("department__code", "role")
    ) == [("PMO", Role.PMO)]
    assert list(
        Person.objects.filter(is_staff=True).order_by("username").values_list(
            "username", "is_superuser"
        )
    ) == [("admin", True), ("pmo", False)]  # fmt: skip
    assert Person.objects.get(username="pmo").has_perm("govern.change_initiative") is True


def test_the_plan_has_one_approved_baseline():
    # when: seeded without the recompute (the re-forecast is made from the computed baseline:
    # tests/decisions/test_demo_plans.py)
    seed()

    # then
    assert sorted(PlanVersion.objects.values_list("name", "status", "approved_by__username")) == [
        ("FY26 baseline", PlanVersionStatus.APPROVED, "ceo"),
    ]
    baseline = PlanVersion.objects.get(name="FY26 baseline")
    assert list(
        AuditEvent.objects.for_object(baseline).values_list("action", "actor__username")
    ) == [(AuditAction.APPROVE, "ceo"), (AuditAction.CREATE, "pmo")]


def test_the_demo_is_written_through_the_audit_trail():
    # when
    seed()

    # then: the organisation and its KPIs (the contracts' story is audited by the contract
    # services themselves: tests/dependencies/test_demo_contracts.py)
    events = AuditEvent.objects.exclude(subject_type__startswith="dependencies.")
    assert events.count() == 154
    assert set(events.values_list("reason", flat=True)) == {"Demo organisation"}
    assert sorted(
        (subject_type, events.filter(subject_type=subject_type).count())
        for subject_type in set(events.values_list("subject_type", flat=True))
    ) == [
        ("govern.department", 7), ("govern.initiative", 16), ("govern.membership", 14),
        ("govern.milestone", 56), ("govern.objective", 12), ("govern.person", 14),
        ("govern.planversion", 2), ("kpis.kpi", 33),
    ]  # fmt: skip
    assert set(
        events.filter(subject_type="govern.department").values_list("actor__username", flat=True)
    ) == {"pmo"}
    consolidation = Initiative.objects.get(name="Casting-alloy supplier consolidation")
    (created,) = AuditEvent.objects.for_object(consolidation)
    assert (created.action, created.actor.username, created.actor_name) == (
        AuditAction.CREATE, "proc.lead", "Ingrid Halvorsen",
    )  # fmt: skip
    assert created.changes["objectives"] == {
        "old": None,
        "new": [
            "Consolidate casting-alloy suppliers from 14 to 6 partners",
            "Move the top 20 suppliers to 60-day payment terms",
        ],
    }
    assert created.changes["budget"] == {"old": None, "new": "180000.00"}
    assert created.changes["start_date"] == {"old": None, "new": "2026-01-06"}


def test_every_seeded_row_passes_the_models_own_validation():
    # given: bulk_create skips full_clean(), so check the rules it would have applied
    seed("--departments", "3", "--initiatives", "40", "--milestones-per-initiative", "5")

    # when
    invalid = {}
    for model in (Department, Person, Membership, Objective, Initiative, Milestone, PlanVersion):
        for obj in model.objects.all():
            try:
                obj.full_clean()
            except ValidationError as exc:
                invalid[f"{model.__name__} {obj}"] = exc.message_dict

    # then
    assert invalid == {}
    assert Milestone.objects.filter(initiative__name__contains="(PRJ-").count() == 24 * 5


def test_objective_progress_is_computed_after_seeding():
    # when
    seed()

    # then
    assert Objective.objects.filter(progress=None).count() == 0
    progress = dict(Objective.objects.values_list("title", "progress"))
    # DSO: 2 of 3 milestones done on the working-capital reviews, 1 of 3 on collections.
    assert str(progress["Collect customer invoices in 45 days (DSO)"]) == "50.0"
    # Working capital: 12 of the 24 milestones below it are done.
    assert str(progress["Cut working capital by 15%"]) == "50.0"


def test_a_second_run_changes_nothing():
    # given
    seed("--departments", "2", "--initiatives", "24")
    before, dump_before = counts(), canonical_dump()

    # when
    output = seed("--departments", "2", "--initiatives", "24")

    # then
    assert counts() == before
    assert canonical_dump() == dump_before
    assert "Demo organisation already present; nothing changed." in output
    assert "Password for every demo login: govern-demo-2026" in output


def test_seeding_again_on_a_later_day_changes_nothing():
    # given: `make run` seeds with the current date each time it starts
    seed("--departments", "2", "--initiatives", "24")
    before, dump_before = counts(), canonical_dump()

    # when
    out = StringIO()
    call_command(
        "seed_demo", "--today", "2026-07-20", "--departments", "2", "--initiatives", "24",
        "--no-recompute", stdout=out,
    )  # fmt: skip

    # then
    assert counts() == before
    assert canonical_dump() == dump_before
    assert "Demo organisation already present; nothing changed." in out.getvalue()


def test_a_run_only_adds_what_is_missing():
    # given
    seed()
    Milestone.objects.filter(name="Carrier scorecards live").delete()
    events_before = AuditEvent.objects.count()

    # when
    output = seed()

    # then
    assert Milestone.objects.filter(name="Carrier scorecards live").count() == 1
    assert list(
        AuditEvent.objects.order_by("-id").values_list(
            "subject_type", "subject_name", "actor__username"
        )[:1]
    ) == [("govern.milestone", "Carrier scorecards live", "log.lead")]
    assert AuditEvent.objects.count() == events_before + 1
    assert "milestones: 1 created" in output


def test_the_same_seed_builds_the_same_organisation():
    # given
    with transaction.atomic():
        seed("--departments", "4", "--initiatives", "40", "--seed", "7")
        first = canonical_dump()
        transaction.set_rollback(True)
    assert counts() == dict.fromkeys(counts(), 0)

    # when
    seed("--departments", "4", "--initiatives", "40", "--seed", "7")

    # then
    assert canonical_dump() == first


def test_another_seed_changes_only_the_generated_extras():
    # given
    with transaction.atomic():
        seed("--departments", "4", "--initiatives", "40", "--seed", "7")
        first = canonical_dump()
        transaction.set_rollback(True)

    # when
    seed("--departments", "4", "--initiatives", "40", "--seed", "8")

    # then
    second = canonical_dump()
    assert second["departments"] == first["departments"]
    assert second["initiatives"] != first["initiatives"]
    demo = [row for row in first["initiatives"] if "(PRJ-" not in row[1]]
    assert [row for row in second["initiatives"] if "(PRJ-" not in row[1]] == demo


def test_size_parameters_produce_the_requested_counts():
    # when
    seed(
        "--departments", "3", "--initiatives", "20", "--milestones-per-initiative", "2",
        "--people-per-department", "2",
    )  # fmt: skip

    # then (69 of the audit events are the 16 demo contracts' story, through the services)
    assert counts() == {
        "Department": 10, "Person": 20, "Membership": 20, "Objective": 15, "Initiative": 20,
        "Milestone": 64, "PlanVersion": 1, "AuditEvent": 184 + 69,
    }  # fmt: skip
    generated = Department.objects.exclude(
        code__in=["SALES", "PROC", "PROD", "LOG", "FIN", "CS", "PMO"]
    )
    assert sorted(generated.values_list("code", "name")) == [
        ("LOG-H01", "Hub 1 Logistics"), ("PROD-P01", "Plant 1 Production"),
        ("SALES-R01", "Region 1 Sales"),
    ]  # fmt: skip
    assert sorted(
        Membership.objects.filter(department__code="PROD-P01").values_list(
            "person__username", "role"
        )
    ) == [("prod-p01.c01", Role.CONTRIBUTOR), ("prod-p01.lead", Role.DEPARTMENT_LEAD)]
    assert list(
        Objective.objects.filter(department__code="PROD-P01").values_list("title", "parent__title")
    ) == [("Plant 1 Production: hold schedule adherence at 92%", "On-time-in-full delivery ≥ 95%")]
    extra = Initiative.objects.filter(name__contains="(PRJ-")
    assert extra.count() == 4
    assert {i.milestones.count() for i in extra} == {2}
    assert extra.filter(objectives=None).count() == 0


def test_a_profile_can_be_overridden_option_by_option():
    # when
    seed("--profile", "M", "--departments", "2", "--initiatives", "30")

    # then: M's five people per generated department and four milestones per initiative remain
    assert (Department.objects.count(), Person.objects.count()) == (9, 24)
    assert (Initiative.objects.count(), Milestone.objects.count()) == (30, 56 + 14 * 4)


def test_a_large_build_needs_a_bounded_number_of_queries():
    # given: what the demo's own organisation costs (its 16 contracts go through the services)
    with transaction.atomic(), CaptureQueriesContext(connection) as demo:
        seed()
        transaction.set_rollback(True)

    with CaptureQueriesContext(connection) as queries:
        # when
        seed("--departments", "20", "--initiatives", "400", "--people-per-department", "5")

    # then: ~5,700 more rows and audit events, written in batches (per row would be thousands)
    assert Milestone.objects.count() == 56 + 384 * 4
    assert len(queries) - len(demo) < 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departments", "-1"],
         "The demo organisation cannot be built with these parameters. --departments must be at "
         "least 0; got -1."),
        (["--initiatives", "10"],
         "The demo organisation cannot be built with these parameters. --initiatives must be at "
         "least 16 (the demo's own 16 are always built); got 10."),
        (["--milestones-per-initiative", "0", "--people-per-department", "0"],
         "The demo organisation cannot be built with these parameters. "
         "--milestones-per-initiative must be at least 1; got 0. --people-per-department must be "
         "at least 1 (every generated department needs a lead); got 0."),
        (["--today", "2026-13-45"], "--today must be a date as YYYY-MM-DD; got '2026-13-45'."),
        (["--departments", "many"], "Error: argument --departments: invalid int value: 'many'"),
        (["--kpis", "-5"],
         "The demo organisation cannot be built with these parameters. --kpis must be at least "
         "0; got -5."),
    ],
)  # fmt: skip
def test_a_bad_option_is_refused_with_a_clear_message(args, message):
    # when / then
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", *args, stdout=StringIO())
    assert str(refused.value) == message
    assert counts() == dict.fromkeys(counts(), 0)


def test_a_clash_with_existing_rows_is_refused_and_writes_nothing():
    # given: somebody else's department already holds the name "Sales"
    DepartmentFactory(code="SALES-UK", name="Sales")

    # when / then
    with pytest.raises(CommandError) as refused:
        seed()
    assert str(refused.value).startswith(
        "The demo organisation clashes with data already in this database, so nothing was written: "
    )
    assert str(refused.value).endswith(
        ". Seed an empty database, or rename or remove the clashing rows."
    )
    assert counts() == {**dict.fromkeys(counts(), 0), "Department": 1}


def test_a_today_in_the_future_is_refused():
    # given
    now = timezone.localdate()

    # when / then
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", "--today", "2999-01-01", stdout=StringIO())
    assert str(refused.value) == (
        "The demo organisation cannot be built with these parameters. --today cannot be after "
        f"the current date ({now:%Y-%m-%d}): completed milestones would lie in the future."
    )
    assert counts() == dict.fromkeys(counts(), 0)


def test_the_command_prints_the_demo_logins():
    # when
    output = seed()

    # then
    table = output[output.index("username") :].splitlines()
    assert table[0].split() == ["username", "name", "role", "departments"]
    assert [line.split()[0] for line in table[2:16]] == DEMO_USERNAMES
    assert table[-1] == f"Password for every demo login: {settings.GOVERN_DEMO_PASSWORD}"
    assert "auditor        Peter Lindqvist         Viewer" in output


@pytest.mark.django_db(transaction=True)  # notices are emailed when the seed commits
def test_seeding_emails_nobody_but_keeps_the_in_app_notifications(mailoutbox):
    # given an empty database and the test email backend
    # when
    call_command("seed_demo", stdout=StringIO())

    # then: the fictional demo people are not emailed; their notices are in the app
    assert mailoutbox == []
    assert Notification.objects.exists()
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
