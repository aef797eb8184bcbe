from django.db import models


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"
    WITHIN_BAND = "within_band", "Stay within a band"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly (ISO week, Monday)"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class Unit(models.TextChoices):
    PERCENT = "percent", "%"
    UNITS = "units", "units"
    CURRENCY = "currency", "currency"
    DAYS = "days", "days"
    HOURS = "hours", "hours"
    COUNT = "count", "count"
    RATIO = "ratio", "ratio"


class ToleranceMode(models.TextChoices):
    PERCENT = "percent", "Percent of plan"
    ABSOLUTE = "absolute", "Absolute (in the KPI's unit)"


class MeasurementSource(models.TextChoices):
    API = "api", "API"
    IMPORT = "import", "Spreadsheet import"
    MANUAL = "manual", "Entered by hand"


class Status(models.TextChoices):
    """The variance status of one KPI period (and, denormalised, of the KPI's latest period)."""

    ON_TRACK = "on_track", "On track"
    AMBER = "amber", "Amber"
    RED = "red", "Red"
    MISSING = "missing", "Missing data"
    PENDING = "pending", "Not due yet"
    NO_PLAN = "no_plan", "No plan"


class ExceptionKind(models.TextChoices):
    KPI_RED = "kpi_red", "KPI red"
    KPI_AMBER = "kpi_amber", "KPI amber"
    FORECAST_BREACH = "forecast_breach", "Forecast breach"
    MISSING_DATA = "missing_data", "Missing data"
    MILESTONE_OVERDUE = "milestone_overdue", "Milestone overdue"
    CONTRACT_AT_RISK = "contract_at_risk", "Contract at risk"
    CONTRACT_BREACHED = "contract_breached", "Contract breached"
    GOVERNANCE = "governance", "Target-gaming signal"
    ALIGNMENT = "alignment", "Alignment"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DECIDED = "decided", "Decided"
    RESOLVED = "resolved", "Resolved"


class EscalationLevel(models.IntegerChoices):
    OWNER = 0, "Owner"
    DEPARTMENT_LEAD = 1, "Department lead"
    PMO = 2, "PMO"
    EXECUTIVE = 3, "Executive"


class ImportFormat(models.TextChoices):
    LONG = "long", "Long (kpi_code, period, value)"
    WIDE = "wide", "Wide (one row per KPI, one column per period)"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be checked"
    VALIDATING = "validating", "Checking"
    VALIDATED = "validated", "Checked (dry run)"
    INVALID = "invalid", "Has errors"
    RUNNING = "running", "Writing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
