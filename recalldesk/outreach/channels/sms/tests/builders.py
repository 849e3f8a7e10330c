"""Test builders shared by the Twilio channels: settings, an outgoing item, a delivery row."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.outreach.channels.base import Outgoing
from recalldesk.outreach.models import Delivery, FactSheet, Message, MessageVersion, Wave
from recalldesk.registry.models import Party

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-token"
FROM_NUMBER = "+15005550006"
PUBLIC_HOST = "recall.example.com"
PUBLIC_URL = f"https://{PUBLIC_HOST}"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"


def configure_twilio(settings: Any) -> None:
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.PUBLIC_URL = PUBLIC_URL
    settings.COMPANY_NAME = "Northwind Home Products"
    settings.ALLOWED_HOSTS = [PUBLIC_HOST, "internal", "testserver"]


def outgoing(**fields: Any) -> Outgoing:
    values: dict[str, Any] = {
        "delivery_id": 41,
        "address": "+15551230001",
        "language": "en",
        "subject": "",
        "text": "Northwind Home Products: Stop using the H-200 heater. Please confirm: "
        "https://recall.example.com/a/abc/",
        "html": "",
        "link": "https://recall.example.com/a/abc/",
        "party_name": "Alex Doe",
        "reference": "RC-2026-0001",
    }
    values.update(fields)
    return Outgoing(**values)


def delivery(channel: str, provider_id: str, language: str = "en", contact: str = "") -> Delivery:
    """A sent delivery of a one-party wave, with the fact sheet it was rendered from."""
    incident = Incident.objects.create(reference="RC-2026-0001", kind="recall", title="Heater")
    party = Party.objects.create(role="consumer", external_id="P1", name="Alex Doe")
    now = timezone.now()
    entry = LedgerEntry.objects.create(
        incident=incident, party=party, first_affected_at=now, updated_at=now
    )
    message = Message.objects.create(incident=incident, name="Notice", audience="consumer")
    version = MessageVersion.objects.create(message=message, number=1, status="approved")
    FactSheet.objects.create(
        version=version, language=language, headline="Stop using the H-200", contact=contact
    )
    wave = Wave.objects.create(
        incident=incident, version=version, name="Wave 1", channels=[channel]
    )
    return Delivery.objects.create(
        wave=wave,
        incident=incident,
        party=party,
        entry=entry,
        channel=channel,
        address="+15551230001",
        language=language,
        status="sent",
        provider_id=provider_id,
        queued_at=now,
        sent_at=now,
    )
