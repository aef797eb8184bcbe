"""Reads for the alignment assessments: the list, one assessment, and the heat-map (department ›
leader × quarter). Every read is scoped to the requesting user (`decisions.permissions`: the PMO
and executives see every assessment, a leader their own) and runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import QuerySet

from decisions.engine import alignment as engine
from decisions.engine.alignment import quarter_label, quarter_start
from decisions.filtersets_alignment import AlignmentFilterSet
from decisions.models import AlignmentAssessment
from govern import permissions as perms
from govern.selectors import apply_filters
from kpis.choices import ExceptionKind
from kpis.models import KpiException
from kpis.services.exceptions import UNRESOLVED

RELATED = ("leader", "department", "assessed_by")
QUARTERS_MIN, QUARTERS_MAX, QUARTERS_DEFAULT = 4, 8, 4
NOTES_EXCERPT = 120


def may_record(user) -> bool:
    """May `user` record and correct assessments (the PMO and executives)?"""
    return perms.can_add(user, AlignmentAssessment)


def assessment_list(
    *, user, filters: Mapping[str, Any] | None = None
) -> QuerySet[AlignmentAssessment]:
    """The assessments the user may see, newest quarter first, with the leader, department and
    assessor joined in (one query per page). Filters: `leader`, `department`, `period`, `from`,
    `to`, `q` (`decisions.filtersets_alignment.AlignmentFilterSet`)."""
    queryset = (
        AlignmentAssessment.objects.restrict(user)
        .select_related(*RELATED)
        .order_by("-period", "department__name", "leader__last_name", "leader__first_name", "pk")
    )
    return apply_filters(AlignmentFilterSet, queryset, filters, user=user)


def assessment_get(*, user, pk) -> AlignmentAssessment:
    """One assessment through the gate: 404 when the user may not see it."""
    return perms.access(
        AlignmentAssessment,
        user,
        pk,
        queryset=AlignmentAssessment.objects.select_related(*RELATED),
    )


def assessment_previous(*, assessment: AlignmentAssessment) -> AlignmentAssessment | None:
    """The same leader's previous assessed quarter in the same department (what "falling" is
    measured against), or None."""
    return (
        AlignmentAssessment.objects.filter(
            leader_id=assessment.leader_id,
            department_id=assessment.department_id,
            period__lt=assessment.period,
        )
        .order_by("-period")
        .first()
    )


@dataclass(frozen=True)
class Verdict:
    low: bool
    falling: bool
    change: float | None  # the mean against the previous assessed quarter


def assessment_verdict(
    *, assessment: AlignmentAssessment, previous: AlignmentAssessment | None
) -> Verdict:
    """Is this assessment low, is it falling against `previous` (from `assessment_previous`)?"""
    rows = [a for a in (previous, assessment) if a is not None]
    frame = pd.DataFrame.from_records(
        [tuple(getattr(a, "pk" if c == "id" else c) for c in engine.COLUMNS) for a in rows],
        columns=engine.COLUMNS,
    )
    last = engine.evaluate(
        frame, low=settings.GOVERN_ALIGNMENT_LOW, drop=settings.GOVERN_ALIGNMENT_DROP
    ).iloc[-1]
    change = None if pd.isna(last["change"]) else float(last["change"])
    return Verdict(low=bool(last["low"]), falling=bool(last["falling"]), change=change)


def assessment_exception(*, user, assessment: AlignmentAssessment) -> KpiException | None:
    """The leader's unresolved alignment exception, when the user may see it (PMO, executives)."""
    return (
        KpiException.objects.restrict(user)
        .filter(kind=ExceptionKind.ALIGNMENT, person_id=assessment.leader_id)
        .filter(status__in=UNRESOLVED)
        .first()
    )


def quarters_back(today: dt.date, count: int) -> list[dt.date]:
    """The `count` quarters ending with the one holding `today`, oldest first."""
    current = quarter_start(today)
    index = current.year * 4 + (current.month - 1) // 3
    return [
        dt.date((index - back) // 4, 3 * ((index - back) % 4) + 1, 1)
        for back in range(count - 1, -1, -1)
    ]


def tone(score: float) -> int:
    """The colour step 1–5 of a mean score (rounded half up to the nearest whole score)."""
    return min(max(int(score + 0.5), 1), 5)


@dataclass(frozen=True)
class HeatCell:
    assessment_id: int
    period: dt.date
    score: float
    understanding: int
    commitment: int
    resources: int
    notes: str
    low: bool
    falling: bool
    previous_score: float | None

    @property
    def tone(self) -> int:
        return tone(self.score)

    @property
    def summary(self) -> str:
        """The tooltip: the three scores, the trend and the start of the notes."""
        text = (
            f"{quarter_label(self.period)}: understanding {self.understanding}, commitment "
            f"{self.commitment}, resources {self.resources} (mean {self.score:.2f})"
        )
        if self.falling and self.previous_score is not None:
            text += f"; falling from {self.previous_score:.2f}"
        if self.low:
            text += "; low"
        if self.notes:
            excerpt = self.notes if len(self.notes) <= NOTES_EXCERPT else self.notes[:117] + "…"
            text += f". Resistance: {excerpt}"
        return text


@dataclass(frozen=True)
class HeatSlot:
    """One column of a row: the quarter and its assessment (None when not assessed)."""

    period: dt.date
    cell: HeatCell | None


@dataclass(frozen=True)
class HeatRow:
    department_id: int
    department_name: str
    leader_id: int
    leader_name: str
    slots: list[HeatSlot]

    @property
    def concern(self) -> bool:
        """Is the latest assessed quarter shown low or falling?"""
        cells = [slot.cell for slot in self.slots if slot.cell is not None]
        return bool(cells) and (cells[-1].low or cells[-1].falling)


@dataclass
class HeatMap:
    quarters: list[dt.date]
    rows: list[HeatRow] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [quarter_label(q) for q in self.quarters]


HEAT_COLUMNS = [
    *engine.COLUMNS, "resistance_notes", "leader__first_name", "leader__last_name",
    "leader__username", "department__name",
]  # fmt: skip


def heatmap(
    *,
    user,
    today: dt.date,
    department_id: int | None = None,
    quarters: int = QUARTERS_DEFAULT,
) -> HeatMap:
    """The heat-map the user may see: one row per department › leader assessed in the last
    `quarters` quarters (to the one holding `today`), one column per quarter, each cell the mean
    score with the three scores, whether it is low and whether it fell against the leader's
    previous assessed quarter in the department (which may lie before the first column). One
    query; the arithmetic is `decisions.engine.alignment`."""
    count = min(max(int(quarters), QUARTERS_MIN), QUARTERS_MAX)
    columns = quarters_back(today, count)
    queryset = AlignmentAssessment.objects.restrict(user).filter(period__lte=columns[-1])
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    frame = pd.DataFrame.from_records(
        list(queryset.order_by().values_list(*HEAT_COLUMNS)), columns=HEAT_COLUMNS
    )
    result = HeatMap(quarters=columns)
    if frame.empty:
        return result
    evaluated = engine.evaluate(
        frame, low=settings.GOVERN_ALIGNMENT_LOW, drop=settings.GOVERN_ALIGNMENT_DROP
    )
    shown = evaluated[evaluated["period"] >= columns[0]]
    cells: dict[tuple[int, int], dict[dt.date, HeatCell]] = {}
    names: dict[tuple[int, int], tuple[str, str]] = {}
    for row in shown.itertuples(index=False):
        key = (int(row.department_id), int(row.leader_id))
        full = f"{row.leader__first_name} {row.leader__last_name}".strip()
        names[key] = (row.department__name, full or row.leader__username)
        cells.setdefault(key, {})[row.period] = HeatCell(
            assessment_id=int(row.id),
            period=row.period,
            score=float(row.score),
            understanding=int(row.understanding),
            commitment=int(row.commitment),
            resources=int(row.resources),
            notes=row.resistance_notes or "",
            low=bool(row.low),
            falling=bool(row.falling),
            previous_score=None if pd.isna(row.previous_score) else float(row.previous_score),
        )
    ordered = sorted(names, key=lambda k: (names[k][0].lower(), names[k][1].lower(), k))
    result.rows = [
        HeatRow(
            department_id=department,
            department_name=names[(department, leader)][0],
            leader_id=leader,
            leader_name=names[(department, leader)][1],
            slots=[HeatSlot(q, cells[(department, leader)].get(q)) for q in columns],
        )
        for department, leader in ordered
    ]
    return result
