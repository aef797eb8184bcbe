"""Reads for contracts, their versions and amendments. Each selector scopes rows to the requesting
user (`govern.permissions`) and owns its joins, so lists run a bounded number of queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, IntegerField, Min, OuterRef, QuerySet, Value, When
from django.http import Http404

from dependencies import filtersets, terms
from dependencies import permissions as contract_perms
from dependencies.choices import CLOSED, IN_FORCE, AmendmentStatus, ContractStatus, Side
from dependencies.models import Amendment, Contract, ContractVersion, PlanContract
from govern import permissions as perms
from govern.choices import PlanVersionStatus
from govern.models import PlanVersion
from govern.selectors import apply_filters, current_plan_version

# Worst health first: trouble, then what waits for an answer, then the healthy, then the closed.
HEALTH_ORDER = (
    ContractStatus.BREACHED,
    ContractStatus.AT_RISK,
    ContractStatus.PROPOSED,
    ContractStatus.DRAFT,
    ContractStatus.AGREED,
    ContractStatus.FULFILLED,
    ContractStatus.CANCELLED,
)
HEALTH_RANK = {status: rank for rank, status in enumerate(HEALTH_ORDER)}

CONTRACT_RELATED = (
    "provider_department", "provider_owner", "consumer_department", "consumer_owner",
    "service_kpi", "plan_version", "provider_agreed_by", "consumer_agreed_by",
)  # fmt: skip
CONTRACT_M2M = (
    "provider_milestones", "provider_initiatives", "consumer_initiatives", "consumer_milestones",
    "consumer_kpis",
)  # fmt: skip

# What a user may do with a contract (`contract_actions`): the pages show these buttons.
EDIT = "edit"  # change the terms of a draft or proposed contract (PMO)
DELETE = "delete"  # a draft only (PMO)
PROPOSE = "propose"  # send the draft to both sides
AGREE = "agree"  # agree for one's own side(s) to a proposed contract
FULFIL = "fulfil"  # declare an in-force contract delivered (provider side, PMO)
CANCEL = "cancel"  # PMO, any non-final status
AMEND = "amend"  # propose an amendment to an in-force contract without a pending one
RESPOND = "respond"  # accept or reject the pending amendment for one's own side(s)
OVERRIDE = "override"  # apply the pending amendment without both sides (PMO)
WITHDRAW = "withdraw"  # withdraw the pending amendment (its proposer, PMO)


def health_rank() -> Case:
    """0 for breached … 6 for cancelled: the order of `HEALTH_ORDER`, as SQL."""
    return Case(
        *(When(status=status, then=Value(rank)) for status, rank in HEALTH_RANK.items()),
        default=Value(len(HEALTH_ORDER)),
        output_field=IntegerField(),
    )


def _pending_amendment() -> Exists:
    return Exists(
        Amendment.objects.filter(contract_id=OuterRef("pk"), status=AmendmentStatus.PENDING)
    )


def _with_related(queryset: QuerySet[Contract]) -> QuerySet[Contract]:
    return (
        queryset.select_related(*CONTRACT_RELATED)
        .prefetch_related(*CONTRACT_M2M)
        .annotate(health_rank=health_rank(), has_pending_amendment=_pending_amendment())
    )


def contract_list(*, user, filters: Mapping[str, Any] | None = None) -> QuerySet[Contract]:
    """The contracts the user may see, worst health first then by code, with both sides, the
    service KPI and the linked lists loaded (a fixed number of queries per page). Filters:
    `department`, `side`, `mine`, `status` (a status or a group), `criticality` (at least), `q`
    (see `dependencies.filtersets.ContractFilterSet`)."""
    queryset = _with_related(Contract.objects.restrict(user)).order_by("health_rank", "code")
    return apply_filters(filtersets.ContractFilterSet, queryset, filters, user=user)


def contract_get(*, user, pk, for_write: bool = False, linked: bool = True) -> Contract:
    """One contract through the gate: 404 when the user may not see it; with `for_write`, 403
    when they may see but not edit its terms (the PMO edits). `linked=False` leaves the linked
    lists unloaded (for pages and endpoints about its versions or amendments)."""
    queryset = _with_related(Contract.objects.all())
    if not linked:
        queryset = queryset.prefetch_related(None)
    return perms.access(Contract, user, pk, for_write=for_write, queryset=queryset)


def contract_versions(*, user, contract: Contract) -> QuerySet[ContractVersion]:
    """The contract's versions, newest first."""
    return (
        ContractVersion.objects.restrict(user)
        .filter(contract=contract)
        .select_related("author", "amendment")
        .order_by("-number")
    )


def contract_version_get(*, user, contract: Contract, number) -> ContractVersion:
    """One version by its number (404 when there is none, or the user may not see it)."""
    try:
        return contract_versions(user=user, contract=contract).get(number=int(number))
    except (ContractVersion.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404(f"{contract.code} has no version {number}.") from exc


def contract_amendments(*, user, contract: Contract) -> QuerySet[Amendment]:
    """The contract's amendments, newest first, with the people who answered."""
    return (
        Amendment.objects.restrict(user)
        .filter(contract=contract)
        .select_related(
            "proposed_by",
            "provider_responder",
            "consumer_responder",
            "override_by",
            "applied_version",
        )
        .order_by("-number")
    )


def amendment_get(*, user, contract: Contract, number) -> Amendment:
    """One amendment by its number (404 when there is none, or the user may not see it)."""
    try:
        amendment = contract_amendments(user=user, contract=contract).get(number=int(number))
    except (Amendment.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404(f"{contract.code} has no amendment {number}.") from exc
    amendment.contract = contract
    return amendment


def pending_amendment(*, user, contract: Contract) -> Amendment | None:
    """The amendment awaiting answers, if any (at most one per contract)."""
    found = contract_amendments(user=user, contract=contract).filter(status=AmendmentStatus.PENDING)
    amendment = found.first()
    if amendment is not None:
        amendment.contract = contract
    return amendment


# --- Versions and their differences -----------------------------------------------------------


def parse_compare(value: str) -> tuple[int, int]:
    """ "1,2" → (1, 2); anything else is a ValidationError on `compare`."""
    parts = [part.strip() for part in (value or "").split(",")]
    if len(parts) != 2 or not all(part.isdigit() and int(part) >= 1 for part in parts):
        raise ValidationError(
            {"compare": f"Give two version numbers separated by a comma, e.g. 1,2; got {value!r}."}
        )
    return int(parts[0]), int(parts[1])


def version_compare(*, contract: Contract, a: int, b: int) -> list[dict]:
    """Versions `a` and `b` side by side: one row per term with `field`, `label`, `a`, `b` (the
    stored values), `a_text`, `b_text` (as read) and `changed`. A number the contract has no
    version for is a ValidationError on `compare`. The caller has gated the contract."""
    found = {
        v.number: v.terms
        for v in ContractVersion.objects.filter(contract=contract, number__in={a, b})
    }
    missing = sorted({a, b} - set(found))
    if missing:
        have = (
            f"versions 1 to {contract.version_number}"
            if contract.version_number > 1
            else "version 1 only"
            if contract.version_number == 1
            else "no versions yet (it has not been agreed)"
        )
        numbers = " and ".join(str(n) for n in missing)
        raise ValidationError(
            {"compare": f"{contract.code} has no version {numbers}; it has {have}."}
        )
    return terms.compare(found[a], found[b])


def amendment_diff(*, amendment: Amendment) -> list[dict]:
    """The amendment's changes against the version it amends, in the rows of `version_compare`
    (`a` the version's value, `b` the proposed one); only the changed terms."""
    base = (
        ContractVersion.objects.filter(
            contract_id=amendment.contract_id, number=amendment.base_version
        )
        .values_list("terms", flat=True)
        .first()
        or {}
    )
    proposed = {**base, **amendment.changes}
    return [row for row in terms.compare(base, proposed) if row["field"] in amendment.changes]


# --- The department × department matrix -------------------------------------------------------


@dataclass
class MatrixCell:
    count: int
    worst: str  # the worst status among the cell's contracts (see HEALTH_ORDER)

    @property
    def worst_label(self) -> str:
        return ContractStatus(self.worst).label


@dataclass
class Matrix:
    """Rows are providers, columns consumers: `cells[(provider_id, consumer_id)]`."""

    departments: list[dict] = field(default_factory=list)  # {"id", "code", "name"}, by name
    cells: dict[tuple[int, int], MatrixCell] = field(default_factory=dict)

    def rows(self) -> list[tuple[dict, list[MatrixCell | None]]]:
        return [
            (row, [self.cells.get((row["id"], col["id"])) for col in self.departments])
            for row in self.departments
        ]


def contract_matrix(*, user, include_closed: bool = False) -> Matrix:
    """Provider × consumer: per pair, how many contracts the user may see and the worst status
    among them, in one aggregate query. Fulfilled and cancelled contracts are left out unless
    `include_closed`. Only departments party to some counted contract appear."""
    queryset = Contract.objects.restrict(user)
    if not include_closed:
        queryset = queryset.exclude(status__in=CLOSED)
    group = [
        f"{side}_department_{part}" for side in Side.values for part in ("id", "_code", "_name")
    ]
    rows = queryset.order_by().values(*group).annotate(count=Count("pk"), worst=Min(health_rank()))
    matrix = Matrix()
    departments: dict[int, dict] = {}
    for row in rows:
        for side in Side.values:
            pk = row[f"{side}_department_id"]
            departments[pk] = {
                "id": pk,
                "code": row[f"{side}_department__code"],
                "name": row[f"{side}_department__name"],
            }
        matrix.cells[(row["provider_department_id"], row["consumer_department_id"])] = MatrixCell(
            count=row["count"], worst=HEALTH_ORDER[row["worst"]]
        )
    matrix.departments = sorted(departments.values(), key=lambda d: d["name"])
    return matrix


# --- What a user may do -----------------------------------------------------------------------


def contract_actions(user, contract: Contract, *, pending: Amendment | None = None) -> set[str]:
    """The actions `user` may take on `contract` now (EDIT, DELETE, PROPOSE, AGREE, FULFIL,
    CANCEL, AMEND, RESPOND, OVERRIDE, WITHDRAW), from its status, the user's scope and sides and
    `pending` (the pending amendment, when the caller has it; AMEND assumes there is none when
    `contract.has_pending_amendment` is false or absent). No queries beyond the user's scope."""
    scope = perms.scope_for(user)
    if not scope.authenticated:
        return set()
    sides = contract_perms.sides(user, contract)
    status = contract.status
    actions: set[str] = set()
    if status in (ContractStatus.DRAFT, ContractStatus.PROPOSED) and scope.is_pmo:
        actions.add(EDIT)
    if status == ContractStatus.DRAFT:
        if scope.is_pmo:
            actions.add(DELETE)
        if scope.is_pmo or sides:
            actions.add(PROPOSE)
    if status == ContractStatus.PROPOSED and sides - agreed_sides(contract):
        actions.add(AGREE)
    if status in IN_FORCE:
        if scope.is_pmo or Side.PROVIDER in sides:
            actions.add(FULFIL)
        has_pending = pending is not None or getattr(contract, "has_pending_amendment", False)
        if not has_pending and (scope.is_pmo or sides):
            actions.add(AMEND)
        if pending is not None:
            if sides - answered_sides(pending):
                actions.add(RESPOND)
            if scope.is_pmo:
                actions.add(OVERRIDE)
            if scope.is_pmo or pending.proposed_by_id == scope.user_id:
                actions.add(WITHDRAW)
    if status not in CLOSED and scope.is_pmo:
        actions.add(CANCEL)
    return actions


def agreed_sides(contract: Contract) -> set[str]:
    return {side for side in Side.values if getattr(contract, f"{side}_agreed_at") is not None}


def answered_sides(amendment: Amendment) -> set[str]:
    return {side for side in Side.values if getattr(amendment, f"{side}_response")}


# --- Plan versions: the contracts a version holds, and two versions compared ------------------
# A version's contracts (docs/plan-versions.md): the current version holds its contracts live; a
# draft or proposed version carries the current plan's contracts still open (those copied when it
# was made, and any created in the current plan since) unless the PMO dropped them, plus the
# contracts created in it; a superseded version holds them as they were when it was superseded
# (`PlanContract` rows, frozen by the approval of the next one).

CARRIED = "carried"  # a draft carries it from the current plan; its approval moves it there
CREATED = "created"  # created in this version directly
HELD = "held"  # the current version holds it: its terms are the live ones
FROZEN = "frozen"  # a superseded version held it: its terms as they were then
DROPPED = "dropped"  # the PMO dropped it from a draft: cancelled when the draft is approved
PLAN_CONTRACT_STATES = {
    CARRIED: "Carried from the current plan",
    CREATED: "Created in this version",
    HELD: "In this plan",
    FROZEN: "As held when superseded",
    DROPPED: "Dropped",
}
COMPARED_TERMS = tuple(name for name in terms.TERM_FIELDS if name != "plan_version")


@dataclass
class PlanContractEntry:
    """One contract as a plan version holds it: its state there, its terms (in the encoding of
    `dependencies.terms`) and the contract version they are."""

    contract: Contract
    state: str
    terms: dict
    version_number: int

    @property
    def included(self) -> bool:
        return self.state != DROPPED

    @property
    def state_label(self) -> str:
        return PLAN_CONTRACT_STATES[self.state]


@dataclass
class ContractChange:
    """A contract both versions hold, with the terms that differ (rows of `terms.compare`)."""

    a: PlanContractEntry
    b: PlanContractEntry
    terms: list[dict]

    @property
    def contract(self) -> Contract:
        return self.b.contract


@dataclass
class ContractChanges:
    """Version `a` against version `b`: contracts `b` holds that `a` did not (added), both hold
    with different terms (changed), `a` held and `b` does not hold at all (removed: fulfilled,
    cancelled or closed since) and `a` held that the PMO dropped from `b` (dropped)."""

    added: list[PlanContractEntry] = field(default_factory=list)
    changed: list[ContractChange] = field(default_factory=list)
    removed: list[PlanContractEntry] = field(default_factory=list)
    dropped: list[PlanContractEntry] = field(default_factory=list)
    a_count: int = 0  # contracts a holds (dropped ones not counted)
    b_count: int = 0

    @property
    def total(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed) + len(self.dropped)


def plan_contract_states(
    plan_version: PlanVersion, contracts: QuerySet[Contract]
) -> tuple[dict[int, str], dict[int, PlanContract]]:
    """{contract id: state} for the contracts of `contracts` that `plan_version` holds or
    dropped, and its `PlanContract` rows by contract id. Five queries at most, whatever the
    number of contracts."""
    rows = {
        row.contract_id: row
        for row in PlanContract.objects.filter(plan_version=plan_version, contract__in=contracts)
    }
    live = set(contracts.filter(plan_version=plan_version).values_list("pk", flat=True))
    states = {pk: DROPPED for pk, row in rows.items() if not row.included and pk not in live}
    status = plan_version.status
    if status == PlanVersionStatus.APPROVED:
        states.update(dict.fromkeys(live, HELD))
    elif status == PlanVersionStatus.SUPERSEDED:
        states.update({pk: FROZEN for pk, row in rows.items() if row.included})
        states.update({pk: FROZEN for pk in live if pk not in rows})
    else:  # a draft or a proposal: what its approval would make the current plan hold
        states.update(dict.fromkeys(live, CREATED))
        carried = contracts.filter(
            pk__in=[pk for pk, row in rows.items() if row.included and pk not in live]
        )
        current = current_plan_version()
        if current is not None and current.pk != plan_version.pk:
            carried = carried | contracts.filter(plan_version=current).exclude(pk__in=list(rows))
        open_ids = carried.exclude(status__in=CLOSED).values_list("pk", flat=True)
        states.update(dict.fromkeys(open_ids, CARRIED))
    return states, rows


def plan_version_contract_entries(
    plan_version: PlanVersion, contracts: QuerySet[Contract]
) -> list[PlanContractEntry]:
    """The contracts of `contracts` that `plan_version` holds or dropped, by code, with their
    terms: live for the ones it holds live, as stored for frozen and dropped ones. A bounded
    number of queries (the states', one for the contracts and one per linked list)."""
    states, rows = plan_contract_states(plan_version, contracts)
    loaded = (
        Contract.objects.filter(pk__in=list(states))
        .select_related(*CONTRACT_RELATED)
        .prefetch_related(*CONTRACT_M2M)
        .order_by("code")
    )
    entries = []
    for contract in loaded:
        state = states[contract.pk]
        row = rows.get(contract.pk)
        if row is not None and state in (FROZEN, DROPPED):
            entry_terms, number = row.terms, row.version_number
        else:
            entry_terms, number = terms.snapshot(contract), contract.version_number
        entries.append(PlanContractEntry(contract, state, entry_terms, number))
    return entries


def plan_version_contracts(*, user, plan_version: PlanVersion) -> list[PlanContractEntry]:
    """The contracts the user may see that `plan_version` holds (and those dropped from it), by
    code; see `plan_version_contract_entries`."""
    return plan_version_contract_entries(plan_version, Contract.objects.restrict(user))


def plan_contract_changes(*, user, a: PlanVersion, b: PlanVersion) -> ContractChanges:
    """Version `a` against version `b` (any two: a draft against the current one, the current
    one against a superseded one, …), over the contracts the user may see: added, changed (term
    by term, old → new; the plan version term itself left out), removed and dropped, each by
    code. A bounded number of queries."""
    visible = Contract.objects.restrict(user)
    old = {e.contract.pk: e for e in plan_version_contract_entries(a, visible)}
    new = {e.contract.pk: e for e in plan_version_contract_entries(b, visible)}
    changes = ContractChanges(
        a_count=sum(e.included for e in old.values()),
        b_count=sum(e.included for e in new.values()),
    )
    for pk, entry in new.items():
        before = old.get(pk)
        if entry.included and (before is None or not before.included):
            changes.added.append(entry)
        elif entry.included:
            rows = [
                row
                for row in terms.compare(before.terms, entry.terms)
                if row["changed"] and row["field"] in COMPARED_TERMS
            ]
            if rows:
                changes.changed.append(ContractChange(a=before, b=entry, terms=rows))
        elif before is not None and before.included:
            changes.dropped.append(entry)
    changes.removed = [e for pk, e in old.items() if e.included and pk not in new]
    for found in (changes.added, changes.removed, changes.dropped):
        found.sort(key=lambda e: e.contract.code)
    changes.changed.sort(key=lambda c: c.contract.code)
    return changes
