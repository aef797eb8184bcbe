"""The contracts' admin: writes are audited like the services' and bump the revision; a stale save
is refused; the terms of a contract in force, its versions and its amendments are read-only."""

from html.parser import HTMLParser

import pytest

from dependencies.admin import STALE
from dependencies.models import Amendment, Contract, ContractVersion
from dependencies.services import amendments as amendment_services
from dependencies.services import contracts as services
from govern.choices import AuditAction
from govern.models import AuditEvent
from tests.dependencies.contract_support import agreed, build_world, draft
from tests.dependencies.pages.conftest import database_state
from tests.factories import PersonFactory


class _Form(HTMLParser):
    """The values the admin's change form would submit as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self.select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea][0] += data


def _form(response, **changes) -> dict:
    parser = _Form()
    parser.feed(response.content.decode())
    data = {name: values for name, values in parser.data.items() if name != "csrfmiddlewaretoken"}
    data.update({name: [value] for name, value in changes.items()})
    return data


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def admin_client(client, world):
    client.force_login(PersonFactory(is_staff=True, is_superuser=True, username="root"))
    return client


def _url(contract, action="change") -> str:
    return f"/admin/dependencies/contract/{contract.pk}/{action}/"


def test_a_draft_changed_in_the_admin_is_audited_and_bumps_the_revision(admin_client, world):
    # given
    contract = draft(world)
    page = admin_client.get(_url(contract))

    # when
    response = admin_client.post(_url(contract), _form(page, title="Castings, revised"))

    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    contract.refresh_from_db()
    assert (contract.title, contract.revision) == ("Castings, revised", 2)
    event = AuditEvent.objects.for_object(contract).order_by("-pk").first()
    assert (event.action, event.actor.username) == (AuditAction.UPDATE, "root")
    assert event.changes == {
        "title": {"old": "Castings for key accounts", "new": "Castings, revised"}
    }
    assert event.reason == "Changed in the admin"


def test_a_stale_admin_save_is_refused_and_changes_nothing(admin_client, world):
    # given: the form is opened at revision 1, then the PMO edits the draft
    contract = draft(world)
    page = admin_client.get(_url(contract))
    services.contract_update(actor=world.pmo, contract=contract, data={"criticality": 5})
    before = database_state()

    # when
    response = admin_client.post(_url(contract), _form(page, title="Mine"))

    # then
    assert response.status_code == 200
    assert STALE in response.content.decode()
    assert database_state() == before


def test_the_terms_of_a_contract_in_force_are_read_only(admin_client, world):
    # given
    contract = agreed(world)
    page = admin_client.get(_url(contract))
    before = database_state()
    data = _form(page, title="Changed behind both sides' backs", status="draft")

    # when
    response = admin_client.post(_url(contract), data)

    # then
    assert 'name="title"' not in page.content.decode()
    assert response.status_code == 302
    after = database_state()
    assert [c["title"] for c in after["Contract"]] == ["Castings for key accounts"]
    assert [c["status"] for c in after["Contract"]] == ["agreed"]
    assert after["ContractVersion"] == before["ContractVersion"]


def test_the_status_of_a_draft_is_not_set_in_the_admin(admin_client, world):
    # given
    contract = draft(world)
    page = admin_client.get(_url(contract))

    # when
    admin_client.post(_url(contract), _form(page, status="agreed"))

    # then
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_a_contract_added_in_the_admin_is_audited_with_its_author(admin_client, world):
    # given
    page = admin_client.get("/admin/dependencies/contract/add/")
    data = _form(
        page,
        code="PROC-SALES-PALLETS",
        title="Pallets",
        provider_department=str(world.provider.pk),
        provider_owner=str(world.provider_owner.pk),
        consumer_department=str(world.consumer.pk),
        consumer_owner=str(world.consumer_owner.pk),
        deliverable="Pallets",
        due_date="2026-07-31",
        criticality="2",
        plan_version=str(world.plan.pk),
    )

    # when
    response = admin_client.post("/admin/dependencies/contract/add/", data)

    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    contract = Contract.objects.get()
    assert (contract.status, contract.created_by.username) == ("draft", "root")
    event = AuditEvent.objects.for_object(contract).get()
    assert event.action == AuditAction.CREATE
    assert event.changes["code"] == {"old": None, "new": "PROC-SALES-PALLETS"}


def test_a_draft_is_deleted_with_an_audit_event_and_an_agreed_one_is_not(admin_client, world):
    # given
    doomed = draft(world, code="PROC-SALES-DOOMED")
    kept = agreed(world)

    # when
    deleted = admin_client.post(_url(doomed, "delete"), {"post": "yes"})
    refused = admin_client.post(_url(kept, "delete"), {"post": "yes"})

    # then
    assert deleted.status_code == 302
    assert refused.status_code == 403
    assert list(Contract.objects.values_list("code", flat=True)) == ["PROC-SALES-CASTINGS"]
    event = AuditEvent.objects.get(action=AuditAction.DELETE)
    assert event.subject_name == "PROC-SALES-DOOMED — Castings for key accounts"


def test_versions_and_amendments_are_shown_but_never_written(admin_client, world):
    # given
    contract = agreed(world)
    amendment = amendment_services.amendment_propose(
        actor=world.pmo, contract=contract, changes={"criticality": 5}, reason="More critical"
    )
    version = ContractVersion.objects.get()
    before = database_state()

    # when
    inline = admin_client.get(_url(contract))
    responses = [
        admin_client.get("/admin/dependencies/contractversion/add/"),
        admin_client.post(
            f"/admin/dependencies/contractversion/{version.pk}/change/", {"reason": "tampered"}
        ),
        admin_client.post(
            f"/admin/dependencies/contractversion/{version.pk}/delete/", {"post": "yes"}
        ),
        admin_client.get("/admin/dependencies/amendment/add/"),
        admin_client.post(
            f"/admin/dependencies/amendment/{amendment.pk}/change/", {"reason": "tampered"}
        ),
        admin_client.post(f"/admin/dependencies/amendment/{amendment.pk}/delete/", {"post": "yes"}),
    ]

    # then
    assert [r.status_code for r in responses] == [403] * 6
    assert database_state() == before
    html = inline.content.decode()
    assert "More critical" in html
    assert 'name="versions-0-reason"' not in html
    assert Amendment.objects.get().reason == "More critical"


def test_the_list_filters_and_searches(admin_client, world):
    # given
    agreed(world)
    draft(world, code="PROC-SALES-PALLETS", title="Pallets")

    # when
    found = admin_client.get("/admin/dependencies/contract/?q=pallets")
    filtered = admin_client.get("/admin/dependencies/contract/?status__exact=agreed")

    # then
    assert found.status_code == filtered.status_code == 200
    assert "PROC-SALES-PALLETS" in found.content.decode()
    assert "PROC-SALES-CASTINGS" not in found.content.decode()
    assert "PROC-SALES-CASTINGS" in filtered.content.decode()
    assert "PROC-SALES-PALLETS" not in filtered.content.decode()
