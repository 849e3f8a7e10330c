"""Render a message version for a channel and a language once, then personalise per party.

A million notices cannot each go through the template engine: the channel's templates are
rendered once per (version, language, channel) with markers where the party's own values go,
and each notice is the pieces joined with that party's values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html as html_lib
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import select_template
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes

from recalldesk.outreach.channels import CHANNELS
from recalldesk.outreach.models import FACT_FIELDS, MessageVersion

PERSONAL = ["name", "units", "link", "address_block", "reference"]
_MARK = re.compile("\ue000(\\w+)\ue001")
_FIELD_VARS = re.compile(r"{{\s*([\w.]+)")
ACK_SALT = "recalldesk.ack"


def marker(name: str) -> str:
    return f"\ue000{name}\ue001"


@dataclass(frozen=True)
class Compiled:
    """One channel's parts for one version and language, split at the personal values."""

    parts: dict[str, tuple[str | tuple[str], ...]]

    def fill(self, values: dict[str, str]) -> dict[str, str]:
        out = {}
        for part, pieces in self.parts.items():
            if part == "html":
                out[part] = "".join(
                    [
                        _html_value(values.get(piece[0], "")) if isinstance(piece, tuple) else piece
                        for piece in pieces
                    ]
                )
            else:
                out[part] = "".join(
                    [
                        values.get(piece[0], "") if isinstance(piece, tuple) else piece
                        for piece in pieces
                    ]
                ).strip()
        return out


def _html_value(value: str) -> str:
    """A party's value in HTML: escaped as ``django.utils.html.escape`` does, lines kept."""
    return html_lib.escape(str(value)).replace("\n", "<br>")


def _split(text: str) -> tuple[str | tuple[str], ...]:
    pieces: list[str | tuple[str]] = []
    last = 0
    for match in _MARK.finditer(text):
        pieces.append(text[last : match.start()])
        pieces.append((match.group(1),))
        last = match.end()
    pieces.append(text[last:])
    return tuple(piece for piece in pieces if piece != "")


_ENGINE = Engine(autoescape=False)


def field_template(text: str) -> Template:
    """A fact sheet field as a template; raises TemplateSyntaxError for broken ones."""
    return _ENGINE.from_string(text)


def check_field(text: str) -> str | None:
    """Why a fact sheet field cannot be rendered, or None when it can."""
    try:
        field_template(text)
    except TemplateSyntaxError as exc:
        return f"the template is broken: {exc}"
    unknown = sorted({name for name in _FIELD_VARS.findall(text) if name not in PERSONAL})
    if unknown:
        allowed = ", ".join(f"{{{{ {name} }}}}" for name in PERSONAL)
        return f"unknown value {{{{ {unknown[0]} }}}} (use {allowed})"
    return None


def render_sheet(fields: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    context = Context(values)
    return {name: field_template(fields.get(name, "")).render(context) for name in FACT_FIELDS}


def template_names(name: str, language: str) -> list[str]:
    stem, dot, ext = name.rpartition(".")
    return [f"{stem}.{language}.{ext}", name] if dot else [name]


def compile_channel(
    version: MessageVersion, language: str, channel: str, extra: dict[str, Any] | None = None
) -> Compiled:
    """Render ``channel``'s templates for ``version`` in ``language`` with markers."""
    sheets = version.sheets()
    sheet = sheets.get(language) or sheets.get(version.message.incident.default_language)
    if sheet is None:
        sheet = next(iter(sheets.values()))
    markers = {name: marker(name) for name in PERSONAL}
    context = {
        "sheet": render_sheet(sheet.fields(), markers),
        "incident": version.message.incident,
        "audience": version.message.audience,
        "company": settings.COMPANY_NAME,
        "language": sheet.language,
        **markers,
        **(extra or {}),
    }
    spec = CHANNELS[channel]
    parts = {
        part: _split(select_template(template_names(name, sheet.language)).render(context))
        for part, name in spec.templates.items()
    }
    return Compiled(parts)


@lru_cache(maxsize=64)
def compiled_for(version_id: int, language: str, channel: str) -> Compiled:
    """Cached per worker: an approved version never changes."""
    version = MessageVersion.objects.select_related("message__incident").get(pk=version_id)
    return compile_channel(version, language, channel)


def ack_token(incident_uuid: Any, party_uuid: Any, *, issued: int | None = None) -> str:
    """The signed, expiring token of a party's acknowledgement link: 43 characters, short
    enough for an SMS, with no ids in it.

    20 bytes name the incident (first 4 bytes of its UUID) and the party (its UUID), 4 bytes
    say when it was issued (minutes since the epoch) and 8 bytes of HMAC-SHA256 over them
    (keyed by SECRET_KEY and a salt) make it unforgeable.
    """
    minutes = int(time.time() // 60) if issued is None else issued
    body = incident_uuid.bytes[:4] + party_uuid.bytes + minutes.to_bytes(4, "big")
    return base64.urlsafe_b64encode(body + _ack_mac(body)).decode().rstrip("=")


@lru_cache(maxsize=4)
def _ack_hmac(secret: str | bytes) -> Any:
    """``salted_hmac(ACK_SALT, ..., algorithm="sha256")`` before any message: the key is
    derived once per secret rather than once per token, and each token copies it."""
    key = hashlib.sha256(force_bytes(ACK_SALT) + force_bytes(secret)).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _ack_mac(body: bytes) -> bytes:
    """The first 8 bytes of ``salted_hmac(ACK_SALT, body, algorithm="sha256")``."""
    mac = _ack_hmac(settings.SECRET_KEY).copy()
    mac.update(body)
    return bytes(mac.digest()[:8])


def ack_link(incident_uuid: Any, party_uuid: Any) -> str:
    return f"{settings.PUBLIC_URL}/a/{ack_token(incident_uuid, party_uuid)}/"


def read_ack_token(token: str) -> tuple[str, str]:
    """(incident UUID prefix as 8 hex digits, party UUID as hex); raises
    ``signing.BadSignature`` for a forged or damaged link and ``signing.SignatureExpired``
    (a subclass) for one older than ACK_LINK_MAX_AGE_DAYS."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error) as exc:
        raise signing.BadSignature("malformed") from exc
    if len(raw) != 32:
        raise signing.BadSignature("malformed")
    body, mac = raw[:24], raw[24:]
    if not constant_time_compare(mac, _ack_mac(body)):
        raise signing.BadSignature("signature does not match")
    issued = int.from_bytes(body[20:24], "big")
    if time.time() // 60 - issued > settings.ACK_LINK_MAX_AGE_DAYS * 1440:
        raise signing.SignatureExpired("link expired")
    return body[:4].hex(), body[4:20].hex()


def sample_values(version: MessageVersion) -> dict[str, str]:
    """Values of a sample party for previews."""
    incident = version.message.incident
    return {
        "name": "Alex Sample",
        "units": "1 × Example product, lot L1234, serial SN-000123",
        # A real token's length, so the SMS length check counts what will be sent.
        "link": ack_link(incident.uuid, incident.uuid),
        "address_block": "Alex Sample\n1 Example Street\nSpringfield 12345\nUS",
        "reference": incident.reference,
    }
