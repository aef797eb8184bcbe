"""Reads for the decision log: scoped lists, the decisions of an exception, and what a user may
do with a decision."""

import pytest

from decisions import selectors, services
from tests.decisions.log_support import logged, tradeoff


def test_the_decisions_of_an_exception_are_those_answering_it_newest_first(world):
    # given
    first = logged(world)
    second = logged(world, propose=True)
    logged(world, exception=None)

    # when
    found = list(selectors.decisions_for_exception(user=world.viewer, exception=world.exception))

    # then
    assert found == [second, first]


def test_an_outsider_sees_none_of_them(world):
    # given
    logged(world)

    # when
    found = list(selectors.decisions_for_exception(user=world.outsider, exception=world.exception))

    # then
    assert found == []


@pytest.mark.parametrize(
    ("who", "crossing", "proposed_actions", "decided_actions"),
    [
        ("lead", False, {"decide"}, {"supersede"}),
        ("pmo", False, {"decide"}, {"supersede"}),
        ("executive", False, {"decide"}, {"supersede"}),
        ("contributor", False, set(), set()),
        ("viewer", False, set(), set()),
        ("lead", True, set(), set()),
        ("pmo", True, set(), set()),
        ("executive", True, {"decide"}, {"supersede"}),
    ],
)
def test_what_each_role_may_do_with_a_decision(
    world, who, crossing, proposed_actions, decided_actions
):
    # given
    extra = tradeoff(world) if crossing else {}
    proposed = logged(world, world.contributor, propose=True, **extra)
    decided = services.decision_decide(actor=world.executive, decision=logged(
        world, world.contributor, propose=True, **extra
    ))  # fmt: skip

    # when
    person = getattr(world, who)
    actions = (
        selectors.decision_actions(person, proposed),
        selectors.decision_actions(person, decided),
    )

    # then
    assert actions == (proposed_actions, decided_actions)


def test_the_list_filters_by_department_and_cross_department(world):
    # given
    within = logged(world, exception=None)
    crossing = logged(world, world.executive, exception=None, **tradeoff(world))

    # when
    crossing_only = list(
        selectors.decision_list(user=world.pmo, filters={"cross_department": "true"})
    )
    in_sales = list(selectors.decision_list(user=world.pmo, filters={"department": world.sales.pk}))

    # then
    assert crossing_only == [crossing]
    assert in_sales == [crossing, within]


def test_a_procurement_lead_sees_a_trade_off_on_their_objective(world):
    # given
    crossing = logged(world, world.executive, exception=None, **tradeoff(world))
    logged(world, exception=None)

    # when
    found = list(selectors.decision_list(user=world.other_lead))

    # then
    assert found == [crossing]
