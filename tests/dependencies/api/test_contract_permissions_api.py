"""The contracts' rows of the permission matrix at the HTTP boundary, for every role: 404 where
the user may not see the contract, 403 where they see it but may not act, and a refused write
writes nothing (no change, no audit event)."""

import pytest

from dependencies.services import amendments
from govern.models import AuditEvent
from tests.dependencies.contract_support import agreed, build_world, draft, proposed

API = "/api/v1/contracts/"
ROLES = [
    "pmo", "executive", "provider_lead", "provider_owner", "consumer_lead", "consumer_owner",
    "viewer", "outsider",
]  # fmt: skip


@pytest.fixture
def world(db):
    return build_world()


def _matrix(**overrides) -> list[tuple[str, int]]:
    """Every role with its expected status: 403 unless overridden; the outsider 404."""
    return [(role, overrides.get(role, 404 if role == "outsider" else 403)) for role in ROLES]


def _call(api_client, world, role, method, url, body=None):
    api_client.force_authenticate(world.role(role))
    before = AuditEvent.objects.count()
    response = getattr(api_client, method)(url, body or {}, format="json")
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before, response.json()
    return response


@pytest.mark.parametrize(("role", "expected"), _matrix(**dict.fromkeys(ROLES[:-1], 200)))
def test_who_sees_a_contract(api_client, world, role, expected):
    # given
    contract = draft(world)

    # when
    one = _call(api_client, world, role, "get", f"{API}{contract.pk}/")
    versions = _call(api_client, world, role, "get", f"{API}{contract.pk}/versions/")
    listed = _call(api_client, world, role, "get", API)

    # then
    assert one.status_code == expected
    assert versions.status_code == expected
    assert listed.json()["count"] == (1 if expected == 200 else 0)


@pytest.mark.parametrize(("role", "expected"), _matrix(pmo=201, outsider=403))
def test_who_drafts_a_contract(api_client, world, role, expected):
    # given
    body = {
        "code": "NEW-ONE", "title": "New", "provider_department": world.provider.pk,
        "provider_owner": world.provider_owner.pk, "consumer_department": world.consumer.pk,
        "consumer_owner": world.consumer_owner.pk, "deliverable": "Things",
        "due_date": "2026-06-30",
    }  # fmt: skip

    # when
    response = _call(api_client, world, role, "post", API, body)

    # then: nobody but the PMO may create one, wherever they belong
    assert response.status_code == expected


@pytest.mark.parametrize(("role", "expected"), _matrix(pmo=200))
def test_who_edits_a_draft(api_client, world, role, expected):
    # given
    contract = draft(world)

    # when
    response = _call(api_client, world, role, "patch", f"{API}{contract.pk}/", {"title": "X"})

    # then
    assert response.status_code == expected
    contract.refresh_from_db()
    assert contract.title == ("X" if expected == 200 else "Castings for key accounts")


@pytest.mark.parametrize(("role", "expected"), _matrix(pmo=204))
def test_who_deletes_a_draft(api_client, world, role, expected):
    # given
    contract = draft(world)

    # when
    response = _call(api_client, world, role, "delete", f"{API}{contract.pk}/")

    # then
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    _matrix(pmo=200, provider_lead=200, provider_owner=200, consumer_lead=200, consumer_owner=200),
)
def test_who_proposes_a_draft(api_client, world, role, expected):
    # given
    contract = draft(world)

    # when
    response = _call(api_client, world, role, "post", f"{API}{contract.pk}/propose/")

    # then
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    _matrix(provider_lead=200, provider_owner=200, consumer_lead=200, consumer_owner=200),
)
def test_who_agrees_for_a_side(api_client, world, role, expected):
    # given
    contract = proposed(world)

    # when
    response = _call(api_client, world, role, "post", f"{API}{contract.pk}/agree/")

    # then: the PMO passes the gate but speaks for no side
    assert response.status_code == expected
    contract.refresh_from_db()
    agreed_sides = [contract.provider_agreed_by_id, contract.consumer_agreed_by_id]
    assert agreed_sides.count(None) == (1 if expected == 200 else 2)


@pytest.mark.parametrize(
    ("role", "expected"), _matrix(pmo=200, provider_lead=200, provider_owner=200)
)
def test_who_fulfils(api_client, world, role, expected):
    # given
    contract = agreed(world)

    # when
    response = _call(api_client, world, role, "post", f"{API}{contract.pk}/fulfil/")

    # then
    assert response.status_code == expected


@pytest.mark.parametrize(("role", "expected"), _matrix(pmo=200))
def test_who_cancels(api_client, world, role, expected):
    # given
    contract = agreed(world)

    # when
    response = _call(
        api_client, world, role, "post", f"{API}{contract.pk}/cancel/", {"reason": "Stop"}
    )

    # then
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    _matrix(pmo=201, provider_lead=201, provider_owner=201, consumer_lead=201, consumer_owner=201),
)
def test_who_proposes_an_amendment(api_client, world, role, expected):
    # given
    contract = agreed(world)

    # when
    response = _call(
        api_client,
        world,
        role,
        "post",
        f"{API}{contract.pk}/amendments/",
        {"changes": {"criticality": 5}, "reason": "More critical"},
    )

    # then
    assert response.status_code == expected
    assert contract.amendments.count() == (1 if expected == 201 else 0)


@pytest.fixture
def pending(world):
    contract = agreed(world)
    return amendments.amendment_propose(
        actor=world.consumer_lead, contract=contract, changes={"criticality": 5}, reason="Key"
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    _matrix(provider_lead=200, provider_owner=200, consumer_lead=200, consumer_owner=200),
)
def test_who_accepts_an_amendment(api_client, world, pending, role, expected):
    # when
    response = _call(
        api_client,
        world,
        role,
        "post",
        f"{API}{pending.contract_id}/amendments/{pending.number}/accept/",
    )

    # then
    assert response.status_code == expected


@pytest.mark.parametrize(("role", "expected"), _matrix(pmo=200))
def test_who_overrides_an_amendment(api_client, world, pending, role, expected):
    # when
    response = _call(
        api_client,
        world,
        role,
        "post",
        f"{API}{pending.contract_id}/amendments/{pending.number}/override/",
        {"reason": "Board"},
    )

    # then
    assert response.status_code == expected
    pending.refresh_from_db()
    assert pending.status == ("overridden" if expected == 200 else "pending")


@pytest.mark.parametrize(("role", "expected"), _matrix(pmo=200, consumer_lead=200))
def test_who_withdraws_an_amendment(api_client, world, pending, role, expected):
    # when
    response = _call(
        api_client,
        world,
        role,
        "post",
        f"{API}{pending.contract_id}/amendments/{pending.number}/withdraw/",
    )

    # then: the PMO and the proposer
    assert response.status_code == expected


def test_anonymous_requests_are_refused(api_client, world):
    # given
    contract = draft(world)

    # when
    response = api_client.get(f"{API}{contract.pk}/")

    # then
    assert response.status_code == 401
