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
    DRAFT = "draft", "Draft"
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
