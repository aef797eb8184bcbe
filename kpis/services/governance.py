"""Target-gaming signals: `governance` exceptions for KPIs whose targets were eased in two
successive plan versions or while red, and for actuals revised after the fact beyond
GOVERN_REVISION_THRESHOLD_PCT. The rules are computed by `kpis.engine.governance`; the rules in
words are in docs/exceptions.md ("Target-gaming signals").

A governance exception is shown to the PMO and executives only (`kpis.permissions`), owned by a
PMO person, starts at the PMO level of the escalation ladder, is notified to the PMO and the
executives, and is never resolved by the engine: a PMO member or an executive resolves it with a
note (`kpis.services.exceptions.exception_resolve`). One unresolved per KPI: a later signal on the
same KPI updates its detail (each kind of signal keeps its own paragraph) and keeps the higher
severity.

Both checks are set-based: a handful of queries whatever the number of KPIs or revised rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from govern.audit import _actor_name
from govern.choices import AuditAction, NotificationKind, PlanVersionStatus, Role
from govern.models import AuditEvent, Membership, Person, PlanVersion
from govern.notifications import Notice, notify_many
from kpis.choices import EscalationLevel, ExceptionKind, ExceptionStatus, Status
from kpis.engine import governance as engine
from kpis.engine.severity import with_reach
from kpis.models import Kpi, KpiException, Target
from kpis.services import exceptions as plumbing

TARGETS = "Targets eased"  # the paragraph of a target-gaming signal on targets
ACTUALS = "Actuals revised"  # … and on revised actuals
LISTED = 6  # periods named in a paragraph before "and N more"
KPI_FIELDS = ("code", "name", "department_id", "status", "criticality", "frequency")


@dataclass
class Signal:
    """One reason to raise (or update) a KPI's governance exception."""

    kpi_id: int
    topic: str  # TARGETS or ACTUALS: the paragraph of the detail it writes
    text: str
    base: float
    period: dt.date | None = None


@dataclass
class GovernanceReport:
    opened: list[int] = field(default_factory=list)  # exception ids
    updated: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"opened": len(self.opened), "updated": len(self.updated)}


# --- Who hears of it -----------------------------------------------------------------------------


def pmo_owner_id() -> int | None:
    """The first active PMO member (by when they joined the PMO): the owner of the exceptions that
    are the PMO's to judge. None when there is no PMO."""
    return (
        Membership.objects.filter(role=Role.PMO, person__is_active=True)
        .order_by("created_at", "pk")
        .values_list("person_id", flat=True)
        .first()
    )


def leadership_ids(*, executives: bool = True) -> set[int]:
    """The active PMO members (and executives), as person ids: one query."""
    roles = [Role.PMO, Role.EXECUTIVE] if executives else [Role.PMO]
    return set(
        Membership.objects.filter(role__in=roles, person__is_active=True).values_list(
            "person_id", flat=True
        )
    )


def notify_leadership(
    exceptions: Iterable[KpiException], *, opened: set[int], executives: bool = True
) -> None:
    """Tell the PMO (and the executives) about these new or updated exceptions: in-app in the
    caller's transaction, email on commit."""
    exceptions = list(exceptions)
    if not exceptions:
        return
    recipients = leadership_ids(executives=executives)
    audience = "the PMO and the executives" if executives else "the PMO"
    notices = []
    for exception in exceptions:
        new = exception.pk in opened
        notices.append(
            Notice(
                recipients=recipients,
                kind=NotificationKind.EXCEPTION_OPENED,
                title=f"{'New' if new else 'Updated'}: {exception.title}"[:255],
                body=(
                    f"{'A new' if new else 'An updated'} {exception.get_kind_display().lower()} "
                    f"exception for {audience}, to judge by "
                    f"{timezone.localtime(exception.decision_deadline):%d %b %Y %H:%M}.\n\n"
                    f"{exception.title}\n{exception.detail}"
                ),
                link=reverse("exception-detail", args=[exception.pk]),
                subject=exception,
            )
        )
    notify_many(notices)


# --- Plan approval: targets eased ----------------------------------------------------------------


def on_plan_version_approved(sender, *, plan_version, previous=None, actor=None, **kwargs) -> None:
    """Receiver of `govern.signals.plan_version_approved` (connected in `kpis.apps`)."""
    if previous is None:
        return
    targets_eased_check(plan_version=plan_version, previous=previous, actor=actor)


def version_before(version: PlanVersion) -> PlanVersion | None:
    """The version that was current before `version`: the one it was based on when that one was
    ever approved, else the latest version approved before it."""
    based_on = version.based_on
    if based_on is not None and based_on.pk != version.pk and based_on.approved_at is not None:
        return based_on
    if version.approved_at is None:
        return None
    return (
        PlanVersion.objects.filter(
            status__in=[PlanVersionStatus.APPROVED, PlanVersionStatus.SUPERSEDED],
            approved_at__lt=version.approved_at,
        )
        .exclude(pk=version.pk)
        .order_by("-approved_at", "-pk")
        .first()
    )


def changed_targets(old: PlanVersion, new: PlanVersion) -> pd.DataFrame:
    """The targets of active KPIs that differ between two versions over their common periods:
    one query, returning only the changed rows (kpi_id, period, old, new, direction)."""
    old_value = Target.objects.filter(
        plan_version=old, kpi_id=OuterRef("kpi_id"), period=OuterRef("period")
    ).values("value")[:1]
    rows = list(
        Target.objects.filter(plan_version=new, kpi__is_active=True)
        .annotate(old=Subquery(old_value))
        .exclude(old=None)
        .exclude(old=F("value"))
        .order_by("kpi_id", "period")
        .values_list("kpi_id", "period", "old", "value", "kpi__direction")
    )
    return pd.DataFrame.from_records(rows, columns=engine.CHANGE_COLUMNS)


@transaction.atomic
def targets_eased_check(
    *, plan_version: PlanVersion, previous: PlanVersion, actor=None
) -> GovernanceReport:
    """After `plan_version` replaced `previous`: raise or update a governance exception for each
    KPI whose targets it eased, when they were eased in the approval before too or the KPI is red
    (its status when the approval happened, computed against `previous`)."""
    changes = changed_targets(previous, plan_version)
    now_eased = engine.eased(changes)
    if not now_eased["eased"].any():
        return GovernanceReport()
    prior = version_before(previous)
    before_changes = (
        changed_targets(prior, previous)
        if prior is not None
        else pd.DataFrame(columns=engine.CHANGE_COLUMNS)
    )
    before_eased = engine.eased(before_changes)
    candidates = now_eased.index[now_eased["eased"]].tolist()
    kpis = _kpis(candidates)
    red = pd.Series({pk: row["status"] == Status.RED for pk, row in kpis.items()}, dtype=bool)
    flagged = engine.target_signals(now_eased, before_eased, red)
    signals = []
    for kpi_id, row in flagged.iterrows():
        kpi = kpis[kpi_id]
        parts = [
            f"Targets eased in “{plan_version.name}” against “{previous.name}”: "
            f"{_moves(changes, kpi_id, kpi['frequency'])}."
        ]
        if row["eased_before"]:
            parts.append(
                f"They were eased in the approval before too, in “{previous.name}” against "
                f"“{prior.name}”: {_moves(before_changes, kpi_id, kpi['frequency'])}."
            )
        if row["red"]:
            parts.append(f"{kpi['code']} was red when “{plan_version.name}” was approved.")
        first = changes.loc[changes["kpi_id"] == kpi_id, "period"].min()
        signals.append(Signal(int(kpi_id), TARGETS, " ".join(parts), float(row["base"]), first))
    return raise_signals(signals, kpis=kpis, actor=actor)


def _moves(changes: pd.DataFrame, kpi_id: int, frequency: str) -> str:
    rows = changes[changes["kpi_id"] == kpi_id].sort_values("period")
    listed = [
        f"{plumbing._period_label(period, frequency)} {_number(old)} → {_number(new)}"
        for period, old, new in rows[["period", "old", "new"]].head(LISTED).itertuples(index=False)
    ]
    more = len(rows) - LISTED
    return ", ".join(listed) + (
        f" and {more} more period{'s' if more != 1 else ''}" if more > 0 else ""
    )


def _number(value) -> str:
    return f"{value:,.6g}"


# --- Actuals revised after the fact --------------------------------------------------------------


def _beyond(records: list, *, now: dt.datetime) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=engine.REVISION_COLUMNS)
    frame["period"] = [dt.date.fromisoformat(str(p)[:10]) for p in frame["period"]]
    return engine.revisions_beyond(
        frame,
        today=timezone.localdate(now),
        threshold_pct=settings.GOVERN_REVISION_THRESHOLD_PCT,
    )


def revisions_check(
    *,
    revised: Mapping[int, Mapping[str, Mapping[str, float]]],
    frequencies: Mapping[int, str],
    actor=None,
    now: dt.datetime | None = None,
) -> int:
    """After a batch of measurements was corrected (`revised`: kpi_id → ISO period → {old,
    new}, as `measurements_record` audits them; `frequencies`: kpi_id → frequency): find the
    revisions beyond the threshold of periods that had already ended (pure, no query) and queue
    their governance exceptions (`kpis.governance_revisions`, `revisions_raise`) for when the
    transaction commits, so the write path of actuals keeps its fixed number of queries. Returns
    how many revisions are beyond."""
    now = now or timezone.now()
    records = [
        (kpi_id, period, change["old"], change["new"], frequencies[kpi_id])
        for kpi_id, periods in revised.items()
        for period, change in periods.items()
    ]
    frame = _beyond(records, now=now)
    if frame.empty:
        return 0
    from kpis.tasks import governance_revisions

    governance_revisions.delay_on_commit(
        revisions=[
            [int(k), p.isoformat(), float(o), float(n), str(f)]
            for k, p, o, n, f in frame[engine.REVISION_COLUMNS].itertuples(index=False)
        ],
        actor_id=getattr(actor, "pk", None),
        at=now.isoformat(),
    )
    return len(frame)


@transaction.atomic
def revisions_raise(*, revisions: list, actor_id: int | None, at: str) -> GovernanceReport:
    """Raise or update the governance exceptions of these revisions ([kpi_id, ISO period, old,
    new, frequency] rows, as `revisions_check` queued them at `at`, by person `actor_id`).
    Idempotent: a second run with the same rows writes nothing."""
    now = dt.datetime.fromisoformat(at)
    frame = _beyond(revisions, now=now)
    if frame.empty:
        return GovernanceReport()
    actor = Person.objects.filter(pk=actor_id).first() if actor_id else None
    threshold = settings.GOVERN_REVISION_THRESHOLD_PCT
    who = _actor_name(actor)
    signals = []
    for kpi_id, rows in frame.groupby("kpi_id", sort=True):
        frequency = rows["frequency"].iloc[0]
        listed = [
            f"{plumbing._period_label(period, frequency)} {_number(old)} → {_number(new)} "
            + (f"({change_pct:+.1f}%)" if old != 0 else "(from 0)")
            for period, old, new, change_pct in rows[["period", "old", "new", "change_pct"]]
            .head(LISTED)
            .itertuples(index=False)
        ]
        more = len(rows) - LISTED
        if more > 0:
            listed.append(f"and {more} more period{'s' if more != 1 else ''}")
        text = (
            f"Actuals revised after the period ended, beyond {threshold:g}%: "
            f"{', '.join(listed)}; by {who} on {timezone.localtime(now):%d %b %Y}."
        )
        base = float(engine.revision_base(rows["ratio"]).max())
        signals.append(Signal(int(kpi_id), ACTUALS, text, base, rows["period"].max()))
    return raise_signals(signals, actor=actor, now=now)


# --- Raising -------------------------------------------------------------------------------------


def _kpis(kpi_ids: Iterable[int]) -> dict[int, dict]:
    """What the exceptions need of their KPIs, with the highest weight of the objectives each
    measures: one query."""
    return {
        row["pk"]: row
        for row in Kpi.objects.filter(pk__in=list(kpi_ids))
        .annotate(objective_weight=Max("objectives__weight"))
        .values("pk", *KPI_FIELDS, "objective_weight")
    }


def _with_paragraph(detail: str, topic: str, text: str) -> str:
    """The detail with the paragraph of `topic` replaced by `text` (added when absent)."""
    paragraphs = [p for p in detail.split("\n\n") if p.strip()]
    kept = [p for p in paragraphs if not p.startswith(topic)]
    return "\n\n".join(sorted([*kept, text], key=lambda p: not p.startswith(TARGETS)))


@transaction.atomic
def raise_signals(
    signals: list[Signal],
    *,
    kpis: dict[int, dict] | None = None,
    actor=None,
    now: dt.datetime | None = None,
) -> GovernanceReport:
    """Open a governance exception per KPI of `signals`, or update the unresolved one: its detail
    paragraph, period and (the higher) severity. Writes the OPEN / UPDATE audit events and
    notifies the PMO and the executives. Set-based: a fixed number of queries."""
    report = GovernanceReport()
    if not signals:
        return report
    now = now or timezone.now()
    by_kpi: dict[int, list[Signal]] = {}
    for signal in signals:
        by_kpi.setdefault(signal.kpi_id, []).append(signal)
    kpis = kpis if kpis is not None else _kpis(by_kpi)
    by_kpi = {pk: found for pk, found in by_kpi.items() if pk in kpis}
    existing = {
        e.kpi_id: e
        for e in KpiException.objects.select_for_update().filter(
            kind=ExceptionKind.GOVERNANCE, status__in=plumbing.UNRESOLVED, kpi_id__in=list(by_kpi)
        )
    }
    owner_id = pmo_owner_id() if len(existing) < len(by_kpi) else None
    new: list[KpiException] = []
    updated: list[KpiException] = []
    events: list[AuditEvent] = []
    for kpi_id, found in sorted(by_kpi.items()):
        kpi = kpis[kpi_id]
        base = engine.severity(
            max(s.base for s in found), kpi["criticality"], kpi["objective_weight"] or float("nan")
        ).item()
        exception = existing.get(kpi_id)
        if exception is None:
            exception = KpiException(
                kind=ExceptionKind.GOVERNANCE,
                status=ExceptionStatus.OPEN,
                subject_key=plumbing.kpi_subject_key(kpi_id),
                kpi_id=kpi_id,
                department_id=kpi["department_id"],
                owner_id=owner_id,
                title=f"Target-gaming signal on {kpi['code']}: {kpi['name']}"[:255],
                detail="",
                opened_at=now,
                decision_deadline=now
                + dt.timedelta(days=plumbing.deadline_days(ExceptionKind.GOVERNANCE)),
                escalation_level=EscalationLevel.PMO,
            )
            new.append(exception)
        else:
            base = max(base, exception.severity_base)
            updated.append(exception)
        old_detail, old_base = exception.detail, exception.severity_base
        for signal in found:
            exception.detail = _with_paragraph(exception.detail, signal.topic, signal.text)
        if exception.pk is not None and (exception.detail, base) == (old_detail, old_base):
            updated.remove(exception)  # the same signal again (a retry): nothing to write
            continue
        exception.period = max((s.period for s in found if s.period), default=exception.period)
        exception.severity_base = base
        exception.severity = float(with_reach(base, exception.reach))
        exception.updated_at = now
        if exception.pk is not None:
            events.append(
                plumbing._event(
                    exception,
                    AuditAction.UPDATE,
                    {"detail": {"old": old_detail, "new": exception.detail}},
                    reason="; ".join(s.text for s in found)[:2000],
                    actor=actor if getattr(actor, "pk", None) else None,
                )
            )
    KpiException.objects.bulk_update(
        updated, ["detail", "period", "severity", "severity_base", "updated_at"], batch_size=500
    )
    AuditEvent.objects.bulk_create(events)
    created = plumbing.create_exceptions(new)
    plumbing.record_opened(created)
    report.opened = [e.pk for e in created]
    report.updated = [e.pk for e in updated]
    notify_leadership([*created, *updated], opened=set(report.opened))
    return report
