"""Choices for outreach, defined once: value, label and the colour the console shows."""

from django.db import models


class Audience(models.TextChoices):
    CONSUMER = "consumer", "Consumers"
    CONSIGNEE = "consignee", "Consignees"


class Regime(models.TextChoices):
    FDA = "fda", "US FDA 21 CFR 7.49"
    CPSC = "cpsc", "US CPSC recall notice"
    EU_GPSR = "eu_gpsr", "EU GPSR Art. 36"
    NHTSA = "nhtsa", "US NHTSA owner letter"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"


VERSION_COLOURS = {
    VersionStatus.DRAFT: "grey",
    VersionStatus.IN_REVIEW: "amber",
    VersionStatus.APPROVED: "green",
    VersionStatus.SUPERSEDED: "grey",
}


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    PHONE = "phone", "Phone call list"
    LETTER = "letter", "Postal letter"
    WEBHOOK = "webhook", "Webhook"


class WaveStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


WAVE_COLOURS = {
    WaveStatus.SCHEDULED: "amber",
    WaveStatus.SENDING: "red",
    WaveStatus.DONE: "green",
    WaveStatus.CANCELLED: "grey",
}


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    CLAIMED = "claimed", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "No usable contact"


DELIVERY_COLOURS = {
    DeliveryStatus.QUEUED: "grey",
    DeliveryStatus.CLAIMED: "amber",
    DeliveryStatus.SENT: "blue",
    DeliveryStatus.DELIVERED: "green",
    DeliveryStatus.OPENED: "green",
    DeliveryStatus.ACKNOWLEDGED: "green",
    DeliveryStatus.BOUNCED: "red",
    DeliveryStatus.FAILED: "red",
    DeliveryStatus.SKIPPED: "red",
}

# Statuses after which a delivery is finished with, for progress and the estimated end.
DELIVERY_FINAL = [
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.OPENED,
    DeliveryStatus.ACKNOWLEDGED,
    DeliveryStatus.BOUNCED,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
]


class CallOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    VOICEMAIL = "voicemail", "Left voicemail"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    CALL_BACK = "call_back", "Call back later"
    NO_ANSWER = "no_answer", "No answer"


class AckKind(models.TextChoices):
    READ = "read", "I have read the notice"
    NO_LONGER_HAVE = "no_longer_have", "I no longer have the product"
    WANT_REMEDY = "want_remedy", "I want the remedy"
    CONSIGNEE_REPORT = "consignee_report", "Consignee report"
