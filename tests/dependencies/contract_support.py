"""A contracts world shared by the contract service and API tests: Procurement supplies Sales,
with an owner and a lead on each side, the roles of the permission matrix, a current plan, and
the milestones, initiatives and KPIs a contract links on each side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dependencies.models import Contract
from dependencies.services import contracts as services
from govern.choices import Role
from govern.models import Department, Initiative, Milestone, Person, PlanVersion
from kpis.models import Kpi
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    KpiFactory,
    MilestoneFactory,
    approved_plan_version,
    person_with_role,
)


@dataclass
class World:
    provider: Department
    consumer: Department
    pmo: Person
    executive: Person
    provider_lead: Person
    provider_owner: Person
    consumer_lead: Person
    consumer_owner: Person
    viewer: Person  # a viewer in the consumer department
    outsider: Person  # a lead of a third department, party to nothing
    plan: PlanVersion
    provider_initiative: Initiative
    provider_milestone: Milestone
    consumer_initiative: Initiative
    consumer_milestone: Milestone
    service_kpi: Kpi
    consumer_kpi: Kpi
    other_consumer_kpi: Kpi

    def role(self, name: str) -> Person:
        return getattr(self, name)


def build_world() -> World:
    provider = DepartmentFactory(code="PROC", name="Procurement")
    consumer = DepartmentFactory(code="SALES", name="Sales")
    third = DepartmentFactory(code="HR", name="HR")
    provider_owner = person_with_role(
        Role.CONTRIBUTOR, provider, username="pia", first_name="Pia", last_name="Provider"
    )
    consumer_owner = person_with_role(
        Role.CONTRIBUTOR, consumer, username="carl", first_name="Carl", last_name="Consumer"
    )
    provider_initiative = InitiativeFactory(name="Supplier programme", department=provider)
    consumer_initiative = InitiativeFactory(name="Key accounts", department=consumer)
    return World(
        provider=provider,
        consumer=consumer,
        pmo=person_with_role(
            Role.PMO,
            DepartmentFactory(code="PMO", name="PMO"),
            username="pmo",
            first_name="Pam",
            last_name="Officer",
        ),
        executive=person_with_role(
            Role.EXECUTIVE, DepartmentFactory(code="EXEC", name="Executive"), username="exec"
        ),
        provider_lead=person_with_role(
            Role.DEPARTMENT_LEAD, provider, username="plead", first_name="Paul", last_name="Lead"
        ),
        provider_owner=provider_owner,
        consumer_lead=person_with_role(
            Role.DEPARTMENT_LEAD, consumer, username="clead", first_name="Cleo", last_name="Lead"
        ),
        consumer_owner=consumer_owner,
        viewer=person_with_role(Role.VIEWER, consumer, username="viewer"),
        outsider=person_with_role(Role.DEPARTMENT_LEAD, third, username="outsider"),
        plan=approved_plan_version(),
        provider_initiative=provider_initiative,
        provider_milestone=MilestoneFactory(
            initiative=provider_initiative, name="Second supplier qualified"
        ),
        consumer_initiative=consumer_initiative,
        consumer_milestone=MilestoneFactory(
            initiative=consumer_initiative, name="Pilot accounts live"
        ),
        service_kpi=KpiFactory(code="PROC-OTD", name="Supplier on-time", department=provider),
        consumer_kpi=KpiFactory(code="SALES-FILL", name="Order fill rate", department=consumer),
        other_consumer_kpi=KpiFactory(code="SALES-NPS", name="Customer NPS", department=consumer),
    )


def terms_for(world: World, **overrides) -> dict:
    """A valid set of terms: a one-off delivery by 30 Jun 2026 linked on both sides."""
    return {
        "code": "PROC-SALES-CASTINGS",
        "title": "Castings for key accounts",
        "provider_department": world.provider,
        "provider_owner": world.provider_owner,
        "consumer_department": world.consumer,
        "consumer_owner": world.consumer_owner,
        "deliverable": "2,000 castings a week",
        "acceptance_criteria": "First-pass quality at least 98%",
        "due_date": dt.date(2026, 6, 30),
        "criticality": 4,
        "provider_milestones": [world.provider_milestone],
        "provider_initiatives": [world.provider_initiative],
        "consumer_initiatives": [world.consumer_initiative],
        "consumer_milestones": [world.consumer_milestone],
        "consumer_kpis": [world.consumer_kpi],
        **overrides,
    }


def draft(world: World, **overrides) -> Contract:
    return services.contract_create(actor=world.pmo, data=terms_for(world, **overrides))


def proposed(world: World, **overrides) -> Contract:
    contract = draft(world, **overrides)
    return services.contract_propose(actor=world.pmo, contract=contract)


def agreed(world: World, **overrides) -> Contract:
    """A contract both sides agreed to: version 1, revision 4."""
    contract = proposed(world, **overrides)
    contract = services.contract_agree(actor=world.provider_owner, contract=contract)
    return services.contract_agree(actor=world.consumer_owner, contract=contract)
