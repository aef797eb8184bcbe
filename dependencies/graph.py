"""The dependency graph, built from the database and cached with invalidation.

`graph()` answers the current graph: a process-local memo while the cached version key is
unchanged, else the pickled graph from the cache (Redis in production, local memory otherwise),
else a fresh `rebuild()`: one query per node type and per edge type (`values_list`, no per-row
queries), indexed by the pure engine (`dependencies.engine.ripple.build_index`).

Every change that alters the graph's shape (a KPI, objective, initiative, milestone, contract or
department saved or deleted, a link added or removed) bumps the version key through the receivers
connected below when its transaction commits (other processes rebuild only once the change is
visible; a rolled-back change leaves the shared graph alone), and schedules one full ripple sync
on commit per transaction. Until then the changing transaction reads a private graph built from
what it sees. Bulk writes that bypass signals (`seed_demo`, the benchmark) call
`invalidate_graph()`. The model is in `docs/ripple.md`.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from dependencies.choices import CLOSED, EdgeKind, NodeType
from dependencies.engine.ripple import GraphIndex, Node, build_index
from dependencies.models import Contract
from govern.models import Department, Initiative, Milestone, Objective
from kpis.models import Kpi

VERSION_KEY = "dependencies:graph:version"
GRAPH_KEY = "dependencies:graph:{version}"
GRAPH_TIMEOUT = 60 * 60 * 24  # a day: a version nobody asks for again expires on its own

# The fields whose change alters the graph; a save with `update_fields` outside them does not.
SHAPE_FIELDS: dict[type, frozenset[str]] = {
    Department: frozenset(),
    Objective: frozenset({"department", "weight"}),
    Initiative: frozenset({"department"}),
    Milestone: frozenset({"initiative"}),
    Kpi: frozenset({"department", "criticality", "is_active"}),
    Contract: frozenset(
        {"status", "provider_department", "consumer_department", "criticality", "service_kpi"}
    ),
}
LINKS = (
    Kpi.objectives.through,
    Kpi.initiatives.through,
    Initiative.objectives.through,
    *(getattr(Contract, name).through for name in Contract.TERM_M2M_FIELDS),
)


@dataclass(eq=False)
class Graph:
    """The indexed graph and the version it was built for."""

    index: GraphIndex
    version: str

    def __contains__(self, key: object) -> bool:
        return key in self.index


def node_key(node_type: str, pk: int) -> str:
    return f"{node_type}:{pk}"


# --- Building ---------------------------------------------------------------------------------


def rebuild() -> GraphIndex:
    """Build the graph from the database: 14 queries whatever its size. Fulfilled and cancelled
    contracts and inactive KPIs are left out: they carry no trouble."""
    nodes: dict[str, Node] = {}
    sources: list[str] = []
    targets: list[str] = []
    kinds: list[str] = []

    def link(rows, source_type: str, target_type: str, kind: str) -> None:
        for source, target in rows:
            sources.append(f"{source_type}:{source}")
            targets.append(f"{target_type}:{target}")
            kinds.append(kind)

    department_type, objective_type = NodeType.DEPARTMENT.value, NodeType.OBJECTIVE.value
    initiative_type, milestone_type = NodeType.INITIATIVE.value, NodeType.MILESTONE.value
    kpi_type, contract_type = NodeType.KPI.value, NodeType.CONTRACT.value
    for pk in Department.objects.values_list("pk", flat=True):
        nodes[f"{department_type}:{pk}"] = Node(department_type, pk)
    for pk, department, weight in Objective.objects.values_list("pk", "department_id", "weight"):
        nodes[f"{objective_type}:{pk}"] = Node(objective_type, department, weight)
    for pk, department in Initiative.objects.values_list("pk", "department_id"):
        nodes[f"{initiative_type}:{pk}"] = Node(initiative_type, department)
    milestones = list(
        Milestone.objects.values_list("pk", "initiative_id", "initiative__department_id")
    )
    for pk, _, department in milestones:
        nodes[f"{milestone_type}:{pk}"] = Node(milestone_type, department)
    kpis = Kpi.objects.filter(is_active=True)
    for pk, department, criticality in kpis.values_list("pk", "department_id", "criticality"):
        nodes[f"{kpi_type}:{pk}"] = Node(kpi_type, department, criticality)
    contracts = Contract.objects.exclude(status__in=CLOSED)
    services = []
    for pk, department, criticality, service_kpi in contracts.values_list(
        "pk", "provider_department_id", "criticality", "service_kpi_id"
    ):
        nodes[f"{contract_type}:{pk}"] = Node(contract_type, department, criticality)
        if service_kpi is not None:
            services.append((service_kpi, pk))

    active = {"kpi__is_active": True}
    link(
        Kpi.objectives.through.objects.filter(**active).values_list("kpi_id", "objective_id"),
        kpi_type,
        objective_type,
        EdgeKind.MEASURES,
    )
    link(
        Kpi.initiatives.through.objects.filter(**active).values_list("kpi_id", "initiative_id"),
        kpi_type,
        initiative_type,
        EdgeKind.MEASURES,
    )
    link(
        Initiative.objectives.through.objects.values_list("initiative_id", "objective_id"),
        initiative_type,
        objective_type,
        EdgeKind.SERVES,
    )
    link(((pk, i) for pk, i, _ in milestones), milestone_type, initiative_type, EdgeKind.PART_OF)
    closed = {"contract__status__in": CLOSED}
    for name, source_type, field in (
        ("provider_milestones", milestone_type, "milestone_id"),
        ("provider_initiatives", initiative_type, "initiative_id"),
    ):
        through = getattr(Contract, name).through.objects.exclude(**closed)
        link(
            through.values_list(field, "contract_id"), source_type, contract_type, EdgeKind.PRODUCES
        )
    link(
        (pair for pair in services if f"{kpi_type}:{pair[0]}" in nodes),
        kpi_type,
        contract_type,
        EdgeKind.MEASURED_BY,
    )
    for name, target_type, field, extra in (
        ("consumer_initiatives", initiative_type, "initiative_id", {}),
        ("consumer_milestones", milestone_type, "milestone_id", {}),
        ("consumer_kpis", kpi_type, "kpi_id", active),
    ):
        through = getattr(Contract, name).through.objects.exclude(**closed).filter(**extra)
        link(
            through.values_list("contract_id", field),
            contract_type,
            target_type,
            EdgeKind.DEPENDS_ON,
        )
    for key, node in nodes.items():
        if node.type != department_type and node.department is not None:
            sources.append(key)
            targets.append(f"{department_type}:{node.department}")
            kinds.append(EdgeKind.OWNED_BY)
    return build_index((sources, targets, [str(k) for k in kinds]), nodes)


# --- The cache ----------------------------------------------------------------------------------

_memo: Graph | None = None
_memo_lock = threading.Lock()
_local = threading.local()  # .pending: the graph of a transaction that changed it


def graph() -> Graph:
    """The current graph: memoised per process while the shared version is unchanged. Inside a
    transaction that changed the graph, a private one built from what it sees, never shared."""
    global _memo
    connection = transaction.get_connection()
    if connection.in_atomic_block and _already_scheduled(connection, _bump_on_commit):
        pending = getattr(_local, "pending", None)
        if pending is None:
            pending = _local.pending = Graph(index=rebuild(), version="uncommitted")
        return pending
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    memo = _memo
    if memo is not None and memo.version == version:
        return memo
    with _memo_lock:
        if _memo is not None and _memo.version == version:
            return _memo
        index = cache.get(GRAPH_KEY.format(version=version))
        if index is None:
            index = rebuild()
            cache.set(GRAPH_KEY.format(version=version), index, GRAPH_TIMEOUT)
        _memo = Graph(index=index, version=version)
        return _memo


def invalidate_graph(*, sync: bool = True) -> None:
    """Mark the graph stale: for everyone once the transaction commits (at once outside one),
    for this transaction straight away; and (with `sync`) schedule one full ripple sync on
    commit. Bulk writes that bypass model signals call this."""
    _local.pending = None
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _bump()
    elif not _already_scheduled(connection, _bump_on_commit):
        transaction.on_commit(_bump_on_commit)
    if sync:
        from dependencies.services.ripple import schedule_ripple_sync

        schedule_ripple_sync()


def _bump() -> None:
    """A new shared version: every process rebuilds (or loads) the graph on its next read."""
    global _memo
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    _memo = None
    _local.pending = None


def _bump_on_commit() -> None:
    _bump()


def _already_scheduled(connection, callback) -> bool:
    """Is `callback` already queued to run when the current transaction commits?"""
    return any(entry[1] is callback for entry in connection.run_on_commit)


# --- Keeping it in sync -------------------------------------------------------------------------


def _on_save(sender, instance, created: bool = False, update_fields=None, raw=False, **kwargs):
    if raw:
        return
    if not created and update_fields is not None:
        if not SHAPE_FIELDS.get(sender, frozenset()) & {
            name.removesuffix("_id") for name in update_fields
        }:
            return
    invalidate_graph()


def _on_delete(sender, instance, **kwargs):
    invalidate_graph()


def _on_links(sender, instance, action: str, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        invalidate_graph()


for _model in SHAPE_FIELDS:
    post_save.connect(_on_save, sender=_model, dispatch_uid=f"ripple-graph-save-{_model.__name__}")
    post_delete.connect(
        _on_delete, sender=_model, dispatch_uid=f"ripple-graph-delete-{_model.__name__}"
    )
for _through in LINKS:
    m2m_changed.connect(
        _on_links, sender=_through, dispatch_uid=f"ripple-graph-{_through.__name__}"
    )
    post_save.connect(
        _on_delete, sender=_through, dispatch_uid=f"ripple-graph-row-{_through.__name__}"
    )
    post_delete.connect(
        _on_delete, sender=_through, dispatch_uid=f"ripple-graph-unrow-{_through.__name__}"
    )
