"""The contract pages' world: Procurement provides to Sales (`tests.dependencies.contract_support`),
with every role of the permission matrix, and contracts in each state built through the services."""

import pytest

from dependencies.services import amendments as amendment_services
from tests.dependencies.contract_support import agreed, build_world

# Who sees a contract between Procurement (provider) and Sales (consumer), and who does not.
ROLES = (
    "pmo", "executive", "provider_lead", "consumer_lead", "provider_owner", "consumer_owner",
    "viewer", "outsider",
)  # fmt: skip


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def in_force(world):
    """Agreed by both sides: version 1 in force, revision 4."""
    return agreed(world)


@pytest.fixture
def pending(world, in_force):
    """An amendment to the agreed contract proposed by the consumer lead: a later due date."""
    import datetime as dt

    return amendment_services.amendment_propose(
        actor=world.consumer_lead,
        contract=in_force,
        changes={"due_date": dt.date(2026, 9, 30)},
        reason="The launch moved to the autumn",
    )


def login(client, world, role: str):
    client.force_login(world.role(role))
    return client


def more_contracts(world, n: int, *, start: int = 0, status: str = "agreed"):
    """`n` more contracts from Procurement to Sales with every link set, written directly."""
    from tests.factories import ContractFactory

    made = []
    for i in range(start, start + n):
        contract = ContractFactory(
            code=f"BULK-{i:03d}",
            title=f"Bulk contract {i}",
            provider_department=world.provider,
            provider_owner=world.provider_owner,
            consumer_department=world.consumer,
            consumer_owner=world.consumer_owner,
            status=status,
            plan_version=world.plan,
        )
        contract.provider_milestones.set([world.provider_milestone])
        contract.provider_initiatives.set([world.provider_initiative])
        contract.consumer_initiatives.set([world.consumer_initiative])
        contract.consumer_milestones.set([world.consumer_milestone])
        contract.consumer_kpis.set([world.consumer_kpi])
        made.append(contract)
    return made


def database_state() -> dict[str, list[dict]]:
    """Every contract row, link, version, amendment and audit event: to prove a refused request
    wrote nothing at all."""
    from dependencies.models import Amendment, Contract, ContractVersion
    from govern.models import AuditEvent, Notification

    models = [Contract, ContractVersion, Amendment, AuditEvent, Notification]
    models += [getattr(Contract, name).through for name in Contract.TERM_M2M_FIELDS]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
