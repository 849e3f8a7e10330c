"""Incidents, their scope and the recall response ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from recalldesk.incidents import choices
from recalldesk.registry.models import Holding, Party, Product


class IncidentQuerySet(models.QuerySet["Incident"]):
    def active(self) -> IncidentQuerySet:
        return self.filter(status=choices.IncidentStatus.ACTIVE)

    def open(self) -> IncidentQuerySet:
        return self.exclude(status=choices.IncidentStatus.CLOSED)


class Incident(models.Model):
    """One product recall or one service failure."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=8, choices=choices.IncidentKind.choices)
    title = models.CharField(max_length=200)
    hazard = models.TextField(blank=True)
    classification = models.CharField(
        max_length=8, choices=choices.Classification.choices, blank=True
    )
    status = models.CharField(
        max_length=12,
        choices=choices.IncidentStatus.choices,
        default=choices.IncidentStatus.DRAFT,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_incidents",
    )
    default_language = models.CharField(max_length=10, default="en")
    detected_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    first_notice_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("edit_scope", "Can edit an incident's scope and rebuild its ledger"),
            ("view_ledger", "Can see an incident's ledger"),
            ("export_ledger", "Can export an incident's ledger"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.uuid])

    @property
    def status_colour(self) -> str:
        return choices.STATUS_COLOURS[choices.IncidentStatus(self.status)]

    @property
    def is_service(self) -> bool:
        return self.kind == choices.IncidentKind.SERVICE


class Scope(models.Model):
    """The rules that say what an incident affects.

    A holding is affected when it is of one of the products (or, for a service failure, one
    of the services), carries one of the lots or falls in one of the serial ranges (or any
    unit when ``all_units``), and passes every window and area rule that is set.
    """

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="scope")
    version = models.PositiveIntegerField(default=0)
    products = models.ManyToManyField(Product, blank=True, related_name="scopes")
    all_units = models.BooleanField(
        default=False, help_text="Every lot and serial of the products is affected."
    )
    lots_text = models.TextField(blank=True)
    serials_text = models.TextField(blank=True)
    notice_text = models.TextField(blank=True)
    date_basis = models.CharField(
        max_length=16,
        choices=choices.DateBasis.choices,
        default=choices.DateBasis.MANUFACTURED,
    )
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    regions = models.JSONField(default=list, blank=True)
    postcodes = models.JSONField(default=list, blank=True)
    services = models.JSONField(default=list, blank=True)
    areas = models.JSONField(default=list, blank=True)
    accounts = models.JSONField(default=list, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return f"Scope of {self.incident.reference} v{self.version}"


class ScopeLot(models.Model):
    """One affected lot or batch code; ranges are expanded into these rows when saved."""

    scope = models.ForeignKey(Scope, on_delete=models.CASCADE, related_name="lots")
    lot = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "lot"], name="scope_lot_unique")]

    def __str__(self) -> str:
        return self.lot


class ScopeSerialRange(models.Model):
    """An inclusive serial range: same prefix, numeric tail from ``start`` to ``end``."""

    scope = models.ForeignKey(Scope, on_delete=models.CASCADE, related_name="serial_ranges")
    prefix = models.CharField(max_length=64, blank=True)
    first_number = models.BigIntegerField()
    last_number = models.BigIntegerField()

    class Meta:
        ordering = ["prefix", "first_number"]

    def __str__(self) -> str:
        if self.first_number == self.last_number:
            return f"{self.prefix}{self.first_number}"
        return f"{self.prefix}{self.first_number}-{self.prefix}{self.last_number}"


class MatchRun(models.Model):
    """One build of an incident's ledger from its scope, with what changed since the last."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="match_runs")
    scope_version = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=8, choices=choices.MatchStatus.choices, default=choices.MatchStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    holdings_matched = models.PositiveIntegerField(default=0)
    units_affected = models.PositiveBigIntegerField(default=0)
    parties_affected = models.PositiveIntegerField(default=0)
    newly_affected = models.PositiveIntegerField(default=0)
    no_longer_affected = models.PositiveIntegerField(default=0)
    still_affected = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Match of {self.incident.reference} at scope v{self.scope_version}"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


def _run_key(**options: Any) -> models.ForeignKey[Any, Any]:
    """A ledger row's reference to the match run that added, kept or removed it."""
    return models.ForeignKey(
        MatchRun,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
        **options,
    )


class HoldingsField(models.Field[Any, Any]):
    """A ledger entry's affected holdings: ``[[holding id, units], ...]`` in holding order.

    Stored as text, ``holding:units`` pairs joined by commas (``"1041:2,1187:1"``, empty
    for none), the same on every database: what the match's ``string_agg`` (PostgreSQL) or
    ``group_concat`` (SQLite) builds, hundreds of thousands of entries at a time, and the
    form a rematch compares. Text is the smallest of the forms measured (a 2-D ``bigint``
    array made an entry a quarter larger, and a match that much slower to write) and stays
    readable in SQL."""

    description = "affected holdings as holding:units pairs"

    def db_type(self, connection: Any) -> str:
        return "text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[list[int]]:
        return self.to_python(value)

    def to_python(self, value: Any) -> list[list[int]]:
        if not value:
            return []
        if isinstance(value, str):
            try:
                return [
                    [int(holding), int(units)]
                    for holding, units in (pair.split(":") for pair in value.split(","))
                ]
            except ValueError as exc:
                raise ValidationError(
                    f"Holdings must be holding:units pairs joined by commas, not {value!r}."
                ) from exc
        return [[int(holding), int(units)] for holding, units in value]

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> str:
        return ",".join(f"{holding}:{units}" for holding, units in self.to_python(value))


# Holdings read by id per query: well under every database's limit on parameters.
HOLDINGS_PER_QUERY = 5000


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def affected(self) -> LedgerEntryQuerySet:
        return self.filter(status=choices.LedgerStatus.AFFECTED)

    def holdings(
        self, holdings: models.QuerySet[Holding] | None = None
    ) -> Iterator[tuple[int, int, Holding]]:
        """``(party id, units, holding)`` for every affected holding of these entries, in
        party then holding order; ``holdings`` narrows or shapes the holdings read (a holding
        deleted since the match is skipped)."""
        source = holdings if holdings is not None else Holding.objects.all()
        rows = self.order_by("party_id").values_list("party_id", "holdings")
        batch: list[tuple[int, list[list[int]]]] = []
        held = 0
        for row in rows.iterator(chunk_size=2000):
            batch.append(row)
            held += len(row[1])
            if held >= HOLDINGS_PER_QUERY:
                yield from holdings_of(batch, source)
                batch, held = [], 0
        yield from holdings_of(batch, source)


def holdings_of(
    batch: list[tuple[int, list[list[int]]]], source: models.QuerySet[Holding]
) -> Iterator[tuple[int, int, Holding]]:
    """``(party id, units, holding)`` for each ``(party id, holdings)`` entry of ``batch``,
    the holdings read from ``source`` by id (one that is not there is skipped)."""
    ids = [holding for _, pairs in batch for holding, _ in pairs]
    found: dict[int, Holding] = {}
    for start in range(0, len(ids), HOLDINGS_PER_QUERY):
        found.update(source.in_bulk(ids[start : start + HOLDINGS_PER_QUERY]))
    for party, pairs in batch:
        for holding, units in pairs:
            if holding in found:
                yield party, units, found[holding]


class LedgerEntry(models.Model):
    """One affected party of one incident: the row every notice, remedy and metric hangs off.

    A party that drops out of scope keeps its row, marked ``removed``, so its history stays.
    """

    # Written by the match hundreds of thousands at a time from rows read in the same
    # transaction, so the database does not re-check each key: PostgreSQL's deferred check
    # per row cost more than the match itself. Deleting a party or an incident still
    # cascades through the ORM; bulk deletes in SQL must delete ledger rows first.
    # The unique (incident, party) constraint indexes both keys, incident first: every read
    # of the ledger is of one incident, so neither key has an index of its own (each index
    # is written once per row of a match). Deleting a party (rare) scans the ledger. Nor
    # has the status: most of an incident's entries are affected, so a read by status reads
    # most of the incident's entries anyway.
    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="ledger",
        db_index=False,
        db_constraint=False,
    )
    party = models.ForeignKey(
        Party,
        on_delete=models.CASCADE,
        related_name="ledger_entries",
        db_constraint=False,
        db_index=False,
    )
    status = models.CharField(
        max_length=8,
        choices=choices.LedgerStatus.choices,
        default=choices.LedgerStatus.AFFECTED,
    )
    units = models.PositiveIntegerField(default=0)
    holdings_count = models.PositiveIntegerField(default=0)
    # The party's affected holdings with their units, as of the latest match: part of the
    # entry rather than a row each, since writing rows is what a large match spends its time
    # on (a row per holding was as many rows again, with two more indexes to build). Empty
    # once the entry is removed; read through ``LedgerEntry.objects.holdings()``.
    holdings = HoldingsField(default=list, editable=False)
    # The run keys are bookkeeping written by the match itself, hundreds of thousands at a
    # time: no database constraint or index (a deferred check per row cost PostgreSQL more
    # than the match); the ORM still nulls them if a run is deleted. A rematch writes only
    # the entries that changed: an entry still affected was affected in the latest run.
    added_run = _run_key()
    removed_run = _run_key(blank=True)
    first_affected_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Units made safe by a fulfilled remedy, a recorded disposition or a service credit.
    # A database default, since the match writes ledger rows in SQL.
    units_corrected = models.PositiveIntegerField(default=0, db_default=0)
    corrected_at = models.DateTimeField(null=True, blank=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["incident", "party"], name="ledger_incident_party")
        ]

    def __str__(self) -> str:
        return f"{self.party} in {self.incident.reference}"
