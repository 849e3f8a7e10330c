"""“Is my product affected?”: the public lookup.

A member of the public types or scans what is printed on their product (or, for a service
failure, their account number or postcode) and is told at once whether it is affected, and
what to do or what to check.

The lookup never queries the database per request. :func:`build_index` turns an incident's
scope into a small JSON-serialisable index when the scope changes; :func:`index_for` keeps it
per process, keyed by the scope's version; :func:`answer` answers from it with set lookups and
a bisect over the serial ranges. The static export publishes the same index as
``lookup-index.json`` and ``static/public/lookup.js`` answers from it in the browser with the
same rules, so the two must change together (``tests/test_lookup_js.py`` holds them to it).

Identifiers are compared folded: Unicode NFKC, dashes made ``-``, spaces squashed, upper-case.
Lots are compared case-insensitively here although the registry keeps their case, because
people read them off a label; a lot differing from another only by case is not a real case.

Account numbers are published only as salted hashes: HMAC-SHA256 keyed with a per-incident salt
that is printed in the index, truncated to 16 hex digits. This is not proof against brute force:
account numbers are short, so anyone with the index can hash every candidate and find the
affected ones. That is acceptable because it tells them exactly what the lookup tells anyone who
types a number (affected or not, nothing about who holds the account), and the hash keeps the
list itself from being read off the page or indexed by search engines. The salt differs per
incident so that hashes cannot be matched across incidents.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import hmac
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from biip import ParseConfig, ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from django.conf import settings

from recalldesk.incidents.choices import DateBasis, IncidentKind
from recalldesk.public import heap
from recalldesk.registry.serials import split_serial

FORMAT = 1
MAX_INPUT = 200
AFFECTED = "affected"
NOT_AFFECTED = "not_affected"
CHECK = "check"
UNREADABLE = "unreadable"

# What the lookup tells people to do or to look at; lookup.js has the same sentences.
DO_RECALL = "Stop using it and follow the instructions on this page."
DO_SERVICE = "Follow the instructions on this page."
LOT_WHERE = "printed near the barcode or the date mark"
SERIAL_WHERE = "printed on the product's rating label (often marked S/N)"
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
# Spelled out rather than ``\s``: Python's ``\s`` also takes the GS1 separator (\x1d) and
# JavaScript's differs again, and lookup.js must fold exactly the same way.
_SPACES = re.compile("[ \t\n\r\f\v\u200b\ufeff]+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_ACCOUNT_NOISE = re.compile(r"[ \-./]")
_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_DIGITS = re.compile(r"^[0-9]+$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
# Dates in a barcode (best before, expiry) are not needed to answer, so an impossible one
# must not make the whole barcode unreadable.
_BIIP = ParseConfig(gs1_element_strings_verify_date=False)

_LABELS = {
    "code": "the barcode",
    "gtin": "the barcode number",
    "lot": "the lot code",
    "serial": "the serial number",
    "account": "the account number",
    "postcode": "the postcode",
}


@dataclass(frozen=True)
class Query:
    """What someone asked about, folded for comparison; empty fields were not given."""

    gtin: str = ""
    lot: str = ""
    serial: str = ""
    account: str = ""
    postcode: str = ""


@dataclass
class Answer:
    """The answer shown to the public: the outcome, one plain paragraph, and the product."""

    outcome: str
    reason: str
    product: str = ""


# -- Reading what was typed or scanned ------------------------------------------------------


def fold(text: str) -> str:
    """Text as compared: NFKC, plain dashes, single spaces, trimmed, upper-case."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return _SPACES.sub(" ", text).strip(" ").upper()


def fold_account(text: str) -> str:
    return _ACCOUNT_NOISE.sub("", fold(text))


def fold_postcode(text: str) -> str:
    return fold(text).replace(" ", "")


def gtin_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of ``payload`` (the digits before the check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def clean_gtin(text: str) -> str:
    """A GTIN-8, -12, -13 or -14 as a GTIN-14, or ``ValueError`` saying what is wrong."""
    digits = re.sub(r"[ \-]", "", fold(text))
    if not _DIGITS.match(digits) or len(digits) not in (8, 12, 13, 14):
        raise ValueError(
            "A barcode number (GTIN) has 8, 12, 13 or 14 digits: "
            "enter the digits printed under the barcode."
        )
    if gtin_check_digit(digits[:-1]) != int(digits[-1]):
        raise ValueError(
            f"The barcode number {digits} does not add up: check its digits, the last one "
            "especially."
        )
    return digits.zfill(14)


def _checked(text: str, name: str) -> str:
    folded = fold(text)
    if _CONTROL.search(folded):
        raise ValueError(f"{_LABELS[name].capitalize()} has characters that cannot be printed.")
    return folded


def _element(values: dict[str, str], ai: str, value: str) -> None:
    if ai in ("01", "10", "21") and ai not in values:
        values[ai] = value


def parse_code(code: str) -> dict[str, str]:
    """A pasted or scanned barcode as ``{"gtin", "lot", "serial"}`` (those it carries).

    Reads a GS1 element string in brackets, a raw one with FNC1 (GS, ``\\x1d``) separators
    and an optional symbology identifier (``]C1``, ``]d2``, ``]Q3``), a GS1 Digital Link URI,
    or a bare GTIN.
    """
    text = re.sub("[ \t\r\n\u00a0]+", "", unicodedata.normalize("NFKC", code))
    values: dict[str, str] = {}
    try:
        if _URL.match(text):
            text = text.split("#", 1)[0]
            path, _, query = text.partition("?")
            text = path.rstrip("/") + (f"?{query}" if query else "")
            for element in GS1DigitalLinkURI.parse(text, config=_BIIP).element_strings:
                _element(values, element.ai.ai, element.value)
        elif text.startswith("("):
            for element in GS1Message.parse_hri(text, config=_BIIP).element_strings:
                _element(values, element.ai.ai, element.value)
        else:
            text = _SYMBOLOGY.sub("", text).lstrip("\x1d")
            if _DIGITS.match(text) and len(text) in (8, 12, 13, 14):
                return {"gtin": clean_gtin(text)}
            for element in GS1Message.parse(text, config=_BIIP).element_strings:
                _element(values, element.ai.ai, element.value)
    except ParseError as exc:
        raise ValueError(
            "This barcode cannot be read: enter the numbers printed under it instead."
        ) from exc
    if not values:
        raise ValueError(
            "This barcode does not identify a product: enter the numbers printed under it instead."
        )
    found = {"lot": values.get("10", ""), "serial": values.get("21", "")}
    if "01" in values:
        found["gtin"] = clean_gtin(values["01"])
    return {
        name: _checked(value, name) if name != "gtin" else value for name, value in found.items()
    }


def parse_query(
    *,
    code: str = "",
    gtin: str = "",
    lot: str = "",
    serial: str = "",
    account: str = "",
    postcode: str = "",
) -> Query:
    """Read the lookup form; ``ValueError`` with a plain message when it cannot be read.

    A field typed in wins over the same value read from the barcode.
    """
    read = _read(code or "", gtin or "", lot or "", serial or "", account or "", postcode or "")
    if isinstance(read, str):
        raise ValueError(read)
    return read


# Reading a barcode through biip costs more than all the rest of an answer, and folding the
# fields most of the rest; under a surge the same queries come again and again (the same
# products, lots and codes on the page). The result depends on the text alone, so it is
# kept: the Query (frozen), or the message saying why it cannot be read (not the exception,
# which several threads would share). At most a few thousand, of at most MAX_INPUT + 1
# characters a field as the views pass them.
@functools.lru_cache(maxsize=4096)
def _read(code: str, gtin: str, lot: str, serial: str, account: str, postcode: str) -> Query | str:
    fields = {
        "code": code,
        "gtin": gtin,
        "lot": lot,
        "serial": serial,
        "account": account,
        "postcode": postcode,
    }
    for name, value in fields.items():
        if len(value) > MAX_INPUT:
            return (
                f"{_LABELS[name].capitalize()} is too long: it has at most {MAX_INPUT} characters."
            )
    try:
        found = parse_code(code) if fold(code) else {}
        values = {
            "gtin": clean_gtin(gtin) if fold(gtin) else found.get("gtin", ""),
            "lot": _checked(lot, "lot") or found.get("lot", ""),
            "serial": _checked(serial, "serial") or found.get("serial", ""),
            "account": _ACCOUNT_NOISE.sub("", _checked(account, "account")),
            "postcode": _checked(postcode, "postcode"),
        }
    except ValueError as exc:
        return str(exc)
    if not any(values.values()):
        return (
            "Enter the barcode, the lot code or serial number, or your account number or postcode."
        )
    return Query(**values)


# -- The index --------------------------------------------------------------------------


def _salt(incident: Any) -> str:
    # Derived rather than random so that rebuilding an unchanged scope gives the same index
    # (and the same static export); the salt is published, so it only has to differ per
    # incident and not be guessable in advance.
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"lookup-salt:{incident.uuid}".encode(), hashlib.sha256).hexdigest()[:32]


def hash_account(salt: str, account: str) -> str:
    """The published form of a folded account number (see the module docstring)."""
    return hmac.new(salt.encode(), account.encode(), hashlib.sha256).hexdigest()[:16]


def _merged_ranges(rows: list[tuple[str, int, int]]) -> list[list[str]]:
    """Serial ranges merged where they overlap or touch, so one bisect finds the only
    candidate; numbers as decimal text because JavaScript numbers lose digits past 2**53."""
    merged: list[list[Any]] = []
    for prefix, first, last in sorted(rows):
        if merged and merged[-1][0] == prefix and first <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], last)
        else:
            merged.append([prefix, first, last])
    return [[prefix, str(first), str(last)] for prefix, first, last in merged]


def _span(start: dt.date | None, end: dt.date | None) -> dict[str, str | None] | None:
    if not (start or end):
        return None
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }


def build_index(incident: Any) -> dict[str, Any]:
    """The lookup index of ``incident``'s scope: compact, JSON-serialisable, publishable."""
    scope = incident.scope
    salt = _salt(incident)
    products = [
        {"gtin": gtin.zfill(14) if gtin else "", "sku": sku, "name": name}
        for gtin, sku, name in scope.products.order_by("name", "sku").values_list(
            "gtin", "sku", "name"
        )
    ]
    ranges = list(scope.serial_ranges.values_list("prefix", "first_number", "last_number"))
    dates = _span(scope.date_from, scope.date_to)
    postcodes = sorted(
        {
            fold_postcode(p[:-1]) + "*" if p.endswith("*") else fold_postcode(p)
            for p in scope.postcodes or []
        }
    )
    return {
        "format": FORMAT,
        "reference": incident.reference,
        "version": scope.version,
        "kind": incident.kind,
        "products": products,
        "all_units": bool(scope.all_units),
        "lots": sorted({fold(lot) for lot in scope.lots.values_list("lot", flat=True)}),
        "serials": _merged_ranges([(fold(p), a, b) for p, a, b in ranges]),
        "dates": dict(dates, basis=scope.date_basis) if dates else None,
        "regions": list(scope.regions or []),
        "postcodes": postcodes,
        "services": list(scope.services or []),
        "areas": sorted({fold_postcode(area) for area in scope.areas or []}),
        "outage": _span(scope.window_start, scope.window_end),
        "accounts": {
            "salt": salt,
            "hashes": sorted({hash_account(salt, fold_account(a)) for a in scope.accounts or []}),
        },
    }


class PreparedIndex(dict[str, Any]):
    """An index (still the same JSON-serialisable dict) with its lists turned into sets and
    bisect tables once, so that each answer is a few lookups."""

    def __init__(self, index: dict[str, Any]) -> None:
        super().__init__(index)
        products = index.get("products") or []
        self.is_service = index.get("kind") == IncidentKind.SERVICE
        self.names = [p["name"] for p in products]
        self.gtins = {p["gtin"]: p["name"] for p in products if p.get("gtin")}
        # An unknown GTIN proves "not this recall" only if every listed product has one.
        self.gtins_complete = bool(products) and len(self.gtins) == len(products)
        self.lots = frozenset(index.get("lots") or [])
        self.ranges: dict[str, tuple[list[int], list[int]]] = {}
        for prefix, first, last in index.get("serials") or []:
            starts, ends = self.ranges.setdefault(prefix, ([], []))
            starts.append(int(first))
            ends.append(int(last))
        accounts = index.get("accounts") or {}
        self.salt = str(accounts.get("salt", ""))
        self.accounts = frozenset(accounts.get("hashes") or [])
        codes = index.get("postcodes") or []
        self.postcodes = frozenset(p for p in codes if not p.endswith("*"))
        self.prefixes = tuple(p[:-1] for p in codes if p.endswith("*"))
        self.areas = frozenset(index.get("areas") or [])
        # (scope version, scope saved at) when built by index_for; see there.
        self.built_from: tuple[int, Any] | None = None

    def has_serial(self, serial: str) -> bool:
        prefix, number = split_serial(serial)
        table = self.ranges.get(prefix)
        if number is None or table is None:
            return False
        starts, ends = table
        at = bisect.bisect_right(starts, number) - 1
        return at >= 0 and ends[at] >= number

    def postcode_matches(self, postcode: str, *, areas: bool) -> bool:
        code = postcode.replace(" ", "")
        if code in self.postcodes or (self.prefixes and code.startswith(self.prefixes)):
            return True
        return areas and (code in self.areas or postcode.split(" ", 1)[0] in self.areas)


def prepare(index: dict[str, Any]) -> PreparedIndex:
    """``index`` ready to answer from; an index already prepared is returned as it is."""
    return index if isinstance(index, PreparedIndex) else PreparedIndex(index)


# A few indexes passed to answer() as plain dicts, prepared once each; the dict is kept with
# its preparation so that its id() cannot be reused by another dict while cached.
_RECENT: OrderedDict[int, tuple[dict[str, Any], PreparedIndex]] = OrderedDict()
_RECENT_LOCK = threading.Lock()


def _prepared(index: dict[str, Any]) -> PreparedIndex:
    if isinstance(index, PreparedIndex):
        return index
    with _RECENT_LOCK:
        cached = _RECENT.get(id(index))
        if cached is not None and cached[0] is index:
            _RECENT.move_to_end(id(index))
            return cached[1]
    prepared = PreparedIndex(index)
    with _RECENT_LOCK:
        _RECENT[id(index)] = (index, prepared)
        while len(_RECENT) > 8:
            _RECENT.popitem(last=False)
    return prepared


_INDEXES: dict[int, PreparedIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(incident: Any) -> PreparedIndex:
    """The prepared index of ``incident``, built once per scope version in this process.

    Reads ``incident.scope`` (one query unless it is already loaded: pass an incident read
    in this request, not one kept from before the scope changed); a new version replaces the
    cached index. The index is built outside the lock: two requests
    racing after a scope change build it twice, which is cheaper than making every other
    incident's lookups wait behind a large build.
    """
    cached = built_index(incident)
    if cached is not None:
        return cached
    scope = incident.scope
    prepared = PreparedIndex(build_index(incident))
    prepared.built_from = (scope.version, scope.updated_at)
    with _INDEXES_LOCK:
        current = _INDEXES.get(incident.pk)
        if current is None or current["version"] <= scope.version:
            _INDEXES[incident.pk] = prepared
    heap.kept()
    return prepared


def built_index(incident: Any) -> PreparedIndex | None:
    """What :func:`index_for` would return, if it is already built: never reads the database
    (``incident.scope`` must be loaded)."""
    scope = incident.scope
    # The version is the key; the save time is checked too because a scope edit that keeps
    # the number of lots or accounts the same does not bump the version (see
    # incidents.actions._scope_values), and a stale index would answer wrongly.
    key = (scope.version, scope.updated_at)
    with _INDEXES_LOCK:
        cached = _INDEXES.get(incident.pk)
    return cached if cached is not None and cached.built_from == key else None


# -- Answering ----------------------------------------------------------------------------


def _date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _window(span: dict[str, Any] | None) -> str:
    if not span:
        return ""
    start, end = span.get("from"), span.get("to")
    if start and end:
        return f"between {_date(start)} and {_date(end)}"
    if start:
        return f"from {_date(start)} on"
    return f"up to {_date(end)}" if end else ""


def _names(names: list[str]) -> str:
    if len(names) > 5:
        return f"{', '.join(names[:5])} and {len(names) - 5} more"
    return ", ".join(names)


def _conditions(ix: PreparedIndex, query: Query, base: str, product: str) -> Answer:
    """Affected, unless the scope's date window or area rules need what the query lacks."""
    phrases: list[str] = []
    checks: list[str] = []
    dates = ix.get("dates")
    if dates:
        if dates.get("basis") == DateBasis.ACQUIRED:
            phrases.append(f"bought {_window(dates)}")
            checks.append("the date on your receipt")
        else:
            phrases.append(f"made {_window(dates)}")
            checks.append("the manufacturing date on the label")
    where = []
    if ix.get("regions"):
        where.append(f"sold in {', '.join(ix['regions'])}")
    if ix.get("postcodes") and not (
        query.postcode and ix.postcode_matches(query.postcode, areas=False)
    ):
        where.append(f"sold in postcodes {', '.join(ix['postcodes'])}")
    if where:
        phrases.extend(where)
        checks.append("where you bought it")
    if not phrases:
        return Answer(AFFECTED, f"{base} {DO_RECALL}", product)
    return Answer(
        CHECK,
        f"{base} Only units {' and '.join(phrases)} are affected: check {' and '.join(checks)}.",
        product,
    )


def _answer_recall(ix: PreparedIndex, query: Query) -> Answer:
    if not (query.gtin or query.lot or query.serial):
        return Answer(
            CHECK,
            "Enter the barcode number (GTIN) and the lot code or serial number printed on "
            "the product.",
        )
    product = ""
    if query.gtin:
        product = ix.gtins.get(query.gtin, "")
        if not product and ix.gtins_complete:
            return Answer(
                NOT_AFFECTED,
                f"This product is not part of this recall, which covers {_names(ix.names)}. "
                "Check the barcode number printed under the barcode.",
            )
    if ix.get("all_units"):
        if product:
            base = f"Every unit of {product} is part of this recall."
            return _conditions(ix, query, base, product)
        return Answer(
            CHECK,
            f"Every unit of {_names(ix.names)} is part of this recall. Check that your product "
            "is one of them: enter the barcode number (GTIN) printed under the barcode.",
        )
    has_serials = bool(ix.ranges)
    hit = ""
    if query.lot and query.lot in ix.lots:
        hit = f"Lot {query.lot}"
    elif query.serial and ix.has_serial(query.serial):
        hit = f"Serial number {query.serial}"
    if hit:
        base = (
            f"{hit} of {product} is part of this recall."
            if product
            else (f"{hit} is part of this recall.")
        )
        if not product and ix.names:
            base += f" The recall covers {_names(ix.names)}."
        return _conditions(ix, query, base, product)
    lot_checked = bool(query.lot and ix.lots)
    serial_checked = bool(query.serial and has_serials)
    if lot_checked and serial_checked:
        return Answer(
            NOT_AFFECTED,
            f"Lot {query.lot} and serial number {query.serial} are not part of this recall. "
            f"Check that you entered them exactly as printed: the lot code {LOT_WHERE}, the "
            f"serial number {SERIAL_WHERE}.",
            product,
        )
    if lot_checked:
        return Answer(
            NOT_AFFECTED,
            f"Lot {query.lot} is not part of this recall. Check that you entered the lot code "
            f"exactly as {LOT_WHERE}.",
            product,
        )
    if serial_checked:
        return Answer(
            NOT_AFFECTED,
            f"Serial number {query.serial} is not part of this recall. Check that you entered "
            f"the serial number exactly as {SERIAL_WHERE}.",
            product,
        )
    if not (ix.lots or has_serials):
        return Answer(NOT_AFFECTED, "This recall does not list any units yet.", product)
    if ix.lots and has_serials:
        need = f"the lot code ({LOT_WHERE}) or the serial number ({SERIAL_WHERE})"
    elif ix.lots:
        need = f"the lot code, {LOT_WHERE},"
    else:
        need = f"the serial number, {SERIAL_WHERE},"
    some = f"Some units of {product} are" if product else "Some units are"
    return Answer(
        CHECK,
        f"{some} part of this recall. Enter {need} to find out whether yours is one.",
        product,
    )


def _answer_service(ix: PreparedIndex, query: Query) -> Answer:
    window = _window(ix.get("outage"))
    during = f" {window}" if window else ""
    if query.account and hash_account(ix.salt, query.account) in ix.accounts:
        return Answer(
            AFFECTED, f"This account is affected by the service failure{during}. {DO_SERVICE}"
        )
    areas = bool(ix.postcodes or ix.prefixes or ix.areas)
    if query.postcode and areas and ix.postcode_matches(query.postcode, areas=True):
        return Answer(
            AFFECTED,
            f"The area of postcode {query.postcode} is affected by the service failure{during}. "
            f"{DO_SERVICE}",
        )
    if query.account and ix.accounts:
        return Answer(
            NOT_AFFECTED,
            "This account number is not on the list of affected accounts. Check the account "
            "number printed on your bill.",
        )
    if query.postcode and areas:
        if ix.accounts:
            return Answer(
                CHECK,
                f"Postcode {query.postcode} is not in the affected area, but some accounts "
                "elsewhere are affected: enter the account number printed on your bill.",
            )
        return Answer(
            NOT_AFFECTED,
            f"Postcode {query.postcode} is not in the affected area. Check that you entered the "
            "postcode of the address where you receive the service.",
        )
    if not (ix.accounts or areas):
        services = ", ".join(ix.get("services") or [])
        if services:
            return Answer(
                CHECK,
                f"Every customer of {services} is affected{during}: check which service you have.",
            )
        return Answer(NOT_AFFECTED, "This service failure does not list any accounts or areas yet.")
    if ix.accounts and areas:
        need = "your account number (printed on your bill) or your postcode"
    elif ix.accounts:
        need = "your account number, printed on your bill,"
    else:
        need = "the postcode of the address where you receive the service"
    return Answer(CHECK, f"Enter {need} to find out whether you are affected.")


def answer(index: dict[str, Any], query: Query) -> Answer:
    """Whether what ``query`` describes is affected, from ``index`` alone."""
    ix = _prepared(index)
    if ix.is_service:
        return _answer_service(ix, query)
    return _answer_recall(ix, query)


def lookup(index: dict[str, Any], **fields: str) -> Answer:
    """Parse the form ``fields`` (as :func:`parse_query`) and answer; what cannot be read is
    answered ``unreadable`` with the reason."""
    try:
        query = parse_query(**fields)
    except ValueError as exc:
        return Answer(UNREADABLE, str(exc))
    return answer(index, query)
