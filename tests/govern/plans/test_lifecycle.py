"""The plan-version lifecycle services: draft from a version, propose (PMO), withdraw (PMO or an
executive), approve (an executive, only a proposed version), each audited; the signals carry what
their receivers need."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from govern import services
from govern.choices import AuditAction, PlanVersionStatus
from govern.errors import ApplicationError, ConflictError
from govern.models import AuditEvent, PlanVersion
from govern.signals import plan_version_approved, plan_version_drafted
from tests.govern.plans.support import approve, first_plan


@pytest.fixture
def sent():
    """The signals sent, with their arguments."""
    calls = []

    def drafted(sender, signal, **kwargs):
        calls.append(("drafted", kwargs))

    def approved(sender, signal, **kwargs):
        calls.append(("approved", kwargs))

    plan_version_drafted.connect(drafted, dispatch_uid="test.drafted")
    plan_version_approved.connect(approved, dispatch_uid="test.approved")
    yield calls
    plan_version_drafted.disconnect(dispatch_uid="test.drafted")
    plan_version_approved.disconnect(dispatch_uid="test.approved")


def _events(version) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(subject_type="govern.planversion", subject_id=str(version.pk))
        .order_by("pk")
        .values_list("action", "actor_id", "reason")
    )


def test_a_draft_is_made_from_the_current_version(pmo, executive, sent):
    # given
    current = first_plan(pmo=pmo, executive=executive)
    sent.clear()

    # when
    draft = services.plan_version_create_draft(
        actor=pmo, name="FY26 Q3 re-forecast", description="Alloy prices"
    )

    # then
    assert (draft.status, draft.based_on, draft.created_by) == ("draft", current, pmo)
    assert sent == [("drafted", {"plan_version": draft, "based_on": current, "actor": pmo})]
    assert _events(draft) == [(AuditAction.CREATE, pmo.pk, "Drafted from FY26 baseline")]


def test_a_draft_can_be_made_from_a_superseded_version_but_not_from_a_draft(pmo, executive):
    # given
    old = first_plan(pmo=pmo, executive=executive, name="FY25 plan")
    approve(
        pmo=pmo,
        executive=executive,
        plan_version=services.plan_version_create_draft(actor=pmo, name="FY26 baseline"),
    )
    other = services.plan_version_create_draft(actor=pmo, name="FY26 other")
    old.refresh_from_db()

    # when
    from_old = services.plan_version_create_draft(actor=pmo, name="FY26 redo", based_on=old)
    with pytest.raises(ApplicationError) as caught:
        services.plan_version_create_draft(actor=pmo, name="Copy of a draft", based_on=other)

    # then
    assert (old.status, from_old.based_on) == (PlanVersionStatus.SUPERSEDED, old)
    assert caught.value.fields == {
        "based_on": [
            "FY26 other is draft; a draft is made from the current plan version or a "
            "superseded one."
        ]
    }
    assert not PlanVersion.objects.filter(name="Copy of a draft").exists()


def test_the_first_draft_starts_empty(pmo, sent):
    # when
    draft = services.plan_version_create_draft(actor=pmo, name="FY26 baseline")

    # then
    assert draft.based_on is None
    assert sent == []
    assert _events(draft) == [(AuditAction.CREATE, pmo.pk, "")]


def test_the_pmo_proposes_a_draft_and_it_can_no_longer_be_edited(pmo):
    # given
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")

    # when
    proposed = services.plan_version_propose(
        actor=pmo, plan_version=draft, comment="For the May board"
    )
    with pytest.raises(ConflictError) as edited:
        services.plan_version_update(actor=pmo, plan_version=draft, data={"name": "Renamed"})
    with pytest.raises(ConflictError) as deleted:
        services.plan_version_delete(actor=pmo, plan_version=draft)

    # then
    assert (proposed.status, proposed.proposed_by) == ("proposed", pmo)
    assert proposed.proposed_at is not None
    assert edited.value.message == (
        "FY27 plan is proposed for approval; only a draft plan version can be edited. Withdraw "
        "the proposal to draft to change it."
    )
    assert deleted.value.code == "plan_version_not_draft"
    assert _events(draft)[-1] == (AuditAction.PROPOSE, pmo.pk, "For the May board")
    assert PlanVersion.objects.get(pk=draft.pk).name == "FY27 plan"


def test_an_executive_does_not_propose(pmo, executive):
    # given
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")

    # when / then
    with pytest.raises(PermissionDenied):
        services.plan_version_propose(actor=executive, plan_version=draft)
    assert PlanVersion.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize("who", ["pmo", "executive"])
def test_a_proposal_is_withdrawn_to_draft_with_a_reason(request, pmo, who):
    # given
    actor = request.getfixturevalue(who)
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")
    services.plan_version_propose(actor=pmo, plan_version=draft)

    # when
    withdrawn = services.plan_version_withdraw(
        actor=actor, plan_version=draft, reason="Q1 actuals first"
    )

    # then
    assert (withdrawn.status, withdrawn.proposed_by, withdrawn.proposed_at) == ("draft", None, None)
    assert _events(draft)[-1] == (AuditAction.WITHDRAW, actor.pk, "Q1 actuals first")


def test_a_withdrawal_needs_a_reason(pmo):
    # given
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")
    services.plan_version_propose(actor=pmo, plan_version=draft)

    # when
    with pytest.raises(ValidationError) as caught:
        services.plan_version_withdraw(actor=pmo, plan_version=draft, reason="  ")

    # then
    assert caught.value.message_dict == {
        "reason": ["Say why the proposal goes back to draft; it is kept in the plan's history."]
    }
    assert PlanVersion.objects.get(pk=draft.pk).status == "proposed"


def test_the_pmo_cannot_approve(pmo):
    # given
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")
    services.plan_version_propose(actor=pmo, plan_version=draft)
    events = AuditEvent.objects.count()

    # when / then
    with pytest.raises(PermissionDenied, match="You may not approve this plan version"):
        services.plan_version_approve(actor=pmo, plan_version=draft, reason="Myself")
    assert PlanVersion.objects.get(pk=draft.pk).status == "proposed"
    assert AuditEvent.objects.count() == events


def test_an_executive_approves_only_a_proposed_version(pmo, executive):
    # given
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")

    # when
    with pytest.raises(ConflictError) as caught:
        services.plan_version_approve(actor=executive, plan_version=draft)

    # then
    assert (caught.value.code, caught.value.message) == (
        "plan_version_not_proposed",
        "FY27 plan is draft; only a version proposed for approval is approved. The PMO "
        "proposes it first.",
    )
    assert PlanVersion.objects.get(pk=draft.pk).status == "draft"


def test_approval_switches_the_current_version_and_says_so(pmo, executive, sent):
    # given
    current = first_plan(pmo=pmo, executive=executive)
    draft = services.plan_version_create_draft(actor=pmo, name="FY26 re-forecast")
    services.plan_version_propose(actor=pmo, plan_version=draft)
    sent.clear()

    # when
    approved = services.plan_version_approve(actor=executive, plan_version=draft, reason="Board")

    # then
    current.refresh_from_db()
    assert (approved.status, approved.approved_by) == ("approved", executive)
    assert (current.status, current.superseded_at) == ("superseded", approved.approved_at)
    assert list(PlanVersion.objects.filter(status="approved")) == [approved]
    assert sent == [
        ("approved", {"plan_version": approved, "previous": current, "actor": executive})
    ]
    assert _events(current)[-1] == (
        AuditAction.SUPERSEDE,
        executive.pk,
        "Superseded by FY26 re-forecast",
    )
    assert _events(draft)[-1] == (AuditAction.APPROVE, executive.pk, "Board")


def test_the_first_approval_has_no_previous_version(pmo, executive, sent):
    # when
    approved = first_plan(pmo=pmo, executive=executive)

    # then
    assert sent[-1] == (
        "approved",
        {"plan_version": approved, "previous": None, "actor": executive},
    )


def test_a_proposed_version_is_not_proposed_again(pmo):
    # given
    draft = services.plan_version_create_draft(actor=pmo, name="FY27 plan")
    services.plan_version_propose(actor=pmo, plan_version=draft)

    # when
    with pytest.raises(ConflictError) as caught:
        services.plan_version_propose(actor=pmo, plan_version=draft)

    # then
    assert caught.value.message == (
        "FY27 plan is proposed for approval; only a draft is proposed. It is already waiting for "
        "an executive's approval."
    )
