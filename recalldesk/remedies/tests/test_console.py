"""The remedies console: offers and the EU rule, capacity and priority, service credits, the
claim queue and its bulk decisions, a claim's decision and fulfilment, completion in the
ledger, and who may do what."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from recalldesk.audit.models import ChangeRecord
from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.incidents.tests import builders as b
from recalldesk.incidents.tests.test_browser import PHONE, browser, log_in, shoot
from recalldesk.public.tests.test_browser import axe_problems
from recalldesk.registry.models import Party
from recalldesk.remedies import actions
from recalldesk.remedies.models import (
    CapacityWeek,
    Claim,
    ClaimEvent,
    Offer,
    PriorityRule,
    ServiceCredit,
    monday,
)
from recalldesk.remedies.tests import builders as rb

pytestmark = pytest.mark.django_db
__all__ = ["browser"]
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def png(name: str = "label.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (180, 30, 30)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), "image/png")


def pdf(name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% destruction certificate\n", "application/pdf")


@pytest.fixture
def heaters(coordinator: Any) -> Incident:
    """A heater recall with three owners in the ledger (one unit each, serials in scope)."""
    return rb.recall(
        coordinator,
        [
            {"name": "Rosa", "email": "rosa@example.com", "units": [{"lot": "L1230"}]},
            {"name": "Sam", "email": "sam@example.com", "units": [{"lot": "L1230"}]},
            {"name": "Tess", "email": "tess@example.com", "units": [{"lot": "L1230"}]},
        ],
    )


def party(name: str) -> Party:
    return Party.objects.get(name=name)


def claim_for(incident: Incident, offer: Offer, name: str, **fields: Any) -> Claim:
    return rb.claim(incident, party(name), offer, **fields)


def url(name: str, *args: Any) -> str:
    return reverse(f"remedies:{name}", args=[str(a) for a in args])


def offer_data(**fields: Any) -> dict[str, Any]:
    data = {
        "kind": "replacement",
        "title": "Free replacement",
        "description": "",
        "at_no_cost": "on",
        "active": "on",
        "replacement_product": "NH-2000",
        "amount": "",
        "currency": "",
        "warranty_months": "",
        "audience": "consumer",
        "countries": "",
        "regions": "",
        "lots": "",
        "weekly_capacity": "100",
        "lead_days": "3",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# --- the Remedies tab and offers -------------------------------------------------------


def test_the_remedies_tab_shows_each_offer_with_its_queue_and_the_date_for_a_new_claim(
    client, coordinator, heaters
):
    replacement = rb.offer(coordinator, heaters, "replacement", weekly_capacity=2, lead_days=3)
    for name in ("Rosa", "Sam", "Tess"):
        claim_for(heaters, replacement, name)
    client.force_login(coordinator)

    response = client.get(url("home", heaters.uuid))

    assert response.status_code == 200
    row = response.context["rows"][0]
    assert row["offer"] == replacement
    assert row["queue"]["waiting"] == 3
    # Two a week: the third claim waits for next week, a fourth one too.
    this_monday = monday(timezone.localdate())
    expected = this_monday + dt.timedelta(days=13 + 3)
    assert row["queue"]["next_estimate"] == expected
    page = response.content.decode()
    assert expected.strftime("%-d %b %Y") in page
    assert "EU rule met" in page


def test_the_eu_rule_line_names_the_countries_without_a_free_remedy(client, coordinator):
    incident = rb.recall(coordinator, [{"name": "Hans", "country": "DE"}])
    client.force_login(coordinator)

    page = client.get(url("home", incident.uuid)).content.decode()

    assert "EU rule not met" in page and "owners in DE" in page


def test_an_offer_is_added_from_the_form_and_recorded_on_the_incident(client, coordinator, heaters):
    client.force_login(coordinator)

    response = client.post(
        url("offer_new", heaters.uuid), offer_data(countries="us, ca", lots="L1230")
    )

    assert response.status_code == 302
    offer = Offer.objects.get(incident=heaters)
    assert offer.kind == "replacement" and offer.replacement_product is not None
    assert offer.countries == ["US", "CA"] and offer.lots == ["L1230"]
    assert ChangeRecord.for_object(heaters).filter(note="offer added").exists()


def test_the_offer_form_names_what_each_kind_is_missing(client, coordinator, heaters):
    client.force_login(coordinator)

    response = client.post(url("offer_new", heaters.uuid), offer_data(replacement_product=""))
    assert response.context["form"].errors["replacement_product"] == [
        "Say which product replaces the affected one."
    ]
    response = client.post(
        url("offer_new", heaters.uuid), offer_data(kind="voucher", title="Voucher")
    )
    errors = response.context["form"].errors
    assert errors["amount"] == ["Give the voucher's value."]
    assert errors["currency"] == ["Give the currency (three letters, e.g. EUR)."]
    response = client.post(url("offer_new", heaters.uuid), offer_data(replacement_product="NOPE-1"))
    assert (
        "No product with GTIN or SKU “NOPE-1”"
        in response.context["form"].errors["replacement_product"][0]
    )
    assert not Offer.objects.exists()


def test_the_offer_form_refuses_an_offer_that_breaks_the_eu_rule(client, coordinator):
    incident = rb.recall(coordinator, [{"name": "Hans", "country": "DE"}])
    client.force_login(coordinator)

    response = client.post(
        url("offer_new", incident.uuid),
        offer_data(kind="voucher", title="Voucher", amount="20", currency="eur"),
    )

    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith("EU rule: owners in DE must be offered")
    assert "EU rule: owners in DE" in response.content.decode()
    assert not Offer.objects.exists()


def test_editing_an_offer_that_would_break_the_eu_rule_keeps_it_as_it_was(client, coordinator):
    incident = rb.recall(coordinator, [{"name": "Hans", "country": "DE"}])
    refund = rb.offer(coordinator, incident, "refund")
    client.force_login(coordinator)

    response = client.post(
        url("offer", refund.uuid), offer_data(kind="refund", title="Refund", active=None)
    )

    assert "EU rule" in response.context["form"].non_field_errors()[0]
    refund.refresh_from_db()
    assert refund.active


def test_a_capacity_week_counts_from_its_monday_and_moves_the_estimate(
    client, coordinator, heaters
):
    offer = rb.offer(coordinator, heaters, "replacement", weekly_capacity=1, lead_days=0)
    claim_for(heaters, offer, "Rosa")
    claim_for(heaters, offer, "Sam")
    client.force_login(coordinator)
    this_monday = monday(timezone.localdate())
    next_monday = this_monday + dt.timedelta(weeks=1)

    response = client.post(
        url("offer_capacity", offer.uuid),
        {"week_start": (next_monday + dt.timedelta(days=2)).isoformat(), "units": "0"},
    )

    assert response.status_code == 302
    assert CapacityWeek.objects.get(offer=offer).week_start == next_monday
    page = client.get(url("offer", offer.uuid))
    # One a week and none next week: a third claim waits until the Sunday three weeks on.
    assert page.context["summary"]["next_estimate"] == this_monday + dt.timedelta(days=27)
    response = client.post(url("offer_capacity", offer.uuid), {"week_start": "", "units": "-1"})
    assert response.status_code == 200
    assert set(response.context["week_form"].errors) == {"week_start", "units"}


def test_a_priority_rule_puts_riskier_units_first_and_can_be_deleted(client, coordinator):
    incident = rb.recall(
        coordinator,
        [
            {"name": "New", "units": [{"lot": "L1230", "manufactured_on": b.day("2026-03-01")}]},
            {"name": "Old", "units": [{"lot": "L1230", "manufactured_on": b.day("2024-03-01")}]},
        ],
    )
    offer = rb.offer(coordinator, incident, "replacement", weekly_capacity=1)
    first = claim_for(incident, offer, "New", email="new@example.com")
    second = claim_for(incident, offer, "Old", email="old@example.com")
    client.force_login(coordinator)

    client.post(
        url("priority", incident.uuid),
        {"name": "Made before 2025", "points": "10", "made_before": "2025-01-01"},
    )

    second.refresh_from_db()
    assert second.priority == 10
    queue_page = client.get(url("claims", incident.uuid))
    assert [c.number for c, _ in queue_page.context["rows"]] == [second.number, first.number]
    assert [s.position for _, s in queue_page.context["rows"]] == [1, 2]

    rule = PriorityRule.objects.get()
    client.post(url("priority", incident.uuid), {"delete": rule.pk})
    second.refresh_from_db()
    assert second.priority == 0 and not PriorityRule.objects.exists()


def test_a_priority_rule_without_a_condition_is_refused(client, coordinator, heaters):
    client.force_login(coordinator)

    response = client.post(
        url("priority", heaters.uuid), {"name": "Everyone", "points": "5"}, follow=True
    )

    assert "Set at least one condition" in response.content.decode()
    assert not PriorityRule.objects.exists()


# --- service credits -------------------------------------------------------------------


@pytest.fixture
def outage(coordinator: Any) -> Incident:
    incident = b.incident(coordinator, kind="service", title="Fibre outage")
    for n in range(3):
        owner = b.party(f"Account holder {n}")
        b.holding(owner, kind="service", service="fibre", area="LS1", account_number=f"ACC-{n}")
    b.save_and_match(
        coordinator,
        incident,
        services=["fibre"],
        areas=["LS1"],
        window_start=b.day("2026-11-10"),
        window_end=b.day("2026-11-13"),
    )
    return incident


def test_credits_are_applied_on_request_and_exported_for_billing(
    client, coordinator, outage, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    client.post(
        url("offer_new", outage.uuid),
        offer_data(
            kind="credit",
            title="Outage credit",
            replacement_product=None,
            amount="2.50",
            amount_cap="5.00",
            currency="gbp",
        ),
    )
    offer = Offer.objects.get(incident=outage)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("credits_apply", outage.uuid))

    assert response.status_code == 302
    assert ServiceCredit.objects.filter(offer=offer).count() == 3
    assert {e.units_corrected for e in LedgerEntry.objects.filter(incident=outage)} == {1}
    home = client.get(url("home", outage.uuid))
    assert home.context["credit_rows"][0]["credits"]["accounts"] == 3
    assert "3 accounts, 15.00 GBP" in home.content.decode()

    response = client.get(url("credits_csv", offer.uuid))
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("account_number,customer_external_id,customer_name")
    rows = sorted(line.split(",") for line in lines[1:])
    assert [r[0] for r in rows] == ["ACC-0", "ACC-1", "ACC-2"]
    # Four days at 2.50 is 10.00, capped at 5.00.
    assert {(r[5], r[6], r[7]) for r in rows} == {("4", "5.00", "GBP")}


def test_only_a_coordinator_applies_or_exports_credits(client, analyst, coordinator, outage):
    offer = actions.do_save_offer(
        coordinator,
        outage,
        Offer(kind="credit", title="Credit", amount=Decimal("1"), currency="GBP"),
        [],
    )
    client.force_login(analyst)

    assert client.post(url("credits_apply", outage.uuid)).status_code == 403
    assert client.get(url("credits_csv", offer.uuid)).status_code == 403
    assert not ServiceCredit.objects.exists()


# --- the claim queue -------------------------------------------------------------------


def test_the_queue_filters_by_status_offer_flag_and_search(client, agent, coordinator, heaters):
    replacement = rb.offer(coordinator, heaters, "replacement")
    refund = rb.offer(coordinator, heaters, "refund")
    rosa = claim_for(heaters, replacement, "Rosa", postcode="10115")
    sam = claim_for(heaters, refund, "Sam", payout_method="paypal", payout_reference="sam@pp")
    tess = claim_for(heaters, replacement, "Tess", serial_seen="ZZ-1")
    actions.do_decide(coordinator, [sam], "approved")
    client.force_login(agent)

    def numbers(**params: Any) -> set[str]:
        response = client.get(url("claims", heaters.uuid), params)
        assert response.status_code == 200
        return {c.number for c, _ in response.context["rows"]}

    assert numbers() == {rosa.number, sam.number, tess.number}
    assert numbers(status="approved") == {sam.number}
    assert numbers(status="open") == {rosa.number, sam.number, tess.number}
    assert numbers(offer=str(refund.uuid)) == {sam.number}
    assert numbers(offer="not-a-uuid") == {rosa.number, sam.number, tess.number}
    assert numbers(flagged="1") == {tess.number}
    assert numbers(q=rosa.number.lower()) == {rosa.number}
    assert numbers(q=rosa.number.replace("-", "")) == {rosa.number}
    assert numbers(q="SAM@example.com") == {sam.number}
    assert numbers(q="10115") == {rosa.number}
    page = client.get(url("claims", heaters.uuid), {"flagged": "1"}).content.decode()
    assert "Serial ZZ-1 on the label is not in the recall&#x27;s serial ranges." in page


def test_the_queue_page_reads_a_fixed_number_of_queries(
    client, agent, coordinator, django_assert_max_num_queries
):
    owners = [{"name": f"Owner {n}", "email": f"o{n}@example.com"} for n in range(60)]
    incident = rb.recall(coordinator, owners)
    replacement = rb.offer(coordinator, incident, "replacement", weekly_capacity=10)
    refund = rb.offer(coordinator, incident, "refund", weekly_capacity=10)
    for n in range(60):
        chosen = replacement if n % 2 else refund
        extra = {"payout_method": "cheque"} if chosen == refund else {}
        claim_for(incident, chosen, f"Owner {n}", **extra)
    client.force_login(agent)

    # Session, user and its permissions (4), the incident, the count and the page, then per
    # offer on the page its queue places (1) and capacity (2), and the offers for the
    # filter: 14 for two offers, however many claims the page shows.
    with django_assert_max_num_queries(15):
        response = client.get(url("claims", incident.uuid))

    assert len(response.context["rows"]) == 50
    assert all(standing is not None for _, standing in response.context["rows"])


def test_a_bulk_approval_decides_every_ticked_claim_with_a_history_row(
    client, agent, coordinator, heaters
):
    offer = rb.offer(coordinator, heaters, "replacement")
    claims = [claim_for(heaters, offer, name) for name in ("Rosa", "Sam", "Tess")]
    client.force_login(agent)

    response = client.post(
        url("claims", heaters.uuid),
        {"claims": [str(c.uuid) for c in claims[:2]], "decision": "approved"},
    )

    assert response.status_code == 302
    assert [Claim.objects.get(pk=c.pk).status for c in claims] == [
        "approved",
        "approved",
        "submitted",
    ]
    events = ClaimEvent.objects.filter(kind="approved")
    assert events.count() == 2
    assert {(e.actor, e.old_status, e.new_status) for e in events} == {
        (agent, "submitted", "approved")
    }


def test_a_bulk_rejection_needs_a_reason_and_is_told_to_each_claimant(
    client, agent, coordinator, heaters
):
    offer = rb.offer(coordinator, heaters, "replacement")
    claims = [claim_for(heaters, offer, name) for name in ("Rosa", "Sam")]
    ticked = [str(c.uuid) for c in claims]
    client.force_login(agent)

    response = client.post(url("claims", heaters.uuid), {"claims": ticked, "decision": "rejected"})

    assert response.status_code == 400
    assert "Say why the claim is rejected" in response.content.decode()
    assert response.context["selected"] == set(ticked)
    assert not Claim.objects.filter(status="rejected").exists()

    client.post(
        url("claims", heaters.uuid),
        {"claims": ticked, "decision": "rejected", "reason": "Bought outside the recall."},
    )
    assert Claim.objects.filter(status="rejected").count() == 2
    events = ClaimEvent.objects.filter(kind="rejected")
    assert {(e.actor, e.reason, e.public) for e in events} == {
        (agent, "Bought outside the recall.", True)
    }


def test_a_bulk_decision_applies_to_all_or_to_none(client, agent, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "replacement")
    rosa = claim_for(heaters, offer, "Rosa")
    sam = claim_for(heaters, offer, "Sam")
    actions.do_decide(coordinator, [rosa], "approved")
    client.force_login(agent)

    response = client.post(
        url("claims", heaters.uuid),
        {"claims": [str(rosa.uuid), str(sam.uuid)], "decision": "approved"},
    )

    assert response.status_code == 400
    assert f"Claim {rosa.number} is approved" in response.content.decode()
    assert Claim.objects.get(pk=sam.pk).status == "submitted"


def test_a_bulk_decision_with_nothing_ticked_says_so(client, agent, heaters):
    client.force_login(agent)

    response = client.post(url("claims", heaters.uuid), {"decision": "approved"})

    assert response.status_code == 400
    assert "Tick the claims to decide." in response.content.decode()


# --- one claim -------------------------------------------------------------------------


def test_the_claim_page_shows_units_details_flags_evidence_and_history(
    client, analyst, coordinator, heaters
):
    offer = rb.offer(coordinator, heaters, "replacement", evidence_required=True)
    claim = claim_for(heaters, offer, "Rosa", evidence=png(), serial_seen="ZZ-9")
    client.force_login(analyst)

    response = client.get(url("claim", claim.uuid))

    page = response.content.decode()
    assert response.status_code == 200
    assert "12 Elm Street" in page and "L1230" in page and "ZZ-9" in page
    assert "Serial ZZ-9 on the label is not in the recall" in page
    assert url("claim_evidence", claim.uuid) in page
    assert "/media/" not in page
    assert "Claim submitted" in page and "Flagged for review" in page
    assert "Staff only: the claimant is not told." in page
    assert "Your role can see claims but not decide them." in page
    assert 'action="' + url("claim_decide", claim.uuid) not in page

    evidence = client.get(url("claim_evidence", claim.uuid))
    assert evidence.status_code == 200
    assert evidence["Content-Type"] == "image/png"
    assert evidence["Cache-Control"] == "private, no-store"
    assert b"".join(evidence.streaming_content).startswith(b"\x89PNG")


def test_a_claim_is_rejected_on_its_page_only_with_a_reason(client, agent, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "replacement")
    claim = claim_for(heaters, offer, "Rosa")
    client.force_login(agent)

    response = client.post(url("claim_decide", claim.uuid), {"decision": "rejected"})
    assert response.status_code == 400
    assert response.context["decision_form"].errors["reason"] == [
        "Say why the claim is rejected: the claimant is told."
    ]
    response = client.post(
        url("claim_decide", claim.uuid), {"decision": "rejected", "reason": "Not our heater."}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "rejected"
    assert claim.events.get(kind="rejected").actor == agent


def test_shipping_a_replacement_fulfils_the_claim_and_counts_the_unit_corrected(
    client, agent, coordinator, heaters
):
    offer = rb.offer(coordinator, heaters, "replacement")
    claim = claim_for(heaters, offer, "Rosa")
    client.force_login(agent)
    client.post(url("claim_decide", claim.uuid), {"decision": "approved"})
    page = client.get(url("claim", claim.uuid))
    assert [v for v, _ in page.context["step_form"].fields["step"].choices] == [
        "shipped",
        "returned",
        "destroyed",
        "corrected",
    ]
    assert page.context["step_fields"] == ["carrier", "tracking", "note", "proof"]

    response = client.post(url("claim_step", claim.uuid), {"step": "shipped", "carrier": "DHL"})
    assert response.status_code == 400
    assert response.context["step_form"].errors["tracking"] == ["Required for this step."]

    response = client.post(
        url("claim_step", claim.uuid),
        {"step": "shipped", "carrier": "DHL", "tracking": "JD014600006281"},
    )

    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "fulfilled" and claim.corrected_at is not None
    event = claim.events.get(kind="step")
    assert (event.step, event.carrier, event.tracking, event.actor) == (
        "shipped",
        "DHL",
        "JD014600006281",
        agent,
    )
    entry = LedgerEntry.objects.get(incident=heaters, party=party("Rosa"))
    assert entry.units_corrected == 1

    client.force_login(coordinator)
    ledger = client.get(reverse("incidents:ledger", args=[heaters.uuid]))
    assert ledger.context["completion"]["units_corrected"] == 1
    assert ledger.context["completion"]["parties_completed"] == 1
    rows = {e.party.name: e.units_corrected for e in ledger.context["page"].object_list}
    assert rows == {"Rosa": 1, "Sam": 0, "Tess": 0}
    assert "<strong>1 of 3</strong> units corrected" in ledger.content.decode()
    overview = client.get(heaters.get_absolute_url())
    assert overview.context["completion"].units_corrected == 1
    assert "units corrected (33&nbsp;%)" in overview.content.decode()


def test_a_repair_step_out_of_order_is_refused(client, agent, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "repair_visit")
    claim = claim_for(heaters, offer, "Rosa")
    actions.do_decide(coordinator, [claim], "approved")
    client.force_login(agent)

    response = client.post(url("claim_step", claim.uuid), {"step": "repair_done"})

    assert response.status_code == 400
    assert response.context["step_form"].non_field_errors() == [
        "Record “Repair booked” before this step."
    ]
    assert "Record “Repair booked” before this step." in response.content.decode()
    assert not claim.events.filter(kind="step").exists()

    client.post(
        url("claim_step", claim.uuid),
        {"step": "repair_booked", "appointment": "2026-12-01T10:30"},
    )
    client.post(url("claim_step", claim.uuid), {"step": "repair_done"})
    claim.refresh_from_db()
    assert claim.status == "fulfilled"
    booked = claim.events.get(step="repair_booked")
    assert booked.appointment is not None and booked.appointment.hour == 10


def test_a_step_of_another_remedy_is_not_offered(client, agent, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "replacement")
    claim = claim_for(heaters, offer, "Rosa")
    actions.do_decide(coordinator, [claim], "approved")
    client.force_login(agent)

    response = client.post(url("claim_step", claim.uuid), {"step": "refund_paid", "reference": "X"})

    assert response.status_code == 400
    assert "step" in response.context["step_form"].errors
    assert not claim.events.filter(kind="step").exists()


def test_the_returned_unit_is_recorded_with_its_proof(client, agent, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "replacement")
    claim = claim_for(heaters, offer, "Rosa")
    actions.do_decide(coordinator, [claim], "approved")
    client.force_login(agent)

    response = client.post(url("claim_step", claim.uuid), {"step": "destroyed"})
    assert response.context["step_form"].errors["proof"] == [
        "Attach the proof of what happened to the returned unit."
    ]
    fake = SimpleUploadedFile("proof.pdf", b"MZ not a pdf", "application/pdf")
    response = client.post(url("claim_step", claim.uuid), {"step": "destroyed", "proof": fake})
    assert response.context["step_form"].errors["proof"] == [
        "Upload a photo (JPEG, PNG or WebP) or a PDF."
    ]

    response = client.post(
        url("claim_step", claim.uuid),
        {"step": "destroyed", "proof": pdf(), "note": "Crushed at the depot."},
    )

    assert response.status_code == 302
    event = claim.events.get(step="destroyed")
    assert (event.proof.name or "").endswith(".pdf") and event.reason == "Crushed at the depot."
    claim.refresh_from_db()
    # A disposition counts the unit corrected though the replacement is not shipped yet.
    assert claim.status == "approved" and claim.corrected_at is not None
    assert LedgerEntry.objects.get(incident=heaters, party=party("Rosa")).units_corrected == 1
    proof = client.get(url("event_proof", claim.uuid, event.pk))
    assert proof.status_code == 200 and proof["Content-Type"] == "application/pdf"
    assert b"".join(proof.streaming_content).startswith(b"%PDF")
    page = client.get(url("claim", claim.uuid)).content.decode()
    assert url("event_proof", claim.uuid, event.pk) in page


# --- who may do what -------------------------------------------------------------------


def test_an_outsider_sees_nothing_of_remedies(client, outsider, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "replacement", evidence_required=True)
    claim = claim_for(heaters, offer, "Rosa", evidence=png())
    client.force_login(outsider)

    for path in (
        url("home", heaters.uuid),
        url("claims", heaters.uuid),
        url("claim", claim.uuid),
        url("claim_evidence", claim.uuid),
        url("offer", offer.uuid),
        url("offer_new", heaters.uuid),
    ):
        assert client.get(path).status_code == 403, path
    client.logout()
    response = client.get(url("claim_evidence", claim.uuid))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_analyst_views_claims_but_cannot_decide_fulfil_or_set_offers(
    client, analyst, coordinator, heaters
):
    offer = rb.offer(coordinator, heaters, "replacement")
    claim = claim_for(heaters, offer, "Rosa")
    client.force_login(analyst)

    assert client.get(url("home", heaters.uuid)).status_code == 200
    assert client.get(url("claims", heaters.uuid)).status_code == 200
    assert client.get(url("claim", claim.uuid)).status_code == 200
    assert client.post(url("claim_decide", claim.uuid), {"decision": "approved"}).status_code == 403
    response = client.post(
        url("claims", heaters.uuid), {"claims": [str(claim.uuid)], "decision": "approved"}
    )
    assert response.status_code == 403
    actions.do_decide(coordinator, [claim], "approved")
    response = client.post(
        url("claim_step", claim.uuid), {"step": "shipped", "carrier": "DHL", "tracking": "1"}
    )
    assert response.status_code == 403
    assert client.get(url("offer_new", heaters.uuid)).status_code == 403
    assert client.post(url("priority", heaters.uuid), {"name": "x"}).status_code == 403
    assert Claim.objects.get(pk=claim.pk).status == "approved"


def test_an_agent_decides_and_fulfils_but_does_not_set_offers(client, agent, coordinator, heaters):
    offer = rb.offer(coordinator, heaters, "replacement")
    client.force_login(agent)

    home = client.get(url("home", heaters.uuid))
    assert home.status_code == 200 and not home.context["can_manage"]
    assert url("offer_new", heaters.uuid) not in home.content.decode()
    assert client.get(url("offer", offer.uuid)).status_code == 403
    data = {"week_start": "2026-12-07", "units": "5"}
    assert client.post(url("offer_capacity", offer.uuid), data).status_code == 403
    assert not CapacityWeek.objects.exists()


# --- in a real browser -----------------------------------------------------------------


def busy_recall(coordinator: Any) -> tuple[Incident, Offer, list[Claim]]:
    """A recall with owners in the US and Germany, three offers, a risk rule, a capacity
    week and claims in every state, for looking at the pages."""
    owners: list[dict[str, Any]] = [
        {
            "name": name,
            "email": f"{name.split()[0].lower()}@example.com",
            "country": country,
            "region": region,
            "units": [
                {"lot": "L1230", "serial": f"NH-{1100 + n}", "country": country, "region": region}
            ],
        }
        for n, (name, country, region) in enumerate(
            [
                ("Rosa Diaz", "US", "IL"),
                ("Sam Park", "US", "OH"),
                ("Tess Ortiz", "US", "TX"),
                ("Hans Vogel", "DE", "BY"),
                ("Uma Reed", "US", "CA"),
                ("Vic Lane", "US", "CA"),
                ("Wen Li", "US", "NY"),
                ("Xavi Ruiz", "US", "FL"),
            ]
        )
    ]
    incident = rb.recall(coordinator, owners)
    replacement = rb.offer(
        coordinator,
        incident,
        "replacement",
        title="Free replacement heater",
        weekly_capacity=2,
        evidence_required=True,
    )
    rb.offer(coordinator, incident, "refund", title="Full refund", weekly_capacity=50)
    rb.offer(coordinator, incident, "repair_visit", title="Repair at home", weekly_capacity=0)
    CapacityWeek.objects.create(
        offer=replacement,
        week_start=monday(timezone.localdate()) + dt.timedelta(weeks=1),
        units=5,
    )
    PriorityRule.objects.create(
        incident=incident, name="Hot regions", points=20, regions=["CA", "TX"]
    )
    claims = []
    for n, owner in enumerate(owners[:7]):
        fields: dict[str, Any] = {
            "email": owner["email"],
            "evidence": png(),
            "ship_name": owner["name"],
            "address_line1": f"{10 + n} Elm Street",
            "postcode": f"6270{n}",
        }
        if n == 2:
            fields["serial_seen"] = "ZX-77"
        claims.append(claim_for(incident, replacement, owner["name"], **fields))
    actions.do_reprioritise(coordinator, incident)
    actions.do_decide(coordinator, claims[3:5], "approved")
    actions.do_decide(coordinator, [claims[5]], "rejected", "Bought after the fix.")
    actions.do_record_step(
        coordinator, claims[4], "shipped", {"carrier": "UPS", "tracking": "1Z99"}
    )
    return incident, replacement, claims


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_approve_and_ship_a_claim_and_the_ledger_counts_it(
    browser, live_server, coordinator, settings
):
    settings.PUBLIC_URL = live_server.url
    incident, replacement, claims = busy_recall(coordinator)
    base = live_server.url
    rosa = claims[0]

    page = browser.new_page(viewport=DESKTOP)
    log_in(page, base, coordinator.username)
    page.goto(f"{base}{url('home', incident.uuid)}")
    page.get_by_text("EU rule met").wait_for()
    shoot(page, "console-remedies-desktop")
    assert axe_problems(page) == []
    page.goto(f"{base}{url('claims', incident.uuid)}")
    shoot(page, "console-claims-desktop")
    assert axe_problems(page) == []
    page.get_by_label(f"Claim {rosa.number}").check()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("1 claim approved.").wait_for()
    page.get_by_role("link", name=rosa.number).click()
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_label("Tracking number").fill("JD014600006281")
    page.get_by_role("button", name="Record step").click()
    page.get_by_text("Replacement shipped recorded.").wait_for()
    shoot(page, "console-claim-desktop")
    assert axe_problems(page) == []
    assert Claim.objects.get(pk=rosa.pk).status == "fulfilled"
    page.goto(f"{base}{reverse('incidents:ledger', args=[incident.uuid])}")
    page.get_by_text("2 of 8").first.wait_for()
    shoot(page, "console-ledger-desktop")
    page.goto(f"{base}{incident.get_absolute_url()}")
    shoot(page, "console-overview-desktop")
    page.goto(f"{base}{url('offer_new', incident.uuid)}")
    page.get_by_label("Kind").select_option("voucher")
    page.get_by_label("Title").fill("Voucher")
    page.get_by_label("Replacement product (GTIN or SKU)").fill("")
    page.get_by_role("button", name="Add offer").click()
    page.get_by_text("Give the voucher's value.").wait_for()
    shoot(page, "console-offer-errors-desktop")
    assert axe_problems(page) == []
    page.goto(f"{base}{url('offer', replacement.uuid)}")
    shoot(page, "console-offer-desktop")

    outage = b.incident(coordinator, kind="service", title="Fibre outage in Leeds")
    for n in range(4):
        owner = b.party(f"Account holder {n}")
        b.holding(owner, kind="service", service="fibre", area="LS1", account_number=f"A-{n}")
    b.save_and_match(
        coordinator,
        outage,
        services=["fibre"],
        areas=["LS1"],
        window_start=b.day("2026-11-10"),
        window_end=b.day("2026-11-13"),
    )
    actions.do_save_offer(
        coordinator,
        outage,
        Offer(kind="credit", title="Outage credit", amount=Decimal("2.50"), currency="GBP"),
        [],
    )
    page.goto(f"{base}{url('home', outage.uuid)}")
    page.get_by_role("button", name="Apply credits now").click()
    page.get_by_text("4 accounts, 40.00 GBP").wait_for()
    shoot(page, "console-credits-desktop")
    assert axe_problems(page) == []

    phone = browser.new_page(viewport=PHONE)
    log_in(phone, base, coordinator.username)
    for name, path in [
        ("remedies", url("home", incident.uuid)),
        ("claims", url("claims", incident.uuid)),
        ("claim", url("claim", claims[2].uuid)),
        ("offer", url("offer", replacement.uuid)),
        ("ledger", reverse("incidents:ledger", args=[incident.uuid])),
    ]:
        phone.goto(f"{base}{path}")
        shoot(phone, f"console-{name}-phone")
        assert axe_problems(phone) == [], name
