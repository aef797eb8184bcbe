"""GET /api/v1/metrics/decision-latency/: exact figures on a small seeded history for each role,
the department and date filters, refusals (400 with field messages, 401) and a bounded number of
queries.

The history (UTC), from 1 Jan to 28 Feb 2026:

    E1 Sales        opened 5 Jan 09:00, deadline 8 Jan;   D1 decided 6 Jan 09:00   1 day, in time
    E2 Sales        opened 10 Jan 09:00, deadline 13 Jan, escalated on 14 Jan (its deadline
                    moved to 21 Jan); D2 decided 15 Jan 21:00                   5.5 days, missed
    E3 Procurement  opened 2 Feb 09:00, deadline 5 Feb, no decision, still open          missed
    E4 Procurement  opened 3 Feb 09:00, deadline 6 Feb;  D4 decided 4 Feb 09:00  1 day, in time
    E5 Sales        opened 20 Dec 2025 (before the range)

    D1 review 15 Feb effective · D2 review 20 Feb ineffective · D4 review 10 Mar (after the range)
    D3 on E1, decided 20 Jan (not the first) · P on E2, proposed (never decided)
"""

import datetime as dt

import pytest
from django.utils import timezone

from decisions.models import Decision
from kpis.services.exceptions import exception_escalate_overdue
from tests.factories import DepartmentFactory, KpiExceptionFactory, KpiFactory

API = "/api/v1/metrics/decision-latency/"
RANGE = {"from": "2026-01-01", "to": "2026-02-28"}


def at(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, 0))


def exception(kpi, opened: dt.datetime, **values):
    return KpiExceptionFactory(
        kpi=kpi, opened_at=opened, decision_deadline=opened + dt.timedelta(days=3), **values
    )


def decision(exception, *, decided_at=None, review=None, effectiveness="pending"):
    """A decision row as the services leave it (the metrics read rows, not the chain)."""
    kpi = exception.kpi
    return Decision.objects.create(
        title=f"Act on {kpi.code}",
        context="Off plan.",
        options_considered="Wait\nAct",
        chosen_option="Act",
        rationale="Waiting costs more.",
        department=exception.department,
        exception=exception,
        expected_kpi=kpi,
        expected_kind="value",
        expected_value=95.0,
        review_date=review or dt.date(2026, 12, 31),
        status="decided" if decided_at else "proposed",
        proposed_by_name="Lea Lead",
        decided_by_name="Lea Lead" if decided_at else "",
        decided_on=timezone.localdate(decided_at) if decided_at else None,
        decided_at=decided_at,
        effectiveness=effectiveness,
        hash=f"{exception.pk:064d}",
    )


@pytest.fixture
def history(department, other_department):
    sales = KpiFactory(code="SALES-INTAKE", department=department)
    proc = KpiFactory(code="PROC-OTD", department=other_department)
    e1 = exception(sales, at(2026, 1, 5), status="decided", decided_at=at(2026, 1, 6))
    e2 = exception(sales, at(2026, 1, 10), kind="kpi_amber", subject_key="kpi:e2")
    exception_escalate_overdue(now=at(2026, 1, 14))  # E2: deadline 13 Jan → 21 Jan
    e3 = exception(proc, at(2026, 2, 2))
    e4 = exception(proc, at(2026, 2, 3), kind="kpi_amber", subject_key="kpi:e4")
    exception(sales, at(2025, 12, 20), kind="missing_data", subject_key="kpi:e5")
    decision(e1, decided_at=at(2026, 1, 6), review=dt.date(2026, 2, 15), effectiveness="effective")
    decision(e1, decided_at=at(2026, 1, 20))
    decision(
        e2, decided_at=at(2026, 1, 15, 21), review=dt.date(2026, 2, 20), effectiveness="ineffective"
    )
    decision(e2)
    decision(e4, decided_at=at(2026, 2, 4), review=dt.date(2026, 3, 10), effectiveness="effective")
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4}


def _get(api_client, user, **params):
    api_client.force_authenticate(user)
    return api_client.get(API, params)


def summary(exceptions, decided, median, p90, in_time, due, effective, ineffective, inconclusive):
    reviewed = effective + ineffective + inconclusive
    return {
        "exceptions": exceptions,
        "decided": decided,
        "latency_days": {"median": median, "p90": p90, "count": decided},
        "within_deadline": {
            "in_time": in_time,
            "due": due,
            "share": round(in_time / due, 4) if due else None,
        },
        "effectiveness": {
            "reviewed": reviewed,
            "effective": effective,
            "ineffective": ineffective,
            "inconclusive": inconclusive,
            "share": round(effective / reviewed, 4) if reviewed else None,
        },
    }


SALES = summary(2, 2, 3.25, 5.05, 1, 2, 1, 1, 0)  # latencies 1 and 5.5
PROCUREMENT = summary(2, 1, 1.0, 1.0, 1, 2, 0, 0, 0)


def test_the_pmo_sees_every_department(api_client, pmo, history, department, other_department):
    # when
    response = _get(api_client, pmo, **RANGE)

    # then: latencies 1, 1, 5.5 → median 1, p90 at rank 1.8 = 1 + 0.8 × 4.5
    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-01-01",
        "to": "2026-02-28",
        "department": None,
        "overall": summary(4, 3, 1.0, 4.6, 2, 4, 1, 1, 0),
        "departments": [
            {
                "department": {"id": other_department.pk, "code": "PROC", "name": "Procurement"},
                **PROCUREMENT,
            },
            {"department": {"id": department.pk, "code": "SALES", "name": "Sales"}, **SALES},
        ],
        "months": [
            {"month": "2026-01", **summary(2, 2, 3.25, 5.05, 1, 2, 0, 0, 0)},
            {"month": "2026-02", **summary(2, 1, 1.0, 1.0, 1, 2, 1, 1, 0)},
        ],
    }


def test_a_lead_counts_only_what_their_department_may_see(api_client, lead, history, department):
    # when
    body = _get(api_client, lead, **RANGE).json()

    # then
    assert body["overall"] == SALES
    assert [d["department"]["code"] for d in body["departments"]] == ["SALES"]


def test_one_department(api_client, executive, history, other_department):
    # when
    body = _get(api_client, executive, department=other_department.pk, **RANGE).json()

    # then
    assert body["department"] == {
        "id": other_department.pk,
        "code": "PROC",
        "name": "Procurement",
    }
    assert body["overall"] == PROCUREMENT
    assert [m["exceptions"] for m in body["months"]] == [0, 2]


def test_someone_in_no_department_counts_nothing(api_client, outsider, history):
    # when
    body = _get(api_client, outsider, **RANGE).json()

    # then
    assert body["overall"] == summary(0, 0, None, None, 0, 0, 0, 0, 0)
    assert body["departments"] == []
    assert len(body["months"]) == 2


def test_by_default_the_last_twelve_months(api_client, pmo, db):
    # when
    body = _get(api_client, pmo).json()

    # then
    today = timezone.localdate()
    assert body["to"] == today.isoformat()
    first = dt.date.fromisoformat(body["from"])
    assert first.day == 1
    assert len(body["months"]) == 12
    assert body["months"][-1]["month"] == f"{today:%Y-%m}"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"department": "sales"},
            "department",
            "Enter a department id (a whole number); got 'sales'.",
        ),
        ({"department": "999999"}, "department", "There is no department 999999 that you may see."),
        (
            {"from": "2026-13-01"},
            "from",
            "Enter a date as YYYY-MM-DD, e.g. 2026-01-31; got '2026-13-01'.",
        ),
        ({"to": "soon"}, "to", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31; got 'soon'."),
        (
            {"from": "2026-03-01", "to": "2026-02-01"},
            "to",
            "The end (`to`) must be on or after the start (`from`).",
        ),
        (
            {"from": "2020-01-01", "to": "2026-01-31"},
            "from",
            "Ask for at most 60 months at a time; narrow `from`–`to`.",
        ),
    ],
)
def test_bad_parameters_are_a_400_with_the_field(api_client, pmo, params, field, message):
    # when
    response = _get(api_client, pmo, **params)

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {field: [message]}


def test_a_department_the_user_may_not_see_reads_as_unknown(api_client, lead, other_department):
    # when
    response = _get(api_client, lead, department=other_department.pk)

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "department": [f"There is no department {other_department.pk} that you may see."]
    }


def test_anonymous_is_refused(api_client, db):
    # when
    response = api_client.get(API)

    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_writes_are_not_allowed(api_client, pmo):
    # given
    api_client.force_authenticate(pmo)

    # when
    response = api_client.post(API, {})

    # then
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_query_count_does_not_grow_with_rows(
    api_client, pmo, history, department, django_assert_max_num_queries
):
    # given: many more exceptions and decisions in more departments
    for index in range(12):
        other = DepartmentFactory(code=f"D{index}", name=f"Department {index}")
        kpi = KpiFactory(department=other)
        for day in (3, 4):
            found = exception(kpi, at(2026, 1, day), subject_key=f"kpi:x{index}-{day}")
            decision(found, decided_at=at(2026, 1, day + 1), review=dt.date(2026, 2, 1))
    api_client.force_authenticate(pmo)

    # when
    with django_assert_max_num_queries(5):
        response = api_client.get(API, {**RANGE, "department": department.pk})
    with django_assert_max_num_queries(5):
        everything = api_client.get(API, RANGE)

    # then
    assert response.status_code == everything.status_code == 200
    assert everything.json()["overall"]["exceptions"] == 4 + 24
    assert len(everything.json()["departments"]) == 2 + 12


def test_the_endpoint_is_documented(api_client, db):
    # when
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    # then
    paths = {path: sorted(item) for path, item in schema["paths"].items() if "/metrics/" in path}
    assert paths == {"/api/v1/metrics/decision-latency/": ["get"]}
    operation = schema["paths"]["/api/v1/metrics/decision-latency/"]["get"]
    assert sorted(operation["responses"]) == ["200", "400", "401", "403"]
    assert [(p["name"], p["schema"]) for p in operation["parameters"]] == [
        ("department", {"type": "integer"}),
        ("from", {"type": "string", "format": "date"}),
        ("to", {"type": "string", "format": "date"}),
    ]
    content = operation["responses"]["200"]["content"]["application/json"]
    example = content["examples"]["TwoMonths"]["value"]
    properties = schema["components"]["schemas"]["DecisionMetrics"]["properties"]
    assert list(example) == list(properties)
