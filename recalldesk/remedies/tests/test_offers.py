"""Offers: eligibility by audience, region, product and lot, and the EU rule."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from recalldesk.incidents.tests import builders as b
from recalldesk.registry.models import Holding, Party
from recalldesk.remedies import actions
from recalldesk.remedies.models import Offer
from recalldesk.remedies.tests import builders as rb

pytestmark = pytest.mark.django_db


def test_an_offer_is_open_only_where_every_rule_it_sets_holds(coordinator):
    incident = rb.recall(
        coordinator,
        [
            {"name": "Ann", "region": "CA", "units": [{"lot": "L1230", "region": "CA"}]},
            {"name": "Bo", "region": "TX", "units": [{"lot": "L1230", "region": "TX"}]},
        ],
    )
    california = rb.offer(coordinator, incident, "refund", regions=["CA"])
    ann, bo = Party.objects.get(name="Ann"), Party.objects.get(name="Bo")
    assert actions.holding_eligible(california, ann, Holding.objects.get(party=ann))
    assert not actions.holding_eligible(california, bo, Holding.objects.get(party=bo))
    other_lot = rb.offer(coordinator, incident, "voucher", amount=20, currency="USD", lots=["L9"])
    assert not actions.holding_eligible(other_lot, ann, Holding.objects.get(party=ann))
    for_retailers = rb.offer(coordinator, incident, "refund", audience="consignee")
    assert not actions.holding_eligible(for_retailers, ann, Holding.objects.get(party=ann))


def test_offers_for_lists_the_active_offers_open_to_the_party(coordinator):
    incident = rb.recall(coordinator, [{"name": "Ann", "country": "US"}])
    ann = Party.objects.get(name="Ann")
    refund = rb.offer(coordinator, incident, "refund")
    rb.offer(coordinator, incident, "replacement", active=False)
    rb.offer(coordinator, incident, "refund", title="Refund in Canada", countries=["CA"])
    offers = actions.offers_for(incident, ann, actions.claimable(incident, ann))
    assert offers == [refund]


def test_the_eu_rule_refuses_a_voucher_before_a_free_refund_replacement_or_repair(coordinator):
    incident = rb.recall(coordinator, [{"name": "Hans", "country": "DE"}])
    assert actions.eu_rule_gaps(incident) == ["DE"]
    with pytest.raises(ValidationError) as refused:
        rb.offer(coordinator, incident, "voucher", amount=20, currency="EUR")
    assert "EU rule" in str(refused.value) and "DE" in str(refused.value)
    assert not Offer.objects.exists()
    rb.offer(coordinator, incident, "repair_kit")
    assert actions.eu_rule_gaps(incident) == []
    rb.offer(coordinator, incident, "voucher", amount=20, currency="EUR")
    assert incident.offers.count() == 2


def test_the_eu_rule_refuses_to_switch_off_the_last_free_remedy(coordinator):
    incident = rb.recall(coordinator, [{"name": "Hans", "country": "DE"}])
    refund = rb.offer(coordinator, incident, "refund")
    refund.active = False
    with pytest.raises(ValidationError, match="EU rule"):
        actions.do_save_offer(coordinator, incident, refund, [])
    assert Offer.objects.get(pk=refund.pk).active


def test_a_remedy_at_a_cost_does_not_meet_the_eu_rule(coordinator):
    incident = rb.recall(coordinator, [{"name": "Hans", "country": "DE"}])
    with pytest.raises(ValidationError, match="EU rule"):
        rb.offer(coordinator, incident, "repair_visit", at_no_cost=False)


def test_the_eu_rule_does_not_apply_outside_the_eu(coordinator):
    incident = rb.recall(coordinator, [{"name": "Ann", "country": "US"}])
    assert actions.eu_rule_gaps(incident) == []
    rb.offer(coordinator, incident, "voucher", amount=20, currency="USD")


@pytest.mark.parametrize(
    ("kind", "fields", "field", "text"),
    [
        ("replacement", {"replacement_product": None}, "replacement_product", "which product"),
        ("voucher", {"currency": "USD"}, "amount", "voucher's value"),
        ("voucher", {"amount": 10}, "currency", "currency"),
        ("warranty", {}, "warranty_months", "months"),
        ("credit", {"amount": 1, "currency": "USD"}, "kind", "service failures"),
    ],
)
def test_an_incomplete_offer_is_refused_naming_the_field(coordinator, kind, fields, field, text):
    incident = rb.recall(coordinator, [{"name": "Ann", "country": "US"}])
    with pytest.raises(ValidationError) as refused:
        rb.offer(coordinator, incident, kind, **fields)
    assert text in " ".join(refused.value.message_dict[field])
    assert not Offer.objects.exists()


def test_saving_an_offer_leaves_a_history_row_and_needs_the_permission(coordinator, agent):
    from recalldesk.audit.models import ChangeRecord

    incident = rb.recall(coordinator, [{"name": "Ann", "country": "US"}])
    rb.offer(coordinator, incident, "refund", title="Full refund")
    row = ChangeRecord.for_object(incident).first()
    assert row is not None and row.note == "offer added" and row.actor == coordinator
    assert any(key.startswith("offer Full refund") for key in row.changes)
    with pytest.raises(PermissionDenied):
        rb.offer(agent, incident, "refund")


def test_a_product_restricted_offer_skips_other_products(coordinator):
    incident = rb.recall(coordinator, [{"name": "Ann", "country": "US"}])
    other = b.product("OTHER-1")
    only_other = rb.offer(coordinator, incident, "refund", products=[other])
    ann = Party.objects.get(name="Ann")
    assert not actions.holding_eligible(only_other, ann, Holding.objects.get(party=ann))
