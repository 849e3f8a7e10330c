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
        # Only fulfilled claims have a fulfilment time; the index on it reads this week's.
        begin = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
        done = (
            Claim.objects.filter(offer=offer, fulfilled_at__gte=begin).aggregate(
                units=Sum("units")
            )["units"]
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


# A claim's key in its queue: priority first (higher goes first), then arrival (its id).
Key = tuple[int, int]


def _ranges(keys: list[Key]) -> list[tuple[int, str, list[int]]]:
    """Split an offer's queue at ``keys`` (in queue order) into segments, each written as one
    to three conditions the queue index answers with a range scan: segment 0 runs from the
    front to the first key, segment k from key k (included) to key k+1, the last to the end.
    Together they cover the queue once, so reading every segment costs one pass at most."""
    parts: list[tuple[int, str, list[int]]] = []
    bounds: list[Key | None] = [None, *keys, None]
    for k in range(len(bounds) - 1):
        start, stop = bounds[k], bounds[k + 1]
        if start is None and stop is None:
            parts.append((k, "1 = 1", []))
        elif start is None:
            assert stop is not None
            parts.append((k, "priority > %s", [stop[0]]))
            parts.append((k, "priority = %s AND id < %s", [stop[0], stop[1]]))
        elif stop is None:
            parts.append((k, "priority = %s AND id >= %s", [start[0], start[1]]))
            parts.append((k, "priority < %s", [start[0]]))
        elif start[0] == stop[0]:
            parts.append(
                (k, "priority = %s AND id >= %s AND id < %s", [start[0], start[1], stop[1]])
            )
        else:
            parts.append((k, "priority = %s AND id >= %s", [start[0], start[1]]))
            parts.append((k, "priority < %s AND priority > %s", [start[0], stop[0]]))
            parts.append((k, "priority = %s AND id < %s", [stop[0], stop[1]]))
    return parts


def _segments(offer_id: int, keys: list[Key], whole: bool) -> list[tuple[int, int]]:
    """(claims, units) in each segment of the offer's open queue split at ``keys``; without
    ``whole`` the segment behind the last key is not read (a claim at the front of a long
    queue then costs next to nothing)."""
    table = Claim._meta.db_table
    selects = []
    params: list[int | str] = []
    for k, condition, values in _ranges(keys):
        if not whole and k == len(keys):
            continue
        selects.append(
            f"SELECT {k} AS segment, COUNT(*) AS n, COALESCE(SUM(units), 0) AS u"
            f" FROM {table} WHERE offer_id = %s AND status IN (%s, %s) AND {condition}"
        )
        params.extend([offer_id, *choices.OPEN, *values])
    totals = [(0, 0) for _ in range(len(keys) + 1)]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        for segment, n, units in cursor.fetchall():
            count, total = totals[segment]
            totals[segment] = (count + int(n), total + int(units))
    return totals


def places(claims: list[Claim], whole: bool = True) -> tuple[dict[int, Place], dict[int, int]]:
    """The queue place of each open claim in ``claims`` and (with ``whole``) the units waiting
    per offer: one query per offer, reading each offer's queue once at most, whatever the
    number of claims."""
    found: dict[int, Place] = {}
    waiting: dict[int, int] = {}
    by_offer: dict[int, list[Claim]] = {}
    for claim in claims:
        if claim.status in choices.OPEN and claim.pk:
            by_offer.setdefault(claim.offer_id, []).append(claim)
    for offer_id, group in by_offer.items():
        group.sort(key=lambda c: (-c.priority, c.pk))
        totals = _segments(offer_id, [(c.priority, c.pk) for c in group], whole)
        count = units = 0
        for k, claim in enumerate(group):
            count += totals[k][0]
            units += totals[k][1]
            found[claim.pk] = Place(position=count + 1, units_through=units + claim.units)
        if whole:
            waiting[offer_id] = sum(t[1] for t in totals)
    return found, waiting


@dataclass(frozen=True)
class Standing:
    """What the status page and the console say about an open claim."""

    position: int
    waiting: int | None
    estimate: dt.date | None
    later_than_promised: bool


def standings(claims: list[Claim], whole: bool = True) -> dict[int, Standing]:
    """Position, estimated date and (with ``whole``) the units waiting in the queue of each
    open claim in ``claims``."""
    found, waiting = places(claims, whole)
    if not found:
        return {}
    offers = {c.offer_id: c.offer for c in claims}
    capacity = {pk: Capacity.of(offers[pk]) for pk in {c.offer_id for c in claims if c.pk in found}}
    result = {}
    for claim in claims:
        place = found.get(claim.pk)
        if place is None:
            continue
        estimate = capacity[claim.offer_id].estimate(place.units_through)
        result[claim.pk] = Standing(
            position=place.position,
            waiting=waiting.get(claim.offer_id),
            estimate=estimate,
            later_than_promised=bool(
                estimate and claim.promised_on and estimate > claim.promised_on
            ),
        )
    return result


def standing(claim: Claim) -> Standing | None:
    """One claim's position and estimate (the status page's read): only the queue ahead of
    it is read."""
    return standings([claim], whole=False).get(claim.pk)


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
