"""`manage.py send_digest`: the daily digest for cron in the embedded default (no beat).

Emails each person who chose the daily digest the notifications they got on one day (default
yesterday), once: running it twice for the same day sends nothing the second time."""

from django.core.management.base import BaseCommand, CommandError

from govern.notifications import digest_day, digest_send


class Command(BaseCommand):
    help = "Email the daily digest of notifications to the people who chose it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--day", metavar="YYYY-MM-DD", help="the day to list (default: yesterday)"
        )

    def handle(self, *args, **options):
        try:
            day = digest_day(options["day"])
        except ValueError as exc:
            raise CommandError(f"--day: {exc}") from exc
        sent = digest_send(day=day)
        noun = "digest" if sent == 1 else "digests"
        self.stdout.write(self.style.SUCCESS(f"Sent {sent} {noun} for {day:%d %b %Y}."))
