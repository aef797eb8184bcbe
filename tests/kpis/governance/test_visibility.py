"""Who sees and resolves a target-gaming signal: the PMO and executives, in the exception list,
the dashboard and the API; a lead of the KPI's department does not even learn it exists. The
engine never resolves it: a recompute leaves it open; a PMO member resolves it with a note."""

import datetime as dt

import pytest
from django.utils import timezone

from govern.choices import AuditAction
from govern.models import AuditEvent
from kpis.models import KpiException
from kpis.selectors import kpi_open_exception_periods
from kpis.services.exceptions import exception_sync
from kpis.services.recompute import kpi_recompute
from tests.factories import (
    KpiExceptionFactory,
    MeasurementFactory,
    TargetFactory,
    approved_plan_version,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/exceptions/"


@pytest.fixture
def signal(world):
    return KpiExceptionFactory(
        kpi=world.kpi,
        kind="governance",
        owner=world.pmo,
        escalation_level=2,
        title="Target-gaming signal on SALES-INTAKE: Order intake",
        detail="Targets eased in “FY26 rev 2” against “FY26 rev 1”: Jan 2026 95 → 90.",
        severity=16.0,
    )


@pytest.fixture
def red(world):
    return KpiExceptionFactory(kpi=world.kpi, severity=10.0)


def _titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("who", "sees"),
    [("pmo", True), ("executive", True), ("lead", False), ("owner", False)],
)
def test_only_the_pmo_and_executives_see_it_in_the_api(api_client, world, signal, red, who, sees):
    # given
    api_client.force_authenticate(getattr(world, who))

    # when
    listed = api_client.get(API)
    one = api_client.get(f"{API}{signal.pk}/")

    # then
    expected = [signal.title, red.title] if sees else [red.title]
    assert _titles(listed) == expected
    assert one.status_code == (200 if sees else 404)


@pytest.mark.parametrize(("who", "sees"), [("pmo", True), ("lead", False)])
def test_only_the_pmo_and_executives_see_it_on_the_pages(client, world, signal, red, who, sees):
    # given
    client.force_login(getattr(world, who))

    # when
    listed = client.get("/exceptions/")
    dashboard = client.get("/")
    one = client.get(f"/exceptions/{signal.pk}/")
    counted = client.get("/exceptions/?kind=governance")

    # then
    assert (signal.title in listed.content.decode()) is sees
    assert (signal.title in dashboard.content.decode()) is sees
    assert one.status_code == (200 if sees else 404)
    assert counted.context["page"].paginator.count == (1 if sees else 0)


@pytest.mark.parametrize(
    ("who", "count", "periods"),
    [("pmo", 2, [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]), ("lead", 1, [dt.date(2026, 3, 1)])],
)
def test_a_lead_does_not_learn_of_it_from_the_kpi_list_or_chart(
    api_client, world, signal, red, who, count, periods
):
    # given: the signal marks February, the red exception March, on the same KPI
    KpiException.objects.filter(pk=signal.pk).update(period=dt.date(2026, 2, 1))
    KpiException.objects.filter(pk=red.pk).update(period=dt.date(2026, 3, 1))
    user = getattr(world, who)
    api_client.force_authenticate(user)

    # when
    listed = api_client.get("/api/v1/kpis/", {"search": world.kpi.code})
    marked = kpi_open_exception_periods(user=user, kpi=world.kpi)

    # then: the count is of the exceptions the user may see; the chart marks only their periods
    assert [row["open_exceptions"] for row in listed.json()["results"]] == [count]
    assert marked == periods


def test_a_lead_cannot_act_on_it(api_client, world, signal):
    # given
    api_client.force_authenticate(world.lead)

    # when
    acknowledged = api_client.post(f"{API}{signal.pk}/acknowledge/", {"note": "seen"})
    resolved = api_client.post(f"{API}{signal.pk}/resolve/", {"note": "fine"})

    # then
    assert (acknowledged.status_code, resolved.status_code) == (404, 404)
    assert KpiException.objects.get(pk=signal.pk).status == "open"


def test_the_pmo_resolves_it_with_a_note_on_the_page(client, world, signal):
    # given
    client.force_login(world.pmo)

    # when
    response = client.post(
        f"/exceptions/{signal.pk}/resolve/",
        {"resolve-note": "Cut agreed by the board after the supplier fire."},
    )

    # then
    assert response.status_code == 302
    signal.refresh_from_db()
    assert signal.status == "resolved"
    assert signal.resolved_at is not None
    event = AuditEvent.objects.get(action=AuditAction.RESOLVE, subject_id=str(signal.pk))
    assert (event.actor, event.reason) == (
        world.pmo,
        "Cut agreed by the board after the supplier fire.",
    )
    assert event.changes == {"status": {"old": "open", "new": "resolved"}}


def test_resolving_without_a_note_is_refused_with_the_fields_message(client, world, signal):
    # given
    client.force_login(world.executive)

    # when
    response = client.post(f"/exceptions/{signal.pk}/resolve/", {"resolve-note": "  "})

    # then
    assert response.status_code == 400
    assert response.context["resolve_form"].errors == {"note": ["This field is required."]}
    assert KpiException.objects.get(pk=signal.pk).status == "open"


def test_the_api_resolves_it_and_refuses_an_engine_kind(api_client, world, signal, red):
    # given
    api_client.force_authenticate(world.executive)

    # when
    no_note = api_client.post(f"{API}{signal.pk}/resolve/", {"note": ""}, format="json")
    done = api_client.post(f"{API}{signal.pk}/resolve/", {"note": "Explained."}, format="json")
    again = api_client.post(f"{API}{signal.pk}/resolve/", {"note": "Again."}, format="json")
    engine_kind = api_client.post(f"{API}{red.pk}/resolve/", {"note": "Gone."}, format="json")

    # then
    assert no_note.status_code == 400
    assert no_note.json()["error"]["fields"] == {
        "note": ["Say why it is resolved: the note is kept in its history."]
    }
    assert (done.status_code, done.json()["status"]) == (200, "resolved")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "resolved")
    assert (engine_kind.status_code, engine_kind.json()["error"]["code"]) == (
        409,
        "resolved_by_engine",
    )
    assert KpiException.objects.get(pk=red.pk).status == "open"


def test_a_recompute_leaves_it_open_while_it_resolves_the_red_one(world, signal, red):
    # given: the KPI is back on track for the last three months
    approved = approved_plan_version()
    today = timezone.localdate()
    months = [dt.date(today.year, today.month, 1)]
    for _ in range(3):
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    for month in months[:-1]:
        TargetFactory(kpi=world.kpi, plan_version=approved, period=month, value=100.0)
        MeasurementFactory(kpi=world.kpi, period=month, value=101.0)

    # when
    kpi_recompute(kpi_ids=[world.kpi.pk], today=today)
    exception_sync(kpi_ids=None, today=today)

    # then
    assert KpiException.objects.get(pk=red.pk).status == "resolved"
    assert KpiException.objects.get(pk=signal.pk).status == "open"


def test_it_is_assigned_only_to_the_pmo_or_an_executive(api_client, world, signal):
    # given
    api_client.force_authenticate(world.pmo)
    url = f"{API}{signal.pk}/assign/"

    # when
    to_the_lead = api_client.post(url, {"owner": world.lead.pk}, format="json")
    to_the_executive = api_client.post(url, {"owner": world.executive.pk}, format="json")

    # then
    assert to_the_lead.status_code == 400
    assert to_the_lead.json()["error"]["fields"] == {
        "owner": [
            f"{world.lead} is neither in the PMO nor an executive; only they see a "
            "target-gaming signal exception, so choose one of them."
        ]
    }
    assert (to_the_executive.status_code, to_the_executive.json()["owner"]) == (
        200,
        world.executive.pk,
    )
