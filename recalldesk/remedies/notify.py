"""Telling a claimant of each change to their claim, through their own channel (email when
they gave one, else SMS); the outcome is recorded on the claim's history row."""

from __future__ import annotations

import logging

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from recalldesk.outreach.channels import Outgoing, TransportError, localized, send_one
from recalldesk.remedies.models import ClaimEvent
from recalldesk.remedies.queue import standing

log = logging.getLogger(__name__)


def send_notice(event_id: int) -> bool:
    """Send the notice of one claim event, once; records channel, time or error on the row."""
    event = ClaimEvent.objects.select_related("claim__incident", "claim__offer").get(pk=event_id)
    if not event.public or event.notice_sent_at or event.notice_channel:
        return False
    claim = event.claim
    channel, address = ("email", claim.email) if claim.email else ("sms", claim.phone)
    if not address:
        return False
    place = standing(claim) if claim.is_open else None
    context = {
        "claim": claim,
        "event": event,
        "incident": claim.incident,
        "offer": claim.offer,
        "standing": place,
        "status_url": claim.status_url(),
        "company": settings.COMPANY_NAME,
        "sms": channel == "sms",
    }
    with translation.override(claim.language):
        text = render_to_string(localized("remedies/mail/claim_event.txt", claim.language), context)
        what = render_to_string("remedies/public/_event_title.txt", context).strip()
        subject = gettext("Your claim %(number)s: %(what)s") % {
            "number": claim.number,
            "what": what,
        }
    item = Outgoing(
        delivery_id=0,
        address=address,
        language=claim.language,
        subject=subject,
        text=text.strip(),
        html="",
        link=claim.status_url(),
        party_name=claim.ship_name,
        reference=claim.number,
    )
    try:
        send_one(channel, item)
    except TransportError as exc:
        log.warning("Could not tell claimant of claim %s: %s", claim.number, exc.message)
        ClaimEvent.objects.filter(pk=event.pk).update(
            notice_channel=channel, notice_error=exc.message[:300]
        )
        return False
    ClaimEvent.objects.filter(pk=event.pk).update(
        notice_channel=channel, notice_sent_at=timezone.now()
    )
    return True
