"""Claims: what is refused, what is flagged for review, decisions, fulfilment and the units
counted corrected in the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from recalldesk.incidents.models import LedgerEntry
from recalldesk.incidents.tests import builders as b
from recalldesk.outreach.tests.conftest import body_text
from recalldesk.registry.models import Holding, Party
from recalldesk.remedies import actions, choices
from recalldesk.remedies.models import Claim, ClaimEvent, PriorityRule
from recalldesk.remedies.tests import builders as rb

pytestmark = pytest.mark.django_db

ROSA = {"name": "Rosa", "email": "rosa@example.com", "country": "US"}


def refused(incident, party, request) -> dict[str, list[str]]:
    before = Claim.objects.count()
    with pytest.raises(ValidationError) as caught:
        actions.do_submit_claim(incident, party, request)
    assert Claim.objects.count() == before, "a refused claim stored nothing"
    return caught.value.message_dict


@pytest.fixture
def recall(coordinator):
    incident = rb.recall(
        coordinator,
        [
            {**ROSA, "units": [{"lot": "L1230", "quantity": 2}]},
            {"name": "Sam", "email": "sam@example.com", "units": [{"serial": "NH-1500"}]},
        ],
    )
    return incident


def test_a_claim_is_stored_with_its_units_amount_and_history(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    refund = rb.offer(coordinator, recall, "refund")
    claim = rb.claim(recall, rosa, refund, payout_method="paypal", payout_reference="rosa@pp.me")
    assert claim.status == choices.ClaimStatus.SUBMITTED
    assert claim.units == 2
    assert claim.amount == Decimal("99.80") and claim.currency == "EUR"
    assert [u.quantity for u in claim.claim_units.all()] == [2]
    assert list(claim.events.values_list("kind", flat=True)) == ["submitted"]
    assert claim.flags == []
    assert len(claim.number) == 9 and claim.number[4] == "-"


def test_a_claim_counts_as_the_partys_answer_to_the_notice(recall, coordinator):
    from recalldesk.outreach.models import Acknowledgement

    rosa = Party.objects.get(name="Rosa")
    rb.claim(recall, rosa, rb.offer(coordinator, recall))
    answer = Acknowledgement.objects.get(incident=recall, party=rosa)
    assert answer.kind == "want_remedy"


def test_it_refuses_a_unit_that_is_not_affected(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    spare = b.holding(rosa, recall.scope.products.first(), lot="L7777")
    replacement = rb.offer(coordinator, recall)
    errors = refused(recall, rosa, rb.request(replacement, rosa, recall, units={spare.pk: 1}))
    assert "not affected" in errors["units"][0]


def test_it_refuses_someone_elses_unit(recall, coordinator):
    rosa, sam = Party.objects.get(name="Rosa"), Party.objects.get(name="Sam")
    replacement = rb.offer(coordinator, recall)
    sams = Holding.objects.get(party=sam)
    errors = refused(recall, rosa, rb.request(replacement, rosa, recall, units={sams.pk: 1}))
    assert "not affected" in errors["units"][0]


def test_it_refuses_more_units_than_held(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall)
    held = Holding.objects.get(party=rosa)
    errors = refused(recall, rosa, rb.request(replacement, rosa, recall, units={held.pk: 3}))
    assert "asked for 3 units but hold 2" in errors["units"][0]


def test_it_refuses_a_second_claim_for_the_same_serial(recall, coordinator):
    sam = Party.objects.get(name="Sam")
    replacement = rb.offer(coordinator, recall)
    first = rb.claim(recall, sam, replacement)
    held = Holding.objects.get(party=sam)
    errors = refused(recall, sam, rb.request(replacement, sam, recall, units={held.pk: 1}))
    assert f"already claimed this unit (claim {first.number})" in errors["units"][0]


def test_a_rejected_claim_frees_its_units_for_a_new_claim(recall, coordinator):
    sam = Party.objects.get(name="Sam")
    replacement = rb.offer(coordinator, recall)
    first = rb.claim(recall, sam, replacement)
    actions.do_decide(coordinator, [first], "rejected", "Photo unreadable")
    assert rb.claim(recall, sam, replacement).units == 1


def test_it_refuses_a_replacement_without_an_address(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall)
    errors = refused(recall, rosa, rb.request(replacement, rosa, recall, address_line1="  "))
    assert "street address" in errors["address_line1"][0]


def test_it_refuses_a_card_number_as_payout_reference(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    refund = rb.offer(coordinator, recall, "refund")
    errors = refused(
        recall,
        rosa,
        rb.request(
            refund, rosa, recall, payout_method="bank", payout_reference="4111 1111 1111 1111"
        ),
    )
    assert "Never give a card number" in errors["payout_reference"][0]


def test_it_refuses_a_refund_without_a_payout_method(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    refund = rb.offer(coordinator, recall, "refund")
    errors = refused(recall, rosa, rb.request(refund, rosa, recall))
    assert "how we pay" in errors["payout_method"][0]


def test_it_refuses_a_claim_without_the_evidence_the_offer_asks_for(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall, evidence_required=True)
    errors = refused(recall, rosa, rb.request(replacement, rosa, recall))
    assert "photo" in errors["evidence"][0]
    photo = SimpleUploadedFile("label.png", b"\x89PNG fake", content_type="image/png")
    assert rb.claim(recall, rosa, replacement, evidence=photo).evidence.name


def test_it_refuses_an_offer_of_another_incident_or_switched_off(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    elsewhere = rb.recall(coordinator, [{"name": "Ann"}])
    foreign = rb.offer(coordinator, elsewhere)
    errors = refused(recall, rosa, rb.request(foreign, rosa, recall))
    assert "not offered for this recall" in errors["offer"][0]


def test_a_serial_claimed_by_another_party_is_flagged_for_review(recall, coordinator):
    sam, rosa = Party.objects.get(name="Sam"), Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall)
    first = rb.claim(recall, sam, replacement)
    second = rb.claim(recall, rosa, replacement, serial_seen="nh-1500")
    assert [f["code"] for f in second.flags] == ["serial_claimed"]
    assert first.number in second.flags[0]["text"]
    flagged = second.events.get(kind="flagged")
    assert not flagged.public and first.number in flagged.reason


def test_a_serial_outside_the_scope_is_flagged(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall)
    claim = rb.claim(recall, rosa, replacement, serial_seen="NH-2500")
    assert [f["code"] for f in claim.flags] == ["serial_out_of_scope"]
    assert "NH-2500" in claim.flag_texts[0]


def test_many_claims_from_one_email_are_flagged(recall, coordinator, settings):
    settings.CLAIM_VELOCITY_LIMIT = 2
    replacement = rb.offer(coordinator, recall)
    claims = []
    for n in range(3):
        owner = b.party(f"Twin {n}", email="same@example.com")
        held = b.holding(owner, recall.scope.products.first(), serial=f"NH-{1100 + n}")
        rb.rematch(coordinator, recall)
        claims.append(rb.claim(recall, owner, replacement, units={held.pk: 1}))
    assert [bool(c.flags) for c in claims] == [False, False, True]
    assert claims[2].flags[0]["code"] == "velocity"
    assert "3 claims from this email or address" in claims[2].flags[0]["text"]


def test_priority_rules_put_riskier_units_first(recall, coordinator):
    PriorityRule.objects.create(incident=recall, name="Hot region", points=50, regions=["AZ"])
    rosa = Party.objects.get(name="Rosa")
    Holding.objects.filter(party=rosa).update(region="AZ")
    replacement = rb.offer(coordinator, recall)
    assert rb.claim(recall, rosa, replacement).priority == 50
    sam = Party.objects.get(name="Sam")
    assert rb.claim(recall, sam, replacement).priority == 0


def test_bulk_decisions_apply_to_all_or_none(recall, coordinator):
    rosa, sam = Party.objects.get(name="Rosa"), Party.objects.get(name="Sam")
    replacement = rb.offer(coordinator, recall)
    one, two = rb.claim(recall, rosa, replacement), rb.claim(recall, sam, replacement)
    actions.do_decide(coordinator, [one], "approved")
    with pytest.raises(ValidationError, match="only a submitted claim can be approved"):
        actions.do_decide(coordinator, [two, one], "approved")
    assert Claim.objects.get(pk=two.pk).status == "submitted"
    with pytest.raises(ValidationError, match="Say why"):
        actions.do_decide(coordinator, [two], "rejected", " ")
    actions.do_decide(coordinator, [two], "rejected", "Not our product")
    event = two.events.get(kind="rejected")
    assert (event.actor, event.old_status, event.new_status, event.reason) == (
        coordinator,
        "submitted",
        "rejected",
        "Not our product",
    )


def test_deciding_and_fulfilling_need_their_permissions(recall, coordinator, analyst):
    rosa = Party.objects.get(name="Rosa")
    claim = rb.claim(recall, rosa, rb.offer(coordinator, recall))
    with pytest.raises(PermissionDenied):
        actions.do_decide(analyst, [claim], "approved")
    actions.do_decide(coordinator, [claim], "approved")
    with pytest.raises(PermissionDenied):
        actions.do_record_step(analyst, claim, "shipped", {"carrier": "UPS", "tracking": "1Z"})


def test_shipping_a_replacement_fulfils_it_and_counts_the_units_corrected(recall, coordinator):
    rosa = Party.objects.get(name="Rosa")
    claim = rb.claim(recall, rosa, rb.offer(coordinator, recall))
    with pytest.raises(ValidationError, match="only an approved claim"):
        actions.do_record_step(coordinator, claim, "shipped", {"carrier": "UPS", "tracking": "1Z"})
    actions.do_decide(coordinator, [claim], "approved")
    with pytest.raises(ValidationError) as missing:
        actions.do_record_step(coordinator, claim, "shipped", {"carrier": "UPS"})
    assert "tracking" in missing.value.message_dict
    actions.do_record_step(coordinator, claim, "shipped", {"carrier": "UPS", "tracking": "1Z999"})
    claim.refresh_from_db()
    assert claim.status == "fulfilled" and claim.fulfilled_at and claim.corrected_at
    entry = LedgerEntry.objects.get(incident=recall, party=rosa)
    assert entry.units_corrected == 2 and entry.corrected_at
    # The returned unit's disposition does not count the same units twice.
    proof = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4", content_type="application/pdf")
    actions.do_record_step(coordinator, claim, "destroyed", {"note": "crushed"}, proof)
    entry.refresh_from_db()
    assert entry.units_corrected == 2
    shipped = claim.events.get(step="shipped")
    assert (shipped.carrier, shipped.tracking, shipped.new_status) == ("UPS", "1Z999", "fulfilled")


def test_a_repair_is_booked_before_it_is_done(recall, coordinator):
    sam = Party.objects.get(name="Sam")
    claim = rb.claim(recall, sam, rb.offer(coordinator, recall, "repair_visit"))
    actions.do_decide(coordinator, [claim], "approved")
    with pytest.raises(ValidationError, match="Repair booked"):
        actions.do_record_step(coordinator, claim, "repair_done", {})
    with pytest.raises(ValidationError, match="not a step of a repair"):
        actions.do_record_step(coordinator, claim, "refund_paid", {"reference": "X"})
    from django.utils import timezone

    actions.do_record_step(coordinator, claim, "repair_booked", {"appointment": timezone.now()})
    assert Claim.objects.get(pk=claim.pk).status == "approved"
    actions.do_record_step(coordinator, claim, "repair_done", {})
    assert Claim.objects.get(pk=claim.pk).status == "fulfilled"


def test_a_disposition_alone_counts_the_units_corrected(recall, coordinator):
    sam = Party.objects.get(name="Sam")
    claim = rb.claim(recall, sam, rb.offer(coordinator, recall, "refund"), payout_method="cheque")
    actions.do_decide(coordinator, [claim], "approved")
    with pytest.raises(ValidationError, match="Attach the proof"):
        actions.do_record_step(coordinator, claim, "returned", {})
    assert LedgerEntry.objects.get(incident=recall, party=sam).units_corrected == 0
    receipt = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4", content_type="application/pdf")
    actions.do_record_step(coordinator, claim, "returned", {}, receipt)
    assert LedgerEntry.objects.get(incident=recall, party=sam).units_corrected == 1
    assert Claim.objects.get(pk=claim.pk).status == "approved"


def test_completion_counts_units_and_parties_corrected(recall, coordinator):
    rosa, sam = Party.objects.get(name="Rosa"), Party.objects.get(name="Sam")
    replacement = rb.offer(coordinator, recall)
    claim = rb.claim(recall, sam, replacement)
    actions.do_decide(coordinator, [claim], "approved")
    actions.do_record_step(coordinator, claim, "shipped", {"carrier": "DHL", "tracking": "JD1"})
    done = actions.completion(recall)
    assert (done.units, done.units_corrected, done.parties, done.parties_completed) == (3, 1, 2, 1)
    assert done.unit_rate == pytest.approx(1 / 3) and done.party_rate == 0.5
    assert done.trend[-1][1] == 1 and len(done.trend) == 8
    rb.claim(recall, rosa, replacement)
    assert actions.completion(recall).units_corrected == 1


def test_a_rematch_keeps_the_units_corrected(recall, coordinator):
    sam = Party.objects.get(name="Sam")
    claim = rb.claim(recall, sam, rb.offer(coordinator, recall))
    actions.do_decide(coordinator, [claim], "approved")
    actions.do_record_step(coordinator, claim, "shipped", {"carrier": "DHL", "tracking": "JD1"})
    b.holding(b.party("New owner"), recall.scope.products.first(), lot="L1230")
    rb.rematch(coordinator, recall)
    assert LedgerEntry.objects.get(incident=recall, party=sam).units_corrected == 1
    assert LedgerEntry.objects.filter(incident=recall).count() == 3


def test_every_public_change_is_sent_to_the_claimant(
    recall, coordinator, smtp_server, django_capture_on_commit_callbacks
):
    rosa = Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall)
    with django_capture_on_commit_callbacks(execute=True):
        claim = rb.claim(recall, rosa, replacement)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_decide(coordinator, [claim], "approved")
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_record_step(
            coordinator, claim, "shipped", {"carrier": "UPS", "tracking": "1Z42"}
        )
    mails = smtp_server.to("rosa@example.com")
    assert len(mails) == 3
    assert all(claim.number in m["Subject"] for m in mails)
    text = body_text(mails[-1])
    assert "UPS" in text and "1Z42" in text and claim.status_url() in text
    assert "Expected by" in body_text(mails[0])
    sent = ClaimEvent.objects.filter(claim=claim, notice_sent_at__isnull=False)
    assert sent.count() == 3 and set(sent.values_list("notice_channel", flat=True)) == {"email"}


def test_an_offer_with_claims_goes_only_with_its_incident(recall, coordinator):
    from django.db.models import RestrictedError

    rosa = Party.objects.get(name="Rosa")
    replacement = rb.offer(coordinator, recall)
    rb.claim(recall, rosa, replacement)
    with pytest.raises(RestrictedError):
        replacement.delete()
    recall.delete()
    assert not Claim.objects.exists()
