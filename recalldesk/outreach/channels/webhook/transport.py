"""Posts a notice as signed JSON to a consignee's webhook, at an address the guard approved.

The receiver checks two headers:

- ``X-Recalldesk-Timestamp``: Unix time in seconds when the request was signed;
- ``X-Recalldesk-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the shared
  secret, of the timestamp, a full stop and the raw request body (``f"{timestamp}.{body}"``).

Signing the timestamp with the body lets a receiver refuse old requests replayed by
someone who recorded one; ``verify_signature`` does both checks and is what a receiver
written in Python can call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error

from recalldesk.outreach.channels.base import Outgoing, TransportError
from recalldesk.outreach.channels.webhook.guard import check_webhook_url

EVENT = "recall.notice"
TIMESTAMP_HEADER = "X-Recalldesk-Timestamp"
SIGNATURE_HEADER = "X-Recalldesk-Signature"
TIMEOUT_SECONDS = 10
# A receiver's error page is kept for the ledger, but only its start: a hostile or broken
# endpoint must not make the worker read (or the database store) megabytes.
ERROR_EXCERPT_BYTES = 300
# Answers that may succeed if tried again later; every other 4xx is the receiver refusing.
TEMPORARY_CLIENT_ERRORS = frozenset({408, 425, 429})
PROVIDER_ID_LENGTH = 200  # Delivery.provider_id


def sign_payload(body: bytes, timestamp: str, secret: str) -> str:
    """The ``X-Recalldesk-Signature`` value for ``body`` sent at ``timestamp``."""
    message = timestamp.encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    body: bytes,
    timestamp: str,
    signature: str,
    secret: str,
    *,
    max_age_seconds: int | None = 300,
    now: float | None = None,
) -> bool:
    """Whether a received webhook is genuine and fresh; for receivers of our webhooks.

    Pass the raw request body exactly as received (not re-serialised JSON), the two
    headers and the shared secret. Requests signed more than ``max_age_seconds`` away
    from ``now`` (default: the current time) are refused as possible replays; pass None
    to skip that check. The comparison takes constant time so the signature cannot be
    guessed byte by byte from response times.
    """
    if max_age_seconds is not None:
        try:
            signed_at = int(timestamp)
        except ValueError:
            return False
        current = time.time() if now is None else now
        if abs(current - signed_at) > max_age_seconds:
            return False
    try:
        expected = sign_payload(body, timestamp, secret)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, signature.strip())


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to one approved IP address while speaking TLS to the URL's host name.

    The URL keeps its name, so the certificate is checked against it and the name goes out
    as SNI; only the TCP connection goes to ``address``. Without the pin, requests would
    resolve the name again after the guard did, and the second answer could be private.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        # Retries belong to the outreach worker, which counts and bounds them.
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: dict[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        """A pool for the approved address that verifies the certificate for the name."""
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        hostname = host_params["host"]
        pool_kwargs = {**pool_kwargs, "server_hostname": hostname, "assert_hostname": hostname}
        # Proxies are ignored on purpose: a proxy would resolve the name itself.
        return self.poolmanager.connection_from_host(
            host=self.address,
            port=host_params["port"],
            scheme=host_params["scheme"],
            pool_kwargs=pool_kwargs,
        )


def build_body(item: Outgoing) -> bytes:
    """The JSON body for ``item``, as the exact bytes that are signed and sent."""
    payload = {
        "event": EVENT,
        "reference": item.reference,
        "delivery_id": item.delivery_id,
        "language": item.language,
        "subject": item.subject,
        "text": item.text,
        "link": item.link,
        "party_name": item.party_name,
        "sent_at": timezone.now().isoformat(),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookTransport:
    """Sends notices to consignees' webhooks: signed, not redirected, never to our network."""

    def __init__(self, secret: str | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        self.secret = settings.WEBHOOK_SIGNING_SECRET if secret is None else secret
        self.timeout = timeout

    def send(self, item: Outgoing) -> str:
        """Post ``item`` and return an id for it, or raise ``TransportError``."""
        url = item.address.strip()
        try:
            addresses = check_webhook_url(url)
        except ValueError as error:
            # The URL will never become acceptable by trying again: mark it bad.
            raise TransportError(str(error), permanent=True) from error

        body = build_body(item)
        timestamp = str(int(time.time()))
        headers = {
            # The connection goes to an IP address, so the name is sent explicitly for
            # receivers that host several sites on one address.
            "Host": urlsplit(url).netloc,
            "Content-Type": "application/json",
            "User-Agent": "Recalldesk-Webhook/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_payload(body, timestamp, self.secret),
        }
        with requests.Session() as session:
            # No proxies or .netrc credentials from the environment: a proxy would resolve
            # the name again, past the guard.
            session.trust_env = False
            session.mount("https://", PinnedAddressAdapter(addresses[0]))
            try:
                response = session.post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=self.timeout,
                    # A redirect could point anywhere, including inside our network.
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout as error:
                raise TransportError(
                    f"Webhook {url} did not answer within {self.timeout:g} s."
                ) from error
            except requests.ConnectionError as error:
                raise TransportError(f"Webhook {url} could not be reached: {error}") from error
            except requests.RequestException as error:
                raise TransportError(f"Webhook {url} failed: {error}") from error
            with response:
                return self._outcome(url, response, body)

    def _outcome(self, url: str, response: requests.Response, body: bytes) -> str:
        """The provider id for a 2xx answer; a ``TransportError`` classified for the rest."""
        status = response.status_code
        if 200 <= status < 300:
            request_id = response.headers.get("X-Request-Id", "").strip()
            return (request_id or hashlib.sha256(body).hexdigest())[:PROVIDER_ID_LENGTH]
        if 300 <= status < 400:
            location = response.headers.get("Location", "nowhere")
            raise TransportError(
                f"Webhook {url} answered {status}, a redirect to {location}; "
                "redirects are not followed, so the consignee must give the final URL.",
                permanent=True,
            )
        excerpt = _excerpt(response)
        message = f"Webhook {url} answered {status} {response.reason or ''}".rstrip()
        if excerpt:
            message = f"{message}: {excerpt}"
        permanent = 400 <= status < 500 and status not in TEMPORARY_CLIENT_ERRORS
        raise TransportError(message, permanent=permanent)

    def close(self) -> None:
        """Nothing to release: each send opens and closes its own connection."""


def _excerpt(response: requests.Response) -> str:
    """The start of the response body, as one line of text."""
    try:
        raw = response.raw.read(ERROR_EXCERPT_BYTES, decode_content=True)
    except (Urllib3Error, OSError, ValueError):
        # The body is only a detail for the error message; the status already says enough.
        return ""
    return " ".join(raw.decode("utf-8", errors="replace").split())
