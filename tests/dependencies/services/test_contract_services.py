"""Contract services: drafting, editing, deleting and the lifecycle (propose, agree, fulfil,
cancel), with their validation rules, the optimistic lock and the audit trail."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dependencies.choices import AmendmentStatus, ContractStatus
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.services import amendments
from dependencies.services import contracts as services
from govern.choices import AuditAction, NotificationKind, PlanVersionStatus, Role
from govern.errors import ConflictError
from govern.models import AuditEvent, Membership, Notification, PlanVersion
from tests.dependencies.contract_support import agreed, draft, proposed, terms_for
from tests.factories import (
    KpiFactory,
    MembershipFactory,
    PersonFactory,
    PlanVersionFactory,
)


def _events(contract, action=None):
    events = AuditEvent.objects.filter(
        subject_type="dependencies.contract", subject_id=str(contract.pk)
    )
    return events.filter(action=action) if action else events


def _errors(exc: ValidationError) -> dict:
    return {name: list(messages) for name, messages in exc.value.message_dict.items()}


# --- Create -----------------------------------------------------------------------------------


def test_the_pmo_drafts_a_contract_in_the_current_plan(world):
    # when
    contract = draft(world)

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    assert contract.revision == 1
    assert contract.version_number == 0
    assert contract.plan_version == world.plan
    assert contract.created_by == world.pmo
    assert list(contract.provider_milestones.all()) == [world.provider_milestone]
    assert list(contract.consumer_kpis.all()) == [world.consumer_kpi]
    event = _events(contract).get()
    assert event.action == AuditAction.CREATE
    assert event.changes["code"] == {"old": None, "new": "PROC-SALES-CASTINGS"}
    assert event.changes["consumer_kpis"] == {"old": None, "new": ["SALES-FILL — Order fill rate"]}


def test_a_contract_takes_ids_and_codes_as_well_as_objects(world):
    # when
    contract = services.contract_create(
        actor=world.pmo,
        data=terms_for(
            world,
            code=" proc-sales-ids ",
            provider_department="proc",
            consumer_department=world.consumer.pk,
            provider_owner="pia",
            consumer_owner={"id": world.consumer_owner.pk},
            due_date="2026-07-31",
            service_kpi="PROC-OTD",
            service_comparison="gte",
            service_threshold="95",
            consumer_kpis=["SALES-FILL", world.other_consumer_kpi.pk],
        ),
    )

    # then
    assert contract.code == "PROC-SALES-IDS"
    assert contract.provider_department == world.provider
    assert contract.provider_owner == world.provider_owner
    assert contract.due_date == dt.date(2026, 7, 31)
    assert contract.service_kpi == world.service_kpi
    assert contract.service_threshold == 95.0
    assert set(contract.consumer_kpis.all()) == {world.consumer_kpi, world.other_consumer_kpi}


@pytest.mark.parametrize("role", ["executive", "provider_lead", "consumer_owner", "viewer"])
def test_only_the_pmo_drafts_contracts(world, role):
    # when
    with pytest.raises(PermissionDenied):
        services.contract_create(actor=world.role(role), data=terms_for(world))

    # then
    assert not Contract.objects.exists()
    assert not AuditEvent.objects.filter(subject_type="dependencies.contract").exists()


def test_validation_reports_every_problem_per_field(world):
    # given
    stranger = PersonFactory()
    sales_milestone = world.consumer_milestone

    # when
    with pytest.raises(ValidationError) as exc:
        services.contract_create(
            actor=world.pmo,
            data=terms_for(
                world,
                provider_owner=stranger,
                provider_milestones=[sales_milestone],
                consumer_kpis=[world.service_kpi],
                service_kpi=world.service_kpi,
                criticality=7,
            ),
        )

    # then
    assert _errors(exc) == {
        "provider_owner": [
            f"{stranger} is not a member of Procurement; the provider owner must be."
        ],
        "provider_milestones": [
            "Only the provider's (Procurement) can be linked here; not: Pilot accounts live."
        ],
        "consumer_kpis": [
            "Only the consumer's (Sales) can be linked here; not: PROC-OTD — Supplier on-time."
        ],
        "service_threshold": ["A service-level KPI needs a threshold."],
        "service_comparison": [
            "Say whether the KPI must stay at least or at most at the threshold."
        ],
        "criticality": ["Ensure this value is less than or equal to 5."],
    }
    assert not Contract.objects.exists()


def test_the_provider_and_the_consumer_are_different_departments(world):
    # when
    with pytest.raises(ValidationError) as exc:
        draft(
            world,
            consumer_department=world.provider,
            consumer_owner=world.provider_owner,
            consumer_initiatives=[],
            consumer_milestones=[],
            consumer_kpis=[],
        )

    # then
    assert _errors(exc) == {
        "consumer_department": ["The consumer must be a different department from the provider."]
    }


def test_a_contract_needs_a_due_date_or_a_service_level(world):
    # when
    with pytest.raises(ValidationError) as exc:
        draft(world, due_date=None)

    # then
    assert _errors(exc) == {"due_date": ["Give a due date, a service-level KPI, or both."]}


def test_a_deactivated_owner_is_refused(world):
    # given
    world.consumer_owner.is_active = False
    world.consumer_owner.save()

    # when
    with pytest.raises(ValidationError) as exc:
        draft(world)

    # then
    assert _errors(exc) == {
        "consumer_owner": [
            "Carl Consumer is deactivated; the consumer owner must be an active person."
        ]
    }


def test_codes_are_unique(world):
    # given
    draft(world)

    # when
    with pytest.raises(ValidationError) as exc:
        draft(world, code="proc-sales-castings")

    # then
    assert _errors(exc) == {"code": ["Contract with this Code already exists."]}


def test_without_an_approved_plan_the_plan_version_must_be_named(world):
    # given
    PlanVersion.objects.filter(pk=world.plan.pk).update(status=PlanVersionStatus.SUPERSEDED)
    draft_plan = PlanVersionFactory(name="FY27 draft")

    # when
    with pytest.raises(ValidationError) as exc:
        draft(world)
    contract = draft(world, plan_version=draft_plan)

    # then
    assert _errors(exc) == {
        "plan_version": [
            "There is no approved plan version yet: approve one, or name the plan version this "
            "contract belongs to."
        ]
    }
    assert contract.plan_version == draft_plan


def test_a_superseded_plan_version_is_refused(world):
    # given
    old = PlanVersionFactory(
        name="FY25", status=PlanVersionStatus.SUPERSEDED, approved_at=timezone.now()
    )

    # when
    with pytest.raises(ValidationError) as exc:
        draft(world, plan_version=old)

    # then
    assert _errors(exc) == {
        "plan_version": [
            "FY25 is superseded; a contract belongs to the current plan or a draft one."
        ]
    }


def test_ids_the_actor_may_not_see_read_like_missing_ones(world):
    # given: a lead of Sales may not see Procurement's milestones (and only the PMO drafts,
    # so resolve as the lead through the terms reader directly)
    from dependencies.terms import coerce_terms

    # when
    with pytest.raises(ValidationError) as exc:
        coerce_terms(
            {"provider_milestones": [world.provider_milestone.pk], "criticality": "high"},
            user=world.consumer_lead,
        )

    # then
    assert _errors(exc) == {
        "provider_milestones": [f"No milestone {world.provider_milestone.pk} that you can see."],
        "criticality": ["Enter a whole number from 1 to 5."],
    }


# --- Edit and delete --------------------------------------------------------------------------


def test_the_pmo_edits_a_draft_and_the_revision_moves_on(world):
    # given
    contract = draft(world)
    other = KpiFactory(code="SALES-OTIF", name="OTIF", department=world.consumer)

    # when
    contract = services.contract_update(
        actor=world.pmo,
        contract=contract,
        data={"title": "Castings, revised", "consumer_kpis": [world.consumer_kpi, other]},
        revision=1,
    )

    # then
    contract.refresh_from_db()
    assert contract.title == "Castings, revised"
    assert contract.revision == 2
    assert set(contract.consumer_kpis.all()) == {world.consumer_kpi, other}
    event = _events(contract, AuditAction.UPDATE).get()
    assert event.changes == {
        "title": {"old": "Castings for key accounts", "new": "Castings, revised"},
        "consumer_kpis": {
            "old": ["SALES-FILL — Order fill rate"],
            "new": ["SALES-FILL — Order fill rate", "SALES-OTIF — OTIF"],
        },
    }


def test_an_edit_that_changes_nothing_writes_nothing(world):
    # given
    contract = draft(world)

    # when
    services.contract_update(
        actor=world.pmo, contract=contract, data={"title": "Castings for key accounts"}
    )

    # then
    contract.refresh_from_db()
    assert contract.revision == 1
    assert not _events(contract, AuditAction.UPDATE).exists()


def test_a_stale_revision_is_refused_and_nothing_is_written(world):
    # given
    contract = draft(world)
    services.contract_update(actor=world.pmo, contract=contract, data={"title": "First"})

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_update(
            actor=world.pmo, contract=contract, data={"title": "Second"}, revision=1
        )

    # then
    assert exc.value.code == "stale"
    assert exc.value.details == {"revision": 2}
    assert exc.value.message == (
        "PROC-SALES-CASTINGS has changed since you loaded it (you sent revision 1, it is now at "
        "revision 2). Reload it and apply your change again."
    )
    contract.refresh_from_db()
    assert (contract.title, contract.revision) == ("First", 2)
    assert _events(contract, AuditAction.UPDATE).count() == 1


def test_editing_a_proposed_contract_clears_both_sides_agreement(world):
    # given
    contract = proposed(world)
    contract = services.contract_agree(actor=world.provider_owner, contract=contract)
    Notification.objects.all().delete()

    # when
    contract = services.contract_update(
        actor=world.pmo, contract=contract, data={"due_date": dt.date(2026, 7, 15)}
    )

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PROPOSED
    assert contract.provider_agreed_by is None
    assert contract.provider_agreed_at is None
    event = _events(contract, AuditAction.UPDATE).get()
    assert event.reason == services.AGREEMENT_CLEARED
    assert event.changes == {
        "due_date": {"old": "2026-06-30", "new": "2026-07-15"},
        "provider_agreed_by": {"old": "Pia Provider", "new": None},
    }
    assert sorted(Notification.objects.values_list("recipient__username", "kind")) == [
        ("carl", NotificationKind.CONTRACT_PROPOSED),
        ("pia", NotificationKind.CONTRACT_PROPOSED),
    ]


def test_agreed_terms_are_not_edited_directly(world):
    # given
    contract = agreed(world)
    events = AuditEvent.objects.count()

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_update(actor=world.pmo, contract=contract, data={"title": "Sneaky"})

    # then
    assert exc.value.code == "terms_frozen"
    assert exc.value.message == (
        "Agreed terms change only through an amendment: propose one on the contract page or "
        f"POST /api/v1/contracts/{contract.pk}/amendments/."
    )
    contract.refresh_from_db()
    assert (contract.title, contract.revision) == ("Castings for key accounts", 4)
    assert AuditEvent.objects.count() == events


def test_a_lead_may_not_edit_a_draft(world):
    # given
    contract = draft(world)

    # when
    with pytest.raises(PermissionDenied):
        services.contract_update(
            actor=world.provider_lead, contract=contract, data={"title": "Mine now"}
        )

    # then
    contract.refresh_from_db()
    assert contract.title == "Castings for key accounts"


def test_a_draft_is_deleted_with_an_audit_event(world):
    # given
    contract = draft(world)
    pk = contract.pk

    # when
    services.contract_delete(actor=world.pmo, contract=contract, revision=1)

    # then
    assert not Contract.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(
        subject_type="dependencies.contract", subject_id=str(pk), action=AuditAction.DELETE
    ).exists()


def test_a_proposed_contract_is_cancelled_not_deleted(world):
    # given
    contract = proposed(world)

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_delete(actor=world.pmo, contract=contract)

    # then
    assert exc.value.code == "not_draft"
    assert Contract.objects.filter(pk=contract.pk).exists()


# --- Propose and agree ------------------------------------------------------------------------


def test_either_side_proposes_a_draft_and_the_other_owner_is_told(world):
    # given
    contract = draft(world)

    # when
    contract = services.contract_propose(
        actor=world.provider_lead, contract=contract, revision=1, comment="Ready for review"
    )

    # then
    contract.refresh_from_db()
    assert (contract.status, contract.revision) == (ContractStatus.PROPOSED, 2)
    event = _events(contract, AuditAction.PROPOSE).get()
    assert event.changes == {"status": {"old": "draft", "new": "proposed"}}
    assert event.reason == "Ready for review"
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "carl",
        "pia",
    ]


@pytest.mark.parametrize("role", ["viewer", "executive", "outsider"])
def test_others_may_not_propose(world, role):
    # given
    contract = draft(world)

    # when
    with pytest.raises(PermissionDenied):
        services.contract_propose(actor=world.role(role), contract=contract)

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


def test_one_side_agreeing_leaves_the_contract_proposed(world):
    # given
    contract = proposed(world)

    # when
    contract = services.contract_agree(
        actor=world.provider_owner, contract=contract, revision=2, comment="We can do it"
    )

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PROPOSED
    assert contract.provider_agreed_by == world.provider_owner
    assert contract.consumer_agreed_by is None
    assert contract.version_number == 0
    assert not ContractVersion.objects.exists()
    event = _events(contract, AuditAction.AGREE).get()
    assert event.changes == {"provider_agreed_by": {"old": None, "new": "Pia Provider"}}
    assert event.reason == "We can do it"


def test_both_sides_agreeing_writes_version_1(world):
    # given
    contract = proposed(
        world, service_kpi=world.service_kpi, service_comparison="gte", service_threshold=90
    )
    contract = services.contract_update(
        actor=world.pmo, contract=contract, data={"service_threshold": 95}
    )
    contract = services.contract_agree(actor=world.provider_owner, contract=contract)

    # when
    contract = services.contract_agree(actor=world.consumer_lead, contract=contract, revision=4)

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.AGREED
    assert contract.version_number == 1
    assert contract.agreed_at is not None
    assert contract.consumer_agreed_by == world.consumer_lead
    version = ContractVersion.objects.get(contract=contract)
    w = world
    assert version.number == 1
    assert version.author == world.consumer_lead
    assert version.reason == (
        "Agreed by both sides: Pia Provider for Procurement (provider), Cleo Lead for Sales "
        "(consumer)."
    )
    assert version.terms == {
        "code": "PROC-SALES-CASTINGS",
        "title": "Castings for key accounts",
        "provider_department": {"id": w.provider.pk, "label": "Procurement"},
        "provider_owner": {"id": w.provider_owner.pk, "label": "Pia Provider"},
        "consumer_department": {"id": w.consumer.pk, "label": "Sales"},
        "consumer_owner": {"id": w.consumer_owner.pk, "label": "Carl Consumer"},
        "deliverable": "2,000 castings a week",
        "acceptance_criteria": "First-pass quality at least 98%",
        "due_date": "2026-06-30",
        "service_kpi": {"id": w.service_kpi.pk, "label": "PROC-OTD — Supplier on-time"},
        "service_comparison": "gte",
        "service_threshold": 95.0,
        "service_level": "",
        "criticality": 4,
        "provider_milestones": [
            {"id": w.provider_milestone.pk, "label": "Second supplier qualified"}
        ],
        "provider_initiatives": [{"id": w.provider_initiative.pk, "label": "Supplier programme"}],
        "consumer_initiatives": [{"id": w.consumer_initiative.pk, "label": "Key accounts"}],
        "consumer_milestones": [{"id": w.consumer_milestone.pk, "label": "Pilot accounts live"}],
        "consumer_kpis": [{"id": w.consumer_kpi.pk, "label": "SALES-FILL — Order fill rate"}],
        "plan_version": {"id": w.plan.pk, "label": "Approved plan"},
    }
    event = _events(contract, AuditAction.AGREE).order_by("-pk").first()
    assert event.changes == {
        "status": {"old": "proposed", "new": "agreed"},
        "consumer_agreed_by": {"old": None, "new": "Cleo Lead"},
        "version_number": {"old": 0, "new": 1},
    }
    agreed_notices = Notification.objects.filter(kind=NotificationKind.CONTRACT_AGREED)
    assert sorted(agreed_notices.values_list("recipient__username", flat=True)) == ["carl", "pia"]


def test_the_pmo_does_not_agree_for_a_side(world):
    # given
    contract = proposed(world)

    # when
    with pytest.raises(PermissionDenied) as exc:
        services.contract_agree(actor=world.pmo, contract=contract)

    # then
    assert "the PMO does not agree or answer for a side" in str(exc.value)
    contract.refresh_from_db()
    assert contract.provider_agreed_at is None
    assert contract.consumer_agreed_at is None
    assert not _events(contract, AuditAction.AGREE).exists()


def test_a_side_agrees_once(world):
    # given
    contract = proposed(world)
    services.contract_agree(actor=world.provider_owner, contract=contract)

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_agree(actor=world.provider_lead, contract=contract)

    # then
    assert exc.value.code == "already_agreed"
    assert exc.value.message == (
        "You have already agreed to PROC-SALES-CASTINGS for the provider side."
    )


def test_someone_leading_both_departments_agrees_for_both_at_once(world):
    # given
    MembershipFactory(
        person=world.provider_lead, department=world.consumer, role=Role.DEPARTMENT_LEAD
    )
    contract = proposed(world)

    # when
    contract = services.contract_agree(actor=world.provider_lead, contract=contract)

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.AGREED
    assert contract.provider_agreed_by == contract.consumer_agreed_by == world.provider_lead


def test_a_draft_cannot_be_agreed(world):
    # given
    contract = draft(world)

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_agree(actor=world.provider_owner, contract=contract)

    # then
    assert exc.value.code == "not_proposed"


def test_proposing_checks_the_terms_again(world):
    # given: the consumer owner left Sales after the draft was written
    contract = draft(world)
    Membership.objects.filter(person=world.consumer_owner).delete()

    # when
    with pytest.raises(ValidationError) as exc:
        services.contract_propose(actor=world.pmo, contract=contract)

    # then
    assert _errors(exc) == {
        "consumer_owner": ["Carl Consumer is not a member of Sales; the consumer owner must be."]
    }
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


# --- Fulfil and cancel ------------------------------------------------------------------------


def test_the_provider_side_fulfils_a_contract_in_force(world):
    # given
    contract = agreed(world)

    # when
    contract = services.contract_fulfil(
        actor=world.provider_owner, contract=contract, comment="Delivered"
    )

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.FULFILLED
    assert contract.fulfilled_at is not None
    assert _events(contract, AuditAction.FULFIL).get().reason == "Delivered"


def test_the_consumer_side_does_not_fulfil(world):
    # given
    contract = agreed(world)

    # when
    with pytest.raises(PermissionDenied):
        services.contract_fulfil(actor=world.consumer_owner, contract=contract)

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.AGREED


def test_only_a_contract_in_force_is_fulfilled(world):
    # given
    contract = proposed(world)

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_fulfil(actor=world.pmo, contract=contract)

    # then
    assert exc.value.code == "not_in_force"


def test_cancelling_needs_a_reason_and_withdraws_a_pending_amendment(world):
    # given
    contract = agreed(world)
    amendment = amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )

    # when
    with pytest.raises(ValidationError) as missing:
        services.contract_cancel(actor=world.pmo, contract=contract, reason="  ")
    contract = services.contract_cancel(
        actor=world.pmo, contract=contract, reason="Programme stopped"
    )

    # then
    assert _errors(missing) == {"reason": ["Give a reason; it is kept in the contract's history."]}
    contract.refresh_from_db()
    assert contract.status == ContractStatus.CANCELLED
    assert _events(contract, AuditAction.CANCEL).get().reason == "Programme stopped"
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.WITHDRAWN
    assert (
        AuditEvent.objects.get(
            subject_type="dependencies.amendment", action=AuditAction.WITHDRAW
        ).reason
        == "PROC-SALES-CASTINGS was cancelled: Programme stopped"
    )


def test_a_lead_may_not_cancel(world):
    # given
    contract = agreed(world)

    # when
    with pytest.raises(PermissionDenied):
        services.contract_cancel(actor=world.provider_lead, contract=contract, reason="No")

    # then
    contract.refresh_from_db()
    assert contract.status == ContractStatus.AGREED


def test_a_closed_contract_is_not_cancelled_again(world):
    # given
    contract = agreed(world)
    services.contract_fulfil(actor=world.pmo, contract=contract)

    # when
    with pytest.raises(ConflictError) as exc:
        services.contract_cancel(actor=world.pmo, contract=contract, reason="Too late")

    # then
    assert exc.value.code == "closed"
    assert not Amendment.objects.exists()


def test_the_health_monitor_is_asked_to_recheck_once_agreed(world, monkeypatch):
    # given
    from dependencies import tasks

    queued = []
    monkeypatch.setattr(
        tasks.contract_health_sync, "delay_on_commit", lambda **kwargs: queued.append(kwargs)
    )
    contract = proposed(world)
    services.contract_agree(actor=world.provider_owner, contract=contract)

    # when
    services.contract_agree(actor=world.consumer_owner, contract=contract)

    # then
    assert queued == [{"contract_ids": [contract.pk]}]
