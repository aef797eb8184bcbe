"""The contracts' share of plan versions: a draft copies the live terms of the open contracts, the
PMO drops and restores contracts in a draft, an approval freezes the previous version's terms,
moves the carried contracts, cancels the dropped ones and keeps those created in the draft; two
versions compare contract by contract and term by term."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from dependencies import selectors, terms
from dependencies.models import Contract, PlanContract
from dependencies.services import amendments
from dependencies.services import contracts as contract_services
from dependencies.services import plan_versions as service
from govern import services as plan_services
from govern.choices import AuditAction, PlanVersionStatus
from govern.errors import ConflictError
from govern.models import AuditEvent
from tests.dependencies.contract_support import World, agreed, build_world, draft
from tests.govern.plans.support import approve


@pytest.fixture
def world(db) -> World:
    return build_world()


def _amend(world: World, contract: Contract, **changes) -> Contract:
    amendment = amendments.amendment_propose(
        actor=world.provider_owner, contract=contract, changes=changes, reason="New furnace"
    )
    amendments.amendment_override(actor=world.pmo, amendment=amendment, reason="Board decision")
    contract.refresh_from_db()
    return contract


def _rows(plan_version) -> dict[str, tuple]:
    return {
        row.contract.code: (row.included, row.version_number, row.terms)
        for row in PlanContract.objects.filter(plan_version=plan_version).select_related("contract")
    }


def test_a_draft_copies_the_live_terms_of_the_open_contracts_exactly(world):
    # given an agreed contract, a draft one, a fulfilled one and a cancelled one
    castings = agreed(world)
    forecast = draft(world, code="SALES-PROC-FORECAST", title="Demand forecast")
    fulfilled = agreed(world, code="PROC-SALES-DONE", title="Done")
    contract_services.contract_fulfil(actor=world.pmo, contract=fulfilled)
    cancelled = draft(world, code="PROC-SALES-OFF", title="Off")
    contract_services.contract_cancel(actor=world.pmo, contract=cancelled, reason="Not needed")

    # when
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 draft")

    # then
    named = terms.encode("plan_version", new)
    expected = {
        "PROC-SALES-CASTINGS": (True, 1, {**terms.snapshot(castings), "plan_version": named}),
        "SALES-PROC-FORECAST": (True, 0, {**terms.snapshot(forecast), "plan_version": named}),
    }
    assert _rows(new) == expected
    assert expected["PROC-SALES-CASTINGS"][2]["provider_milestones"] == [
        {"id": world.provider_milestone.pk, "label": "Second supplier qualified"}
    ]


def test_approval_moves_carried_contracts_cancels_dropped_ones_and_keeps_created_ones(world):
    # given a draft that carries one contract, drops another and creates a third
    carried = agreed(world)
    dropped = agreed(world, code="PROC-SALES-SAND", title="Sand")
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    service.plan_contract_drop(
        actor=world.pmo, plan_version=new, contract=dropped, reason="Sand moves in-house"
    )
    created = draft(world, code="PROC-SALES-SECOND", title="Second source", plan_version=new)
    revision = carried.revision

    # when
    approve(pmo=world.pmo, executive=world.executive, plan_version=new)

    # then
    carried.refresh_from_db()
    dropped.refresh_from_db()
    created.refresh_from_db()
    assert (carried.plan_version, carried.status, carried.revision) == (new, "agreed", revision + 1)
    assert (dropped.plan_version, dropped.status) == (world.plan, "cancelled")
    assert (created.plan_version, created.status) == (new, "draft")
    cancel = AuditEvent.objects.get(subject_id=str(dropped.pk), action=AuditAction.CANCEL)
    assert cancel.actor == world.executive
    assert cancel.reason == (
        f"Dropped from plan version FY27 plan, proposed by {world.pmo}; cancelled when "
        f"{world.executive} approved it."
    )
    move = AuditEvent.objects.get(subject_id=str(carried.pk), action=AuditAction.UPDATE)
    assert move.changes == {"plan_version": {"old": "Approved plan", "new": "FY27 plan"}}
    assert move.reason == f"Carried into plan version FY27 plan when {world.executive} approved it."


def test_approval_freezes_what_the_previous_version_held(world):
    # given the current plan holds two contracts; the next draft drops one
    kept = agreed(world)
    dropped = agreed(world, code="PROC-SALES-SAND", title="Sand")
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=dropped)
    live_terms = {c.code: terms.snapshot(c) for c in (kept, dropped)}

    # when
    approve(pmo=world.pmo, executive=world.executive, plan_version=new)

    # then the superseded version keeps both, as they were when it stopped being current
    frozen = {
        "PROC-SALES-CASTINGS": (True, 1, live_terms["PROC-SALES-CASTINGS"]),
        "PROC-SALES-SAND": (True, 1, live_terms["PROC-SALES-SAND"]),
    }
    assert _rows(world.plan) == frozen
    assert service.contract_terms_freeze(plan_version=world.plan) == 1  # the one it still holds
    assert _rows(world.plan) == frozen


def test_a_contract_created_in_the_current_plan_after_the_draft_is_carried_too(world):
    # given a draft, then a contract created in the current plan
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    late = agreed(world, code="PROC-SALES-LATE", title="Late")

    # when
    states, _ = selectors.plan_contract_states(new, Contract.objects.all())
    approve(pmo=world.pmo, executive=world.executive, plan_version=new)

    # then
    assert states == {late.pk: selectors.CARRIED}
    late.refresh_from_db()
    assert (late.plan_version, late.status) == (new, "agreed")


def test_the_pmo_restores_a_dropped_contract(world):
    # given
    contract = agreed(world)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=contract)

    # when
    row = service.plan_contract_restore(
        actor=world.pmo, plan_version=new, contract=contract, reason="Still needed"
    )

    # then
    assert row.included is True
    events = AuditEvent.objects.filter(subject_id=str(new.pk), action=AuditAction.UPDATE)
    assert [(e.changes, e.reason) for e in events.order_by("pk")] == [
        ({"PROC-SALES-CASTINGS": {"old": "carried", "new": "dropped"}}, ""),
        ({"PROC-SALES-CASTINGS": {"old": "dropped", "new": "carried"}}, "Still needed"),
    ]


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        (
            "created",
            "created_in_draft",
            "PROC-SALES-NEW was created in FY27 plan: delete it (a draft contract) or cancel it "
            "instead of dropping it.",
        ),
        ("twice", "already_dropped", "PROC-SALES-CASTINGS is already dropped from FY27 plan."),
        (
            "proposed",
            "plan_version_not_draft",
            "FY27 plan is proposed for approval; contracts are dropped from or restored to a "
            "draft only. Withdraw the proposal to draft to change it.",
        ),
        (
            "closed",
            "not_carried",
            "FY27 plan does not carry PROC-SALES-CASTINGS (it is fulfilled or not in the current "
            "plan); there is nothing to drop.",
        ),
    ],
)
def test_what_cannot_be_dropped(world, case, code, message):
    # given
    contract = agreed(world)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    if case == "created":
        contract = draft(world, code="PROC-SALES-NEW", title="New", plan_version=new)
    elif case == "twice":
        service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=contract)
    elif case == "proposed":
        plan_services.plan_version_propose(actor=world.pmo, plan_version=new)
    else:
        contract = contract_services.contract_fulfil(actor=world.pmo, contract=contract)
    before = _rows(new)

    # when
    with pytest.raises(ConflictError) as caught:
        service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=contract)

    # then
    assert (caught.value.code, caught.value.message) == (code, message)
    assert _rows(new) == before


def test_only_the_pmo_drops_a_contract(world):
    # given
    contract = agreed(world)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")

    # when / then
    with pytest.raises(PermissionDenied):
        service.plan_contract_drop(actor=world.provider_lead, plan_version=new, contract=contract)
    assert _rows(new)["PROC-SALES-CASTINGS"][0] is True


def test_a_closed_contract_is_not_restored(world):
    # given
    contract = agreed(world)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=contract)
    contract_services.contract_cancel(actor=world.pmo, contract=contract, reason="Supplier gone")

    # when
    with pytest.raises(ConflictError) as caught:
        service.plan_contract_restore(actor=world.pmo, plan_version=new, contract=contract)

    # then
    assert caught.value.message == (
        "PROC-SALES-CASTINGS is cancelled; a closed contract is not carried into a plan."
    )
    assert _rows(new)["PROC-SALES-CASTINGS"][0] is False


def test_two_versions_compare_contract_by_contract_and_term_by_term(world):
    # given a baseline with three contracts; the next version drops one, creates one, and is
    # approved; then one carried contract is amended and another fulfilled
    amended = agreed(world)
    dropped = agreed(world, code="PROC-SALES-SAND", title="Sand")
    done = agreed(world, code="PROC-SALES-DONE", title="Done")
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=dropped)
    draft(world, code="PROC-SALES-NEW", title="New", plan_version=new)
    approve(pmo=world.pmo, executive=world.executive, plan_version=new)
    _amend(world, amended, due_date=dt.date(2026, 9, 30), criticality=5)
    contract_services.contract_fulfil(actor=world.pmo, contract=done)
    world.plan.refresh_from_db()

    # when
    changes = selectors.plan_contract_changes(user=world.pmo, a=world.plan, b=new)

    # then
    assert [e.contract.code for e in changes.added] == ["PROC-SALES-NEW"]
    assert [e.contract.code for e in changes.dropped] == ["PROC-SALES-SAND"]
    assert [e.contract.code for e in changes.removed] == []
    (change,) = changes.changed
    assert (change.contract.code, change.a.version_number, change.b.version_number) == (
        "PROC-SALES-CASTINGS", 1, 2,
    )  # fmt: skip
    assert [(t["field"], t["a_text"], t["b_text"]) for t in change.terms] == [
        ("due_date", "30 Jun 2026", "30 Sep 2026"),
        ("criticality", "4", "5"),
    ]
    assert (changes.a_count, changes.b_count) == (3, 3)
    assert changes.total == 3


def test_a_copy_of_a_contract_closed_before_the_approval_is_forgotten(world):
    # given a draft carrying a contract that is fulfilled before the draft is approved
    contract = agreed(world)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    contract_services.contract_fulfil(actor=world.pmo, contract=contract)

    # when
    approve(pmo=world.pmo, executive=world.executive, plan_version=new)

    # then it stays in the version that held it, and the new one has no copy of it
    contract.refresh_from_db()
    assert (contract.plan_version, contract.status) == (world.plan, "fulfilled")
    assert _rows(new) == {}
    assert list(_rows(world.plan)) == ["PROC-SALES-CASTINGS"]


def test_a_contract_closed_before_the_next_version_is_removed_from_it(world):
    # given a fulfilled contract in the current plan, and a draft made after
    done = agreed(world)
    contract_services.contract_fulfil(actor=world.pmo, contract=done)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")

    # when
    changes = selectors.plan_contract_changes(user=world.pmo, a=world.plan, b=new)

    # then
    assert [(e.contract.code, e.contract.status) for e in changes.removed] == [
        ("PROC-SALES-CASTINGS", "fulfilled")
    ]


def test_the_comparison_shows_only_the_contracts_the_user_may_see(world):
    # given a contract between Procurement and Sales, and a draft dropping it
    contract = agreed(world)
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=contract)

    # when
    party = selectors.plan_contract_changes(user=world.consumer_lead, a=world.plan, b=new)
    outsider = selectors.plan_contract_changes(user=world.outsider, a=world.plan, b=new)

    # then
    assert [e.contract.code for e in party.dropped] == ["PROC-SALES-CASTINGS"]
    assert outsider.total == 0


def test_the_comparison_takes_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    # given 12 contracts in the current plan, a draft dropping a few
    contracts = [agreed(world, code=f"PROC-SALES-C{n}", title=f"C{n}") for n in range(12)]
    new = plan_services.plan_version_create_draft(actor=world.pmo, name="FY27 plan")
    for contract in contracts[:3]:
        service.plan_contract_drop(actor=world.pmo, plan_version=new, contract=contract)

    # when
    with django_assert_max_num_queries(24):
        changes = selectors.plan_contract_changes(user=world.pmo, a=world.plan, b=new)

    # then
    assert len(changes.dropped) == 3
    assert new.status == PlanVersionStatus.DRAFT
