"""Automated voice calls through Twilio: the script read out, "press 1" to acknowledge."""

from recalldesk.outreach.channels.base import ChannelSpec
from recalldesk.outreach.channels.voice.transport import VoiceTransport

SPEC = ChannelSpec(
    kind="voice",
    label="Voice call",
    contact="phone",
    automatic=True,
    templates={"text": "outreach/voice/script.txt"},
    transport=VoiceTransport,
)
