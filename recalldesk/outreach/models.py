"""Outreach: messages and their approved versions, waves, deliveries and acknowledgements.

The data flows ledger -> wave -> deliveries: a wave picks a segment of an incident's ledger,
writes one delivery row per party in bulk, and the workers send those rows in batches.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.outreach import choices
from recalldesk.registry.models import Party

FACT_FIELDS = [
    "headline",
    "product",
    "identification",
    "hazard",
    "instructions",
    "remedy",
    "contact",
    "sms",
]


class OutreachPolicy(models.Model):
    """How an incident reaches people: regimes to comply with, languages, quiet hours,
    escalation steps and provider rate limits."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="outreach")
    regimes = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    quiet_start = models.TimeField(default="21:00")
    quiet_end = models.TimeField(default="08:00")
    # [{"after_days": 3, "channel": "sms"}, {"after_days": 7, "channel": "phone"}, ...]
    escalation = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"outreach policy of {self.incident.reference}"

    def all_languages(self) -> list[str]:
        langs = [self.incident.default_language, *self.languages]
        return list(dict.fromkeys(lang for lang in langs if lang))


class Message(models.Model):
    """One statement about an incident for one audience; its words live in versions."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="messages")
    name = models.CharField(max_length=200)
    audience = models.CharField(max_length=16, choices=choices.Audience.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_message", "Can approve a message version")]

    def __str__(self) -> str:
        return self.name

    def latest(self) -> MessageVersion | None:
        return self.versions.order_by("-number").first()

    def approved(self) -> MessageVersion | None:
        return (
            self.versions.filter(status=choices.VersionStatus.APPROVED).order_by("-number").first()
        )


class MessageVersion(models.Model):
    """One version of a message: draft, in review, approved or superseded.

    An approved version never changes; editing it makes the next version, which needs
    approval again.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=choices.VersionStatus.choices, default=choices.VersionStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    # The compliance check as run at submission and approval: [{code, ok, ...}, ...].
    check_result = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["message", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="message_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.message} v{self.number}"

    @property
    def is_approved(self) -> bool:
        return self.status == choices.VersionStatus.APPROVED

    def sheets(self) -> dict[str, FactSheet]:
        return {sheet.language: sheet for sheet in self.fact_sheets.all()}


class FactSheet(models.Model):
    """The words of one version in one language; each field may use the party's values
    (``{{ name }}``, ``{{ units }}``, ``{{ link }}``, ``{{ reference }}``)."""

    version = models.ForeignKey(
        MessageVersion, on_delete=models.CASCADE, related_name="fact_sheets"
    )
    language = models.CharField(max_length=10)
    headline = models.CharField(max_length=200)
    product = models.TextField("product and how to identify it", blank=True)
    identification = models.TextField("lot or serial and where to find it", blank=True)
    hazard = models.TextField(blank=True)
    instructions = models.TextField("what to do now", blank=True)
    remedy = models.TextField(blank=True)
    contact = models.TextField("how to reach us", blank=True)
    sms = models.CharField("SMS text", max_length=400, blank=True)

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["version", "language"], name="fact_sheet_language")
        ]

    def __str__(self) -> str:
        return f"{self.version} [{self.language}]"

    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FACT_FIELDS}


class Wave(models.Model):
    """One send of one approved message version to a segment of the ledger through an
    ordered list of channels."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="waves")
    version = models.ForeignKey(MessageVersion, on_delete=models.RESTRICT, related_name="waves")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    name = models.CharField(max_length=200)
    # {"regions": [...], "languages": [...], "not_acknowledged": true, "parties": [...]}
    segment = models.JSONField(default=dict, blank=True)
    channels = models.JSONField(default=list)
    status = models.CharField(
        max_length=12, choices=choices.WaveStatus.choices, default=choices.WaveStatus.SCHEDULED
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)
    respect_quiet_hours = models.BooleanField(default=True)
    batch_size = models.PositiveIntegerField(default=500)
    total = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One attempt to reach one party on one channel, written before anything is sent.

    The status timestamps are its history: queued, sent, delivered, opened, acknowledged,
    bounced or failed, each set once when it happens.
    """

    # Written a million at a time by INSERT ... SELECT from rows read in the same
    # statement: no per-row key checks (they cost more than the insert); the ORM cascades.
    wave = models.ForeignKey(
        Wave,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,
    )
    entry = models.ForeignKey(
        LedgerEntry,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,
    )
    channel = models.CharField(max_length=8, choices=choices.ChannelKind.choices)
    step = models.PositiveSmallIntegerField(default=0)  # index in the wave's channels
    address = models.CharField(max_length=400, blank=True)
    language = models.CharField(max_length=10, blank=True)
    batch = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=12, choices=choices.DeliveryStatus.choices, default=choices.DeliveryStatus.QUEUED
    )
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField()
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=choices.CallOutcome.choices, blank=True)
    call_back_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "deliveries"
        permissions = [("work_call_list", "Can work the phone call list and letter batches")]
        indexes = [
            models.Index(fields=["wave", "batch", "status"]),
            models.Index(fields=["wave", "status"]),
            models.Index(fields=["party", "incident"]),
            models.Index(fields=["channel", "status"]),
            models.Index(fields=["provider_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.address or 'nobody'}"


class BadContact(models.Model):
    """A contact point that failed for good (bounced address, number that cannot be
    reached): never tried again on that channel."""

    channel = models.CharField(max_length=8, choices=choices.ChannelKind.choices)
    address = models.CharField(max_length=400)
    reason = models.TextField()
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL)
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="bad_contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address}"


class Acknowledgement(models.Model):
    """A party's answer through its signed link: read, no longer has it, wants the remedy;
    or a consignee's report of quantities and its sub-recall."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="acknowledgements")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=choices.AckKind.choices)
    signer_name = models.CharField(max_length=200, blank=True)
    on_hand = models.PositiveIntegerField(null=True, blank=True)
    returned = models.PositiveIntegerField(null=True, blank=True)
    destroyed = models.PositiveIntegerField(null=True, blank=True)
    corrected = models.PositiveIntegerField(null=True, blank=True)
    sub_recall_notified = models.PositiveIntegerField(null=True, blank=True)
    sub_recall_list = models.FileField(upload_to="sub-recalls/", blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["incident", "party"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.party}"


class RateSlot(models.Model):
    """Per-provider rate limit shared by all workers: the next free moment to send."""

    provider = models.CharField(max_length=32, unique=True)
    next_free = models.FloatField(default=0.0)  # seconds since the epoch

    def __str__(self) -> str:
        return self.provider
