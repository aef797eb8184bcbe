"""`manage.py seed_demo`: build the demo organisation, or a larger one for benchmarks.

Thin: parses the options, calls `govern.demo.demo_seed` and prints its report.
"""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from govern.demo import DEFAULT_SEED, PROFILES, demo_seed, demo_size, format_logins
from govern.errors import ApplicationError

SIZE_OPTIONS = (
    "departments", "initiatives", "milestones_per_initiative", "people_per_department", "kpis",
    "contracts",
)  # fmt: skip


class Command(BaseCommand):
    help = (
        "Build the demo organisation (Northwind Castings: departments, people for every role, "
        "objectives, initiatives, milestones, plan versions, 33 KPIs with 18 months of targets "
        "and actuals telling the supply-chain story, 16 dependency contracts between the "
        "departments) or a larger generated one, then recompute KPI results, contract health "
        "and exceptions and log the decisions that answer them, with the contingency plans (one "
        "of them triggered), two past review sessions with minutes and the upcoming one with its "
        "agenda, and two quarters of alignment assessments. Deterministic and idempotent: a "
        "second run with the same options changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--profile",
            choices=list(PROFILES),
            default="demo",
            help="preset size: demo (the hand-written organisation), M (40 departments, 1,000 "
            "initiatives, 2,000 generated weekly KPIs with 52 periods of targets and actuals: "
            "~104,000 of each, 1,000 contracts) or L (200 departments, 5,000 initiatives, 20,000 "
            "milestones, 20,000 generated weekly KPIs with 52 periods: ~1.04 M targets and 1.04 M "
            "actuals, 10,000 contracts)",
        )
        parser.add_argument(
            "--departments", type=int, help="generated departments beyond the seven named ones"
        )
        parser.add_argument(
            "--initiatives", type=int, help="initiatives in total, the demo's own included"
        )
        parser.add_argument(
            "--milestones-per-initiative", type=int, help="milestones of each generated initiative"
        )
        parser.add_argument(
            "--people-per-department",
            type=int,
            help="people in each generated department (one lead, the rest contributors)",
        )
        parser.add_argument(
            "--kpis",
            type=int,
            help="generated weekly KPIs beyond the demo's own 33, spread over the generated "
            "departments (the named ones when there are none), each with 52 weekly targets and "
            "actuals",
        )
        parser.add_argument(
            "--contracts",
            type=int,
            help="generated dependency contracts beyond the demo's own 16, between the generated "
            "departments (the named ones when there are none), agreed with version 1 for most",
        )
        parser.add_argument(
            "--no-recompute",
            action="store_true",
            help="skip the KPI recompute and the contracts' health check after seeding "
            "(results, contract health and exceptions stay empty)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed for the generated extras (default {DEFAULT_SEED})",
        )
        parser.add_argument(
            "--today",
            help="the date the plan is anchored on, YYYY-MM-DD (default: the current date)",
        )

    def handle(self, *args, **options) -> None:
        today = _parse_today(options["today"])
        size = demo_size(options["profile"], **{name: options[name] for name in SIZE_OPTIONS})
        self.stdout.write(f"Building the demo organisation (profile {options['profile']}) …")
        # The demo people are fictional: their notifications stay in the app, never emailed.
        backend = settings.EMAIL_BACKEND
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        try:
            report = demo_seed(
                size=size,
                today=today,
                seed=options["seed"],
                stdout=self.stdout,
                recompute=not options["no_recompute"],
            )
        except ApplicationError as exc:
            problems = [
                f"--{name.replace('_', '-')} {message}"
                for name, messages in exc.fields.items()
                for message in messages
            ]
            raise CommandError(" ".join([exc.message, *problems])) from exc
        finally:
            settings.EMAIL_BACKEND = backend

        if report.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo organisation built in {report.seconds:.1f} s: "
                    f"{report.audit_events:,} audit events written, progress computed for "
                    f"{report.progress_updated:,} objectives."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS("Demo organisation already present; nothing changed.")
            )
        self.stdout.write("")
        self.stdout.write("Demo logins:")
        self.stdout.write(format_logins(report.logins, report.password))


def _parse_today(value: str | None) -> dt.date:
    if value is None:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD; got {value!r}.") from None
