"""Remedies and claims: what the company offers, who claims it, and how it was fulfilled."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

from recalldesk.incidents.models import Incident
from recalldesk.registry.models import Holding, Party, Product
from recalldesk.remedies import choices


class Offer(models.Model):
    """One remedy an incident offers (refund, replacement, repair, warranty, voucher or, for a
    service failure, a credit), to whom it is open, and how many a week can be fulfilled."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="offers")
    kind = models.CharField(max_length=16, choices=choices.OfferKind.choices)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="What the customer gets, in plain words.")
    at_no_cost = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    replacement_product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Voucher value, or the credit per day of outage.",
    )
    amount_cap = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Most credit per account."
    )
    currency = models.CharField(max_length=3, blank=True)
    warranty_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # Eligibility: empty means no restriction.
    audience = models.CharField(
        max_length=16, choices=choices.Audience.choices, default=choices.Audience.CONSUMER
    )
    countries = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    lots = models.JSONField(default=list, blank=True)
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    evidence_required = models.BooleanField(
        default=False, help_text="The claimant uploads a photo of the label or serial."
    )
    weekly_capacity = models.PositiveIntegerField(
        default=0, help_text="Units fulfilled per week; 0 means no limit."
    )
    lead_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days from its week's turn until the customer has it."
    )
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["position", "id"]
        permissions = [("manage_offers", "Can set an incident's offers, capacity and credits")]

    def __str__(self) -> str:
        return self.title

    @property
    def needs_address(self) -> bool:
        return self.kind in choices.NEEDS_ADDRESS

    @property
    def needs_payout(self) -> bool:
        return self.kind in choices.NEEDS_PAYOUT

    @property
    def steps(self) -> tuple[str, ...]:
        return choices.STEPS_FOR[choices.OfferKind(self.kind)]


class CapacityWeek(models.Model):
    """The capacity of one offer in one week (from its Monday), overriding the weekly default:
    production ramps up, a warehouse closes for a holiday."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="capacity_weeks")
    week_start = models.DateField()
    units = models.PositiveIntegerField()

    class Meta:
        ordering = ["week_start"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "week_start"], name="capacity_offer_week")
        ]

    def __str__(self) -> str:
        return f"{self.units} from {self.week_start}"


class PriorityRule(models.Model):
    """Claims for riskier units go first: a rule adds its points to a claim when one of the
    claim's units matches every condition that is set."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="priority_rules")
    name = models.CharField(max_length=120)
    points = models.SmallIntegerField(default=10)
    made_before = models.DateField(null=True, blank=True)
    bought_before = models.DateField(null=True, blank=True)
    regions = models.JSONField(default=list, blank=True)
    lots = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-points", "id"]

    def __str__(self) -> str:
        return f"{self.name} (+{self.points})"

    def matches(self, holding: Holding, party_region: str = "") -> bool:
        if self.made_before and not (
            holding.manufactured_on and holding.manufactured_on < self.made_before
        ):
            return False
        if self.bought_before and not (
            holding.acquired_on and holding.acquired_on < self.bought_before
        ):
            return False
        if self.regions and (holding.region or party_region) not in self.regions:
            return False
        return not (self.lots and holding.lot not in self.lots)


class Claim(models.Model):
    """One party's request for one remedy, and its way to fulfilment."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=12, unique=True)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="claims")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="claims")
    # An offer with claims cannot be deleted on its own, only with its incident.
    offer = models.ForeignKey(Offer, on_delete=models.RESTRICT, related_name="claims")
    status = models.CharField(
        max_length=12, choices=choices.ClaimStatus.choices, default=choices.ClaimStatus.SUBMITTED
    )
    source = models.CharField(max_length=16, choices=choices.ClaimSource.choices)
    language = models.CharField(max_length=10, default="en")
    units = models.PositiveIntegerField()
    priority = models.SmallIntegerField(default=0)
    # The status page's second factor, kept as given when the claim was made.
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    ship_name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    payout_method = models.CharField(
        max_length=12, choices=choices.PayoutMethod.choices, blank=True
    )
    # A reference the finance team pays to (an account holder and the last digits, a PayPal
    # address); card numbers are refused.
    payout_reference = models.CharField(max_length=120, blank=True)
    serial_seen = models.CharField(max_length=64, blank=True)
    evidence = models.ImageField(upload_to="claims/%Y/%m/", blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # The first estimated date told to the claimant, so a slip can be said honestly.
    promised_on = models.DateField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # When the claim's units were counted corrected in the ledger (once per claim).
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # Covers a queue position: counts and units by range scans on the index alone.
            models.Index(fields=["offer", "status", "priority", "id", "units"], name="claim_queue"),
            models.Index(fields=["offer", "fulfilled_at", "units"], name="claim_fulfilled"),
            models.Index(fields=["incident", "status"]),
            models.Index(fields=["email", "submitted_at"]),
            models.Index(fields=["postcode", "address_line1"]),
        ]
        permissions = [
            ("decide_claim", "Can approve or reject claims"),
            ("fulfil_claim", "Can record fulfilment and the returned unit's disposition"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("remedies:claim", args=[self.uuid])

    @property
    def status_colour(self) -> str:
        return choices.CLAIM_COLOURS[choices.ClaimStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status in choices.OPEN

    @property
    def secret(self) -> str:
        """The claimant's secret for the status page link, derived so it is never stored."""
        key = hashlib.sha256(f"claim-status:{settings.SECRET_KEY}".encode()).digest()
        return hmac.new(key, self.uuid.bytes, hashlib.sha256).hexdigest()[:20]

    def status_url(self) -> str:
        return f"{settings.PUBLIC_URL}/claims/{self.number}/{self.secret}/"

    @property
    def flag_texts(self) -> list[str]:
        return [flag.get("text", "") for flag in self.flags]


class ClaimUnit(models.Model):
    """One affected holding a claim covers, and how many of its units."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="claim_units")
    holding = models.ForeignKey(Holding, on_delete=models.RESTRICT, related_name="claim_units")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["claim", "holding"], name="claim_unit_holding")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of holding {self.holding_id}"


class ClaimEvent(models.Model):
    """One change to a claim (submitted, flagged, decided, a fulfilment step, the returned
    unit's disposition), who made it and why, and the notice sent to the claimant about it."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=12, choices=choices.EventKind.choices)
    step = models.CharField(max_length=20, choices=choices.Step.choices, blank=True)
    old_status = models.CharField(max_length=12, blank=True)
    new_status = models.CharField(max_length=12, blank=True)
    reason = models.TextField(blank=True)
    carrier = models.CharField(max_length=60, blank=True)
    tracking = models.CharField(max_length=80, blank=True)
    reference = models.CharField(max_length=120, blank=True)
    appointment = models.DateTimeField(null=True, blank=True)
    voucher_code = models.CharField(max_length=60, blank=True)
    proof = models.FileField(upload_to="claims/proof/%Y/%m/", blank=True)
    # The claimant is told about public events through their channel.
    public = models.BooleanField(default=True)
    notice_channel = models.CharField(max_length=12, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.claim_id}"


class ServiceCredit(models.Model):
    """A credit applied to one affected service account by an offer's rule, no claim needed;
    exported for billing."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="credits")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")
    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="+")
    days = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offer", "holding"], name="credit_offer_holding")
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for holding {self.holding_id}"


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


ZERO = Decimal("0.00")
