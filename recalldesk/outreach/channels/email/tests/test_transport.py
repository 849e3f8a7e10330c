"""The SMTP transport against a real SMTP server (aiosmtpd on loopback): the next message's
envelope written with the final dot of the one before, and what happens when a message in
that chain is refused, never comes, or its commit fails; the message bytes themselves."""

from __future__ import annotations

import email
import email.header
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from recalldesk.outreach.channels.base import Outgoing, TransportError
from recalldesk.outreach.channels.email.mime import build_message
from recalldesk.outreach.channels.email.transport import SmtpTransport, _Tokens
from recalldesk.outreach.tests.conftest import Inbox, body_text, serving

ITEM = Outgoing(
    delivery_id=1,
    address="ann@example.com",
    language="en",
    subject="Recall: heater (RC-2026-0001)",
    text="Dear Ann,\nstop using the heater.",
    html="<p>Dear Ann,</p><p>stop using the heater.</p>",
    link="https://example.com/a/x/",
    party_name="Ann Owner",
    reference="RC-2026-0001",
    headers={"X-Recall-Reference": "RC-2026-0001"},
)


def item(n: int, **changes: Any) -> Outgoing:
    return replace(ITEM, delivery_id=n, address=f"p{n}@example.com", **changes)


class Server(Inbox):
    """The outreach tests' inbox, counting connections and commands, offering PIPELINING
    unless told not to, refusing the message (after its final dot) of ``refuse_data``."""

    def __init__(self, pipelining: bool) -> None:
        super().__init__()
        self.pipelining = pipelining
        self.refuse_data: set[str] = set()
        self.connections = 0
        self.mails = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections += 1
        if not self.pipelining:
            return responses
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.mails += 1
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if set(envelope.rcpt_tos) & self.refuse_data:
            return "554 5.7.1 Message refused"
        return await super().handle_DATA(server, session, envelope)

    def received(self) -> list[str]:
        return [str(m["To"]) for m in self.messages]


def start(settings: Any, pipelining: bool) -> Iterator[Server]:
    server = Server(pipelining)
    with serving(server, settings):
        yield server


@pytest.fixture
def server(settings: Any) -> Iterator[Server]:
    yield from start(settings, pipelining=True)


@pytest.fixture
def plain_server(settings: Any) -> Iterator[Server]:
    yield from start(settings, pipelining=False)


def send_chain(
    transport: SmtpTransport, items: list[Outgoing], commits: list[str] | None = None
) -> list[str | TransportError]:
    """Send ``items`` as the workers do, each naming the next one's address."""
    outcomes: list[str | TransportError] = []
    for index, one in enumerate(items):
        following = items[index + 1].address if index + 1 < len(items) else None

        def commit(provider_id: str, one: Outgoing = one) -> None:
            if commits is not None:
                commits.append(one.address)

        try:
            outcomes.append(transport.send_committing(one, commit, following))
        except TransportError as exc:
            outcomes.append(exc)
    return outcomes


def test_a_chain_of_messages_goes_over_one_connection_each_envelope_with_the_dot_before(
    server,
):
    transport = SmtpTransport()
    items = [item(n) for n in range(1, 6)]
    commits: list[str] = []
    try:
        outcomes = send_chain(transport, items, commits)
        # Between two messages the next envelope is already out and answered 354.
        assert transport.pending is None
    finally:
        transport.close()

    assert server.received() == [one.address for one in items]
    assert commits == [one.address for one in items]
    assert server.connections == 1 and server.mails == 5
    ids = [str(m["Message-ID"]) for m in server.messages]
    assert outcomes == ids and len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"<d\d\.[0-9a-f]{12}@example\.com>", i) for i in ids)
    assert body_text(server.messages[0]) == ITEM.text
    assert body_text(server.messages[0], "html") == ITEM.html


def test_without_pipelining_the_next_address_is_ignored(plain_server):
    transport = SmtpTransport()
    items = [item(n) for n in range(1, 4)]
    try:
        send_chain(transport, items)
        assert transport.pending is None
    finally:
        transport.close()

    assert plain_server.received() == [one.address for one in items]
    assert plain_server.connections == 1


def test_a_message_refused_after_its_dot_fails_alone_and_the_chain_goes_on(server):
    server.refuse_data.add("p2@example.com")
    transport = SmtpTransport()
    try:
        outcomes = send_chain(transport, [item(1), item(2), item(3)])
    finally:
        transport.close()

    assert server.received() == ["p1@example.com", "p3@example.com"]
    refused = outcomes[1]
    assert isinstance(refused, TransportError) and refused.permanent
    assert "554" in refused.message
    assert server.connections == 1


def test_an_address_refused_in_a_pipelined_envelope_fails_alone_before_its_commit(server):
    server.refuse.add("p2@example.com")
    transport = SmtpTransport()
    commits: list[str] = []
    try:
        outcomes = send_chain(transport, [item(1), item(2), item(3)], commits)
    finally:
        transport.close()

    assert server.received() == ["p1@example.com", "p3@example.com"]
    assert commits == ["p1@example.com", "p3@example.com"]
    refused = outcomes[1]
    assert isinstance(refused, TransportError) and refused.permanent
    assert "p2@example.com" in refused.message


def test_a_message_announced_but_not_sent_is_never_taken(server):
    transport = SmtpTransport()
    try:
        # p2's envelope goes out with p1's dot; then p3 comes instead of p2.
        transport.send_committing(item(1), None, "p2@example.com")
        assert transport.pending == "p2@example.com"
        transport.send_committing(item(3), None, "p4@example.com")
        # And the batch ends while p4 is announced: closing must not hang or send it.
        transport.close()
        assert transport.smtp is None and transport.pending is None
        transport.send(item(5))
    finally:
        transport.close()

    assert server.received() == ["p1@example.com", "p3@example.com", "p5@example.com"]
    assert server.connections == 3


def test_a_commit_that_fails_in_the_middle_of_a_chain_drops_only_that_message(server):
    transport = SmtpTransport()

    def commit(provider_id: str) -> None:
        raise RuntimeError("claim lost")

    try:
        transport.send_committing(item(1), None, "p2@example.com")
        with pytest.raises(RuntimeError):
            transport.send_committing(item(2), commit, "p3@example.com")
        assert transport.smtp is None
        transport.send_committing(item(3), None)
    finally:
        transport.close()

    assert server.received() == ["p1@example.com", "p3@example.com"]


def test_an_address_that_cannot_go_into_a_pipelined_command_is_not_announced(server):
    transport = SmtpTransport()
    try:
        transport.send_committing(item(1), None, "bad address@example.com")
        assert transport.pending is None
        transport.send_committing(item(1), None, "zoë@example.com")
        assert transport.pending is None
        with pytest.raises(TransportError) as refused:
            transport.send(replace(ITEM, address="bad address@example.com"))
        assert refused.value.permanent
        transport.send(item(2))
    finally:
        transport.close()

    assert server.received() == ["p1@example.com", "p1@example.com", "p2@example.com"]


class BreakingSocket:
    """A socket that takes ``allowed`` more bytes, then fails as a dropped connection."""

    def __init__(self, sock: Any, allowed: int) -> None:
        self.sock = sock
        self.allowed = allowed

    def send(self, data: Any) -> int:
        if self.allowed <= 0:
            raise ConnectionResetError("connection reset by peer")
        taken = self.sock.send(bytes(data[: self.allowed]))
        self.allowed -= taken
        return taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def size_before_dot(one: Outgoing, transport: SmtpTransport) -> int:
    """The bytes of ``one``'s content (without the final dot), as the transport builds it."""
    data = build_message(
        sender=transport.sender,
        to=one.address,
        subject=one.subject,
        text=one.text,
        html=one.html,
        message_id="<d1.000000000000@example.com>",
        headers=one.headers,
    )
    return len(data)


def test_a_connection_that_drops_before_the_final_dot_is_a_failure_to_retry(server):
    transport = SmtpTransport()
    commits: list[str] = []
    try:
        transport.send_committing(item(1), None, "p2@example.com")
        smtp = transport.smtp
        assert smtp is not None
        smtp.sock = BreakingSocket(smtp.sock, 100)  # type: ignore[assignment]
        with pytest.raises(TransportError) as dropped:
            transport.send_committing(item(2), lambda provider_id: commits.append(provider_id))
        assert not dropped.value.permanent
        assert transport.smtp is None
        transport.send(item(3))
    finally:
        transport.close()

    # Committed (the caller puts the row back), but the server never took the message.
    assert len(commits) == 1
    assert server.received() == ["p1@example.com", "p3@example.com"]


def test_a_connection_that_drops_after_the_final_dot_keeps_the_message_as_sent(server, caplog):
    transport = SmtpTransport()
    try:
        transport.send_committing(item(1), None, "p2@example.com")
        smtp = transport.smtp
        assert smtp is not None
        # Room for p2's content and final dot, not for p3's envelope written with them.
        allowed = size_before_dot(item(2), transport) + 3
        smtp.sock = BreakingSocket(smtp.sock, allowed)  # type: ignore[assignment]
        provider_id = transport.send_committing(item(2), None, "p3@example.com")
        assert provider_id.startswith("<d2.")
        assert transport.smtp is None and transport.pending is None
        transport.send(item(3))
    finally:
        transport.close()

    assert "No answer after the message to p2@example.com" in caplog.text
    # The server saw p2's dot, then the connection closed: it has the message.
    assert sorted(server.received()) == ["p1@example.com", "p2@example.com", "p3@example.com"]


def test_a_message_is_crlf_base64_mime_that_reads_back(server):
    text = "Grüße, Zoë.\n" + "Lange Zeile ohne Umbruch " * 20 + "\n.\n"
    html = "<p>Grüße</p>\n." * 30
    one = replace(item(1), subject="Rückruf: Heizlüfter (RC-1)", text=text, html=html)
    data = build_message(
        sender="Produktsicherheit <safety@example.com>",
        to=one.address,
        subject=one.subject,
        text=one.text,
        html=one.html,
        message_id="<d1.abc@example.com>",
        headers={"X-Recall-Reference": "RC-1"},
    )
    assert data.isascii() and data.endswith(b"--\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert not any(line.startswith(b".") for line in data.split(b"\r\n"))
    parsed = email.message_from_bytes(data)
    assert str(email.header.make_header(email.header.decode_header(parsed["Subject"]))) == (
        "Rückruf: Heizlüfter (RC-1)"
    )
    assert body_text(parsed) == text and body_text(parsed, "html") == html
    plain = build_message(
        sender="a@example.com", to="b@example.com", subject="s", text="", html="", message_id="<m>"
    )
    assert plain.endswith(b"Content-Transfer-Encoding: base64\r\n\r\n")

    transport = SmtpTransport()
    try:
        transport.send(one)
    finally:
        transport.close()
    assert body_text(server.messages[0]) == text


def test_the_answer_to_a_message_is_read_when_the_caller_asks_for_it(server):
    server.refuse_data.add("p2@example.com")
    transport = SmtpTransport()
    try:
        first = transport.start_send(item(1), None, "p2@example.com")
        assert transport.awaiting == (first, "p1@example.com")
        with pytest.raises(RuntimeError):
            transport.start_send(item(2), None)
        assert transport.finish_send(first) == first
        second = transport.start_send(item(2), None, "p3@example.com")
        with pytest.raises(TransportError) as refused:
            transport.finish_send(second)
        assert "554" in refused.value.message
        third = transport.start_send(item(3), None)
        # Closing with an answer unread drops the connection rather than wait for a QUIT's
        # answer behind it (whether the server kept p3, its dot being out, is its own call).
        transport.close()
        assert transport.smtp is None and transport.awaiting is None
        assert transport.finish_send(third) == third
    finally:
        transport.close()

    assert server.received()[:1] == ["p1@example.com"]
    assert "p2@example.com" not in server.received()
    assert server.connections == 1


def test_message_id_tokens_are_drawn_in_batches_and_never_repeat():
    tokens = _Tokens(batch=3)
    drawn = [tokens.next() for _ in range(10)]
    assert all(re.fullmatch(r"[0-9a-f]{12}", token) for token in drawn)
    assert len(set(drawn)) == 10
