"""The voice channel: the call placed through Twilio's Calls API with its inline TwiML, and
the signed key-press callback. Only Twilio's HTTP API is mocked."""

from __future__ import annotations

from typing import Any
from unittest import mock
from urllib.parse import parse_qs
from xml.etree import ElementTree

import pytest
import responses
from django.core import signing
from django.http import Http404
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from recalldesk.outreach import events
from recalldesk.outreach.channels.base import TransportError
from recalldesk.outreach.channels.sms.tests.builders import (
    API,
    AUTH_TOKEN,
    FROM_NUMBER,
    PUBLIC_HOST,
    PUBLIC_URL,
    configure_twilio,
    delivery,
    outgoing,
)
from recalldesk.outreach.channels.voice.callbacks import twilio_gather
from recalldesk.outreach.channels.voice.transport import GATHER_SALT, VoiceTransport
from recalldesk.outreach.models import Acknowledgement
from recalldesk.outreach.rendering import compile_channel

CALLS = f"{API}/Calls.json"
SCRIPT = "Hello Alex Doe. This is an important safety message from Northwind Home Products."


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    configure_twilio(settings)


def form(call: Any) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else body)


def call(**fields: Any) -> str:
    transport = VoiceTransport()
    try:
        return transport.send(outgoing(text=SCRIPT, **fields))
    finally:
        transport.close()


# Placing the call


@responses.activate
def test_it_places_a_call_that_reads_the_script_and_asks_for_a_key():
    responses.post(CALLS, json={"sid": "CA0001", "status": "queued"}, status=201)

    sid = call(delivery_id=41)

    assert sid == "CA0001"
    sent = form(responses.calls[0])
    assert sent["To"] == ["+15551230001"]
    assert sent["From"] == [FROM_NUMBER]
    assert sent["StatusCallback"] == [f"{PUBLIC_URL}/outreach/callbacks/twilio/status/"]
    twiml = ElementTree.fromstring(sent["Twiml"][0])
    gather = twiml.find("Gather")
    assert gather is not None
    assert gather.get("numDigits") == "1"
    assert gather.get("method") == "POST"
    action = gather.get("action", "")
    prefix = f"{PUBLIC_URL}/outreach/callbacks/twilio/gather/"
    assert action.startswith(prefix)
    assert signing.loads(action[len(prefix) :].rstrip("/"), salt=GATHER_SALT) == 41
    say = gather.find("Say")
    assert say is not None
    assert say.get("language") == "en-US"
    assert say.text == f"{SCRIPT}\nPress 1 to confirm you have received this message."
    goodbye = twiml.find("Say")
    assert goodbye is not None
    assert "We did not receive your confirmation" in (goodbye.text or "")


@responses.activate
def test_a_german_call_is_read_by_a_german_voice_with_a_german_prompt():
    responses.post(CALLS, json={"sid": "CA0002"}, status=201)

    call(language="de")

    twiml = ElementTree.fromstring(form(responses.calls[0])["Twiml"][0])
    say = twiml.find("Gather/Say")
    assert say is not None
    assert say.get("language") == "de-DE"
    assert (say.text or "").endswith(
        "Drücken Sie die 1, um zu bestätigen, dass Sie diese Nachricht erhalten haben."
    )


@responses.activate
def test_it_refuses_a_script_too_long_for_inline_twiml_without_calling_twilio():
    with pytest.raises(TransportError) as caught:
        VoiceTransport().send(outgoing(text="word " * 900))

    assert caught.value.permanent
    assert "TwiML" in caught.value.message
    assert len(responses.calls) == 0


@responses.activate
def test_it_refuses_to_call_without_a_sender_number(settings):
    settings.TWILIO_FROM_NUMBER = ""

    with pytest.raises(TransportError) as caught:
        call()

    assert caught.value.permanent
    assert "TWILIO_FROM_NUMBER" in caught.value.message
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21217, True),  # not a valid number
        (400, 21215, True),  # a region we may not call
        (429, 20429, False),
        (500, 20500, False),
    ],
)
@responses.activate
def test_twilio_errors_are_classified_for_calls_too(status, code, permanent):
    payload = {"code": code, "message": "Refused", "status": status}
    responses.post(CALLS, json=payload, status=status)

    with pytest.raises(TransportError) as caught:
        call()

    assert caught.value.permanent is permanent
    assert str(code) in caught.value.message


# The key press


def gather_request(token: str, params: dict[str, str], *, signature: str | None = None) -> Any:
    path = f"/outreach/callbacks/twilio/gather/{token}/"
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}{path}", params)
    return RequestFactory().post(
        path, data=params, secure=True, HTTP_HOST=PUBLIC_HOST, HTTP_X_TWILIO_SIGNATURE=signature
    )


def spoken(response: Any) -> tuple[str | None, str]:
    say = ElementTree.fromstring(response.content).find("Say")
    assert say is not None
    return say.get("language"), say.text or ""


@pytest.fixture
def recorder():
    with mock.patch.object(
        events, "record_provider_event", wraps=events.record_provider_event
    ) as spy:
        yield spy


@pytest.mark.django_db
def test_pressing_1_acknowledges_the_call_and_thanks_the_person(recorder):
    placed = delivery("voice", "CA0001")
    token = signing.dumps(placed.pk, salt=GATHER_SALT)

    response = twilio_gather(gather_request(token, {"CallSid": "CA0001", "Digits": "1"}), token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert spoken(response) == (
        "en-US",
        "Thank you, your confirmation has been recorded. Northwind Home Products thanks you "
        "for your help. Goodbye.",
    )
    recorder.assert_called_once_with("voice", "CA0001", "acknowledged", "pressed 1")
    placed.refresh_from_db()
    assert placed.status == "acknowledged"
    assert Acknowledgement.objects.get(delivery=placed).kind == "read"


@pytest.mark.django_db
def test_another_key_records_nothing_and_says_how_to_reach_us_in_the_calls_language(recorder):
    placed = delivery(
        "voice",
        "CA0002",
        language="fr",
        contact="Appelez le 0800 123 456, référence {{ reference }}.",
    )
    token = signing.dumps(placed.pk, salt=GATHER_SALT)

    response = twilio_gather(gather_request(token, {"CallSid": "CA0002", "Digits": "7"}), token)

    assert response.status_code == 200
    assert spoken(response) == (
        "fr-FR",
        "Nous n'avons pas reçu votre confirmation. Pour joindre Northwind Home Products : "
        "Appelez le 0800 123 456, référence RC-2026-0001. Au revoir.",
    )
    recorder.assert_not_called()
    placed.refresh_from_db()
    assert placed.acknowledged_at is None


@pytest.mark.django_db
def test_a_forged_signature_is_refused_and_acknowledges_nothing(recorder):
    placed = delivery("voice", "CA0003")
    token = signing.dumps(placed.pk, salt=GATHER_SALT)
    request = gather_request(token, {"CallSid": "CA0003", "Digits": "1"}, signature="Zm9yZ2Vk")

    response = twilio_gather(request, token)

    assert response.status_code == 403
    recorder.assert_not_called()
    assert not Acknowledgement.objects.exists()


@pytest.mark.django_db
def test_a_forged_token_is_not_found_even_when_twilio_signed_the_request(recorder):
    placed = delivery("voice", "CA0004")
    forged = signing.dumps(placed.pk, salt="someone-else")

    with pytest.raises(Http404):
        twilio_gather(gather_request(forged, {"CallSid": "CA0004", "Digits": "1"}), forged)

    recorder.assert_not_called()
    assert not Acknowledgement.objects.exists()


@pytest.mark.django_db
def test_an_expired_token_is_refused(recorder):
    placed = delivery("voice", "CA0005")
    with mock.patch("django.core.signing.time.time", return_value=1_000_000_000):
        token = signing.dumps(placed.pk, salt=GATHER_SALT)

    response = twilio_gather(gather_request(token, {"CallSid": "CA0005", "Digits": "1"}), token)

    assert response.status_code == 403
    recorder.assert_not_called()


# The script


@pytest.mark.django_db
def test_the_script_reads_the_fact_sheet_and_how_to_reach_us_without_the_link():
    placed = delivery("voice", "CA0006", contact="Call 0800 123 456.")
    compiled = compile_channel(placed.wave.version, "en", "voice")

    text = compiled.fill(
        {"name": "Alex Doe", "reference": "RC-2026-0001", "link": "https://r.example/a/x/"}
    )["text"]

    assert text.startswith(
        "Hello Alex Doe. This is an important safety message from Northwind Home Products.\n"
        "Stop using the H-200."
    )
    assert "To reach us: Call 0800 123 456." in text
    assert text.endswith(
        "Your reference is RC-2026-0001. We have also sent you this notice in writing."
    )
    assert "https://" not in text
