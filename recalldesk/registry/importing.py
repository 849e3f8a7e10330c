"""Importing the registry: products, customers, consignees and holdings from CSV and Excel
files, or from batches of rows pushed through the API.

A file is imported in two passes. Pass 1 streams the file row by row, checks every row and
spools the cleaned valid rows to a temporary file; problems and progress are saved as it goes,
outside any transaction, so the import page can show them. Pass 2 reads the spool back and
upserts it in batches inside one transaction: a file is imported whole (or its valid rows, when
asked) or not at all.

Rows are matched on their key (external id; SKU for products) and only the columns present in
the file are compared and written. Importing the same file twice changes nothing, and a file
with fewer columns leaves the other fields of existing rows alone.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import pickle
import re
import tempfile
import zipfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from operator import itemgetter
from pathlib import PurePath
from typing import IO, Any

import openpyxl
import phonenumbers
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.files import File
from django.core.validators import EmailValidator
from django.db import connection, models, transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from stdnum import ean
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.registry.choices import (
    Channel,
    ConsigneeKind,
    HoldingKind,
    HoldingSource,
    ImportKind,
    ImportStatus,
    PartyRole,
)
from recalldesk.registry.models import (
    ConsigneeContact,
    Holding,
    ImportProblem,
    ImportRun,
    Party,
    Product,
)
from recalldesk.registry.serials import split_serial

EXTENSIONS = (".csv", ".txt", ".xlsx")
MAX_PROBLEMS = 10_000
API_MAX_ROWS = 5_000
PROBLEM_FLUSH = 1_000
SAVE_AS_UTF8 = 'Save the file as UTF-8 (in Excel: "CSV UTF-8") and upload it again.'

Progress = Callable[[ImportRun], None]


# --- Columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column an import understands: its name, the other headers it goes by, an example."""

    name: str
    aliases: str = ""  # other headers, space separated
    required: bool = False
    example: str = ""


def _address_columns() -> tuple[Column, ...]:
    return (
        Column("address_line1", "address address1 address_1 street street_address"),
        Column("address_line2", "address2 address_2 address_line_2"),
        Column("city", "town locality", example="Springfield"),
        Column("region", "state province county", example="IL"),
        Column("postcode", "postal_code post_code zip zip_code zipcode", example="62701"),
        Column("country", "country_code", example="US"),
    )


PARTY_COLUMNS = (
    Column("name", "full_name customer_name company company_name", True, "Jane Doe"),
    Column("email", "e_mail email_address mail", example="jane@example.com"),
    Column("phone", "phone_number telephone tel mobile mobile_phone cell", example="+12175550134"),
    *_address_columns(),
    Column("language", "lang locale preferred_language", example="en"),
    Column("time_zone", "timezone tz", example="America/Chicago"),
    Column("preferred_channels", "channels preferred_channel", example="email,sms"),
    Column("opted_out_channels", "opted_out opt_out do_not_contact"),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.PRODUCTS: (
        Column("sku", "product_sku item_number item_no article_number part_number", True, "HTR-2"),
        Column("gtin", "gtin14 gtin_14 upc ean ean13 ean_13 barcode", example="00012345678905"),
        Column("name", "product_name title item_name", True, "Space heater 200"),
        Column("brand", "brand_name make", example="Warmco"),
        Column("description", "details"),
        Column("unit_price", "price list_price", example="49.99"),
        Column("currency", "currency_code", example="USD"),
    ),
    ImportKind.CUSTOMERS: (
        Column(
            "external_id",
            "customer_id customer_external_id customer_number customer_no party party_id id",
            True,
            "C-1001",
        ),
        *PARTY_COLUMNS,
    ),
    ImportKind.CONSIGNEES: (
        Column(
            "external_id",
            "consignee_id consignee_external_id consignee_number party party_id id",
            True,
            "D-17",
        ),
        *PARTY_COLUMNS,
        Column("consignee_kind", "consignee_type kind type", example="retailer"),
        Column("parent_external_id", "parent parent_id parent_consignee"),
        Column("contact_name", "contact", example="Sam Lee"),
        Column("contact_role", "contact_title", example="Store manager"),
        Column("contact_email", "contact_e_mail", example="sam@example.com"),
        Column("contact_phone", "contact_telephone"),
    ),
    ImportKind.HOLDINGS: (
        Column(
            "external_id",
            "holding_id holding_external_id registration_id record_id id",
            True,
            "H-500001",
        ),
        Column(
            "party_external_id",
            "party party_id customer customer_id customer_external_id consignee consignee_id "
            "consignee_external_id holder",
            True,
            "C-1001",
        ),
        Column("party_role", "role holder_role"),
        Column("product", "product_gtin product_sku gtin upc ean barcode sku", example="HTR-2"),
        Column("kind", "holding_kind type"),
        Column("lot", "batch lot_number batch_number lot_code batch_code lot_no", example="L24-07"),
        Column("serial", "serial_number serial_no s/n sn", example="SN-000123"),
        Column("quantity", "qty units count", example="1"),
        Column(
            "manufactured_on",
            "manufacture_date manufactured production_date mfg_date date_of_manufacture",
            example="2024-07-01",
        ),
        Column(
            "acquired_on",
            "purchase_date purchased_on sale_date sold_on ship_date shipped_on order_date acquired",
            example="2024-08-15",
        ),
        *_address_columns()[3:],
        Column("source", "data_source record_source", example="order"),
        Column("unit_price", "price price_paid paid", example="49.99"),
        Column("service", "plan service_plan service_name"),
        Column("account_number", "account account_no account_id"),
        Column("area", "service_area zone"),
        Column("period_start", "service_start start_date"),
        Column("period_end", "service_end end_date"),
    ),
}

KEYS: dict[str, str] = {
    ImportKind.PRODUCTS: "sku",
    ImportKind.CUSTOMERS: "external_id",
    ImportKind.CONSIGNEES: "external_id",
    ImportKind.HOLDINGS: "external_id",
}
# Which model fields a column writes, when not the field of the same name.
WRITES: dict[str, tuple[str, ...]] = {
    "party_external_id": ("party_id",),
    "party_role": (),
    "product": ("product_id",),
    "serial": ("serial", "serial_prefix", "serial_number"),
    "parent_external_id": ("_parent",),
    "contact_name": ("_contact",),
    "contact_role": ("_contact",),
    "contact_email": ("_contact",),
    "contact_phone": ("_contact",),
}
ALWAYS_WRITTEN: dict[str, tuple[str, ...]] = {ImportKind.HOLDINGS: ("kind", "party_id")}


@dataclass(frozen=True)
class Target:
    """Where an import kind writes: the model, its unique key and the values every row gets."""

    model: type[models.Model]
    unique: tuple[str, ...]
    fixed: dict[str, Any]


TARGETS: dict[str, Target] = {
    ImportKind.PRODUCTS: Target(Product, ("sku",), {}),
    ImportKind.CUSTOMERS: Target(Party, ("role", "external_id"), {"role": PartyRole.CONSUMER}),
    ImportKind.CONSIGNEES: Target(Party, ("role", "external_id"), {"role": PartyRole.CONSIGNEE}),
    ImportKind.HOLDINGS: Target(Holding, ("external_id",), {}),
}


def normalise_header(text: str) -> str:
    """``"E-mail Address "`` -> ``"e_mail_address"``; ``"Lot #"`` -> ``"lot"``."""
    text = re.sub(r"[\s\-]+", "_", text.strip().lower())
    text = re.sub(r"[.#:()]", "", text)
    return re.sub(r"_+", "_", text).strip("_")


@cache
def _aliases(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for alias in (column.name, *column.aliases.split()):
            table[normalise_header(alias)] = column.name
    return table


@cache
def _limits(kind: str) -> dict[str, int]:
    """The longest text each column may hold, from the model fields it is stored in."""
    model = TARGETS[kind].model
    limits = {"party_external_id": 64, "parent_external_id": 64}
    limits.update(contact_name=200, contact_role=100)
    for column in COLUMNS[kind]:
        try:
            length = getattr(model._meta.get_field(column.name), "max_length", None)
        except FieldDoesNotExist:
            continue
        if length:
            limits[column.name] = length
    return limits


def template_csv(kind: str) -> str:
    """A CSV with the header line of ``kind`` and one example row, for people to fill in."""
    columns = COLUMNS[kind]
    buffer = _Echo()
    writer = csv.writer(buffer, lineterminator="\n")
    return writer.writerow([c.name for c in columns]) + writer.writerow(
        [c.example for c in columns]
    )


# --- Values --------------------------------------------------------------------------------


class Invalid(Exception):
    """A value that cannot be imported; the message says why and what is expected."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong: the line (or row index in an API batch), column, value and why."""

    line: int | None
    column: str
    value: str
    message: str


def _cell(value: Any) -> Any:
    """A cell as text, or as a date when Excel gave one."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(item).strip() for item in value)
    return str(value).strip()


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def clean_gtin(value: Any) -> str:
    digits = re.sub(r"[\s-]", "", _text(value))
    if not (digits.isascii() and digits.isdigit()):
        raise Invalid("A GTIN has only digits.")
    if len(digits) not in (8, 12, 13, 14):
        hint = ""
        if len(digits) in (7, 11):
            hint = " Excel may have dropped its leading zero: format the column as text."
        raise Invalid(f"A GTIN has 8, 12, 13 or 14 digits, not {len(digits)}.{hint}")
    try:
        ean.validate(digits)
    except InvalidChecksum as exc:
        expected = ean.calc_check_digit(digits[:-1])
        raise Invalid(f"The check digit is wrong: it should be {expected}.") from exc
    except StdnumError as exc:
        raise Invalid("This is not a valid GTIN.") from exc
    return digits.zfill(14)


def clean_money(value: Any) -> Decimal:
    text = _text(value).replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise Invalid("Write the price as a number, such as 19.99.") from exc
    if not amount.is_finite() or amount < 0:
        raise Invalid("Write the price as a number of 0 or more, such as 19.99.")
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("A price has at most two decimals.")
    if amount >= 10**10:
        raise Invalid("This price is too large.")
    return amount.quantize(Decimal("0.01"))


def clean_currency(value: Any) -> str:
    text = _text(value).upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise Invalid("Use the three-letter ISO currency code, such as USD or EUR.")
    return text


_EMAIL = EmailValidator()


def clean_email(value: Any) -> str:
    text = _text(value)
    try:
        _EMAIL(text)
    except ValidationError as exc:
        raise Invalid("This is not a valid email address.") from exc
    if len(text) > 254:
        raise Invalid("This email address is longer than 254 characters.")
    return text


def clean_phone(value: Any, country: str) -> str:
    text = _text(value)
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException as exc:
        raise Invalid(
            "This phone number cannot be read: write it with its country code "
            "(such as +44 20 7946 0000) or give the row a country."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        where = f" in {country}" if country and not text.startswith("+") else ""
        raise Invalid(f"This is not a valid phone number{where}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# phonenumbers knows every ISO 3166 country with phones; these are the ones without.
_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}


def clean_country(value: Any) -> str:
    text = _text(value).upper()
    if text not in _COUNTRIES:
        hint = " (GB for the United Kingdom)" if text == "UK" else ""
        raise Invalid(f"Use the two-letter ISO country code, such as US, GB or DE{hint}.")
    return text


_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_]([a-z]{4}))?(?:[-_]([a-z]{2}|\d{3}))?$", re.I)


def clean_language(value: Any) -> str:
    match = _LANGUAGE.match(_text(value))
    if not match:
        raise Invalid("Write the language as a code such as en, fr, de, es or pt-BR.")
    language, script, region = match.groups()
    parts = [language.lower(), script.title() if script else "", region.upper() if region else ""]
    return "-".join(part for part in parts if part)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_time_zone(value: Any) -> str:
    text = _text(value)
    if text not in _time_zones():
        raise Invalid("Use a time zone name such as Europe/Paris or America/New_York.")
    return text


@cache
def _choice_map(choices: type[models.TextChoices]) -> dict[str, str]:
    table = {str(label).lower(): value for value, label in choices.choices}
    table.update({value: value for value in choices.values})
    return table


def clean_choice(value: Any, choices: type[models.TextChoices]) -> str:
    found = _choice_map(choices).get(_text(value).lower())
    if found is None:
        raise Invalid(f"Use one of: {', '.join(choices.values)}.")
    return found


def clean_channels(value: Any) -> list[str]:
    table = _choice_map(Channel)
    picked = []
    for part in re.split(r"[,;|]", _text(value)):
        part = part.strip().lower()
        if not part:
            continue
        if part not in table:
            raise Invalid(f"Unknown channel {part!r}: use {', '.join(Channel.values)}.")
        picked.append(table[part])
    return list(dict.fromkeys(picked))


def clean_party_role(value: Any) -> str:
    text = _text(value).lower()
    if text in ("customer", "consumer"):
        return PartyRole.CONSUMER
    if text == "consignee":
        return PartyRole.CONSIGNEE
    raise Invalid("Use consumer (or customer) or consignee.")


def clean_quantity(value: Any) -> int:
    text = _text(value)
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise Invalid("The quantity is a whole number of 1 or more.")
    if int(text) > 2_147_483_647:
        raise Invalid("This quantity is too large.")
    return int(text)


_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ][\d:.]+)?$")


def clean_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    match = _DATE.match(_text(value))
    if not match:
        raise Invalid("Write dates as YYYY-MM-DD, such as 2024-03-31.")
    year, month, day = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise Invalid("There is no such date.") from exc


def clean_past_date(value: Any, today: date) -> date:
    day = clean_date(value)
    if day > today:
        raise Invalid("This date is in the future.")
    return day


# --- Checking rows -------------------------------------------------------------------------


class Row:
    """The cells of one row by column name, and the problems found while checking them."""

    __slots__ = ("cells", "ctx", "line", "problems")

    def __init__(self, ctx: Context, line: int, cells: dict[str, Any]) -> None:
        self.ctx = ctx
        self.line = line
        self.cells = cells
        self.problems: list[Problem] = []

    def fail(self, name: str, message: str, value: Any = None) -> None:
        if value is None:
            value = self.cells.get(name, "")
        column = self.ctx.names.get(name, name)
        self.problems.append(Problem(self.line, column, _text(value)[:200], message[:300]))

    def text(self, name: str, required: bool = False) -> str:
        value = self.cells.get(name, "")
        text = value if isinstance(value, str) else _text(value)
        if not text:
            if required:
                self.fail(name, "A value is required.")
            return ""
        limit = self.ctx.limits.get(name)
        if limit and len(text) > limit:
            self.fail(name, f"This is longer than {limit} characters.")
            return ""
        return text

    def get(self, name: str, cleaner: Callable[..., Any], default: Any = None, *args: Any) -> Any:
        value = self.cells.get(name, "")
        if value == "":
            return default
        try:
            return cleaner(value, *args)
        except Invalid as exc:
            self.fail(name, str(exc))
            return default


@dataclass
class Context:
    """What checking one file or batch needs: its columns, lookups and the keys already seen."""

    kind: str
    index: dict[str, int]
    names: dict[str, str]
    width: int
    where: str = "line"
    out_fields: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)
    today: date = field(default_factory=timezone.localdate)
    seen: dict[str, int] = field(default_factory=dict)
    gtins_in_file: dict[str, int] = field(default_factory=dict)
    gtin_owner: dict[str, str] = field(default_factory=dict)
    sku_ids: dict[str, int] = field(default_factory=dict)
    gtin_ids: dict[str, int] = field(default_factory=dict)
    party_ids: dict[str, dict[str, int]] = field(default_factory=dict)
    valid_in_file: set[str] = field(default_factory=set)

    def pick(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(itemgetter(*self.out_fields)(values))

    @property
    def write_fields(self) -> list[str]:
        key = KEYS[self.kind]
        return [f for f in self.out_fields if f != key and not f.startswith("_")]


def build_context(
    kind: str, header: Sequence[Any], line: int | None
) -> tuple[Context, list[Problem], list[str]]:
    """Map the header to columns; returns the context, header problems and notes.

    Unknown columns are a note, not an error: the file may carry more than the registry.
    """
    aliases = _aliases(kind)
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    unknown: list[str] = []
    problems: list[Problem] = []
    for position, cell in enumerate(header):
        text = _text(_cell(cell))
        if not text:
            continue
        name = aliases.get(normalise_header(text))
        if name is None:
            unknown.append(text)
        elif name in index:
            message = f"The columns {names[name]!r} and {text!r} both give {name}; keep one."
            problems.append(Problem(line, text, "", message))
        else:
            index[name] = position
            names[name] = text
    missing = [c.name for c in COLUMNS[kind] if c.required and c.name not in index]
    if missing:
        expected = ", ".join(c.name for c in COLUMNS[kind])
        message = f"Missing required column(s): {', '.join(missing)}. The columns are: {expected}."
        problems.append(Problem(line, "", "", message[:300]))
    notes = []
    if unknown:
        notes.append(f"Ignored column(s): {', '.join(unknown)}.")
    out = [KEYS[kind]]
    for name in index:
        out.extend(WRITES.get(name, (name,)))
    out.extend(ALWAYS_WRITTEN.get(kind, ()))
    ctx = Context(
        kind=kind,
        index=index,
        names=names,
        width=len(header),
        out_fields=tuple(dict.fromkeys(out)),
        limits=_limits(kind),
    )
    return ctx, problems, notes


def load_lookups(ctx: Context) -> None:
    """Load the keys the rows of ``ctx.kind`` refer to, once, so no row needs a query."""
    if ctx.kind in (ImportKind.PRODUCTS, ImportKind.HOLDINGS):
        for pk, sku, gtin in Product.objects.values_list("id", "sku", "gtin").iterator(10_000):
            ctx.sku_ids[sku] = pk
            if gtin:
                ctx.gtin_ids[gtin] = pk
                ctx.gtin_owner[gtin] = sku
    if ctx.kind in (ImportKind.HOLDINGS, ImportKind.CONSIGNEES):
        roles = [PartyRole.CONSIGNEE]
        if ctx.kind == ImportKind.HOLDINGS:
            roles.append(PartyRole.CONSUMER)
        for role in roles:
            ctx.party_ids[role] = dict(
                Party.objects.filter(role=role)
                .values_list("external_id", "id")
                .iterator(chunk_size=10_000)
            )


def check_row(
    ctx: Context, line: int, cells: Sequence[Any]
) -> tuple[tuple[Any, ...] | None, list[Problem]]:
    """Check one row; returns its cleaned values (in ``ctx.out_fields`` order) or its problems."""
    count = len(cells)
    by_name = {}
    for name, position in ctx.index.items():
        cell = cells[position] if position < count else ""
        by_name[name] = cell.strip() if type(cell) is str else _cell(cell)
    row = Row(ctx, line, by_name)
    if count > ctx.width and any(_cell(cell) != "" for cell in cells[ctx.width :]):
        row.fail(
            "",
            f"This {ctx.where} has {count} values but the header names {ctx.width} columns; "
            "check the delimiter and the quotes.",
            "",
        )
    values = CHECKS[ctx.kind](row, ctx)
    key_name = KEYS[ctx.kind]
    key = values[key_name]
    if key:
        first = ctx.seen.setdefault(key, line)
        if first != line:
            row.fail(key_name, f"The same {key_name} is on {ctx.where} {first}.")
    if row.problems:
        return None, row.problems
    if ctx.kind == ImportKind.CONSIGNEES:
        ctx.valid_in_file.add(key)
    return ctx.pick(values), []


def _check_product(row: Row, ctx: Context) -> dict[str, Any]:
    values = {
        "sku": row.text("sku", required=True),
        "gtin": row.get("gtin", clean_gtin),
        "name": row.text("name", required=True),
        "brand": row.text("brand"),
        "description": row.text("description"),
        "unit_price": row.get("unit_price", clean_money),
        "currency": row.get("currency", clean_currency, ""),
    }
    gtin = values["gtin"]
    if gtin:
        first = ctx.gtins_in_file.setdefault(gtin, row.line)
        owner = ctx.gtin_owner.get(gtin)
        if first != row.line:
            row.fail("gtin", f"The same GTIN is on {ctx.where} {first}.")
        elif owner not in (None, values["sku"]):
            row.fail("gtin", f"This GTIN already belongs to the product with SKU {owner}.")
    return values


def _check_party(row: Row, ctx: Context) -> dict[str, Any]:
    country = row.get("country", clean_country, "")
    values = {
        "external_id": row.text("external_id", required=True),
        "name": row.text("name", required=True),
        "email": row.get("email", clean_email, ""),
        "phone": row.get("phone", clean_phone, "", country),
        "address_line1": row.text("address_line1"),
        "address_line2": row.text("address_line2"),
        "city": row.text("city"),
        "region": row.text("region"),
        "postcode": row.text("postcode"),
        "country": country,
        "language": row.get("language", clean_language, ""),
        "time_zone": row.get("time_zone", clean_time_zone, ""),
        "preferred_channels": row.get("preferred_channels", clean_channels, []),
        "opted_out_channels": row.get("opted_out_channels", clean_channels, []),
    }
    if ctx.kind == ImportKind.CONSIGNEES:
        values["consignee_kind"] = row.get("consignee_kind", clean_choice, "", ConsigneeKind)
        values["_parent"] = _parent_ref(row, ctx, values["external_id"])
        values["_contact"] = _contact(row, country)
    return values


def _parent_ref(row: Row, ctx: Context, external_id: str) -> str:
    parent = row.text("parent_external_id")
    if not parent:
        return ""
    if parent == external_id:
        row.fail("parent_external_id", "A consignee cannot be its own parent.")
    elif parent not in ctx.valid_in_file and parent not in ctx.party_ids[PartyRole.CONSIGNEE]:
        line = ctx.seen.get(parent)
        if line is not None and line < row.line:
            message = f"The parent on {ctx.where} {line} has errors."
        else:
            message = (
                "No consignee has this external id, earlier in the file or already "
                "imported; put the parent before its children."
            )
        row.fail("parent_external_id", message)
    return parent


def _contact(row: Row, country: str) -> tuple[str, str, str, str] | None:
    name = row.text("contact_name")
    role = row.text("contact_role")
    email = row.get("contact_email", clean_email, "")
    phone = row.get("contact_phone", clean_phone, "", country)
    if not (name or role or email or phone):
        return None
    if not name:
        row.fail("contact_name", "Give the contact's name with their role, email or phone.")
    return (name, role, email, phone)


def _check_holding(row: Row, ctx: Context) -> dict[str, Any]:
    today = ctx.today
    service = row.text("service")
    kind = row.get("kind", clean_choice, "", HoldingKind)
    kind = kind or (HoldingKind.SERVICE if service else HoldingKind.UNIT)
    lot = row.text("lot")
    serial = row.text("serial")
    prefix, number = split_serial(serial) if serial else ("", None)
    values = {
        "external_id": row.text("external_id", required=True),
        "kind": kind,
        "party_id": _party_ref(row, ctx),
        "product_id": _product_ref(row, ctx, kind),
        "lot": lot,
        "serial": serial,
        "serial_prefix": prefix,
        "serial_number": number,
        "quantity": row.get("quantity", clean_quantity, 1),
        "manufactured_on": row.get("manufactured_on", clean_past_date, None, today),
        "acquired_on": row.get("acquired_on", clean_past_date, None, today),
        "region": row.text("region"),
        "postcode": row.text("postcode"),
        "country": row.get("country", clean_country, ""),
        "source": row.get("source", clean_choice, HoldingSource.ORDER, HoldingSource),
        "unit_price": row.get("unit_price", clean_money),
        "service": service,
        "account_number": row.text("account_number"),
        "area": row.text("area"),
        "period_start": row.get("period_start", clean_past_date, None, today),
        "period_end": row.get("period_end", clean_date),
    }
    if kind == HoldingKind.UNIT and not (lot or serial):
        row.fail("lot", "A holding needs a lot, a serial or a service.", "")
    if kind == HoldingKind.SERVICE and not service:
        row.fail("service", "A service holding needs a service.", "")
    made, acquired = values["manufactured_on"], values["acquired_on"]
    if made and acquired and acquired < made:
        row.fail("acquired_on", "This is before the date it was manufactured.")
    start, end = values["period_start"], values["period_end"]
    if start and end and end < start:
        row.fail("period_end", "The period ends before it starts.")
    return values


def _party_ref(row: Row, ctx: Context) -> int | None:
    ref = row.text("party_external_id", required=True)
    role = row.get("party_role", clean_party_role, "")
    if not ref:
        return None
    if role:
        party_id = ctx.party_ids[role].get(ref)
    else:
        party_id = ctx.party_ids[PartyRole.CONSUMER].get(ref)
        if party_id is None:
            party_id = ctx.party_ids[PartyRole.CONSIGNEE].get(ref)
    if party_id is None:
        who = {PartyRole.CONSUMER: "customer", PartyRole.CONSIGNEE: "consignee"}.get(role)
        who = who or "customer or consignee"
        row.fail("party_external_id", f"No {who} has this external id; import them first.")
    return party_id


def _product_ref(row: Row, ctx: Context, kind: str) -> int | None:
    ref = row.text("product")
    if not ref:
        if kind == HoldingKind.UNIT:
            row.fail("product", "A unit holding needs its product's GTIN or SKU.", "")
        return None
    product_id = ctx.sku_ids.get(ref)
    if product_id is None:
        digits = re.sub(r"[\s-]", "", ref)
        if digits.isascii() and digits.isdigit() and len(digits) <= 14:
            product_id = ctx.gtin_ids.get(digits.zfill(14))
    if product_id is None:
        row.fail("product", "No product has this GTIN or SKU; import the products first.")
    return product_id


CHECKS: dict[str, Callable[[Row, Context], dict[str, Any]]] = {
    ImportKind.PRODUCTS: _check_product,
    ImportKind.CUSTOMERS: _check_party,
    ImportKind.CONSIGNEES: _check_party,
    ImportKind.HOLDINGS: _check_holding,
}


# --- Writing rows --------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    """What an import did: rows created, updated and unchanged, or the problems that stopped it."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    run: ImportRun | None = None


def write_batch(
    ctx: Context, rows: list[tuple[Any, ...]], tally: ImportOutcome
) -> list[tuple[str, str]]:
    """Upsert one batch of checked rows; returns the consignee parent links to set afterwards.

    The existing rows of the batch are read in one query and compared field by field, so
    unchanged rows are not written at all and the counts say exactly what happened.
    """
    target = TARGETS[ctx.kind]
    key = KEYS[ctx.kind]
    fields = ctx.write_fields
    items = [dict(zip(ctx.out_fields, row, strict=True)) for row in rows]
    extra = {"_parent": F("parent__external_id")} if "_parent" in ctx.out_fields else {}
    existing = {
        old[key]: old
        for old in target.model._default_manager.filter(
            **target.fixed, **{f"{key}__in": [item[key] for item in items]}
        ).values(key, *fields, **extra)
    }
    contacts = _existing_contacts(existing) if "_contact" in ctx.out_fields else {}
    to_write: list[dict[str, Any]] = []
    new_contacts: list[tuple[str, tuple[str, str, str, str]]] = []
    parent_links: list[tuple[str, str]] = []
    for item in items:
        parent = item.pop("_parent", None)
        contact = item.pop("_contact", None)
        old = existing.get(item[key])
        if old is None:
            tally.created += 1
            to_write.append(item)
            changed = True
        else:
            changed = any(old[name] != item[name] for name in fields)
            if changed:
                to_write.append(item)
        if parent is not None and ((old or {}).get("_parent") or "") != parent:
            parent_links.append((item[key], parent))
            changed = True
        if contact and contacts.get((item[key], contact[2], contact[3])) != contact[:2]:
            new_contacts.append((item[key], contact))
            changed = True
        if old is not None:
            if changed:
                tally.updated += 1
            else:
                tally.unchanged += 1
    if to_write:
        upsert(target, to_write, fields)
    if new_contacts:
        _write_contacts(new_contacts)
    return parent_links


def upsert(target: Target, items: list[dict[str, Any]], fields: list[str]) -> None:
    """Write new and changed rows with one ``INSERT ... ON CONFLICT DO UPDATE`` per batch.

    A changed row keeps every field this import does not carry, and a new row gets the
    model's defaults for them. Plain SQL, because ``bulk_create`` spends most of an import
    compiling each value and, on SQLite, holds a statement to 999 parameters (40 holdings).
    """
    meta = target.model._meta
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    given = items[0].keys()  # every row of a batch carries the same fields
    model_fields = [f for f in meta.concrete_fields if not f.primary_key]
    # A template row holds the values every row shares; only the rest is filled per row.
    template: list[Any] = []
    fill: list[tuple[int, str, Callable[[Any], Any] | None]] = []
    fresh: list[tuple[int, Any, Callable[[Any], Any]]] = []
    for position, model_field in enumerate(model_fields):
        convert = _db_value(model_field)
        name = model_field.attname
        template.append(None)
        if name in ("created_at", "updated_at"):
            template[position] = now
        elif name in target.fixed:
            template[position] = convert(target.fixed[name])
        elif name in given:
            fill.append((position, name, None if convert is _same else convert))
        elif callable(model_field.default):
            fresh.append((position, model_field, convert))
        else:
            template[position] = convert(model_field.get_default())
    rows = []
    for item in items:
        row = template.copy()
        for position, name, to_db in fill:
            value = item[name]
            row[position] = value if to_db is None else to_db(value)
        for position, model_field, make in fresh:
            row[position] = make(model_field.get_default())
        rows.append(row)
    quote = ops.quote_name

    def column(name: str) -> str:
        return quote(str(getattr(meta.get_field(name), "column", name)))

    columns = [quote(str(f.column)) for f in model_fields]
    unique = [column(name) for name in target.unique]
    updates = [column(name) for name in [*fields, "updated_at"]]
    insert = f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) VALUES "
    one_row = f"({', '.join(['%s'] * len(columns))})"
    on_conflict = f" ON CONFLICT ({', '.join(unique)}) DO UPDATE SET " + ", ".join(
        f"{name} = EXCLUDED.{name}" for name in updates
    )
    if connection.vendor == "postgresql":
        _upsert_postgresql(quote(meta.db_table), columns, rows, on_conflict)
        return
    with connection.cursor() as cursor:
        # One prepared statement that SQLite runs for every row, in C.
        cursor.executemany(insert + one_row + on_conflict, rows)


def _upsert_postgresql(
    table: str, columns: list[str], rows: list[list[Any]], on_conflict: str
) -> None:
    """COPY the batch into a temporary table, then upsert it all with one INSERT ... SELECT.

    A statement per row costs PostgreSQL a round trip and an executor start each; COPY and
    one set-based statement are some ten times faster.
    """
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE import_batch AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY import_batch ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM import_batch{on_conflict}"
        )
        cursor.execute("DROP TABLE import_batch")


def _same(value: Any) -> Any:
    return value


def _db_value(model_field: Any) -> Callable[[Any], Any]:
    """How a cleaned value of ``model_field`` goes to the database driver."""
    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        return connection.ops.adapt_datefield_value
    if isinstance(model_field, models.JSONField):
        return lambda value: connection.ops.adapt_json_value(value, model_field.encoder)
    if isinstance(model_field, models.UUIDField | models.FileField | models.DateTimeField):
        return lambda value: model_field.get_db_prep_save(value, connection)
    return _same


def _existing_contacts(existing: dict[str, Any]) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``(party external id, email, phone) -> (name, role)`` of the batch's known contacts."""
    if not existing:
        return {}
    rows = ConsigneeContact.objects.filter(
        party__role=PartyRole.CONSIGNEE, party__external_id__in=list(existing)
    ).values_list("party__external_id", "email", "phone", "name", "role")
    return {(ext, email, phone): (name, role) for ext, email, phone, name, role in rows}


def _write_contacts(contacts: list[tuple[str, tuple[str, str, str, str]]]) -> None:
    ids = dict(
        Party.objects.consignees()
        .filter(external_id__in=[ext for ext, _ in contacts])
        .values_list("external_id", "id")
    )
    ConsigneeContact.objects.bulk_create(
        [
            ConsigneeContact(party_id=ids[ext], name=name, role=role, email=email, phone=phone)
            for ext, (name, role, email, phone) in contacts
        ],
        update_conflicts=True,
        unique_fields=["party", "email", "phone"],
        update_fields=["name", "role"],
    )


def set_parents(links: list[tuple[str, str]]) -> None:
    """Link consignees to their parents once every row is written (a parent may be new)."""
    wanted = sorted({name for link in links for name in link if name})
    ids: dict[str, int] = {}
    for start in range(0, len(wanted), 5_000):
        ids.update(
            Party.objects.consignees()
            .filter(external_id__in=wanted[start : start + 5_000])
            .values_list("external_id", "id")
        )
    now = timezone.now()
    Party.objects.bulk_update(
        [
            Party(id=ids[child], parent_id=ids[parent] if parent else None, updated_at=now)
            for child, parent in links
        ],
        ["parent", "updated_at"],
        batch_size=500,
    )


# --- Reading files -------------------------------------------------------------------------


class Refused(Exception):
    """A file that cannot be imported at all: too big, not UTF-8, unreadable, no header."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _is_excel(name: str) -> bool:
    return name.lower().endswith(".xlsx")


@contextmanager
def open_records(
    run: ImportRun,
) -> Iterator[tuple[Iterator[tuple[int, Sequence[Any]]], int, list[str]]]:
    """Open the run's file; yields its records ``(line, cells)``, a row estimate and notes."""
    with run.file.open("rb") as handle:
        if not _is_excel(run.file.name or ""):
            yield _csv_records(handle), _count_rows(handle), []
            return
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise Refused(
                "This is not an Excel .xlsx file that can be read: save it again as .xlsx, "
                "or as CSV UTF-8."
            ) from exc
        try:
            sheet = book.worksheets[0]
            notes = []
            if len(book.worksheets) > 1:
                notes.append(f"Only the first sheet, {sheet.title!r}, was read.")
            estimate = max((sheet.max_row or 1) - 1, 0)
            yield _excel_records(sheet), estimate, notes
        finally:
            book.close()


def _count_rows(handle: File) -> int:
    """The data lines of a CSV, counted in raw chunks: cheap, for the progress bar only."""
    lines, last = 0, b"\n"
    for chunk in handle.chunks():
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def _decoded_lines(handle: Iterable[bytes]) -> Iterator[str]:
    # Each line is decoded alone, so a wrongly encoded file is refused with its line number.
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise Refused(f"The file is UTF-16 text, not UTF-8 (line 1). {SAVE_AS_UTF8}", 1)
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refused(
                f"Line {number} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                f"{exc.start + 1}). {SAVE_AS_UTF8}",
                number,
            ) from exc
        if "\x00" in text:
            raise Refused(
                f"Line {number} holds NUL characters: the file looks like UTF-16. {SAVE_AS_UTF8}",
                number,
            )
        yield text


def _csv_records(handle: Iterable[bytes]) -> Iterator[tuple[int, Sequence[Any]]]:
    lines = _decoded_lines(handle)
    first = next(lines, None)
    if first is None:
        return
    # The header names the columns, so the delimiter it uses most is the file's.
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if cells:
                yield line, cells
    except csv.Error as exc:
        raise Refused(
            f"Line {reader.line_num} cannot be read as CSV ({exc}).", reader.line_num
        ) from exc


def _excel_records(sheet: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if any(cell is not None and cell != "" for cell in cells):
            yield number, cells


# --- Running an import ---------------------------------------------------------------------


class ProblemLog:
    """The problems of one run, saved in batches and kept up to ``MAX_PROBLEMS`` rows."""

    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.pending: list[ImportProblem] = []
        self.kept = 0

    def add(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            if self.kept + len(self.pending) >= MAX_PROBLEMS:
                return
            self.pending.append(
                ImportProblem(
                    run=self.run,
                    line=problem.line or 0,
                    column=problem.column[:100],
                    value=problem.value[:200],
                    message=problem.message[:300],
                )
            )
        if len(self.pending) >= PROBLEM_FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            ImportProblem.objects.bulk_create(self.pending)
            self.kept += len(self.pending)
            self.pending = []


def check_can_import(user: Any) -> None:
    """Staff whose role may import, or the system (``None``), import registry rows."""
    if user is not None and not user.has_perm("registry.add_importrun"):
        raise PermissionDenied("Your role does not allow importing registry rows.")


def check_import_file(uploaded_file: File) -> None:
    """Refuse a file by its name and size, before anything is read."""
    name = PurePath(uploaded_file.name or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xls":
        raise ValidationError(
            "Old Excel .xls files cannot be read: save the sheet as .xlsx, or as CSV UTF-8.",
            code="file_type",
        )
    if suffix not in EXTENSIONS:
        raise ValidationError(
            f"{name or 'This file'} is not a CSV (.csv, .txt) or Excel (.xlsx) file.",
            code="file_type",
        )
    size = uploaded_file.size or 0
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            f"The file is {filesizeformat(size)}; the limit is "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)}. Split it into smaller files.",
            code="file_size",
        )
    if not size:
        raise ValidationError("The file is empty.", code="empty")


def create_import(
    user: Any, kind: str, uploaded_file: File, import_valid_rows: bool = False
) -> ImportRun:
    """Store an uploaded file as a pending import; ``run_import`` checks and imports it."""
    check_can_import(user)
    if kind not in ImportKind.values:
        raise ValidationError(f"Unknown import kind {kind!r}.", code="kind")
    check_import_file(uploaded_file)
    name = PurePath(uploaded_file.name or "import.csv").name
    run = ImportRun(
        kind=kind,
        original_name=name[:255],
        size_bytes=uploaded_file.size or 0,
        import_valid_rows=import_valid_rows,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    # A name of our own: the original may be long or strange, and is kept in original_name.
    run.file.save(
        f"{kind}-{run.uuid.hex[:12]}{PurePath(name).suffix.lower()}", uploaded_file, save=False
    )
    run.save()
    return run


def run_import(run: ImportRun, progress: Progress | None = None) -> ImportRun:
    """Check every row of ``run``'s file, then import it whole (or its valid rows) or reject it.

    Does nothing when the run is no longer pending (another worker claimed it).
    ``progress`` is called with the run after every batch of each pass.
    """
    claimed = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.PENDING).update(
        status=ImportStatus.VALIDATING
    )
    if not claimed:
        run.refresh_from_db()
        return run
    run.status = ImportStatus.VALIDATING
    log = ProblemLog(run)
    notes: list[str] = []
    try:
        with tempfile.TemporaryFile() as spool:
            try:
                ctx = _check_file(run, log, spool, notes, progress)
            except Refused as exc:
                log.flush()
                if exc.line is not None:
                    log.add([Problem(exc.line, "", "", exc.message)])
                    log.flush()
                return _finish(run, ImportStatus.REJECTED, [exc.message, *notes])
            log.flush()
            if run.rows_invalid and not run.import_valid_rows:
                message = (
                    f"{run.rows_invalid:,} of {run.rows_total:,} rows have errors, so nothing "
                    "was imported. Correct them and upload the file again, or choose to "
                    "import the valid rows."
                )
                return _finish(run, ImportStatus.REJECTED, [message, *notes])
            if run.rows_invalid == run.rows_total:
                return _finish(run, ImportStatus.REJECTED, ["No row is valid.", *notes])
            with transaction.atomic():
                _import_spool(run, ctx, spool, progress)
                left_out = ""
                if run.rows_invalid:
                    left_out = f"{run.rows_invalid:,} rows with errors were left out."
                return _finish(run, ImportStatus.DONE, [left_out, *notes])
    except Exception as exc:
        _fail(run, exc)
        raise


def _check_file(
    run: ImportRun, log: ProblemLog, spool: IO[bytes], notes: list[str], progress: Progress | None
) -> Context:
    """Pass 1: check every row, log the problems and spool the cleaned valid rows."""
    size = run.file.size
    if size > settings.IMPORT_MAX_BYTES:
        raise Refused(
            f"The file is {filesizeformat(size)}: files over "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)} are refused before reading."
        )
    batch_size = settings.IMPORT_BATCH_SIZE
    with open_records(run) as (records, estimate, file_notes):
        notes.extend(file_notes)
        _save_progress(run, 0, estimate, progress)
        first = next(records, None)
        if first is None:
            raise Refused("The file is empty.", 1)
        header_line, header = first
        ctx, problems, header_notes = build_context(run.kind, header, header_line)
        notes.extend(header_notes)
        if problems:
            log.add(problems)
            raise Refused(" ".join(problem.message for problem in problems))
        load_lookups(ctx)
        batch: list[tuple[Any, ...]] = []
        rows = 0
        for line, cells in records:
            rows += 1
            values, problems = check_row(ctx, line, cells)
            if values is None:
                run.rows_invalid += 1
                log.add(problems)
            else:
                batch.append(values)
                if len(batch) >= batch_size:
                    pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
                    batch = []
            if rows % batch_size == 0:
                _save_progress(run, rows, max(estimate, rows), progress)
        if batch:
            pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
        if not rows:
            raise Refused("The file has its header line but no rows under it.", header_line)
        _save_progress(run, rows, rows, progress)
    return ctx


def _save_progress(run: ImportRun, processed: int, total: int, progress: Progress | None) -> None:
    run.rows_processed = processed
    run.rows_total = total
    run.save(update_fields=["rows_processed", "rows_total", "rows_invalid"])
    if progress:
        progress(run)


def _spooled(spool: IO[bytes]) -> Iterator[list[tuple[Any, ...]]]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)  # our own temporary file
        except EOFError:
            return


def _import_spool(
    run: ImportRun, ctx: Context, spool: IO[bytes], progress: Progress | None
) -> None:
    """Pass 2: upsert the spooled rows batch by batch (the caller holds the transaction)."""
    run.status = ImportStatus.IMPORTING
    run.rows_processed = run.rows_invalid  # rows with errors count as dealt with
    run.save(update_fields=["status", "rows_processed"])
    if progress:
        progress(run)
    tally = ImportOutcome()
    links: list[tuple[str, str]] = []
    for batch in _spooled(spool):
        links.extend(write_batch(ctx, batch, tally))
        run.rows_processed += len(batch)
        run.created, run.updated, run.unchanged = tally.created, tally.updated, tally.unchanged
        run.save(update_fields=["rows_processed", "created", "updated", "unchanged"])
        if progress:
            progress(run)
    if links:
        set_parents(links)


def _finish(run: ImportRun, status: str, messages: list[str]) -> ImportRun:
    run.status = status
    run.finished_at = timezone.now()
    run.message = " ".join(message for message in messages if message)
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "message",
            "rows_total",
            "rows_processed",
            "rows_invalid",
            "created",
            "updated",
            "unchanged",
        ]
    )
    figures = {
        "status": status,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "rows_invalid": run.rows_invalid,
    }
    record_change(
        run.created_by,
        run,
        ChangeRecord.Action.IMPORTED,
        {name: [None, value] for name, value in figures.items()},
        note=run.message,
    )
    return run


def _fail(run: ImportRun, exc: Exception) -> None:
    run.status = ImportStatus.FAILED
    run.finished_at = timezone.now()
    run.message = f"The import stopped on an unexpected error and changed nothing: {exc}"[:2000]
    run.save(update_fields=["status", "finished_at", "message"])


# --- Batches from the API ------------------------------------------------------------------


def import_rows(kind: str, rows: Iterable[dict[str, Any]], actor: Any) -> ImportOutcome:
    """Check and upsert one batch of rows pushed as JSON: all of it, or nothing.

    Each row's fields are the template's column names or their aliases. Problems carry the
    row's index in the batch (from 0) as their line. A field given in some rows of a batch is
    blank in the rows that leave it out. A batch that writes leaves an import run and a
    history row, like a file.
    """
    check_can_import(actor)
    rows = list(rows)
    outcome = ImportOutcome()
    if not rows:
        outcome.problems.append(Problem(None, "", "", "The batch has no rows."))
    if len(rows) > API_MAX_ROWS:
        message = f"A batch has at most {API_MAX_ROWS:,} rows."
        outcome.problems.append(Problem(None, "", "", message))
    if outcome.problems:
        return outcome
    mapped = [_map_fields(kind, index, row, outcome.problems) for index, row in enumerate(rows)]
    header = list(dict.fromkeys(name for fields in mapped for name in fields))
    ctx, header_problems, _ = build_context(kind, header, None)
    ctx.where = "row"
    outcome.problems.extend(header_problems)
    if outcome.problems:
        return outcome
    load_lookups(ctx)
    checked = []
    for index, fields in enumerate(mapped):
        values, row_problems = check_row(ctx, index, [fields.get(name) for name in header])
        outcome.problems.extend(row_problems)
        if values is not None:
            checked.append(values)
    if outcome.problems:
        return outcome
    batch_size = settings.IMPORT_BATCH_SIZE
    with transaction.atomic():
        links: list[tuple[str, str]] = []
        for start in range(0, len(checked), batch_size):
            links.extend(write_batch(ctx, checked[start : start + batch_size], outcome))
        if links:
            set_parents(links)
        run = ImportRun.objects.create(
            kind=kind,
            original_name=f"API batch of {len(rows):,} {kind}",
            status=ImportStatus.PENDING,
            rows_total=len(rows),
            rows_processed=len(rows),
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        outcome.run = _finish(run, ImportStatus.DONE, [])
    return outcome


def _map_fields(kind: str, index: int, row: Any, problems: list[Problem]) -> dict[str, Any]:
    """One API row by column name. An unknown field is a problem, not silently dropped."""
    if not isinstance(row, dict):
        problems.append(Problem(index, "", "", "A row is an object of fields."))
        return {}
    aliases = _aliases(kind)
    fields: dict[str, Any] = {}
    given: dict[str, str] = {}
    for key, value in row.items():
        name = aliases.get(normalise_header(str(key)))
        if name is None:
            problems.append(Problem(index, str(key), "", "Unknown field."))
        elif name in fields:
            message = f"The fields {given[name]!r} and {key!r} both give {name}; keep one."
            problems.append(Problem(index, str(key), "", message))
        else:
            fields[name] = value
            given[name] = str(key)
    return fields


# --- Reports -------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(text: str) -> str:
    # Spreadsheets run a cell that starts like a formula; a leading quote keeps it text.
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def error_report_csv(run: ImportRun) -> Iterator[str]:
    """The run's problems as CSV (line, column, value, message), streamed line by line.

    It starts with a byte order mark so that Excel reads it as UTF-8.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(["line", "column", "value", "message"])
    problems = run.problems.order_by("line", "id").values_list("line", "column", "value", "message")
    for line, column, value, message in problems.iterator(chunk_size=2_000):
        yield writer.writerow([line, _defuse(column), _defuse(value), message])
