"""/api/v1/alignment-assessments/: list with filters, record, retrieve, correct with PATCH; no PUT
and no DELETE; a leader sees only their own; 400 with field messages; bounded queries."""

import pytest

from decisions.models import AlignmentAssessment
from decisions.services.alignment import assessments_bulk_record
from govern.models import AuditEvent
from kpis.models import KpiException
from tests.decisions.alignment.conftest import scores

pytestmark = pytest.mark.django_db
URL = "/api/v1/alignment-assessments/"


@pytest.fixture
def assessed(world):
    """Tom and Ingrid over two quarters, Nora last quarter."""
    rows = [
        (world.tom, world.sales, world.before_last, scores(4, 4, 4)),
        (world.tom, world.sales, world.last, scores(4, 5, 4, "Keen.")),
        (world.ingrid, world.procurement, world.before_last, scores(5, 4, 4)),
        (world.ingrid, world.procurement, world.last, scores(3, 2, 3, "Castings.")),
        (world.nora, world.sales, world.last, scores(3, 3, 3)),
    ]
    return assessments_bulk_record(
        actor=world.pmo,
        rows=[
            {"leader": leader, "department": department, "period": period, **given}
            for leader, department, period, given in rows
        ],
    )


def _who(rows) -> list[tuple[str, str]]:
    return [(row["leader_name"], row["quarter"]) for row in rows]


def _q(period) -> str:
    return f"Q{(period.month - 1) // 3 + 1} {period.year}"


def test_the_pmo_records_one(api_client, world):
    # given
    api_client.force_authenticate(world.pmo)
    body = {
        "leader": world.ingrid.pk,
        "department": "PROC",
        "period": world.last.replace(day=20).isoformat(),
        **scores(4, 2, 3, "Doubts the consolidation."),
    }

    # when
    response = api_client.post(URL, body, format="json")

    # then
    assert response.status_code == 201
    data = response.json()
    assessment = AlignmentAssessment.objects.get()
    assert response["Location"].endswith(f"{URL}{assessment.pk}/")
    assert {
        k: data[k] for k in ("period", "quarter", "leader_name", "department_name", "score")
    } == {
        "period": world.last.isoformat(),
        "quarter": _q(world.last),
        "leader_name": "Ingrid Halvorsen",
        "department_name": "Procurement",
        "score": 3.0,
    }
    assert data["assessed_by_name"] == "Elena Novak"
    assert KpiException.objects.get(kind="alignment").person == world.ingrid


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"understanding": 0}, {"understanding": ["Score it with a whole number from 1 to 5."]}),
        ({"commitment": 6}, {"commitment": ["Score it with a whole number from 1 to 5."]}),
        ({"resources": 3.5}, {"resources": ["A valid integer is required."]}),
        ({"resources": "many"}, {"resources": ["A valid integer is required."]}),
        ({"period": "2026-13-01"}, None),
        ({"department": "SALES"},
         {"leader": ["Ingrid Halvorsen is not a member of Sales; assess one of its members."]}),
        ({"understanding": None}, {"understanding": ["This field may not be null."]}),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_with_field_messages_and_writes_nothing(
    api_client, world, change, fields
):
    # given
    api_client.force_authenticate(world.executive)
    body = {
        "leader": world.ingrid.pk,
        "department": "PROC",
        "period": world.last.isoformat(),
        **scores(4, 4, 4),
        **change,
    }

    # when
    response = api_client.post(URL, body, format="json")

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    if fields is None:
        assert list(error["fields"]) == ["period"]
    else:
        assert error["fields"] == fields
    assert AlignmentAssessment.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_quarter_still_to_come_and_a_duplicate_are_refused(api_client, world, assessed):
    # given
    from tests.decisions.alignment.conftest import quarters_ago

    api_client.force_authenticate(world.pmo)
    base = {"leader": world.tom.pk, "department": "SALES", **scores(4, 4, 4)}
    future = quarters_ago(-1)

    # when
    ahead = api_client.post(URL, {**base, "period": future.isoformat()}, format="json")
    twice = api_client.post(URL, {**base, "period": world.last.isoformat()}, format="json")

    # then
    assert ahead.json()["error"]["fields"] == {
        "period": [f"{_q(future)} has not started yet; assess a quarter that has begun."]
    }
    assert twice.json()["error"]["fields"] == {
        "period": [
            f"Tom Whitfield already has an assessment for Sales in {_q(world.last)}; "
            "correct that one instead."
        ]
    }
    assert AlignmentAssessment.objects.count() == 5


@pytest.mark.parametrize("who", ["tom", "contributor"])
def test_others_may_not_record(api_client, world, who):
    # given
    api_client.force_authenticate(getattr(world, who))

    # when
    response = api_client.post(
        URL,
        {"leader": world.tom.pk, "department": "SALES", "period": world.last.isoformat(),
         **scores(1, 1, 1)},
        format="json",
    )  # fmt: skip

    # then
    assert response.status_code == 403
    assert AlignmentAssessment.objects.count() == 0


def test_a_leader_sees_only_their_own(api_client, world, assessed):
    # given
    api_client.force_authenticate(world.tom)
    ingrids = next(a for a in assessed if a.leader == world.ingrid)

    # when
    listed = api_client.get(URL)
    other = api_client.get(f"{URL}{ingrids.pk}/")
    patched = api_client.patch(f"{URL}{assessed[1].pk}/", {"commitment": 5}, format="json")

    # then
    assert _who(listed.json()["results"]) == [
        ("Tom Whitfield", _q(world.last)),
        ("Tom Whitfield", _q(world.before_last)),
    ]
    assert other.status_code == 404
    assert patched.status_code == 403


def test_the_pmo_sees_everyone_and_filters(api_client, world, assessed):
    # given
    api_client.force_authenticate(world.pmo)
    last = world.last.isoformat()
    mid_last = world.last.replace(day=15).isoformat()

    # when
    everyone = api_client.get(URL)
    by_leader = api_client.get(URL, {"leader": world.ingrid.pk})
    by_department = api_client.get(URL, {"department": world.sales.pk})
    by_period = api_client.get(URL, {"period": mid_last})
    from_last = api_client.get(URL, {"from": mid_last})
    to_before = api_client.get(URL, {"to": world.before_last.isoformat()})
    bad = api_client.get(URL, {"from": "yesterday"})

    # then
    assert len(everyone.json()["results"]) == 5
    assert _who(by_leader.json()["results"]) == [
        ("Ingrid Halvorsen", _q(world.last)),
        ("Ingrid Halvorsen", _q(world.before_last)),
    ]
    assert {r["department_name"] for r in by_department.json()["results"]} == {"Sales"}
    assert {r["period"] for r in by_period.json()["results"]} == {last}
    assert len(from_last.json()["results"]) == 3
    assert {r["period"] for r in to_before.json()["results"]} == {world.before_last.isoformat()}
    assert bad.status_code == 400


def test_patch_corrects_and_put_and_delete_are_not_allowed(api_client, world, assessed):
    # given
    api_client.force_authenticate(world.pmo)
    ingrids = next(a for a in assessed if a.leader == world.ingrid and a.period == world.last)

    # when
    patched = api_client.patch(
        f"{URL}{ingrids.pk}/", {"commitment": 4, "resources": 4}, format="json"
    )
    put = api_client.put(f"{URL}{ingrids.pk}/", {"commitment": 1}, format="json")
    deleted = api_client.delete(f"{URL}{ingrids.pk}/")
    history = api_client.get(f"{URL}{ingrids.pk}/history/")

    # then
    assert patched.status_code == 200
    assert (patched.json()["commitment"], patched.json()["resistance_notes"]) == (4, "Castings.")
    assert (put.status_code, deleted.status_code) == (405, 405)
    assert AlignmentAssessment.objects.filter(pk=ingrids.pk).exists()
    assert [e["action"] for e in history.json()["results"]] == ["update", "create"]
    # 4.33 → 3.67 (3, 4, 4): neither low nor falling by 1: her exception is resolved
    assert KpiException.objects.get(kind="alignment").status == "resolved"


def test_the_list_makes_a_fixed_number_of_queries(
    api_client, world, assessed, django_assert_max_num_queries
):
    # given
    api_client.force_authenticate(world.pmo)

    # when / then
    with django_assert_max_num_queries(6):
        response = api_client.get(URL)
    assert response.status_code == 200


def test_the_paths_are_in_the_schema_without_put_or_delete(api_client, world):
    # when
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()

    # then
    paths = {
        path: sorted(item)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/alignment-assessments/")
    }
    assert paths == {
        "/api/v1/alignment-assessments/": ["get", "post"],
        "/api/v1/alignment-assessments/{id}/": ["get", "patch"],
        "/api/v1/alignment-assessments/{id}/history/": ["get"],
    }
    listed = schema["paths"]["/api/v1/alignment-assessments/"]["get"]
    names = {p["name"] for p in listed["parameters"]}
    assert {"leader", "department", "period", "from", "to", "q"} <= names
