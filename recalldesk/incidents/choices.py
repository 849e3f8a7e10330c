"""Choices for incidents, defined once: value, label and the colour the console shows."""

from django.db import models


class IncidentKind(models.TextChoices):
    RECALL = "recall", "Product recall"
    SERVICE = "service", "Service failure"


class Classification(models.TextChoices):
    FDA_I = "fda_i", "FDA Class I"
    FDA_II = "fda_ii", "FDA Class II"
    FDA_III = "fda_iii", "FDA Class III"
    SERIOUS = "serious", "Serious risk"
    HIGH = "high", "High risk"
    MEDIUM = "medium", "Medium risk"
    LOW = "low", "Low risk"
    SEV1 = "sev1", "Severity 1"
    SEV2 = "sev2", "Severity 2"
    SEV3 = "sev3", "Severity 3"


class IncidentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    MONITORING = "monitoring", "Monitoring"
    CLOSED = "closed", "Closed"


STATUS_COLOURS = {
    IncidentStatus.DRAFT: "grey",
    IncidentStatus.ACTIVE: "red",
    IncidentStatus.MONITORING: "amber",
    IncidentStatus.CLOSED: "green",
}

# Which status may follow which: a closed incident can be reopened to monitoring.
STATUS_NEXT = {
    IncidentStatus.DRAFT: [IncidentStatus.ACTIVE, IncidentStatus.CLOSED],
    IncidentStatus.ACTIVE: [IncidentStatus.MONITORING, IncidentStatus.CLOSED],
    IncidentStatus.MONITORING: [IncidentStatus.ACTIVE, IncidentStatus.CLOSED],
    IncidentStatus.CLOSED: [IncidentStatus.MONITORING],
}


class Milestone(models.TextChoices):
    DETECTED = "detected_at", "Detected"
    DECIDED = "decided_at", "Recall decided"
    ANNOUNCED = "announced_at", "Announced"
    FIRST_NOTICE = "first_notice_at", "First notice sent"
    CLOSED = "closed_at", "Closed"


class DateBasis(models.TextChoices):
    MANUFACTURED = "manufactured", "Manufactured"
    ACQUIRED = "acquired", "Bought or received"


class LedgerStatus(models.TextChoices):
    AFFECTED = "affected", "Affected"
    REMOVED = "removed", "No longer in scope"


class MatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Matching"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
