"""The contract forms at the page boundary: the happy path of each action, its refusals as form
errors (and nothing written), a stale revision answered with 409 and one clear message, and the
edit of agreed terms pointed to amendments."""

import datetime as dt

import pytest

from dependencies.choices import AmendmentStatus, ContractStatus
from dependencies.forms import STALE
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.services import amendments as amendment_services
from dependencies.services import contracts as services
from govern.choices import AuditAction
from govern.models import AuditEvent
from tests.dependencies.contract_support import draft, proposed
from tests.dependencies.pages.conftest import database_state, login
from tests.govern.pages.helpers import text


def _terms_post(world, **overrides) -> dict:
    return {
        "code": "PROC-SALES-CASTINGS",
        "title": "Castings for key accounts",
        "provider_department": world.provider.pk,
        "provider_owner": world.provider_owner.pk,
        "consumer_department": world.consumer.pk,
        "consumer_owner": world.consumer_owner.pk,
        "deliverable": "2,000 castings a week",
        "acceptance_criteria": "First-pass quality at least 98%",
        "due_date": "2026-06-30",
        "criticality": "4",
        "service_kpi": "",
        "service_comparison": "",
        "service_threshold": "",
        "service_level": "",
        "provider_milestones": [world.provider_milestone.pk],
        "provider_initiatives": [world.provider_initiative.pk],
        "consumer_initiatives": [world.consumer_initiative.pk],
        "consumer_milestones": [world.consumer_milestone.pk],
        "consumer_kpis": [world.consumer_kpi.pk],
        "plan_version": "",
        **overrides,
    }


# --- Create and edit drafts -------------------------------------------------------------------


def test_the_pmo_drafts_a_contract(client, world):
    # given
    login(client, world, "pmo")

    # when
    response = client.post("/contracts/new/", _terms_post(world))

    # then
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contracts/{contract.pk}/"
    assert contract.status == ContractStatus.DRAFT
    assert contract.plan_version == world.plan
    assert contract.revision == 1
    assert list(contract.consumer_kpis.all()) == [world.consumer_kpi]
    event = AuditEvent.objects.for_object(contract).get()
    assert (event.action, event.actor) == (AuditAction.CREATE, world.pmo)


def test_the_create_form_offers_only_what_the_user_may_see(client, world):
    # given
    login(client, world, "pmo")

    # when
    response = client.get("/contracts/new/")

    # then
    page = text(response)
    assert response.status_code == 200
    assert "What is delivered Code" in page
    assert "PROC-OTD — Supplier on-time" in page
    assert "Supplier programme — Second supplier qualified" in page


@pytest.mark.parametrize("role", ["executive", "provider_lead", "consumer_owner", "viewer"])
def test_only_the_pmo_drafts_contracts(client, world, role):
    # given
    login(client, world, role)
    before = database_state()

    # when
    page = client.get("/contracts/new/")
    post = client.post("/contracts/new/", _terms_post(world))

    # then
    assert page.status_code == 403
    assert post.status_code == 403
    assert database_state() == before


def test_a_draft_with_the_same_department_on_both_sides_is_refused_on_the_field(client, world):
    # given
    login(client, world, "pmo")
    before = database_state()

    # when
    response = client.post(
        "/contracts/new/",
        _terms_post(
            world,
            consumer_department=world.provider.pk,
            consumer_owner=world.provider_owner.pk,
            consumer_initiatives=[],
            consumer_milestones=[],
            consumer_kpis=[],
        ),
    )

    # then
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["consumer_department"] == [
        "The consumer must be a different department from the provider."
    ]
    assert database_state() == before


def test_a_draft_without_due_date_or_service_level_is_refused(client, world):
    # given
    login(client, world, "pmo")
    before = database_state()

    # when
    response = client.post("/contracts/new/", _terms_post(world, due_date=""))

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["due_date"] == [
        "Give a due date, a service-level KPI, or both."
    ]
    assert database_state() == before


def test_the_pmo_edits_a_draft(client, world):
    # given
    contract = draft(world)
    login(client, world, "pmo")

    # when
    form = client.get(f"/contracts/{contract.pk}/edit/")
    response = client.post(
        f"/contracts/{contract.pk}/edit/",
        _terms_post(world, title="Castings, revised", revision=1),
    )

    # then
    assert form.status_code == 200
    assert 'name="revision" value="1"' in form.content.decode()
    assert 'value="Castings for key accounts"' in form.content.decode()
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.title, contract.revision) == ("Castings, revised", 2)
    event = AuditEvent.objects.for_object(contract).order_by("-pk").first()
    assert event.changes == {
        "title": {"old": "Castings for key accounts", "new": "Castings, revised"}
    }


def test_an_edit_on_a_stale_revision_is_refused_with_a_clear_message(client, world):
    # given: someone saved the draft after this form was opened at revision 1
    contract = draft(world)
    services.contract_update(actor=world.pmo, contract=contract, data={"criticality": 5})
    login(client, world, "pmo")
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{contract.pk}/edit/",
        _terms_post(world, title="Castings, revised", criticality="5", revision=1),
    )

    # then
    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [STALE]
    assert STALE in text(response)
    assert database_state() == before


@pytest.mark.parametrize("role", ["provider_lead", "consumer_owner", "executive"])
def test_only_the_pmo_edits_a_draft(client, world, role):
    # given
    contract = draft(world)
    login(client, world, role)
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{contract.pk}/edit/", _terms_post(world, title="Mine now", revision=1)
    )

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_editing_agreed_terms_points_to_amendments(client, world, in_force):
    # given
    login(client, world, "pmo")
    before = database_state()

    # when
    page = client.get(f"/contracts/{in_force.pk}/edit/")
    post = client.post(
        f"/contracts/{in_force.pk}/edit/", _terms_post(world, title="Changed", revision=4)
    )

    # then
    for response in (page, post):
        assert response.status_code == 409
        assert (
            "Agreed terms are not edited PROC-SALES-CASTINGS is agreed: both sides agreed to "
            "version 1 of its terms. They change only through an amendment"
        ) in text(response)
        assert f'href="/contracts/{in_force.pk}/amendments/new/"' in response.content.decode()
    assert database_state() == before


def test_a_side_asking_to_edit_agreed_terms_is_offered_an_amendment(client, world, in_force):
    # given
    login(client, world, "consumer_lead")

    # when
    response = client.get(f"/contracts/{in_force.pk}/edit/")

    # then
    assert response.status_code == 409
    assert "Agreed terms are not edited" in text(response)
    assert f'href="/contracts/{in_force.pk}/amendments/new/"' in response.content.decode()


def test_the_pmo_deletes_a_draft(client, world):
    # given
    contract = draft(world)
    login(client, world, "pmo")

    # when
    response = client.post(f"/contracts/{contract.pk}/delete/", {"revision": 1})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/contracts/"
    assert not Contract.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE).count() == 1


def test_a_proposed_contract_is_not_deleted(client, world):
    # given
    contract = proposed(world)
    login(client, world, "pmo")
    before = database_state()

    # when
    response = client.post(f"/contracts/{contract.pk}/delete/", {"revision": 2})

    # then
    assert response.status_code == 409
    assert "only a draft can be deleted. Cancel it instead (with a reason)." in text(response)
    assert database_state() == before


# --- Lifecycle --------------------------------------------------------------------------------


def test_propose_then_both_sides_agree_and_version_1_is_written(client, world):
    # given
    contract = draft(world)

    # when
    login(client, world, "pmo")
    proposing = client.post(f"/contracts/{contract.pk}/propose/", {"propose-revision": 1})
    login(client, world, "provider_owner")
    provider = client.post(
        f"/contracts/{contract.pk}/agree/", {"agree-revision": 2, "agree-comment": "We can"}
    )
    login(client, world, "consumer_lead")
    consumer = client.post(f"/contracts/{contract.pk}/agree/", {"agree-revision": 3})

    # then
    assert [proposing.status_code, provider.status_code, consumer.status_code] == [302] * 3
    contract.refresh_from_db()
    assert contract.status == ContractStatus.AGREED
    assert (contract.provider_agreed_by, contract.consumer_agreed_by) == (
        world.provider_owner, world.consumer_lead,
    )  # fmt: skip
    assert list(ContractVersion.objects.values_list("number", flat=True)) == [1]
    followed = client.get(consumer["Location"])
    assert "You agreed to PROC-SALES-CASTINGS for your side." in text(followed)


def test_an_agreement_on_a_stale_revision_is_refused_and_shows_the_page_again(client, world):
    # given: the PMO changed the proposal after the consumer opened it at revision 2
    contract = proposed(world)
    services.contract_update(
        actor=world.pmo, contract=contract, data={"deliverable": "1,500 castings"}, revision=2
    )
    login(client, world, "consumer_owner")
    before = database_state()

    # when
    response = client.post(f"/contracts/{contract.pk}/agree/", {"agree-revision": 2})

    # then
    assert response.status_code == 409
    assert response.context["forms"]["agree"].non_field_errors() == [STALE]
    page = text(response)
    assert f"Agree for the consumer side {STALE}" in page
    assert "Deliverable 1,500 castings" in page  # the page shows what is stored now
    assert database_state() == before


def test_the_pmo_does_not_agree_for_a_side(client, world):
    # given
    contract = proposed(world)
    login(client, world, "pmo")
    before = database_state()

    # when
    response = client.post(f"/contracts/{contract.pk}/agree/", {"agree-revision": 2})

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_a_viewer_cannot_propose(client, world):
    # given
    contract = draft(world)
    login(client, world, "viewer")
    before = database_state()

    # when
    response = client.post(f"/contracts/{contract.pk}/propose/", {"propose-revision": 1})

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_an_outsider_gets_404_from_every_action(client, world, in_force, pending):
    # given
    login(client, world, "outsider")
    before = database_state()
    base = f"/contracts/{in_force.pk}"

    # when
    statuses = (
        [
            client.post(f"{base}/{action}/", {}).status_code
            for action in ("propose", "agree", "fulfil", "cancel", "delete", "edit")
        ]
        + [
            client.post(f"{base}/amendments/1/{action}/", {}).status_code
            for action in ("respond", "override", "withdraw")
        ]
        + [client.get(f"{base}/amendments/new/").status_code]
    )

    # then
    assert statuses == [404] * 10
    assert database_state() == before


def test_the_provider_side_declares_the_contract_fulfilled(client, world, in_force):
    # given
    login(client, world, "provider_lead")

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/fulfil/", {"fulfil-revision": 4, "fulfil-comment": "Done"}
    )

    # then
    assert response.status_code == 302
    in_force.refresh_from_db()
    assert in_force.status == ContractStatus.FULFILLED
    event = AuditEvent.objects.for_object(in_force).order_by("-pk").first()
    assert (event.action, event.reason) == (AuditAction.FULFIL, "Done")


def test_the_consumer_side_cannot_declare_it_fulfilled(client, world, in_force):
    # given
    login(client, world, "consumer_lead")
    before = database_state()

    # when
    response = client.post(f"/contracts/{in_force.pk}/fulfil/", {"fulfil-revision": 4})

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_cancelling_needs_a_reason(client, world, in_force):
    # given
    login(client, world, "pmo")
    before = database_state()

    # when
    page = client.get(f"/contracts/{in_force.pk}/cancel/")
    refused = client.post(f"/contracts/{in_force.pk}/cancel/", {"revision": 4, "reason": " "})
    done = client.post(
        f"/contracts/{in_force.pk}/cancel/", {"revision": 4, "reason": "The line closes"}
    )

    # then
    assert page.status_code == 200
    assert 'name="revision" value="4"' in page.content.decode()
    assert refused.status_code == 400
    assert refused.context["form"].errors["reason"] == ["This field is required."]
    assert done.status_code == 302
    in_force.refresh_from_db()
    assert in_force.status == ContractStatus.CANCELLED
    event = AuditEvent.objects.for_object(in_force).order_by("-pk").first()
    assert (event.action, event.reason) == (AuditAction.CANCEL, "The line closes")
    assert len(database_state()["AuditEvent"]) == len(before["AuditEvent"]) + 1


def test_only_the_pmo_cancels(client, world, in_force):
    # given
    login(client, world, "provider_lead")
    before = database_state()

    # when
    page = client.get(f"/contracts/{in_force.pk}/cancel/")
    post = client.post(f"/contracts/{in_force.pk}/cancel/", {"revision": 4, "reason": "Mine"})

    # then
    assert (page.status_code, post.status_code) == (403, 403)
    assert database_state() == before


# --- Amendments -------------------------------------------------------------------------------


def _amend_post(world, contract, **overrides) -> dict:
    data = _terms_post(world, revision=contract.revision, reason="The launch moved")
    data.update(overrides)
    return data


def test_the_amendment_form_starts_from_the_terms_in_force(client, world, in_force):
    # given
    login(client, world, "consumer_owner")

    # when
    response = client.get(f"/contracts/{in_force.pk}/amendments/new/")

    # then
    assert response.status_code == 200
    form = response.context["form"]
    assert form["due_date"].value() == dt.date(2026, 6, 30)
    assert form["title"].value() == "Castings for key accounts"
    assert form["consumer_kpis"].value() == [world.consumer_kpi.pk]
    assert form["revision"].value() == 4
    assert "The form shows version 1, the terms in force." in text(response)


def test_only_the_changed_terms_become_the_amendment(client, world, in_force):
    # given
    login(client, world, "consumer_owner")

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/new/",
        _amend_post(world, in_force, due_date="2026-09-30", criticality="5"),
    )

    # then
    assert response.status_code == 302
    amendment = Amendment.objects.get()
    assert response["Location"] == f"/contracts/{in_force.pk}/#amendment-1"
    assert amendment.changes == {"due_date": "2026-09-30", "criticality": 5}
    assert (amendment.reason, amendment.proposed_by) == ("The launch moved", world.consumer_owner)
    in_force.refresh_from_db()
    assert in_force.due_date == dt.date(2026, 6, 30)  # unchanged until both sides accept


def test_an_amendment_that_changes_nothing_or_has_no_reason_is_refused(client, world, in_force):
    # given
    login(client, world, "consumer_owner")
    before = database_state()

    # when
    unchanged = client.post(
        f"/contracts/{in_force.pk}/amendments/new/", _amend_post(world, in_force)
    )
    no_reason = client.post(
        f"/contracts/{in_force.pk}/amendments/new/",
        _amend_post(world, in_force, due_date="2026-09-30", reason=""),
    )

    # then
    assert unchanged.status_code == 400
    assert unchanged.context["form"].non_field_errors() == [
        "Change at least one term: the form shows the terms in force."
    ]
    assert no_reason.status_code == 400
    assert no_reason.context["form"].errors["reason"] == ["This field is required."]
    assert database_state() == before


def test_an_amendment_breaking_a_rule_is_refused_on_the_field(client, world, in_force):
    # given: the consumer owner may not be someone outside Sales
    login(client, world, "pmo")
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/new/",
        _amend_post(world, in_force, consumer_owner=world.provider_lead.pk),
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors["consumer_owner"] == [
        "Paul Lead is not a member of Sales; the consumer owner must be."
    ]
    assert database_state() == before


def test_an_amendment_on_a_stale_revision_is_refused(client, world, in_force):
    # given: the contract moved on (an amendment proposed and withdrawn bumps nothing, so the
    # PMO applies one by override) after the form was opened at revision 4
    other = amendment_services.amendment_propose(
        actor=world.pmo, contract=in_force, changes={"criticality": 5}, reason="More critical"
    )
    amendment_services.amendment_override(actor=world.pmo, amendment=other, reason="Board call")
    login(client, world, "consumer_owner")
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/new/",
        _amend_post(world, in_force, due_date="2026-09-30", revision=4),
    )

    # then
    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [STALE]
    assert database_state() == before


def test_a_second_amendment_waits_for_the_pending_one(client, world, in_force, pending):
    # given
    login(client, world, "provider_owner")

    # when
    response = client.get(f"/contracts/{in_force.pk}/amendments/new/")

    # then
    assert response.status_code == 409
    assert "already has a pending amendment (number 1, proposed by Cleo Lead)" in text(response)


def test_a_viewer_cannot_propose_an_amendment(client, world, in_force):
    # given
    login(client, world, "viewer")

    # when
    response = client.get(f"/contracts/{in_force.pk}/amendments/new/")

    # then
    assert response.status_code == 403


def test_both_sides_accept_and_version_2_is_in_force(client, world, in_force, pending):
    # given
    url = f"/contracts/{in_force.pk}/amendments/1/respond/"

    # when
    login(client, world, "provider_owner")
    first = client.post(url, {"respond-revision": 4, "respond-decision": "accept"})
    login(client, world, "consumer_owner")
    second = client.post(
        url, {"respond-revision": 4, "respond-decision": "accept", "respond-comment": "Fine"}
    )

    # then
    assert (first.status_code, second.status_code) == (302, 302)
    pending.refresh_from_db()
    in_force.refresh_from_db()
    assert pending.status == AmendmentStatus.ACCEPTED
    assert (pending.consumer_comment, in_force.version_number) == ("Fine", 2)
    assert in_force.due_date == dt.date(2026, 9, 30)
    followed = text(client.get(second["Location"]))
    assert "Both sides accepted amendment 1: version 2 is in force." in followed


def test_rejecting_needs_a_comment(client, world, in_force, pending):
    # given
    login(client, world, "provider_lead")
    url = f"/contracts/{in_force.pk}/amendments/1/respond/"
    before = database_state()

    # when
    refused = client.post(url, {"respond-revision": 4, "respond-decision": "reject"})

    # then
    assert refused.status_code == 400
    assert refused.context["forms"]["respond"].errors["comment"] == [
        "Say why you reject it; the comment goes to the other side and the history."
    ]
    assert database_state() == before


def test_a_rejection_leaves_version_1(client, world, in_force, pending):
    # given
    login(client, world, "provider_lead")

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/1/respond/",
        {"respond-revision": 4, "respond-decision": "reject", "respond-comment": "Too late"},
    )

    # then
    assert response.status_code == 302
    pending.refresh_from_db()
    in_force.refresh_from_db()
    assert (pending.status, pending.provider_comment) == (AmendmentStatus.REJECTED, "Too late")
    assert (in_force.version_number, in_force.due_date) == (1, dt.date(2026, 6, 30))


def test_a_viewer_cannot_answer_for_a_side(client, world, in_force, pending):
    # given
    login(client, world, "viewer")
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/1/respond/",
        {"respond-revision": 4, "respond-decision": "accept"},
    )

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_the_pmo_override_needs_a_reason_and_is_recorded_as_such(client, world, in_force, pending):
    # given
    login(client, world, "pmo")
    url = f"/contracts/{in_force.pk}/amendments/1/override/"
    before = database_state()

    # when
    refused = client.post(url, {"override-revision": 4, "override-reason": ""})
    unchanged = database_state()
    done = client.post(url, {"override-revision": 4, "override-reason": "Board decision"})

    # then
    assert refused.status_code == 400
    assert refused.context["forms"]["override"].errors["reason"] == ["This field is required."]
    assert unchanged == before
    assert done.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.override_reason) == (
        AmendmentStatus.OVERRIDDEN, "Board decision",
    )  # fmt: skip
    version = ContractVersion.objects.get(number=2)
    assert version.reason.startswith("PMO override by Pam Officer: Board decision")


def test_a_side_cannot_override(client, world, in_force, pending):
    # given
    login(client, world, "consumer_lead")
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/1/override/",
        {"override-revision": 4, "override-reason": "Me"},
    )

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_the_proposer_withdraws_the_amendment(client, world, in_force, pending):
    # given
    login(client, world, "consumer_lead")

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/1/withdraw/",
        {"withdraw-revision": 4, "withdraw-reason": "Launch back on track"},
    )

    # then
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == AmendmentStatus.WITHDRAWN
    event = AuditEvent.objects.for_object(pending).order_by("-pk").first()
    assert (event.action, event.reason) == (AuditAction.WITHDRAW, "Launch back on track")


def test_someone_else_cannot_withdraw_it(client, world, in_force, pending):
    # given
    login(client, world, "provider_lead")
    before = database_state()

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/1/withdraw/", {"withdraw-revision": 4}
    )

    # then
    assert response.status_code == 403
    assert database_state() == before


def test_an_answer_to_an_amendment_that_does_not_exist_is_404(client, world, in_force):
    # given
    login(client, world, "provider_lead")

    # when
    response = client.post(
        f"/contracts/{in_force.pk}/amendments/7/respond/",
        {"respond-revision": 4, "respond-decision": "accept"},
    )

    # then
    assert response.status_code == 404


def test_action_urls_refuse_get(client, world, in_force):
    # given
    login(client, world, "pmo")

    # when
    response = client.get(f"/contracts/{in_force.pk}/fulfil/")

    # then
    assert response.status_code == 405
