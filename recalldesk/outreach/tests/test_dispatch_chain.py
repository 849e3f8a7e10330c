"""A batch sent over SMTP as one chain (each message's final dot written with the next
message's envelope): what a refused or lost message in the middle does to the others, and
the signed links and personal values each message is filled with."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import escape

from recalldesk.outreach import choices, dispatch, waves
from recalldesk.outreach.models import BadContact, Delivery
from recalldesk.outreach.rendering import (
    ACK_SALT,
    Compiled,
    _split,
    ack_token,
    marker,
    read_ack_token,
)
from recalldesk.outreach.tests import builders as ob
from recalldesk.outreach.tests.test_fault import pipelining_server  # noqa: F401 (fixture)

S = choices.DeliveryStatus
NAMES = ["Ann", "Bea", "Cid", "Dan"]


def wave_of(coordinator: Any, approver: Any, names: list[str]) -> Any:
    incident = ob.recall_with_ledger(
        coordinator,
        [{"name": f"{name} Owner", "email": f"{name.lower()}@example.com"} for name in names],
    )
    version = ob.approved(coordinator, approver, incident)
    # Not sent on launch: the test's transaction never commits, so nothing is enqueued.
    return waves.do_launch_wave(
        coordinator, incident, version, channels=["email"], respect_quiet_hours=False
    )


def status(wave: Any, name: str) -> str:
    return str(Delivery.objects.get(wave=wave, address=f"{name.lower()}@example.com").status)


@pytest.mark.django_db
def test_a_batch_goes_out_as_one_chain_and_every_row_is_recorded(
    coordinator,
    approver,
    pipelining_server,  # noqa: F811
):
    wave = wave_of(coordinator, approver, NAMES)

    counts = dispatch.send_batch(wave.pk, 0)

    assert counts == {"sent": 4, "deferred": 0}
    received = [m["To"] for m in pipelining_server.messages]
    assert sorted(received) == sorted(f"{n.lower()}@example.com" for n in NAMES)
    rows = Delivery.objects.filter(wave=wave)
    assert {row.status for row in rows} == {S.SENT}
    sent_ids = {m["Message-ID"] for m in pipelining_server.messages}
    assert {row.provider_id for row in rows} == sent_ids


@pytest.mark.django_db
def test_a_lost_claim_in_the_middle_of_a_chain_drops_only_that_message(
    coordinator,
    approver,
    pipelining_server,  # noqa: F811
):
    wave = wave_of(coordinator, approver, NAMES)
    mine = timezone.now()
    rows = dispatch.claim(wave, 0, mine)
    # Bea's envelope goes out with the dot of the message before hers, then her row turns
    # out to be another worker's.
    middle = rows[1]["address"]
    theirs = mine + dt.timedelta(seconds=1)
    Delivery.objects.filter(wave=wave, address=middle).update(claimed_at=theirs)

    sender = dispatch.BatchSender(wave, 0, mine)
    try:
        sender.send_rows(rows)
    finally:
        sender.close()

    received = [m["To"] for m in pipelining_server.messages]
    assert received == [row["address"] for row in rows if row["address"] != middle]
    assert sender.counts == {"sent": 3, "lost": 1}
    lost = Delivery.objects.get(wave=wave, address=middle)
    assert (lost.status, lost.claimed_at, lost.provider_id) == (S.CLAIMED, theirs, "")


@pytest.mark.django_db
def test_an_address_refused_in_the_middle_of_a_chain_bounces_alone(
    coordinator,
    approver,
    pipelining_server,  # noqa: F811
):
    pipelining_server.refuse.add("bea@example.com")
    wave = wave_of(coordinator, approver, NAMES)

    dispatch.send_batch(wave.pk, 0)

    received = sorted(m["To"] for m in pipelining_server.messages)
    assert received == ["ann@example.com", "cid@example.com", "dan@example.com"]
    assert status(wave, "Bea") == S.BOUNCED
    assert [status(wave, name) for name in ["Ann", "Cid", "Dan"]] == [S.SENT] * 3
    assert BadContact.objects.filter(channel="email", address="bea@example.com").exists()


def test_next_address_is_the_following_row_on_the_same_channel_without_a_wait(settings):
    settings.OUTREACH_RATE_LIMITS = {"email": 0, "sms": 10}
    rows = [
        {"channel": "email", "address": "a@example.com"},
        {"channel": "email", "address": "b@example.com"},
        {"channel": "sms", "address": "+15550100"},
    ]
    assert dispatch.BatchSender.next_address(rows, 0) == "b@example.com"
    assert dispatch.BatchSender.next_address(rows, 1) is None  # another channel
    assert dispatch.BatchSender.next_address(rows, 2) is None  # the last row
    many = [{"channel": "email", "address": f"p{n}@example.com"} for n in range(25)]
    assert dispatch.BatchSender.next_address(many, 18) == "p19@example.com"
    assert dispatch.BatchSender.next_address(many, 19) == "p20@example.com"
    settings.OUTREACH_RATE_LIMITS = {"email": 100}
    # Row 20 first waits for its rate slot: nothing is announced across the wait.
    assert dispatch.BatchSender.next_address(many, 19) is None
    assert dispatch.BatchSender.next_address(many, 18) == "p19@example.com"


# --- what each message is filled with ------------------------------------------------------


def reference_token(incident_uuid: uuid.UUID, party_uuid: uuid.UUID, minutes: int) -> str:
    """The token as salted_hmac makes it (what the cached key must reproduce)."""
    body = incident_uuid.bytes[:4] + party_uuid.bytes + minutes.to_bytes(4, "big")
    mac = salted_hmac(ACK_SALT, body, algorithm="sha256").digest()[:8]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def test_ack_tokens_are_those_of_salted_hmac_and_follow_the_secret(settings):
    incident, party = uuid.uuid4(), uuid.uuid4()
    minutes = 29_000_000
    token = ack_token(incident, party, issued=minutes)
    assert token == reference_token(incident, party, minutes)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    other = ack_token(incident, party, issued=minutes)
    assert other != token and other == reference_token(incident, party, minutes)
    with pytest.raises(signing.BadSignature):
        read_ack_token(token)
    assert read_ack_token(ack_token(incident, party)) == (incident.hex[:8], party.hex)


def test_personal_values_in_html_are_escaped_as_django_escapes_them():
    compiled = Compiled(
        {
            "subject": _split(f"Recall for {marker('name')}"),
            "text": _split(f"  Dear {marker('name')},\n{marker('units')}\n{marker('missing')} "),
            "html": _split(f"<p>Dear {marker('name')},</p><p>{marker('units')}</p>"),
        }
    )
    values = {"name": 'Zoë <b>&"O\'Neil"</b>', "units": "1 × heater, lot <L1>\n2 × fan"}
    out = compiled.fill(values)
    assert out["subject"] == f"Recall for {values['name']}"
    assert out["text"] == f"Dear {values['name']},\n{values['units']}"
    name, units = (escape(values[key]).replace("\n", "<br>") for key in ("name", "units"))
    assert out["html"] == f"<p>Dear {name},</p><p>{units}</p>"
