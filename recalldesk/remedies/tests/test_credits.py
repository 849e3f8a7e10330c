"""Service credits: applied by rule to every affected account, without a claim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from recalldesk.incidents.models import LedgerEntry
from recalldesk.incidents.tests import builders as b
from recalldesk.remedies import actions, credits
from recalldesk.remedies.models import Offer, ServiceCredit

pytestmark = pytest.mark.django_db

day = dt.date.fromisoformat


@pytest.fixture
def outage(coordinator):
    incident = b.incident(coordinator, kind="service", title="Fibre outage in Leeds")
    for n, (start, end) in enumerate(
        [(None, None), ("2026-11-12", None), ("2025-01-01", "2026-11-11")]
    ):
        owner = b.party(f"Account holder {n}")
        b.holding(
            owner,
            kind="service",
            service="fibre",
            area="LS1",
            account_number=f"ACC-{n}",
            period_start=day(start) if start else None,
            period_end=day(end) if end else None,
        )
    b.save_and_match(
        coordinator,
        incident,
        services=["fibre"],
        areas=["LS1"],
        window_start=day("2026-11-10"),
        window_end=day("2026-11-14"),
    )
    return incident


def credit_offer(user, incident, **fields) -> Offer:
    values = {"amount": Decimal("2.50"), "currency": "GBP", "title": "Outage credit", **fields}
    return actions.do_save_offer(user, incident, Offer(kind="credit", **values), [])


def test_outage_days_count_the_overlap_with_the_service_period():
    window = (day("2026-11-10"), day("2026-11-14"))
    assert credits.outage_days(window, (None, None)) == 5
    assert credits.outage_days(window, (day("2026-11-12"), None)) == 3
    assert credits.outage_days(window, (None, day("2026-11-10"))) == 1
    assert credits.outage_days(window, (day("2026-12-01"), None)) == 0


def test_every_affected_account_gets_its_credit_and_counts_corrected(outage, coordinator):
    offer = credit_offer(coordinator, outage, amount_cap=Decimal("10.00"))
    assert credits.apply_offer(offer) == 3
    amounts = dict(ServiceCredit.objects.values_list("holding__account_number", "amount"))
    assert amounts == {
        "ACC-0": Decimal("10.00"),  # five days at 2.50, capped at 10
        "ACC-1": Decimal("7.50"),  # joined on the 12th: three days
        "ACC-2": Decimal("5.00"),  # left on the 11th: two days
    }
    entries = LedgerEntry.objects.filter(incident=outage)
    assert all(e.units_corrected == e.units and e.corrected_at for e in entries)
    assert actions.completion(outage).party_rate == 1.0
    assert credits.apply_offer(offer) == 0, "applying again credits nobody twice"


def test_a_rematch_credits_newly_affected_accounts_automatically(
    outage, coordinator, django_capture_on_commit_callbacks
):
    from recalldesk.incidents.actions import do_request_match

    credit_offer(coordinator, outage)
    late = b.party("Late account")
    b.holding(late, kind="service", service="fibre", area="LS1", account_number="ACC-9")
    with django_capture_on_commit_callbacks(execute=True):
        do_request_match(coordinator, outage)
    assert ServiceCredit.objects.filter(holding__account_number="ACC-9").exists()


def test_the_billing_export_has_one_row_per_account(outage, coordinator):
    offer = credit_offer(coordinator, outage)
    credits.apply_offer(offer)
    rows = list(credits.export_rows(offer))
    assert rows[0] == credits.EXPORT_HEADER
    assert [r[0] for r in rows[1:]] == ["ACC-0", "ACC-1", "ACC-2"]
    assert rows[1][5:8] == ["5", "12.50", "GBP"]
    assert rows[1][9].startswith(f"{outage.reference}-CR-")


def test_a_credit_offer_needs_an_amount_and_a_service_failure(outage, coordinator):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="credit per day"):
        credit_offer(coordinator, outage, amount=None)
