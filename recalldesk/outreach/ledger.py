"""What the ledger shows of outreach: each party's latest notice and whether it answered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recalldesk.outreach.models import Acknowledgement, BadContact, Delivery


def notice_states(incident_id: int, party_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per party: its latest delivery (channel, status), answered or not, bad contacts.

    Three queries for a page of the ledger, whatever its length.
    """
    ids = list(party_ids)
    latest: dict[int, Delivery] = {}
    for delivery in Delivery.objects.filter(incident_id=incident_id, party_id__in=ids).order_by(
        "id"
    ):
        latest[delivery.party_id] = delivery
    answered = set(
        Acknowledgement.objects.filter(incident_id=incident_id, party_id__in=ids).values_list(
            "party_id", flat=True
        )
    )
    addresses = {d.address for d in latest.values() if d.address}
    bad = set(BadContact.objects.filter(address__in=addresses).values_list("address", flat=True))
    return {
        party_id: {
            "delivery": latest.get(party_id),
            "answered": party_id in answered,
            "bad": bool(latest.get(party_id) and latest[party_id].address in bad),
        }
        for party_id in ids
    }
