"""The demo's remedies: a free replacement with weekly capacity, a refund, priority for the
oldest units, and a few hundred claims at every stage, so the queue, the status pages and the
completion rate show what a recall team would see some weeks in."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.registry.choices import PartyRole
from recalldesk.registry.models import Holding
from recalldesk.remedies import actions, choices
from recalldesk.remedies.models import CapacityWeek, Claim, Offer, PriorityRule, monday

CLAIMS = 400
CARRIERS = ("DHL", "UPS", "DPD", "La Poste", "Correos")
# A one-line PDF standing in for the courier's collection receipt.
RECEIPT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]"
    b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def build_remedies_demo(incident: Incident, seed: int = 7) -> int:
    """Offers, priority rules and claims for ``incident``; returns how many claims were made."""
    rng = random.Random(seed)
    users = {u.username: u for u in get_user_model().objects.all()}
    coordinator, agent = users["coordinator"], users["agent"]
    product = incident.scope.products.order_by("pk").first()
    replacement = actions.do_save_offer(
        coordinator,
        incident,
        Offer(
            kind=choices.OfferKind.REPLACEMENT,
            title="Free replacement heater",
            description="A new heater of the current model, delivered to your door; the "
            "courier takes the old one away.",
            replacement_product=product,
            weekly_capacity=150,
            lead_days=4,
        ),
        [],
    )
    actions.do_save_offer(
        coordinator,
        incident,
        Offer(
            kind=choices.OfferKind.REFUND,
            title="Full refund",
            description="The full price you paid, by bank transfer, PayPal or cheque.",
            weekly_capacity=400,
            lead_days=7,
        ),
        [],
    )
    # The factory's second line comes on stream in three weeks.
    CapacityWeek.objects.create(
        offer=replacement,
        week_start=monday(dt.date.today()) + dt.timedelta(weeks=3),
        units=400,
    )
    manufactured = [
        holding.manufactured_on
        for _, _, holding in incident.ledger.holdings(
            Holding.objects.filter(manufactured_on__isnull=False).only("manufactured_on")
        )
        if holding.manufactured_on is not None
    ]
    oldest = min(manufactured, default=None)
    PriorityRule.objects.create(
        incident=incident,
        name="Units from the first production months",
        points=20,
        made_before=(oldest + dt.timedelta(days=90)) if oldest else None,
    )
    entries = list(
        LedgerEntry.objects.affected()
        .filter(incident=incident, party__role=PartyRole.CONSUMER)
        .select_related("party")
        .order_by("pk")[: CLAIMS * 2]
    )
    rng.shuffle(entries)
    made: list[Claim] = []
    for entry in entries[:CLAIMS]:
        party = entry.party
        items = actions.claimable(incident, party)
        chosen = actions.offers_for(incident, party, items)
        if not chosen:
            continue
        offer = chosen[0] if rng.random() < 0.7 or len(chosen) == 1 else chosen[1]
        request = actions.ClaimRequest(
            offer=offer,
            units={c.holding.pk: c.remaining for c in items if c.remaining},
            source=choices.ClaimSource.NOTICE,
            language=party.language or incident.default_language,
            email=party.email,
            phone=party.phone,
            ship_name=party.name,
            address_line1=party.address_line1,
            city=party.city,
            postcode=party.postcode,
            country=party.country,
            payout_method=choices.PayoutMethod.BANK,
            payout_reference=f"{party.name}, account ending {rng.randint(1000, 9999)}",
        )
        try:
            made.append(actions.do_submit_claim(incident, party, request))
        except ValidationError:
            continue
    clean = [c for c in made if not c.flags]
    approve = clean[: len(clean) * 2 // 3]
    actions.do_decide(agent, approve, choices.ClaimStatus.APPROVED)
    for claim in approve[: len(approve) // 2]:
        if claim.offer.kind == choices.OfferKind.REPLACEMENT:
            data = {
                "carrier": rng.choice(CARRIERS),
                "tracking": f"{rng.randint(10**11, 10**12 - 1)}",
            }
            actions.do_record_step(agent, claim, choices.Step.SHIPPED, data)
        else:
            data = {"reference": f"PAY-{claim.number}"}
            actions.do_record_step(agent, claim, choices.Step.REFUND_PAID, data)
        if rng.random() < 0.4:
            receipt = ContentFile(RECEIPT, name=f"collection-{claim.number}.pdf")
            actions.do_record_step(
                agent, claim, choices.Step.DESTROYED, {"note": "collected"}, receipt
            )
    return len(made)
