"""What every channel shares: the one transport error, the outgoing item and the spec.

A channel is a folder under ``outreach/channels/<kind>/`` with its transport (if the
workers send it), its templates and its tests, listed once in ``channels/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class TransportError(Exception):
    """A send that did not work: a human message, and whether trying again could help.

    ``permanent`` errors are not retried and the next channel of the wave takes over; they
    mark the contact point bad (an address that does not exist, a number that cannot take
    SMS) unless ``contact_ok`` says the fault is ours (a provider not configured, a text too
    long), which must not cost the party its address. Others are retried a bounded number
    of times.
    """

    def __init__(self, message: str, *, permanent: bool = False, contact_ok: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.contact_ok = contact_ok


@dataclass(frozen=True)
class Outgoing:
    """One rendered, personalised notice on its way to one contact point."""

    delivery_id: int
    address: str  # email address, E.164 phone number, https URL or postal address block
    language: str
    subject: str
    text: str  # plain text, SMS body, voice or phone script
    html: str  # HTML body for email and letters; empty for the others
    link: str  # the party's signed acknowledgement link
    party_name: str
    reference: str  # the incident's reference, e.g. RC-2026-0001
    headers: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    """Sends one item and returns the provider's id for it, or raises ``TransportError``."""

    def send(self, item: Outgoing) -> str: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ChannelSpec:
    """How the outreach engine uses one channel."""

    kind: str
    label: str
    # Which contact point of a party the channel needs: "email", "phone", "postal", "webhook".
    contact: str
    # Sent by the workers through ``transport``; False for work people do (call lists,
    # letters printed in batches), which the console hands out instead.
    automatic: bool
    # The parts rendered for this channel, each a template name: {"subject": ..., "text": ...}.
    templates: dict[str, str]
    transport: Callable[[], Transport] | None = None
    # Longest text the channel takes, e.g. two SMS parts.
    max_length: int | None = None
