"""A generated agenda holds exactly the top-ranked open exceptions in the session's scope, then
the decisions due for their effectiveness review, then the contracts at risk or breached; it is
generated again while the session is planned, and never once it has started."""

import datetime as dt

import pytest
from django.utils import timezone

from decisions.choices import SessionStatus
from decisions.models import AgendaItem
from decisions.services import sessions as services
from govern.errors import ConflictError
from kpis.choices import ExceptionKind, ExceptionStatus
from tests.decisions.log_support import logged
from tests.decisions.sessions.support import agenda, operations, plan, started, state
from tests.factories import ContractFactory, KpiExceptionFactory, KpiFactory


@pytest.fixture
def ops(world):
    return operations()


def test_the_agenda_holds_exactly_the_two_worst_of_ten_at_a_fifth(world, ops):
    # given: a resolved exception worse than all, and one outside the scope worse than all
    resolved = KpiExceptionFactory(
        kpi=KpiFactory(code="OPS-OLD", department=ops.department, owner=ops.lead),
        severity=50.0,
        status=ExceptionStatus.RESOLVED,
    )
    outside = KpiExceptionFactory(kpi=world.other_kpi, severity=40.0)

    # when
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.2)

    # then
    assert agenda(session) == [
        (1, "exception", "OPS-F is red: Measure F"),
        (2, "exception", "OPS-B is red: Measure B"),
    ]
    items = list(AgendaItem.objects.filter(session=session).order_by("position"))
    assert [(i.exception_id, i.severity, i.department_id, i.action_owner_id) for i in items] == [
        (ops.exceptions["OPS-F"].pk, 10.0, ops.department.pk, ops.lead.pk),
        (ops.exceptions["OPS-B"].pk, 9.0, ops.department.pk, ops.lead.pk),
    ]
    on_agenda = set(AgendaItem.objects.values_list("exception_id", flat=True))
    assert resolved.pk not in on_agenda
    assert outside.pk not in on_agenda


def test_a_quarter_of_ten_is_three(world, ops):
    # when
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.25)

    # then
    assert [title for _, _, title in agenda(session)] == [
        "OPS-F is red: Measure F",
        "OPS-B is red: Measure B",
        "OPS-H is red: Measure H",
    ]


def test_the_default_share_comes_from_the_setting(world, ops, settings):
    # given
    settings.GOVERN_AGENDA_SHARE = 0.3

    # when
    session = plan(world.pmo, departments=[ops.department.pk])

    # then
    assert session.agenda_share == 0.3
    assert len(agenda(session)) == 3


def test_one_open_exception_makes_the_agenda_however_small_the_share(world):
    # when: Sales has one open exception (severity 10)
    session = plan(world.pmo, departments=[world.sales.pk], agenda_share=0.01)

    # then
    assert agenda(session) == [(1, "exception", "SALES-INTAKE is red: Order intake")]


def test_no_scope_means_the_whole_organisation(world, ops):
    # given: Procurement's exception is worse than everything in Operations and Sales
    KpiExceptionFactory(kpi=world.other_kpi, severity=40.0)

    # when: 12 open exceptions, a quarter → 3
    session = plan(world.pmo, agenda_share=0.25)

    # then: Sales' exception (10) ties with OPS-F (10), opened at the same moment: the lower id
    # (Sales', created first) goes first
    assert [title for _, _, title in agenda(session)] == [
        "PROC-OTD is red: Supplier on-time delivery",
        "SALES-INTAKE is red: Order intake",
        "OPS-F is red: Measure F",
    ]


def test_governance_and_alignment_exceptions_never_make_the_agenda(world, ops):
    # given: a target-gaming signal and an alignment concern in Operations, both worse than
    # every performance exception there
    gaming = KpiExceptionFactory(
        kpi=ops.exceptions["OPS-A"].kpi,
        kind=ExceptionKind.GOVERNANCE,
        title="Target-gaming signal on OPS-A: Measure A",
        severity=50.0,
    )
    concern = KpiExceptionFactory(
        kpi=None,
        kind=ExceptionKind.ALIGNMENT,
        subject_key=f"person:{ops.lead.pk}",
        person=ops.lead,
        department=ops.department,
        owner=world.pmo,
        title="Alignment concern: Olga Ops",
        severity=40.0,
    )

    # when: ten open performance exceptions count, a fifth of them → 2
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.2)

    # then
    assert agenda(session) == [
        (1, "exception", "OPS-F is red: Measure F"),
        (2, "exception", "OPS-B is red: Measure B"),
    ]
    on_agenda = set(AgendaItem.objects.values_list("exception_id", flat=True))
    assert on_agenda.isdisjoint({gaming.pk, concern.pk})


def test_decisions_due_and_contracts_at_risk_come_after_the_exceptions(world, ops):
    # given: a decision in Operations whose effect is due tomorrow (the session's day), one due
    # later, and contracts at risk, breached and merely agreed
    due = logged(
        world,
        world.pmo,
        department=ops.department.pk,
        kpis=[ops.exceptions["OPS-A"].kpi_id],
        exception=None,
        expected_kpi=ops.exceptions["OPS-A"].kpi_id,
        review_date=(timezone.localdate() + dt.timedelta(days=1)).isoformat(),
        title="Add a night shift",
    )
    logged(
        world,
        world.pmo,
        department=ops.department.pk,
        kpis=[ops.exceptions["OPS-A"].kpi_id],
        exception=None,
        expected_kpi=ops.exceptions["OPS-A"].kpi_id,
        review_date=(timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        title="Not due yet",
    )
    at_risk = ContractFactory(
        code="OPS-SALES-PARTS",
        title="Parts for demo units",
        provider_department=ops.department,
        provider_owner=ops.lead,
        consumer_department=world.sales,
        status="at_risk",
        criticality=5,
    )
    breached = ContractFactory(
        code="PROC-OPS-STEEL",
        title="Steel coils",
        provider_department=world.procurement,
        provider_owner=world.other_lead,
        consumer_department=ops.department,
        status="breached",
        criticality=2,
    )
    ContractFactory(
        code="OPS-SALES-OK",
        provider_department=ops.department,
        consumer_department=world.sales,
        status="agreed",
    )

    # when
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.2)

    # then: breached before at risk
    review_day = timezone.localdate() + dt.timedelta(days=1)
    assert agenda(session) == [
        (1, "exception", "OPS-F is red: Measure F"),
        (2, "exception", "OPS-B is red: Measure B"),
        (3, "decision_review", f"D-{due.pk}: Add a night shift (effect due {review_day:%d %b %Y})"),
        (4, "contract_at_risk", "PROC-OPS-STEEL breached: Steel coils"),
        (5, "contract_at_risk", "OPS-SALES-PARTS at risk: Parts for demo units"),
    ]
    items = AgendaItem.objects.filter(session=session, position__gte=3).order_by("position")
    assert [(i.decision_id, i.contract_id, i.department_id) for i in items] == [
        (due.pk, None, ops.department.pk),
        (None, breached.pk, world.procurement.pk),
        (None, at_risk.pk, ops.department.pk),
    ]


def test_a_contract_whose_exception_made_the_agenda_is_not_listed_again(world, ops):
    # given: a breached contract whose breach is the worst open exception in Operations
    breached = ContractFactory(
        code="PROC-OPS-STEEL",
        title="Steel coils",
        provider_department=world.procurement,
        provider_owner=world.other_lead,
        consumer_department=ops.department,
        status="breached",
        criticality=2,
    )
    KpiExceptionFactory(
        kpi=None,
        contract=breached,
        kind=ExceptionKind.CONTRACT_BREACHED,
        subject_key=f"contract:{breached.pk}",
        department=ops.department,
        owner=ops.lead,
        title="PROC-OPS-STEEL is breached: Steel coils",
        severity=500.0,
    )

    # when: the top fifth of eleven open exceptions is three
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.2)

    # then: the contract is discussed once, through its exception
    assert agenda(session) == [
        (1, "exception", "PROC-OPS-STEEL is breached: Steel coils"),
        (2, "exception", "OPS-F is red: Measure F"),
        (3, "exception", "OPS-B is red: Measure B"),
    ]


def test_the_agenda_is_generated_again_while_planned(world, ops):
    # given
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.2)
    worse = KpiExceptionFactory(
        kpi=KpiFactory(code="OPS-NEW", name="New trouble", department=ops.department),
        severity=99.0,
    )

    # when
    services.session_generate_agenda(actor=world.pmo, session=session)

    # then: 11 open, a fifth → 3 (ceil 2.2)
    assert agenda(session) == [
        (1, "exception", "OPS-NEW is red: New trouble"),
        (2, "exception", "OPS-F is red: Measure F"),
        (3, "exception", "OPS-B is red: Measure B"),
    ]
    assert AgendaItem.objects.filter(exception=worse).count() == 1


def test_a_new_share_on_a_planned_session_generates_the_agenda_again(world, ops):
    # given
    session = plan(world.pmo, departments=[ops.department.pk], agenda_share=0.2)

    # when
    services.session_update(actor=world.pmo, session=session, data={"agenda_share": 0.3})

    # then
    assert len(agenda(session)) == 3


def test_a_started_session_keeps_its_agenda(world, ops):
    # given
    session = started(world.pmo, departments=[ops.department.pk], agenda_share=0.2)
    before = state()

    # when
    with pytest.raises(ConflictError, match="has started") as refused:
        services.session_generate_agenda(actor=world.pmo, session=session)

    # then
    assert refused.value.status_code == 409
    assert state() == before
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
