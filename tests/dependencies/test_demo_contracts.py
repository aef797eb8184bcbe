"""`seed_demo`'s dependency contracts: the hand-written supply-chain story (through the contract
services, health from the monitor, the castings ripple) and the generated contracts of the large
profiles (set-based), both idempotent and deterministic."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from dependencies import terms
from dependencies.choices import AmendmentStatus, ContractStatus
from dependencies.demo import contract_blueprint, contract_demo_health
from dependencies.engine.ripple import ripple
from dependencies.graph import graph
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.selectors import version_compare
from dependencies.services.contracts import current_m2m
from govern.choices import AuditAction
from govern.demo import DEFAULT_SEED, PROFILES, demo_blueprint, demo_size
from govern.models import AuditEvent, Department, Initiative, Objective
from kpis.choices import ExceptionKind
from kpis.demo import kpi_blueprint
from kpis.models import Kpi, KpiException

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
NAMED = {"SALES", "PROC", "PROD", "LOG", "FIN", "CS", "PMO"}
OTIF = "On-time-in-full delivery ≥ 95%"


def seed(*args: str, recompute: bool = False) -> str:
    out = StringIO()
    flags = [] if recompute else ["--no-recompute"]
    call_command("seed_demo", "--today", TODAY.isoformat(), *flags, *args, stdout=out)
    return out.getvalue()


def contract_dump() -> dict[str, list[tuple]]:
    """Everything the seed decides about contracts, by natural key: no ids, no clocks."""
    m2m = [
        ("provider_milestones", "name"), ("provider_initiatives", "name"),
        ("consumer_initiatives", "name"), ("consumer_milestones", "name"),
        ("consumer_kpis", "code"),
    ]  # fmt: skip
    return {
        "contracts": sorted(
            Contract.objects.values_list(
                "code", "title", "provider_department__code", "provider_owner__username",
                "consumer_department__code", "consumer_owner__username", "deliverable",
                "acceptance_criteria", "due_date", "service_kpi__code", "service_comparison",
                "service_threshold", "service_level", "criticality", "plan_version__name",
                "status", "version_number", "provider_agreed_by__username",
                "consumer_agreed_by__username",
            ),
            key=str,
        ),
        "links": sorted(
            (name, code, value)
            for name, label in m2m
            for code, value in Contract.objects.filter(**{f"{name}__isnull": False}).values_list(
                "code", f"{name}__{label}"
            )
        ),
        "versions": sorted(
            (
                v.contract.code, v.number, v.author.username,
                tuple(terms.text(name, v.terms[name]) for name in terms.TERM_FIELDS),
            )
            for v in ContractVersion.objects.select_related("contract", "author")
        ),
        "amendments": sorted(
            Amendment.objects.values_list(
                "contract__code", "number", "base_version", "status", "reason",
                "proposed_by__username", "provider_response", "provider_comment",
                "consumer_response", "consumer_comment",
            )
        ),
    }  # fmt: skip


def statuses() -> dict[str, str]:
    return dict(Contract.objects.values_list("code", "status"))


# --- The hand-written story -------------------------------------------------------------------


def test_the_story_has_sixteen_contracts_whose_health_comes_from_the_monitor():
    # when
    output = seed(recompute=True)

    # then
    assert dict(Contract.objects.values_list("status").annotate(n=Count("pk")).order_by()) == {
        ContractStatus.AGREED: 10, ContractStatus.AT_RISK: 1, ContractStatus.BREACHED: 1,
        ContractStatus.PROPOSED: 1, ContractStatus.DRAFT: 1, ContractStatus.FULFILLED: 1,
        ContractStatus.CANCELLED: 1,
    }  # fmt: skip
    assert statuses()["PROC-PROD-CASTINGS"] == ContractStatus.BREACHED
    assert statuses()["PROD-LOG-HANDOVER"] == ContractStatus.AT_RISK
    assert {
        code: (provider, consumer)
        for code, provider, consumer in Contract.objects.values_list(
            "code", "provider_department__code", "consumer_department__code"
        )
        if code in ("PROC-PROD-CASTINGS", "SALES-PROD-FORECAST", "PROD-LOG-HANDOVER",
                    "FIN-PROC-BUDGET", "LOG-CS-DELIVERY")
    } == {
        "PROC-PROD-CASTINGS": ("PROC", "PROD"), "SALES-PROD-FORECAST": ("SALES", "PROD"),
        "PROD-LOG-HANDOVER": ("PROD", "LOG"), "FIN-PROC-BUDGET": ("FIN", "PROC"),
        "LOG-CS-DELIVERY": ("LOG", "CS"),
    }  # fmt: skip
    castings = Contract.objects.get(code="PROC-PROD-CASTINGS")
    assert castings.health_reason.startswith(
        "Service level: PROC-OTD is red for 9 periods in a row (needs ≥ 90; latest 76.1)"
    )
    assert castings.red_streak == 9
    open_contract_exceptions = set(
        KpiException.objects.open()
        .exclude(contract=None)
        .values_list("contract__code", "kind", "department__code", "owner__username")
    )
    assert open_contract_exceptions == {
        ("PROC-PROD-CASTINGS", ExceptionKind.CONTRACT_BREACHED, "PROC", "proc.lead"),
        ("PROD-LOG-HANDOVER", ExceptionKind.CONTRACT_AT_RISK, "PROD", "prod.lead"),
    }
    assert "  contracts: 16 created" in output
    assert "  contract versions: 14 created" in output
    assert "  amendments: 3 created" in output
    assert (
        "  Contract health: 12 contracts in force checked, 1 at risk, 1 breached; ripple: "
        "16 unresolved exceptions, 15 reaching another department (trade-off decision required)"
    ) in output


def test_the_story_is_written_through_the_contract_services_and_audited():
    # when
    seed()

    # then: each step by the person who would take it, audited as it happened
    events = AuditEvent.objects.filter(subject_type__startswith="dependencies.")
    assert {
        (subject_type, action): n
        for subject_type, action, n in events.values_list("subject_type", "action")
        .annotate(n=Count("pk"))
        .order_by()
    } == {
        ("dependencies.contract", AuditAction.CREATE): 16,
        ("dependencies.contract", AuditAction.PROPOSE): 15,
        ("dependencies.contract", AuditAction.AGREE): 27,
        ("dependencies.contract", AuditAction.ACCEPT): 1,
        ("dependencies.contract", AuditAction.FULFIL): 1,
        ("dependencies.contract", AuditAction.CANCEL): 1,
        ("dependencies.amendment", AuditAction.PROPOSE): 3,
        ("dependencies.amendment", AuditAction.ACCEPT): 4,
        ("dependencies.amendment", AuditAction.REJECT): 1,
    }
    castings = Contract.objects.get(code="PROC-PROD-CASTINGS")
    assert list(
        AuditEvent.objects.for_object(castings).order_by("pk").values_list(
            "action", "actor__username"
        )
    ) == [
        (AuditAction.CREATE, "pmo"), (AuditAction.PROPOSE, "pmo"),
        (AuditAction.AGREE, "proc.lead"), (AuditAction.AGREE, "prod.lead"),
    ]  # fmt: skip
    assert (castings.provider_agreed_by.username, castings.consumer_agreed_by.username) == (
        "proc.lead", "prod.lead",
    )  # fmt: skip
    pricing = Contract.objects.get(code="FIN-SALES-PRICING")
    assert (pricing.status, pricing.provider_agreed_by.username, pricing.consumer_agreed_by) == (
        ContractStatus.PROPOSED, "fin.lead", None,
    )  # fmt: skip
    assert Contract.objects.get(code="SALES-LOG-STOCK").cancelled_at is not None
    assert Contract.objects.get(code="LOG-PROD-STOCK").fulfilled_at is not None


def test_every_story_contract_passes_the_services_validation():
    # when
    seed()

    # then
    problems = {}
    for contract in Contract.objects.all():
        try:
            terms.validate(contract, current_m2m(contract))
        except ValidationError as exc:
            problems[contract.code] = exc.message_dict
    assert problems == {}
    assert set(
        Contract.objects.filter(provider_milestones=None, provider_initiatives=None).values_list(
            "code", flat=True
        )
    ) == {"FIN-PROD-CAPEX", "FIN-SALES-PRICING"}
    assert Contract.objects.filter(consumer_initiatives=None).count() == 0


def test_one_contract_has_an_accepted_amendment_and_two_versions():
    # when
    seed()

    # then
    forecast = Contract.objects.get(code="SALES-PROD-FORECAST")
    assert forecast.version_number == 2
    assert list(forecast.versions.values_list("number", "author__username")) == [
        (1, "prod.lead"), (2, "prod.lead"),
    ]  # fmt: skip
    changed = [row for row in version_compare(contract=forecast, a=1, b=2) if row["changed"]]
    assert [(row["field"], row["a_text"], row["b_text"]) for row in changed] == [
        ("acceptance_criteria",
         "Forecast loaded by the 3rd working day of the month, signed off in the demand review, "
         "forecast accuracy at least 75%.",
         "Forecast loaded by the 5th working day of the month, signed off in the demand review, "
         "forecast accuracy at least 75%."),
        ("service_level", "Monthly, by the 3rd working day, accuracy ≥ 75%",
         "Monthly, by the 5th working day, accuracy ≥ 75%"),
    ]  # fmt: skip
    (amendment,) = forecast.amendments.all()
    assert (amendment.status, amendment.base_version, amendment.applied_version.number) == (
        AmendmentStatus.ACCEPTED, 1, 2,
    )  # fmt: skip
    assert (amendment.provider_responder.username, amendment.consumer_responder.username) == (
        "sales.lead", "prod.lead",
    )  # fmt: skip
    assert ContractVersion.objects.count() == 14
    assert ContractVersion.objects.filter(number=2).count() == 1


def test_the_castings_contract_has_a_pending_amendment_and_a_rejected_one_changed_nothing():
    # when
    seed()

    # then
    (pending,) = Amendment.objects.filter(status=AmendmentStatus.PENDING)
    assert pending.contract.code == "PROC-PROD-CASTINGS"
    assert (pending.proposed_by.username, pending.base_version) == ("proc.lead", 1)
    assert (pending.provider_response, pending.consumer_response) == ("accepted", "")
    assert pending.changes["service_threshold"] == 85.0
    assert sorted(pending.changes) == ["service_level", "service_threshold"]
    assert Contract.objects.get(code="PROC-PROD-CASTINGS").service_threshold == 90.0
    delivery = Contract.objects.get(code="LOG-CS-DELIVERY")
    (rejected,) = delivery.amendments.all()
    assert (rejected.status, rejected.consumer_responder.username) == (
        AmendmentStatus.REJECTED, "cs.lead",
    )  # fmt: skip
    assert (delivery.version_number, delivery.service_threshold) == (1, 90.0)


def test_the_ripple_from_the_castings_contract_reaches_production_logistics_and_otif():
    # given
    seed()
    castings = Contract.objects.get(code="PROC-PROD-CASTINGS")
    handover = Contract.objects.get(code="PROD-LOG-HANDOVER")
    throughput = Kpi.objects.get(code="PROD-THRU")
    expedite = Kpi.objects.get(code="LOG-EXPEDITE")
    otif = Objective.objects.get(title=OTIF)
    scheduling = Initiative.objects.get(name="Finite-capacity scheduling in the foundries")

    # when
    (found,) = ripple(graph().index, f"contract:{castings.pk}")

    # then
    reached = {r.key: r for r in found.reached}
    paths = {
        name: (reached[key].depth, reached[key].path)
        for name, key in (
            ("throughput", f"kpi:{throughput.pk}"),
            ("expedite", f"kpi:{expedite.pk}"),
            ("otif", f"objective:{otif.pk}"),
        )
    }
    start = f"contract:{castings.pk}"
    assert paths == {
        "throughput": (1, (start, f"kpi:{throughput.pk}")),
        "expedite": (
            3,
            (start, f"initiative:{scheduling.pk}", f"contract:{handover.pk}", f"kpi:{expedite.pk}"),
        ),
        "otif": (2, (start, f"kpi:{throughput.pk}", f"objective:{otif.pk}")),
    }
    departments = dict(Department.objects.values_list("pk", "code"))
    assert {departments[d] for d in found.other_departments} >= {"PROD", "LOG", "CS"}
    assert departments[found.department] == "PROC"


def test_a_second_run_changes_no_contract():
    # given
    seed()
    before = contract_dump()
    events = AuditEvent.objects.count()

    # when
    output = seed()

    # then
    assert contract_dump() == before
    assert AuditEvent.objects.count() == events
    assert "  contracts: 0 created" in output
    assert "Demo organisation already present; nothing changed." in output


def test_the_health_and_ripple_syncs_after_seeding_are_idempotent():
    # given
    seed(recompute=True)
    before = contract_dump()
    exceptions = sorted(
        KpiException.objects.values_list("subject_key", "kind", "status", "severity", "reach")
    )

    # when
    report = contract_demo_health(today=TODAY)

    # then
    assert report["health"]["changed"] == 0
    assert report["health"]["exceptions_opened"] == report["health"]["exceptions_resolved"] == 0
    assert report["ripple"]["updated"] == 0
    assert contract_dump() == before
    assert (
        sorted(
            KpiException.objects.values_list("subject_key", "kind", "status", "severity", "reach")
        )
        == exceptions
    )


def test_a_run_only_adds_the_missing_contracts():
    # given
    seed()
    Contract.objects.filter(code="FIN-PROD-CAPEX").delete()

    # when
    output = seed()

    # then
    capex = Contract.objects.get(code="FIN-PROD-CAPEX")
    assert (capex.status, capex.created_by.username) == (ContractStatus.DRAFT, "pmo")
    assert Contract.objects.count() == 16
    assert "  contracts: 1 created" in output


# --- The generated contracts ------------------------------------------------------------------

SMALL = ("--departments", "6", "--initiatives", "60", "--kpis", "120", "--contracts", "300")


def test_generated_contracts_link_the_generated_departments_plans():
    # when
    output = seed(*SMALL)

    # then
    generated = Contract.objects.filter(code__startswith="CTR-")
    assert generated.count() == 300
    assert Contract.objects.count() == 316
    assert "  contracts: 316 created" in output
    assert not generated.filter(provider_department__code__in=NAMED).exists()
    assert not generated.filter(consumer_department__code__in=NAMED).exists()
    assert dict(generated.values_list("status").annotate(n=Count("pk")).order_by()) == {
        ContractStatus.AGREED: 257, ContractStatus.PROPOSED: 12, ContractStatus.DRAFT: 13,
        ContractStatus.CANCELLED: 5, ContractStatus.FULFILLED: 13,
    }  # fmt: skip
    problems = {}
    for contract in generated.select_related(
        "provider_department", "consumer_department", "provider_owner", "consumer_owner",
        "service_kpi", "plan_version",
    ):  # fmt: skip
        try:
            terms.validate(contract, current_m2m(contract))
        except ValidationError as exc:
            problems[contract.code] = exc.message_dict
    assert problems == {}
    assert generated.filter(provider_milestones=None, provider_initiatives=None).count() == 0


def test_generated_agreed_contracts_carry_version_1_of_their_terms():
    # when
    seed(*SMALL)

    # then
    agreed = Contract.objects.filter(
        code__startswith="CTR-", status__in=[ContractStatus.AGREED, ContractStatus.FULFILLED]
    )
    versions = {v.contract_id: v for v in ContractVersion.objects.filter(contract__in=agreed)}
    assert len(versions) == agreed.count() == 270
    for contract in agreed[:40]:
        version = versions[contract.pk]
        assert version.number == contract.version_number == 1
        assert version.terms == terms.snapshot(contract)
        assert version.author_id == contract.consumer_owner_id
    assert not ContractVersion.objects.filter(
        contract__code__startswith="CTR-",
        contract__status__in=[ContractStatus.DRAFT, ContractStatus.PROPOSED],
    ).exists()
    creations = AuditEvent.objects.filter(
        subject_type="dependencies.contract", action=AuditAction.CREATE, reason="Demo organisation"
    )
    assert creations.count() == 300


def test_generated_contracts_are_in_the_graph_and_some_are_in_trouble():
    # when
    seed(*SMALL, recompute=True)

    # then
    index = graph().index
    in_graph = [k for k in index.keys if k.startswith("contract:")]
    assert (
        len(in_graph)
        == Contract.objects.exclude(
            status__in=[ContractStatus.FULFILLED, ContractStatus.CANCELLED]
        ).count()
    )
    trouble = Contract.objects.filter(
        code__startswith="CTR-", status__in=[ContractStatus.AT_RISK, ContractStatus.BREACHED]
    ).count()
    in_force = Contract.objects.filter(
        code__startswith="CTR-",
        status__in=[ContractStatus.AGREED, ContractStatus.AT_RISK, ContractStatus.BREACHED],
    ).count()
    assert 0.05 < trouble / in_force < 0.35
    assert KpiException.objects.open().filter(contract__code__startswith="CTR-").count() == trouble


def test_at_profile_l_few_generated_contracts_wait_on_a_late_milestone():
    # given profile L's blueprints (pure: nothing is written)
    size = demo_size("L")
    org = demo_blueprint(size=size, today=TODAY, seed=DEFAULT_SEED)
    kpis = kpi_blueprint(org, kpis=size.kpis, seed=DEFAULT_SEED)

    # when
    specs = contract_blueprint(
        org, kpis, contracts=size.contracts, today=TODAY, seed=DEFAULT_SEED
    ).generated

    # then of the open contracts produced by a milestone, few are produced by one already late
    # (an initiative with only late work left gives way to one with work ahead): with the
    # service levels of the drifting KPIs, about 550 contracts in trouble, not 1,600
    due = {
        (i.department, i.name, m.name): m.due_date for i in org.initiatives for m in i.milestones
    }
    open_specs = [s for s in specs if s.stage not in ("fulfilled", "cancelled")]
    produced = [s for s in open_specs if s.provider_milestones]
    late = [s for s in produced if due[s.provider_milestones[0]] < TODAY]
    assert (len(specs), len(open_specs), len(produced), len(late)) == (10_000, 9_269, 6_331, 77)


def test_a_second_run_changes_no_generated_contract():
    # given
    seed(*SMALL)
    before = contract_dump()

    # when
    output = seed(*SMALL)

    # then
    assert contract_dump() == before
    assert "Demo organisation already present; nothing changed." in output


def test_the_same_seed_builds_the_same_contracts():
    # given
    with transaction.atomic():
        seed(*SMALL, "--seed", "7")
        first = contract_dump()
        transaction.set_rollback(True)
    assert not Contract.objects.exists()

    # when
    seed(*SMALL, "--seed", "7")

    # then
    assert contract_dump() == first


def test_generated_contracts_need_a_bounded_number_of_queries():
    # given: the same organisation with a few generated contracts
    with transaction.atomic(), CaptureQueriesContext(connection) as few:
        seed("--departments", "6", "--initiatives", "60", "--kpis", "120", "--contracts", "20")
        transaction.set_rollback(True)

    # when
    with CaptureQueriesContext(connection) as many:
        seed(*SMALL)

    # then: fifteen times the contracts, written in batches (SQLite splits a batch by its
    # parameter limit; one query per contract would be 280 more)
    assert Contract.objects.count() == 316
    assert len(many) - len(few) < 30


def test_profiles_m_and_l_carry_their_contract_counts():
    # then
    assert (PROFILES["demo"].contracts, PROFILES["M"].contracts, PROFILES["L"].contracts) == (
        0, 1_000, 10_000,
    )  # fmt: skip


def test_a_negative_contract_count_is_refused():
    # when / then
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", "--contracts", "-3", stdout=StringIO())
    assert str(refused.value) == (
        "The demo organisation cannot be built with these parameters. --contracts must be at "
        "least 0; got -3."
    )
    assert not Contract.objects.exists()


def test_a_second_run_with_the_recompute_changes_no_contract_or_exception():
    # given
    seed(recompute=True)
    before = contract_dump()
    exceptions = sorted(
        KpiException.objects.values_list("subject_key", "kind", "status", "severity", "reach")
    )
    events = AuditEvent.objects.count()

    # when
    output = seed(recompute=True)

    # then
    assert contract_dump() == before
    assert (
        sorted(
            KpiException.objects.values_list("subject_key", "kind", "status", "severity", "reach")
        )
        == exceptions
    )
    assert AuditEvent.objects.count() == events
    assert "Demo organisation already present; nothing changed." in output
