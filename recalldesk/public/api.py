"""The public, read-only API of the crisis site: published incidents, their updates, and
"is my unit affected?".

No authentication: it shows only what the public pages show (published pages, published
updates and actions, the products in scope) and never anything about a person. Lookups are
rate limited per address like the lookup page, and counted by outcome only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django_ratelimit.core import is_ratelimited
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from recalldesk.public import choices
from recalldesk.public import lookup as public_lookup
from recalldesk.public.feeds import public_feed_url, public_page_url
from recalldesk.public.models import Action, PublicPage, Update
from recalldesk.public.views import count_lookup
from recalldesk.registry.models import Product

router = Router(tags=["public"], auth=None)

LOOKUP_FIELDS = ("code", "gtin", "lot", "serial", "account", "postcode")


class ErrorOut(Schema):
    detail: str = Field(description="A plain message; HTML-escaped where it quotes the query")


class IncidentOut(Schema):
    reference: str
    slug: str
    kind: str
    title: str
    status: str
    hazard: str
    announced_at: datetime | None
    page_url: str
    feed_url: str


class ProductOut(Schema):
    name: str
    brand: str
    gtin: str | None
    sku: str


class ActionOut(Schema):
    kind: str
    title: str
    description: str
    findings: str
    due_on: date | None
    closed_on: date | None


class IncidentDetailOut(IncidentOut):
    default_language: str
    closed_at: datetime | None
    products: list[ProductOut]
    actions: list[ActionOut]


class UpdateTextOut(Schema):
    resolved: str
    in_progress: str
    take_part: str


class UpdateOut(Schema):
    uuid: UUID
    published_at: datetime
    next_update_at: datetime
    texts: dict[str, UpdateTextOut]


class LookupOut(Schema):
    outcome: str = Field(description="affected, not_affected or check")
    reason: str = Field(
        description="One plain paragraph: why, and what to do or check; HTML-escaped, since "
        "it may quote what was typed."
    )
    product: str = Field(description="The name of the product recognised, or empty")


def _published_page(slug: str, related: str = "incident") -> PublicPage:
    return get_object_or_404(PublicPage.objects.select_related(related), slug=slug, published=True)


def _incident(page: PublicPage) -> dict[str, Any]:
    incident = page.incident
    return {
        "reference": incident.reference,
        "slug": page.slug,
        "kind": incident.kind,
        "title": incident.title,
        "status": incident.status,
        "hazard": incident.hazard,
        "announced_at": incident.announced_at,
        "page_url": public_page_url(page.slug),
        "feed_url": public_feed_url(page.slug),
    }


@router.get("/incidents", response=list[IncidentOut], auth=None)
def list_incidents(request: HttpRequest) -> list[dict[str, Any]]:
    """Every incident with a published page, the most recently announced first."""
    pages = (
        PublicPage.objects.filter(published=True)
        .select_related("incident")
        .order_by(F("incident__announced_at").desc(nulls_last=True), "-incident__created_at")
    )
    return [_incident(page) for page in pages]


@router.get("/incidents/{slug}", response={200: IncidentDetailOut, 404: ErrorOut}, auth=None)
def get_incident(request: HttpRequest, slug: str) -> dict[str, Any]:
    """One published incident with the products in its scope and its published actions."""
    page = _published_page(slug)
    products = Product.objects.filter(scopes__incident=page.incident_id).order_by("name", "sku")
    actions = Action.objects.filter(incident=page.incident_id, published=True)
    return {
        **_incident(page),
        "default_language": page.incident.default_language,
        "closed_at": page.incident.closed_at,
        "products": list(products),
        "actions": list(actions),
    }


@router.get("/incidents/{slug}/updates", response={200: list[UpdateOut], 404: ErrorOut}, auth=None)
def list_updates(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """The incident's published updates, newest first, with their words in every language."""
    page = _published_page(slug)
    updates = (
        Update.objects.filter(
            incident=page.incident_id,
            status=choices.UpdateStatus.PUBLISHED,
            published_at__isnull=False,
        )
        .prefetch_related("translations")
        .order_by("-published_at", "-id")
    )
    return [
        {
            "uuid": update.uuid,
            "published_at": update.published_at,
            "next_update_at": update.next_update_at,
            "texts": update.texts(),
        }
        for update in updates
    ]


@router.get(
    "/incidents/{slug}/lookup",
    response={200: LookupOut, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    auth=None,
)
def lookup(
    request: HttpRequest,
    slug: str,
    code: str = "",
    gtin: str = "",
    lot: str = "",
    serial: str = "",
    account: str = "",
    postcode: str = "",
) -> dict[str, Any]:
    """Is this unit (or account) affected? Give what is printed on it: a scanned code, or
    the GTIN with the lot or serial, or for a service failure the account or postcode.
    A malformed query is answered 400 with a plain message."""
    if is_ratelimited(
        request,
        group="public.api.lookup",
        key="ip",
        rate=settings.PUBLIC_LOOKUP_RATE,
        increment=True,
    ):
        raise HttpError(429, "Too many lookups from this address; try again in a minute.")
    page = _published_page(slug, "incident__scope")
    # One character over the limit is enough for the parser to say "too long".
    given = {
        name: value[: public_lookup.MAX_INPUT + 1]
        for name, value in zip(
            LOOKUP_FIELDS, (code, gtin, lot, serial, account, postcode), strict=True
        )
    }
    try:
        query = public_lookup.parse_query(**given)
    except ValueError as exc:
        count_lookup(page.incident_id, choices.LookupOutcome.UNREADABLE)
        raise HttpError(400, escape(str(exc))) from None
    result = public_lookup.answer(public_lookup.index_for(page.incident), query)
    count_lookup(page.incident_id, result.outcome)
    # The reason quotes the lot, serial or postcode as typed: escaped, it cannot become
    # markup in whatever page shows it.
    return {"outcome": result.outcome, "reason": escape(result.reason), "product": result.product}
