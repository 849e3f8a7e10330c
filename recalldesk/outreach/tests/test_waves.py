"""Waves: segmenting, bulk delivery rows, sending through a real SMTP server, opt-outs,
bounces taking the next channel, quiet hours, escalation and acknowledgements."""

from __future__ import annotations

import datetime as dt
import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from recalldesk.outreach import choices, dispatch, waves
from recalldesk.outreach.models import Acknowledgement, BadContact, Delivery, RateSlot
from recalldesk.outreach.rendering import ack_token
from recalldesk.outreach.tests import builders as ob
from recalldesk.outreach.tests.conftest import body_text
from recalldesk.registry.models import Party

pytestmark = pytest.mark.django_db
S = choices.DeliveryStatus

PARTIES: list[dict[str, Any]] = [
    {"name": "Ann Owner", "email": "ann@example.com", "phone": "+15555550101", "region": "Ohio"},
    {"name": "Bea Owner", "email": "bea@example.com", "region": "Texas", "language": "de"},
    {
        "name": "Cal Owner",
        "email": "cal@example.com",
        "phone": "+15555550103",
        "opted_out_channels": ["email"],
        "region": "Ohio",
    },
    {"name": "Dee Owner", "region": "Ohio"},
]


@pytest.fixture
def incident(coordinator):
    return ob.recall_with_ledger(coordinator, [dict(p) for p in PARTIES])


@pytest.fixture
def version(coordinator, approver, incident):
    return ob.approved(
        coordinator, approver, incident, sheets={"en": ob.CLEAN_EN, "de": ob.CLEAN_DE}
    )


def launch(coordinator, incident, version, channels, **kwargs):
    kwargs.setdefault("respect_quiet_hours", False)
    return waves.do_launch_wave(coordinator, incident, version, channels=channels, **kwargs)


def test_a_wave_sends_each_party_one_email_in_their_language(
    coordinator, incident, version, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        wave = launch(coordinator, incident, version, ["email"])
    rows = {d.party.name: d for d in Delivery.objects.filter(wave=wave).select_related("party")}
    assert wave.total == 4 == len(rows)
    assert rows["Ann Owner"].status == S.SENT and rows["Ann Owner"].provider_id
    assert rows["Bea Owner"].language == "de" and rows["Bea Owner"].status == S.SENT
    # Opted out of email and no other channel in this wave: skipped, with the reason.
    assert rows["Cal Owner"].status == S.SKIPPED and "No usable contact" in rows["Cal Owner"].error
    assert rows["Dee Owner"].status == S.SKIPPED
    assert sorted(m["To"] for m in smtp_server.messages) == ["ann@example.com", "bea@example.com"]
    ann = smtp_server.to("ann@example.com")[0]
    assert ann["Message-ID"] == rows["Ann Owner"].provider_id
    assert ann["Subject"].startswith("Product safety recall")
    text = body_text(ann)
    assert "Dear Ann Owner" in text and "1 × Northwind fan heater, lot L1230" in text
    assert "/a/" in text
    bea = smtp_server.to("bea@example.com")[0]
    assert "Ihre betroffenen Einheiten" in body_text(bea, "html")
    wave.refresh_from_db()
    assert wave.status == choices.WaveStatus.DONE


def test_opted_out_channels_are_skipped_and_the_next_one_is_used(
    coordinator, incident, version, smtp_server
):
    wave = launch(coordinator, incident, version, ["email", "phone", "letter"])
    rows = {d.party.name: d for d in Delivery.objects.filter(wave=wave).select_related("party")}
    assert rows["Ann Owner"].channel == "email"
    assert rows["Cal Owner"].channel == "phone" and rows["Cal Owner"].address == "+15555550103"
    assert rows["Dee Owner"].status == S.SKIPPED  # no address lines either


def test_segments_pick_regions_languages_and_the_unacknowledged(coordinator, incident, version):
    wave = launch(coordinator, incident, version, ["email"], segment={"regions": ["Ohio"]})
    assert sorted(Delivery.objects.filter(wave=wave).values_list("party__name", flat=True)) == [
        "Ann Owner",
        "Cal Owner",
        "Dee Owner",
    ]
    wave = launch(coordinator, incident, version, ["email"], segment={"languages": ["de"]})
    assert list(Delivery.objects.filter(wave=wave).values_list("party__name", flat=True)) == [
        "Bea Owner"
    ]
    ann = Party.objects.get(name="Ann Owner")
    Acknowledgement.objects.create(incident=incident, party=ann, kind="read")
    wave = launch(coordinator, incident, version, ["email"], segment={"not_acknowledged": True})
    assert "Ann Owner" not in set(
        Delivery.objects.filter(wave=wave).values_list("party__name", flat=True)
    )


def test_it_refuses_an_unapproved_version_an_empty_segment_and_unknown_channels(
    coordinator, approver, incident, version
):
    draft = ob.draft(coordinator, incident)
    with pytest.raises(ValidationError, match="only an approved version"):
        launch(coordinator, incident, draft, ["email"])
    with pytest.raises(ValidationError, match="Nobody in the ledger"):
        launch(coordinator, incident, version, ["email"], segment={"regions": ["Mars"]})
    with pytest.raises(ValidationError, match="Unknown channel"):
        launch(coordinator, incident, version, ["pigeon"])
    assert not Delivery.objects.exists()


def test_a_bounce_marks_the_address_bad_and_the_next_channel_takes_over(
    coordinator, incident, version, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse.add("ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        wave = launch(coordinator, incident, version, ["email", "phone"])
    ann = Delivery.objects.filter(wave=wave, party__name="Ann Owner").order_by("id")
    assert [(d.channel, d.status) for d in ann] == [("email", S.BOUNCED), ("phone", S.QUEUED)]
    assert "550" in ann[0].error
    assert BadContact.objects.filter(channel="email", address="ann@example.com").exists()
    # The next wave does not try the bad address again.
    again = launch(coordinator, incident, version, ["email", "phone"])
    assert Delivery.objects.get(wave=again, party__name="Ann Owner").channel == "phone"


def test_quiet_hours_hold_a_delivery_until_morning_in_the_partys_zone():
    start, end = dt.time(21, 0), dt.time(8, 0)
    late = dt.datetime(2026, 11, 23, 3, 30, tzinfo=dt.UTC)  # 22:30 in New York
    wake = dispatch.quiet_until(late, "America/New_York", start, end)
    assert wake == dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)  # 08:00 New York
    assert dispatch.quiet_until(late, "Asia/Tokyo", start, end) is None  # 12:30 in Tokyo


def test_a_batch_in_quiet_hours_is_deferred_not_sent(coordinator, incident, version, smtp_server):
    policy = incident.outreach
    now = timezone.localtime(timezone.now(), dt.UTC).time()
    policy.quiet_start = (dt.datetime.combine(dt.date.today(), now) - dt.timedelta(hours=1)).time()
    policy.quiet_end = (dt.datetime.combine(dt.date.today(), now) + dt.timedelta(hours=1)).time()
    policy.save()
    Party.objects.update(time_zone="UTC")
    wave = launch(coordinator, incident, version, ["email"], respect_quiet_hours=True)
    dispatch.send_batch(wave.pk, 0)
    held = Delivery.objects.get(wave=wave, party__name="Ann Owner")
    assert held.status == S.QUEUED
    assert held.not_before is not None and held.not_before > timezone.now()
    assert smtp_server.messages == []


def test_escalation_sends_the_next_channel_only_to_those_who_did_not_answer(
    coordinator, incident, version, smtp_server, django_capture_on_commit_callbacks
):
    incident.outreach.escalation = [{"after_days": 3, "channel": "phone"}]
    incident.outreach.save()
    with django_capture_on_commit_callbacks(execute=True):
        wave = launch(coordinator, incident, version, ["email"])
    Acknowledgement.objects.create(
        incident=incident, party=Party.objects.get(name="Ann Owner"), kind="read"
    )
    follow = waves.do_escalate(wave, 0)
    assert follow is not None and follow.parent == wave and follow.channels == ["phone"]
    called = dict(Delivery.objects.filter(wave=follow).values_list("party__name", "status"))
    assert "Ann Owner" not in called
    assert called["Cal Owner"] == S.QUEUED  # has a phone
    assert called["Bea Owner"] == S.SKIPPED  # no phone: visible, not silently dropped


def _link(smtp_server, address):
    found = re.search(r"https?://\S+/a/(\S+)/", body_text(smtp_server.to(address)[0]))
    assert found is not None
    return found.group(1)


def test_a_consumer_acknowledges_through_the_link_in_the_email(
    client, coordinator, incident, version, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        wave = launch(coordinator, incident, version, ["email"])
    token = _link(smtp_server, "ann@example.com")
    page = client.get(f"/a/{token}/")
    assert page.status_code == 200 and b"Hello Ann Owner" in page.content
    done = client.post(f"/a/{token}/", {"kind": "want_remedy"})
    assert done.status_code == 200 and b"Thank you" in done.content
    ack = Acknowledgement.objects.get()
    assert ack.kind == "want_remedy" and ack.party.name == "Ann Owner"
    delivery = Delivery.objects.get(wave=wave, party__name="Ann Owner")
    assert delivery.status == S.ACKNOWLEDGED and delivery.acknowledged_at


def test_a_forged_or_expired_link_is_refused_and_records_nothing(client, incident, settings):
    party = incident.ledger.first().party
    token = ack_token(incident.uuid, party.uuid)
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    response = client.post(f"/a/{forged}/", {"kind": "read"})
    assert response.status_code == 400 and b"not valid" in response.content
    settings.ACK_LINK_MAX_AGE_DAYS = 30
    issued = int(time.time() // 60) - 31 * 1440
    expired = ack_token(incident.uuid, party.uuid, issued=issued)
    response = client.post(f"/a/{expired}/", {"kind": "read"})
    assert response.status_code == 410 and b"expired" in response.content
    assert not Acknowledgement.objects.exists()


def test_a_consignee_reports_quantities_that_must_add_up(client, coordinator):
    incident = ob.recall_with_ledger(
        coordinator, [{"name": "Shop One", "role": "consignee", "email": "shop@example.com"}]
    )
    entry = incident.ledger.get()
    token = ack_token(incident.uuid, entry.party.uuid)
    bad = client.post(
        f"/a/{token}/",
        {"signer_name": "Sam Manager", "on_hand": 1, "returned": 1, "destroyed": 1, "corrected": 0},
    )
    assert bad.status_code == 200
    assert b"add up to 2, more than the 1 on hand" in bad.content
    too_many = client.post(
        f"/a/{token}/",
        {"signer_name": "Sam", "on_hand": 9, "returned": 0, "destroyed": 0, "corrected": 0},
    )
    assert b"More units on hand (9) than we shipped to you (1)" in too_many.content
    assert not Acknowledgement.objects.exists()
    good = client.post(
        f"/a/{token}/",
        {
            "signer_name": "Sam Manager",
            "on_hand": 1,
            "returned": 1,
            "destroyed": 0,
            "corrected": 0,
            "sub_recall_notified": 12,
        },
    )
    assert b"Thank you" in good.content
    ack = Acknowledgement.objects.get()
    assert (ack.kind, ack.signer_name, ack.on_hand, ack.returned, ack.sub_recall_notified) == (
        "consignee_report",
        "Sam Manager",
        1,
        1,
        12,
    )


def test_a_channel_that_is_not_configured_fails_over_without_blaming_the_number(
    coordinator, incident, version, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.TWILIO_ACCOUNT_SID = ""
    with django_capture_on_commit_callbacks(execute=True):
        wave = launch(coordinator, incident, version, ["sms", "email"])
    ann = Delivery.objects.filter(wave=wave, party__name="Ann Owner").order_by("id")
    assert [(d.channel, d.status) for d in ann] == [("sms", S.FAILED), ("email", S.SENT)]
    assert "Twilio is not configured" in ann[0].error
    assert not BadContact.objects.exists()
    assert smtp_server.to("ann@example.com")


def test_the_rate_limit_hands_each_batch_its_own_slot(settings, monkeypatch):
    settings.OUTREACH_RATE_LIMITS = {"sms": 1000}
    # A clock that stands still and a sleep that moves it: the second batch asks for its
    # slot before the first one's has passed, however slow the machine is.
    clock = [1_000_000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    monkeypatch.setattr(dispatch, "time", SimpleNamespace(time=lambda: clock[0], sleep=sleep))
    dispatch.wait_for_slot("sms", 20)
    first = RateSlot.objects.get(provider="sms").next_free
    dispatch.wait_for_slot("sms", 20)
    second = RateSlot.objects.get(provider="sms").next_free
    assert second - first == pytest.approx(20 / 1000)
    dispatch.wait_for_slot("email", 5000)  # no limit set: nothing reserved
    assert not RateSlot.objects.filter(provider="email").exists()


def test_a_scheduled_wave_and_its_escalations_wait_in_the_task_queue(
    coordinator, incident, version, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    incident.outreach.escalation = [{"after_days": 3, "channel": "phone"}]
    incident.outreach.save()
    when = timezone.now() + dt.timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        wave = launch(coordinator, incident, version, ["email"], scheduled_for=when)
    queued = {row.task_path.rsplit(".", 1)[-1]: row for row in DBTaskResult.objects.all()}
    assert queued["send_batch"].run_after == when
    assert queued["send_batch"].args_kwargs["args"] == [wave.pk, 0]
    assert queued["escalate"].run_after == when + dt.timedelta(days=3)
    assert not Delivery.objects.filter(status=S.SENT).exists()
