"""The agenda cut, by hand: ceil(share × count), at least one when there are any; ranked by
severity (worst first), then opened earlier, then lower id."""

import datetime as dt

import pytest

from decisions.engine.agenda import Candidate, agenda_size, rank, top_exceptions

T0 = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


def _at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("count", "share", "size"),
    [
        (10, 0.2, 2),
        (10, 0.25, 3),  # 2.5 → 3
        (10, 1.0, 10),
        (30, 0.1, 3),  # 0.1 × 30 is 3.0000000000000004 in floating point: still 3
        (3, 0.2, 1),  # 0.6 → 1
        (1, 0.01, 1),  # at least one
        (7, 0.5, 4),
        (0, 0.2, 0),
    ],
)
def test_agenda_size(count, share, size):
    # when / then
    assert agenda_size(count, share) == size


@pytest.mark.parametrize("share", [0, -0.1, 1.01, float("nan"), float("inf")])
def test_a_share_outside_zero_to_one_is_refused(share):
    # when / then
    with pytest.raises(ValueError, match="more than 0 and at most 1"):
        agenda_size(5, share)


def test_ties_go_to_the_one_opened_first_then_the_lower_id():
    # given
    candidates = [
        Candidate(5, 7.0, _at(2)),
        Candidate(3, 7.0, _at(1)),
        Candidate(4, 9.0, _at(5)),
        Candidate(2, 7.0, _at(1)),
        Candidate(1, 1.0, _at(0)),
    ]

    # when
    ranked = rank(candidates)

    # then
    assert [c.id for c in ranked] == [4, 2, 3, 5, 1]


def test_the_top_share_in_rank_order():
    # given: ten distinct severities
    candidates = [Candidate(i, s, _at(i)) for i, s in enumerate([3, 9, 1, 7, 5, 10, 2, 8, 4, 6])]

    # when
    top_fifth = top_exceptions(candidates, 0.2)
    top_quarter = top_exceptions(candidates, 0.25)

    # then
    assert [(c.id, c.severity) for c in top_fifth] == [(5, 10), (1, 9)]
    assert [(c.id, c.severity) for c in top_quarter] == [(5, 10), (1, 9), (7, 8)]


def test_no_candidates_no_agenda():
    # when / then
    assert top_exceptions([], 0.2) == []
