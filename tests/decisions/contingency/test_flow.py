"""A contingency plan end to end at the HTTP boundary: actuals posted to /api/v1/measurements/ are
recomputed (the task runs in-process when the post commits), the engine sees the trigger and the
plan proposes exactly one decision, answering the KPI's exception, and tells its owner. A further
bad month or a second recompute adds nothing, a new exception in the same run neither; after the
decision is taken and the KPI is back to green, a new run proposes again."""

import pytest
from django.utils import timezone

from decisions.models import Decision
from govern.models import Notification
from kpis.models import KpiException
from kpis.periods import period_start, shift
from kpis.services.recompute import kpi_recompute
from tests.decisions.contingency.support import defined
from tests.factories import TargetFactory

TRIGGERED = "Contingency plan triggered: Early promotion (SALES-INTAKE)"


def _month(back: int):
    """The first day of the month `back` months before this one."""
    return shift(period_start(timezone.localdate(), "monthly"), "monthly", -back)


@pytest.fixture
def armed(world):
    """SALES-INTAKE (amber beyond 5%, red beyond 10%) with no exception yet, and the plan: ≥ 8%
    under plan for 2 months."""
    world.exception.delete()
    return defined(world)


def _post(api_client, captured, world, back: int, value: float):
    """Month by month, as time passes: its target of 100 is set, then its actual is posted (a
    month with a target and no actual would be missing, which breaks a run)."""
    TargetFactory(kpi=world.kpi, period=_month(back), value=100.0)
    api_client.force_authenticate(world.contributor)
    row = [{"kpi": "SALES-INTAKE", "period": _month(back).isoformat(), "value": value}]
    with captured(execute=True):
        response = api_client.post("/api/v1/measurements/", row, format="json")
    assert response.status_code == 200, response.content


def _proposals(api_client, world, plan) -> list[dict]:
    api_client.force_authenticate(world.lead)
    response = api_client.get(f"/api/v1/contingency-plans/{plan.pk}/proposals/")
    assert response.status_code == 200
    return response.json()["results"]


def _open(kind: str) -> KpiException:
    return KpiException.objects.exclude(status="resolved").get(kind=kind)


def test_the_plan_proposes_once_per_run_and_again_after_its_decision(
    api_client, django_capture_on_commit_callbacks, world, armed
):
    # given: on plan, then 9% under (amber)
    _post(api_client, django_capture_on_commit_callbacks, world, 11, 97)
    _post(api_client, django_capture_on_commit_callbacks, world, 10, 91)
    assert _proposals(api_client, world, armed) == []

    # when: a second month under, 11% (red)
    _post(api_client, django_capture_on_commit_callbacks, world, 9, 89)

    # then: one proposed decision answering the red exception, its owner notified
    [proposal] = _proposals(api_client, world, armed)
    red = _open("kpi_red")
    assert (proposal["status"], proposal["exception"], proposal["proposed_by"]) == (
        "proposed", red.pk, world.contributor.pk,
    )  # fmt: skip
    assert proposal["chosen_option"] == armed.response
    assert [line["amount"] for line in proposal["reallocations"]] == ["5000.00"]
    owner_notices = Notification.objects.filter(recipient=world.contributor, title=TRIGGERED)
    assert owner_notices.count() == 1

    # when: a further bad month, and the recompute run again
    _post(api_client, django_capture_on_commit_callbacks, world, 8, 88)
    kpi_recompute(kpi_ids=[world.kpi.pk])

    # then: nothing more
    assert len(_proposals(api_client, world, armed)) == 1

    # when: the lead takes the decision; the next month improves to amber (10%), which opens a
    # new (amber) exception but is still 8% under plan: the same run
    api_client.force_authenticate(world.lead)
    decided = api_client.post(f"/api/v1/decisions/{proposal['id']}/decide/", {}, format="json")
    assert decided.status_code == 200
    _post(api_client, django_capture_on_commit_callbacks, world, 7, 90)

    # then: still one
    amber = _open("kpi_amber")
    assert [p["status"] for p in _proposals(api_client, world, armed)] == ["decided"]

    # when: two months on plan resolve it, then a new run of two months under
    _post(api_client, django_capture_on_commit_callbacks, world, 6, 100)
    _post(api_client, django_capture_on_commit_callbacks, world, 5, 101)
    amber.refresh_from_db()
    assert amber.status == "resolved"
    _post(api_client, django_capture_on_commit_callbacks, world, 4, 89)
    _post(api_client, django_capture_on_commit_callbacks, world, 3, 88)

    # then: a second proposal, answering the new red exception
    second, first = _proposals(api_client, world, armed)
    assert (first["id"], first["status"]) == (proposal["id"], "decided")
    assert (second["status"], second["exception"]) == ("proposed", _open("kpi_red").pk)
    assert second["exception"] != red.pk
    assert Notification.objects.filter(recipient=world.contributor, title=TRIGGERED).count() == 2
    armed.refresh_from_db()
    assert (armed.trigger_count, armed.last_triggered_period) == (2, _month(3))
    assert Decision.objects.filter(contingency_plan=armed).count() == 2
