"""The KPI engine end to end on PostgreSQL + Redis + a live worker: a posted measurement turns a
KPI red and the exception appears through the API with no manual step; posting it again changes
nothing. See tests/support.py for when this skips."""

import datetime as dt

import pytest

from govern.celery import app as celery_app
from govern.choices import PlanVersionStatus, Role
from govern.models import PlanVersion
from kpis.choices import Direction, Frequency, Status
from kpis.models import Kpi, KpiException, KpiResult, Target
from tests.factories import person_with_role
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PERIOD = dt.date(2026, 9, 1)  # a past month: due, with a plan


@pytest.fixture
def supplier_otd(department):
    plan = PlanVersion.objects.create(
        name="FY26 baseline",
        status=PlanVersionStatus.APPROVED,
        approved_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
    )
    owner = person_with_role(Role.CONTRIBUTOR, department, username="buyer")
    kpi = Kpi.objects.create(
        code="PROC-OTD", name="Supplier on-time delivery", department=department, owner=owner,
        unit="percent", direction=Direction.HIGHER_IS_BETTER, frequency=Frequency.MONTHLY,
        criticality=4, amber_threshold=5, red_threshold=10,
    )  # fmt: skip
    Target.objects.create(kpi=kpi, plan_version=plan, period=PERIOD, value=95.0)
    return kpi


def test_a_posted_measurement_turns_the_kpi_red_and_raises_an_exception(
    live_worker, api_client, supplier_otd
):
    # given
    api_client.force_authenticate(supplier_otd.owner)
    row = [{"kpi": "PROC-OTD", "period": "2026-09-01", "value": 80}]

    # when: 80 against a plan of 95 is 15.8% adverse, beyond the 10% red line
    response = api_client.post("/api/v1/measurements/", row, format="json")

    # then: the worker computes it and the exception shows in the API
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}

    def red_exception_listed() -> bool:
        listed = api_client.get("/api/v1/exceptions/", {"kind": "kpi_red"}).json()
        return listed["count"] == 1

    assert wait_for(red_exception_listed), "no red exception appeared"
    exception = api_client.get("/api/v1/exceptions/", {"kind": "kpi_red"}).json()["results"][0]
    assert exception["status"] == "open"
    supplier_otd.refresh_from_db()
    assert supplier_otd.status == Status.RED
    result = KpiResult.objects.get(kpi=supplier_otd, period=PERIOD)
    assert (result.plan, result.actual, result.status) == (95.0, 80.0, Status.RED)

    # when: the same value is posted again, once the worker has also taken the follow-up work
    # the recompute queued (contract health, ripple), so the queue holds only what the post sends
    redis_client = celery_app.connection_for_write().default_channel.client
    assert wait_for(lambda: redis_client.llen(live_worker) == 0), "the worker left work queued"
    again = api_client.post("/api/v1/measurements/", row, format="json")

    # then: nothing changes and nothing is queued
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 1}
    assert redis_client.llen(live_worker) == 0
    assert KpiException.objects.count() == 1
