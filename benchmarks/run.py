"""`make bench`: build a large organisation in a scratch database and time what users wait for.

    python -m benchmarks.run [--profile L] [--database-url URL] [--repeat 30] [--no-write]

Defaults to a scratch SQLite file (the embedded default); pass a PostgreSQL URL to a database you
can drop to measure the production setting. Figures are printed and written to
docs/performance.md. Times are server time inside Django (the test client, no network), p50/p95
over `--repeat` requests after one warm-up; the reference is /readyz, a trivial one-query page.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PAGES = [
    ("reference: /readyz (1 query)", "/readyz"),
    ("dashboard", "/"),
    ("objectives (cascade tree)", "/objectives/"),
    ("initiatives list", "/initiatives/"),
    ("people list", "/people/"),
    ("departments list", "/departments/"),
    ("API initiatives", "/api/v1/initiatives/"),
    ("API milestones (overdue)", "/api/v1/milestones/?overdue=true"),
    ("API objectives tree", "/api/v1/objectives/tree/"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="L", choices=["demo", "M", "L"])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="govern-bench-")
    database_url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "govern.settings.local",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)

    print(f"Building profile {args.profile} in {database_url.split('@')[-1]} …", flush=True)
    run = lambda *cmd: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", *cmd], cwd=ROOT, env=env, check=True, capture_output=True
    )
    run("migrate", "--noinput")
    started = time.perf_counter()
    run("seed_demo", "--profile", args.profile)
    seed_seconds = time.perf_counter() - started

    os.environ.update(env)
    import django

    django.setup()
    rows = _measure(args.repeat)
    counts, rollup_seconds = _sizes()
    report = _report(args.profile, database_url, seed_seconds, rollup_seconds, counts, rows, args)
    print(report)
    if not args.no_write:
        (ROOT / "docs" / "performance.md").write_text(report)
        print("Written to docs/performance.md")


def _measure(repeat: int) -> list[tuple[str, str, float, float, int, float]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from govern.models import Person

    client = Client()
    client.force_login(Person.objects.get(username="pmo"))
    results = []
    reference_p50 = None
    for label, url in PAGES:
        response = client.get(url)  # warm-up, and a check that the page works
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = len(captured)
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 2 else timings[0]
        reference_p50 = reference_p50 or p50
        results.append((label, url, p50, p95, queries, p50 / reference_p50))
    return results


def _sizes() -> tuple[dict[str, int], float]:
    from govern import services
    from govern.models import AuditEvent, Department, Initiative, Milestone, Objective, Person

    counts = {
        "departments": Department.objects.count(),
        "people": Person.objects.count(),
        "objectives": Objective.objects.count(),
        "initiatives": Initiative.objects.count(),
        "milestones": Milestone.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }
    Objective.objects.update(progress=None)
    started = time.perf_counter()
    services.objective_progress_refresh()
    return counts, time.perf_counter() - started


def _report(profile, database_url, seed_seconds, rollup_seconds, counts, rows, args) -> str:
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    lines = [
        "# Performance",
        "",
        "Figures from `make bench` (`python -m benchmarks.run`): a generated organisation in a",
        "scratch database, server time inside Django measured with the test client (no network),",
        f"p50/p95 over {args.repeat} requests after a warm-up, logged in as the PMO (who sees",
        "everything). The reference is `/readyz`, a trivial one-query page.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"- database: {engine}; profile {profile}: "
        + ", ".join(f"{value:,} {name}" for name, value in counts.items()),
        f"- `seed_demo --profile {profile}`: {seed_seconds:.1f} s",
        "- objective progress roll-up over all objectives (worker task): "
        f"{rollup_seconds * 1000:.0f} ms",
        "",
        "| page | p50 ms | p95 ms | queries | p50 / reference |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, url, p50, p95, queries, ratio in rows:
        lines.append(f"| {label} `{url}` | {p50:.1f} | {p95:.1f} | {queries} | {ratio:.1f}× |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
