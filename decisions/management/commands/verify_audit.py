"""`manage.py verify_audit`: walk the decision log's hash chain and every decision, print the
result, and exit non-zero at the first broken row (see `decisions.chain.verify_chain`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from decisions.selectors import chain_status


class Command(BaseCommand):
    help = (
        "Verify the tamper-evident decision log: recompute every entry's hash and link, compare "
        "each decision's stored content, status, decider and effectiveness with its entries, and "
        "report the first broken row (exit status 1). Refreshes the status the log page shows."
    )

    def handle(self, *args, **options) -> None:
        status = chain_status(refresh=True)
        if status.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"The decision log verifies: {status.checked} entries, "
                    f"{status.decisions} decisions."
                )
            )
            return
        broken = status.first_broken
        where = f"entry #{broken.sequence}" if broken.sequence is not None else "not logged"
        decision = f", decision D-{broken.decision_id}" if broken.decision_id else ""
        raise CommandError(
            f"The decision log does not verify: first broken row at {where}{decision}. "
            f"{broken.reason} ({status.checked} entries checked.)"
        )
