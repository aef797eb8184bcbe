"""Contract health end to end on PostgreSQL + Redis + a live worker: measurements posted through
the API turn the service-level KPI red, and with no manual step the contract becomes at risk,
its exception appears (visible to the consumer side) with the ripple reaching the consumer
department; a second red period breaches it. See tests/support.py for when this skips."""

import datetime as dt

import pytest

from dependencies.models import Contract
from govern.choices import PlanVersionStatus, Role
from govern.models import PlanVersion
from kpis.choices import Direction, Frequency
from kpis.models import Kpi, KpiException, Target
from tests.factories import (
    ContractFactory,
    InitiativeFactory,
    ObjectiveFactory,
    person_with_role,
)
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JUL, AUG = dt.date(2026, 7, 1), dt.date(2026, 8, 1)  # past months: due, with a plan


@pytest.fixture
def castings(department, other_department, lead):
    """Procurement supplies castings to Sales at on-time delivery ≥ 95 %, measured by PROC-OTD;
    a Sales initiative serving a weight-5 objective depends on it."""
    plan = PlanVersion.objects.create(
        name="FY26 baseline",
        status=PlanVersionStatus.APPROVED,
        approved_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
    )
    buyer = person_with_role(Role.CONTRIBUTOR, other_department, username="buyer")
    planner = person_with_role(Role.CONTRIBUTOR, department, username="planner")
    kpi = Kpi.objects.create(
        code="PROC-OTD", name="Supplier on-time delivery", department=other_department,
        owner=buyer, unit="percent", direction=Direction.HIGHER_IS_BETTER,
        frequency=Frequency.MONTHLY, criticality=4, amber_threshold=5, red_threshold=10,
    )  # fmt: skip
    Target.objects.create(kpi=kpi, plan_version=plan, period=JUL, value=95.0)
    contract = ContractFactory(
        code="PROC-SALES-CASTINGS", title="Castings supply", provider_department=other_department,
        provider_owner=buyer, consumer_department=department, consumer_owner=planner,
        due_date=None, service_kpi=kpi, service_comparison="gte", service_threshold=95.0,
        criticality=4, plan_version=plan, status="agreed", version_number=1,
    )  # fmt: skip
    objective = ObjectiveFactory(department=department, weight=5)
    contract.consumer_initiatives.add(
        InitiativeFactory(department=department, owner=planner, objectives=[objective])
    )
    return contract


def listed(api_client, kind: str) -> list[dict]:
    response = api_client.get("/api/v1/exceptions/", {"kind": kind, "status": "open"})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_red_service_kpi_puts_the_contract_at_risk_then_breaches_it(
    live_worker, api_client, castings, lead
):
    # given
    buyer = castings.provider_owner

    # when: July's on-time delivery is 80 against a plan of 95 (15.8 % adverse: red)
    api_client.force_authenticate(buyer)
    posted = api_client.post(
        "/api/v1/measurements/", [{"kpi": "PROC-OTD", "period": "2026-07-01", "value": 80}],
        format="json",
    )  # fmt: skip

    # then: the worker recomputes the KPI and the contract is at risk, with no manual step
    assert posted.status_code == 200, posted.content
    api_client.force_authenticate(lead)  # the consumer department's lead

    def at_risk_with_ripple() -> bool:
        rows = listed(api_client, "contract_at_risk")
        return (
            len(rows) == 1
            and KpiException.objects.filter(pk=rows[0]["id"], reach_departments__gte=1).exists()
        )

    assert wait_for(at_risk_with_ripple, timeout=60), "no contract_at_risk exception with a ripple"
    contract = Contract.objects.get(pk=castings.pk)
    assert contract.status == "at_risk"
    assert contract.health_reason == "Service level: PROC-OTD is red (needs ≥ 95; latest 80.0)"
    row = listed(api_client, "contract_at_risk")[0]
    assert row["subject_key"] == f"contract:{castings.pk}"
    assert row["detail"] == contract.health_reason
    assert row["department"] == castings.provider_department_id
    assert row["owner"] == buyer.pk
    exception = KpiException.objects.get(pk=row["id"])
    assert exception.tradeoff_required is True
    assert exception.reach_departments >= 1

    # when: August is planned and red too, the second red period in a row
    Target.objects.create(
        kpi=castings.service_kpi, plan_version=castings.plan_version, period=AUG, value=95.0
    )
    api_client.force_authenticate(buyer)
    posted = api_client.post(
        "/api/v1/measurements/", [{"kpi": "PROC-OTD", "period": "2026-08-01", "value": 82}],
        format="json",
    )  # fmt: skip

    # then: breached, and the at-risk exception is superseded
    assert posted.status_code == 200, posted.content
    api_client.force_authenticate(lead)
    assert wait_for(lambda: len(listed(api_client, "contract_breached")) == 1, timeout=60), (
        "no contract_breached exception appeared"
    )
    contract.refresh_from_db()
    assert (contract.status, contract.red_streak) == ("breached", 2)
    assert contract.health_reason == (
        "Service level: PROC-OTD is red for 2 periods in a row (needs ≥ 95; latest 82.0)"
    )
    assert listed(api_client, "contract_at_risk") == []
    assert KpiException.objects.get(pk=exception.pk).status == "resolved"
