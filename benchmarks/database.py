"""`python -m benchmarks.database URL`: check that the PostgreSQL server of URL answers, then drop
and recreate URL's database (it must be named govern_bench…, so no other database is dropped).
Used by `make bench`; exits with a clear message when PostgreSQL is not reachable."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

PREFIX = "govern_bench"


def recreate(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"BENCH_DATABASE_URL must be a PostgreSQL URL; got {url!r}.")
    if not name.startswith(PREFIX):
        raise SystemExit(
            f"The bench drops and recreates its database, so its name must start with "
            f"{PREFIX!r}; got {name!r}."
        )
    server = urlunsplit(parts._replace(path="/postgres"))
    try:
        connection = psycopg2.connect(server, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        where = parts.hostname or "localhost"
        raise SystemExit(
            f"PostgreSQL is not reachable at {where}:{parts.port or 5432} "
            f"({str(exc).strip().splitlines()[0]}).\n"
            "Start PostgreSQL (e.g. `docker compose up -d db`) or point BENCH_DATABASE_URL at "
            "one, e.g. BENCH_DATABASE_URL=postgres://user:password@host:5432/govern_bench"
        ) from None
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    return name


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m benchmarks.database postgres://…/govern_bench")
    print(f"Recreated the database {recreate(sys.argv[1])}.")
