"""An owner claims a replacement from the notice link on a phone, uploads a photo of the
label and follows the claim on its status page; an agent approves and ships it in the
console and the ledger counts the unit corrected; in Chromium, with axe-core checking each
page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recalldesk.incidents.models import LedgerEntry
from recalldesk.incidents.tests.test_browser import PHONE, browser, log_in, shoot
from recalldesk.public.tests.test_browser import axe_problems
from recalldesk.remedies import choices
from recalldesk.remedies.models import Claim
from recalldesk.remedies.tests.conftest import build_recall, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
__all__ = ["browser"]


def test_an_owner_claims_a_replacement_on_a_phone_and_follows_it(
    browser, live_server, coordinator, agent, settings, tmp_path
):
    settings.PUBLIC_URL = live_server.url
    recall = build_recall(coordinator)
    label = tmp_path / "label.png"
    label.write_bytes(png_bytes((640, 480)))

    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}{recall.link()}")
    page.get_by_role("heading", name="Claim your remedy").wait_for()
    shoot(page, "claim-choose-phone")
    assert axe_problems(page) == []
    page.get_by_text("Free replacement heater").click()
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Free replacement heater").wait_for()
    assert page.get_by_label("Street and number").input_value() == "1 Elm Street"
    assert axe_problems(page) == []
    # The street left out: the claim is refused, the problem named beside the field.
    page.get_by_label("Street and number").fill("")
    page.get_by_label("Photo of the label or serial number").set_input_files(str(label))
    page.get_by_role("button", name="Send my claim").click()
    page.get_by_text("Give the street address").first.wait_for()
    shoot(page, "claim-details-refused-phone")
    assert axe_problems(page) == []
    assert not Claim.objects.exists()

    page.get_by_label("Street and number").fill("1 Elm Street")
    page.get_by_label("Photo of the label or serial number").set_input_files(str(label))
    page.get_by_label("Serial number as printed on your unit (optional)").fill("SN-1001")
    shoot(page, "claim-details-phone")
    page.get_by_role("button", name="Send my claim").click()
    page.get_by_role("heading", name="We have your claim").wait_for()
    claim = Claim.objects.get()
    assert claim.evidence and claim.address_line1 == "1 Elm Street"
    page.get_by_text(claim.number, exact=True).wait_for()
    shoot(page, "claim-submitted-phone")
    assert axe_problems(page) == []

    page.get_by_role("link", name="See the status of your claim").click()
    page.get_by_role("heading", name=f"Claim {claim.number}").wait_for()
    page.get_by_text("We received your claim").wait_for()
    page.get_by_text("Your place in the queue: 1.").wait_for()
    shoot(page, "claim-status-phone")
    assert axe_problems(page) == []

    page.goto(f"{live_server.url}/claims/status/")
    page.get_by_label("Claim number").fill(claim.number.lower())
    page.get_by_label("The email address or postcode you gave with the claim").fill("00000")
    page.get_by_role("button", name="Show my claim").click()
    page.get_by_text("We found no claim with that number and email or postcode.").wait_for()
    shoot(page, "claim-lookup-refused-phone")
    assert axe_problems(page) == []
    page.get_by_label("The email address or postcode you gave with the claim").fill("62704")
    page.get_by_role("button", name="Show my claim").click()
    page.get_by_role("heading", name=f"Claim {claim.number}").wait_for()

    # An agent approves it from the queue and ships it from the claim page.
    staff = browser.new_page(viewport=DESKTOP)
    log_in(staff, live_server.url, agent.username)
    staff.goto(f"{live_server.url}{reverse('remedies:claims', args=[recall.incident.uuid])}")
    staff.get_by_label(f"Claim {claim.number}").check()
    staff.get_by_role("button", name="Approve").click()
    staff.get_by_text("1 claim approved.").wait_for()
    staff.get_by_role("link", name=claim.number).click()
    staff.get_by_label("Carrier").fill("UPS")
    staff.get_by_label("Tracking number").fill("1Z999AA10123456784")
    staff.get_by_role("button", name="Record step").click()
    staff.get_by_text("Replacement shipped recorded.").wait_for()
    assert Claim.objects.get(pk=claim.pk).status == choices.ClaimStatus.FULFILLED
    # The ledger counts the owner's unit corrected.
    staff.goto(f"{live_server.url}{reverse('incidents:ledger', args=[recall.incident.uuid])}")
    row = staff.get_by_role("row").filter(has_text=claim.party.name)
    assert row.locator("[data-label=Corrected]").inner_text().strip() == str(claim.units)
    entry = LedgerEntry.objects.get(incident=recall.incident, party=claim.party)
    assert entry.units_corrected == claim.units
    staff.close()

    page.reload()
    page.get_by_text("Your replacement is on its way").wait_for()
    page.get_by_text("1Z999AA10123456784").wait_for()
    shoot(page, "claim-status-shipped-phone")
    assert axe_problems(page) == []

    # Another owner asks for a refund: payout details, never a card number.
    page.goto(f"{live_server.url}{recall.link(recall.ben)}?offer={recall.refund.uuid}")
    page.get_by_role("heading", name="Full refund").wait_for()
    page.get_by_label("Bank transfer").check()
    shoot(page, "claim-refund-phone")
    assert axe_problems(page) == []
