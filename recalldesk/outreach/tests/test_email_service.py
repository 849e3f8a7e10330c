"""Email through an email service (django-anymail, Postmark here): the API call is mocked at
its HTTP edge; its delivery, open and bounce webhooks feed the delivery rows."""

from __future__ import annotations

import base64
import json

import pytest
import responses

from recalldesk.outreach import choices, waves
from recalldesk.outreach.models import BadContact, Delivery
from recalldesk.outreach.tests import builders as ob

pytestmark = pytest.mark.django_db
S = choices.DeliveryStatus
POSTMARK = "https://api.postmarkapp.com/email"


@pytest.fixture
def postmark(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token", "WEBHOOK_SECRET": "hook:secret"}
    with responses.RequestsMock() as mocked:
        yield mocked


def _auth() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"hook:secret").decode()}


def test_it_sends_through_the_service_and_its_webhooks_update_the_rows(
    client, coordinator, approver, postmark, django_capture_on_commit_callbacks
):
    incident = ob.recall_with_ledger(
        coordinator,
        [
            {"name": "Ann Owner", "email": "ann@example.com"},
            {"name": "Bob Owner", "email": "bob@example.com", "phone": "+15555550199"},
        ],
    )
    version = ob.approved(coordinator, approver, incident)
    ids = iter(["pm-ann-1", "pm-bob-1"])
    postmark.add_callback(
        responses.POST,
        POSTMARK,
        callback=lambda request: (
            200,
            {},
            json.dumps(
                {
                    "To": json.loads(request.body)["To"],
                    "MessageID": next(ids),
                    "ErrorCode": 0,
                    "Message": "OK",
                }
            ),
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        wave = waves.do_launch_wave(
            coordinator,
            incident,
            version,
            channels=["email", "phone"],
            respect_quiet_hours=False,
        )
    sent = [json.loads(call.request.body) for call in postmark.calls]
    assert [payload["To"] for payload in sent] == ["ann@example.com", "bob@example.com"]
    assert sent[0]["Subject"].startswith("Product safety recall")
    assert "Dear Ann Owner" in sent[0]["TextBody"] and "<html" in sent[0]["HtmlBody"]
    assert postmark.calls[0].request.headers["X-Postmark-Server-Token"] == "server-token"
    rows = {d.address: d for d in Delivery.objects.filter(wave=wave)}
    assert rows["ann@example.com"].provider_id == "pm-ann-1"
    assert rows["ann@example.com"].status == S.SENT

    url = "/outreach/callbacks/anymail/postmark/tracking/"
    delivered = {"RecordType": "Delivery", "MessageID": "pm-ann-1", "Recipient": "ann@example.com"}
    assert (
        client.post(url, delivered, content_type="application/json", **_auth()).status_code == 200
    )
    opened = {"RecordType": "Open", "MessageID": "pm-ann-1", "Recipient": "ann@example.com"}
    client.post(url, opened, content_type="application/json", **_auth())
    ann = Delivery.objects.get(pk=rows["ann@example.com"].pk)
    assert ann.status == S.OPENED and ann.delivered_at and ann.opened_at

    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "ID": 42,
        "MessageID": "pm-bob-1",
        "Email": "bob@example.com",
        "Description": "The server was unable to deliver your message (mailbox unknown).",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, bounce, content_type="application/json", **_auth())
    bob = Delivery.objects.filter(wave=wave, party__name="Bob Owner").order_by("id")
    assert [(d.channel, d.status) for d in bob] == [("email", S.BOUNCED), ("phone", S.QUEUED)]
    assert "mailbox unknown" in bob[0].error
    assert BadContact.objects.filter(channel="email", address="bob@example.com").exists()


def test_a_webhook_without_the_secret_changes_nothing(client, postmark):
    url = "/outreach/callbacks/anymail/postmark/tracking/"
    body = {"RecordType": "Delivery", "MessageID": "x", "Recipient": "a@example.com"}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code in (400, 401, 403)
