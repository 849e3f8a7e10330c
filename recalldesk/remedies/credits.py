"""Service credits: for a service failure, every affected account gets its credit by rule
(an amount per day of outage, capped), without a claim, and billing gets a file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from recalldesk.incidents.models import Incident, LedgerEntry, Scope
from recalldesk.registry.choices import HoldingKind
from recalldesk.registry.models import Holding
from recalldesk.remedies import choices
from recalldesk.remedies.models import Offer, ServiceCredit

BATCH = 5000


def outage_days(
    window: tuple[dt.date | None, dt.date | None], period: tuple[dt.date | None, dt.date | None]
) -> int:
    """Days (inclusive) the outage window overlaps the account's service period; an open end
    of the period means the account is still live. No window counts one day."""
    start, end = window
    if start is None and end is None:
        return 1
    start = start or end
    end = end or start
    assert start is not None and end is not None
    first = max(start, period[0]) if period[0] else start
    last = min(end, period[1]) if period[1] else end
    return max(0, (last - first).days + 1)


def credit_amount(offer: Offer, days: int) -> Decimal:
    assert offer.amount is not None
    amount = offer.amount * days
    if offer.amount_cap is not None:
        amount = min(amount, offer.amount_cap)
    return amount.quantize(Decimal("0.01"))


def apply_offer(offer: Offer) -> int:
    """Credit every affected service account of the offer's incident that has no credit from
    this offer yet; returns how many credits were added. Safe to run again after a rematch."""
    incident = offer.incident
    scope = Scope.objects.get(incident_id=incident.pk)
    window = (scope.window_start, scope.window_end)
    # Accounts this offer already credited are left out as each batch of holdings is read
    # (a lookup by the offer's unique key per holding), so memory stays bounded.
    by_offer = ServiceCredit.objects.filter(offer=offer, holding=OuterRef("pk"))
    rows = LedgerEntry.objects.filter(incident=incident).holdings(
        Holding.objects.filter(kind=HoldingKind.SERVICE)
        .exclude(Exists(by_offer))
        .only("period_start", "period_end")
    )
    added = 0
    pending: list[ServiceCredit] = []
    with transaction.atomic():
        for party_id, _, holding in rows:
            holding_id = holding.pk
            days = outage_days(window, (holding.period_start, holding.period_end))
            if days <= 0:
                continue
            pending.append(
                ServiceCredit(
                    offer=offer,
                    incident=incident,
                    party_id=party_id,
                    holding_id=holding_id,
                    days=days,
                    amount=credit_amount(offer, days),
                    currency=offer.currency,
                )
            )
            if len(pending) >= BATCH:
                added += len(ServiceCredit.objects.bulk_create(pending, ignore_conflicts=True))
                pending = []
        if pending:
            added += len(ServiceCredit.objects.bulk_create(pending, ignore_conflicts=True))
        # A credited party is made good: its ledger units count corrected.
        credited = ServiceCredit.objects.filter(incident=incident).values("party_id")
        LedgerEntry.objects.filter(incident=incident, party_id__in=Subquery(credited)).exclude(
            units_corrected__gte=F("units")
        ).update(units_corrected=F("units"), corrected_at=timezone.now())
    return added


def apply_for_incident(incident_id: int) -> int:
    incident = Incident.objects.get(pk=incident_id)
    if not incident.is_service:
        return 0
    offers = Offer.objects.filter(
        incident=incident, kind=choices.OfferKind.CREDIT, active=True
    ).select_related("incident__scope")
    return sum(apply_offer(offer) for offer in offers)


EXPORT_HEADER = [
    "account_number",
    "customer_external_id",
    "customer_name",
    "service",
    "area",
    "outage_days",
    "amount",
    "currency",
    "incident",
    "credit_reference",
]


def export_rows(offer: Offer) -> Iterator[list[str]]:
    """The billing file's rows: one credit per account, with a stable reference."""
    yield EXPORT_HEADER
    credits = (
        ServiceCredit.objects.filter(offer=offer)
        .select_related("holding", "party")
        .order_by("holding__account_number", "pk")
    )
    for credit in credits.iterator(chunk_size=BATCH):
        yield [
            credit.holding.account_number,
            credit.party.external_id,
            credit.party.name,
            credit.holding.service,
            credit.holding.area,
            str(credit.days),
            f"{credit.amount:.2f}",
            credit.currency,
            offer.incident.reference,
            f"{offer.incident.reference}-CR-{credit.pk}",
        ]
