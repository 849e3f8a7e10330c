"""A real SMTP server for outreach tests: aiosmtpd on a free loopback port."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message as EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """Keeps every message the server accepted; refuses addresses on ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def serving(handler: Any, settings: Any = None) -> Iterator[int]:
    """Run ``handler`` as an SMTP server on a free loopback port; yields the port.

    Given the test's ``settings``, Django's mail settings point at it for the test.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    if settings is not None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    with serving(inbox, settings):
        yield inbox


def body_text(message: EmailMessage, subtype: str = "plain") -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""
