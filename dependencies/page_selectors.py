"""Reads only the contract pages need, beside `dependencies.selectors`: scoped like every selector
(the caller has passed the contract through its gate)."""

from __future__ import annotations

from dependencies.models import Contract
from kpis.models import KpiException


def contract_open_exceptions(*, user, contract: Contract) -> list[KpiException]:
    """The contract's unresolved exceptions (at risk, breached) the user may see, worst first."""
    return list(
        KpiException.objects.restrict(user)
        .open()
        .filter(contract=contract)
        .order_by("-severity", "-opened_at")
    )
