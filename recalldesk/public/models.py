"""The crisis site: the public page of an incident, its updates and actions, subscribers,
questions from the public, and lookup counts (no personal data)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models

from recalldesk.incidents.models import Incident
from recalldesk.public import choices


def _token() -> str:
    return secrets.token_urlsafe(24)


class PublicPage(models.Model):
    """Whether and how an incident is shown to the public, and its cadence promise."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="public")
    slug = models.SlugField(max_length=64, unique=True)
    published = models.BooleanField(default=False)
    # The approved message the page states (its latest approved version, in each language).
    statement = models.ForeignKey(
        "outreach.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    # [{"for_days": 14, "every_hours": 24}, {"every_hours": 168}]: daily for two weeks, then
    # weekly. The last step repeats.
    cadence = models.JSONField(default=list, blank=True)
    # Bumped by every publish: cached pages and the lookup index carry it in their key.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"public page of {self.incident.reference}"


class FaqEntry(models.Model):
    """A question and its answer on the public page, in one language."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="faq")
    language = models.CharField(max_length=10)
    question = models.CharField(max_length=300)
    answer = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.question


class Update(models.Model):
    """One entry of the public timeline: resolved, in progress, how to take part, and when
    the next update comes. Published only after approval by someone other than its author."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(
        max_length=12, choices=choices.UpdateStatus.choices, default=choices.UpdateStatus.DRAFT
    )
    next_update_at = models.DateTimeField()
    notify_ledger = models.BooleanField(
        default=False, help_text="Also send it to every affected party in the ledger."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        permissions = [("publish_update", "Can approve and publish an update")]

    def __str__(self) -> str:
        return f"update of {self.incident.reference} ({self.get_status_display()})"

    def texts(self) -> dict[str, UpdateText]:
        return {text.language: text for text in self.translations.all()}


class UpdateText(models.Model):
    """The words of an update in one language."""

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=10)
    resolved = models.TextField("what is resolved", blank=True)
    in_progress = models.TextField("what is in progress", blank=True)
    take_part = models.TextField("how to take part", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["update", "language"], name="update_text_language")
        ]

    def __str__(self) -> str:
        return f"{self.update} [{self.language}]"


class Action(models.Model):
    """Root cause, a corrective or preventive action, or a third-party audit, with its
    milestones; shown on the page once published."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=12, choices=choices.ActionKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    due_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    published = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "due_on", "id"]

    def __str__(self) -> str:
        return self.title


class Subscriber(models.Model):
    """Someone who asked for updates by email or SMS; counts only once confirmed."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="subscribers")
    channel = models.CharField(max_length=8, choices=choices.SubscriberChannel.choices)
    address = models.CharField(max_length=254)
    language = models.CharField(max_length=10)
    token = models.CharField(max_length=64, unique=True, default=_token)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "channel", "address"], name="subscriber_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} subscriber of {self.incident.reference}"

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class Question(models.Model):
    """A question from the public page, recorded for the care team."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="questions")
    name = models.CharField(max_length=200)
    contact = models.CharField(max_length=254)
    language = models.CharField(max_length=10, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"question about {self.incident.reference}"


class LookupCount(models.Model):
    """How many lookups a day ended how: counts only, nothing about who asked."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    outcome = models.CharField(max_length=16, choices=choices.LookupOutcome.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "day", "outcome"], name="lookup_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.outcome} on {self.day}"
