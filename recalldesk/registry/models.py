"""The registry: products, parties (consumers and consignees) and who holds what."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from recalldesk.registry import choices


class Product(models.Model):
    """A product the company sells, identified by its GTIN and SKU."""

    gtin = models.CharField("GTIN", max_length=14, unique=True, null=True, blank=True)
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    picture = models.ImageField(upload_to="products/", blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class PartyQuerySet(models.QuerySet["Party"]):
    def consumers(self) -> PartyQuerySet:
        return self.filter(role=choices.PartyRole.CONSUMER)

    def consignees(self) -> PartyQuerySet:
        return self.filter(role=choices.PartyRole.CONSIGNEE)


class Party(models.Model):
    """A customer (consumer) or a consignee (distributor, retailer, dealer).

    Consignees form a tree through ``parent`` so that a recall can be passed down the
    supply chain (sub-recall).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=16, choices=choices.PartyRole.choices)
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    consignee_kind = models.CharField(
        max_length=16, choices=choices.ConsigneeKind.choices, blank=True
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    language = models.CharField(max_length=10, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    preferred_channels = models.JSONField(default=list, blank=True)
    opted_out_channels = models.JSONField(default=list, blank=True)
    # A consignee's own system can take notices as signed webhooks (https, public only).
    webhook_url = models.URLField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["role", "external_id"], name="party_role_external_id")
        ]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["postcode"])]

    def __str__(self) -> str:
        return self.name


class ConsigneeContact(models.Model):
    """A person to reach at a consignee (recall coordinator, store manager, ...)."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["party", "email", "phone"], name="contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.party}"


class Holding(models.Model):
    """Who holds what: a party's units of a product, or a customer's service account.

    ``serial_prefix`` and ``serial_number`` split the serial into its leading text and its
    numeric tail so that serial ranges match with an index range scan.
    """

    external_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(
        max_length=8, choices=choices.HoldingKind.choices, default=choices.HoldingKind.UNIT
    )
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="holdings")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="holdings"
    )
    lot = models.CharField(max_length=64, blank=True)
    serial = models.CharField(max_length=64, blank=True)
    serial_prefix = models.CharField(max_length=64, blank=True)
    serial_number = models.BigIntegerField(null=True, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    manufactured_on = models.DateField(null=True, blank=True)
    acquired_on = models.DateField(null=True, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    source = models.CharField(
        max_length=16, choices=choices.HoldingSource.choices, default=choices.HoldingSource.ORDER
    )
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    service = models.CharField(max_length=100, blank=True)
    account_number = models.CharField(max_length=64, blank=True)
    area = models.CharField(max_length=100, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Covering indexes: a match reads (id, party, quantity) and checks its rules
            # from the index alone on SQLite, without touching the table.
            models.Index(
                fields=[
                    "lot",
                    "product",
                    "kind",
                    "manufactured_on",
                    "acquired_on",
                    "party",
                    "quantity",
                ],
                name="holding_lot_cover",
            ),
            models.Index(
                fields=[
                    "serial_prefix",
                    "serial_number",
                    "product",
                    "kind",
                    "manufactured_on",
                    "acquired_on",
                    "party",
                    "quantity",
                    "lot",
                ],
                name="holding_serial_cover",
            ),
            models.Index(fields=["service", "area"]),
            models.Index(fields=["account_number"]),
        ]

    def __str__(self) -> str:
        if self.kind == choices.HoldingKind.SERVICE:
            return f"{self.service} account {self.account_number}"
        ident = f"serial {self.serial}" if self.serial else f"lot {self.lot}"
        return f"{self.quantity} x {self.product_id} {ident}"


class ImportRun(models.Model):
    """One uploaded file of products, customers, consignees or holdings, and its outcome."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=choices.ImportKind.choices)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    import_valid_rows = models.BooleanField(
        default=False, help_text="Import the valid rows even when some rows have errors."
    )
    status = models.CharField(
        max_length=16, choices=choices.ImportStatus.choices, default=choices.ImportStatus.PENDING
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_processed / self.rows_total))


class ImportProblem(models.Model):
    """One thing wrong with one row of an import: line, column, value and reason."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=100, blank=True)
    value = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)

    class Meta:
        ordering = ["line", "id"]

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"
