from django.db import models


class Role(models.TextChoices):
    EXECUTIVE = "executive", "Executive"
    DEPARTMENT_LEAD = "department_lead", "Department lead"
    PMO = "pmo", "PMO / OpEx"
    CONTRIBUTOR = "contributor", "Contributor"
    VIEWER = "viewer", "Viewer"


class ObjectiveLevel(models.TextChoices):
    STRATEGIC = "strategic", "Strategic (multi-year)"
    ANNUAL = "annual", "Annual"


class InitiativeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class PlanVersionStatus(models.TextChoices):
    """draft → proposed (by the PMO) → approved (by an executive: the one current version) →
    superseded (when the next is approved). A proposed version can go back to draft."""

    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed for approval"
    APPROVED = "approved", "Approved (current)"
    SUPERSEDED = "superseded", "Superseded"


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    APPROVE = "approve", "Approved"
    SUPERSEDE = "supersede", "Superseded"
    OPEN = "open", "Opened"
    ACKNOWLEDGE = "acknowledge", "Acknowledged"
    ASSIGN = "assign", "Assigned"
    ESCALATE = "escalate", "Escalated"
    RESOLVE = "resolve", "Resolved"
    REVISE = "revise", "Revised"
    # Dependency contracts and their amendments.
    PROPOSE = "propose", "Proposed"
    AGREE = "agree", "Agreed"
    ACCEPT = "accept", "Accepted"
    REJECT = "reject", "Rejected"
    OVERRIDE = "override", "Overridden (PMO)"
    WITHDRAW = "withdraw", "Withdrawn"
    FULFIL = "fulfil", "Fulfilled"
    CANCEL = "cancel", "Cancelled"
    HEALTH = "health", "Health changed"
    # The decision log.
    DECIDE = "decide", "Decided"


class NotificationKind(models.TextChoices):
    EXCEPTION_OPENED = "exception_opened", "New exception"
    EXCEPTION_ESCALATED = "exception_escalated", "Exception escalated"
    BACK_TO_GREEN = "back_to_green", "Back to green"
    CONTRACT_PROPOSED = "contract_proposed", "Contract to agree"
    CONTRACT_AGREED = "contract_agreed", "Contract agreed"
    AMENDMENT_PROPOSED = "amendment_proposed", "Amendment to answer"
    AMENDMENT_CLOSED = "amendment_closed", "Amendment decided"
    DECISION_PROPOSED = "decision_proposed", "Decision to take"
    DECISION_TAKEN = "decision_taken", "Decision taken"
    DECISION_REVIEWED = "decision_reviewed", "Decision reviewed"


class NotificationDelivery(models.TextChoices):
    IMMEDIATE = "immediate", "Email me each notification as it happens"
    DAILY_DIGEST = "daily_digest", "One email a day listing the day's notifications"
    IN_APP_ONLY = "in_app_only", "No email: only here in Govern"
