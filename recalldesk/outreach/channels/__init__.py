"""The registry of channels: adding a channel is a folder and a line here."""

from __future__ import annotations

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

__all__ = ["CHANNELS", "ChannelSpec", "Outgoing", "Transport", "TransportError"]
