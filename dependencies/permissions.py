"""The contracts' rows in the permission matrix (govern/permissions.py, docs/permissions.md).

Contracts are seen by the two departments party to them and by those who read everything (PMO,
executives). The PMO drafts and edits them, overrides amendments and cancels; each side (the
side's owner or a lead of the side's department) agrees, accepts or rejects amendments for its
own side; the provider side fulfils.
"""

from __future__ import annotations

from django.db.models import Q

from dependencies.choices import Side
from dependencies.models import Amendment, Contract, ContractVersion
from govern.permissions import VIEW, Scope, register, scope_for

PROPOSE = "propose"  # send a draft to both sides for agreement; propose an amendment
RESPOND = "respond"  # agree to a proposal, accept or reject an amendment, for one's own side
FULFIL = "fulfil"  # declare the deliverable delivered
OVERRIDE = "override"  # apply an amendment without both sides (recorded as an override)
CANCEL = "cancel"


def _side_q(s: Scope, side: str, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{side}_owner_id": s.user_id}) | Q(
        **{f"{prefix}{side}_department_id__in": s.lead_departments}
    )


def _party_q(s: Scope, prefix: str = "") -> Q:
    return _side_q(s, Side.PROVIDER, prefix) | _side_q(s, Side.CONSUMER, prefix)


def _contract_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return s.reads_everything or (
            Q(provider_department_id__in=s.departments)
            | Q(consumer_department_id__in=s.departments)
        )
    if s.is_pmo:
        return True
    if action in (PROPOSE, RESPOND):
        return _party_q(s)
    if action == FULFIL:
        return _side_q(s, Side.PROVIDER)
    return False  # add, change (drafts), delete, override, cancel: the PMO only


def _version_rule(s: Scope, action: str) -> Q | bool:
    if action != VIEW:
        return False  # versions are written by the services only, never edited
    return s.reads_everything or (
        Q(contract__provider_department_id__in=s.departments)
        | Q(contract__consumer_department_id__in=s.departments)
    )


def _amendment_rule(s: Scope, action: str) -> Q | bool:
    if action == VIEW:
        return _version_rule(s, action)
    if s.is_pmo:
        return True
    if action == RESPOND:
        return _party_q(s, "contract__")
    return False


def sides(user, contract: Contract) -> frozenset[str]:
    """The sides of `contract` that `user` may speak for: its owner or a lead of its department
    (the PMO speaks for neither side: it overrides, recorded as such)."""
    s = scope_for(user)
    if not s.authenticated:
        return frozenset()
    found = set()
    for side in Side.values:
        owner_id = getattr(contract, f"{side}_owner_id")
        department_id = getattr(contract, f"{side}_department_id")
        if owner_id == s.user_id or department_id in s.lead_departments:
            found.add(side)
    return frozenset(found)


register(Contract, _contract_rule)
register(ContractVersion, _version_rule)
register(Amendment, _amendment_rule)
