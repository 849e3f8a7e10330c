"""An offer's queue: where a claim stands and when it can honestly expect its remedy.

Claims wait in order of priority (riskier units first), then of arrival. An offer fulfils
``weekly_capacity`` units a week (or what a capacity week says for that week); the units
already fulfilled this week use up this week's share. The estimate is computed when it is
read, so it follows every change of capacity, priority and queue without rewriting rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from recalldesk.remedies import choices
from recalldesk.remedies.models import Claim, Offer, monday

# An estimate further out than this is no estimate: the page says so instead.
HORIZON_WEEKS = 260


@dataclass(frozen=True)
class Place:
    """A claim's place in its offer's queue: its position and the units up to and including
    its own."""

    position: int
    units_through: int


@dataclass(frozen=True)
class Capacity:
    """What an offer can still fulfil, week by week, from this week on."""

    weekly: int
    weeks: dict[dt.date, int]
    done_this_week: int
    lead_days: int
    today: dt.date

    @classmethod
    def of(cls, offer: Offer, today: dt.date | None = None) -> Capacity:
        today = today or timezone.localdate()
        start = monday(today)
        done = (
            Claim.objects.filter(
                offer=offer,
                status=choices.ClaimStatus.FULFILLED,
                fulfilled_at__date__gte=start,
            ).aggregate(units=Sum("units"))["units"]
            or 0
        )
        weeks = dict(
            offer.capacity_weeks.filter(week_start__gte=start).values_list("week_start", "units")
        )
        return cls(offer.weekly_capacity, weeks, done, offer.lead_days, today)

    def estimate(self, units_through: int) -> dt.date | None:
        """The date by which the claim whose queue ends at ``units_through`` units can expect
        its remedy: the end of the week in which capacity reaches it, plus the lead time."""
        start = monday(self.today)
        unlimited = self.weekly == 0 and not self.weeks
        if unlimited:
            return self.today + dt.timedelta(days=self.lead_days)
        need = units_through + self.done_this_week
        for week in range(HORIZON_WEEKS):
            week_start = start + dt.timedelta(weeks=week)
            need -= self.weeks.get(week_start, self.weekly)
            if need <= 0:
                end = max(week_start + dt.timedelta(days=6), self.today)
                return end + dt.timedelta(days=self.lead_days)
        return None


def places(claims: list[Claim]) -> dict[int, Place]:
    """The queue place of each open claim in ``claims``, read in one query over the queues of
    their offers (a window over each offer's open claims)."""
    wanted = [c.pk for c in claims if c.status in choices.OPEN]
    if not wanted:
        return {}
    offers = sorted({c.offer_id for c in claims if c.status in choices.OPEN})
    table = Claim._meta.db_table
    window = "OVER (PARTITION BY offer_id ORDER BY priority DESC, id)"
    marks = ", ".join(["%s"] * len(offers))
    ids = ", ".join(["%s"] * len(wanted))
    sql = (
        f"SELECT id, place, through FROM (SELECT id, ROW_NUMBER() {window} AS place,"
        f" SUM(units) {window} AS through FROM {table}"
        f" WHERE offer_id IN ({marks}) AND status IN (%s, %s)) queue WHERE id IN ({ids})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*offers, *choices.OPEN, *wanted])
        return {row[0]: Place(int(row[1]), int(row[2])) for row in cursor.fetchall()}


@dataclass(frozen=True)
class Standing:
    """What the status page and the console say about an open claim."""

    position: int
    waiting: int
    estimate: dt.date | None
    later_than_promised: bool


def standings(claims: list[Claim]) -> dict[int, Standing]:
    """Position, queue length and estimated date of each open claim in ``claims``."""
    found = places(claims)
    if not found:
        return {}
    offers = {c.offer_id: c.offer for c in claims}
    capacity = {pk: Capacity.of(offer) for pk, offer in offers.items()}
    waiting = dict(
        Claim.objects.filter(offer_id__in=list(offers), status__in=choices.OPEN)
        .values("offer_id")
        .annotate(n=Sum("units"))
        .values_list("offer_id", "n")
    )
    result = {}
    for claim in claims:
        place = found.get(claim.pk)
        if place is None:
            continue
        estimate = capacity[claim.offer_id].estimate(place.units_through)
        result[claim.pk] = Standing(
            position=place.position,
            waiting=waiting.get(claim.offer_id, 0),
            estimate=estimate,
            later_than_promised=bool(
                estimate and claim.promised_on and estimate > claim.promised_on
            ),
        )
    return result


def standing(claim: Claim) -> Standing | None:
    return standings([claim]).get(claim.pk)


def queue_summary(offer: Offer) -> dict[str, object]:
    """The console's line for an offer: units waiting and when a claim made now would be
    fulfilled."""
    waiting = (
        Claim.objects.filter(offer=offer, status__in=choices.OPEN).aggregate(n=Sum("units"))["n"]
        or 0
    )
    capacity = Capacity.of(offer)
    return {
        "waiting": waiting,
        "next_estimate": capacity.estimate(waiting + 1),
        "capacity": offer.weekly_capacity,
    }
