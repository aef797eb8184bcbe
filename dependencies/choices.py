from django.db import models


class ContractStatus(models.TextChoices):
    """draft → proposed → agreed ⇄ at_risk ⇄ breached → fulfilled | cancelled.

    `draft` and `proposed` are the negotiation (terms editable by the PMO); from `agreed` on the
    terms are frozen and change only through amendments. `at_risk` and `breached` are set by the
    health monitor, never by hand; `fulfilled` and `cancelled` are final."""

    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    AGREED = "agreed", "Agreed"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"


NEGOTIATING = (ContractStatus.DRAFT, ContractStatus.PROPOSED)
IN_FORCE = (ContractStatus.AGREED, ContractStatus.AT_RISK, ContractStatus.BREACHED)
CLOSED = (ContractStatus.FULFILLED, ContractStatus.CANCELLED)


class ServiceComparison(models.TextChoices):
    """How the service-level KPI's actual is held against the contract's threshold."""

    AT_LEAST = "gte", "at least (≥)"
    AT_MOST = "lte", "at most (≤)"


class Side(models.TextChoices):
    PROVIDER = "provider", "Provider"
    CONSUMER = "consumer", "Consumer"


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting both sides"
    ACCEPTED = "accepted", "Accepted by both sides (applied)"
    REJECTED = "rejected", "Rejected"
    OVERRIDDEN = "overridden", "Applied by PMO override"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Response(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class NodeType(models.TextChoices):
    """The kinds of node in the dependency graph; a node's key is "<type>:<id>"."""

    OBJECTIVE = "objective", "Objective"
    INITIATIVE = "initiative", "Initiative"
    MILESTONE = "milestone", "Milestone"
    KPI = "kpi", "KPI"
    CONTRACT = "contract", "Contract"
    DEPARTMENT = "department", "Department"


class EdgeKind(models.TextChoices):
    """Why trouble flows from one node to the next (edges point downstream)."""

    MEASURES = "measures", "KPI measures"  # kpi → objective / initiative
    SERVES = "serves", "serves"  # initiative → objective
    PART_OF = "part_of", "belongs to"  # milestone → initiative
    PRODUCES = "produces", "produces"  # provider milestone / initiative → contract
    MEASURED_BY = "measured_by", "measures the service level of"  # service KPI → contract
    DEPENDS_ON = "depends_on", "depends on"  # contract → consumer initiative / milestone / KPI
    OWNED_BY = "owned_by", "is in"  # any node → its department (a sink)
