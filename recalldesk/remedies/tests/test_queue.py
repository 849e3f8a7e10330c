"""The queue: positions and honest estimated dates under changing capacity and priority."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from recalldesk.incidents.tests import builders as b
from recalldesk.registry.models import Party
from recalldesk.remedies import actions
from recalldesk.remedies.models import CapacityWeek, Offer, PriorityRule, monday
from recalldesk.remedies.queue import Capacity, queue_summary, standing, standings
from recalldesk.remedies.tests import builders as rb

pytestmark = pytest.mark.django_db


def owners(n: int) -> list[dict]:
    return [
        {
            "name": f"Owner {i}",
            "email": f"o{i}@example.com",
            "units": [{"serial": f"NH-{1000 + i}"}],
        }
        for i in range(n)
    ]


@pytest.fixture
def queue(coordinator):
    incident = rb.recall(coordinator, owners(6))
    offer = rb.offer(coordinator, incident, weekly_capacity=2, lead_days=3)
    claims = [rb.claim(incident, p, offer) for p in Party.objects.order_by("name")]
    return incident, offer, claims


def test_claims_wait_in_order_of_arrival(queue):
    _, _, claims = queue
    found = standings(claims)
    assert [found[c.pk].position for c in claims] == [1, 2, 3, 4, 5, 6]
    assert {s.waiting for s in found.values()} == {6}
    assert standing(claims[0]).waiting is None  # type: ignore[union-attr]


def test_the_estimate_follows_the_weekly_capacity():
    today = dt.date(2026, 11, 25)  # a Wednesday
    capacity = Capacity(weekly=2, weeks={}, done_this_week=0, lead_days=3, today=today)
    this_sunday = dt.date(2026, 11, 29)
    assert capacity.estimate(1) == this_sunday + dt.timedelta(days=3)
    assert capacity.estimate(2) == this_sunday + dt.timedelta(days=3)
    assert capacity.estimate(3) == this_sunday + dt.timedelta(days=10)
    assert capacity.estimate(6) == this_sunday + dt.timedelta(days=17)


def test_units_fulfilled_this_week_use_up_this_weeks_capacity():
    today = dt.date(2026, 11, 25)
    capacity = Capacity(weekly=2, weeks={}, done_this_week=2, lead_days=0, today=today)
    assert capacity.estimate(1) == dt.date(2026, 12, 6)


def test_a_capacity_week_overrides_the_default_and_zero_capacity_means_no_estimate():
    today = dt.date(2026, 11, 25)
    closed = {dt.date(2026, 11, 23): 0, dt.date(2026, 11, 30): 0}
    capacity = Capacity(weekly=2, weeks=closed, done_this_week=0, lead_days=0, today=today)
    assert capacity.estimate(1) == dt.date(2026, 12, 13)
    none = Capacity(
        weekly=0, weeks={dt.date(2026, 11, 23): 0}, done_this_week=0, lead_days=0, today=today
    )
    assert none.estimate(1) is None
    unlimited = Capacity(weekly=0, weeks={}, done_this_week=0, lead_days=4, today=today)
    assert unlimited.estimate(10_000) == today + dt.timedelta(days=4)


def test_more_capacity_brings_the_estimate_forward(queue):
    _, offer, claims = queue
    last = claims[-1]
    before = standing(last)
    assert before is not None and before.estimate is not None
    Offer.objects.filter(pk=offer.pk).update(weekly_capacity=6)
    last.offer.refresh_from_db()
    after = standing(last)
    assert after is not None and after.estimate is not None
    assert after.estimate < before.estimate
    assert not after.later_than_promised


def test_less_capacity_is_said_honestly_as_later_than_promised(queue):
    _, offer, claims = queue
    last = claims[-1]
    assert last.promised_on is not None
    CapacityWeek.objects.create(offer=offer, week_start=monday(timezone.localdate()), units=0)
    moved = standing(last)
    assert moved is not None and moved.estimate is not None
    assert moved.estimate > last.promised_on and moved.later_than_promised


def test_a_higher_priority_claim_goes_ahead(queue, coordinator):
    incident, offer, claims = queue
    PriorityRule.objects.create(incident=incident, name="Lot L1230", points=20, lots=["L1230"])
    late = b.party("Late but risky", email="risky@example.com")
    b.holding(late, incident.scope.products.first(), lot="L1230")
    rb.rematch(coordinator, incident)
    risky = rb.claim(incident, late, offer)
    assert risky.priority == 20
    assert standing(risky).position == 1  # type: ignore[union-attr]
    assert standing(claims[0]).position == 2  # type: ignore[union-attr]


def test_reprioritising_moves_open_claims_when_a_rule_changes(queue, coordinator):
    incident, _, claims = queue
    PriorityRule.objects.create(
        incident=incident, name="Units without a lot code", points=5, lots=[""]
    )
    assert actions.do_reprioritise(coordinator, incident) == 6
    PriorityRule.objects.all().delete()
    assert actions.do_reprioritise(coordinator, incident) == 6
    assert {c.priority for c in type(claims[0]).objects.all()} == {0}


def test_fulfilled_and_rejected_claims_leave_the_queue(queue, coordinator):
    _, offer, claims = queue
    actions.do_decide(coordinator, claims[:2], "approved")
    actions.do_record_step(coordinator, claims[0], "shipped", {"carrier": "UPS", "tracking": "1"})
    actions.do_decide(coordinator, [claims[2]], "rejected", "duplicate")
    assert standing(claims[0]) is None and standing(claims[2]) is None
    assert standing(claims[1]).position == 1  # type: ignore[union-attr]
    assert standing(claims[3]).position == 2  # type: ignore[union-attr]
    summary = queue_summary(offer)
    assert summary["waiting"] == 4 and summary["capacity"] == 2
