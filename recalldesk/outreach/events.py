"""What providers tell us after a send (delivered, bounced, opened, a key pressed), recorded
on the delivery row; a bounce marks the contact point bad and the next channel takes over."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recalldesk.outreach import choices
from recalldesk.outreach.models import Acknowledgement, BadContact, Delivery

log = logging.getLogger(__name__)
Status = choices.DeliveryStatus

# A later event never moves a delivery back: a delivered notice that is opened is opened.
RANK = {
    Status.QUEUED: 0,
    Status.CLAIMED: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.OPENED: 4,
    Status.ACKNOWLEDGED: 5,
    Status.FAILED: 2,
    Status.BOUNCED: 2,
}
EVENT_STATUS = {
    "delivered": (Status.DELIVERED, "delivered_at"),
    "opened": (Status.OPENED, "opened_at"),
    "acknowledged": (Status.ACKNOWLEDGED, "acknowledged_at"),
    "failed": (Status.FAILED, "failed_at"),
    "bounced": (Status.BOUNCED, "failed_at"),
}


def record_provider_event(
    channel: str, provider_id: str, event: str, detail: str = "", permanent: bool = False
) -> bool:
    """Record a provider's report on the delivery it sent; True when one matched."""
    if event not in EVENT_STATUS or not provider_id:
        return False
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("wave")
            .filter(provider_id=provider_id, channel=channel)
            .first()
        )
        if delivery is None:
            log.info("No %s delivery with provider id %s for %s", channel, provider_id, event)
            return False
        status, stamp = EVENT_STATUS[event]
        now = timezone.now()
        fields: dict[str, Any] = {stamp: now}
        failing = status in (Status.FAILED, Status.BOUNCED)
        if failing or RANK[status] > RANK[Status(delivery.status)]:
            fields["status"] = status
        if failing:
            fields["error"] = detail[:2000] or f"The provider reported {event}."
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        if event == "acknowledged":
            Acknowledgement.objects.create(
                incident_id=delivery.incident_id,
                party_id=delivery.party_id,
                delivery=delivery,
                kind=choices.AckKind.READ,
                note=detail,
            )
        if failing and (permanent or event == "bounced"):
            BadContact.objects.get_or_create(
                channel=channel,
                address=delivery.address,
                defaults={"reason": detail[:2000] or event, "delivery": delivery},
            )
    if failing and (permanent or event == "bounced"):
        from recalldesk.outreach.dispatch import fall_back

        fall_back(delivery.wave, delivery.pk, detail or event)
    return True


def mark_acknowledged(incident_id: int, party_id: int) -> Delivery | None:
    """The party answered: its latest delivery in the incident shows acknowledged."""
    delivery = (
        Delivery.objects.filter(incident_id=incident_id, party_id=party_id)
        .filter(~Q(status__in=[Status.QUEUED, Status.CLAIMED, Status.SKIPPED]))
        .order_by("-id")
        .first()
    )
    if delivery is not None:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.ACKNOWLEDGED, acknowledged_at=timezone.now()
        )
    return delivery


def on_anymail_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """django-anymail's tracking webhooks, normalised across email services."""
    kind = {
        "delivered": "delivered",
        "opened": "opened",
        "clicked": "opened",
        "bounced": "bounced",
        "rejected": "bounced",
        "failed": "failed",
        "complained": "failed",
    }.get(event.event_type)
    if kind is None or not event.message_id:
        return
    detail = event.description or event.mta_response or f"{esp_name}: {event.event_type}"
    record_provider_event("email", str(event.message_id), kind, str(detail), kind == "bounced")
