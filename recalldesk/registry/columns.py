"""The columns each kind of registry import understands: their names, the other headers they
go by, the model fields they write and the longest text each may hold; and the CSV template
with one example row that people fill in.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from recalldesk.registry.choices import ImportKind, PartyRole
from recalldesk.registry.models import Holding, Party, Product


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


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming CSV."""

    def write(self, value: str) -> str:
        return value
