"""The SMS channel: what goes to Twilio's Messages API, how its errors are read, and the
signed status callbacks. Only Twilio's HTTP API is mocked."""

from __future__ import annotations

from typing import Any
from unittest import mock
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.template.loader import select_template
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from recalldesk.outreach import events
from recalldesk.outreach.channels.base import TransportError
from recalldesk.outreach.channels.sms import SPEC
from recalldesk.outreach.channels.sms.callbacks import twilio_status
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
from recalldesk.outreach.channels.sms.transport import SmsTransport
from recalldesk.outreach.models import BadContact

MESSAGES = f"{API}/Messages.json"
STATUS_PATH = "/outreach/callbacks/twilio/status/"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    configure_twilio(settings)


def form(call: Any) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else body)


def send(text: str | None = None) -> str:
    item = outgoing() if text is None else outgoing(text=text)
    transport = SmsTransport()
    try:
        return transport.send(item)
    finally:
        transport.close()


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "status": status, "more_info": "https://x"}


# Sending


@responses.activate
def test_it_posts_the_sms_to_twilio_and_returns_the_message_sid():
    responses.post(MESSAGES, json={"sid": "SM0001", "status": "queued"}, status=201)

    sid = send()

    assert sid == "SM0001"
    assert len(responses.calls) == 1
    assert form(responses.calls[0]) == {
        "To": ["+15551230001"],
        "From": [FROM_NUMBER],
        "Body": [outgoing().text],
        "StatusCallback": [f"{PUBLIC_URL}/outreach/callbacks/twilio/status/"],
    }


@responses.activate
def test_it_sends_a_text_of_exactly_two_sms_parts():
    responses.post(MESSAGES, json={"sid": "SM0002"}, status=201)

    assert send("x" * 306) == "SM0002"
    assert form(responses.calls[0])["Body"] == ["x" * 306]


@responses.activate
def test_it_refuses_a_text_longer_than_two_sms_parts_without_calling_twilio():
    with pytest.raises(TransportError) as caught:
        send("x" * 307)

    assert caught.value.permanent
    assert "307 characters" in caught.value.message
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"]
)
@responses.activate
def test_it_refuses_to_send_when_a_twilio_setting_is_missing(settings, missing):
    setattr(settings, missing, "")

    with pytest.raises(TransportError) as caught:
        send()

    assert caught.value.permanent
    assert missing in caught.value.message
    assert len(responses.calls) == 0


# Reading Twilio's errors


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21211, "not a valid phone number"),
        (21610, "unsubscribed"),
        (21614, "not a mobile number"),
    ],
)
@responses.activate
def test_a_number_that_cannot_take_sms_is_a_permanent_error(code, words):
    responses.post(MESSAGES, json=twilio_error(400, code, "Rejected"), status=400)

    with pytest.raises(TransportError) as caught:
        send()

    assert caught.value.permanent
    assert str(code) in caught.value.message
    assert words in caught.value.message


@responses.activate
def test_another_client_error_is_permanent():
    responses.post(MESSAGES, json=twilio_error(400, 21602, "Message body is required."), status=400)

    with pytest.raises(TransportError) as caught:
        send()

    assert caught.value.permanent
    assert "Message body is required." in caught.value.message


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (429, twilio_error(429, 20429, "Too Many Requests")),
        (500, {"message": "Internal Server Error", "status": 500}),
        (503, None),
    ],
)
@responses.activate
def test_rate_limits_and_server_errors_are_temporary(status, payload):
    if payload is None:
        responses.post(MESSAGES, body="<html>Service Unavailable</html>", status=status)
    else:
        responses.post(MESSAGES, json=payload, status=status)

    with pytest.raises(TransportError) as caught:
        send()

    assert not caught.value.permanent
    assert f"HTTP {status}" in caught.value.message


@responses.activate
def test_refused_credentials_are_temporary_so_no_number_is_blamed_for_them():
    responses.post(MESSAGES, json=twilio_error(401, 20003, "Authenticate"), status=401)

    with pytest.raises(TransportError) as caught:
        send()

    assert not caught.value.permanent
    assert "TWILIO_AUTH_TOKEN" in caught.value.message


@responses.activate
def test_a_network_failure_is_temporary():
    responses.post(MESSAGES, body=requests.ConnectionError("connection refused"))

    with pytest.raises(TransportError) as caught:
        send()

    assert not caught.value.permanent
    assert "Cannot reach Twilio" in caught.value.message


# The template


def render_body(language: str, sheet: dict[str, str]) -> str:
    names = [f"outreach/sms/body.{language}.txt", SPEC.templates["text"]]
    context = {"company": "Northwind", "sheet": sheet, "link": "https://r.example/a/x/"}
    return select_template(names).render(context).strip()


def test_the_sms_uses_the_fact_sheets_sms_wording_or_else_its_headline():
    sheet = {"sms": "Stop using heater H-200 & unplug it.", "headline": "Heater recall"}

    assert render_body("en", sheet) == (
        "Northwind: Stop using heater H-200 & unplug it. Please confirm: https://r.example/a/x/"
    )
    assert render_body("de", {"sms": "", "headline": "Heizlüfter-Rückruf"}) == (
        "Northwind: Heizlüfter-Rückruf Bitte bestätigen: https://r.example/a/x/"
    )


# Status callbacks


def status_request(
    params: dict[str, str], *, signature: str | None = None, signed_url: str | None = None
) -> Any:
    url = signed_url or f"{PUBLIC_URL}{STATUS_PATH}"
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return RequestFactory().post(
        STATUS_PATH,
        data=params,
        secure=True,
        HTTP_HOST=PUBLIC_HOST,
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


@pytest.fixture
def recorder():
    with mock.patch.object(
        events, "record_provider_event", wraps=events.record_provider_event
    ) as spy:
        yield spy


@pytest.mark.django_db
def test_a_signed_delivered_status_marks_the_sms_delivered(recorder):
    sent = delivery("sms", "SM0001")

    response = twilio_status(
        status_request({"MessageSid": "SM0001", "MessageStatus": "delivered", "SmsSid": "SM0001"})
    )

    assert response.status_code == 204
    recorder.assert_called_once_with("sms", "SM0001", "delivered", "", False)
    sent.refresh_from_db()
    assert sent.delivered_at is not None


@pytest.mark.django_db
def test_an_undelivered_sms_to_a_landline_is_a_permanent_failure(recorder):
    sent = delivery("sms", "SM0002")

    response = twilio_status(
        status_request(
            {"MessageSid": "SM0002", "MessageStatus": "undelivered", "ErrorCode": "30006"}
        )
    )

    assert response.status_code == 204
    recorder.assert_called_once_with(
        "sms",
        "SM0002",
        "failed",
        "Twilio status undelivered; Twilio error 30006: a landline or a carrier we cannot reach",
        True,
    )
    sent.refresh_from_db()
    assert sent.status == "failed"
    assert BadContact.objects.filter(channel="sms", address=sent.address).exists()


@pytest.mark.django_db
def test_a_switched_off_handset_is_a_temporary_failure(recorder):
    delivery("sms", "SM0003")

    twilio_status(
        status_request({"MessageSid": "SM0003", "MessageStatus": "failed", "ErrorCode": "30003"})
    )

    assert recorder.call_args.args[4] is False
    assert not BadContact.objects.exists()


@pytest.mark.parametrize(
    ("status", "event", "permanent"),
    [
        ("completed", "delivered", False),
        ("busy", "failed", False),
        ("no-answer", "failed", False),
    ],
)
@pytest.mark.django_db
def test_call_statuses_are_recorded_on_the_voice_delivery(recorder, status, event, permanent):
    delivery("voice", "CA0001")

    response = twilio_status(status_request({"CallSid": "CA0001", "CallStatus": status}))

    assert response.status_code == 204
    assert recorder.call_args.args[:3] == ("voice", "CA0001", event)
    assert recorder.call_args.args[4] is permanent


@pytest.mark.django_db
def test_intermediate_statuses_are_acknowledged_but_not_recorded(recorder):
    response = twilio_status(status_request({"MessageSid": "SM0004", "MessageStatus": "sent"}))

    assert response.status_code == 204
    recorder.assert_not_called()


@pytest.mark.django_db
def test_it_accepts_the_public_url_signature_behind_a_proxy(recorder):
    params = {"MessageSid": "SM0005", "MessageStatus": "delivered"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}{STATUS_PATH}", params)
    # The proxy terminated TLS and forwarded to an internal host name.
    request = RequestFactory().post(
        STATUS_PATH, data=params, HTTP_HOST="internal", HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert twilio_status(request).status_code == 204
    recorder.assert_called_once()


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
@pytest.mark.django_db
def test_an_unsigned_or_forged_callback_is_refused_and_changes_nothing(recorder, signature):
    sent = delivery("sms", "SM0006")

    response = twilio_status(
        status_request({"MessageSid": "SM0006", "MessageStatus": "delivered"}, signature=signature)
    )

    assert response.status_code == 403
    recorder.assert_not_called()
    sent.refresh_from_db()
    assert sent.delivered_at is None


@pytest.mark.django_db
def test_a_callback_signed_for_other_fields_is_refused(recorder):
    signed = {"MessageSid": "SM0007", "MessageStatus": "sent"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_URL}{STATUS_PATH}", signed)

    response = twilio_status(
        status_request({"MessageSid": "SM0007", "MessageStatus": "delivered"}, signature=signature)
    )

    assert response.status_code == 403
    recorder.assert_not_called()


def test_the_status_callback_only_takes_post():
    request = RequestFactory().get(STATUS_PATH, secure=True, HTTP_HOST=PUBLIC_HOST)

    assert twilio_status(request).status_code == 405
