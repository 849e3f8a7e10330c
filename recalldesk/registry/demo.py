"""A demo company for recalldesk: products, customers, consignees, holdings, staff, a recall.

``manage.py demo`` builds it. Every value is drawn from one ``random.Random(seed)``, so the same
seed gives the same company. Rows are generated as tuples and written in large chunks, with
one raw ``INSERT`` per chunk (``executemany``) on SQLite or ``COPY`` on PostgreSQL, all in one
transaction: a million holdings take seconds, and a run that fails leaves nothing behind.

Demo rows can be told from real ones: parties and holdings have external ids that start with
``DEMO-``, and products carry GTINs under GS1's prefix 952, which GS1 keeps for
demonstrations, so no real product is ever mistaken for a demo one. Emails use the example
domains. Phone numbers come from the ranges regulators set aside for drama where a country
has them (NANP 555-01xx, Ofcom's drama numbers, ARCEP's fiction numbers, ACMA's fictitious
numbers, the Bundesnetzagentur's film numbers), so a demo wave sent through a real provider
calls nobody. Spain has no such range; its numbers are random but valid.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib.auth.models import User
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from stdnum import ean

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.incidents import actions
from recalldesk.incidents.choices import Classification, IncidentKind, IncidentStatus
from recalldesk.incidents.forms import ScopeForm
from recalldesk.incidents.matching import build_ledger
from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.registry.choices import (
    Channel,
    ConsigneeKind,
    HoldingKind,
    HoldingSource,
    PartyRole,
)
from recalldesk.registry.demo_data import (
    CA_FRENCH,
    CASE_SIZES,
    CONSIGNEES,
    DEALER_WORDS,
    DIGITS,
    DISCOUNTS,
    EMAIL_DOMAINS,
    FOOD_QUANTITIES,
    HOLDING_COLUMNS,
    LOT_PATTERN,
    MARKETS,
    PARTY_COLUMNS,
    POSTCODE_LETTERS,
    PRODUCTS,
    RECALL_HAZARD,
    SERVICE_PLANS,
    SOURCES,
    STAFF,
    City,
    Market,
    ProductLine,
)
from recalldesk.registry.models import ConsigneeContact, Holding, Party, Product
from recalldesk.registry.serials import split_serial
from recalldesk.staff.roles import ensure_roles

DEMO_PASSWORD = "recall-demo-2026"
MARK = "DEMO-"
GTIN_STEM = "9521234"  # GS1 prefix 952 (demonstrations) and a made-up company number
# The demo's "today": fixed, so that a seed always gives the same company.
ANCHOR = dt.date(2026, 9, 30)
CHUNK = 50_000
Row = Sequence[Any]


class DemoPresent(Exception):
    """The database already holds demo data and ``--fresh`` was not given."""


@dataclass
class Figures:
    """What the demo built, for the closing summary."""

    products: int = 0
    customers: int = 0
    consignees: int = 0
    contacts: int = 0
    unit_holdings: int = 0
    service_holdings: int = 0
    staff: int = 0
    incident: str = ""
    ledger_parties: int = 0
    ledger_holdings: int = 0
    ledger_units: int = 0


def build_demo(
    customers: int, holdings: int, seed: int, fresh: bool, say: Callable[[str], None]
) -> Figures:
    """Build the demo company in one transaction; refuse if one is there and not ``fresh``."""
    demo = Demo(random.Random(seed), say)
    # The scope's match is built right here, synchronously, so the ledger is there when the
    # console opens; the copy that saving a scope queues would only run it a second time.
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}), transaction.atomic():
        if demo_present():
            if not fresh:
                raise DemoPresent("demo data already present; use --fresh to wipe and rebuild it")
            with demo.step("wiped the previous demo"):
                wipe_demo()
        demo.build(customers, holdings)
    return demo.figures


DUMMY_TASKS = "django_tasks.backends.dummy.DummyBackend"


def demo_present() -> bool:
    return (
        Party.objects.filter(external_id__startswith=MARK).exists()
        or Product.objects.filter(gtin__startswith=GTIN_STEM).exists()
    )


def wipe_demo() -> None:
    """Delete the demo's rows, in set-based SQL: the ORM would load a million holdings first."""
    parties = (
        f"SELECT id FROM {Party._meta.db_table}"
        f" WHERE external_id >= '{MARK}' AND external_id < '{MARK[:-1]}.'"
    )
    products = (
        f"SELECT id FROM {Product._meta.db_table}"
        f" WHERE gtin >= '{GTIN_STEM}' AND gtin < '{int(GTIN_STEM) + 1}'"
    )
    incidents = list(
        Incident.objects.filter(scope__products__gtin__startswith=GTIN_STEM)
        .distinct()
        .values_list("id", flat=True)
    )
    with connection.cursor() as cursor:
        from recalldesk.outreach.models import Delivery

        if incidents:
            marks = ", ".join(str(pk) for pk in incidents)
            cursor.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE incident_id IN ({marks})")
        cursor.execute(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE party_id IN ({parties})")
        ChangeRecord.objects.filter(
            object_type__app_label="incidents",
            object_type__model="incident",
            object_id__in=[str(pk) for pk in incidents],
        ).delete()
        Incident.objects.filter(pk__in=incidents).delete()
        cursor.execute(
            f"DELETE FROM {ConsigneeContact._meta.db_table} WHERE party_id IN ({parties})"
        )
        cursor.execute(
            f"DELETE FROM {Holding._meta.db_table}"
            f" WHERE external_id >= '{MARK}' AND external_id < '{MARK[:-1]}.'"
        )
        cursor.execute(
            f"UPDATE {Party._meta.db_table} SET parent_id = NULL WHERE parent_id IN ({parties})"
        )
        cursor.execute(f"DELETE FROM {Party._meta.db_table} WHERE id IN ({parties})")
        through = Product.scopes.through._meta.db_table
        cursor.execute(f"DELETE FROM {through} WHERE product_id IN ({products})")
        cursor.execute(f"DELETE FROM {Product._meta.db_table} WHERE id IN ({products})")


@dataclass
class Place:
    """Where a party lives or trades, as the registry stores it."""

    market: Market
    city: City
    language: str
    line1: str
    postcode: str


# Dates as stored, by days before ANCHOR: a list lookup instead of date arithmetic per row.
DAYS = [(ANCHOR - dt.timedelta(days=n)).isoformat() for n in range(4 * 366)]


class HoldingPlan:
    """The choices a holding of one product is drawn from, made once per product."""

    def __init__(self, line: ProductLine, product: int, rng: random.Random) -> None:
        self.line = line
        self.product = product
        # (days from the month's first day to ANCHOR, lot stem): a lot is made in one month,
        # on one shift (A, B, ...) and one line (1, 2, ...): L2407A1.
        self.months = []
        for ago in range(1, line.launched + 1):
            year, month = _month(ANCHOR, ago)
            first = (ANCHOR - dt.date(year, month, 1)).days
            self.months.append((first, f"L{year % 100:02d}{month:02d}"))
        shifts, lines = LOT_PATTERN[line.family]
        self.suffixes = [f"{shift}{n}" for shift in shifts for n in range(1, lines + 1)]
        self.quantities = FOOD_QUANTITIES if line.family == "food" else (1,)
        self.sources = SOURCES[line.family]
        self.prices = [
            str((Decimal(line.price) * discount).quantize(Decimal("0.01")))
            for discount in DISCOUNTS
        ]


class Demo:
    """Draws the demo company from one random generator and writes it, step by step."""

    def __init__(self, rng: random.Random, say: Callable[[str], None]) -> None:
        self.rng = rng
        self.say = say
        self.figures = Figures()
        self.now = timezone.now()
        self.stored_now = connection.ops.adapt_datetimefield_value(self.now)
        self.pg = connection.vendor == "postgresql"
        self._ascii: dict[str, str] = {}

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.say(f"  {label} ({time.perf_counter() - started:.1f} s)")

    def build(self, customers: int, holdings: int) -> None:
        started = time.perf_counter()
        with self.step(f"{len(PRODUCTS)} products with GTINs and SKUs"):
            products = self.make_products()
        with self.step(f"{customers:,} customers in {len(MARKETS)} countries"):
            people = self.make_customers(customers)
        with self.step("consignees: distributors, retailers and dealers, with contacts"):
            stores = self.make_consignees()
        with self.step(f"{holdings:,} holdings"):
            made = self.make_holdings(holdings, products, people, stores)
        with self.step("staff users with their roles"):
            staff = self.make_staff()
        with self.step("the demo recall, its scope and its ledger"):
            self.make_recall(staff["coordinator"], products, made)
        self.say(f"  built in {time.perf_counter() - started:.1f} s")

    # --- products -------------------------------------------------------------------

    def make_products(self) -> dict[str, Product]:
        rows = []
        for n, line in enumerate(PRODUCTS):
            stem = f"{GTIN_STEM}{n + 1:05d}"
            rows.append(
                Product(
                    gtin=stem + ean.calc_check_digit(stem),
                    sku=line.sku,
                    name=line.name,
                    brand=line.brand,
                    description=line.description,
                    unit_price=Decimal(line.price),
                    currency=line.currency,
                )
            )
        Product.objects.bulk_create(rows)
        self.figures.products = len(rows)
        return {p.sku: p for p in Product.objects.filter(gtin__startswith=GTIN_STEM)}

    # --- parties --------------------------------------------------------------------

    def ascii(self, text: str) -> str:
        if text not in self._ascii:
            plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            self._ascii[text] = "".join(c for c in plain.lower() if c.isalnum())
        return self._ascii[text]

    def fill(self, pattern: str) -> str:
        """``#`` becomes a random digit, ``@`` a random postcode letter, ``_`` a space."""
        rand = self.rng.random
        return "".join(
            DIGITS[int(rand() * 10)] if c == "#"
            else POSTCODE_LETTERS[int(rand() * len(POSTCODE_LETTERS))] if c == "@"
            else " " if c == "_"
            else c
            for c in pattern
        )  # fmt: skip

    def place(self, market: Market) -> Place:
        rng = self.rng
        city = rng.choice(market.cities)
        language = city.language or market.language
        streets = CA_FRENCH[2] if language == "fr" and market.country == "CA" else market.streets
        line1 = market.address.format(n=rng.randint(1, 240), street=rng.choice(streets))
        return Place(market, city, language, line1, self.fill(rng.choice(city.postcodes)))

    def person(self, place: Place) -> tuple[str, str]:
        market = place.market
        if place.language == "fr" and market.country == "CA":
            return self.rng.choice(CA_FRENCH[0]), self.rng.choice(CA_FRENCH[1])
        return self.rng.choice(market.first_names), self.rng.choice(market.last_names)

    def party_row(self, pk: int, external_id: str, name: str, place: Place, **extra: Any) -> Row:
        key = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        return (
            pk,
            str(key) if self.pg else key.hex,
            extra.get("role", PartyRole.CONSUMER),
            external_id,
            name,
            extra.get("kind", ""),
            extra.get("parent"),
            extra.get("email", ""),
            extra.get("phone", ""),
            place.line1,
            extra.get("line2", ""),
            place.city.name,
            place.city.region,
            place.postcode,
            place.market.country,
            place.language,
            place.city.time_zone,
            json.dumps(extra.get("preferred", [])),
            json.dumps(extra.get("opted_out", [])),
            self.stored_now,
            self.stored_now,
        )

    def make_customers(self, count: int) -> list[Place]:
        rng = self.rng
        first = next_id(Party)
        markets = rng.choices(MARKETS, weights=[m.weight for m in MARKETS], k=count)
        places: list[Place] = []
        rows = []
        for n, market in enumerate(markets):
            place = self.place(market)
            given, family = self.person(place)
            email = ""
            if rng.random() < 0.92:
                domain = rng.choice(EMAIL_DOMAINS)
                email = f"{self.ascii(given)}.{self.ascii(family)}{n + 1}@{domain}"
            phone = self.fill(rng.choice(place.city.phones)) if rng.random() < 0.85 else ""
            line2 = f"Apt {rng.randint(1, 30)}{rng.choice('ABCD')}" if rng.random() < 0.06 else ""
            roll = rng.random()
            preferred = (
                [Channel.EMAIL] if roll < 0.55 else [Channel.SMS, Channel.EMAIL] if roll < 0.8
                else [Channel.LETTER] if roll < 0.85 else []
            )  # fmt: skip
            opted_out = [
                channel
                for channel, share in (
                    (Channel.EMAIL, 0.03),
                    (Channel.SMS, 0.06),
                    (Channel.PHONE, 0.02),
                )
                if rng.random() < share
            ]
            rows.append(
                self.party_row(
                    first + n,
                    f"{MARK}C{n + 1:07d}",
                    f"{given} {family}",
                    place,
                    email=email,
                    phone=phone,
                    line2=line2,
                    preferred=preferred,
                    opted_out=opted_out,
                )
            )
            places.append(place)
        write_rows(Party, PARTY_COLUMNS, rows)
        self.first_customer = first
        self.figures.customers = count
        return places

    def make_consignees(self) -> list[tuple[int, Place]]:
        """A distributor per country, each with the retailers and dealers it supplies."""
        rng = self.rng
        by_country = {m.country: m for m in MARKETS}
        pk = next_id(Party)
        rows: list[Row] = []
        contacts: list[ConsigneeContact] = []
        stores: list[tuple[int, Place]] = []
        for d, (country, distributor, patterns) in enumerate(CONSIGNEES):
            market = by_country[country]
            place = self.place(market)
            parent = pk
            rows.append(
                self.party_row(
                    pk,
                    f"{MARK}D{d + 1:02d}",
                    distributor,
                    place,
                    role=PartyRole.CONSIGNEE,
                    kind=ConsigneeKind.DISTRIBUTOR,
                    email=f"recalls.{self.ascii(distributor)[:20]}@example.net",
                    phone=self.fill(place.city.phones[0]),
                )
            )
            contacts += self.contacts(pk, place, ("Recall coordinator", "Quality manager"))
            stores.append((pk, place))
            pk += 1
            for r, pattern in enumerate(patterns * 2):
                place = self.place(market)
                name = pattern.format(city=place.city.name)
                if r >= len(patterns):
                    name = f"{name} {rng.choice(('North', 'Centre', 'West', 'Mall', 'Station'))}"
                dealer = any(word in name for word in DEALER_WORDS)
                rows.append(
                    self.party_row(
                        pk, f"{MARK}R{d + 1:02d}{r + 1:02d}", name, place,
                        role=PartyRole.CONSIGNEE, parent=parent,
                        kind=ConsigneeKind.DEALER if dealer else ConsigneeKind.RETAILER,
                        email=f"store{d + 1}{r + 1:02d}@{rng.choice(EMAIL_DOMAINS)}",
                        phone=self.fill(place.city.phones[0]),
                    )
                )  # fmt: skip
                contacts += self.contacts(pk, place, ("Store manager",))
                stores.append((pk, place))
                pk += 1
        write_rows(Party, PARTY_COLUMNS, rows)
        ConsigneeContact.objects.bulk_create(contacts)
        self.figures.consignees = len(rows)
        self.figures.contacts = len(contacts)
        return stores

    def contacts(self, party_id: int, place: Place, roles: Sequence[str]) -> list[ConsigneeContact]:
        found = []
        for role in roles:
            given, family = self.person(place)
            found.append(
                ConsigneeContact(
                    party_id=party_id,
                    name=f"{given} {family}",
                    role=role,
                    email=f"{self.ascii(given)}.{self.ascii(family)}@example.net",
                    phone=self.fill(self.rng.choice(place.city.phones)),
                )
            )
        return found

    # --- holdings -------------------------------------------------------------------

    def make_holdings(
        self,
        count: int,
        products: dict[str, Product],
        people: list[Place],
        stores: list[tuple[int, Place]],
    ) -> list[list[Any]]:
        """Units held by customers, stock held by consignees, and service accounts.

        A million rows are drawn here, so the draws are ``random()`` and list lookups into
        tables made once per product (days, lot codes, prices), not calls per field.
        """
        started = time.perf_counter()
        rng = self.rng
        rand = rng.random
        services = min(4000, count // 250)
        shipments = min(3000, count // 100)
        units = count - services - shipments
        lines = [line for line in PRODUCTS if line.family != "service"]
        plans = [HoldingPlan(line, products[line.sku].pk, rng) for line in lines]
        picks = rng.choices(plans, weights=[line.weight for line in lines], k=units)
        where = [(p.city.region, p.postcode, p.market.country) for p in people]
        days = DAYS
        now = self.stored_now
        first = next_id(Holding)
        rows: list[list[Any]] = []
        # Holdings come customer by customer, as an export from a CRM would: the two
        # indexes on the party then grow at their end, which halves the cost of the insert.
        persons = sorted(int(rand() * len(people)) for _ in range(units))
        for n, (plan, person) in enumerate(zip(picks, persons, strict=True)):
            region, postcode, country = where[person]
            month_start, stem = plan.months[int(rand() * len(plan.months))]
            made = month_start - int(rand() * 28)
            rows.append(
                [first + n, f"{MARK}H{n + 1:08d}", HoldingKind.UNIT, self.first_customer + person,
                 plan.product, stem + plan.suffixes[int(rand() * len(plan.suffixes))], "", "",
                 None, plan.quantities[int(rand() * len(plan.quantities))], days[made],
                 days[max(made - 14 - int(rand() * 287), 0)], region, postcode, country,
                 plan.sources[int(rand() * len(plan.sources))],
                 plan.prices[int(rand() * len(plan.prices))], "", "", "", None, None, now, now]
            )  # fmt: skip
        self.assign_serials(rows, [plan.product for plan in plans if plan.line.serials])
        next_pk = first + units
        for n in range(shipments):
            store, place = rng.choice(stores)
            plan = rng.choice(plans)
            month_start, stem = rng.choice(plan.months)
            made = month_start - rng.randrange(28)
            rows.append(
                [next_pk + n, f"{MARK}S{n + 1:07d}", HoldingKind.UNIT, store, plan.product,
                 stem + rng.choice(plan.suffixes), "", "", None, rng.choice(CASE_SIZES),
                 days[made], days[max(made - rng.randint(7, 60), 0)], place.city.region,
                 place.postcode, place.market.country, HoldingSource.SHIPMENT, plan.prices[0],
                 "", "", "", None, None, now, now]
            )  # fmt: skip
        next_pk += shipments
        service = products["HW-CONNECT"]
        for n in range(services):
            person = rng.randrange(len(people))
            region, postcode, country = where[person]
            start = rng.randint(20, 700)
            end = days[max(start - rng.randint(30, 365), 0)] if rand() < 0.15 else None
            rows.append(
                [next_pk + n, f"{MARK}A{n + 1:07d}", HoldingKind.SERVICE,
                 self.first_customer + person, service.pk, "", "", "", None, 1, None, None,
                 region, postcode, country, HoldingSource.SUBSCRIPTION, str(service.unit_price),
                 rng.choice(SERVICE_PLANS), f"HC-{rng.randrange(10**8):08d}",
                 people[person].city.name, days[start], end, now, now]
            )  # fmt: skip
        self.say(f"    drawn in {time.perf_counter() - started:.1f} s")
        write_rows(Holding, HOLDING_COLUMNS, rows, bulk=True)
        self.figures.unit_holdings = units + shipments
        self.figures.service_holdings = services
        return rows[:units]

    def assign_serials(self, rows: list[list[Any]], serial_products: list[int]) -> None:
        """Serials grow with the production date, with gaps for units never registered."""
        by_product: dict[int, list[list[Any]]] = {pk: [] for pk in serial_products}
        for row in rows:
            if row[4] in by_product:
                by_product[row[4]].append(row)
        rand = self.rng.random
        for k, pk in enumerate(serial_products):
            number = 1_000_000 * k + 10_000  # SN-0010001 on: a million numbers per product
            for row in sorted(by_product[pk], key=lambda r: (r[10], r[0])):
                number += 1 + int(rand() * 3)
                row[6] = f"SN-{number:07d}"
                row[7], row[8] = split_serial(row[6])

    # --- staff and the recall ---------------------------------------------------------

    def make_staff(self) -> dict[str, User]:
        groups = ensure_roles()
        staff = {}
        for username, given, family in STAFF:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = given, family
            user.email = f"{username}@example.com"
            user.is_staff = user.is_superuser = username == "admin"
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([groups[username]])
            staff[username] = user
        self.figures.staff = len(staff)
        return staff

    def make_recall(
        self, coordinator: User, products: dict[str, Product], made: Sequence[Row]
    ) -> None:
        """Open the recall of two heaters, save its scope and build its ledger."""
        incident = actions.do_create_incident(
            coordinator,
            Incident(
                kind=IncidentKind.RECALL,
                title="Hearthwell HT-1500 and HT-2000 heaters can overheat",
                hazard=RECALL_HAZARD,
                classification=Classification.SERIOUS,
                default_language="en",
                detected_at=self.now - dt.timedelta(days=9),
            ),
        )
        actions.do_change_status(
            coordinator, incident, IncidentStatus.ACTIVE, reason="Recall agreed with the CPSC."
        )
        heater, tower = products["HW-HT1500"], products["HW-HT2000"]
        months = [_month(ANCHOR, ago) for ago in range(12, 7, -1)]
        lots = []
        for year, month in months:
            stem = f"L{year % 100:02d}{month:02d}"
            lots.append(f"{stem}A1 through {stem}A4")
            lots += [f"{stem}B2", f"{stem}B3"]
        window_from = dt.date(*months[0], 1)
        window_to = dt.date(*_month(ANCHOR, 7), 1) - dt.timedelta(days=1)
        serials = sorted(
            row[8] for row in made if row[4] == tower.pk and window_from.isoformat() <= row[10]
        )
        first, last = (
            (serials[len(serials) // 4], serials[len(serials) * 3 // 4]) if serials else (1, 1)
        )
        form = ScopeForm(
            data={
                "products": f"{heater.gtin}\n{tower.gtin}",
                "lots": "\n".join(lots),
                "serials": f"SN-{first:07d} through SN-{last:07d}",
                "date_basis": "manufactured",
                "date_from": window_from.isoformat(),
                "date_to": window_to.isoformat(),
            },
            incident=incident,
        )
        if not form.is_valid():
            raise RuntimeError(f"the demo scope does not validate: {form.errors.as_text()}")
        run = actions.do_save_scope(
            coordinator,
            incident,
            form.cleaned_data,
            {"lots": form.data["lots"], "serials": form.data["serials"]},
        )
        run = build_ledger(run)
        figures = {
            "holdings": run.holdings_matched,
            "parties": run.parties_affected,
            "units": run.units_affected,
            "newly_affected": run.newly_affected,
        }
        changes = {key: [None, value] for key, value in figures.items()}
        note = f"scope v{run.scope_version}"
        record_change(coordinator, incident, ChangeRecord.Action.MATCHED, changes, note=note)
        self.figures.incident = f"{incident.reference} {incident.title}"
        self.figures.ledger_parties = run.parties_affected
        self.figures.ledger_holdings = run.holdings_matched
        self.figures.ledger_units = run.units_affected


def _month(day: dt.date, ago: int) -> tuple[int, int]:
    year, month = divmod(day.year * 12 + day.month - 1 - ago, 12)
    return year, month + 1


def next_id(model: type[Party] | type[Holding]) -> int:
    """The first free id: rows are written with their ids, so holdings can name parties."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return int(cursor.fetchone()[0])


def write_rows(
    model: type[Party] | type[Holding],
    columns: Sequence[str],
    rows: Iterable[Row],
    bulk: bool = False,
) -> None:
    """Write rows fast: ``COPY`` on PostgreSQL, one ``INSERT`` per chunk on SQLite."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(sql)
            return
        # Each index is built once over the sorted rows afterwards rather than kept up to
        # date through a million random inserts; the schema comes back as the migrations
        # made it, inside the same transaction.
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
            " AND sql IS NOT NULL",
            [model._meta.db_table],
        )
        indexes = [sql for (sql,) in cursor.fetchall()] if bulk else []
        for sql in indexes:
            cursor.execute("DROP INDEX " + sql.split('"')[1])
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        it = iter(rows)
        while chunk := list(islice(it, CHUNK)):
            cursor.executemany(sql, chunk)
        for sql in indexes:
            cursor.execute(sql)
