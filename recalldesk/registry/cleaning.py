"""Checking single values of an import: each ``clean_*`` function turns a cell into the value
stored, or raises ``Invalid`` with a message that says what is expected. ``Problem`` is one
thing wrong with a row, as shown on the import page and in the error report.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import models
from stdnum import ean
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from recalldesk.registry.choices import Channel, PartyRole


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
