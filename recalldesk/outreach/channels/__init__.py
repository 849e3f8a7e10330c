"""The registry of channels: adding a channel is a folder and a line here."""

from __future__ import annotations

from typing import Any

from recalldesk.outreach.channels.base import ChannelSpec, Outgoing, Transport, TransportError
from recalldesk.outreach.channels.email import SPEC as EMAIL
from recalldesk.outreach.channels.letter import SPEC as LETTER
from recalldesk.outreach.channels.phone import SPEC as PHONE
from recalldesk.outreach.channels.sms import SPEC as SMS
from recalldesk.outreach.channels.voice import SPEC as VOICE
from recalldesk.outreach.channels.webhook import SPEC as WEBHOOK

CHANNELS: dict[str, ChannelSpec] = {
    spec.kind: spec for spec in [EMAIL, SMS, VOICE, PHONE, LETTER, WEBHOOK]
}


def send_one(channel: str, item: Outgoing, open_transports: dict[str, Any] | None = None) -> str:
    """Send one message outside a wave (a notice to a claimant or a subscriber): the
    provider's id, or ``TransportError``.

    With ``open_transports`` the connection stays open for the next message (the caller
    closes them), so a loop over recipients does not reconnect each time.
    """
    transport = open_transports.get(channel) if open_transports is not None else None
    if transport is None:
        factory = CHANNELS[channel].transport
        assert factory is not None
        transport = factory()
        if open_transports is not None:
            open_transports[channel] = transport
    try:
        return transport.send(item)
    finally:
        if open_transports is None:
            transport.close()


def localized(template: str, language: str) -> list[str]:
    """The template names to try for ``language``: ``x.de.txt``, then ``x.txt``."""
    stem, _, ext = template.rpartition(".")
    return [f"{stem}.{language}.{ext}", template]


__all__ = [
    "CHANNELS",
    "ChannelSpec",
    "Outgoing",
    "Transport",
    "TransportError",
    "localized",
    "send_one",
]
