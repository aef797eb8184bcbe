"""Reading a ripple for one user: the start node parsed and gated, the engine's answer dressed
with labels, links and status for the nodes the user may see.

A node is named "<type>:<id>", or for KPIs, contracts and departments "<type>:<code>"
(`kpi:PROC-OTD`, `contract:PROC-PROD-CASTINGS`, `department:PROC`). A malformed name is a 400; a
start node that does not exist or that the user may not see is a 404. Reached nodes the user may
not see are listed with their type and department only (no label, link or status): the ripple
still says that trouble reaches Logistics without showing Logistics' plan. Department names are
shown to everyone: the organisation's structure is not a secret. The rules are in
`docs/ripple.md`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Model
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from dependencies.choices import ContractStatus, NodeType
from dependencies.engine.ripple import Reached, Summary, nearest
from dependencies.graph import graph
from dependencies.models import Contract
from govern.choices import InitiativeStatus, MilestoneStatus
from govern.errors import ApplicationError
from govern.models import Department, Initiative, Milestone, Objective
from kpis.choices import ExceptionKind, ExceptionStatus, Status
from kpis.models import Kpi, KpiException

NODE_LIMIT = 500  # reached nodes listed (the nearest first); the summary counts them all
MAX_DEPTH = 50
UNRESOLVED = (ExceptionStatus.OPEN, ExceptionStatus.ACKNOWLEDGED, ExceptionStatus.DECIDED)
MODELS: dict[str, type[Model]] = {
    NodeType.OBJECTIVE: Objective,
    NodeType.INITIATIVE: Initiative,
    NodeType.MILESTONE: Milestone,
    NodeType.KPI: Kpi,
    NodeType.CONTRACT: Contract,
    NodeType.DEPARTMENT: Department,
}
BY_CODE = {NodeType.KPI, NodeType.CONTRACT, NodeType.DEPARTMENT}
TYPE_LABELS = dict(NodeType.choices)
NODE_PATTERN = re.compile(r"^(?P<type>[a-z]+):(?P<ident>[A-Za-z0-9][A-Za-z0-9-]*)$")

# Tones (the colour of a status chip; a label always goes with it): danger, warning, success,
# neutral, muted.
KPI_TONES = {
    Status.RED: "danger",
    Status.AMBER: "warning",
    Status.ON_TRACK: "success",
    Status.MISSING: "muted",
}
CONTRACT_TONES = {
    ContractStatus.BREACHED: "danger",
    ContractStatus.AT_RISK: "warning",
    ContractStatus.AGREED: "success",
    ContractStatus.FULFILLED: "success",
    ContractStatus.CANCELLED: "muted",
}
INITIATIVE_TONES = {
    InitiativeStatus.COMPLETED: "success",
    InitiativeStatus.ON_HOLD: "warning",
    InitiativeStatus.CANCELLED: "muted",
}
RED_KINDS = (
    ExceptionKind.KPI_RED,
    ExceptionKind.MILESTONE_OVERDUE,
    ExceptionKind.CONTRACT_BREACHED,
)
TONE_RANK = {"danger": 0, "warning": 1, "success": 2, "neutral": 3, "muted": 4}


@dataclass(frozen=True)
class NodeException:
    id: int
    kind: str
    kind_label: str
    severity: float
    url: str
    tone: str


@dataclass
class RippleNode:
    """One node of a ripple as a user sees it: `visible` False leaves only type and department."""

    key: str
    type: str
    id: int
    depth: int
    path: tuple[str, ...] = ()
    via: str = ""
    department_id: int | None = None
    department: str = ""
    visible: bool = False
    label: str = ""
    url: str = ""
    status: str = ""
    status_label: str = ""
    tone: str = "neutral"
    exception: NodeException | None = None
    between: list[RippleNode] = field(default_factory=list)  # the path's nodes between

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)

    @property
    def short(self) -> str:
        """The display, with a KPI or contract named by its code alone."""
        if self.visible and self.type in (NodeType.KPI, NodeType.CONTRACT):
            return self.label.split(" — ", 1)[0]
        return self.display

    @property
    def display(self) -> str:
        """The label, or for a node the user may not see, its type and department."""
        if self.visible:
            return self.label
        name = self.type_label if self.type == NodeType.KPI else self.type_label.lower()
        article = "An" if name[0] in "aeiouAEIOU" else "A"
        return f"{article} {name} in {self.department}" if self.department else f"{article} {name}"


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    code: str
    name: str
    url: str


@dataclass
class RippleResult:
    """The ripple of one start node for one user."""

    start: RippleNode
    max_depth: int | None
    reach: float
    departments: list[DepartmentRef]
    other_departments: list[DepartmentRef]
    counts: dict[str, int]
    total: int  # every reached node, listed or not
    nodes: list[RippleNode] = field(default_factory=list)  # the nearest NODE_LIMIT of them

    @property
    def truncated(self) -> bool:
        return self.total > len(self.nodes)

    @property
    def tradeoff_required(self) -> bool:
        return bool(self.other_departments)


def parse_node(value: str | None) -> tuple[str, str]:
    """Split a node's name, "kpi:12" → ("kpi", "12"); a malformed one is a 400 that says what a
    name looks like."""
    text = (value or "").strip()
    if not text:
        raise ApplicationError(
            "Say which node: node=<type>:<id>, e.g. kpi:12 or contract:PROC-PROD-CASTINGS.",
            fields={"node": ["This parameter is required."]},
        )
    match = NODE_PATTERN.match(text)
    types = ", ".join(NodeType.values)
    if match is None or match["type"] not in MODELS:
        raise ApplicationError(
            f"“{text[:80]}” is not a node: use <type>:<id> with a type among {types}.",
            fields={"node": [f"Use <type>:<id> with a type among {types}."]},
        )
    node_type, ident = match["type"], match["ident"]
    if not ident.isdigit() and node_type not in BY_CODE:
        raise ApplicationError(
            f"A {node_type} is named by its id, e.g. {node_type}:12.",
            fields={"node": [f"A {node_type} is named by its id, e.g. {node_type}:12."]},
        )
    return node_type, ident


def parse_depth(value) -> int | None:
    """The depth limit from a query parameter: empty means none; 1 to MAX_DEPTH."""
    if value is None or str(value).strip() == "":
        return None
    try:
        depth = int(str(value).strip())
    except ValueError:
        depth = -1
    if not 1 <= depth <= MAX_DEPTH:
        message = f"Give a depth between 1 and {MAX_DEPTH}, or none for the whole ripple."
        raise ApplicationError(message, fields={"depth": [message]})
    return depth


def resolve_node(*, user, node: str) -> tuple[str, Model]:
    """The node's key ("<type>:<id>") and object, if `user` may see it; else 404."""
    node_type, ident = parse_node(node)
    model = MODELS[node_type]
    queryset = model._default_manager.restrict(user)
    # Codes start with a letter (their validators), so digits are always an id.
    lookup = {"pk": int(ident)} if ident.isdigit() else {"code": ident.upper()}
    try:
        obj = queryset.get(**lookup)
    except model.DoesNotExist:
        raise Http404(f"No {TYPE_LABELS[node_type]} matches “{node}”.") from None
    return f"{node_type}:{obj.pk}", obj


def ripple_of(
    *, user, node: str, max_depth: int | None = None, limit: int = NODE_LIMIT
) -> RippleResult:
    """The ripple of `node` as `user` may see it: the summary over every reached node, and the
    nearest `limit` nodes with their shortest paths, labels, links and status.

    The engine walks one by one only as far as the listed nodes and summarises a larger ripple
    with its bitset search (`nearest`); only the listed nodes are dressed: one query per node
    type, one for the departments, one for the exceptions, links from one `reverse` per URL
    name."""
    key, obj = resolve_node(user=user, node=node)
    index = graph().index
    summary: Summary | None = None
    reached: tuple[Reached, ...] = ()
    if key in index:
        summary, reached = nearest(index, key, limit, max_depth)
    start = RippleNode(key=key, type=key.partition(":")[0], id=int(key.partition(":")[2]), depth=0)
    start.path = (key,)
    start.department_id = summary.department if summary is not None else _department_id(obj)
    nodes = [
        RippleNode(
            key=r.key,
            type=r.type,
            id=int(r.key.partition(":")[2]),
            depth=r.depth,
            path=r.path,
            via=r.via,
            department_id=r.department,
        )
        for r in reached
    ]
    link = _Links()
    touched = sorted(summary.departments) if summary is not None else []
    wanted = {*touched, *(n.department_id for n in [start, *nodes] if n.department_id)}
    departments = _departments(wanted, link)
    _dress(user, [start, *nodes], departments, link)
    lookup = {n.key: n for n in [start, *nodes]}
    for node in nodes:
        node.between = [lookup[key] for key in node.path[1:-1]]
    others = summary.other_departments if summary is not None else frozenset()
    return RippleResult(
        start=start,
        max_depth=max_depth,
        reach=summary.reach if summary is not None else 0.0,
        departments=[departments[d] for d in touched if d in departments],
        other_departments=[departments[d] for d in touched if d in departments and d in others],
        counts={t: summary.counts.get(t, 0) if summary else 0 for t in NodeType.values},
        total=summary.reached if summary is not None else 0,
        nodes=nodes,
    )


class _Links:
    """Page links by URL name and id: one `reverse` per name (with a placeholder id), then
    string formatting, instead of one `reverse` per node."""

    PLACEHOLDER = 2_147_483_647

    def __init__(self) -> None:
        self._parts: dict[str, tuple[str, str]] = {}

    def __call__(self, name: str, pk: int) -> str:
        parts = self._parts.get(name)
        if parts is None:
            before, placeholder, after = reverse(name, args=[self.PLACEHOLDER]).partition(
                str(self.PLACEHOLDER)
            )
            if not placeholder:
                raise ValueError(f"The URL {name!r} does not carry an id.")
            parts = self._parts[name] = (before, after)
        return f"{parts[0]}{pk}{parts[1]}"


def _department_id(obj: Model) -> int | None:
    """The department of a node the graph leaves out (an inactive KPI, a closed contract)."""
    if isinstance(obj, Department):
        return obj.pk
    if isinstance(obj, Contract):
        return obj.provider_department_id
    return getattr(obj, "department_id", None)


def _departments(ids: set[int], link: _Links) -> dict[int, DepartmentRef]:
    return {
        pk: DepartmentRef(pk, code, name, link("department-detail", pk))
        for pk, code, name in Department.objects.filter(pk__in=ids).values_list(
            "pk", "code", "name"
        )
    }


def _dress(
    user, nodes: list[RippleNode], departments: dict[int, DepartmentRef], link: _Links
) -> None:
    """Labels, links and status for the nodes `user` may see (one query per node type), the
    department name for all, and the worst unresolved exception on each."""
    by_type: dict[str, list[RippleNode]] = defaultdict(list)
    for node in nodes:
        by_type[node.type].append(node)
    today = timezone.localdate()
    for node_type, group in by_type.items():
        rows = _rows(user, node_type, [n.id for n in group], today, link)
        for node in group:
            row = rows.get(node.id)
            if node.department_id in departments:
                node.department = departments[node.department_id].name
            if row is None:
                continue
            node.visible = True
            node.label, node.url, node.status, node.status_label, node.tone = row
    keys = [
        n.key
        for n in nodes
        if n.visible and n.type in (NodeType.KPI, NodeType.MILESTONE, NodeType.CONTRACT)
    ]
    if not keys:
        return
    worst: dict[str, NodeException] = {}
    exceptions = (
        KpiException.objects.restrict(user)
        .filter(subject_key__in=keys, status__in=UNRESOLVED)
        .order_by("-severity", "pk")
        .values_list("subject_key", "pk", "kind", "severity")
    )
    labels = dict(ExceptionKind.choices)
    for subject_key, pk, kind, severity in exceptions:
        if subject_key not in worst:
            worst[subject_key] = NodeException(
                pk,
                kind,
                labels.get(kind, kind),
                severity,
                link("exception-detail", pk),
                "danger" if kind in RED_KINDS else "warning",
            )
    for node in nodes:
        exception = worst.get(node.key)
        if exception is None:
            continue
        node.exception = exception
        if TONE_RANK[exception.tone] < TONE_RANK.get(node.tone, 3):
            node.tone = exception.tone


def _rows(user, node_type: str, ids: list[int], today: dt.date, link: _Links) -> dict[int, tuple]:
    """{id: (label, url, status, status label, tone)} for the visible nodes of one type, among
    `ids` (the listed nodes only)."""
    queryset = MODELS[node_type]._default_manager.restrict(user).filter(pk__in=ids).order_by()
    if node_type == NodeType.OBJECTIVE:
        return {
            pk: (title, link("objective-detail", pk), "", "", "neutral")
            for pk, title in queryset.values_list("pk", "title")
        }
    if node_type == NodeType.INITIATIVE:
        labels = dict(InitiativeStatus.choices)
        return {
            pk: (
                name,
                link("initiative-detail", pk),
                status,
                labels.get(status, status),
                INITIATIVE_TONES.get(status, "neutral"),
            )
            for pk, name, status in queryset.values_list("pk", "name", "status")
        }
    if node_type == NodeType.MILESTONE:
        labels = dict(MilestoneStatus.choices)
        found = {}
        for pk, name, status, due, initiative in queryset.values_list(
            "pk", "name", "status", "due_date", "initiative_id"
        ):
            url = link("initiative-detail", initiative) + f"#milestone-{pk}"
            if status not in (MilestoneStatus.DONE, MilestoneStatus.CANCELLED) and due < today:
                found[pk] = (name, url, "overdue", f"Overdue since {due:%d %b}", "danger")
            else:
                tone = {MilestoneStatus.DONE: "success", MilestoneStatus.CANCELLED: "muted"}
                found[pk] = (
                    name,
                    url,
                    status,
                    labels.get(status, status),
                    tone.get(status, "neutral"),
                )
        return found
    if node_type == NodeType.KPI:
        labels = dict(Status.choices)
        return {
            pk: (
                f"{code} — {name}",
                link("kpi-detail", pk),
                status,
                labels.get(status, status),
                KPI_TONES.get(status, "neutral"),
            )
            for pk, code, name, status in queryset.values_list("pk", "code", "name", "status")
        }
    if node_type == NodeType.CONTRACT:
        labels = dict(ContractStatus.choices)
        return {
            pk: (
                f"{code} — {title}",
                link("contract-detail", pk),
                status,
                labels.get(status, status),
                CONTRACT_TONES.get(status, "neutral"),
            )
            for pk, code, title, status in queryset.values_list("pk", "code", "title", "status")
        }
    return {
        pk: (name, link("department-detail", pk), "", "", "neutral")
        for pk, name in queryset.values_list("pk", "name")
    }
