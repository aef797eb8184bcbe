"""The ripple effect: what trouble at one node of the dependency graph reaches downstream.

Pure: an edge list and node attributes in, reached nodes with their shortest paths out; no ORM,
no I/O. The entry points:

- `build_index(edges, nodes) -> GraphIndex`: the graph as integer ids and a CSR adjacency, once;
- `ripple(index, starts, max_depth=None) -> list[Ripple]`: per start, a breadth-first search:
  reached nodes with depth and path (`Ripple.nodes(limit)`), and the summary;
- `summarize(index, starts, max_depth=None) -> list[Summary]`: the summaries only, for many
  starts at once (bitset searches, 256 starts per batch): what the exception sync runs;
- `nearest(index, start, limit, max_depth=None) -> (Summary, tuple[Reached, ...])`: the
  summary and the nearest `limit` nodes with their paths, searching one by one no further than
  them (a larger ripple is summarised by `summarize`): what a ripple page reads.

The model and the formula are in `docs/ripple.md`.

- Edges point downstream (`dependencies.choices.EdgeKind`); a department is a sink: edges out of
  a department are ignored, so trouble never spreads *through* a department. Starting *from* a
  department is the exception: its ripple is that of everything it owns (the nodes with an
  `owned_by` edge into it), each at depth 1.
- Cycles are allowed: a node is visited once, at its smallest depth.
- Each reached node gets ONE shortest path from the start. Ties go to the path that is smallest
  in node order compared from the start; node order is (type, numeric id), e.g. kpi:2 < kpi:10.
- The reach score is Σ weight(node) / depth over the reached nodes, with weight = the objective's
  weight (1–5), the KPI's or contract's criticality (1–5; 3 when not given), 1 for an initiative,
  0.5 for a milestone and 0 for a department.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

OBJECTIVE = "objective"
INITIATIVE = "initiative"
MILESTONE = "milestone"
KPI = "kpi"
CONTRACT = "contract"
DEPARTMENT = "department"
OWNED_BY = "owned_by"

# Weights by type; None means "the node's own weight attribute" (objective weight, criticality).
TYPE_WEIGHTS: dict[str, float | None] = {
    OBJECTIVE: None,
    KPI: None,
    CONTRACT: None,
    INITIATIVE: 1.0,
    MILESTONE: 0.5,
    DEPARTMENT: 0.0,
}
DEFAULT_WEIGHT = 3.0
NO_DEPARTMENT = -1


class UnknownNode(KeyError):
    """A start node that is not in the graph."""


@dataclass(frozen=True, slots=True)
class Node:
    """A node's attributes: its type, its department's id (a department node's own id) and, for
    objectives, KPIs and contracts, its weight (objective weight or criticality, 1–5). Labels
    and status are not the engine's business."""

    type: str
    department: int | None = None
    weight: float | None = None


def node_weight(node_type: str, weight: float | None) -> float:
    """The weight a reached node of this type adds to the reach (divided by its depth)."""
    fixed = TYPE_WEIGHTS.get(node_type)
    if fixed is not None:
        return fixed
    if node_type in TYPE_WEIGHTS:
        return DEFAULT_WEIGHT if weight is None else float(weight)
    return 0.0 if weight is None else float(weight)


def node_type_of(key: str) -> str:
    """The type part of a node key: "kpi:12" → "kpi"."""
    return key.partition(":")[0]


def _order_key(key: str) -> tuple:
    kind, _, rest = key.partition(":")
    return (kind, 0, int(rest), "") if rest.isdigit() else (kind, 1, 0, rest)


@dataclass(eq=False)
class GraphIndex:
    """The graph as integer ids (in node order) and CSR adjacency, built once by `build_index`
    and shared, read-only, by any number of ripple queries."""

    keys: tuple[str, ...]
    ids: dict[str, int]
    types: tuple[str, ...]  # per node id
    departments: np.ndarray  # per node id, NO_DEPARTMENT when none
    weights: np.ndarray  # per node id, by `node_weight`
    indptr: np.ndarray  # CSR: node u's targets are targets[indptr[u]:indptr[u + 1]], sorted
    targets: np.ndarray
    kinds: np.ndarray  # per CSR entry: an index into kind_names
    kind_names: tuple[str, ...]
    owned: dict[int, list[int]]  # department node id → the node ids that are owned_by it
    _adjacency: list[list[int]] = field(repr=False, default_factory=list)
    _weights: list[float] = field(repr=False, default_factory=list)
    _departments: list[int] = field(repr=False, default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def edge_count(self) -> int:
        return len(self.targets)

    def __contains__(self, key: object) -> bool:
        return key in self.ids

    def department_of(self, key: str) -> int | None:
        value = self._departments[self.ids[key]]
        return None if value == NO_DEPARTMENT else value

    def __getstate__(self) -> dict:
        """Pickle the arrays only (the cache stores the index): the lookups are rebuilt."""
        return {name: getattr(self, name) for name in _PICKLED}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.ids = {key: position for position, key in enumerate(self.keys)}
        flat, bounds = self.targets.tolist(), self.indptr.tolist()
        self._adjacency = [flat[bounds[u] : bounds[u + 1]] for u in range(len(self.keys))]
        self._weights = self.weights.tolist()
        self._departments = self.departments.tolist()

    def edge_kind(self, source: int, target: int) -> str:
        start, end = int(self.indptr[source]), int(self.indptr[source + 1])
        position = start + int(np.searchsorted(self.targets[start:end], target))
        if position < end and self.targets[position] == target:
            return self.kind_names[self.kinds[position]]
        if target in self.owned.get(source, ()):  # a department's ripple: it owns the node
            return "owns"
        raise KeyError(f"No edge {self.keys[source]} → {self.keys[target]}.")


_PICKLED = (
    "keys", "types", "departments", "weights", "indptr", "targets", "kinds", "kind_names", "owned",
)  # fmt: skip


def build_index(
    edges: tuple[Sequence[str], Sequence[str], Sequence[str]],
    nodes: Mapping[str, Node] | None = None,
) -> GraphIndex:
    """Index the graph: `edges` as three parallel sequences (source keys, target keys, edge
    kinds; lists or numpy arrays), `nodes` as {key: Node}. A key found only in the edges gets
    its type from its prefix and no department. Duplicate edges count once; edges out of a
    department are dropped (departments are sinks)."""
    nodes = nodes or {}
    sources, targets, kinds = (list(column) for column in edges)
    if not len(sources) == len(targets) == len(kinds):
        raise ValueError("The edge columns (sources, targets, kinds) differ in length.")
    keys = sorted(set(nodes).union(sources, targets), key=_order_key)
    ids = {key: position for position, key in enumerate(keys)}
    attributes = [nodes.get(key) or Node(node_type_of(key)) for key in keys]
    types = tuple(a.type for a in attributes)
    departments = [NO_DEPARTMENT if a.department is None else int(a.department) for a in attributes]
    weights = [node_weight(a.type, a.weight) for a in attributes]

    kind_names = tuple(sorted(set(kinds)))
    kind_ids = {name: position for position, name in enumerate(kind_names)}
    count = len(keys)
    if sources:
        source_ids = np.fromiter((ids[k] for k in sources), dtype=np.int64, count=len(sources))
        target_ids = np.fromiter((ids[k] for k in targets), dtype=np.int64, count=len(targets))
        kind_codes = np.fromiter((kind_ids[k] for k in kinds), dtype=np.int16, count=len(kinds))
    else:
        source_ids = target_ids = np.empty(0, dtype=np.int64)
        kind_codes = np.empty(0, dtype=np.int16)
    is_department = np.fromiter((t == DEPARTMENT for t in types), dtype=bool, count=count)

    # Owned-by edges, reversed: a department's own ripple starts from what it owns.
    owned: dict[int, list[int]] = {}
    if OWNED_BY in kind_ids:
        mask = kind_codes == kind_ids[OWNED_BY]
        pairs = zip(target_ids[mask].tolist(), source_ids[mask].tolist(), strict=True)
        for owner, member in sorted(pairs):
            members = owned.setdefault(owner, [])
            if not members or members[-1] != member:
                members.append(member)

    keep = ~is_department[source_ids] & (source_ids != target_ids)
    source_ids, target_ids, kind_codes = source_ids[keep], target_ids[keep], kind_codes[keep]
    # Sort by (source, target, kind) and keep the first kind of each (source, target) pair.
    order = np.lexsort((kind_codes, target_ids, source_ids))
    source_ids, target_ids, kind_codes = source_ids[order], target_ids[order], kind_codes[order]
    if len(source_ids):
        first = np.ones(len(source_ids), dtype=bool)
        first[1:] = (source_ids[1:] != source_ids[:-1]) | (target_ids[1:] != target_ids[:-1])
        source_ids, target_ids, kind_codes = source_ids[first], target_ids[first], kind_codes[first]
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(source_ids, minlength=count), out=indptr[1:])

    flat, bounds = target_ids.tolist(), indptr.tolist()
    adjacency = [flat[bounds[u] : bounds[u + 1]] for u in range(count)]
    return GraphIndex(
        keys=tuple(keys),
        ids=ids,
        types=types,
        departments=np.asarray(departments, dtype=np.int64),
        weights=np.asarray(weights, dtype=np.float64),
        indptr=indptr,
        targets=target_ids.astype(np.int32),
        kinds=kind_codes,
        kind_names=kind_names,
        owned=owned,
        _adjacency=adjacency,
        _weights=weights,
        _departments=departments,
    )


@dataclass(frozen=True, slots=True)
class Reached:
    """One node reached from the start: its depth, one shortest path (node keys from the start
    to it, both included) and the kind of the path's last edge."""

    key: str
    type: str
    department: int | None
    depth: int
    path: tuple[str, ...]
    via: str


@dataclass(eq=False)
class Ripple:
    """The ripple of one start node: the nodes it reaches (in breadth-first order: by depth,
    then node order of the paths) and the summary."""

    index: GraphIndex = field(repr=False)
    start: str
    department: int | None  # the start's own department
    reach: float
    departments: frozenset[int]  # every department touched (its nodes or itself reached)
    other_departments: frozenset[int]  # the touched departments other than the start's own
    _order: list[int] = field(repr=False)  # reached node ids, breadth-first
    _depth: dict[int, int] = field(repr=False)
    _parent: dict[int, int] = field(repr=False)

    def __len__(self) -> int:
        return len(self._order)

    @property
    def crosses_departments(self) -> bool:
        return bool(self.other_departments)

    @cached_property
    def reached(self) -> tuple[Reached, ...]:
        return self.nodes()

    def nodes(self, limit: int | None = None) -> tuple[Reached, ...]:
        """The reached nodes with their paths, the first `limit` of them (all when None): the
        nearest, since the order is breadth-first."""
        return _reached(self.index, self.start, self._order[:limit], self._depth, self._parent)

    @property
    def reached_ids(self) -> tuple[int, ...]:
        """The reached nodes' integer ids in the index, breadth-first (no paths built)."""
        return tuple(self._order)

    def of_type(self, node_type: str) -> tuple[str, ...]:
        """The reached node keys of one type, in breadth-first order."""
        types, keys = self.index.types, self.index.keys
        return tuple(keys[n] for n in self._order if types[n] == node_type)

    def count(self, node_type: str) -> int:
        types = self.index.types
        return sum(1 for n in self._order if types[n] == node_type)

    @property
    def objectives(self) -> tuple[str, ...]:
        return self.of_type(OBJECTIVE)

    @property
    def kpis(self) -> tuple[str, ...]:
        return self.of_type(KPI)

    @property
    def contracts(self) -> tuple[str, ...]:
        return self.of_type(CONTRACT)

    @property
    def deepest(self) -> int:
        """The depth of the farthest reached node (0 when nothing is reached)."""
        return max(self._depth.values(), default=0)


def ripple(
    index: GraphIndex, starts: Iterable[str] | str, max_depth: int | None = None
) -> list[Ripple]:
    """The ripple of each start node (a key or several), in the order given. `max_depth` stops
    the search that many edges from the start (None: no limit). Unknown starts raise
    `UnknownNode`."""
    if isinstance(starts, str):
        starts = [starts]
    if max_depth is not None and max_depth < 0:
        raise ValueError("max_depth cannot be negative.")
    return [_ripple_one(index, start, max_depth) for start in starts]


def nearest(
    index: GraphIndex, start: str, limit: int, max_depth: int | None = None
) -> tuple[Summary, tuple[Reached, ...]]:
    """The summary of `start`'s ripple and its nearest `limit` nodes with their paths (what
    `ripple(index, start, max_depth)[0]` and its `.nodes(limit)` give), searching one by one no
    further than those nodes: the summary of a larger ripple comes from `summarize`."""
    if max_depth is not None and max_depth < 0:
        raise ValueError("max_depth cannot be negative.")
    if start not in index.ids:
        raise UnknownNode(start)
    origin = index.ids[start]
    order, depth_of, parent_of, reach = _search(index, origin, max_depth, stop=limit + 1)
    if len(order) <= limit:  # the whole ripple was found
        summary = _summary_of(_as_ripple(index, start, order, depth_of, parent_of, reach))
    else:
        summary = summarize(index, [start], max_depth)[0]
    return summary, _reached(index, start, order[:limit], depth_of, parent_of)


def _reached(
    index: GraphIndex, start: str, order: list[int], depth_of: dict, parent_of: dict
) -> tuple[Reached, ...]:
    paths: dict[int, tuple[str, ...]] = {index.ids[start]: (start,)}
    found = []
    for node in order:  # parents come first: breadth-first order
        parent = parent_of[node]
        paths[node] = (*paths[parent], index.keys[node])
        department = index._departments[node]
        found.append(
            Reached(
                key=index.keys[node],
                type=index.types[node],
                department=None if department == NO_DEPARTMENT else department,
                depth=depth_of[node],
                path=paths[node],
                via=index.edge_kind(parent, node),
            )
        )
    return tuple(found)


def _ripple_one(index: GraphIndex, start: str, max_depth: int | None) -> Ripple:
    try:
        origin = index.ids[start]
    except KeyError:
        raise UnknownNode(start) from None
    return _as_ripple(index, start, *_search(index, origin, max_depth))


def _as_ripple(
    index: GraphIndex, start: str, order: list[int], depth_of: dict, parent_of: dict, reach: float
) -> Ripple:
    departments = index._departments
    touched = {departments[n] for n in order}
    touched.discard(NO_DEPARTMENT)
    own = departments[index.ids[start]]
    return Ripple(
        index=index,
        start=start,
        department=None if own == NO_DEPARTMENT else own,
        reach=round(reach, 4),
        departments=frozenset(touched),
        other_departments=frozenset(touched - {own}),
        _order=order,
        _depth=depth_of,
        _parent=parent_of,
    )


def _search(
    index: GraphIndex, origin: int, max_depth: int | None, stop: int | None = None
) -> tuple[list[int], dict[int, int], dict[int, int], float]:
    """Breadth-first from `origin`: the reached nodes in order, their depths and parents, and
    the (unrounded) reach. With `stop`, the search ends once that many nodes are found: the
    order then starts with the same `stop` nodes (the rest, and the reach, are partial)."""
    adjacency, weights = index._adjacency, index._weights
    depth_of: dict[int, int] = {origin: 0}
    parent_of: dict[int, int] = {}
    order: list[int] = []
    limit = -1 if max_depth is None else max_depth
    room = -1 if stop is None else stop  # nodes still wanted; -1: all
    frontier = [origin]
    depth = 0
    reach = 0.0
    if index.types[origin] == DEPARTMENT and limit:
        depth = 1
        frontier = []
        for node in index.owned.get(origin, ()):
            if node not in depth_of:
                depth_of[node] = 1
                parent_of[node] = origin
                frontier.append(node)
        order.extend(frontier)
        reach += sum(weights[n] for n in frontier)
        room = max(room - len(frontier), 0) if stop is not None else room
    while frontier and depth != limit and room:
        depth += 1
        following = []
        for node in frontier:
            for target in adjacency[node]:
                if target not in depth_of:
                    depth_of[target] = depth
                    parent_of[target] = node
                    following.append(target)
            if len(following) >= room > 0:
                break
        if following:
            order.extend(following)
            reach += sum(weights[n] for n in following) / depth
        if stop is not None:
            room = max(room - len(following), 0)
        frontier = following
    return order, depth_of, parent_of, reach


# --- Many starts at once: summaries only --------------------------------------------------------

BATCH_WORDS = 4  # starts per batch = 64 × this: one bit per start in each node's bitset
# BYTE_BITS[v, k] = bit k of the byte value v: turns a histogram of bytes into per-start sums.
_BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.float64)


@dataclass(frozen=True, slots=True)
class Summary:
    """A ripple without its paths: what the exception sync and the benchmark need. The same
    figures as the `Ripple` of the same start."""

    start: str
    department: int | None
    reach: float
    reached: int
    departments: frozenset[int]
    other_departments: frozenset[int]
    counts: dict[str, int]  # reached nodes by type

    @property
    def crosses_departments(self) -> bool:
        return bool(self.other_departments)


def summarize(
    index: GraphIndex, starts: Sequence[str], max_depth: int | None = None
) -> list[Summary]:
    """The summary of each start's ripple, in the order given; equal to `ripple`'s figures.

    Breadth-first searches run 256 at a time, level by level, as bitsets over the CSR arrays
    (one bit per start in each node's row; one numpy pass per depth level for the whole batch).
    Departments stay out of the search (they are sinks and weigh nothing): the ones reached are
    read from the nodes that feed them at the end. The starts are batched by their distance to
    the graph's most fed node, so that a batch's searches run in step and share their levels.
    A repeated start is searched once. Unknown starts raise `UnknownNode`; a department start
    (its ripple is that of what it owns) goes through `ripple`."""
    if max_depth is not None and max_depth < 0:
        raise ValueError("max_depth cannot be negative.")
    ids = []
    for start in starts:
        if start not in index.ids:
            raise UnknownNode(start)
        ids.append(index.ids[start])
    found: dict[int, Summary] = {}
    # With max_depth 0 nothing is reached: the one-by-one search answers at once.
    searched = {node for node in ids if index.types[node] != DEPARTMENT} if max_depth != 0 else ()
    plain = np.array(sorted(searched), dtype=np.int64)
    width = 64 * BATCH_WORDS
    if len(plain) > width:  # more than one batch: keep the searches that run alike together
        plain = plain[np.lexsort((plain, _hub_distance(index)[plain]))]
    for first in range(0, len(plain), width):
        batch = plain[first : first + width]
        found.update(zip(batch.tolist(), _summarize_batch(index, batch, max_depth), strict=True))
    for node in ids:
        if node not in found:
            found[node] = _summary_of(_ripple_one(index, index.keys[node], max_depth))
    return [found[node] for node in ids]


def _summary_of(result: Ripple) -> Summary:
    types = result.index.types
    counts = dict.fromkeys(TYPE_WEIGHTS, 0)
    for node in result._order:
        counts[types[node]] = counts.get(types[node], 0) + 1
    return Summary(
        start=result.start,
        department=result.department,
        reach=result.reach,
        reached=len(result),
        departments=result.departments,
        other_departments=result.other_departments,
        counts=counts,
    )


@dataclass(frozen=True, eq=False)
class _Plan:
    """What the multi-start search reads, derived once per index (and kept on it)."""

    tails: np.ndarray  # the edges into non-department nodes, sorted by head: their tails
    heads: np.ndarray  # ... and their heads
    sink_tails: np.ndarray  # the edges into departments, sorted by head: their tails
    sink_firsts: np.ndarray  # where each department's edges start in sink_tails
    sink_departments: np.ndarray  # those departments' own department ids (NO_DEPARTMENT: none)
    sink_count: int  # departments with an edge in
    members: np.ndarray  # non-department nodes with a department, sorted by it
    member_firsts: np.ndarray  # where each department's members start
    member_departments: np.ndarray  # the department of each group of members
    type_codes: np.ndarray  # per node, an index into type_names
    type_names: tuple[str, ...]


def _plan(index: GraphIndex) -> _Plan:
    cached = index.__dict__.get("_plan")
    if cached is not None:
        return cached
    count = len(index)
    names = tuple(sorted(set(index.types)))
    codes = {name: position for position, name in enumerate(names)}
    type_codes = np.fromiter((codes[t] for t in index.types), dtype=np.int64, count=count)
    is_department = (
        type_codes == codes[DEPARTMENT] if DEPARTMENT in codes else np.zeros(count, bool)
    )

    tails = np.repeat(np.arange(count, dtype=np.int64), np.diff(index.indptr))
    heads = index.targets.astype(np.int64)
    order = np.argsort(heads, kind="stable")
    tails, heads = tails[order], heads[order]
    into_department = is_department[heads]
    sink_tails, sink_heads = tails[into_department], heads[into_department]
    tails, heads = tails[~into_department], heads[~into_department]
    sink_firsts = _group_starts(sink_heads)
    sinks = sink_heads[sink_firsts]

    departments = index.departments
    members = np.flatnonzero(~is_department & (departments != NO_DEPARTMENT))
    members = members[np.argsort(departments[members], kind="stable")]
    member_firsts = _group_starts(departments[members])

    plan = index.__dict__["_plan"] = _Plan(
        tails=tails,
        heads=heads,
        sink_tails=sink_tails,
        sink_firsts=sink_firsts,
        sink_departments=departments[sinks],
        sink_count=len(sinks),
        members=members,
        member_firsts=member_firsts,
        member_departments=departments[members[member_firsts]],
        type_codes=type_codes,
        type_names=names,
    )
    return plan


def _hub_distance(index: GraphIndex) -> np.ndarray:
    """Per node: how many edges from it to the hub, the node with the most edges in (departments
    aside); len(index) when it cannot reach it. Kept on the index."""
    cached = index.__dict__.get("_hub_distance")
    if cached is not None:
        return cached
    plan, count = _plan(index), len(index)
    tails, heads = plan.tails, plan.heads
    distance = np.full(count, count, dtype=np.int64)
    if len(heads):
        hub = int(np.argmax(np.bincount(heads, minlength=count)))
        distance[hub] = 0
        frontier = np.zeros(count, dtype=bool)
        frontier[hub] = True
        step = 0
        while True:  # breadth-first against the edges
            step += 1
            found = tails[frontier[heads]]
            found = np.unique(found[distance[found] == count])
            if not len(found):
                break
            distance[found] = step
            frontier[:] = False
            frontier[found] = True
    index.__dict__["_hub_distance"] = distance
    return distance


def _group_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    starts = np.empty(len(values), dtype=bool)
    starts[:1] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return np.flatnonzero(starts)


def _any_bit(rows: np.ndarray) -> np.ndarray:
    """Per row of a (rows, W) uint64 array: is any bit set?"""
    found = rows[:, 0].copy()
    for word in range(1, rows.shape[1]):
        found |= rows[:, word]
    return found != 0


def _lane_sums(
    bits: np.ndarray,
    width: int,
    weights: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Per start (lane): Σ over the rows of weight(row) × the start's bit in the row, as
    (groups, width) when the rows are grouped (`groups`: each row's group, 0…n-1), else as
    (width,). `bits` is (rows, W) uint64 with W a power of two. Only the nonzero bytes are
    read: a histogram by (group, byte position, value), then each value's bits. The sums are
    exact for weights in halves, so the figures equal the one-by-one search's to the last
    bit."""
    as_bytes = np.ascontiguousarray(bits, dtype="<u8").view(np.uint8)
    per_row = as_bytes.shape[1]
    shift = per_row.bit_length() - 1
    flat = as_bytes.ravel()
    where = np.flatnonzero(flat != 0)
    rows = where >> shift
    keys = ((where & (per_row - 1)) << 8) | flat[where]
    count = 1
    if groups is not None:
        count = int(groups.max()) + 1 if len(groups) else 1
        keys |= groups[rows] << (shift + 8)
    histogram = np.bincount(
        keys,
        weights=None if weights is None else weights[rows],
        minlength=count * per_row * 256,
    )
    sums = (histogram.reshape(count * per_row, 256) @ _BYTE_BITS).reshape(count, per_row * 8)
    sums = sums[:, :width]
    return sums if groups is not None else sums[0]


def _bits(words: np.ndarray) -> np.ndarray:
    """(rows, W) uint64 → (rows, 64·W) 0/1 bytes: column c is bit c % 64 of word c // 64."""
    as_bytes = np.ascontiguousarray(words, dtype="<u8").view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")


def _summarize_batch(
    index: GraphIndex, origins: np.ndarray, max_depth: int | None
) -> list[Summary]:
    """The summaries of up to 64 × BATCH_WORDS distinct, non-department starts (max_depth ≠ 0)."""
    plan = _plan(index)
    count, width = len(index), len(origins)
    words = 1 << ((width + 63) // 64 - 1).bit_length()  # a power of two: 1, 2, 4 …
    lanes = np.arange(width)
    lane_words = lanes // 64
    lane_bits = np.left_shift(np.uint64(1), (lanes % 64).astype(np.uint64))
    visited = np.zeros((count, words), dtype=np.uint64)
    visited[origins, lane_words] = lane_bits
    frontier_nodes, frontier = origins, visited[origins]
    frontier_depth = depth = 0
    limit = -1 if max_depth is None else max_depth
    reach = np.zeros(width, dtype=np.float64)
    weights = index.weights
    tails, heads_by_head = plan.tails, plan.heads
    in_frontier = np.zeros(count, dtype=bool)
    scratch = np.zeros((count, words), dtype=np.uint64)
    while depth != limit:
        depth += 1
        # The edges out of the frontier, grouped by head, and the bits each one carries.
        in_frontier[frontier_nodes] = True
        chosen = np.flatnonzero(in_frontier[tails])
        in_frontier[frontier_nodes] = False
        if not len(chosen):
            break
        scratch[frontier_nodes] = frontier
        heads = heads_by_head[chosen]
        firsts = _group_starts(heads)
        arriving = np.bitwise_or.reduceat(scratch[tails[chosen]], firsts, axis=0)
        scratch[frontier_nodes] = 0
        heads = heads[firsts]
        new = arriving & ~visited[heads]
        keep = np.flatnonzero(_any_bit(new))
        if not len(keep):
            break
        heads, new = heads[keep], new[keep]
        visited[heads] |= new
        # Exact: the same sums, divided and added in the same order, as `_ripple_one`'s.
        reach += _lane_sums(new, width, weights=weights[heads]) / depth
        frontier_nodes, frontier, frontier_depth = heads, new, depth

    # The departments: reached through an edge from a node the search went on from (every
    # reached node, and the start, but those at the depth limit).
    expanded = visited
    if frontier_depth == limit:
        expanded = visited.copy()
        expanded[frontier_nodes] &= ~frontier
    if plan.sink_count:
        sinks = np.bitwise_or.reduceat(expanded[plan.sink_tails], plan.sink_firsts, axis=0)
    else:
        sinks = np.zeros((0, words), dtype=np.uint64)
    visited[origins, lane_words] &= ~lane_bits  # the start itself is not part of its ripple

    per_type = _lane_sums(visited, width, groups=plan.type_codes).astype(np.int64)
    if DEPARTMENT in plan.type_names:
        per_type[plan.type_names.index(DEPARTMENT)] = _lane_sums(sinks, width).astype(np.int64)
    if len(plan.members):
        groups = np.bitwise_or.reduceat(visited[plan.members], plan.member_firsts, axis=0)
    else:
        groups = np.zeros((0, words), dtype=np.uint64)
    with_department = plan.sink_departments != NO_DEPARTMENT
    touched = _bits(np.concatenate([groups, sinks[with_department]]))[:, :width]
    touched_ids = np.concatenate([plan.member_departments, plan.sink_departments[with_department]])
    lane_of, row_of = np.nonzero(touched.T)
    bounds = np.searchsorted(lane_of, np.arange(width + 1)).tolist()
    touched_of = touched_ids[row_of].tolist()

    summaries = []
    standard = set(TYPE_WEIGHTS)
    for lane, origin in enumerate(origins.tolist()):
        departments = frozenset(touched_of[bounds[lane] : bounds[lane + 1]])
        own = index._departments[origin]
        counts = dict.fromkeys(TYPE_WEIGHTS, 0)
        for code, name in enumerate(plan.type_names):
            value = int(per_type[code, lane])
            if value or name in standard:
                counts[name] = value
        summaries.append(
            Summary(
                start=index.keys[origin],
                department=None if own == NO_DEPARTMENT else own,
                reach=round(float(reach[lane]), 4),
                reached=sum(counts.values()),
                departments=departments,
                other_departments=departments - {own},
                counts=counts,
            )
        )
    return summaries
