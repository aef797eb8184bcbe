"""Signals other apps listen to, so that the KPI engine does not import them."""

from django.dispatch import Signal

# Sent inside the recompute's transaction, after the KPI exceptions are synced, with
# `kpi_ids` (None after a full recompute), `full` and `today`. The contracts' health monitor
# listens to re-check the contracts whose service level these KPIs measure.
kpis_recomputed = Signal()

# Sent inside the nightly sweep's transaction after the milestone exceptions, with `today`:
# time-based checks (due dates, overdue milestones) run here.
swept = Signal()
