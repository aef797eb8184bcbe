"""The alignment pages: the heat-map shows each mean in its department › leader row and quarter
column (with the scores in the title and a marker when falling), a leader sees only their own
rows, the list, one assessment, recording and correcting through the forms."""

import re

import pytest

from decisions.models import AlignmentAssessment
from decisions.services.alignment import assessments_bulk_record
from tests.decisions.alignment.conftest import quarters_ago, scores
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessed(world):
    rows = [
        (world.tom, world.sales, world.before_last, scores(4, 4, 4)),
        (world.tom, world.sales, world.last, scores(4, 5, 4, "Keen on the plan.")),
        (world.ingrid, world.procurement, world.before_last, scores(5, 4, 4)),
        (world.ingrid, world.procurement, world.last, scores(3, 2, 3, "Castings are short.")),
        (world.nora, world.sales, world.last, scores(3, 3, 3)),
    ]
    return assessments_bulk_record(
        actor=world.pmo,
        rows=[
            {"leader": leader, "department": department, "period": period, **given}
            for leader, department, period, given in rows
        ],
    )


def _q(period) -> str:
    return f"Q{(period.month - 1) // 3 + 1} {period.year}"


def _cells(html: str) -> dict[tuple[str, str], str]:
    """(leader id, period) → the cell's text, from the heat-map's assessed cells."""
    found = {}
    for match in re.finditer(
        r'<td class="heatmap__cell heat--\d" title="[^"]*" data-period="([\d-]+)" '
        r'data-leader="(\d+)">(.*?)</td>',
        html,
        re.S,
    ):
        text = " ".join(re.sub(r"<[^>]+>", " ", match.group(3)).split())
        found[(match.group(2), match.group(1))] = text
    return found


def test_the_heatmap_shows_each_mean_in_its_row_and_quarter(client, world, assessed):
    # given
    client.force_login(world.pmo)

    # when
    response = client.get("/alignment/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    last, before = world.last.isoformat(), world.before_last.isoformat()
    assert _cells(html) == {
        (str(world.tom.pk), before): "4.0",
        (str(world.tom.pk), last): "4.3",
        (str(world.ingrid.pk), before): "4.3",
        (str(world.ingrid.pk), last): "2.7 ▼ low · falling",
        (str(world.nora.pk), last): "3.0",
    }
    rows = [(row.department_name, row.leader_name) for row in response.context["page"].object_list]
    assert rows == [("Procurement", "Ingrid Halvorsen"), ("Sales", "Nora Quist"),
                    ("Sales", "Tom Whitfield")]  # fmt: skip
    assert (
        f'title="{_q(world.last)}: understanding 3, commitment 2, resources 3 (mean 2.67); '
        f'falling from 4.33; low. Resistance: Castings are short."'
    ) in html
    assert [_q(q) for q in response.context["heat"].quarters] == [
        _q(quarters_ago(n)) for n in (3, 2, 1, 0)
    ]


def test_the_heatmap_filters_by_department_and_widens_to_eight_quarters(client, world, assessed):
    # given
    client.force_login(world.executive)

    # when
    response = client.get("/alignment/", {"department": world.sales.pk, "quarters": 8})

    # then
    assert [r.leader_name for r in response.context["page"].object_list] == [
        "Nora Quist",
        "Tom Whitfield",
    ]
    assert len(response.context["heat"].quarters) == 8


def test_a_bad_filter_is_a_400_on_the_form(client, world, assessed):
    # given
    client.force_login(world.pmo)

    # when
    response = client.get("/alignment/", {"quarters": 20})

    # then
    assert response.status_code == 400
    assert "quarters" in response.context["filter_form"].errors


def test_a_leader_sees_only_their_own_rows_and_assessments(client, world, assessed):
    # given
    client.force_login(world.tom)
    ingrids = next(a for a in assessed if a.leader == world.ingrid)

    # when
    heat = client.get("/alignment/")
    listed = client.get("/alignment/list/")
    other = client.get(f"/alignment/{ingrids.pk}/")
    new = client.get("/alignment/new/")

    # then
    assert [r.leader_name for r in heat.context["page"].object_list] == ["Tom Whitfield"]
    assert {a.leader for a in listed.context["page"].object_list} == {world.tom}
    assert other.status_code == 404
    assert new.status_code == 403
    assert "Record an assessment" not in heat.content.decode()


def test_someone_without_assessments_gets_the_empty_state(client, world, assessed):
    # given
    client.force_login(world.contributor)

    # when
    response = client.get("/alignment/")

    # then
    assert response.status_code == 200
    assert "No alignment assessments in these quarters." in response.content.decode()


def test_recording_through_the_form(client, world):
    # given
    client.force_login(world.pmo)
    url = f"/alignment/new/?leader={world.ingrid.pk}&department={world.procurement.pk}"

    # when
    shown = client.get(url)
    posted = client.post(
        url,
        {
            "leader": world.ingrid.pk,
            "department": world.procurement.pk,
            "period": world.last.replace(day=9).isoformat(),
            **scores(2, 3, 3, "Resists the supplier cut."),
        },
    )

    # then
    assert shown.status_code == 200
    assert shown.context["form"].initial == {
        "leader": str(world.ingrid.pk),
        "department": str(world.procurement.pk),
    }
    assessment = AlignmentAssessment.objects.get()
    assert posted.status_code == 302
    assert posted["Location"] == f"/alignment/{assessment.pk}/"
    assert (assessment.period, assessment.understanding) == (world.last, 2)
    detail = client.get(posted["Location"])
    assert "Resists the supplier cut." in detail.content.decode()
    assert detail.context["exception"].person == world.ingrid


def test_the_form_answers_the_services_refusals_as_field_errors(client, world):
    # given
    client.force_login(world.pmo)

    # when
    response = client.post(
        "/alignment/new/",
        {
            "leader": world.ingrid.pk,
            "department": world.sales.pk,
            "period": quarters_ago(-1).isoformat(),
            **scores(4, 4, 4),
        },
    )

    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["leader"] == [
        "Ingrid Halvorsen is not a member of Sales; assess one of its members."
    ]
    assert errors["period"][0].endswith("has not started yet; assess a quarter that has begun.")
    assert AlignmentAssessment.objects.count() == 0


def test_correcting_through_the_form(client, world, assessed):
    # given
    client.force_login(world.executive)
    toms = assessed[1]

    # when
    shown = client.get(f"/alignment/{toms.pk}/edit/")
    posted = client.post(
        f"/alignment/{toms.pk}/edit/",
        {
            "leader": world.tom.pk,
            "department": world.sales.pk,
            "period": world.last.isoformat(),
            **scores(4, 1, 4, "Lost two sales reps."),
        },
    )

    # then
    assert shown.status_code == 200
    assert posted.status_code == 302
    toms.refresh_from_db()
    assert (toms.commitment, toms.resistance_notes) == (1, "Lost two sales reps.")


def test_a_leader_may_not_correct_their_own(client, world, assessed):
    # given
    client.force_login(world.tom)

    # when
    response = client.post(f"/alignment/{assessed[1].pk}/edit/", {"commitment": 5})

    # then
    assert response.status_code == 403


def test_the_pages_make_a_fixed_number_of_queries(
    client, world, assessed, django_assert_max_num_queries
):
    # given: more leaders, more rows
    for n in range(12):
        leader = PersonFactory(first_name="Lead", last_name=f"{n:02d}")
        leader.memberships.create(department=world.sales, role="department_lead")
        assessments_bulk_record(
            actor=world.pmo,
            rows=[{"leader": leader, "department": world.sales, "period": world.last,
                   **scores(3, 4, 4)}],
        )  # fmt: skip
    client.force_login(world.pmo)

    # when / then
    with django_assert_max_num_queries(14):
        heat = client.get("/alignment/")
    with django_assert_max_num_queries(14):
        listed = client.get("/alignment/list/")
    assert len(heat.context["page"].object_list) == 15
    assert listed.context["page"].paginator.count == 17


def test_the_alignment_exception_page_is_for_the_pmo_and_executives_only(client, world, assessed):
    # given
    from kpis.models import KpiException

    exception = KpiException.objects.get(kind="alignment")
    url = f"/exceptions/{exception.pk}/"

    # when
    client.force_login(world.pmo)
    shown = client.get(url)
    client.force_login(world.ingrid)
    hidden = client.get(url)
    listed = client.get("/exceptions/")

    # then
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "What triggered it: the alignment of Ingrid Halvorsen" in html
    assert f"/alignment/list/?leader={world.ingrid.pk}" in html
    assert "Ripple effect" not in html
    assert shown.context["resolve_form"] is not None
    assert hidden.status_code == 404
    assert exception.title not in listed.content.decode()
