"""`manage.py bench`: build a large organisation in this (empty, dedicated) database and print
the KPI-engine figures and page timings, each against its reference and goal.

Thin: options, orchestration and printing; the measuring lives in the `benchmarks` package.
`make bench` creates the PostgreSQL database `govern_bench` and runs this with
`--write docs/performance.md`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from benchmarks import figures as measure
from benchmarks import pages, report, ripple
from govern.demo import PROFILES
from kpis.models import Kpi


class Command(BaseCommand):
    help = (
        "Benchmark the KPI engine on PostgreSQL: build a profile with seed_demo in this empty "
        "database, then time the full recompute (vs a SQL floor and a per-KPI ORM loop), "
        "ingestion (vs COPY), a one-KPI recompute, a no-change sweep (vs a compare-only SQL "
        "pass), peak memory, the pages, and the ripple over the dependency graph (rebuild, one "
        "node vs a recursive CTE, every exception). Writes into the database: run it on a "
        "scratch one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--profile", choices=list(PROFILES), default="L")
        parser.add_argument("--kpis", type=int, help="generated KPIs (overrides the profile's)")
        parser.add_argument(
            "--contracts", type=int, help="generated contracts (overrides the profile's)"
        )
        parser.add_argument(
            "--ripple-samples", type=int, default=200, help="start nodes of the one-node ripple"
        )
        parser.add_argument("--sample", type=int, default=200, help="KPIs in the per-KPI loop")
        parser.add_argument("--ingest-rows", type=int, default=50_000)
        parser.add_argument("--batch", type=int, default=10_000, help="rows per ingest call")
        parser.add_argument("--incremental-runs", type=int, default=20)
        parser.add_argument("--repeat", type=int, default=30, help="requests per page")
        parser.add_argument("--today", help="YYYY-MM-DD (default: the current date)")
        parser.add_argument("--write", metavar="PATH", help="write the figures there too")
        parser.add_argument(
            "--allow-sqlite",
            action="store_true",
            help="run on SQLite (smoke tests only: no COPY there, figures are not comparable)",
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                "The bench runs on PostgreSQL (set DATABASE_URL, or use `make bench`); "
                "--allow-sqlite runs it on SQLite for a smoke test."
            )
        if Kpi.objects.exists():
            raise CommandError(
                "The bench needs an empty database of its own (it builds profile data in it); "
                "`make bench` drops and recreates govern_bench."
            )
        saved = settings.DEBUG, settings.EMAIL_BACKEND
        settings.DEBUG = False  # no query log: it would hold every statement of a million rows
        # New exceptions send notices: build them, deliver nowhere (not thousands to stdout).
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        try:
            self._bench(options)
        finally:
            settings.DEBUG, settings.EMAIL_BACKEND = saved

    def _bench(self, options) -> None:
        opts = measure.Options(
            profile=options["profile"],
            kpis=options["kpis"],
            contracts=options["contracts"],
            sample=options["sample"],
            ingest_rows=options["ingest_rows"],
            batch=options["batch"],
            incremental_runs=options["incremental_runs"],
            today=dt.date.fromisoformat(options["today"]) if options["today"] else None,
        )

        def log(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            figures, ctx = measure.measure_all(opts, log)
            log("8. Pages …")
            timings = pages.measure_pages(options["repeat"])
            ripple_figures = ripple.measure_ripple(ctx, sample=options["ripple_samples"], log=log)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        repeat = options["repeat"]
        self.stdout.write("")
        self.stdout.write(report.printed(opts, ctx, figures, timings, repeat, ripple_figures))
        if options["write"]:
            path = Path(options["write"])
            path.write_text(report.document(opts, ctx, figures, timings, repeat, ripple_figures))
            self.stdout.write(f"Written to {path}")
        every = [*figures, *ripple_figures]
        missed = [f"{f.number}. {f.name}" for f in every if f.passed is False]
        if missed:
            self.stdout.write(self.style.WARNING("Missed goals: " + "; ".join(missed)))
