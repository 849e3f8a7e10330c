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
from recalldesk.incidents.models import Incident, LedgerEntry, LedgerHolding
from recalldesk.registry.choices import (
    Channel,
    ConsigneeKind,
    HoldingKind,
    HoldingSource,
    PartyRole,
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


@dataclass(frozen=True)
class City:
    """A city with its region, time zone, postcode and phone patterns.

    In a pattern ``#`` is a random digit and ``@`` a random letter of those postcodes use.
    """

    name: str
    region: str
    time_zone: str
    postcodes: tuple[str, ...]
    phones: tuple[str, ...]
    language: str = ""  # when most people here speak another language than the country's


@dataclass(frozen=True)
class Market:
    country: str
    language: str
    weight: int
    address: str  # "{n}" is the house number, "{street}" the street
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[City, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _items(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split("|"))


def _cities(table: str) -> tuple[City, ...]:
    """One city a line: name | region | time zone | postcodes | phones [| language]."""
    cities = []
    for line in table.strip().splitlines():
        name, region, zone, postcodes, phones, *language = _items(line)
        cities.append(
            City(name, region, zone, _words(postcodes), _words(phones), "".join(language))
        )
    return tuple(cities)


EN_FIRST = _words("""James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth
    William Barbara Richard Susan Joseph Jessica Thomas Sarah Daniel Karen Matthew Emily Anthony
    Olivia Mark Sophia Steven Grace Andrew Chloe Joshua Hannah Kevin Megan Brian Amy""")
EN_LAST = _words("""Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor
    Thomas Moore Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen
    King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Patel""")
GB_LAST = _words("""Smith Jones Taylor Brown Williams Wilson Johnson Davies Evans Thomas
    Roberts Walker Wright Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis
    Martin Jackson Clarke Turner Hill Scott Cooper Morris Ward Khan Murphy Ali""")
DE_FIRST = _words("""Lukas Anna Leon Marie Finn Sophie Jonas Emma Paul Mia Felix Hannah Elias
    Lena Noah Laura Max Lea Ben Lina Jan Katharina Tobias Julia Stefan Sabine Thomas Petra""")
DE_LAST = _words("""Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann
    Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger
    Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann""")
FR_FIRST = _words("""Gabriel Louise Léo Jade Raphaël Ambre Arthur Alice Louis Emma Jules Lina
    Adam Chloé Hugo Léa Lucas Manon Nathan Camille Théo Inès Antoine Élodie Nicolas Claire""")
FR_LAST = _words("""Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent
    Simon Michel Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert
    Fontaine Rousseau Vincent Tremblay Gagnon Roy Côté Bouchard Gauthier""")
ES_FIRST = _words("""Hugo Lucía Martín Sofía Daniel María Pablo Martina Alejandro Paula Lucas
    Julia Álvaro Valeria Adrián Emma Mateo Daniela Javier Carmen Sergio Laura Carlos Elena""")
ES_LAST = _words("""García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez
    Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro
    Torres Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina""")
EN_STREETS = _items("""Main Street | Oak Avenue | Maple Drive | Cedar Lane | Park Avenue |
    Washington Street | Lake Road | Hillcrest Drive | Elm Street | Pine Street | Church Street |
    River Road | Highland Avenue | Willow Way | Meadow Lane""")
GB_STREETS = _items("""High Street | Station Road | Church Lane | Victoria Road | Green Lane |
    Manor Road | Park Road | Queens Road | Mill Lane | The Crescent | Kings Road | Albert Street |
    Grange Road | New Road | School Lane""")
DE_STREETS = _items("""Hauptstraße | Schulstraße | Gartenstraße | Bahnhofstraße | Dorfstraße |
    Bergstraße | Birkenweg | Lindenstraße | Kirchstraße | Waldstraße | Ringstraße |
    Schillerstraße | Goethestraße | Rosenweg | Mühlenweg""")
FR_STREETS = _items("""rue de la République | rue Victor Hugo | avenue Jean Jaurès |
    rue Pasteur | boulevard Gambetta | rue de la Paix | rue du Moulin | place de l'Église |
    rue des Écoles | avenue de la Gare | rue Nationale | allée des Tilleuls | rue de Verdun""")
ES_STREETS = _items("""Calle Mayor | Calle Real | Avenida de la Constitución | Calle del Sol |
    Calle de la Iglesia | Plaza de España | Calle Nueva | Avenida de Andalucía |
    Calle San Juan | Calle del Carmen | Calle de Alcalá | Calle Colón | Avenida del Puerto""")
CA_FR_STREETS = _items("""rue Saint-Denis | boulevard René-Lévesque | rue Sherbrooke |
    avenue du Parc | rue Sainte-Catherine | chemin de la Côte-des-Neiges""")

MARKETS: tuple[Market, ...] = (
    Market("US", "en", 40, "{n} {street}", EN_FIRST, EN_LAST, EN_STREETS, _cities("""
        New York | NY | America/New_York | 100## 101## | +121255501##
        Chicago | IL | America/Chicago | 606## | +131255501##
        Houston | TX | America/Chicago | 770## | +171355501##
        Phoenix | AZ | America/Phoenix | 850## | +160255501##
        Philadelphia | PA | America/New_York | 191## | +121555501##
        San Diego | CA | America/Los_Angeles | 921## | +161955501##
        Denver | CO | America/Denver | 802## | +130355501##
        Seattle | WA | America/Los_Angeles | 981## | +120655501##
        Atlanta | GA | America/New_York | 303## | +140455501##
        Minneapolis | MN | America/Chicago | 554## | +161255501##
        Boston | MA | America/New_York | 021## | +161755501##
        Columbus | OH | America/New_York | 432## | +161455501##""")),
    Market("GB", "en", 16, "{n} {street}", EN_FIRST, GB_LAST, GB_STREETS, _cities("""
        London | Greater London | Europe/London | SW1A_#@@ E1_#@@ SE1_#@@ NW3_#@@ | +442079460###
        Leeds | West Yorkshire | Europe/London | LS1_#@@ LS6_#@@ | +4411349600##
        Manchester | Greater Manchester | Europe/London | M1_#@@ M14_#@@ | +4416149600##
        Birmingham | West Midlands | Europe/London | B1_#@@ B15_#@@ | +4412149600##
        Bristol | Bristol | Europe/London | BS1_#@@ BS8_#@@ | +4411749600##
        Edinburgh | Scotland | Europe/London | EH1_#@@ EH3_#@@ | +4413149600##
        Glasgow | Scotland | Europe/London | G1_#@@ G12_#@@ | +4414149600##
        Cardiff | Wales | Europe/London | CF10_#@@ | +4429201800##
        Belfast | Northern Ireland | Europe/London | BT1_#@@ | +4428901800##""")),
    Market("DE", "de", 14, "{street} {n}", DE_FIRST, DE_LAST, DE_STREETS, _cities("""
        Berlin | Berlin | Europe/Berlin | 10### 12### | +4930231250##
        Hamburg | Hamburg | Europe/Berlin | 20### 22### | +4940669690##
        München | Bayern | Europe/Berlin | 80### 81### | +4989999980##
        Köln | Nordrhein-Westfalen | Europe/Berlin | 50### 51### | +492214710###
        Frankfurt am Main | Hessen | Europe/Berlin | 60### | +4969900090##""")),
    Market("FR", "fr", 12, "{n} {street}", FR_FIRST, FR_LAST, FR_STREETS, _cities("""
        Paris | Île-de-France | Europe/Paris | 7500# 7501# | +3319900####
        Lyon | Auvergne-Rhône-Alpes | Europe/Paris | 6900# | +3346571####
        Marseille | Provence-Alpes-Côte d'Azur | Europe/Paris | 1300# 1301# | +3346571####
        Toulouse | Occitanie | Europe/Paris | 3100# 3150# | +3353649####
        Lille | Hauts-de-France | Europe/Paris | 5900# | +3335301####
        Nantes | Pays de la Loire | Europe/Paris | 4400# 4430# | +3326191####
        Bordeaux | Nouvelle-Aquitaine | Europe/Paris | 3300# 3380# | +3353649####""")),
    Market("ES", "es", 8, "{street}, {n}", ES_FIRST, ES_LAST, ES_STREETS, _cities("""
        Madrid | Comunidad de Madrid | Europe/Madrid | 280## | +346########
        Barcelona | Cataluña | Europe/Madrid | 080## | +346########
        Valencia | Comunidad Valenciana | Europe/Madrid | 460## | +346########
        Sevilla | Andalucía | Europe/Madrid | 410## | +346########
        Bilbao | País Vasco | Europe/Madrid | 480## | +346########
        Zaragoza | Aragón | Europe/Madrid | 500## | +346########""")),
    Market("CA", "en", 7, "{n} {street}", EN_FIRST, EN_LAST, EN_STREETS, _cities("""
        Toronto | ON | America/Toronto | M5V_#@# M4C_#@# | +141655501##
        Montréal | QC | America/Toronto | H2X_#@# H3A_#@# | +151455501## | fr
        Québec | QC | America/Toronto | G1R_#@# | +141855501## | fr
        Vancouver | BC | America/Vancouver | V6B_#@# | +160455501##
        Calgary | AB | America/Edmonton | T2P_#@# | +140355501##
        Ottawa | ON | America/Toronto | K1P_#@# | +161355501##
        Halifax | NS | America/Halifax | B3H_#@# | +190255501##""")),
    Market("AU", "en", 3, "{n} {street}", EN_FIRST, EN_LAST, GB_STREETS, _cities("""
        Sydney | NSW | Australia/Sydney | 20## | +6125550####
        Melbourne | VIC | Australia/Melbourne | 30## | +6137010####
        Brisbane | QLD | Australia/Brisbane | 40## | +6175550####
        Perth | WA | Australia/Perth | 60## | +6185550####
        Adelaide | SA | Australia/Adelaide | 50## | +6185550####""")),
)  # fmt: skip

# French speakers in Canada get French names and streets.
CA_FRENCH = (FR_FIRST, FR_LAST, CA_FR_STREETS)
POSTCODE_LETTERS = "ABEGHJLNPRSTWXYZ"
DIGITS = "0123456789"
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# One distributor per country; "{city}" in a store name is the store's city.
CONSIGNEES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("US", "Northwind Distribution Inc.", _items("""Home & Hearth {city} |
        Bright Kids Toys {city} | FreshWay Market {city} | {city} Appliance Center |
        Corner Hardware {city} | Main Street Pharmacy {city}""")),
    ("GB", "Atlas Wholesale Ltd", _items("""Hearth & Home {city} | Toy Chest {city} |
        Greengate Foods {city} | {city} Electricals | The Ironmonger {city}""")),
    ("DE", "Rhein-Main Handel GmbH", _items("""Haushalt Center {city} |
        Spielwaren Sonnenschein {city} | Frischmarkt {city} | Elektro Fachmarkt {city}""")),
    ("FR", "Hexagone Distribution SAS", _items("""Maison & Foyer {city} |
        Le Coffre à Jouets {city} | Épicerie du Marché {city} | Électroménager {city}""")),
    ("ES", "Suministros Iberia S.L.", _items("""Hogar y Confort {city} |
        Juguetería Arcoíris {city} | Supermercado La Plaza {city} | Electrodomésticos {city}""")),
    ("CA", "Maple Leaf Supply Co.", _items("""Home Hardware {city} | Northern Toys {city} |
        Harvest Grocer {city} | {city} Appliance Depot""")),
)  # fmt: skip
DEALER_WORDS = ("Appliance", "Electricals", "Elektro", "Électroménager", "Electrodomésticos")


@dataclass(frozen=True)
class ProductLine:
    """One product of the demo company; ``launched`` is how many months ago it first shipped."""

    sku: str
    name: str
    brand: str
    family: str  # appliance, toy, food or service
    price: str
    currency: str
    weight: int  # how often it is held, relative to the others
    launched: int
    serials: bool
    description: str


def _products(table: str) -> tuple[ProductLine, ...]:
    """One product a line: sku | name | brand | family | price | currency | weight |
    launched | serials (y/n) | description."""
    lines = []
    for line in table.strip().splitlines():
        sku, name, brand, family, price, currency, weight, launched, serials, about = _items(line)
        lines.append(
            ProductLine(
                sku, name, brand, family, price, currency, int(weight), int(launched),
                serials == "y", about,
            )
        )  # fmt: skip
    return tuple(lines)


PRODUCTS = _products("""
HW-HT1500 | Hearthwell HT-1500 Oil-Filled Radiator Heater, 1500 W | Hearthwell | appliance | 79.99 | USD | 60 | 40 | y | Portable oil-filled radiator with thermostat and tip-over switch.
HW-HT2000 | Hearthwell HT-2000 Ceramic Tower Heater, 2000 W | Hearthwell | appliance | 99.99 | USD | 45 | 30 | y | Oscillating ceramic tower heater with remote control.
HW-FH1800 | Hearthwell FH-1800 Compact Fan Heater | Hearthwell | appliance | 39.99 | USD | 40 | 36 | y | Compact fan heater with two heat settings.
HW-KT17 | Hearthwell Cordless Kettle 1.7 L | Hearthwell | appliance | 34.99 | USD | 50 | 36 | y | Stainless steel kettle with boil-dry protection.
HW-TS2 | Hearthwell 2-Slice Toaster | Hearthwell | appliance | 29.99 | USD | 35 | 36 | y | Two-slice toaster with seven browning levels.
HW-HB600 | Hearthwell Hand Blender 600 W | Hearthwell | appliance | 27.50 | USD | 25 | 30 | y | Hand blender with whisk and chopper bowl.
HW-AF4 | Hearthwell Air Fryer 4 L | Hearthwell | appliance | 89.00 | USD | 40 | 24 | y | Four-litre air fryer with digital controls.
HW-EB2 | Hearthwell Heated Throw Blanket | Hearthwell | appliance | 59.99 | USD | 20 | 30 | y | Heated fleece throw with auto shut-off.
BR-DF30 | Brisa Desk Fan 30 cm | Brisa | appliance | 24.90 | EUR | 25 | 36 | y | Three-speed desk fan.
BR-DH12 | Brisa Dehumidifier 12 L | Brisa | appliance | 149.00 | EUR | 12 | 30 | y | Twelve-litre dehumidifier with humidity display.
LO-RING | Little Oak Stacking Rings | Little Oak | toy | 12.99 | GBP | 45 | 36 | n | Seven wooden stacking rings for ages 12 months and up.
LO-RATL | Little Oak Wooden Rattle | Little Oak | toy | 9.50 | GBP | 35 | 36 | n | Beech wood rattle for babies.
LO-BUNNY | Little Oak Plush Bunny, 30 cm | Little Oak | toy | 16.00 | GBP | 40 | 36 | n | Soft plush bunny with embroidered eyes.
LO-TILES | Little Oak Magnetic Tiles, 64 pieces | Little Oak | toy | 44.99 | GBP | 30 | 24 | n | Magnetic building tiles for ages 3 and up.
LO-SORT | Little Oak Shape Sorter | Little Oak | toy | 14.99 | GBP | 25 | 36 | n | Wooden shape sorter with twelve shapes.
LO-DUCK | Little Oak Pull-Along Duck | Little Oak | toy | 19.99 | GBP | 20 | 36 | n | Pull-along wooden duck on a cord.
LO-BATH | Little Oak Bath Squirters, 4-pack | Little Oak | toy | 8.99 | GBP | 30 | 30 | n | Four squeezable bath toys.
KW-ZUG | Kinderwald Holzeisenbahn Starter-Set | Kinderwald | toy | 39.90 | EUR | 20 | 36 | n | Wooden railway starter set, 24 pieces.
KW-BAU50 | Kinderwald Bauklötze, 50 Teile | Kinderwald | toy | 24.90 | EUR | 20 | 36 | n | Fifty wooden building blocks in a bag.
ML-PB340 | Meadow Larder Smooth Peanut Butter 340 g | Meadow Larder | food | 3.49 | USD | 60 | 30 | n | Smooth peanut butter, no added sugar.
ML-GRAN6 | Meadow Larder Oat & Honey Granola Bars, 6 x 35 g | Meadow Larder | food | 2.99 | USD | 55 | 30 | n | Oat and honey granola bars.
ML-RICE | Meadow Larder Baby Rice Cereal 200 g | Meadow Larder | food | 2.49 | USD | 35 | 30 | n | Baby rice cereal for 4 months and up.
ML-CHOC | Meadow Larder Dark Chocolate 70 %, 100 g | Meadow Larder | food | 1.99 | EUR | 50 | 30 | n | Dark chocolate bar, 70 % cocoa.
ML-PIE | Meadow Larder Spinach & Feta Pie, frozen, 400 g | Meadow Larder | food | 4.29 | GBP | 25 | 24 | n | Frozen spinach and feta pie.
ML-HUM | Meadow Larder Classic Houmous 200 g | Meadow Larder | food | 1.89 | GBP | 40 | 24 | n | Chilled classic houmous.
ML-OAT | Meadow Larder Oat Drink 1 L | Meadow Larder | food | 1.79 | EUR | 45 | 24 | n | Oat drink, unsweetened.
ML-SOUP | Meadow Larder Tomato Soup 400 g | Meadow Larder | food | 1.49 | EUR | 35 | 30 | n | Tomato soup in a can.
HW-CONNECT | Hearthwell Connect smart heating subscription | Hearthwell | service | 4.99 | USD | 0 | 24 | n | Remote control and alerts for Hearthwell heaters, billed monthly.
""")  # noqa: E501
SERVICE_PLANS = ("Hearthwell Connect Basic", "Hearthwell Connect Plus")
STAFF: tuple[tuple[str, str, str], ...] = (
    ("coordinator", "Maya", "Okafor"),
    ("agent", "Sam", "Delgado"),
    ("approver", "Ruth", "Lindqvist"),
    ("analyst", "Priya", "Raman"),
    ("admin", "Tomasz", "Nowak"),
)


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
        for model in (LedgerHolding, LedgerEntry):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE party_id IN ({parties})")
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
CASE_SIZES = (12, 24, 48, 96, 240)


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


RECALL_HAZARD = (
    "The thermostat of the heater can fail and the heater can overheat, posing fire and burn "
    "hazards. Hearthwell has received 41 reports of heaters overheating, including 6 reports "
    "of fires that damaged property and 3 reports of minor burns."
)
FOOD_QUANTITIES = (1, 1, 1, 1, 2, 2, 3, 4, 6)
DISCOUNTS = (Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0.9"), Decimal("0.8"))
SOURCES = {
    "appliance": (HoldingSource.REGISTRATION,) * 4 + (HoldingSource.ORDER,) * 3
    + (HoldingSource.WARRANTY, HoldingSource.LOYALTY),
    "toy": (HoldingSource.ORDER,) * 6 + (HoldingSource.LOYALTY,) * 3
    + (HoldingSource.REGISTRATION,),
    "food": (HoldingSource.LOYALTY,) * 7 + (HoldingSource.ORDER,) * 3,
}  # fmt: skip
LOT_PATTERN = {"appliance": ("AB", 4), "toy": ("A", 3), "food": ("ABC", 2)}

PARTY_COLUMNS = (
    "id", "uuid", "role", "external_id", "name", "consignee_kind", "parent_id", "email", "phone",
    "address_line1", "address_line2", "city", "region", "postcode", "country", "language",
    "time_zone", "preferred_channels", "opted_out_channels", "created_at", "updated_at",
)  # fmt: skip
HOLDING_COLUMNS = (
    "id", "external_id", "kind", "party_id", "product_id", "lot", "serial", "serial_prefix",
    "serial_number", "quantity", "manufactured_on", "acquired_on", "region", "postcode",
    "country", "source", "unit_price", "service", "account_number", "area", "period_start",
    "period_end", "created_at", "updated_at",
)  # fmt: skip


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
