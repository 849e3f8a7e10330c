"""The webhook channel: URLs that could reach our network are refused, notices go out signed.

The network edges are mocked: name resolution (``socket.getaddrinfo``), the HTTP exchange
(``responses``) and, for the address pin, the TCP connect of urllib3.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import urllib3.util.connection

from recalldesk.outreach.channels.base import Outgoing, TransportError
from recalldesk.outreach.channels.webhook import SPEC
from recalldesk.outreach.channels.webhook.guard import check_webhook_url
from recalldesk.outreach.channels.webhook.transport import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookTransport,
    sign_payload,
    verify_signature,
)

SECRET = "test-signing-secret"
HOOK_URL = "https://hooks.consignee.example/recalls"
PUBLIC_ADDRESS = "93.184.215.14"


class FakeResolver:
    """Answers name lookups from a table; a name not in it does not exist."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def add(self, name: str, *rounds: list[str]) -> None:
        """Answer ``name`` with each round of addresses in turn, repeating the last."""
        self.answers[name] = list(rounds)

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.lookups.append(host)
        rounds = self.answers.get(host)
        if not rounds:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = rounds.pop(0) if len(rounds) > 1 else rounds[0]
        result: list[Any] = []
        for address in addresses:
            if ":" in address:
                result.append(
                    (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 443, 0, 0))
                )
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 443)))
        return result


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    """No test here asks the real DNS."""
    fake = FakeResolver()
    fake.add("hooks.consignee.example", [PUBLIC_ADDRESS])
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def transport(settings: Any) -> WebhookTransport:
    settings.WEBHOOK_SIGNING_SECRET = SECRET
    return SPEC.transport()  # type: ignore[misc,return-value]


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def notice(address: str = HOOK_URL) -> Outgoing:
    return Outgoing(
        delivery_id=4711,
        address=address,
        language="de",
        subject="Rückruf: Wasserkocher WK-200 (RC-2026-0001)",
        text="Stellen Sie den Verkauf ein.\nhttps://recalldesk.example/a/abc",
        html="",
        link="https://recalldesk.example/a/abc",
        party_name="Müller Haushaltswaren GmbH",
        reference="RC-2026-0001",
    )


# The guard


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "this machine"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://172.16.0.5/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://[::1]/hook", "loopback"),
        ("https://[fc00::1]/hook", "unique-local"),
        ("https://100.64.0.1/hook", "shared"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
    ],
)
def test_it_refuses_a_url_pointing_into_a_private_network(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as refused:
        check_webhook_url(url)
    assert url in str(refused.value)


def test_it_refuses_a_name_resolving_to_a_private_address(resolver: FakeResolver) -> None:
    resolver.add("intranet.consignee.example", ["10.0.0.5"])

    with pytest.raises(ValueError, match=r"intranet\.consignee\.example resolves to .*10\.0\.0\.5"):
        check_webhook_url("https://intranet.consignee.example/hook")


def test_it_refuses_a_name_with_one_private_address_among_public_ones(
    resolver: FakeResolver,
) -> None:
    resolver.add("mixed.consignee.example", [PUBLIC_ADDRESS, "192.168.0.9"])

    with pytest.raises(ValueError, match=r"192\.168\.0\.9"):
        check_webhook_url("https://mixed.consignee.example/hook")


def test_it_refuses_plain_http() -> None:
    with pytest.raises(ValueError, match="https"):
        check_webhook_url("http://hooks.consignee.example/recalls")


def test_it_refuses_credentials_in_the_url() -> None:
    with pytest.raises(ValueError, match="user name or password"):
        check_webhook_url("https://admin:secret@hooks.consignee.example/recalls")


def test_it_refuses_a_name_that_does_not_resolve() -> None:
    with pytest.raises(ValueError, match="does not resolve"):
        check_webhook_url("https://nowhere.consignee.example/hook")


def test_it_accepts_a_public_name_and_returns_its_addresses() -> None:
    assert check_webhook_url(HOOK_URL) == [PUBLIC_ADDRESS]


def test_it_accepts_a_public_name_on_another_port(resolver: FakeResolver) -> None:
    assert check_webhook_url("https://hooks.consignee.example:8443/recalls") == [PUBLIC_ADDRESS]


# Signatures


def test_a_signature_verifies_only_for_the_same_body_secret_and_a_fresh_timestamp() -> None:
    body = b'{"event":"recall.notice"}'
    signature = sign_payload(body, "1760000000", SECRET)

    assert signature.startswith("sha256=")
    assert verify_signature(body, "1760000000", signature, SECRET, now=1760000100)
    assert not verify_signature(body + b" ", "1760000000", signature, SECRET, now=1760000100)
    assert not verify_signature(body, "1760000000", signature, "other", now=1760000100)
    assert not verify_signature(body, "1760000001", signature, SECRET, now=1760000100)
    assert not verify_signature(body, "1760000000", signature, SECRET, now=1760009999)
    assert verify_signature(body, "1760000000", signature, SECRET, max_age_seconds=None)


# The transport


def test_it_posts_the_notice_as_signed_json(
    transport: WebhookTransport, mocked: responses.RequestsMock
) -> None:
    mocked.post(HOOK_URL, status=202, headers={"X-Request-Id": "req-81f3"})

    provider_id = transport.send(notice())

    assert provider_id == "req-81f3"
    assert len(mocked.calls) == 1
    request = mocked.calls[0].request
    body = request.body
    assert isinstance(body, bytes)
    payload = json.loads(body)
    sent_at = payload.pop("sent_at")
    assert sent_at
    assert payload == {
        "event": "recall.notice",
        "reference": "RC-2026-0001",
        "delivery_id": 4711,
        "language": "de",
        "subject": "Rückruf: Wasserkocher WK-200 (RC-2026-0001)",
        "text": "Stellen Sie den Verkauf ein.\nhttps://recalldesk.example/a/abc",
        "link": "https://recalldesk.example/a/abc",
        "party_name": "Müller Haushaltswaren GmbH",
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Host"] == "hooks.consignee.example"
    timestamp = str(request.headers[TIMESTAMP_HEADER])
    signature = str(request.headers[SIGNATURE_HEADER])
    assert verify_signature(body, timestamp, signature, SECRET)


def test_it_uses_the_body_hash_as_id_when_the_receiver_gives_none(
    transport: WebhookTransport, mocked: responses.RequestsMock
) -> None:
    mocked.post(HOOK_URL, status=200)

    provider_id = transport.send(notice())

    body = mocked.calls[0].request.body
    assert isinstance(body, bytes)
    assert provider_id == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_it_reports_a_refusal_by_the_receiver_as_permanent(
    transport: WebhookTransport, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.post(HOOK_URL, status=status, body="no such   endpoint\n")

    with pytest.raises(TransportError) as failed:
        transport.send(notice())

    assert failed.value.permanent
    assert str(status) in failed.value.message
    assert "no such endpoint" in failed.value.message


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_it_reports_a_busy_or_broken_receiver_as_temporary(
    transport: WebhookTransport, mocked: responses.RequestsMock, status: int
) -> None:
    mocked.post(HOOK_URL, status=status)

    with pytest.raises(TransportError) as failed:
        transport.send(notice())

    assert not failed.value.permanent
    assert str(status) in failed.value.message


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (requests.ConnectTimeout("timed out"), "did not answer"),
        (requests.ReadTimeout("timed out"), "did not answer"),
        (requests.ConnectionError("connection reset"), "could not be reached"),
    ],
)
def test_it_reports_timeouts_and_connection_errors_as_temporary(
    transport: WebhookTransport, mocked: responses.RequestsMock, error: Exception, words: str
) -> None:
    mocked.post(HOOK_URL, body=error)

    with pytest.raises(TransportError, match=words) as failed:
        transport.send(notice())

    assert not failed.value.permanent


def test_it_does_not_follow_a_redirect(
    transport: WebhookTransport, mocked: responses.RequestsMock
) -> None:
    mocked.post(HOOK_URL, status=302, headers={"Location": "https://10.0.0.5/steal"})

    with pytest.raises(TransportError, match="redirect") as failed:
        transport.send(notice())

    assert failed.value.permanent
    assert len(mocked.calls) == 1


def test_it_sends_nothing_to_a_name_resolving_to_a_private_address(
    transport: WebhookTransport, mocked: responses.RequestsMock, resolver: FakeResolver
) -> None:
    resolver.add("internal.consignee.example", ["10.0.0.5"])

    with pytest.raises(TransportError, match=r"10\.0\.0\.5") as failed:
        transport.send(notice("https://internal.consignee.example/hook"))

    assert failed.value.permanent
    assert len(mocked.calls) == 0


def test_it_sends_nothing_to_a_plain_http_url(
    transport: WebhookTransport, mocked: responses.RequestsMock
) -> None:
    with pytest.raises(TransportError, match="https") as failed:
        transport.send(notice("http://hooks.consignee.example/recalls"))

    assert failed.value.permanent
    assert len(mocked.calls) == 0


def test_it_connects_to_the_checked_address_even_when_the_name_changes_its_answer(
    transport: WebhookTransport, resolver: FakeResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: public for the check, private for anyone who asks again.
    resolver.add("rebind.consignee.example", [PUBLIC_ADDRESS], ["127.0.0.1"])
    connected: list[tuple[str, int]] = []

    def refuse_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse_connection)

    with pytest.raises(TransportError, match="could not be reached") as failed:
        transport.send(notice("https://rebind.consignee.example/hook"))

    assert connected == [(PUBLIC_ADDRESS, 443)]
    assert resolver.lookups == ["rebind.consignee.example"]
    assert not failed.value.permanent
