from django.db import models


class DecisionStatus(models.TextChoices):
    """proposed → decided → superseded. A decision's content never changes; its status moves by
    logged events, and a correction is a new decision that supersedes the old one."""

    PROPOSED = "proposed", "Proposed"
    DECIDED = "decided", "Decided"
    SUPERSEDED = "superseded", "Superseded"


class Effectiveness(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    EFFECTIVE = "effective", "Effective"
    INEFFECTIVE = "ineffective", "Ineffective"
    INCONCLUSIVE = "inconclusive", "Inconclusive (no data)"


class ExpectedEffectKind(models.TextChoices):
    """What the decision promises of its expected-effect KPI by the review date."""

    VALUE = "value", "reaches a value"  # the KPI's actual reaches `expected_value` (its direction)
    VARIANCE = (
        "variance",
        "variance within",
    )  # adverse variance at most `expected_value` (tolerance unit)


class ReallocationUnit(models.TextChoices):
    CURRENCY = "currency", "Currency"
    FTE = "fte", "FTE"
    CAPACITY_HOURS = "capacity_hours", "Capacity hours"


class LogEntryKind(models.TextChoices):
    """The entries of the tamper-evident decision log (one hash chain)."""

    DECISION_PROPOSED = "decision_proposed", "Decision proposed"
    DECISION_DECIDED = "decision_decided", "Decision taken"
    DECISION_SUPERSEDED = "decision_superseded", "Decision superseded"
    EFFECTIVENESS_REVIEWED = "effectiveness_reviewed", "Effectiveness reviewed"


class TriggerBasis(models.TextChoices):
    """What a contingency plan watches: the measured actual, or the engine's forecast."""

    ACTUAL = "actual", "Actual"
    FORECAST = "forecast", "Forecast"


class SessionCadence(models.TextChoices):
    WEEKLY_OPERATIONS = "weekly_operations", "Weekly operations review"
    MONTHLY_BUSINESS = "monthly_business", "Monthly business review"


class SessionStatus(models.TextChoices):
    """planned → in progress (the agenda is being walked) → closed (the minutes are final)."""

    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class AgendaItemKind(models.TextChoices):
    EXCEPTION = "exception", "Open exception"
    DECISION_REVIEW = "decision_review", "Decision due for review"
    CONTRACT_AT_RISK = "contract_at_risk", "Contract at risk"


class AgendaOutcome(models.TextChoices):
    PENDING = "pending", "Not yet discussed"
    DECIDED = "decided", "Decided"
    DEFERRED = "deferred", "Deferred"
    NOTED = "noted", "Noted, no decision needed"
