"""`manage.py recompute`: the KPI recompute for cron in the embedded default (no beat).

Without options it reconciles (KPIs whose inputs changed since their last computation);
`--all` recomputes every active KPI; `--kpi CODE` (repeatable) recomputes those KPIs."""

from django.core.management.base import BaseCommand, CommandError

from kpis.models import Kpi
from kpis.services.recompute import kpi_recompute, kpi_reconcile


class Command(BaseCommand):
    help = "Recompute KPI variance, forecasts and exceptions (stale KPIs only by default)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Recompute every active KPI.")
        parser.add_argument(
            "--kpi",
            action="append",
            default=[],
            metavar="CODE",
            help="Recompute this KPI (repeat for several).",
        )

    def handle(self, *args, **options):
        codes = options["kpi"]
        if options["all"] and codes:
            raise CommandError("Use either --all or --kpi, not both.")
        if codes:
            found = dict(Kpi.objects.filter(code__in=codes).values_list("code", "pk"))
            unknown = sorted(set(codes) - found.keys())
            if unknown:
                raise CommandError(f"Unknown KPI code: {', '.join(unknown)}.")
            report = kpi_recompute(kpi_ids=sorted(found.values()))
        elif options["all"]:
            report = kpi_recompute()
        else:
            report = kpi_reconcile()
        if report.message:
            self.stdout.write(self.style.WARNING(report.message))
        self.stdout.write(
            f"Recomputed {report.kpis} KPIs in {report.seconds:.2f} s: "
            f"{report.results_written} results written, {report.results_unchanged} unchanged, "
            f"{report.results_deleted} deleted; {report.kpis_changed} KPI statuses updated; "
            f"exceptions {report.exceptions_opened} opened, "
            f"{report.exceptions_resolved} resolved."
        )
