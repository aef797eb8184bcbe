"""Every KPI endpoint × every role (docs/permissions.md), table-driven like
tests/govern/api/test_permission_matrix.py.

The KPI lives in Sales and is owned by `contributor`; `other_contributor` is a Sales contributor
who does not own it, `other_lead` leads Procurement, `outsider` belongs nowhere. SEEN / UNSEEN:
200 with / without the KPI in the list. A refused write leaves every table as it was and writes
no audit event; an allowed write writes at least one."""

from dataclasses import dataclass
from typing import Any

import pytest

from govern.models import AuditEvent
from kpis.models import Kpi, KpiResult, Target

ROLES = (
    "pmo", "executive", "lead", "other_lead", "contributor", "other_contributor", "viewer",
    "outsider", "anonymous",
)  # fmt: skip
SEEN, UNSEEN = "seen", "unseen"

# The expected status per role, in ROLES order:
#               pmo     exec    lead    o.lead  owner   contr.  viewer  outsid. anon
# fmt: off
SALES_SEE =    (SEEN,   SEEN,   SEEN,   UNSEEN, SEEN,   SEEN,   SEEN,   UNSEEN, 401)
SALES_GET =    (200,    200,    200,    404,    200,    200,    200,    404,    401)
# 400: a department they may not see is an invalid pk
LEADS_CREATE = (201,    403,    201,    400,    403,    403,    403,    400,    401)
LEADS_CHANGE = (200,    403,    200,    404,    403,    403,    403,    404,    401)
LEADS_DELETE = (204,    403,    204,    404,    403,    403,    403,    404,    401)
# fmt: on


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    url: str
    expected: tuple[Any, ...]


CASES = [
    Case("kpis:list", "get", "kpis/", SALES_SEE),
    Case("kpis:retrieve", "get", "kpis/{kpi}/", SALES_GET),
    Case("kpis:create", "post", "kpis/", LEADS_CREATE),
    Case("kpis:update", "patch", "kpis/{kpi}/", LEADS_CHANGE),
    Case("kpis:replace", "put", "kpis/{kpi}/", LEADS_CHANGE),
    Case("kpis:delete", "delete", "kpis/{kpi}/", LEADS_DELETE),
    Case("kpis:series", "get", "kpis/{kpi}/series/", SALES_GET),
    Case("kpis:targets", "get", "kpis/{kpi}/targets/", SALES_GET),
    Case("kpis:set-targets", "put", "kpis/{kpi}/targets/", LEADS_CHANGE),
    Case("kpis:history", "get", "kpis/{kpi}/history/", SALES_GET),
]

PAYLOADS = {
    "kpis:create": {
        "code": "SALES-NPS", "name": "Net promoter score", "department": "{department}",
        "owner": "{contributor}", "unit": "count", "frequency": "quarterly",
    },
    "kpis:update": {"red_threshold": 12.0},
    "kpis:replace": {
        "code": "SALES-INTAKE", "name": "Order intake (EUR)", "department": "{department}",
        "owner": "{contributor}",
    },
    "kpis:set-targets": {
        "reason": "Q2 re-forecast", "targets": [{"period": "2026-04-01", "value": 130.0}],
    },
}  # fmt: skip

MATRIX = [
    pytest.param(case, role, expected, id=f"{case.endpoint}-{role}")
    for case in CASES
    for role, expected in zip(ROLES, case.expected, strict=True)
]


def _state() -> dict[str, Any]:
    return {
        "kpis": list(Kpi.objects.order_by("pk").values()),
        "kpi_objectives": list(Kpi.objectives.through.objects.order_by("pk").values()),
        "targets": list(Target.objects.order_by("pk").values()),
        "results": list(KpiResult.objects.order_by("pk").values()),
        "audit_events": AuditEvent.objects.count(),
    }


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize(("case", "role", "expected"), MATRIX)
def test_kpi_permission_matrix(api_client, people, kpi, department, case, role, expected):
    # given
    actor = people.get(role)
    if actor is not None:
        api_client.force_authenticate(actor)
    ids = {"kpi": kpi.pk, "department": department.pk, "contributor": people["contributor"].pk}
    payload = {key: _fill(value, ids) for key, value in PAYLOADS.get(case.endpoint, {}).items()}
    before = _state()

    # when
    response = getattr(api_client, case.method)(
        "/api/v1/" + case.url.format(**ids), payload, format="json"
    )

    # then
    if expected in (SEEN, UNSEEN):
        assert response.status_code == 200, response.content
        listed = {row["id"] for row in response.json()["results"]}
        assert (kpi.pk in listed) is (expected == SEEN)
    else:
        assert response.status_code == expected, response.content
    if expected == 400:
        messages = [m for ms in response.json()["error"]["fields"].values() for m in ms]
        assert messages
        assert all(m.startswith("Invalid pk") for m in messages), messages
    if response.status_code >= 400:
        assert {"code", "fields", "message"} <= set(response.json()["error"])
        assert _state() == before
    elif case.method != "get":
        assert _state()["audit_events"] > before["audit_events"]
