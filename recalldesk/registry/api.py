"""API for integrations: push registry rows in batches, read an incident's ledger page by page.

Every endpoint needs an API token (``Authorization: Bearer <token>``), acting as the staff user
it was issued for; writes need the permission to import, the ledger the permission to see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import F
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from recalldesk.incidents.models import Incident, LedgerEntry, holdings_of
from recalldesk.registry import importing
from recalldesk.registry.choices import ImportKind
from recalldesk.registry.models import Holding

router = Router(tags=["registry"])
ledger_router = Router(tags=["ledger"])

LEDGER_PAGE_MAX = 5_000


class RowsIn(Schema):
    rows: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=importing.API_MAX_ROWS,
        description=(
            "Up to 5,000 rows, each an object whose fields are the columns of the import "
            "template (the CSV header names and their aliases are accepted)."
        ),
    )


class ProblemOut(Schema):
    row: int | None = Field(description="Index of the row in the batch, from 0; null: the batch")
    field: str
    message: str


class ImportResult(Schema):
    created: int
    updated: int
    unchanged: int
    problems: list[ProblemOut]


def _push(request: HttpRequest, kind: str, body: RowsIn) -> Status[dict[str, Any]]:
    user = request.auth  # type: ignore[attr-defined]
    if not user.has_perm("registry.add_importrun"):
        raise HttpError(403, "The token's user may not import registry rows.")
    outcome = importing.import_rows(kind, body.rows, user)
    problems = [{"row": p.line, "field": p.column, "message": p.message} for p in outcome.problems]
    result = {
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "problems": problems,
    }
    return Status(422 if problems else 200, result)


PUSH = {200: ImportResult, 422: ImportResult}
PUSH_NOTE = (
    "Rows are matched on {key}: new rows are created, changed rows updated, the rest left "
    "alone. If any row has a problem the answer is 422 with every problem, and nothing is "
    "written."
)


@router.post("/products", response=PUSH, description=PUSH_NOTE.format(key="sku"))
def push_products(request: HttpRequest, body: RowsIn) -> Status[dict[str, Any]]:
    return _push(request, ImportKind.PRODUCTS, body)


@router.post("/customers", response=PUSH, description=PUSH_NOTE.format(key="external_id"))
def push_customers(request: HttpRequest, body: RowsIn) -> Status[dict[str, Any]]:
    return _push(request, ImportKind.CUSTOMERS, body)


@router.post("/consignees", response=PUSH, description=PUSH_NOTE.format(key="external_id"))
def push_consignees(request: HttpRequest, body: RowsIn) -> Status[dict[str, Any]]:
    return _push(request, ImportKind.CONSIGNEES, body)


@router.post("/holdings", response=PUSH, description=PUSH_NOTE.format(key="external_id"))
def push_holdings(request: HttpRequest, body: RowsIn) -> Status[dict[str, Any]]:
    return _push(request, ImportKind.HOLDINGS, body)


class LedgerHoldingRow(Schema):
    external_id: str = Field(description="The holding's external id, as the registry has it")
    units: int = Field(description="Its affected units, as of the latest match")


class LedgerRow(Schema):
    party_external_id: str
    role: str
    name: str
    email: str
    phone: str
    country: str
    language: str
    status: str
    units: int
    holdings_count: int
    holdings: list[LedgerHoldingRow]
    first_affected_at: datetime


class LedgerPage(Schema):
    items: list[LedgerRow]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: done")


@ledger_router.get("/{incident_uuid}/ledger", response=LedgerPage)
def incident_ledger(
    request: HttpRequest,
    incident_uuid: UUID,
    cursor: str = "",
    limit: int = Query(1_000, ge=1, le=LEDGER_PAGE_MAX),
) -> dict[str, Any]:
    """The incident's ledger, one row per party, in pages that stay stable while it grows."""
    user = request.auth  # type: ignore[attr-defined]
    if not user.has_perm("incidents.view_ledger"):
        raise HttpError(403, "The token's user may not see ledgers.")
    incident = get_object_or_404(Incident, uuid=incident_uuid)
    after = 0
    if cursor:
        if not cursor.isdigit():
            raise HttpError(400, "The cursor is not one this API gave.")
        after = int(cursor)
    # Keyset pagination on the entry id: each page is an index range scan, however deep.
    entries = list(
        LedgerEntry.objects.filter(incident=incident, id__gt=after)
        .order_by("id")
        .values(
            "id",
            "status",
            "units",
            "holdings_count",
            "holdings",
            "first_affected_at",
            "party_id",
            party_external_id=F("party__external_id"),
            role=F("party__role"),
            name=F("party__name"),
            email=F("party__email"),
            phone=F("party__phone"),
            country=F("party__country"),
            language=F("party__language"),
        )[: limit + 1]
    )
    more = len(entries) > limit
    entries = entries[:limit]
    held: dict[int, list[dict[str, Any]]] = {entry["party_id"]: [] for entry in entries}
    for party_id, units, holding in holdings_of(
        [(entry["party_id"], entry["holdings"]) for entry in entries],
        Holding.objects.only("external_id"),
    ):
        held[party_id].append({"external_id": holding.external_id, "units": units})
    return {
        "items": [{**entry, "holdings": held[entry["party_id"]]} for entry in entries],
        "next_cursor": str(entries[-1]["id"]) if more else None,
    }
