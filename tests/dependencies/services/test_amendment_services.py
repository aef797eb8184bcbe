"""Amendment services: proposing a change to agreed terms, each side's answer, applying it as the
next version, the PMO override and withdrawing; the contract changes only when it is applied."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dependencies.choices import AmendmentStatus, ContractStatus, Response
from dependencies.models import Amendment, ContractVersion
from dependencies.services import amendments as services
from dependencies.services.contracts import contract_fulfil
from govern.choices import AuditAction, NotificationKind
from govern.errors import ConflictError
from govern.models import AuditEvent, Membership, Notification
from tests.dependencies.contract_support import agreed, draft
from tests.factories import KpiFactory


def _errors(exc) -> dict:
    return {name: list(messages) for name, messages in exc.value.message_dict.items()}


@pytest.fixture
def contract(world):
    return agreed(world)


@pytest.fixture
def amendment(world, contract):
    """The consumer lead asks for a later date and a higher criticality."""
    return services.amendment_propose(
        actor=world.consumer_lead,
        contract=contract,
        changes={"due_date": "2026-09-30", "criticality": 5},
        reason="The pilot moved to Q3",
        revision=4,
    )


def test_an_amendment_is_proposed_against_the_current_version(world, contract):
    # given
    Notification.objects.all().delete()

    # when
    amendment = services.amendment_propose(
        actor=world.consumer_lead,
        contract=contract,
        changes={"due_date": "2026-09-30", "consumer_kpis": ["SALES-FILL", "SALES-NPS"]},
        reason="The pilot moved to Q3",
    )

    # then
    assert amendment.number == 1
    assert amendment.base_version == 1
    assert amendment.status == AmendmentStatus.PENDING
    assert amendment.proposed_by == world.consumer_lead
    assert amendment.changes == {
        "due_date": "2026-09-30",
        "consumer_kpis": [
            {"id": world.consumer_kpi.pk, "label": "SALES-FILL — Order fill rate"},
            {"id": world.other_consumer_kpi.pk, "label": "SALES-NPS — Customer NPS"},
        ],
    }
    event = AuditEvent.objects.get(subject_type="dependencies.amendment")
    assert event.action == AuditAction.PROPOSE
    assert event.reason == "The pilot moved to Q3"
    assert event.changes == {
        "due_date": {"old": "30 Jun 2026", "new": "30 Sep 2026"},
        "consumer_kpis": {
            "old": "SALES-FILL — Order fill rate",
            "new": "SALES-FILL — Order fill rate, SALES-NPS — Customer NPS",
        },
    }
    contract.refresh_from_db()
    assert (contract.revision, contract.version_number) == (4, 1)
    assert contract.due_date == dt.date(2026, 6, 30)
    assert sorted(Notification.objects.values_list("recipient__username", "kind")) == [
        ("carl", NotificationKind.AMENDMENT_PROPOSED),
        ("pia", NotificationKind.AMENDMENT_PROPOSED),
    ]


def test_both_sides_accepting_applies_it_as_version_2(world, contract, amendment):
    # given
    services.amendment_respond(
        actor=world.provider_owner, amendment=amendment, accept=True, comment="Fine by us"
    )
    contract.refresh_from_db()
    assert contract.version_number == 1

    # when
    amendment = services.amendment_respond(
        actor=world.consumer_owner, amendment=amendment, accept=True, revision=4
    )

    # then
    assert amendment.status == AmendmentStatus.ACCEPTED
    assert amendment.provider_response == amendment.consumer_response == Response.ACCEPTED
    contract.refresh_from_db()
    assert contract.due_date == dt.date(2026, 9, 30)
    assert contract.criticality == 5
    assert (contract.version_number, contract.revision) == (2, 5)
    assert contract.status == ContractStatus.AGREED
    version = ContractVersion.objects.get(contract=contract, number=2)
    assert version.amendment == amendment
    assert version.author == world.consumer_owner
    assert version.reason == (
        "The pilot moved to Q3 (amendment 1; accepted for the provider by Pia Provider: Fine by "
        "us; accepted for the consumer by Carl Consumer)"
    )
    first = ContractVersion.objects.get(contract=contract, number=1).terms
    assert {k: v for k, v in version.terms.items() if first[k] != v} == {
        "due_date": "2026-09-30",
        "criticality": 5,
    }
    applied = AuditEvent.objects.get(
        subject_type="dependencies.contract", action=AuditAction.ACCEPT
    )
    assert applied.changes == {
        "due_date": {"old": "2026-06-30", "new": "2026-09-30"},
        "criticality": {"old": 4, "new": 5},
        "version_number": {"old": 1, "new": 2},
    }
    assert applied.reason == "Amendment 1: The pilot moved to Q3"


def test_one_acceptance_leaves_it_pending(world, contract, amendment):
    # when
    amendment = services.amendment_respond(
        actor=world.provider_lead, amendment=amendment, accept=True, comment=""
    )

    # then
    assert amendment.status == AmendmentStatus.PENDING
    assert amendment.provider_responder == world.provider_lead
    assert amendment.consumer_response == ""
    contract.refresh_from_db()
    assert contract.version_number == 1
    event = AuditEvent.objects.filter(subject_type="dependencies.amendment").latest("pk")
    assert event.action == AuditAction.ACCEPT
    assert event.changes == {"provider_response": {"old": "", "new": "accepted"}}


def test_a_rejection_closes_it_and_the_contract_is_untouched(world, contract, amendment):
    # when
    amendment = services.amendment_respond(
        actor=world.provider_owner,
        amendment=amendment,
        accept=False,
        comment="The supplier cannot hold Q3",
    )

    # then
    assert amendment.status == AmendmentStatus.REJECTED
    assert amendment.provider_comment == "The supplier cannot hold Q3"
    contract.refresh_from_db()
    assert (contract.version_number, contract.revision) == (1, 4)
    assert contract.due_date == dt.date(2026, 6, 30)
    assert ContractVersion.objects.filter(contract=contract).count() == 1
    closed = Notification.objects.filter(kind=NotificationKind.AMENDMENT_CLOSED)
    assert sorted(closed.values_list("recipient__username", flat=True)) == ["carl", "clead"]


def test_a_rejection_needs_a_comment(world, contract, amendment):
    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_respond(
            actor=world.provider_owner, amendment=amendment, accept=False, comment=" "
        )

    # then
    assert _errors(exc) == {"comment": [services.COMMENT_TO_REJECT]}
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING
    assert amendment.provider_response == ""


def test_a_side_answers_once(world, contract, amendment):
    # given
    services.amendment_respond(actor=world.provider_owner, amendment=amendment, accept=True)

    # when
    with pytest.raises(ConflictError) as exc:
        services.amendment_respond(
            actor=world.provider_lead, amendment=amendment, accept=False, comment="Changed mind"
        )

    # then
    assert exc.value.code == "already_answered"
    amendment.refresh_from_db()
    assert amendment.provider_responder == world.provider_owner


@pytest.mark.parametrize("role", ["pmo", "executive"])
def test_those_who_speak_for_no_side_do_not_answer(world, contract, amendment, role):
    # when
    with pytest.raises(PermissionDenied):
        services.amendment_respond(actor=world.role(role), amendment=amendment, accept=True)

    # then
    amendment.refresh_from_db()
    assert (amendment.provider_response, amendment.consumer_response) == ("", "")


def test_a_side_may_not_answer_for_the_other(world, contract, amendment):
    # when
    with pytest.raises(PermissionDenied):
        services.amendment_respond(
            actor=world.provider_owner, amendment=amendment, accept=True, side="consumer"
        )

    # then
    amendment.refresh_from_db()
    assert amendment.consumer_response == ""


def test_the_pmo_override_applies_it_and_says_so(world, contract, amendment):
    # when
    amendment = services.amendment_override(
        actor=world.pmo, amendment=amendment, reason="Board decision 14 May"
    )

    # then
    assert amendment.status == AmendmentStatus.OVERRIDDEN
    assert amendment.override_by == world.pmo
    assert amendment.override_reason == "Board decision 14 May"
    contract.refresh_from_db()
    assert (contract.version_number, contract.criticality) == (2, 5)
    version = ContractVersion.objects.get(contract=contract, number=2)
    assert version.reason == (
        "PMO override by Pam Officer: Board decision 14 May (amendment 1, proposed by Cleo "
        "Lead: The pilot moved to Q3)"
    )
    actions = set(
        AuditEvent.objects.filter(action=AuditAction.OVERRIDE).values_list("subject_type", "reason")
    )
    assert actions == {
        ("dependencies.amendment", "Board decision 14 May"),
        ("dependencies.contract", "Amendment 1: The pilot moved to Q3"),
    }


def test_only_the_pmo_overrides_and_always_with_a_reason(world, contract, amendment):
    # when
    with pytest.raises(PermissionDenied):
        services.amendment_override(actor=world.consumer_lead, amendment=amendment, reason="Me")
    with pytest.raises(ValidationError) as exc:
        services.amendment_override(actor=world.pmo, amendment=amendment, reason="")

    # then
    assert _errors(exc) == {"reason": ["Give a reason; it is kept in the contract's history."]}
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING


def test_the_proposer_withdraws_it(world, contract, amendment):
    # when
    amendment = services.amendment_withdraw(
        actor=world.consumer_lead, amendment=amendment, reason="Pilot back on track"
    )

    # then
    assert amendment.status == AmendmentStatus.WITHDRAWN
    contract.refresh_from_db()
    assert contract.version_number == 1
    assert AuditEvent.objects.get(action=AuditAction.WITHDRAW).reason == "Pilot back on track"


def test_the_other_side_does_not_withdraw_it(world, contract, amendment):
    # when
    with pytest.raises(PermissionDenied):
        services.amendment_withdraw(actor=world.provider_lead, amendment=amendment)

    # then
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING


def test_a_closed_amendment_takes_no_more_answers(world, contract, amendment):
    # given
    services.amendment_withdraw(actor=world.pmo, amendment=amendment)

    # when
    with pytest.raises(ConflictError) as exc:
        services.amendment_respond(actor=world.provider_owner, amendment=amendment, accept=True)

    # then
    assert exc.value.code == "amendment_closed"
    assert exc.value.message == "Amendment 1 to PROC-SALES-CASTINGS is already closed (withdrawn)."


def test_one_pending_amendment_per_contract(world, contract, amendment):
    # when
    with pytest.raises(ConflictError) as exc:
        services.amendment_propose(
            actor=world.provider_lead,
            contract=contract,
            changes={"title": "Another"},
            reason="Tidy",
        )

    # then
    assert exc.value.code == "amendment_pending"
    assert exc.value.message == (
        "PROC-SALES-CASTINGS already has a pending amendment (number 1, proposed by Cleo Lead); "
        "it must be accepted, rejected or withdrawn before another is proposed."
    )
    assert Amendment.objects.count() == 1


def test_a_draft_is_edited_not_amended(world):
    # given
    contract = draft(world)

    # when
    with pytest.raises(ConflictError) as exc:
        services.amendment_propose(
            actor=world.pmo, contract=contract, changes={"title": "New"}, reason="Why not"
        )

    # then
    assert exc.value.code == "not_in_force"
    assert not Amendment.objects.exists()


def test_changes_name_only_terms_that_change(world, contract):
    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_propose(
            actor=world.pmo,
            contract=contract,
            changes={"criticality": 4, "status": "fulfilled", "due_date": "soon"},
            reason="Tidy",
        )

    # then
    assert _errors(exc) == {
        "status": [
            "status is not a contract term; the terms are: code, title, provider_department, "
            "provider_owner, consumer_department, consumer_owner, deliverable, "
            "acceptance_criteria, due_date, service_kpi, service_comparison, service_threshold, "
            "service_level, criticality, provider_milestones, provider_initiatives, "
            "consumer_initiatives, consumer_milestones, consumer_kpis, plan_version."
        ],
        "due_date": ["'soon' is not a date; use YYYY-MM-DD."],
    }


def test_an_unchanged_value_is_refused(world, contract):
    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_propose(
            actor=world.pmo, contract=contract, changes={"criticality": 4}, reason="Tidy"
        )

    # then
    assert _errors(exc) == {
        "criticality": ["Criticality is already 4; name only the terms that change."]
    }


def test_no_changes_is_refused(world, contract):
    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_propose(actor=world.pmo, contract=contract, changes={}, reason="x")

    # then
    assert _errors(exc) == {"changes": [services.NO_CHANGES]}


def test_the_amended_terms_pass_the_same_validation_as_a_new_contract(world, contract):
    # given
    procurement_kpi = KpiFactory(code="PROC-COST", name="Cost", department=world.provider)

    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_propose(
            actor=world.pmo,
            contract=contract,
            changes={"consumer_kpis": [procurement_kpi.pk], "service_kpi": "PROC-OTD"},
            reason="Measure it",
        )

    # then
    assert _errors(exc) == {
        "consumer_kpis": ["Only the consumer's (Sales) can be linked here; not: PROC-COST — Cost."],
        "service_threshold": ["A service-level KPI needs a threshold."],
        "service_comparison": [
            "Say whether the KPI must stay at least or at most at the threshold."
        ],
    }


def test_an_amendment_needs_a_reason(world, contract):
    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_propose(
            actor=world.pmo, contract=contract, changes={"criticality": 5}, reason=""
        )

    # then
    assert _errors(exc) == {"reason": ["Give a reason; it is kept in the contract's history."]}


@pytest.mark.parametrize("role", ["viewer", "executive", "outsider"])
def test_those_outside_the_sides_do_not_propose(world, contract, role):
    # when
    with pytest.raises(PermissionDenied):
        services.amendment_propose(
            actor=world.role(role), contract=contract, changes={"criticality": 5}, reason="x"
        )

    # then
    assert not Amendment.objects.exists()


def test_a_stale_revision_is_refused(world, contract):
    # when
    with pytest.raises(ConflictError) as exc:
        services.amendment_propose(
            actor=world.pmo, contract=contract, changes={"criticality": 5}, reason="x", revision=3
        )

    # then
    assert exc.value.code == "stale"
    assert exc.value.details == {"revision": 4}
    assert not Amendment.objects.exists()


def test_an_amendment_that_no_longer_holds_is_not_applied(world, contract):
    # given: the proposed new consumer owner leaves Sales before the provider answers
    amendment = services.amendment_propose(
        actor=world.pmo,
        contract=contract,
        changes={"consumer_owner": world.consumer_lead.pk},
        reason="Cleo takes over",
    )
    services.amendment_respond(actor=world.consumer_owner, amendment=amendment, accept=True)
    Membership.objects.filter(person=world.consumer_lead).delete()

    # when
    with pytest.raises(ValidationError) as exc:
        services.amendment_respond(actor=world.provider_owner, amendment=amendment, accept=True)

    # then
    assert _errors(exc) == {
        "consumer_owner": [
            "The amendment can no longer be applied: Cleo Lead is not a member of Sales; the "
            "consumer owner must be."
        ]
    }
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.PENDING
    assert amendment.provider_response == ""
    contract.refresh_from_db()
    assert (contract.consumer_owner, contract.version_number) == (world.consumer_owner, 1)


def test_fulfilling_withdraws_the_pending_amendment(world, contract, amendment):
    # when
    contract_fulfil(actor=world.provider_owner, contract=contract)

    # then
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.WITHDRAWN


def test_a_second_amendment_is_numbered_after_the_first(world, contract, amendment):
    # given
    services.amendment_override(actor=world.pmo, amendment=amendment, reason="Agreed offline")

    # when
    second = services.amendment_propose(
        actor=world.provider_owner,
        contract=contract,
        changes={"service_level": "2,000 a week"},
        reason="Write it down",
    )

    # then
    assert (second.number, second.base_version) == (2, 2)
