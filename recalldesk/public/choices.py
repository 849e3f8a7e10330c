"""Choices for the crisis site, defined once: value, label and colour."""

from django.db import models


class UpdateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


UPDATE_COLOURS = {
    UpdateStatus.DRAFT: "grey",
    UpdateStatus.IN_REVIEW: "amber",
    UpdateStatus.PUBLISHED: "green",
}


class ActionKind(models.TextChoices):
    ROOT_CAUSE = "root_cause", "Root cause"
    CORRECTIVE = "corrective", "Corrective action"
    PREVENTIVE = "preventive", "Preventive action"
    AUDIT = "audit", "Third-party audit"


class SubscriberChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class LookupOutcome(models.TextChoices):
    AFFECTED = "affected", "Affected"
    NOT_AFFECTED = "not_affected", "Not affected"
    CHECK = "check", "Needs a check"
    UNREADABLE = "unreadable", "Could not read"
