"""Console pages of outreach, driven through HTTP as each role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recalldesk.audit.models import ChangeRecord
from recalldesk.outreach import choices, waves
from recalldesk.outreach.models import BadContact, Delivery, Message, Wave
from recalldesk.outreach.tests import builders as ob

pytestmark = pytest.mark.django_db
S = choices.DeliveryStatus

PARTIES = [
    {
        "name": "Ann Owner",
        "email": "ann@example.com",
        "phone": "+15555550101",
        "address_line1": "1 Main Street",
        "city": "Springfield",
        "postcode": "12345",
    },
    {"name": "Cal Owner", "phone": "+15555550103"},
]


@pytest.fixture
def incident(coordinator):
    return ob.recall_with_ledger(coordinator, [dict(p) for p in PARTIES])


def _sheet_post(sheet, language="en"):
    return {f"{language}-{name}": value for name, value in sheet.items()}


def test_a_coordinator_writes_a_message_and_an_approver_approves_it(
    client, coordinator, approver, incident
):
    client.force_login(coordinator)
    page = client.get(reverse("outreach:message_new", args=[incident.uuid]))
    assert page.status_code == 200 and b"Language: en" in page.content
    response = client.post(
        reverse("outreach:message_new", args=[incident.uuid]),
        {"name": "Consumer notice", "audience": "consumer", **_sheet_post(ob.CLEAN_EN)},
    )
    message = Message.objects.get()
    assert response.url == reverse("outreach:message", args=[message.uuid])
    detail = client.get(response.url)
    assert b"Compliance check" in detail.content and b"passes" in detail.content
    client.post(reverse("outreach:message_submit", args=[message.uuid]), {"version": 1})
    waiting = client.get(reverse("outreach:message", args=[message.uuid]))
    assert b"the author cannot approve" in waiting.content
    client.force_login(approver)
    client.post(
        reverse("outreach:message_approve", args=[message.uuid]),
        {"version": 1, "decision": "approve"},
    )
    latest = message.latest()
    assert latest is not None and latest.status == choices.VersionStatus.APPROVED


def test_a_broken_template_is_shown_and_nothing_is_saved(client, coordinator, incident):
    client.force_login(coordinator)
    sheet = {**ob.CLEAN_EN, "hazard": "Fire {% if %}"}
    page = client.post(
        reverse("outreach:message_new", args=[incident.uuid]),
        {"name": "Broken", "audience": "consumer", **_sheet_post(sheet)},
    )
    assert page.status_code == 200
    assert b"[en] hazard: the template is broken" in page.content
    assert not Message.objects.exists()


def test_the_checklist_highlights_minimising_words(client, coordinator, incident):
    sheet = {**ob.CLEAN_EN, "hazard": "As a precaution we recall the heater, it can overheat."}
    message = ob.message(coordinator, incident, sheets={"en": sheet})
    client.force_login(coordinator)
    page = client.get(reverse("outreach:message", args=[message.uuid])).content.decode()
    assert "<mark>As a precaution</mark>" in page or "<mark>as a precaution</mark>" in page.lower()
    assert "to fix" in page


def test_an_approver_without_a_reason_cannot_pass_a_failing_check(
    client, coordinator, approver, incident
):
    sheet = {**ob.CLEAN_EN, "hazard": "Out of an abundance of caution we recall it."}
    version = ob.draft(coordinator, incident, sheets={"en": sheet})
    client.force_login(coordinator)
    client.post(reverse("outreach:message_submit", args=[version.message.uuid]), {"version": 1})
    client.force_login(approver)
    url = reverse("outreach:message_approve", args=[version.message.uuid])
    page = client.post(url, {"version": 1, "decision": "approve"}, follow=True)
    assert b"Compliance check failed" in page.content
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.IN_REVIEW
    client.post(
        url, {"version": 1, "decision": "approve", "override_reason": "Counsel signed off."}
    )
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.APPROVED
    assert version.override_reason == "Counsel signed off."


def test_a_wave_is_launched_from_the_console_and_reports_progress(
    client, coordinator, approver, incident, django_capture_on_commit_callbacks
):
    version = ob.approved(coordinator, approver, incident)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("outreach:wave_new", args=[incident.uuid]),
            {"version": version.pk, "name": "First notice", "channels": ["phone", "letter", ""]},
        )
    wave = Wave.objects.get()
    assert response.url == reverse("outreach:wave", args=[wave.uuid])
    assert wave.channels == ["phone", "letter"] and wave.total == 2
    progress = client.get(reverse("outreach:wave_progress", args=[wave.uuid])).json()
    assert progress["total"] == 2
    assert {c["status"]: c["n"] for c in progress["counts"]}["queued"] == 2
    page = client.get(reverse("outreach:wave", args=[wave.uuid]))
    assert b"First notice" in page.content


def test_the_wave_form_explains_why_nothing_was_sent(client, coordinator, approver, incident):
    version = ob.approved(coordinator, approver, incident)
    client.force_login(coordinator)
    page = client.post(
        reverse("outreach:wave_new", args=[incident.uuid]),
        {"version": version.pk, "channels": ["email"], "regions": "Atlantis"},
    )
    assert b"Nobody in the ledger matches this segment" in page.content
    page = client.post(reverse("outreach:wave_new", args=[incident.uuid]), {"channels": ["email"]})
    assert b"Choose an approved message version" in page.content
    assert not Wave.objects.exists()


def test_an_agent_works_the_call_list(client, coordinator, approver, agent, incident):
    version = ob.approved(coordinator, approver, incident)
    waves.do_launch_wave(coordinator, incident, version, channels=["phone"])
    client.force_login(agent)
    url = reverse("outreach:calls", args=[incident.uuid])
    page = client.get(url).content.decode()
    assert "Ann Owner" in page and "+15555550101" in page and "Northwind fan heater" in page
    ann = Delivery.objects.get(party__name="Ann Owner")
    assert ann.status == S.CLAIMED and ann.handled_by == agent
    client.post(url, {"delivery": ann.pk, "outcome": "wrong_number"})
    ann.refresh_from_db()
    assert ann.status == S.BOUNCED and ann.outcome == "wrong_number"
    assert BadContact.objects.filter(channel="phone", address="+15555550101").exists()
    page = client.get(url).content.decode()
    cal = Delivery.objects.get(party__name="Cal Owner")
    assert "Cal Owner" in page
    bad = client.post(url, {"delivery": cal.pk, "outcome": "call_back"}, follow=True)
    assert b"Say when to call back" in bad.content
    client.post(
        url, {"delivery": cal.pk, "outcome": "call_back", "call_back_at": "2099-01-05T10:00"}
    )
    cal.refresh_from_db()
    assert cal.status == S.QUEUED and cal.call_back_at is not None
    assert ChangeRecord.objects.filter(object_repr__contains="Cal Owner").exists()


def test_letters_download_as_pdf_and_csv_then_are_marked_mailed(
    client, coordinator, approver, incident
):
    version = ob.approved(coordinator, approver, incident)
    wave = waves.do_launch_wave(coordinator, incident, version, channels=["letter", "phone"])
    client.force_login(coordinator)
    url = reverse("outreach:wave_letters", args=[wave.uuid])
    pdf = client.get(url)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    csv_text = client.get(url + "?format=csv").content.decode()
    assert "Ann Owner" in csv_text and "1 Main Street" in csv_text and "Cal Owner" not in csv_text
    client.post(url)
    assert Delivery.objects.get(party__name="Ann Owner", channel="letter").status == S.SENT


def test_outsiders_see_no_outreach(client, outsider, incident):
    client.force_login(outsider)
    assert client.get(reverse("outreach:home", args=[incident.uuid])).status_code == 403


def test_the_outreach_page_reads_in_a_fixed_number_of_queries(
    client, coordinator, approver, incident, django_assert_max_num_queries
):
    version = ob.approved(coordinator, approver, incident)
    for _ in range(3):
        waves.do_launch_wave(coordinator, incident, version, channels=["phone"])
    client.force_login(coordinator)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("outreach:home", args=[incident.uuid])).status_code == 200


def test_a_bad_escalation_line_is_named_and_the_policy_kept(client, coordinator, incident):
    client.force_login(coordinator)
    url = reverse("outreach:home", args=[incident.uuid])
    page = client.post(
        url,
        {"quiet_start": "21:00", "quiet_end": "08:00", "escalation": "3 sms\nsoon pigeon"},
        follow=True,
    )
    assert "Escalation line “soon pigeon”" in page.content.decode()
    incident.outreach.refresh_from_db()
    assert incident.outreach.escalation == []


def test_the_ledger_shows_each_partys_notice_and_its_timeline(
    client, coordinator, approver, agent, incident, django_capture_on_commit_callbacks
):
    version = ob.approved(coordinator, approver, incident)
    wave = waves.do_launch_wave(coordinator, incident, version, channels=["phone"])
    ann = Delivery.objects.get(wave=wave, party__name="Ann Owner")
    from recalldesk.outreach.calls import do_record_call

    do_record_call(agent, ann, outcome="wrong_number")
    client.force_login(coordinator)
    page = client.get(reverse("incidents:ledger", args=[incident.uuid])).content.decode()
    assert "Phone call list · bounced" in page and "bad contact" in page
    assert "Phone call list · queued" in page
    timeline = client.get(reverse("outreach:timeline", args=[incident.uuid, ann.party.uuid]))
    assert b"Phone call list failed" in timeline.content
