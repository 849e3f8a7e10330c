"""Benchmark: match a recall scope against millions of holdings and store the ledger.

Run as ``.venv/bin/python bench/match.py [--holdings N] [--database-url URL]``.

It builds a throwaway database (a temporary SQLite file, or a fresh ``recalldesk_bench``
database on the PostgreSQL server of ``--database-url``, dropped afterwards), migrates it,
generates N holdings in SQL, saves a scope of 1,000 lots, 100 serial ranges and a
manufacture date window through the real models, and measures:

- ``build_ledger``, the real code path (selection, and ledger entries with their holdings stored),
  the median of three builds, each into an empty ledger;
- a reference: the same selection as one hand-written ``SELECT COUNT(*)``, the least any
  matcher has to do to know the answer, in a few forms, the fastest form's median. Each
  round times every form once and then one build, so that the ratio compares figures taken
  in the same minutes (a shared machine's speed drifts);
- a naive baseline: holdings read through the ORM and tested in Python, one ``save()`` per
  affected party, on a subset, scaled linearly to N;
- on PostgreSQL, one more build with the ledger's indexes kept up to date row by row (the
  path a first match takes beside a larger ledger or while the ledger is read), since the
  builds above run on an emptied ledger, where the matcher rebuilds the indexes instead.

Progress goes to standard output; the last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "recalldesk_bench"
PRODUCTS = 20
SERIAL_PRODUCTS = range(16, 20)  # product indexes whose units carry a serial
SCOPE_LOT_PRODUCTS = (0, 1)
SCOPE_SERIAL_PRODUCTS = (16, 17)
MONTHS = 48  # lots are made from January 2021 to December 2024
LETTERS = 26
LINES = 16
LOTS_PER_MONTH = LETTERS * LINES
LOT_CODES = MONTHS * LOTS_PER_MONTH
SCOPE_LOTS = 1000
SCOPE_RANGES = 100
WINDOW_MONTHS = (22, 44)  # the manufacture date window, in months since January 2021
NAIVE_SUBSET = 200_000
RUNS = 3
EPOCH = dt.date(2021, 1, 1)
EPOCH_JULIAN = 2459215.5  # julianday('2021-01-01') in SQLite
PRIME = 2147483647  # 2**31 - 1: products of two residues stay within 64 bits


def say(text: str) -> None:
    print(text, flush=True)


@contextmanager
def step(label: str) -> Iterator[None]:
    started = time.perf_counter()
    say(f"  {label} ...")
    yield
    say(f"  {label}: {time.perf_counter() - started:.1f} s")


def month_start(month: int) -> int:
    """Days from the epoch to the first day of a lot month, as the generator computes it."""
    return month * 3044 // 100


def lot_code(index: int) -> str:
    """Lot code of lot index ``index``: ``L2407A1`` is line 1, shift A, July 2024."""
    month, rest = divmod(index, LOTS_PER_MONTH)
    letter, line = divmod(rest, LINES)
    return f"L{21 + month // 12:02d}{month % 12 + 1:02d}{chr(65 + letter)}{line + 1}"


# --- the throwaway database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def create_postgres(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return with_database(admin_url, BENCH_DB)


def drop_postgres(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
    # Nothing is queued here: build_ledger is called directly.
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    import django

    django.setup()


# --- generation -------------------------------------------------------------------------


class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.pg = vendor == "postgresql"

    def series(self, lo: int, hi: int) -> str:
        if self.pg:
            return f"(SELECT generate_series({lo}::bigint, {hi}::bigint) AS i) s"
        return (
            f"(WITH RECURSIVE g(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM g WHERE i < {hi})"
            " SELECT i FROM g) s"
        )

    def pad(self, expr: str, width: int) -> str:
        if self.pg:
            return f"lpad(({expr})::text, {width}, '0')"
        return f"printf('%0{width}d', {expr})"

    def text(self, expr: str) -> str:
        return f"({expr})::text" if self.pg else f"CAST({expr} AS TEXT)"

    def char(self, expr: str) -> str:
        return f"chr(({expr})::int)" if self.pg else f"char({expr})"

    def day(self, days: str) -> str:
        if self.pg:
            return f"(DATE '{EPOCH.isoformat()}' + ({days})::int)"
        return f"date({EPOCH_JULIAN} + ({days}))"

    def uuid(self, expr: str) -> str:
        if self.pg:
            return f"lpad(to_hex({expr}), 32, '0')::uuid"
        return f"printf('%032x', {expr})"

    def pick(self, options: list[str], expr: str) -> str:
        width = max(len(o) for o in options)
        packed = "".join(o.ljust(width) for o in options)
        start = f"1 + {width} * (({expr}) % {len(options)})"
        if self.pg:
            start = f"({start})::int"
        return f"rtrim(substr('{packed}', {start}, {width}))"


def mix(expr: str, a: int, c: int) -> str:
    """A pseudo-random residue of ``expr``: an affine step, then a square (not linear)."""
    x = f"((({expr}) * {a} + {c}) % {PRIME})"
    return f"(({x} * {x}) % {PRIME})"


class Loader:
    """Runs the generation SQL in one transaction.

    On SQLite it is a connection of its own with the journal off and a large cache: a
    throwaway database needs no crash safety while it is filled. On PostgreSQL it is the
    ordinary connection with a large ``maintenance_work_mem`` for the index builds.
    """

    cursor: Any

    def __init__(self, dialect: Dialect) -> None:
        from django.db import connection

        self.dialect = dialect
        if dialect.pg:
            self.cursor = connection.cursor()
            self.cursor.execute("SET maintenance_work_mem = '1GB'")
            self.cursor.execute("SET synchronous_commit = off")
            self.cursor.execute("BEGIN")
            self.raw = None
        else:
            path = connection.settings_dict["NAME"]
            connection.close()
            self.raw = sqlite3.connect(path, isolation_level=None)
            for pragma in (
                "journal_mode = OFF",
                "synchronous = OFF",
                "locking_mode = EXCLUSIVE",
                "cache_size = -1000000",
                "temp_store = MEMORY",
            ):
                self.raw.execute(f"PRAGMA {pragma}")
            self.cursor = self.raw.cursor()
            self.cursor.execute("BEGIN")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if not params:
            self.cursor.execute(sql)
        elif self.dialect.pg:
            self.cursor.execute(sql, params)
        else:
            self.cursor.execute(sql.replace("%s", "?"), params)
        try:
            return list(self.cursor.fetchall())
        except Exception:  # a statement that returns no rows
            return []

    def close(self) -> None:
        self.cursor.execute("COMMIT")
        if self.raw is not None:
            self.raw.execute("PRAGMA journal_mode = WAL")
            self.raw.close()
        else:
            self.cursor.close()

    @contextmanager
    def without_indexes(self, table: str) -> Iterator[None]:
        """Drop the secondary indexes and foreign keys of ``table``, put them back after.

        Building an index once over all rows is many times faster than keeping it up to
        date through millions of inserts; the definitions are read from the database, so the
        schema at the end is the one the migrations made.
        """
        if self.dialect.pg:
            foreign = self.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'f'",
                (table,),
            )
            indexes = self.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conindid = (quote_ident(i.indexname))::regclass)",
                (table,),
            )
            for name, _ in foreign:
                self.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        else:
            foreign = []
            indexes = self.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
                " AND sql IS NOT NULL",
                (table,),
            )
        for name, _ in indexes:
            self.execute(f'DROP INDEX "{name}"')
        yield
        with step(f"    {len(indexes)} indexes and {len(foreign)} foreign keys of {table}"):
            for _, sql in indexes:
                self.execute(sql)
            for name, definition in foreign:
                self.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def make_products() -> list[int]:
    from stdnum import ean

    from recalldesk.registry.models import Product

    rows = []
    for n in range(PRODUCTS):
        stem = f"400638{n:06d}"
        kind = "Space heater" if n in SERIAL_PRODUCTS else "Toy stacking cups"
        rows.append(
            Product(
                gtin=stem + ean.calc_check_digit(stem),
                sku=f"BENCH-{n:03d}",
                name=f"{kind} model {n:03d}",
                brand="Benchmark",
                unit_price="24.99",
                currency="USD",
            )
        )
    Product.objects.bulk_create(rows)
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    if ids != list(range(ids[0], ids[0] + PRODUCTS)):
        raise RuntimeError("products did not get consecutive ids")
    return ids


NOW = "2026-01-01 00:00:00"
CHUNK = 1_000_000


def parties_sql(dialect: Dialect, lo: int, hi: int) -> str:
    from recalldesk.registry.models import Party

    h = "h"
    columns = (
        "uuid, role, external_id, name, consignee_kind, email, phone, address_line1,"
        " address_line2, city, region, postcode, country, language, time_zone,"
        " preferred_channels, opted_out_channels, created_at, updated_at"
    )
    return (
        f"INSERT INTO {Party._meta.db_table} ({columns})"
        f" SELECT {dialect.uuid('i')}, 'consumer', 'C' || {dialect.pad('i', 9)},"
        f" 'Customer ' || {dialect.text('i')}, '',"
        f" 'customer' || {dialect.text('i')} || '@example.com',"
        f" '+1202555' || {dialect.pad(f'{h} % 10000', 4)},"
        f" {dialect.text(f'{h} % 9000 + 1')} || ' Main Street', '', 'Springfield',"
        f" 'R' || {dialect.text(f'{h} % 50')}, {dialect.pad(f'{h} % 100000', 5)},"
        f" {dialect.pick(['US', 'GB', 'DE', 'FR', 'ES', 'CA'], h)}, 'en', 'UTC',"
        f" '[]', '[]', '{NOW}', '{NOW}'"
        f" FROM (SELECT i, {mix('i', 69621, 7)} AS h FROM {dialect.series(lo, hi)}) t"
    )


def holdings_sql(
    dialect: Dialect, lo: int, hi: int, first_party: int, parties: int, first_product: int
) -> str:
    """Holdings spread at random over lots, parties and dates.

    A lot belongs to one product and one month, so a holding's lot, product and manufacture
    date agree the way they do in real data; units of the serial products carry a serial.
    """
    from recalldesk.registry.models import Holding

    lot = f"(h1 % {LOT_CODES})"
    month = f"({lot} / {LOTS_PER_MONTH})"
    letter = f"(({lot} % {LOTS_PER_MONTH}) / {LINES})"
    line = f"({lot} % {LINES} + 1)"
    product = f"({lot} % {PRODUCTS})"
    is_serial = f"{product} >= {SERIAL_PRODUCTS.start}"
    lot_text = (
        f"'L' || {dialect.pad(f'21 + {month} / 12', 2)} || {dialect.pad(f'{month} % 12 + 1', 2)}"
        f" || {dialect.char(f'65 + {letter}')} || {dialect.text(line)}"
    )
    made = f"{month} * 3044 / 100 + h2 % 28"
    columns = (
        "external_id, kind, party_id, product_id, lot, serial, serial_prefix, serial_number,"
        " quantity, manufactured_on, acquired_on, region, postcode, country, source, service,"
        " account_number, area, created_at, updated_at"
    )
    return (
        f"INSERT INTO {Holding._meta.db_table} ({columns})"
        f" SELECT 'H' || {dialect.pad('i', 10)}, 'unit', {first_party} + h3 % {parties},"
        f" {first_product} + {product}, {lot_text},"
        f" CASE WHEN {is_serial} THEN 'SN-' || {dialect.pad('i', 8)} ELSE '' END,"
        f" CASE WHEN {is_serial} THEN 'SN-' ELSE '' END,"
        f" CASE WHEN {is_serial} THEN i END,"
        f" CASE WHEN h4 % 20 = 0 THEN 2 + h4 % 3 ELSE 1 END,"
        f" {dialect.day(made)}, {dialect.day(f'{made} + 20 + h4 % 400')},"
        f" 'R' || {dialect.text('h3 % 50')}, {dialect.pad('h2 % 100000', 5)},"
        f" {dialect.pick(['US', 'GB', 'DE', 'FR', 'ES', 'CA'], 'h4')},"
        f" {dialect.pick(['order', 'registration', 'loyalty', 'shipment'], 'h3')},"
        f" '', '', '', '{NOW}', '{NOW}'"
        f" FROM (SELECT i, {mix('i', 48271, 11)} AS h1, {mix('i', 69621, 13)} AS h2,"
        f" {mix('i', 40692, 17)} AS h3, {mix('i', 39373, 19)} AS h4"
        f" FROM {dialect.series(lo, hi)}) t"
    )


def generate(dialect: Dialect, count: int, parties: int) -> list[int]:
    from recalldesk.registry.models import Holding, Party

    with step("products"):
        products = make_products()
    loader = Loader(dialect)
    with step(f"{parties:,} parties"), loader.without_indexes(Party._meta.db_table):
        for lo in range(1, parties + 1, CHUNK):
            loader.execute(parties_sql(dialect, lo, min(parties, lo + CHUNK - 1)))
    first_party = loader.execute(f"SELECT MIN(id) FROM {Party._meta.db_table}")[0][0]
    with step(f"{count:,} holdings"), loader.without_indexes(Holding._meta.db_table):
        for lo in range(1, count + 1, CHUNK):
            hi = min(count, lo + CHUNK - 1)
            loader.execute(holdings_sql(dialect, lo, hi, first_party, parties, products[0]))
            say(f"    {hi:,} holdings")
    with step("statistics"):
        loader.execute("ANALYZE")
    loader.close()
    if dialect.pg:
        from django.db import connection

        # VACUUM sets the visibility map, as autovacuum would have on a live system.
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {Holding._meta.db_table}, {Party._meta.db_table}")
        settle_writes(connection)
    return products


def settle_writes(connection: Any) -> None:
    """Write out what loading the holdings left in the server's buffers before anything is
    timed: otherwise the checkpoint it sets off writes gigabytes during the builds, which a
    live registry, loaded long before its recall, does not. Needs a superuser or the role
    ``pg_checkpoint``; without it the builds share the disks with that checkpoint."""
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:
        say(f"  no CHECKPOINT ({str(exc).strip()}): a checkpoint may run during the builds")


# --- the scope --------------------------------------------------------------------------


class BenchScope:
    """The scope under test, as rules the naive baseline and the reference also read."""

    def __init__(self, count: int, products: list[int]) -> None:
        self.product_ids = [products[p] for p in (*SCOPE_LOT_PRODUCTS, *SCOPE_SERIAL_PRODUCTS)]
        first, last = WINDOW_MONTHS
        # The lots start two months before the window, so the window leaves some out.
        self.lot_indexes = [
            index
            for index in range((first - 2) * LOTS_PER_MONTH, LOT_CODES)
            if index % PRODUCTS in SCOPE_LOT_PRODUCTS
        ][:SCOPE_LOTS]
        self.lots = [lot_code(i) for i in self.lot_indexes]
        width = max(10, count // 2000)
        stride = max(width + 1, count // SCOPE_RANGES)
        self.ranges = [("SN-", k * stride + 1, k * stride + width) for k in range(SCOPE_RANGES)]
        self.date_from = EPOCH + dt.timedelta(days=month_start(first))
        self.date_to = EPOCH + dt.timedelta(days=month_start(last + 1) - 1)

    def save(self) -> Any:
        """Open the incident and save its scope through the real models."""
        from recalldesk.incidents.choices import DateBasis, IncidentKind, IncidentStatus
        from recalldesk.incidents.models import Incident, Scope, ScopeLot, ScopeSerialRange

        incident = Incident.objects.create(
            reference="RC-BENCH-0001",
            kind=IncidentKind.RECALL,
            title="Space heaters and stacking cups",
            hazard="Overheating; small parts.",
            status=IncidentStatus.ACTIVE,
        )
        scope = Scope.objects.create(
            incident=incident,
            version=1,
            date_basis=DateBasis.MANUFACTURED,
            date_from=self.date_from,
            date_to=self.date_to,
            lots_text="\n".join(self.lots),
            serials_text="\n".join(f"{p}{a}-{p}{b}" for p, a, b in self.ranges),
        )
        scope.products.set(self.product_ids)
        ScopeLot.objects.bulk_create(ScopeLot(scope=scope, lot=lot) for lot in self.lots)
        ScopeSerialRange.objects.bulk_create(
            ScopeSerialRange(scope=scope, prefix=p, first_number=a, last_number=b)
            for p, a, b in self.ranges
        )
        return incident

    def reference_sql(self, dialect: Dialect) -> dict[str, str]:
        """The selection written by hand, literals inline, in the forms each planner likes.

        The reference is the fastest of them: what an expert writing one query for this one
        scope would get, with nothing stored.
        """
        lots = ", ".join(f"'{lot}'" for lot in self.lots)
        serials = " OR ".join(
            f"(h.serial_prefix = '{p}' AND h.serial_number BETWEEN {a} AND {b})"
            for p, a, b in self.ranges
        )
        products = ", ".join(str(p) for p in self.product_ids)
        rules = (
            f"h.kind = 'unit' AND h.product_id IN ({products})"
            f" AND h.manufactured_on BETWEEN '{self.date_from}' AND '{self.date_to}'"
        )
        forms = {
            "one pass, lots OR ranges": (
                f"SELECT COUNT(*) FROM registry_holding h WHERE {rules}"
                f" AND (h.lot IN ({lots}) OR {serials})"
            )
        }
        if not dialect.pg:
            # SQLite picks the product index for the form above (a fifth of the table);
            # a unary plus keeps it on the lot and serial indexes.
            forms["one pass, product index off"] = forms["one pass, lots OR ranges"].replace(
                "h.product_id IN", "+h.product_id IN"
            )
            forms["ids from the indexes, then rows in id order"] = (
                "SELECT COUNT(*) FROM registry_holding h WHERE h.id IN ("
                f"SELECT h.id FROM registry_holding h WHERE h.lot IN ({lots})"
                f" AND h.product_id IN ({products})"
                f" UNION ALL SELECT h.id FROM registry_holding h WHERE {serials})"
                f" AND {rules}"
            )
        return forms

    def affects(self, holding: Any) -> bool:
        if holding.kind != "unit" or holding.product_id not in self._products:
            return False
        made = holding.manufactured_on
        if made is None or not (self.date_from <= made <= self.date_to):
            return False
        if holding.lot in self._lots:
            return True
        number = holding.serial_number
        return number is not None and any(
            holding.serial_prefix == p and a <= number <= b for p, a, b in self.ranges
        )

    def prepare(self) -> None:
        self._products = set(self.product_ids)
        self._lots = set(self.lots)


# --- the measures -----------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def clear_ledger(incident: Any, dialect: Dialect) -> None:
    """Bring the ledger back to the state the first build found: no rows.

    Only the bench's incident has ledger rows here (the naive baseline runs last). On
    PostgreSQL the tables are truncated, so every build writes into new, empty files as the
    first one did; a delete would leave the later builds pages to reuse (and vacuum) that the
    first build did not have, and the three runs would not measure the same thing."""
    from django.db import connection

    from recalldesk.incidents.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        if dialect.pg:
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(f"DELETE FROM {table} WHERE incident_id = %s", [incident.pk])
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def measure_build(
    incident: Any, scope: BenchScope, dialect: Dialect
) -> tuple[list[float], Any, float, int]:
    """Time ``build_ledger`` and the reference counts in turns: each round times every
    reference form once, then one build. Figures on a shared machine drift over minutes, so
    a build and the counts it is compared with are timed in the same minutes.

    Returns the build times, the last run, the best reference form's median and its count.
    """
    from recalldesk.incidents.matching import build_ledger
    from recalldesk.incidents.models import MatchRun

    forms = scope.reference_sql(dialect)
    counts: dict[str, list[float]] = {name: [] for name in forms}
    count = 0
    runs = []
    run = None
    for n in range(RUNS):
        for name, sql in forms.items():
            seconds, count = time_count(sql, dialect)
            counts[name].append(seconds)
            say(f"  reference {name}: {seconds:.2f} s, {count:,} holdings")
        clear_ledger(incident, dialect)
        run = MatchRun.objects.create(incident=incident, scope_version=1)
        seconds, run = timed(partial(build_ledger, run))
        runs.append(seconds)
        say(
            f"  build_ledger run {n + 1}: {seconds:.2f} s, {run.holdings_matched:,} holdings,"
            f" {run.parties_affected:,} parties, {run.units_affected:,} units"
        )
    medians = {name: statistics.median(times) for name, times in counts.items()}
    for name, median in medians.items():
        say(f"  reference {name}: {median:.2f} s median")
    return runs, run, min(medians.values()), count


def measure_row_by_row(incident: Any, dialect: Dialect) -> float | None:
    """One fresh build with the ledger's indexes kept up to date row by row.

    On PostgreSQL a large first match drops the ledger tables' indexes and builds them again
    after its inserts, but only when the tables hold no more rows than it writes (as here,
    where the ledger is emptied before each build) and no other transaction uses them. A
    first match beside a larger ledger, or while the ledger is being read, takes this path.
    """
    if not dialect.pg:
        return None  # SQLite always keeps its indexes up to date row by row
    from recalldesk.incidents import matching
    from recalldesk.incidents.models import MatchRun

    clear_ledger(incident, dialect)
    run = MatchRun.objects.create(incident=incident, scope_version=1)
    bulk_min_rows = matching.BULK_MIN_ROWS
    matching.BULK_MIN_ROWS = sys.maxsize
    try:
        seconds, run = timed(partial(matching.build_ledger, run))
    finally:
        matching.BULK_MIN_ROWS = bulk_min_rows
    say(f"  build_ledger with the indexes kept up to date row by row: {seconds:.2f} s")
    return seconds


def measure_rematch(incident: Any) -> float:
    from recalldesk.incidents.matching import build_ledger
    from recalldesk.incidents.models import MatchRun

    run = MatchRun.objects.create(incident=incident, scope_version=1)
    seconds, run = timed(partial(build_ledger, run))
    say(
        f"  rematch (ledger already built, nothing changed): {seconds:.2f} s,"
        f" {run.still_affected:,} still affected"
    )
    return seconds


def time_count(sql: str, dialect: Dialect) -> tuple[float, int]:
    """One hand-written count, with the session settings the matcher uses."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if dialect.pg:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
        seconds, _ = timed(partial(cursor.execute, sql))
        count = cursor.fetchone()[0]
    return seconds, int(count)


def measure_naive(scope: BenchScope, count: int) -> tuple[float, int]:
    """Read holdings through the ORM, test each in Python, save one ledger row per party.

    The saves share one transaction, which is kinder to the baseline than a commit each.
    """
    from django.db import transaction
    from django.utils import timezone

    from recalldesk.incidents.choices import IncidentKind
    from recalldesk.incidents.models import Incident, LedgerEntry
    from recalldesk.registry.models import Holding

    subset = min(NAIVE_SUBSET, count)
    scope.prepare()
    incident = Incident.objects.create(
        reference="RC-BENCH-NAIVE", kind=IncidentKind.RECALL, title="naive baseline"
    )
    started = time.perf_counter()
    affected: dict[int, list[int]] = {}
    for holding in Holding.objects.filter(id__lte=subset).order_by("id").iterator(10_000):
        if scope.affects(holding):
            figures = affected.setdefault(holding.party_id, [0, 0])
            figures[0] += holding.quantity
            figures[1] += 1
    now = timezone.now()
    with transaction.atomic():
        for party_id, (units, holdings) in affected.items():
            LedgerEntry(
                incident=incident,
                party_id=party_id,
                units=units,
                holdings_count=holdings,
                first_affected_at=now,
                updated_at=now,
            ).save()
    seconds = time.perf_counter() - started
    say(
        f"  naive: {subset:,} holdings in {seconds:.2f} s, {len(affected):,} parties saved;"
        f" scaled to {count:,}: {seconds * count / subset:.1f} s"
    )
    return seconds * count / subset, subset


# --- the run ----------------------------------------------------------------------------


def bench(count: int, url: str) -> dict[str, Any]:
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    dialect = Dialect(connection.vendor)
    say(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    with step("migrate"):
        call_command("migrate", verbosity=0, interactive=False, skip_checks=True)

    parties = max(1000, count // 4)
    products = generate(dialect, count, parties)

    scope = BenchScope(count, products)
    incident = scope.save()
    say(
        f"scope: {len(scope.lots):,} lots, {len(scope.ranges)} serial ranges,"
        f" manufactured {scope.date_from} to {scope.date_to}, {len(scope.product_ids)} products"
    )

    say("build_ledger, and the reference (bare SQL count) in the same rounds:")
    runs, run, reference, reference_count = measure_build(incident, scope, dialect)
    rematch = measure_rematch(incident)
    row_by_row = measure_row_by_row(incident, dialect)
    if run.holdings_matched != reference_count:
        raise RuntimeError(
            f"build_ledger matched {run.holdings_matched} holdings, the reference counts"
            f" {reference_count}"
        )
    say("naive baseline:")
    naive_scaled, _ = measure_naive(scope, count)

    median = statistics.median(runs)
    return {
        "bench": "match",
        "database": dialect.vendor,
        "holdings": count,
        "affected_holdings": run.holdings_matched,
        "affected_parties": run.parties_affected,
        "seconds_median": round(median, 3),
        "runs": [round(r, 3) for r in runs],
        "rematch_seconds": round(rematch, 3),
        "row_by_row_seconds": None if row_by_row is None else round(row_by_row, 3),
        "reference_seconds": round(reference, 3),
        "ratio_to_reference": round(median / reference, 2),
        "naive_seconds_scaled": round(naive_scaled, 1),
        "speedup_vs_naive": round(naive_scaled / median, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdings", type=int, default=10_000_000)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL URL to an existing database (the admin connection); the bench "
        f"creates and drops its own {BENCH_DB} database there. Default: a temporary SQLite file.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards, to profile it"
    )
    args = parser.parse_args()
    tmpdir = None
    if args.database_url:
        url = create_postgres(args.database_url)
    else:
        tmpdir = tempfile.mkdtemp(prefix="recalldesk-bench-")
        url = f"sqlite:///{tmpdir}/bench.sqlite3"
    try:
        figures = bench(args.holdings, url)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            say(f"kept: DATABASE_URL={url}")
        elif args.database_url:
            drop_postgres(args.database_url)
        elif tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
