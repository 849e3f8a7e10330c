"""Webhook channel: the notice as signed JSON, posted to a consignee's own system."""

from __future__ import annotations

from recalldesk.outreach.channels.base import ChannelSpec
from recalldesk.outreach.channels.webhook.transport import WebhookTransport

SPEC = ChannelSpec(
    kind="webhook",
    label="Webhook",
    contact="webhook",
    automatic=True,
    templates={
        "subject": "outreach/webhook/subject.txt",
        "text": "outreach/webhook/body.txt",
    },
    transport=WebhookTransport,
)
