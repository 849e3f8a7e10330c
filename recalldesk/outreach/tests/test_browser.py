"""Outreach in Chromium: compose, check, approve as a second user, launch a wave, watch its
progress, then open the link from the email the SMTP server received and acknowledge."""

from __future__ import annotations

import re

import pytest

from recalldesk.incidents.tests.test_browser import DESKTOP, PHONE, browser, log_in, shoot
from recalldesk.outreach import choices
from recalldesk.outreach.models import Acknowledgement, Delivery
from recalldesk.outreach.tests import builders as ob
from recalldesk.outreach.tests.conftest import body_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser"]


def test_compose_approve_launch_and_acknowledge(
    browser, live_server, coordinator, approver, smtp_server, settings
):
    settings.PUBLIC_URL = live_server.url
    incident = ob.recall_with_ledger(
        coordinator,
        [
            {"name": "Ann Owner", "email": "ann@example.com"},
            {"name": "Bea Owner", "email": "bea@example.com", "language": "de"},
        ],
    )
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server.url, coordinator.username)
    page.goto(f"{live_server.url}/outreach/incidents/{incident.uuid}/")
    page.get_by_role("link", name="New message").click()
    page.get_by_label("Name").fill("Consumer notice")
    sheet = {**ob.CLEAN_EN, "hazard": "As a precaution: the heater can overheat and catch fire."}
    labels = {
        "headline": "Headline",
        "product": "Product and how to identify it",
        "identification": "Lot or serial and where to find it",
        "hazard": "Hazard",
        "instructions": "What to do now",
        "remedy": "Remedy",
        "contact": "How to reach us",
        "sms": "SMS text",
    }
    for name, label in labels.items():
        page.get_by_label(label, exact=True).fill(sheet[name])
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("to fix").wait_for()
    assert page.locator("mark").first.inner_text().lower() == "as a precaution"
    shoot(page, "outreach-check-failing-desktop")

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Hazard", exact=True).fill(ob.CLEAN_EN["hazard"])
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("passes", exact=True).wait_for()
    page.get_by_role("button", name="Send for review").click()
    page.get_by_text("the author cannot approve").wait_for()

    other = browser.new_page(viewport=DESKTOP)
    log_in(other, live_server.url, approver.username)
    other.goto(page.url)
    other.get_by_role("button", name="Approve").click()
    other.get_by_text("Version 1 approved.").wait_for()
    shoot(other, "outreach-approved-desktop")

    page.goto(f"{live_server.url}/outreach/incidents/{incident.uuid}/")
    page.get_by_role("link", name="Launch a wave").click()
    page.get_by_label("Message").select_option(label="Consumer notice v1 (consumers)")
    page.get_by_label("Wave name").fill("First notice")
    page.get_by_label("1.").select_option("email")
    page.get_by_label("Respect quiet hours").uncheck()
    page.get_by_role("button", name="Launch wave").click()
    page.get_by_text("deliveries queued").wait_for()
    page.locator("#pct").get_by_text("100 %").wait_for()
    shoot(page, "outreach-wave-desktop")
    assert Delivery.objects.filter(status=choices.DeliveryStatus.SENT).count() == 2

    message = smtp_server.to("bea@example.com")[0]
    # Only an English sheet was written: Bea's German falls back to the incident's English.
    assert "Your affected units" in body_text(message, "html")
    found = re.search(r"(https?://\S+/a/\S+/)", body_text(message))
    assert found is not None and found.group(1).startswith(live_server.url)
    phone = browser.new_page(viewport=PHONE)
    phone.goto(found.group(1))
    phone.get_by_text("Hello Bea Owner").wait_for()
    shoot(phone, "outreach-acknowledge-phone")
    phone.get_by_label("I have read this notice").check()
    phone.get_by_role("button", name="Send").click()
    phone.get_by_text("Thank you, Bea Owner").wait_for()
    assert Acknowledgement.objects.get().party.name == "Bea Owner"
    bea = Delivery.objects.get(party__name="Bea Owner")
    assert bea.status == choices.DeliveryStatus.ACKNOWLEDGED
