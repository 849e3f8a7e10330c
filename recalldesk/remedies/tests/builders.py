"""Builders for remedies tests: a recall with owners in the ledger, offers and claims."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests import builders as b
from recalldesk.registry.models import Party, Product
from recalldesk.remedies import actions, choices
from recalldesk.remedies.models import Claim, Offer


def recall(user: Any, owners: list[dict[str, Any]]) -> Incident:
    """A recall of the NH-2000 heater, lot L1230 and serials NH-1000..NH-1999; each owner
    dict gives the party's fields and optionally ``units`` (a list of holding fields)."""
    heater = Product.objects.filter(sku="NH-2000").first() or b.product(
        "NH-2000", name="Northwind fan heater"
    )
    heater.unit_price = Decimal("49.90")
    heater.currency = "EUR"
    heater.save()
    incident = b.incident(user)
    for fields in owners:
        fields = dict(fields)
        units = fields.pop("units", [{"lot": "L1230"}])
        owner = b.party(fields.pop("name"), **fields)
        for unit in units:
            b.holding(owner, heater, **unit)
    b.save_and_match(
        user, incident, products=[heater], lots=["L1230"], serials=[("NH-", 1000, 1999)]
    )
    incident.refresh_from_db()
    return incident


def offer(user: Any, incident: Incident, kind: str = "replacement", **fields: Any) -> Offer:
    if kind == choices.OfferKind.REPLACEMENT:
        fields.setdefault("replacement_product", incident.scope.products.first())
    fields.setdefault("title", choices.OfferKind(kind).label)
    products = fields.pop("products", [])
    return actions.do_save_offer(user, incident, Offer(kind=kind, **fields), products)


ADDRESS = {
    "ship_name": "Rosa Diaz",
    "address_line1": "12 Elm Street",
    "city": "Springfield",
    "postcode": "62701",
    "country": "US",
}


def request(chosen: Offer, party: Party, incident: Incident, **fields: Any) -> actions.ClaimRequest:
    """A claim for every remaining unit of the party, with an address and its email."""
    units = fields.pop("units", None)
    if units is None:
        units = {c.holding.pk: c.remaining for c in actions.claimable(incident, party)}
    values: dict[str, Any] = {"email": party.email, **ADDRESS}
    values.update(fields)
    return actions.ClaimRequest(offer=chosen, units=units, source="notice", **values)


def claim(incident: Incident, party: Party, chosen: Offer, **fields: Any) -> Claim:
    return actions.do_submit_claim(incident, party, request(chosen, party, incident, **fields))


def rematch(user: Any, incident: Incident) -> None:
    """Rebuild the ledger at once, as the worker would after a change of the registry."""
    from recalldesk.incidents.actions import do_request_match
    from recalldesk.incidents.matching import build_ledger

    build_ledger(do_request_match(user, incident))
