"""The exception page's "Decisions" card: the decisions answering it with their reallocation
lines, and the "Log a decision" action (pre-filled from the exception) for who may record one."""

import pytest

from tests.decisions.log_support import logged
from tests.decisions.pages.conftest import login
from tests.govern.pages.helpers import text


def _url(world) -> str:
    return f"/exceptions/{world.exception.pk}/"


def test_the_exception_page_shows_its_decisions_and_their_lines(client, world):
    # given
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "2500", "unit": "currency"}  # fmt: skip
    decision = logged(world, reallocations=[line])
    logged(world, exception=None, title="Not about this exception")
    login(client, world, "viewer")

    # when
    response = client.get(_url(world))

    # then
    page = text(response)
    assert response.status_code == 200
    assert (
        f"Decisions D-{decision.pk} Discount the spring bundle Decided Awaiting review Decided by "
        f"Lea Lead on {decision.decided_on:%-d %b %Y} · review {decision.review_date:%-d %b %Y} "
        "Discount the bundle by 10% Resources moved by this decision From to To Amount Unit "
        "Spring campaign → Sales 2,500.00 Currency"
    ) in page
    assert "Not about this exception" not in page
    assert f'href="/decisions/{decision.pk}/"' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "may"),
    [("lead", True), ("contributor", True), ("pmo", True), ("executive", True),
     ("viewer", False)],
)  # fmt: skip
def test_log_a_decision_is_offered_to_who_may(client, world, role, may):
    # given
    login(client, world, role)

    # when
    response = client.get(_url(world))

    # then
    link = f'href="/decisions/new/?exception={world.exception.pk}"'
    assert (link in response.content.decode()) is may
    assert "No decision logged on it yet." in text(response)


def test_a_resolved_exception_offers_no_new_decision(client, world):
    # given
    world.exception.status = "resolved"
    world.exception.save(update_fields=["status"])
    login(client, world, "lead")

    # when
    html = client.get(_url(world)).content.decode()

    # then
    assert "/decisions/new/" not in html


def test_the_card_says_when_a_trade_off_is_required(client, world):
    # given
    world.exception.tradeoff_required = True
    world.exception.save(update_fields=["tradeoff_required"])
    login(client, world, "lead")

    # when
    page = text(client.get(_url(world)))

    # then
    assert (
        "Trade-off decision required Its ripple reaches other departments: a decision on it "
        "names what is sacrificed."
    ) in page


@pytest.mark.parametrize(("role", "status"), [("other_lead", 404), ("outsider", 404)])
def test_who_may_not_see_the_exception_sees_none_of_its_decisions(client, world, role, status):
    # given
    logged(world)

    # when
    response = login(client, world, role).get(_url(world))

    # then
    assert response.status_code == status
    assert "Discount the spring bundle" not in response.content.decode()


def test_the_exception_page_runs_a_bounded_number_of_queries(
    client, world, django_assert_max_num_queries
):
    # given: one decision with one line, then five with three lines each
    line = {"from_initiative": world.initiative.pk, "to_department": world.sales.pk,
            "amount": "100", "unit": "fte"}  # fmt: skip
    logged(world, reallocations=[line])
    login(client, world, "lead")
    with django_assert_max_num_queries(30) as small:
        client.get(_url(world))
    for n in range(5):
        logged(world, title=f"Decision {n}", reallocations=[line] * 3)

    # when
    with django_assert_max_num_queries(30) as large:
        response = client.get(_url(world))

    # then
    assert text(response).count("Spring campaign → Sales") == 16
    assert len(large) == len(small)
