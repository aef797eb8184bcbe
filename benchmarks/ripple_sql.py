"""The reference the ripple engine is compared with: the downstream set of one node computed by a
recursive CTE in the database, over the same edges the engine walks.

The edges are copied once into a scratch table (`bench_edges`: source and target as the engine's
integer node ids, indexed on source), straight from the engine's index: duplicates merged and
edges out of departments dropped (departments are sinks), exactly as the engine sees them. The
query is the textbook transitive closure:

    WITH RECURSIVE reached(node) AS (
        SELECT target FROM bench_edges WHERE source = :start
        UNION
        SELECT e.target FROM bench_edges e JOIN reached r ON e.source = r.node
    )
    SELECT node FROM reached

`UNION` (not `UNION ALL`) is the cycle protection: a row already produced is discarded, so each
node enters the working table once and the recursion ends when nothing new is reached. It returns
the set only (no shortest path, no depth, no reach score), so it does less than the engine.
The same SQL runs on PostgreSQL and SQLite.
"""

from __future__ import annotations

import io

import numpy as np
from django.db import connection

from dependencies.engine.ripple import GraphIndex

EDGE_TABLE = "bench_edges"

DOWNSTREAM = f"""
WITH RECURSIVE reached(node) AS (
    SELECT target FROM {EDGE_TABLE} WHERE source = %s
    UNION
    SELECT e.target FROM {EDGE_TABLE} e JOIN reached r ON e.source = r.node
)
SELECT node FROM reached
"""


def edge_columns(index: GraphIndex) -> tuple[np.ndarray, np.ndarray]:
    """(sources, targets) of the engine's adjacency, as integer node ids."""
    counts = np.diff(index.indptr)
    sources = np.repeat(np.arange(len(index), dtype=np.int64), counts)
    return sources, index.targets.astype(np.int64)


def create_edge_table(index: GraphIndex) -> int:
    """Copy the engine's edges into the scratch table (COPY on PostgreSQL, one executemany
    elsewhere), index it on source and analyse it. Returns the number of edges."""
    sources, targets = edge_columns(index)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EDGE_TABLE}")
        cursor.execute(
            f"CREATE TABLE {EDGE_TABLE} (source integer NOT NULL, target integer NOT NULL)"
        )
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            buffer.writelines(
                f"{s},{t}\n" for s, t in zip(sources.tolist(), targets.tolist(), strict=True)
            )
            buffer.seek(0)
            cursor.copy_expert(
                f"COPY {EDGE_TABLE} (source, target) FROM STDIN WITH (FORMAT csv)", buffer
            )
        else:
            cursor.executemany(
                f"INSERT INTO {EDGE_TABLE} (source, target) VALUES (%s, %s)",
                list(zip(sources.tolist(), targets.tolist(), strict=True)),
            )
        cursor.execute(f"CREATE INDEX {EDGE_TABLE}_source ON {EDGE_TABLE} (source, target)")
        cursor.execute(f"ANALYZE {EDGE_TABLE}")
    return len(sources)


def downstream(start: int) -> set[int]:
    """The node ids reached from `start` (the start itself only if a cycle leads back to it)."""
    with connection.cursor() as cursor:
        cursor.execute(DOWNSTREAM, [start])
        return {row[0] for row in cursor.fetchall()}


def drop_edge_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EDGE_TABLE}")
