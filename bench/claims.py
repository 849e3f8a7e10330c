"""Benchmark: where does a claim stand in a queue of many, and when will it be fulfilled?

Run as ``.venv/bin/python bench/claims.py [--claims N] [--database-url URL]``.

The status page and the console compute a claim's queue position and estimated date when
they are read (a window over the offer's open claims), so that every change of capacity,
priority or queue shows at once without rewriting rows. This measures that read against a
queue of N open claims (200,000 by default: a large recall's first weeks) on a throwaway
database (a temporary SQLite file, or a fresh ``recalldesk_bench`` database on the
PostgreSQL server of ``--database-url``, dropped afterwards):

- ``standing``: one claim's position and estimate, for claims at the front, the middle and
  the back of the queue (the status page's read);
- ``standings of a page``: 50 claims at once (the console's claim queue page);
- the baseline: the bare ``SELECT COUNT(*), SUM(units)`` over the same offer's open claims,
  the least work any position that is not stored in advance needs (one pass over the queue).

Each figure is the median of repeated runs, printed with its ratio to the baseline; the last
line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 15


def median_seconds(work: Callable[[], Any], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def setup_django(database_url: str | None, folder: str) -> str | None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
    os.environ["DATA_DIR"] = folder
    bench_db = None
    if database_url:
        from match import create_postgres

        bench_db = create_postgres(database_url)
        os.environ["DATABASE_URL"] = bench_db
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return bench_db


def fill(count: int) -> Any:
    """One recall, one offer, and ``count`` open claims with a spread of priorities, written
    in bulk (the claim path itself is not what is measured)."""
    from django.db import connection
    from django.utils import timezone

    from recalldesk.incidents.models import Incident
    from recalldesk.registry.models import Party, Product
    from recalldesk.remedies.models import Claim, Offer

    product = Product.objects.create(sku="BENCH-1", name="Bench heater")
    incident = Incident.objects.create(reference="RC-BENCH", kind="recall", title="Bench")
    offer = Offer.objects.create(
        incident=incident,
        kind="replacement",
        title="Replacement",
        replacement_product=product,
        weekly_capacity=5000,
    )
    party = Party.objects.create(role="consumer", external_id="bench", name="Bench owner")
    now = timezone.now()
    batch = 20_000
    for start in range(0, count, batch):
        Claim.objects.bulk_create(
            [
                Claim(
                    number=f"B{n:09d}"[-9:],
                    incident=incident,
                    party=party,
                    offer=offer,
                    status="approved" if n % 3 else "submitted",
                    source="notice",
                    units=1 + n % 3,
                    priority=(n * 7919) % 4 * 10,
                    submitted_at=now,
                )
                for n in range(start, min(count, start + batch))
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return offer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_db = setup_django(args.database_url, folder)
        try:
            figures = run(args.claims)
        finally:
            if bench_db and args.database_url:
                from django.db import connections
                from match import drop_postgres

                connections.close_all()
                drop_postgres(args.database_url)
    print(json.dumps(figures))


def run(count: int) -> dict[str, Any]:
    from django.db import connection

    from recalldesk.remedies.models import Claim
    from recalldesk.remedies.queue import standing, standings

    started = time.perf_counter()
    offer = fill(count)
    print(f"{count:,} open claims written in {time.perf_counter() - started:.1f} s")
    table = Claim._meta.db_table

    def bare() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), SUM(units) FROM {table}"
                " WHERE offer_id = %s AND status IN (%s, %s)",
                [offer.pk, "submitted", "approved"],
            )
            return cursor.fetchone()

    ids = list(
        Claim.objects.filter(offer=offer).order_by("-priority", "id").values_list("pk", flat=True)
    )
    picks = {"front": ids[0], "middle": ids[len(ids) // 2], "back": ids[-1]}
    claims = {k: Claim.objects.select_related("offer").get(pk=v) for k, v in picks.items()}
    page = list(Claim.objects.select_related("offer").filter(pk__in=ids[-50:]))
    baseline = median_seconds(bare)
    figures: dict[str, Any] = {"claims": count, "baseline_ms": round(baseline * 1000, 2)}
    print(f"baseline: bare COUNT/SUM over the queue   {baseline * 1000:8.2f} ms")
    for name, claim in claims.items():
        seconds = median_seconds(functools.partial(standing, claim))
        figures[f"standing_{name}_ms"] = round(seconds * 1000, 2)
        figures[f"standing_{name}_ratio"] = round(seconds / baseline, 2)
        print(
            f"standing, claim at the {name:<6}          {seconds * 1000:8.2f} ms"
            f"  ({seconds / baseline:.2f}x baseline)"
        )
    seconds = median_seconds(lambda: standings(page))
    figures["page_ms"] = round(seconds * 1000, 2)
    figures["page_ratio"] = round(seconds / baseline, 2)
    print(
        f"standings of a page of 50 claims         {seconds * 1000:8.2f} ms"
        f"  ({seconds / baseline:.2f}x baseline)"
    )
    return figures


if __name__ == "__main__":
    main()
