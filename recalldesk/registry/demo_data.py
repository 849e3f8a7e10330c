"""The static tables the demo company is drawn from.

Markets (names, streets, cities with their regions, time zones, postcode and phone patterns),
consignees, the product catalogue, the staff, the lot and holding patterns, the recall's hazard
and the columns the rows are written in. ``recalldesk.registry.demo`` builds the company from
them; its docstring says why the phone numbers, GTINs and emails can never reach anyone real.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from recalldesk.registry.choices import HoldingSource


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
RECALL_HAZARD = (
    "The thermostat of the heater can fail and the heater can overheat, posing fire and burn "
    "hazards. Hearthwell has received 41 reports of heaters overheating, including 6 reports "
    "of fires that damaged property and 3 reports of minor burns."
)
CASE_SIZES = (12, 24, 48, 96, 240)
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
