"""Sending for the crisis site through the outreach channels: subscription confirmations,
published updates to subscribers (and to the ledger through a wave), cadence alerts."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation
from django.utils.translation import gettext

from recalldesk.outreach.alerts import alert_team
from recalldesk.outreach.channels import Outgoing, TransportError, localized, send_one
from recalldesk.public import choices
from recalldesk.public.models import Subscriber, Update

log = logging.getLogger(__name__)


def _public(path: str) -> str:
    return f"{settings.PUBLIC_URL}{path}"


def _send(
    channel: str, item: Outgoing, open_transports: dict[str, Any] | None = None
) -> str | None:
    """Send one item (see ``send_one``); ``None`` when it could not be sent."""
    try:
        return send_one(channel, item, open_transports)
    except TransportError as exc:
        log.warning("Could not send %s to a subscriber: %s", channel, exc.message)
        return None


def send_confirmation(subscriber_id: int) -> bool:
    subscriber = Subscriber.objects.select_related("incident__public").get(pk=subscriber_id)
    page = subscriber.incident.public
    confirm = _public(f"/status/confirm/{subscriber.token}/")
    context = {
        "incident": subscriber.incident,
        "confirm": confirm,
        "page": _public(f"/status/{page.slug}/"),
        "company": settings.COMPANY_NAME,
        "channel": subscriber.channel,
    }
    with translation.override(subscriber.language):
        text = select_template(localized("public/mail/confirm.txt", subscriber.language)).render(
            context
        )
        subject = gettext("Confirm updates about %(title)s") % {"title": subscriber.incident.title}
    item = Outgoing(
        delivery_id=0,
        address=subscriber.address,
        language=subscriber.language,
        subject=subject,
        text=text.strip(),
        html="",
        link=confirm,
        party_name="",
        reference=subscriber.incident.reference,
    )
    return _send(subscriber.channel, item) is not None


def send_update(update_id: int) -> dict[str, int]:
    update = Update.objects.select_related("incident__public").get(pk=update_id)
    if update.status != choices.UpdateStatus.PUBLISHED:
        return {}
    incident = update.incident
    texts = update.texts()
    sent = failed = 0
    subscribers = Subscriber.objects.filter(
        incident=incident, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).filter(Q(confirmed_at__lte=timezone.now()))
    transports: dict[str, Any] = {}
    try:
        for subscriber in subscribers.iterator():
            text_row = texts.get(subscriber.language) or texts.get(incident.default_language)
            if text_row is None:
                text_row = next(iter(texts.values()))
            page_url = _public(f"/status/{incident.public.slug}/{text_row.language}/")
            unsubscribe = _public(f"/status/unsubscribe/{subscriber.token}/")
            context = {
                "incident": incident,
                "update": update,
                "text": text_row,
                "page": page_url,
                "unsubscribe": unsubscribe,
                "company": settings.COMPANY_NAME,
                "sms": subscriber.channel == "sms",
            }
            with translation.override(text_row.language):
                body = render_to_string(
                    localized("public/mail/update.txt", text_row.language), context
                )
                subject = gettext("Update: %(title)s") % {"title": incident.title}
            item = Outgoing(
                delivery_id=0,
                address=subscriber.address,
                language=text_row.language,
                subject=subject,
                text=body.strip(),
                html="",
                link=page_url,
                party_name="",
                reference=incident.reference,
                headers={
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                }
                if subscriber.channel == "email"
                else {},
            )
            if _send(subscriber.channel, item, transports):
                sent += 1
            else:
                failed += 1
    finally:
        for transport in transports.values():
            transport.close()

    waves = 0
    if update.notify_ledger:
        waves = _update_wave(update)
    return {"sent": sent, "failed": failed, "waves": waves}


def _update_wave(update: Update) -> int:
    """The ledger hears the update as a message version approved with the update, sent as a
    wave by email then SMS: one approval, recorded, for both."""
    from recalldesk.outreach import choices as outreach_choices
    from recalldesk.outreach.models import FactSheet, Message, MessageVersion
    from recalldesk.outreach.waves import count_segment, do_launch_wave

    incident = update.incident
    if not count_segment(incident, "consumer", {}):
        return 0
    message = Message.objects.create(
        incident=incident, name=f"Update {update.published_at:%d %b %Y %H:%M}", audience="consumer"
    )
    version = MessageVersion.objects.create(
        message=message,
        number=1,
        author=update.author,
        status=outreach_choices.VersionStatus.APPROVED,
        approved_by=update.approved_by,
        approved_at=update.published_at,
        override_reason="Approved as a published update of the crisis site.",
    )
    page = _public(f"/status/{incident.public.slug}/")
    for language, text in update.texts().items():
        FactSheet.objects.create(
            version=version,
            language=language,
            headline=f"Update: {incident.title}",
            product=text.resolved,
            identification="",
            hazard=text.in_progress,
            instructions=text.take_part,
            contact=page,
            sms=f"Update: {incident.title}. {page}",
        )
    do_launch_wave(
        None,
        incident,
        version,
        channels=["email", "sms"],
        name=f"Update {update.published_at:%d %b %Y}",
    )
    return 1


def cadence_alert(incident_id: int, promised: dt.datetime, late: bool) -> bool:
    newer = Update.objects.filter(
        incident_id=incident_id,
        status=choices.UpdateStatus.PUBLISHED,
        published_at__isnull=False,
        next_update_at__gt=promised,
    ).exists()
    if newer:
        return False
    update = Update.objects.select_related("incident").filter(incident_id=incident_id).first()
    reference = update.incident.reference if update else str(incident_id)
    if late:
        title = f"{reference}: the promised update is late"
        body = f"An update was promised by {promised:%d %b %Y %H:%M %Z}; none is published."
    else:
        title = f"{reference}: the next update is due within two hours"
        body = f"Publish the next update by {promised:%d %b %Y %H:%M %Z}."
    return alert_team(title, body)


def send_registration(incident_id: int, party_id: int, affected: bool) -> bool:
    from recalldesk.incidents.models import Incident
    from recalldesk.outreach.rendering import ack_link
    from recalldesk.registry.models import Party

    incident = Incident.objects.select_related("public").get(pk=incident_id)
    party = Party.objects.get(pk=party_id)
    channel, address = ("email", party.email) if party.email else ("sms", party.phone)
    link = ack_link(incident.uuid, party.uuid) if affected else ""
    context = {
        "incident": incident,
        "party": party,
        "affected": affected,
        "link": link,
        "page": _public(f"/status/{incident.public.slug}/"),
        "company": settings.COMPANY_NAME,
        "sms": channel == "sms",
    }
    with translation.override(party.language or incident.default_language):
        text = render_to_string("public/mail/registered.txt", context)
        subject = gettext("Your registration: %(title)s") % {"title": incident.title}
    item = Outgoing(
        delivery_id=0,
        address=address,
        language=party.language,
        subject=subject,
        text=text.strip(),
        html="",
        link=link,
        party_name=party.name,
        reference=incident.reference,
    )
    return _send(channel, item) is not None
