"""`manage.py escalate`: the escalation check for cron in the embedded default (no beat).

Moves every exception past its decision deadline one level up the ladder and says how many moved.
`--now` (ISO date-time) runs the check as of another moment, e.g. to replay a missed run."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kpis.services.exceptions import exception_escalate_overdue


class Command(BaseCommand):
    help = "Escalate exceptions without a decision past their deadline (owner → lead → PMO → exec)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            metavar="DATETIME",
            help="check as of this moment, YYYY-MM-DDTHH:MM[:SS][+HH:MM] (default: now)",
        )

    def handle(self, *args, **options):
        now = _parse_now(options["now"])
        moved = exception_escalate_overdue(now=now)
        noun = "exception" if moved == 1 else "exceptions"
        self.stdout.write(self.style.SUCCESS(f"Escalated {moved} {noun}."))


def _parse_now(value: str | None) -> dt.datetime:
    if not value:
        return timezone.now()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--now must be an ISO date-time, e.g. 2026-04-10T09:00; got {value!r}."
        ) from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
