"""The review sessions API at the HTTP boundary: plan, list, read with the agenda and minutes,
change while planned, generate, start, walk (decide, defer, note), close; refusals in the one
error shape with field messages and nothing written; no delete; bounded queries on the list."""

import datetime as dt

import pytest
from django.utils import timezone

from decisions.models import Decision, ReviewSession
from kpis.choices import ExceptionStatus
from tests.decisions.sessions.support import item_for, plan, started, state, tomorrow_at_nine

API = "/api/v1/review-sessions/"


def _as(api_client, person):
    api_client.force_authenticate(person)
    return api_client


@pytest.fixture
def walking(world):
    session = started(world.pmo, departments=[world.sales.pk], chair=world.lead.pk)
    return session, item_for(session, world.exception)


def test_the_pmo_plans_a_session_by_codes_and_ids(api_client, world):
    # given
    when = tomorrow_at_nine()
    data = {
        "cadence": "monthly_business",
        "scheduled_for": when.isoformat(),
        "departments": ["SALES"],
        "attendees": [world.lead.pk],
        "agenda_share": 0.5,
    }

    # when
    response = _as(api_client, world.pmo).post(API, data, format="json")

    # then
    assert response.status_code == 201
    session = ReviewSession.objects.get()
    body = response.json()
    assert response["Location"] == f"http://testserver{API}{session.pk}/"
    assert {key: body[key] for key in (
        "id", "title", "cadence", "status", "departments", "chair", "agenda_share", "item_count",
    )} == {
        "id": session.pk,
        "title": f"Monthly business review, {timezone.localtime(when):%d %b %Y}",
        "cadence": "monthly_business",
        "status": "planned",
        "departments": [{"id": world.sales.pk, "code": "SALES", "name": "Sales"}],
        "chair": world.pmo.pk,
        "agenda_share": 0.5,
        "item_count": 1,
    }  # fmt: skip
    assert [p["username"] for p in body["attendees"]] == [
        world.lead.username,
        world.pmo.username,
    ]
    assert [(i["position"], i["kind"], i["title"], i["outcome"]) for i in body["agenda"]] == [
        (1, "exception", "SALES-INTAKE is red: Order intake", "pending")
    ]
    assert body["minutes"]["pending"][0]["exception"] == world.exception.pk
    assert body["minutes"]["final"] is False


def test_bad_input_answers_400_with_every_field_message_and_writes_nothing(api_client, world):
    # given
    before = state()
    yesterday = timezone.now() - dt.timedelta(days=1)

    # when
    empty = _as(api_client, world.pmo).post(API, {}, format="json")
    wrong = api_client.post(
        API,
        {"cadence": "weekly_operations", "scheduled_for": yesterday.isoformat(),
         "agenda_share": 0, "departments": [999999]},
        format="json",
    )  # fmt: skip

    # then
    assert empty.status_code == 400
    assert empty.json()["error"]["fields"] == {
        "cadence": ["Choose the cadence: weekly_operations, monthly_business."],
        "scheduled_for": ["Say when the session is held."],
    }
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"] == {
        "departments": ['Invalid pk "999999" - object does not exist.'],
    }
    wrong = api_client.post(
        API,
        {"cadence": "weekly_operations", "scheduled_for": yesterday.isoformat(),
         "agenda_share": 0},
        format="json",
    )  # fmt: skip
    assert wrong.json()["error"]["fields"] == {
        "scheduled_for": ["A session is planned for today or later."],
        "agenda_share": [
            "The agenda share must be more than 0 and at most 1 (0.2: the worst 20%)."
        ],
    }
    assert state() == before


def test_a_department_lead_may_not_plan_one(api_client, world):
    # when
    response = _as(api_client, world.lead).post(
        API, {"cadence": "weekly_operations", "scheduled_for": tomorrow_at_nine().isoformat()},
        format="json",
    )  # fmt: skip

    # then
    assert response.status_code == 403
    assert (
        response.json()["error"]["message"] == "Only the PMO and executives plan review sessions."
    )
    assert ReviewSession.objects.count() == 0


def test_patch_while_planned_then_409_once_started(api_client, world):
    # given
    session = plan(world.pmo, departments=[world.sales.pk])
    client = _as(api_client, world.pmo)

    # when
    patched = client.patch(f"{API}{session.pk}/", {"title": "Sales weekly"}, format="json")
    client.post(f"{API}{session.pk}/start/")
    before = state()
    refused = client.patch(f"{API}{session.pk}/", {"title": "Too late"}, format="json")

    # then
    assert patched.status_code == 200
    assert patched.json()["title"] == "Sales weekly"
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "session_started"
    assert state() == before


def test_no_put_and_no_delete(api_client, world):
    # given
    session = plan(world.pmo)
    before = state()

    # when
    deleted = _as(api_client, world.pmo).delete(f"{API}{session.pk}/")
    put = api_client.put(f"{API}{session.pk}/", {"title": "x"}, format="json")

    # then
    assert deleted.status_code == put.status_code == 405
    assert state() == before


def test_the_chair_walks_the_agenda_and_closes_the_session(api_client, world, walking):
    # given
    session, item = walking
    client = _as(api_client, world.lead)
    day = timezone.localdate() + dt.timedelta(days=10)

    # when
    decided = client.post(
        f"{API}{session.pk}/items/{item.pk}/decide/",
        {"title": "Discount the bundle", "chosen_option": "10% off", "rationale": "Prices fell.",
         "reallocations": [{"from_initiative": world.initiative.pk, "to_department": "SALES",
                            "amount": "900", "unit": "currency"}]},
        format="json",
    )  # fmt: skip
    again = client.post(f"{API}{session.pk}/items/{item.pk}/defer/",
                        {"owner": world.contributor.pk, "deferred_to": day.isoformat()},
                        format="json")  # fmt: skip
    closed = client.post(f"{API}{session.pk}/close/", {"minutes_summary": "Discount agreed."})
    minutes = client.get(f"{API}{session.pk}/minutes/")

    # then
    decision = Decision.objects.get()
    assert decided.status_code == 200
    body = decided.json()
    assert (body["outcome"], body["outcome_decision"]["id"]) == ("decided", decision.pk)
    assert body["outcome_decision"]["reallocations"][0]["amount"] == "900.00"
    assert decision.review_session_id == session.pk
    assert decision.exception_id == world.exception.pk
    world.exception.refresh_from_db()
    assert world.exception.status == ExceptionStatus.DECIDED
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "item_decided"
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert minutes.status_code == 200
    assert minutes.json()["summary"] == "Discount agreed."
    assert minutes.json()["final"] is True
    assert [i["id"] for i in minutes.json()["decided"]] == [item.pk]


def test_defer_without_owner_or_date_is_400_with_field_messages(api_client, world, walking):
    # given
    session, item = walking
    before = state()

    # when
    response = _as(api_client, world.lead).post(
        f"{API}{session.pk}/items/{item.pk}/defer/", {"note": "later"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "owner": ["Name who owns the deferred item."],
        "deferred_to": ["Say by when it comes back."],
    }
    assert state() == before


def test_a_decision_with_missing_fields_is_400_and_writes_nothing(api_client, world, walking):
    # given
    session, item = walking
    before = state()

    # when
    response = _as(api_client, world.lead).post(
        f"{API}{session.pk}/items/{item.pk}/decide/", {"title": "Only a title"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "chosen_option": ["Say which option was chosen."],
        "rationale": ["Say why this option was chosen."],
    }
    assert state() == before


def test_a_closed_session_answers_409_to_everything(api_client, world, walking):
    # given
    session, item = walking
    client = _as(api_client, world.pmo)
    client.post(f"{API}{session.pk}/close/", {"minutes_summary": "Done."})
    before = state()

    # when
    answers = [
        client.post(f"{API}{session.pk}/items/{item.pk}/note/", {"note": "x"}),
        client.post(f"{API}{session.pk}/generate-agenda/"),
        client.post(f"{API}{session.pk}/start/"),
        client.post(f"{API}{session.pk}/close/", {"minutes_summary": "Again"}),
        client.patch(f"{API}{session.pk}/", {"title": "x"}, format="json"),
    ]

    # then
    assert [a.status_code for a in answers] == [409] * 5
    assert {a.json()["error"]["code"] for a in answers} == {"session_closed"}
    assert state() == before


def test_hidden_sessions_are_404_and_visible_ones_403_to_run(api_client, world):
    # given
    procurement = plan(world.pmo, departments=[world.procurement.pk])
    sales = plan(world.pmo, departments=[world.sales.pk])

    # when
    hidden = _as(api_client, world.viewer).get(f"{API}{procurement.pk}/")
    seen = api_client.get(f"{API}{sales.pk}/")
    refused = api_client.post(f"{API}{sales.pk}/start/")

    # then
    assert hidden.status_code == 404
    assert seen.status_code == 200
    assert refused.status_code == 403


def test_the_list_is_bounded_in_queries(api_client, world, django_assert_max_num_queries):
    # given
    for n in range(15):
        plan(world.pmo, title=f"Review {n}", departments=[world.sales.pk])
    client = _as(api_client, world.pmo)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(API, {"cadence": "weekly_operations"})

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 15


def test_the_schema_documents_the_sessions_api(api_client, db):
    # when
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    # then
    paths = sorted(p for p in schema["paths"] if p.startswith(API))
    assert paths == [
        API, f"{API}{{id}}/", f"{API}{{id}}/close/", f"{API}{{id}}/generate-agenda/",
        f"{API}{{id}}/history/", f"{API}{{id}}/items/{{item_id}}/decide/",
        f"{API}{{id}}/items/{{item_id}}/defer/", f"{API}{{id}}/items/{{item_id}}/note/",
        f"{API}{{id}}/minutes/", f"{API}{{id}}/start/",
    ]  # fmt: skip
    methods = set(schema["paths"][f"{API}{{id}}/"]) - {"parameters"}
    assert methods == {"get", "patch"}
