"""/api/v1/exceptions/: who sees and acts on what, filters, actions, history, query counts."""

import pytest

from govern.choices import AuditAction
from govern.models import AuditEvent
from kpis.models import KpiException
from tests.factories import KpiExceptionFactory, KpiFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/exceptions/"


@pytest.fixture
def exceptions(world):
    procurement_kpi = KpiFactory(code="PROC-OTD", department=world.other_department)
    return {
        "red": KpiExceptionFactory(kpi=world.kpi, severity=24.0),
        "amber": KpiExceptionFactory(kpi=world.kpi, kind="kpi_amber", severity=7.0),
        "procurement": KpiExceptionFactory(kpi=procurement_kpi, severity=30.0),
    }


def _titles(response):
    return [row["title"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("pmo", ["PROC-OTD", "SALES-INTAKE red", "SALES-INTAKE amber"]),
        ("executive", ["PROC-OTD", "SALES-INTAKE red", "SALES-INTAKE amber"]),
        ("lead", ["SALES-INTAKE red", "SALES-INTAKE amber"]),
        ("viewer", ["SALES-INTAKE red", "SALES-INTAKE amber"]),
        ("other_lead", ["PROC-OTD"]),
    ],
)
def test_everyone_sees_their_departments_exceptions_most_severe_first(
    api_client, world, exceptions, who, expected
):
    # given
    api_client.force_authenticate(getattr(world, who))

    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 200
    shown = [
        f"{row['kpi_code']}{'' if row['kpi_code'] == 'PROC-OTD' else ' ' + row['kind'][4:]}"
        for row in response.json()["results"]
    ]
    assert shown == expected


def test_the_list_filters_by_kind_status_severity_and_department(api_client, world, exceptions):
    # given
    api_client.force_authenticate(world.pmo)
    exceptions["amber"].status = "resolved"
    exceptions["amber"].save()

    # when
    by_kind = api_client.get(URL, {"kind": "kpi_amber"})
    unresolved = api_client.get(URL, {"status": "unresolved"})
    severe = api_client.get(URL, {"severity_min": 20, "severity_max": 25})
    sales = api_client.get(URL, {"department": world.department.pk})

    # then
    assert [r["id"] for r in by_kind.json()["results"]] == [exceptions["amber"].pk]
    assert [r["id"] for r in unresolved.json()["results"]] == [
        exceptions["procurement"].pk,
        exceptions["red"].pk,
    ]
    assert [r["id"] for r in severe.json()["results"]] == [exceptions["red"].pk]
    assert [r["id"] for r in sales.json()["results"]] == [
        exceptions["red"].pk,
        exceptions["amber"].pk,
    ]


def test_an_exception_of_another_department_is_not_found(api_client, world, exceptions):
    # given
    api_client.force_authenticate(world.lead)

    # when
    response = api_client.get(f"{URL}{exceptions['procurement'].pk}/")

    # then
    assert response.status_code == 404


def test_the_owner_acknowledges_through_the_api(api_client, world, exceptions):
    # given
    api_client.force_authenticate(world.owner)
    red = exceptions["red"]

    # when
    response = api_client.post(f"{URL}{red.pk}/acknowledge/", {"note": "On it."}, format="json")

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["status_display"]) == ("acknowledged", "Acknowledged")
    history = api_client.get(f"{URL}{red.pk}/history/").json()["results"]
    assert [(e["action"], e["reason"]) for e in history] == [("acknowledge", "On it.")]


def _snapshot():
    return list(KpiException.objects.values()), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("who", "status"), [("viewer", 403), ("other_lead", 404)], ids=["viewer", "other-department"]
)
@pytest.mark.parametrize("action", ["acknowledge", "assign"])
def test_people_who_may_not_act_change_nothing(
    api_client, world, exceptions, who, status, action, django_capture_on_commit_callbacks
):
    # given
    api_client.force_authenticate(getattr(world, who))
    before = _snapshot()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(
            f"{URL}{exceptions['red'].pk}/{action}/", {"owner": world.viewer.pk}, format="json"
        )

    # then
    assert response.status_code == status
    assert _snapshot() == before
    assert callbacks == []


def test_acknowledging_an_acknowledged_exception_is_a_conflict(api_client, world, exceptions):
    # given
    red = exceptions["red"]
    red.status = "acknowledged"
    red.save()
    api_client.force_authenticate(world.lead)
    before = _snapshot()

    # when
    response = api_client.post(f"{URL}{red.pk}/acknowledge/", {}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_open"
    assert _snapshot() == before


def test_a_lead_assigns_and_an_outsider_to_the_department_is_refused(api_client, world, exceptions):
    # given
    api_client.force_authenticate(world.lead)
    red = exceptions["red"]

    # when
    refused = api_client.post(
        f"{URL}{red.pk}/assign/", {"owner": world.other_lead.pk}, format="json"
    )
    done = api_client.post(
        f"{URL}{red.pk}/assign/", {"owner": world.viewer.pk, "note": "Cover."}, format="json"
    )

    # then: the Procurement lead is visible to nobody in Sales, hence "invalid pk"
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["owner"]
    assert done.status_code == 200
    assert (done.json()["owner"], done.json()["owner_name"]) == (world.viewer.pk, str(world.viewer))
    assert AuditEvent.objects.filter(action=AuditAction.ASSIGN).count() == 1


def test_the_pmo_gets_a_field_error_for_a_non_member(api_client, world, exceptions):
    # given
    api_client.force_authenticate(world.pmo)
    before = _snapshot()

    # when
    response = api_client.post(
        f"{URL}{exceptions['red'].pk}/assign/", {"owner": world.other_lead.pk}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "owner": [f"{world.other_lead} is not an active member of Sales; choose someone who is."]
    }
    assert _snapshot() == before


@pytest.mark.parametrize("rows", [1, 15])
def test_the_list_runs_a_bounded_number_of_queries(
    api_client, world, rows, django_assert_max_num_queries
):
    # given
    for _ in range(rows):
        KpiExceptionFactory(kpi=KpiFactory(department=world.department))
    api_client.force_authenticate(world.lead)

    # when
    with django_assert_max_num_queries(6):
        response = api_client.get(URL)

    # then
    assert response.json()["count"] == rows
