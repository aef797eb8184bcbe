"""The decision log at the HTTP boundary: log, read, decide, supersede; refusals in the one error
shape with nothing written; no update or delete; 404 for those who may not see a decision, 403
for those who may see but not act; bounded queries on the list."""

import pytest
from django.utils import timezone

from decisions import services
from decisions.models import Decision, LogEntry
from govern.models import AuditEvent
from kpis.choices import ExceptionStatus
from tests.decisions.log_support import counts, logged, payload, tradeoff
from tests.factories import KpiFactory

API = "/api/v1/decisions/"
APPEND_ONLY = (
    "Decisions are append-only: supersede it instead (POST /api/v1/decisions/{id}/supersede/)."
)


def _as(api_client, person):
    api_client.force_authenticate(person)
    return api_client


def test_a_lead_logs_a_decision_by_codes_and_ids(api_client, world):
    # given
    data = payload(
        world,
        department="SALES",
        kpis=["SALES-INTAKE"],
        expected_kpi="SALES-INTAKE",
        reallocations=[
            {"from_initiative": world.initiative.pk, "to_department": "SALES",
             "amount": "1200.00", "unit": "fte"},
        ],
    )  # fmt: skip

    # when
    response = _as(api_client, world.lead).post(API, data, format="json")

    # then
    assert response.status_code == 201
    body = response.json()
    decision = Decision.objects.get()
    assert response["Location"] == f"http://testserver{API}{decision.pk}/"
    assert {key: body[key] for key in (
        "id", "status", "department_name", "kpis", "exception", "decided_by_name",
        "decided_by_role", "decided_on", "cross_department", "effectiveness", "hash", "actions",
    )} == {
        "id": decision.pk,
        "status": "decided",
        "department_name": "Sales",
        "kpis": [{"id": world.kpi.pk, "code": "SALES-INTAKE", "name": "Order intake"}],
        "exception": world.exception.pk,
        "decided_by_name": "Lea Lead",
        "decided_by_role": "department_lead",
        "decided_on": timezone.localdate().isoformat(),
        "cross_department": False,
        "effectiveness": "pending",
        "hash": LogEntry.objects.get().hash,
        "actions": ["supersede"],
    }  # fmt: skip
    assert [
        (line["from_initiative_name"], line["to_department_name"], line["amount"], line["unit"])
        for line in body["reallocations"]
    ] == [("Spring campaign", "Sales", "1200.00", "fte")]


def test_logging_a_decision_moves_its_exception_to_decided(api_client, world):
    # when
    _as(api_client, world.lead).post(API, payload(world), format="json")
    response = api_client.get(f"/api/v1/exceptions/{world.exception.pk}/")

    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_at"] is not None) == (
        "decided",
        True,
    )


def test_a_decision_without_an_outcome_answers_400_and_writes_nothing(api_client, world):
    # when
    response = _as(api_client, world.lead).post(API, payload(world, kpis=[]), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "Please correct: kpis.",
            "fields": {"kpis": [services.NO_OUTCOME]},
        }
    }
    assert counts() == (0, 0, 0)
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.OPEN


def test_the_trade_off_is_required_at_the_boundary_too(api_client, world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save()

    # when
    response = _as(api_client, world.lead).post(API, payload(world), format="json")

    # then
    assert response.status_code == 400
    assert sorted(response.json()["error"]["fields"]) == [
        "tradeoff_objective",
        "tradeoff_statement",
    ]
    assert counts() == (0, 0, 0)


def test_a_lead_may_not_decide_a_cross_department_trade_off_but_an_executive_may(api_client, world):
    # given
    data = payload(world, **tradeoff(world))

    # when
    refused = _as(api_client, world.lead).post(API, data, format="json")
    nothing = counts()
    decided = _as(api_client, world.executive).post(API, data, format="json")

    # then
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert "so only an executive may decide it" in refused.json()["error"]["message"]
    assert nothing == (0, 0, 0)
    assert decided.status_code == 201
    assert (decided.json()["status"], decided.json()["cross_department"]) == ("decided", True)


def test_a_proposed_decision_is_decided_through_the_api(api_client, world):
    # given
    proposed = _as(api_client, world.lead).post(
        API, payload(world, propose=True, **tradeoff(world)), format="json"
    )
    url = f"{API}{proposed.json()['id']}/decide/"

    # when
    refused = api_client.post(url, {"note": "Mine"}, format="json")
    decided = _as(api_client, world.executive).post(url, {"note": "Go."}, format="json")
    again = api_client.post(url, {}, format="json")

    # then
    assert proposed.status_code == 201
    assert proposed.json()["status"] == "proposed"
    assert refused.status_code == 403
    assert decided.status_code == 200
    assert (decided.json()["status"], decided.json()["decided_by_name"]) == ("decided", "Eve Exec")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_proposed"
    assert LogEntry.objects.count() == 2


def test_supersede_links_both_decisions(api_client, world):
    # given
    old = logged(world)
    client = _as(api_client, world.lead)

    # when
    response = client.post(
        f"{API}{old.pk}/supersede/",
        payload(world, title="Discount by 5% only", exception=None),
        format="json",
    )
    old_body = client.get(f"{API}{old.pk}/").json()

    # then
    assert response.status_code == 201
    new = response.json()
    assert (new["supersedes"], new["status"], new["title"]) == (
        old.pk,
        "decided",
        "Discount by 5% only",
    )
    assert (old_body["status"], old_body["superseded_by"], old_body["actions"]) == (
        "superseded",
        new["id"],
        [],
    )
    assert list(LogEntry.objects.values_list("kind", flat=True)) == [
        "decision_decided",
        "decision_decided",
        "decision_superseded",
    ]


def test_a_superseded_decision_cannot_be_superseded_again(api_client, world):
    # given
    old = logged(world)
    client = _as(api_client, world.lead)
    client.post(f"{API}{old.pk}/supersede/", payload(world, exception=None), format="json")
    before = counts()

    # when
    response = client.post(
        f"{API}{old.pk}/supersede/", payload(world, exception=None), format="json"
    )

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_decided"
    assert counts() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_decisions_are_never_updated_or_deleted(api_client, world, method):
    # given
    decision = logged(world)
    before = (counts(), Decision.objects.values().get(pk=decision.pk))

    # when
    response = getattr(_as(api_client, world.executive), method)(
        f"{API}{decision.pk}/", {"title": "Rewritten"}, format="json"
    )

    # then
    assert response.status_code == 405
    assert response.json() == {
        "error": {"code": "method_not_allowed", "message": APPEND_ONLY, "fields": {}}
    }
    assert (counts(), Decision.objects.values().get(pk=decision.pk)) == before


@pytest.mark.parametrize(
    ("who", "read", "decide"),
    [
        ("executive", 200, 200),
        ("pmo", 200, 200),
        ("lead", 200, 200),
        ("contributor", 200, 403),
        ("viewer", 200, 403),
        ("other_lead", 404, 404),
        ("outsider", 404, 404),
    ],
)
def test_who_sees_and_decides_a_proposed_sales_decision(api_client, world, who, read, decide):
    # given
    decision = logged(world, world.contributor, propose=True)
    client = _as(api_client, getattr(world, who))

    # when
    read_response = client.get(f"{API}{decision.pk}/")
    decide_response = client.post(f"{API}{decision.pk}/decide/", {}, format="json")

    # then
    assert (read_response.status_code, decide_response.status_code) == (read, decide)


def test_a_department_a_reallocation_touches_sees_the_decision(api_client, world):
    # given
    line = {"from_department": world.procurement.pk, "to_initiative": world.initiative.pk,
            "amount": "10", "unit": "fte"}  # fmt: skip
    decision = logged(world, world.executive, reallocations=[line])

    # when
    response = _as(api_client, world.other_lead).get(API)

    # then
    assert [row["id"] for row in response.json()["results"]] == [decision.pk]
    assert response.json()["results"][0]["cross_department"] is True


def test_the_list_filters_by_status_and_kpi(api_client, world):
    # given
    other_kpi = KpiFactory(code="SALES-MARGIN", department=world.sales)
    decided = logged(world)
    proposed = logged(world, propose=True, exception=None, kpis=[other_kpi.pk])
    client = _as(api_client, world.lead)

    # when
    by_status = client.get(API, {"status": "proposed"}).json()["results"]
    by_kpi = client.get(API, {"kpi": world.kpi.pk}).json()["results"]
    by_text = client.get(API, {"q": "competitors"}).json()["results"]

    # then
    assert [row["id"] for row in by_status] == [proposed.pk]
    # the proposed one names SALES-INTAKE as its expected effect
    assert [row["id"] for row in by_kpi] == [proposed.pk, decided.pk]
    assert [row["id"] for row in by_text] == [proposed.pk, decided.pk]


def test_the_list_runs_a_bounded_number_of_queries(
    api_client, world, django_assert_max_num_queries
):
    # given
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "10", "unit": "fte"}  # fmt: skip
    client = _as(api_client, world.lead)

    def page() -> int:
        with django_assert_max_num_queries(5):
            response = client.get(API)
        return len(response.json()["results"])

    # when
    for _ in range(2):
        logged(world, exception=None, reallocations=[line], objective=world.objective.pk)
    few = page()
    for _ in range(8):
        logged(world, exception=None, reallocations=[line, line], initiative=world.initiative.pk)
    many = page()

    # then
    assert (few, many) == (2, 10)


def test_a_decisions_log_entries_read_in_order(api_client, world):
    # given
    decision = logged(world, propose=True)
    services.decision_decide(actor=world.lead, decision=decision, note="Go.")

    # when
    response = _as(api_client, world.viewer).get(f"{API}{decision.pk}/log/")

    # then
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["sequence"], r["kind"], r["actor_name"]) for r in rows] == [
        (1, "decision_proposed", "Lea Lead"),
        (2, "decision_decided", "Lea Lead"),
    ]
    assert rows[1]["prev_hash"] == rows[0]["hash"]


def test_verify_reports_the_chain_status(api_client, world):
    # given
    decision = logged(world)
    client = _as(api_client, world.contributor)
    ok = client.get(f"{API}verify/").json()
    Decision.objects.filter(pk=decision.pk).update(chosen_option="Something else")

    # when
    refused = client.get(f"{API}verify/", {"refresh": "true"})
    broken = _as(api_client, world.pmo).get(f"{API}verify/", {"refresh": "true"})

    # then
    assert (ok["ok"], ok["checked"], ok["decisions"], ok["first_broken"]) == (True, 1, 1, None)
    assert refused.status_code == 403
    assert broken.status_code == 200
    assert broken.json()["ok"] is False
    assert broken.json()["first_broken"] == {
        "sequence": 1,
        "decision_id": decision.pk,
        "reason": f"D-{decision.pk} no longer matches its logged content (entry #1): "
        "chosen_option changed.",
    }


def test_an_anonymous_request_is_refused(api_client, world):
    # when
    response = api_client.get(API)

    # then
    assert response.status_code == 401
    assert AuditEvent.objects.count() == 0


def test_a_decisions_history_shows_its_audit_events(api_client, world):
    # given
    decision = logged(world, propose=True)
    services.decision_decide(actor=world.lead, decision=decision, note="Go.")

    # when
    response = _as(api_client, world.lead).get(f"{API}{decision.pk}/history/")

    # then
    assert response.status_code == 200
    assert [(e["action"], e["reason"]) for e in response.json()["results"]] == [
        ("decide", "Go."),
        ("propose", "Competitors cut prices in February."),
    ]
