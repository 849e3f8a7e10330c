"""Checking the rows of an import: the header mapped to columns, the keys rows refer to loaded
once, and each row checked against its kind's rules and the rows before it. A row comes out
as its cleaned values, ready to write, or as its problems.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from django.utils import timezone

from recalldesk.registry.choices import (
    ConsigneeKind,
    HoldingKind,
    HoldingSource,
    ImportKind,
    PartyRole,
)
from recalldesk.registry.cleaning import (
    Invalid,
    Problem,
    _cell,
    _text,
    clean_channels,
    clean_choice,
    clean_country,
    clean_currency,
    clean_date,
    clean_email,
    clean_gtin,
    clean_language,
    clean_money,
    clean_party_role,
    clean_past_date,
    clean_phone,
    clean_quantity,
    clean_time_zone,
)
from recalldesk.registry.columns import (
    ALWAYS_WRITTEN,
    COLUMNS,
    KEYS,
    WRITES,
    _aliases,
    _limits,
    normalise_header,
)
from recalldesk.registry.models import Party, Product
from recalldesk.registry.serials import split_serial


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
