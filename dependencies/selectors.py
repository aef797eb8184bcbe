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
from dependencies.models import Amendment, Contract, ContractVersion
from govern import permissions as perms
from govern.selectors import apply_filters

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
