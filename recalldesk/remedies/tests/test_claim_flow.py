"""The claimant's side: claim a remedy from a notice link or after registering on the crisis
site, every refusal with its message and nothing stored, and the status page behind a claim
number with a second factor."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from recalldesk.incidents.models import LedgerEntry
from recalldesk.outreach.rendering import ack_token
from recalldesk.outreach.tests.conftest import body_text
from recalldesk.public.tests.builders import published_recall
from recalldesk.registry.models import Party
from recalldesk.remedies import actions, choices
from recalldesk.remedies.models import CapacityWeek, Claim, ClaimEvent, Offer, monday
from recalldesk.remedies.public_forms import unit_key
from recalldesk.remedies.tests.conftest import Recall, add_offers, photo, png_bytes

pytestmark = pytest.mark.django_db


def claim_data(recall: Recall, offer: Offer | None = None, **overrides: Any) -> dict[str, Any]:
    """What Ann posts for one unit of her affected heater, her address and a photo."""
    data: dict[str, Any] = {
        "offer": str((offer or recall.replacement).uuid),
        f"units-{unit_key(recall.ann_heater.pk)}": "1",
        "email": "ann@example.com",
        "phone": "",
        "ship_name": "Ann Owner",
        "address_line1": "1 Elm Street",
        "city": "Springfield",
        "postcode": "62704",
        "country": "US",
        "serial_seen": "",
        "evidence": photo(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(client: Any, recall: Recall, **overrides: Any) -> Any:
    return client.post(recall.link(), claim_data(recall, **overrides))


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the notice link ---------------------------------------------------------------------


def test_the_notice_link_shows_the_affected_units_and_each_offer_with_its_date(client, recall):
    page = text_of(client.get(recall.link()))
    assert "Hello Ann Owner" in page
    assert "Northwind fan heater" in page and "L1230" in page and "SN-1001" in page
    assert "Units you can claim for: 1" in page
    # The unit out of scope is not offered for a claim.
    assert "SN-9001" not in page
    assert "Free replacement heater" in page and "Full refund" in page
    assert f'value="{recall.replacement.uuid}"' in page
    assert "If you claim today: expected by" in page
    # No sequential id of a holding or an offer in the page.
    assert f'value="{recall.replacement.pk}"' not in page
    assert f"units-{recall.ann_heater.pk}" not in page


def test_the_details_step_is_prefilled_from_the_owner(client, recall):
    page = text_of(client.get(recall.link(), {"offer": str(recall.replacement.uuid)}))
    assert 'value="1 Elm Street"' in page and 'value="62704"' in page
    assert 'value="ann@example.com"' in page
    assert f'name="units-{unit_key(recall.ann_heater.pk)}" value="1"' in page
    assert "Photo of the label or serial number" in page
    assert 'accept="image/jpeg,image/png,image/webp' in page
    assert "Serial number as printed on your unit" in page


def test_an_owner_claims_a_replacement_from_the_notice_link_and_is_told_by_email(
    client, recall, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, recall, serial_seen="sn-1001")
    assert response.status_code == 200
    claim = Claim.objects.get()
    page = text_of(response)
    assert "We have your claim" in page and claim.number in page
    assert "What happens next" in page and "tracking number" in page
    assert "We check your claim and tell you when it is approved." in page
    assert "Expected by" in page and claim.promised_on is not None
    assert claim.promised_on.strftime("%-d %B %Y") in page
    assert claim.status_url() in page
    assert claim.party == recall.ann and claim.offer == recall.replacement
    assert claim.source == choices.ClaimSource.NOTICE and claim.language == "en"
    assert claim.units == 1 and claim.serial_seen == "SN-1001"
    assert (claim.address_line1, claim.postcode, claim.country) == ("1 Elm Street", "62704", "US")
    assert str(claim.evidence.name).startswith("claims/") and claim.evidence.size > 0
    assert str(claim.evidence.name).endswith(".png") and "label" not in str(claim.evidence.name)
    assert list(claim.claim_units.values_list("holding_id", "quantity")) == [
        (recall.ann_heater.pk, 1)
    ]
    [mail] = smtp_server.to("ann@example.com")
    assert claim.number in mail["Subject"]
    text = body_text(mail)
    assert claim.number in text and "Free replacement heater" in text
    assert claim.status_url() in text
    event = ClaimEvent.objects.get(claim=claim, kind=choices.EventKind.SUBMITTED)
    assert event.notice_channel == "email" and event.notice_sent_at is not None


def test_a_refund_asks_for_payout_details_and_refuses_a_card_number(client, recall):
    offer = recall.refund
    page = text_of(client.get(recall.link(), {"offer": str(offer.uuid)}))
    assert "How should we pay you?" in page and "Never a card number" in page
    assert "Photo of the label" not in page
    refused = client.post(
        recall.link(),
        claim_data(
            recall,
            offer,
            evidence=None,
            payout_method="bank",
            payout_reference="4111 1111 1111 1111",
        ),
    )
    assert refused.status_code == 400
    assert "Never give a card number here" in text_of(refused)
    no_method = client.post(recall.link(), claim_data(recall, offer, evidence=None))
    assert "Choose how we pay your refund." in text_of(no_method)
    assert 'href="#id_payout_method_0"' in text_of(no_method)
    assert not Claim.objects.exists()
    client.post(
        recall.link(),
        claim_data(
            recall, offer, evidence=None, payout_method="bank", payout_reference="A. Owner ••1234"
        ),
    )
    claim = Claim.objects.get()
    assert claim.payout_method == "bank" and claim.payout_reference == "A. Owner ••1234"
    assert str(claim.amount) == "49.90" and claim.currency == "USD"


def test_an_owner_who_registered_on_the_crisis_site_claims_with_their_new_link(
    client, coordinator, approver
):
    incident = published_recall(coordinator, approver, parties=[])
    product = incident.scope.products.get()
    replacement, _refund = add_offers(coordinator, incident, product)
    registered = client.post(
        f"/status/{incident.public.slug}/register/",
        {
            "name": "Zoe New",
            "email": "zoe@example.com",
            "country": "US",
            "postcode": "10001",
            "product": product.pk,
            "lot": "L1230",
            "serial": "SN-5001",
            "quantity": 1,
        },
    )
    assert b"Your unit is affected" in registered.content
    zoe = Party.objects.get(name="Zoe New")
    assert LedgerEntry.objects.filter(incident=incident, party=zoe).exists()
    link = f"/claim/{ack_token(incident.uuid, zoe.uuid)}/"
    assert f'href="{link}"'.encode() in registered.content, "the thank-you page links to it"
    page = text_of(client.get(link))
    assert "Hello Zoe New" in page and "SN-5001" in page and "Free replacement heater" in page
    holding = zoe.holdings.get()
    response = client.post(
        link,
        {
            "offer": str(replacement.uuid),
            f"units-{unit_key(holding.pk)}": "1",
            "email": "zoe@example.com",
            "ship_name": "Zoe New",
            "address_line1": "5 Pine Avenue",
            "city": "New York",
            "postcode": "10001",
            "country": "US",
            "evidence": photo(),
        },
    )
    claim = Claim.objects.get()
    assert claim.number in text_of(response)
    assert claim.party == zoe and claim.source == choices.ClaimSource.REGISTRATION


def test_the_registration_page_links_straight_to_the_claim_when_given_the_link():
    page = render_to_string(
        "public/registered.html", {"affected": True, "claim_url": "/claim/abc/"}
    )
    assert 'href="/claim/abc/"' in page and "Claim your remedy" in page
    without = render_to_string("public/registered.html", {"affected": True})
    assert "/claim/" not in without


def test_the_acknowledgement_page_links_a_consumer_to_the_claim(client, recall):
    token = recall.token()
    page = client.get(f"/a/{token}/").content.decode()
    assert f'href="/claim/{token}/"' in page and "Claim your remedy" in page
    done = client.post(f"/a/{token}/", {"kind": "want_remedy"}).content.decode()
    assert f'href="/claim/{token}/"' in done


def test_the_claim_page_speaks_the_owners_language(client, recall):
    Party.objects.filter(pk=recall.ann.pk).update(language="de")
    page = client.get(recall.link()).content.decode()
    assert '<html lang="de">' in page
    client.post(recall.link(), claim_data(recall))
    assert Claim.objects.get().language == "de"


# --- bad input: each refused with its message, nothing stored ----------------------------


def test_a_forged_link_is_refused_and_says_what_is_wrong(client, recall):
    token = recall.token()
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = client.get(f"/claim/{forged}/")
    assert response.status_code == 400
    page = text_of(response)
    assert "This link is not valid" in page and "copy it in full" in page
    posted = client.post(f"/claim/{forged}/", claim_data(recall))
    assert posted.status_code == 400
    assert not Claim.objects.exists()


def test_an_expired_link_says_to_ask_for_a_new_one(client, recall, settings):
    settings.ACK_LINK_MAX_AGE_DAYS = 30
    issued = int(time.time() // 60) - 31 * 1440
    token = ack_token(recall.incident.uuid, recall.ann.uuid, issued=issued)
    response = client.get(f"/claim/{token}/")
    assert response.status_code == 410
    page = text_of(response)
    assert "This link has expired" in page and "Ask us for a new link" in page
    assert "call the phone number in the notice" in page
    client.post(f"/claim/{token}/", claim_data(recall))
    assert not Claim.objects.exists()


def test_a_unit_that_is_not_affected_is_refused(client, recall):
    response = submit(
        client,
        recall,
        **{
            f"units-{unit_key(recall.ann_heater.pk)}": "0",
            f"units-{unit_key(recall.ann_old_heater.pk)}": "1",
        },
    )
    assert response.status_code == 400
    assert "One of the units is not affected by this recall." in text_of(response)
    assert not Claim.objects.exists()


def test_a_unit_of_someone_else_is_refused(client, recall):
    response = submit(client, recall, **{f"units-{unit_key(recall.ben_heater.pk)}": "1"})
    assert response.status_code == 400
    assert "One of the units is not affected by this recall." in text_of(response)
    assert not Claim.objects.exists()


def test_more_units_than_held_or_none_at_all_are_refused(client, recall):
    key = f"units-{unit_key(recall.ann_heater.pk)}"
    too_many = text_of(submit(client, recall, **{key: "3"}))
    assert "You asked for 3 units but hold 1 more that can be claimed." in too_many
    none = text_of(submit(client, recall, **{key: "0"}))
    assert "Choose at least one unit to claim for." in none
    assert not Claim.objects.exists()


def test_an_upload_that_is_not_an_image_is_refused(client, recall):
    fake = photo("label.png", b"%PDF-1.4 this is not a picture")
    response = submit(client, recall, evidence=fake)
    assert response.status_code == 400
    page = text_of(response)
    assert "Photo of the label: this file is not a photo we can open." in page
    assert "JPEG, PNG, WEBP" in page
    assert not Claim.objects.exists()


def test_a_real_picture_of_a_type_we_do_not_take_is_refused(client, recall):
    import io

    from PIL import Image

    gif = io.BytesIO()
    Image.new("RGB", (20, 20)).save(gif, format="GIF")
    response = submit(client, recall, evidence=photo("label.gif", gif.getvalue()))
    assert "Photo of the label: this file is not a photo we can open." in text_of(response)
    assert not Claim.objects.exists()


def test_an_upload_too_large_is_refused(client, recall, settings):
    settings.CLAIM_EVIDENCE_MAX_BYTES = 20_000
    big = png_bytes((120, 120), noise=True)
    assert len(big) > 20_000
    response = submit(client, recall, evidence=photo("label.png", big))
    assert response.status_code == 400
    page = text_of(response)
    assert "Photo of the label: this file is" in page and "or less" in page
    assert not Claim.objects.exists()


def test_a_missing_photo_is_asked_for_when_the_offer_needs_one(client, recall):
    response = submit(client, recall, evidence=None)
    assert "This remedy needs a photo of the label or serial number." in text_of(response)
    assert not Claim.objects.exists()


def test_a_second_claim_for_the_same_unit_is_refused_with_the_first_claim_number(client, recall):
    submit(client, recall, serial_seen="SN-1001")
    first = Claim.objects.get()
    again = submit(client, recall, serial_seen="SN-1001")
    assert again.status_code == 400
    assert f"You have already claimed this unit (claim {first.number})." in text_of(again)
    assert Claim.objects.count() == 1
    page = text_of(client.get(recall.link()))
    assert f"Already claimed: 1 (claim {first.number})" in page
    assert "You have claimed for all your affected units." in page


def test_a_replacement_without_an_address_is_refused(client, recall):
    response = submit(client, recall, address_line1="", postcode="", ship_name="")
    assert response.status_code == 400
    page = text_of(response)
    assert "Give the street address: we need it to send your free replacement heater." in page
    assert "Give the postcode" in page and "Give the name to deliver to" in page
    assert 'aria-invalid="true"' in page
    assert not Claim.objects.exists()


def test_a_claim_without_email_or_phone_is_refused(client, recall):
    response = submit(client, recall, email="")
    assert "Give an email address or a mobile number" in text_of(response)
    assert not Claim.objects.exists()


def test_a_remedy_no_longer_offered_sends_the_owner_back_to_the_choice(client, recall):
    Offer.objects.filter(pk=recall.refund.pk).update(active=False)
    response = client.get(recall.link(), {"offer": str(recall.refund.uuid)})
    page = text_of(response)
    assert "Choose one of the remedies below." in page and "Full refund" not in page
    posted = client.post(recall.link(), claim_data(recall, recall.refund, evidence=None))
    assert posted.status_code == 400
    assert not Claim.objects.exists()


def test_claim_posts_are_rate_limited(client, recall, settings):
    settings.PUBLIC_FORM_RATE = "2/m"
    codes = [submit(client, recall, email="").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


# --- the status page ---------------------------------------------------------------------


@pytest.fixture
def claim(recall: Recall) -> Claim:
    return actions.do_submit_claim(
        recall.incident,
        recall.ann,
        actions.ClaimRequest(
            offer=recall.replacement,
            units={recall.ann_heater.pk: 1},
            source=choices.ClaimSource.NOTICE,
            email="Ann@Example.com",
            ship_name="Ann Owner",
            address_line1="1 Elm Street",
            city="Springfield",
            postcode="sw1a 1aa",
            country="US",
            evidence=photo(),
        ),
    )


def test_the_claim_number_and_email_open_the_status_page(client, claim):
    number = claim.number.replace("-", "").lower()
    response = client.post("/claims/status/", {"number": number, "second": "ann@EXAMPLE.com "})
    assert response.status_code == 302
    assert response["Location"] == f"/claims/{claim.number}/{claim.secret}/"
    page = text_of(client.get(response["Location"]))
    assert f"Claim {claim.number}" in page and "Received, being checked" in page
    assert "Free replacement heater" in page and "SN-1001" in page
    assert "We received your claim" in page
    assert "Your place in the queue: 1." in page and "Expected by" in page


def test_the_claim_number_and_postcode_open_the_status_page(client, claim):
    response = client.post("/claims/status/", {"number": claim.number, "second": "SW1A1AA"})
    assert response["Location"] == f"/claims/{claim.number}/{claim.secret}/"


def test_a_wrong_second_factor_says_only_that_no_claim_matched(client, claim):
    message = "We found no claim with that number and email or postcode."
    for number, second in [
        (claim.number, "someone@example.com"),
        (claim.number, "90210"),
        ("ZZZZ-ZZZZ", "ann@example.com"),
        (claim.number, ""),
    ]:
        response = client.post("/claims/status/", {"number": number, "second": second})
        assert response.status_code == 400
        page = text_of(response)
        if second:
            assert message in page
        assert claim.secret not in page


def test_a_wrong_secret_finds_no_claim(client, claim):
    response = client.get(f"/claims/{claim.number}/{'0' * 20}/")
    assert response.status_code == 404
    assert "We cannot find this claim" in text_of(response)
    assert client.get(f"/claims/ZZZZ-ZZZZ/{claim.secret}/").status_code == 404


def test_status_lookups_are_rate_limited(client, claim, settings):
    settings.PUBLIC_FORM_RATE = "2/m"
    codes = [
        client.post(
            "/claims/status/", {"number": claim.number, "second": "x@example.com"}
        ).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]


def test_the_status_page_shows_each_public_step_and_never_the_internal_flags(
    client, recall, claim, coordinator, agent
):
    # Ben claims with a serial Ann's claim covers: his claim is flagged for staff.
    flagged = actions.do_submit_claim(
        recall.incident,
        recall.ben,
        actions.ClaimRequest(
            offer=recall.replacement,
            units={recall.ben_heater.pk: 1},
            source=choices.ClaimSource.NOTICE,
            email="ben@example.com",
            ship_name="Ben Owner",
            address_line1="9 Oak Road",
            city="Dayton",
            postcode="45402",
            country="US",
            serial_seen="SN-1001",
            evidence=photo(),
        ),
    )
    assert flagged.flags
    actions.do_decide(agent, [flagged], choices.ClaimStatus.APPROVED)
    actions.do_record_step(
        agent,
        flagged,
        choices.Step.SHIPPED,
        {"carrier": "UPS", "tracking": "1Z999AA10123456784", "note": "checked by Kim"},
    )
    page = text_of(client.get(f"/claims/{flagged.number}/{flagged.secret}/"))
    assert "We received your claim" in page and "Your claim is approved" in page
    assert "Your replacement is on its way" in page
    assert "UPS" in page and "1Z999AA10123456784" in page
    assert "Completed on" in page and "Done" in page
    assert "Flagged" not in page and "also claimed" not in page
    assert agent.username not in page and "checked by Kim" not in page
    assert "Your place in the queue" not in page


def test_a_rejected_claim_shows_why(client, claim, agent):
    actions.do_decide(agent, [claim], choices.ClaimStatus.REJECTED, "The photo shows lot L1299.")
    page = text_of(client.get(f"/claims/{claim.number}/{claim.secret}/"))
    assert "Not approved" in page and "We could not approve your claim." in page
    assert "Why: The photo shows lot L1299." in page


def test_the_status_page_says_honestly_when_the_date_moved(client, recall, claim):
    promised = claim.promised_on
    assert promised is not None
    page = text_of(client.get(f"/claims/{claim.number}/{claim.secret}/"))
    assert "later than" not in page
    # The warehouse ships nothing this week: the estimate moves a week on.
    CapacityWeek.objects.create(
        offer=recall.replacement, week_start=monday(timezone.localdate()), units=0
    )
    page = text_of(client.get(f"/claims/{claim.number}/{claim.secret}/"))
    later = (promised + dt.timedelta(days=7)).strftime("%-d %B %Y")
    assert f"Expected by {later}." in page
    assert f"This is later than the {promised.strftime('%-d %B %Y')} we first told you" in page
