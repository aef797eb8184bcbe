"""The KPI API: list filters and search, the series read from stored results, the targets
endpoint, and bounded query counts."""

import datetime as dt

import pytest
from django.core.management import call_command

from govern.models import AuditEvent
from kpis.models import Target
from kpis.services.targets import REASON_REQUIRED
from tests.factories import KpiFactory, KpiResultFactory
from tests.kpis.definitions.conftest import APR, FEB, JAN, MAR

API = "/api/v1/kpis/"


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


@pytest.fixture
def sales_kpis(kpi, department, lead):
    return {
        "red": KpiFactory(
            code="SALES-MARGIN", name="Gross margin", department=department, owner=lead,
            status="red", direction="lower_is_better", frequency="quarterly",
        ),
        "amber": KpiFactory(
            code="SALES-CHURN", name="Churned accounts", department=department, owner=lead,
            status="amber", description="Accounts lost to competitors",
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["SALES-MARGIN", "SALES-CHURN", "SALES-INTAKE"]),  # red, amber, then the rest
        ("?status=red", ["SALES-MARGIN"]),
        ("?direction=lower_is_better", ["SALES-MARGIN"]),
        ("?frequency=monthly", ["SALES-CHURN", "SALES-INTAKE"]),
        ("?owner={lead}", ["SALES-MARGIN", "SALES-CHURN"]),
        ("?department={department}&status=amber", ["SALES-CHURN"]),
        ("?search=competitors", ["SALES-CHURN"]),
        ("?q=intake", ["SALES-INTAKE"]),
    ],
)
def test_the_list_filters_and_searches(api_client, pmo, lead, department, sales_kpis, query,
                                       expected):  # fmt: skip
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.get(API + query.format(lead=lead.pk, department=department.pk))

    # then
    assert _codes(response) == expected


def test_a_status_that_does_not_exist_is_a_clear_400(api_client, pmo, kpi):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.get(API + "?status=purple")

    # then
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]


def test_the_series_is_read_from_stored_results(api_client, viewer, kpi):
    # given
    KpiResultFactory(
        kpi=kpi, period=JAN, plan=100.0, actual=93.0, variance=-7.0, variance_pct=-7.0,
        adverse=7.0, status="amber",
    )  # fmt: skip
    KpiResultFactory(
        kpi=kpi, period=FEB, plan=110.0, actual=None, variance=None, variance_pct=None,
        adverse=None, status="missing",
    )  # fmt: skip
    KpiResultFactory(
        kpi=kpi, period=MAR, plan=120.0, actual=None, variance=None, variance_pct=None,
        adverse=None, status="pending", forecast=104.5, forecast_status="red",
    )  # fmt: skip
    api_client.force_authenticate(viewer)

    # when
    response = api_client.get(f"{API}{kpi.pk}/series/")

    # then
    assert response.status_code == 200
    assert response.json() == [
        {
            "period": "2026-01-01", "plan": 100.0, "actual": 93.0, "variance": -7.0,
            "variance_pct": -7.0, "status": "amber", "forecast": None, "forecast_status": "",
        },
        {
            "period": "2026-02-01", "plan": 110.0, "actual": None, "variance": None,
            "variance_pct": None, "status": "missing", "forecast": None, "forecast_status": "",
        },
        {
            "period": "2026-03-01", "plan": 120.0, "actual": None, "variance": None,
            "variance_pct": None, "status": "pending", "forecast": 104.5,
            "forecast_status": "red",
        },
    ]  # fmt: skip


def test_the_targets_of_the_current_plan(api_client, viewer, kpi, plans):
    # given
    api_client.force_authenticate(viewer)

    # when
    response = api_client.get(f"{API}{kpi.pk}/targets/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "kpi": kpi.pk,
        "plan_version": plans.current.pk,
        "plan_version_name": "FY26 baseline",
        "targets": [
            {"period": "2026-01-01", "value": 100.0},
            {"period": "2026-02-01", "value": 110.0},
            {"period": "2026-03-01", "value": 120.0},
        ],
    }


def test_setting_targets_answers_with_the_counts_and_the_trajectory(api_client, lead, kpi, plans):
    # given
    api_client.force_authenticate(lead)

    # when
    response = api_client.put(
        f"{API}{kpi.pk}/targets/",
        {
            "plan_version": plans.draft.pk,
            "reason": "Draft for Q2",
            "targets": [{"period": "2026-04-01", "value": 140}],
        },
        format="json",
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "kpi": kpi.pk,
        "plan_version": plans.draft.pk,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "changes": {"2026-04-01": {"old": None, "new": 140.0}},
        "targets": [{"period": "2026-04-01", "value": 140.0}],
    }


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            {"reason": "x", "targets": [{"period": "2026-04-01", "value": 1},
                                        {"period": "2026-04-15", "value": 2}]},
            400,
            {"targets.1.period": [
                "2026-04-15 is not a monthly period start; did you mean 2026-04-01?"
            ]},
        ),
        (
            {"reason": "", "targets": [{"period": "2026-04-01", "value": 1}]},
            400,
            {"reason": [REASON_REQUIRED]},
        ),
        (
            {"targets": [{"period": "2026-04-01", "value": 1}]},
            400,
            {"reason": ["This field is required."]},
        ),
        (
            {"reason": "x", "targets": [{"period": "2026-04-01", "value": 1},
                                        {"period": "2026-04-01", "value": 2}]},
            400,
            {"targets": ["Each period once: 2026-04-01 is given more than once."]},
        ),
    ],
    ids=["not-a-period-start", "blank-reason", "no-reason", "duplicate-period"],
)  # fmt: skip
def test_bad_targets_are_refused_with_field_messages(api_client, lead, kpi, body, status, fields):
    # given
    api_client.force_authenticate(lead)
    targets, events = list(Target.objects.values()), AuditEvent.objects.count()

    # when
    response = api_client.put(f"{API}{kpi.pk}/targets/", body, format="json")

    # then
    assert response.status_code == status
    assert response.json()["error"]["fields"] == fields
    assert list(Target.objects.values()) == targets
    assert AuditEvent.objects.count() == events


def test_a_superseded_plan_version_answers_409(api_client, lead, kpi, plans):
    # given
    api_client.force_authenticate(lead)
    targets = list(Target.objects.values())

    # when
    response = api_client.put(
        f"{API}{kpi.pk}/targets/",
        {"plan_version": plans.superseded.pk, "reason": "Late",
         "targets": [{"period": "2026-04-01", "value": 1}]},
        format="json",
    )  # fmt: skip

    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "plan_version_frozen"
    assert "superseded plan versions are frozen" in error["message"]
    assert list(Target.objects.values()) == targets


def test_creating_with_amber_above_red_names_the_field(api_client, lead, department):
    # given
    api_client.force_authenticate(lead)

    # when
    response = api_client.post(
        API,
        {"code": "SALES-X", "name": "X", "department": department.pk, "owner": lead.pk,
         "amber_threshold": 20, "red_threshold": 10},
        format="json",
    )  # fmt: skip

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "red_threshold": ["The red threshold must be above the amber threshold."]
    }


def _kpis(n, department, owner):
    for i in range(n):
        kpi = KpiFactory(department=department, owner=owner)
        KpiResultFactory(kpi=kpi, period=APR)
        kpi.objectives.set([])
        if i % 2:
            KpiResultFactory(kpi=kpi, period=MAR)


@pytest.mark.parametrize("role", ["pmo", "lead", "viewer"])
def test_the_list_runs_a_bounded_number_of_queries(
    request, api_client, department, contributor, django_assert_max_num_queries, role
):
    # given
    user = request.getfixturevalue(role)
    api_client.force_authenticate(user)
    api_client.get(API)  # the user's scope is read once, then cached on the user
    counts = []
    for n in (3, 30):
        _kpis(n, department, contributor)
        # when
        with django_assert_max_num_queries(8) as captured:
            response = api_client.get(API)
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_series_runs_a_bounded_number_of_queries(
    api_client, viewer, kpi, django_assert_max_num_queries
):
    # given
    api_client.force_authenticate(viewer)
    api_client.get(f"{API}{kpi.pk}/series/")  # the user's scope is read once, then cached
    counts = []
    for start, n in ((2020, 3), (2021, 30)):
        for i in range(n):
            KpiResultFactory(kpi=kpi, period=dt.date(start + i // 12, i % 12 + 1, 1))
        # when
        with django_assert_max_num_queries(6) as captured:
            response = api_client.get(f"{API}{kpi.pk}/series/")
        # then
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert len(response.json()) == 33


def test_the_schema_has_no_warnings(capsys):
    # when
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")

    # then
    assert "Warning" not in capsys.readouterr().err


def test_the_kpi_endpoints_are_in_the_schema(api_client):
    # when
    schema = api_client.get("/api/v1/schema/?format=json").json()

    # then
    paths = sorted(p for p in schema["paths"] if p.startswith("/api/v1/kpis/"))
    assert paths == [
        "/api/v1/kpis/", "/api/v1/kpis/{id}/", "/api/v1/kpis/{id}/history/",
        "/api/v1/kpis/{id}/series/", "/api/v1/kpis/{id}/targets/",
    ]  # fmt: skip
    assert {"get", "put"} <= set(schema["paths"]["/api/v1/kpis/{id}/targets/"])
