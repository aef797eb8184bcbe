"""The ripple engine on hand-drawn graphs: every depth, path and reach below is worked out by
hand from the drawing above it. Weights: objective = its weight, KPI / contract = criticality
(3 when not given), initiative 1, milestone 0.5, department 0; reach = Σ weight / depth."""

import itertools
import pickle
import random

import pytest

from dependencies.engine.ripple import (
    Node,
    Summary,
    UnknownNode,
    build_index,
    nearest,
    ripple,
    summarize,
)


def index(*edges: str, nodes: dict | None = None):
    """Edges as "source > target" or "source > target : kind" (kind defaults to "measures")."""
    sources, targets, kinds = [], [], []
    for edge in edges:
        pair, _, kind = edge.partition(" : ")
        source, target = (part.strip() for part in pair.split(">"))
        sources.append(source)
        targets.append(target)
        kinds.append(kind.strip() or "measures")
    return build_index((sources, targets, kinds), nodes or {})


def reached(result) -> dict:
    return {r.key: (r.depth, r.path) for r in result.reached}


# --- Chains, diamonds, cycles, disconnected parts ---------------------------------------------


def test_a_chain_reaches_each_node_one_step_further():
    # given kpi:1 → initiative:1 → objective:1 (weight 4)
    graph = index(
        "kpi:1 > initiative:1",
        "initiative:1 > objective:1 : serves",
        nodes={"objective:1": Node("objective", weight=4)},
    )

    # when
    result = ripple(graph, "kpi:1")[0]

    # then
    assert reached(result) == {
        "initiative:1": (1, ("kpi:1", "initiative:1")),
        "objective:1": (2, ("kpi:1", "initiative:1", "objective:1")),
    }
    assert [r.via for r in result.reached] == ["measures", "serves"]
    assert result.reach == 1.0 / 1 + 4.0 / 2  # 3.0
    assert result.objectives == ("objective:1",)
    assert result.deepest == 2
    assert [graph.keys[n] for n in result.reached_ids] == ["initiative:1", "objective:1"]


@pytest.mark.parametrize(
    ("edges", "expected_path"),
    [
        # Both middles reach the objective in two steps: the smaller in node order wins,
        # whatever the order the edges were given in.
        (
            ("kpi:1 > initiative:2", "kpi:1 > initiative:1"),
            ("kpi:1", "initiative:1", "objective:1"),
        ),
        (
            ("kpi:1 > initiative:1", "kpi:1 > initiative:2"),
            ("kpi:1", "initiative:1", "objective:1"),
        ),
        # Node order is numeric, not textual: initiative:2 comes before initiative:10.
        (
            ("kpi:1 > initiative:10", "kpi:1 > initiative:2"),
            ("kpi:1", "initiative:2", "objective:1"),
        ),
    ],
)
def test_a_diamond_keeps_one_shortest_path_chosen_by_node_order(edges, expected_path):
    # given a diamond: kpi:1 → two initiatives → objective:1
    middles = [edge.split(">")[1].strip() for edge in edges]
    graph = index(*edges, *(f"{m} > objective:1 : serves" for m in middles))

    # when
    result = ripple(graph, "kpi:1")[0]

    # then
    assert reached(result)["objective:1"] == (2, expected_path)
    assert len(result) == 3


def test_a_direct_edge_beats_a_longer_path():
    # given kpi:1 → objective:1 directly and kpi:1 → initiative:1 → objective:1
    graph = index("kpi:1 > initiative:1", "initiative:1 > objective:1", "kpi:1 > objective:1")

    # when
    result = ripple(graph, "kpi:1")[0]

    # then
    assert reached(result)["objective:1"] == (1, ("kpi:1", "objective:1"))


def test_a_cycle_terminates_and_never_reaches_the_start_again():
    # given contract:1 → initiative:1 → contract:2 → initiative:2 → contract:1
    graph = index(
        "contract:1 > initiative:1 : depends_on",
        "initiative:1 > contract:2 : produces",
        "contract:2 > initiative:2 : depends_on",
        "initiative:2 > contract:1 : produces",
        nodes={"contract:2": Node("contract", weight=5)},
    )

    # when
    result = ripple(graph, "contract:1")[0]

    # then
    assert reached(result) == {
        "initiative:1": (1, ("contract:1", "initiative:1")),
        "contract:2": (2, ("contract:1", "initiative:1", "contract:2")),
        "initiative:2": (3, ("contract:1", "initiative:1", "contract:2", "initiative:2")),
    }
    assert result.reach == 3.8333  # 1 + 5 / 2 + 1 / 3, to 4 decimals


def test_a_self_loop_is_ignored():
    graph = index("kpi:1 > kpi:1", "kpi:1 > objective:1")

    result = ripple(graph, "kpi:1")[0]

    assert reached(result) == {"objective:1": (1, ("kpi:1", "objective:1"))}


def test_disconnected_parts_are_not_reached():
    # given two islands: kpi:1 → objective:1 and kpi:2 → objective:2
    graph = index("kpi:1 > objective:1", "kpi:2 > objective:2")

    # when
    first, second = ripple(graph, ["kpi:1", "kpi:2"])

    # then
    assert list(reached(first)) == ["objective:1"]
    assert list(reached(second)) == ["objective:2"]


def test_a_node_without_edges_reaches_nothing():
    graph = index("kpi:1 > objective:1", nodes={"milestone:9": Node("milestone", department=1)})

    result = ripple(graph, "milestone:9")[0]

    assert (len(result), result.reach, result.departments) == (0, 0.0, frozenset())
    assert result.reached == ()


def test_edges_are_upstream_to_downstream_only():
    # given kpi:1 → objective:1: the objective's ripple does not flow back to the KPI
    graph = index("kpi:1 > objective:1")

    assert len(ripple(graph, "objective:1")[0]) == 0


def test_duplicate_edges_count_once_and_keep_the_first_kind():
    graph = index("contract:1 > kpi:1 : measured_by", "contract:1 > kpi:1 : depends_on")

    result = ripple(graph, "contract:1")[0]

    assert [(r.key, r.via) for r in result.reached] == [("kpi:1", "depends_on")]
    assert graph.edge_count == 1


# --- Depth limits -----------------------------------------------------------------------------

CHAIN = ("milestone:1 > initiative:1 : part_of", "initiative:1 > contract:1 : produces",
         "contract:1 > kpi:1 : depends_on", "kpi:1 > objective:1")  # fmt: skip


@pytest.mark.parametrize(
    ("max_depth", "expected", "reach"),
    [
        (None, ["initiative:1", "contract:1", "kpi:1", "objective:1"], 1 + 3 / 2 + 3 / 3 + 3 / 4),
        (4, ["initiative:1", "contract:1", "kpi:1", "objective:1"], 1 + 3 / 2 + 3 / 3 + 3 / 4),
        (2, ["initiative:1", "contract:1"], 1 + 3 / 2),
        (1, ["initiative:1"], 1.0),
        (0, [], 0.0),
    ],
)
def test_max_depth_stops_the_search(max_depth, expected, reach):
    graph = index(*CHAIN)

    result = ripple(graph, "milestone:1", max_depth=max_depth)[0]

    assert [r.key for r in result.reached] == expected
    assert result.reach == pytest.approx(reach)
    assert summarize(graph, ["milestone:1"], max_depth=max_depth)[0].reach == pytest.approx(reach)


def test_a_negative_depth_is_refused():
    with pytest.raises(ValueError, match="negative"):
        ripple(index(*CHAIN), "milestone:1", max_depth=-1)


# --- Departments ------------------------------------------------------------------------------

DEPARTMENTS = {
    "department:1": Node("department", department=1),
    "department:2": Node("department", department=2),
    "department:3": Node("department", department=3),
    "kpi:1": Node("kpi", department=1, weight=5),
    "kpi:2": Node("kpi", department=1, weight=2),
    "contract:1": Node("contract", department=2, weight=4),
    "initiative:1": Node("initiative", department=3),
}
OWNED = (
    "kpi:1 > department:1 : owned_by",
    "kpi:2 > department:1 : owned_by",
    "contract:1 > department:2 : owned_by",
    "initiative:1 > department:3 : owned_by",
)


def test_departments_are_sinks():
    # given kpi:1 → department:1 and a (meaningless) edge out of department:1 to kpi:2
    graph = index(*OWNED, "department:1 > kpi:2 : owned_by", nodes=DEPARTMENTS)

    # when
    result = ripple(graph, "kpi:1")[0]

    # then trouble stops at the department: kpi:2 is not reached through it
    assert reached(result) == {"department:1": (1, ("kpi:1", "department:1"))}
    assert result.reach == 0.0  # a department weighs nothing
    assert result.departments == frozenset({1})
    assert result.other_departments == frozenset()
    assert not result.crosses_departments


def test_the_departments_touched_other_than_the_starts_own():
    # given kpi:1 (dept 1) → contract:1 (dept 2) → initiative:1 (dept 3), each owned
    graph = index(
        *OWNED,
        "kpi:1 > contract:1 : measured_by",
        "contract:1 > initiative:1 : depends_on",
        nodes=DEPARTMENTS,
    )

    # when
    result = ripple(graph, "kpi:1")[0]

    # then
    assert result.department == 1
    assert result.departments == frozenset({1, 2, 3})
    assert result.other_departments == frozenset({2, 3})
    assert result.crosses_departments
    assert result.contracts == ("contract:1",)
    assert result.reach == pytest.approx(4 / 1 + 1 / 2)
    assert [k for k in result.of_type("department")] == ["department:1", "department:2",
                                                         "department:3"]  # fmt: skip


def test_a_departments_ripple_is_that_of_what_it_owns():
    # given department:1 owns kpi:1 and kpi:2; kpi:1 → contract:1 → initiative:1
    graph = index(
        *OWNED,
        "kpi:1 > contract:1 : measured_by",
        "contract:1 > initiative:1 : depends_on",
        nodes=DEPARTMENTS,
    )

    # when
    result = ripple(graph, "department:1")[0]

    # then its own nodes are one step away, and the rest follows from them
    assert reached(result) == {
        "kpi:1": (1, ("department:1", "kpi:1")),
        "kpi:2": (1, ("department:1", "kpi:2")),
        "contract:1": (2, ("department:1", "kpi:1", "contract:1")),
        "department:2": (3, ("department:1", "kpi:1", "contract:1", "department:2")),
        "initiative:1": (3, ("department:1", "kpi:1", "contract:1", "initiative:1")),
        "department:3": (4, ("department:1", "kpi:1", "contract:1", "initiative:1",
                             "department:3")),
    }  # fmt: skip
    assert [r.via for r in result.reached][:2] == ["owns", "owns"]
    assert result.reach == 9.3333  # 5 + 2 + 4 / 2 + 1 / 3, to 4 decimals
    assert result.other_departments == frozenset({2, 3})
    assert summarize(graph, ["department:1"])[0].reach == result.reach


# --- Reach weights ----------------------------------------------------------------------------


def test_reach_weights_by_type_hand_computed():
    # given one start reaching, one step away, a node of every type
    graph = index(
        "contract:9 > objective:1",
        "contract:9 > kpi:1",
        "contract:9 > kpi:2",
        "contract:9 > contract:1",
        "contract:9 > initiative:1",
        "contract:9 > milestone:1",
        "contract:9 > department:1 : owned_by",
        "milestone:1 > objective:2",
        nodes={
            "objective:1": Node("objective", weight=5),
            "objective:2": Node("objective", weight=2),
            "kpi:1": Node("kpi", weight=4),
            "kpi:2": Node("kpi"),  # no criticality given: 3
            "contract:1": Node("contract", weight=1),
        },
    )

    # when
    result = ripple(graph, "contract:9")[0]

    # then 5 + 4 + 3 + 1 + 1 (initiative) + 0.5 (milestone) + 0 (department), + 2 / 2
    assert result.reach == 15.5
    summary = summarize(graph, ["contract:9"])[0]
    assert summary.reach == 15.5
    assert summary.counts == {
        "objective": 2, "kpi": 2, "contract": 1, "initiative": 1, "milestone": 1,
        "department": 1,
    }  # fmt: skip


def test_an_unknown_start_is_refused():
    graph = index("kpi:1 > objective:1")

    with pytest.raises(UnknownNode):
        ripple(graph, "kpi:2")
    with pytest.raises(UnknownNode):
        summarize(graph, ["kpi:1", "kpi:2"])


def test_nodes_with_a_limit_list_the_nearest_first():
    graph = index(*CHAIN)

    result = ripple(graph, "milestone:1")[0]

    assert [r.key for r in result.nodes(2)] == ["initiative:1", "contract:1"]
    assert len(result) == 4


def test_an_empty_graph():
    graph = index(nodes={"kpi:1": Node("kpi")})

    assert len(ripple(graph, "kpi:1")[0]) == 0
    assert summarize(graph, ["kpi:1"])[0].reached == 0


# --- Many starts at once, and the cache's pickling -----------------------------------------------


def random_graph(seed: int, nodes: int = 400, edges: int = 900):
    """A random graph with cycles, departments (as sinks) and every node type."""
    rng = random.Random(seed)
    types = ["objective", "initiative", "milestone", "kpi", "contract"]
    attributes = {f"department:{d}": Node("department", department=d) for d in range(1, 6)}
    for n in range(1, nodes + 1):
        kind = types[n % len(types)]
        attributes[f"{kind}:{n}"] = Node(
            kind, department=rng.randint(1, 5), weight=rng.randint(1, 5)
        )
    keys = [k for k in attributes if not k.startswith("department")]
    sources, targets, kinds = [], [], []
    for _ in range(edges):
        sources.append(rng.choice(keys))
        targets.append(rng.choice(keys))
        kinds.append(rng.choice(["measures", "serves", "depends_on", "produces"]))
    for key in keys:
        sources.append(key)
        targets.append(f"department:{attributes[key].department}")
        kinds.append("owned_by")
    return build_index((sources, targets, kinds), attributes), keys


@pytest.mark.parametrize(("seed", "max_depth"), [(1, None), (2, None), (3, 2), (4, 5)])
def test_summaries_in_batches_match_the_ripple_of_each_start(seed, max_depth):
    # given a random graph and more starts than one batch holds (256), some repeated
    graph, keys = random_graph(seed)
    starts = [*keys, *keys[:30], "department:2"]

    # when
    summaries = summarize(graph, starts, max_depth=max_depth)

    # then each summary is exactly what the one-by-one search finds
    singles = ripple(graph, starts, max_depth=max_depth)
    assert [s.start for s in summaries] == starts
    for summary, single in zip(summaries, singles, strict=True):
        assert summary.reach == pytest.approx(single.reach, abs=1e-3)
        assert summary.reached == len(single)
        assert summary.departments == single.departments
        assert summary.other_departments == single.other_departments
        assert summary.counts["objective"] == len(single.objectives)
        assert summary.counts["kpi"] == len(single.kpis)


def expected_summary(result) -> Summary:
    """What `summarize` must answer for a start, built from its one-by-one `ripple`."""
    counts = {"objective": 0, "kpi": 0, "contract": 0, "initiative": 0, "milestone": 0,
              "department": 0}  # fmt: skip
    for node_type in sorted(set(result.index.types)):
        found = result.count(node_type)
        if found or node_type in counts:
            counts[node_type] = found
    return Summary(
        start=result.start,
        department=result.department,
        reach=result.reach,
        reached=len(result),
        departments=result.departments,
        other_departments=result.other_departments,
        counts=counts,
    )


def tangled_graph(seed: int, nodes: int = 700):
    """A random graph that is hard on the batched search: one large cycle through most nodes
    (ripples of hundreds of nodes, dozens of levels deep), random chords, long chains hanging
    off it, departments as sinks fed by `owned_by` and by other kinds of edges (and with edges
    out of them, which the index drops), nodes without a department, a department known only
    from the edges, a type the engine has no weight rule for, weights in halves."""
    rng = random.Random(seed)
    types = ["objective", "initiative", "milestone", "kpi", "contract", "risk"]
    attributes = {f"department:{d}": Node("department", department=d) for d in range(1, 8)}
    keys = []
    for n in range(1, nodes + 1):
        kind = types[rng.randrange(len(types))]
        department = rng.choice([None, 1, 2, 3, 4, 5, 6, 7, 7, 7])
        weight = rng.choice([None, 1, 2, 3, 4, 5, 0.5, 2.5])
        attributes[f"{kind}:{n}"] = Node(kind, department=department, weight=weight)
        keys.append(f"{kind}:{n}")
    sources, targets, kinds = [], [], []

    def edge(source: str, target: str, kind: str = "depends_on") -> None:
        sources.append(source)
        targets.append(target)
        kinds.append(kind)

    ring = keys[: nodes * 2 // 3]
    for source, target in itertools.pairwise([*ring, ring[0]]):
        edge(source, target, rng.choice(["measures", "serves", "produces", "depends_on"]))
    for _ in range(nodes // 4):  # chords: shortcuts and ties between shortest paths
        edge(rng.choice(ring), rng.choice(keys))
    tail = keys[len(ring) :]
    for position, key in enumerate(tail):  # chains off the ring, some feeding back into it
        edge(tail[position - 1] if position % 20 else rng.choice(ring), key, "part_of")
        if position % 7 == 0:
            edge(key, rng.choice(ring))
    for key in keys:
        department = attributes[key].department
        if department is not None and rng.random() < 0.9:
            edge(key, f"department:{department}", "owned_by")
    for _ in range(30):  # other edges into departments, and edges out of them (dropped)
        edge(rng.choice(keys), f"department:{rng.randint(1, 8)}", "depends_on")
        edge(f"department:{rng.randint(1, 7)}", rng.choice(keys), "owned_by")
    return build_index((sources, targets, kinds), attributes), keys


@pytest.mark.parametrize(
    ("seed", "max_depth"),
    [(11, None), (12, None), (13, None), (11, 0), (12, 1), (13, 2), (11, 5), (12, 17)],
)
def test_summaries_equal_the_one_by_one_search_exactly(seed, max_depth):
    # given a large tangled graph and more starts than three batches hold, in a scrambled
    # order, with repeats and departments among them
    graph, keys = tangled_graph(seed)
    starts = [*keys, *keys[::3], "department:3", "department:8", keys[0]]
    random.Random(seed).shuffle(starts)

    # when
    summaries = summarize(graph, starts, max_depth=max_depth)

    # then every figure is exactly what the one-by-one search gives, the reach to the last bit
    assert summaries == [expected_summary(single) for single in ripple(graph, starts, max_depth)]


@pytest.mark.parametrize(
    ("limit", "max_depth"),
    [(1, None), (7, None), (150, None), (5000, None), (0, None), (40, 3), (150, 9)],
)
def test_the_nearest_nodes_are_the_first_of_the_whole_ripple(limit, max_depth):
    # given a tangled graph, ripples of hundreds of nodes, and some departments' ripples
    graph, keys = tangled_graph(21)
    starts = [*keys[::9], "department:2", "department:7"]

    for start in starts:
        # when the search stops at the nearest `limit` nodes
        summary, found = nearest(graph, start, limit, max_depth)

        # then they are exactly the first `limit` of the whole ripple, with the same paths,
        # and the summary is the whole ripple's
        single = ripple(graph, start, max_depth)[0]
        assert found == single.nodes(limit)
        assert summary == expected_summary(single)


def test_nearest_refuses_what_ripple_refuses():
    graph = index("kpi:1 > objective:1")

    with pytest.raises(UnknownNode):
        nearest(graph, "kpi:2", 10)
    with pytest.raises(ValueError, match="negative"):
        nearest(graph, "kpi:1", 10, max_depth=-1)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_tangled_graphs_ripple_far_and_deep(seed):
    # given the graphs the comparison above runs on
    graph, keys = tangled_graph(seed)

    # when
    singles = ripple(graph, keys)

    # then most starts reach most of the graph, dozens of levels deep: many levels per batch
    assert sum(len(single) > 600 for single in singles) > 600
    assert max(single.deepest for single in singles) > 40


def test_summaries_of_a_graph_without_departments_or_edges():
    graph = index("kpi:1 > objective:1", "objective:1 > kpi:1", nodes={"kpi:2": Node("kpi")})

    summaries = summarize(graph, ["kpi:1", "objective:1", "kpi:2"])

    assert summaries == [expected_summary(r) for r in ripple(graph, ["kpi:1", "objective:1",
                                                                    "kpi:2"])]  # fmt: skip
    assert [s.reached for s in summaries] == [1, 1, 0]


def test_an_index_survives_pickling_for_the_cache():
    graph, keys = random_graph(7)

    copy = pickle.loads(pickle.dumps(graph))

    before = [(r.reach, [x.path for x in r.reached]) for r in ripple(graph, keys[:50])]
    after = [(r.reach, [x.path for x in r.reached]) for r in ripple(copy, keys[:50])]
    assert after == before
