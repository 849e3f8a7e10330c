"""Sends SMS through Twilio's Messages API; the voice channel shares the client set-up."""

from __future__ import annotations

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from recalldesk.outreach.channels.base import Outgoing, TransportError
from recalldesk.outreach.channels.sms.errors import transport_error

# Two concatenated GSM-7 parts; anything longer is split into more parts than carriers
# reliably reassemble, and is billed per part.
MAX_LENGTH = 306
# Twilio's client waits forever by default; a worker must not.
TIMEOUT_SECONDS = 15.0
REQUIRED_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "PUBLIC_URL")


def check_settings() -> None:
    """Refuse before calling Twilio when a setting it needs is empty."""
    missing = [name for name in REQUIRED_SETTINGS if not getattr(settings, name, "")]
    if missing:
        raise TransportError(
            f"Twilio is not configured: set {', '.join(missing)}.", permanent=True, contact_ok=True
        )


def status_callback_url() -> str:
    """Where Twilio reports what became of a message or call (``twilio_status``)."""
    return f"{settings.PUBLIC_URL}/outreach/callbacks/twilio/status/"


class TwilioTransport:
    """The Twilio client, built once per worker and reused for every send."""

    def __init__(self) -> None:
        self._client: Client | None = None
        self._http: TwilioHttpClient | None = None

    def client(self) -> Client:
        check_settings()
        if self._client is None:
            self._http = TwilioHttpClient(timeout=TIMEOUT_SECONDS)
            self._client = Client(
                settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=self._http
            )
        return self._client

    def close(self) -> None:
        if self._http is not None and self._http.session is not None:
            self._http.session.close()
        self._client = None
        self._http = None


class SmsTransport(TwilioTransport):
    """Sends one SMS per item and returns the message SID."""

    def send(self, item: Outgoing) -> str:
        if len(item.text) > MAX_LENGTH:
            raise TransportError(
                f"The SMS text has {len(item.text)} characters; at most {MAX_LENGTH} are sent. "
                "Shorten the SMS wording of the fact sheet.",
                permanent=True,
                contact_ok=True,
            )
        client = self.client()
        try:
            message = client.messages.create(
                to=item.address,
                from_=settings.TWILIO_FROM_NUMBER,
                body=item.text,
                status_callback=status_callback_url(),
            )
        except (TwilioException, requests.RequestException) as exc:
            raise transport_error(exc) from exc
        return str(message.sid)
