"""Management by exception: which open exceptions make a review session's agenda.

Pure: candidate rows in, the chosen rows out, in agenda order. The exceptions are ranked by
severity, worst first (ties: the one opened earlier first, then the lower id), and cut to the top
`share` of them: ceil(share × count), at least one when there are any. The rules are in
docs/review-sessions.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

# share × count is rounded to this many decimals before the ceiling, so that 0.1 × 30 (which is
# 3.0000000000000004 in binary floating point) gives 3, not 4.
ROUNDING = 9


@dataclass(frozen=True)
class Candidate:
    """An open exception that may make the agenda."""

    id: int
    severity: float
    opened_at: dt.datetime


def agenda_size(count: int, share: float) -> int:
    """How many of `count` open exceptions make the agenda at `share` (0 < share ≤ 1):
    ceil(share × count), at least 1 when there are any, never more than `count`."""
    if not (isinstance(share, int | float) and math.isfinite(share) and 0 < share <= 1):
        raise ValueError(f"The agenda share must be more than 0 and at most 1; got {share!r}.")
    if count <= 0:
        return 0
    return max(1, min(count, math.ceil(round(share * count, ROUNDING))))


def _rank_key(candidate: Candidate) -> tuple[float, dt.datetime, int]:
    severity = candidate.severity
    worst_first = -severity if severity is not None and math.isfinite(severity) else math.inf
    return (worst_first, candidate.opened_at, candidate.id)


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Worst first: severity descending, then opened earlier, then lower id."""
    return sorted(candidates, key=_rank_key)


def top_exceptions(candidates: Iterable[Candidate], share: float) -> list[Candidate]:
    """The top `share` of the candidates, in rank order (see `agenda_size`)."""
    ranked = rank(candidates)
    return ranked[: agenda_size(len(ranked), share)]
