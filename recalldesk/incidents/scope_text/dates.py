"""Reading written dates into the first and last day they can mean.

Covers month names, slash, dash, dotted and ISO dates, two-digit years, the
short forms allowed after a date label ("09/13", "2018"), and deciding
whether slash and dash dates are day first or month first.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from functools import lru_cache

from recalldesk.incidents.scope_text.reasons import R_NO_YEAR

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH_NUMBER = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_WORD_RE = re.compile(r"[^\W\d_]+")
_DIGITS_RE = re.compile(r"\d+")
_CONTEXT_DATE_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d{1,2})/(\d{2})"), "my"),
    (re.compile(r"(\d{1,2})-(\d{4})"), "my"),
    (re.compile(r"((?:19|20)\d{2})"), "y"),
    (re.compile(r"((?:19|20)\d{2})[-/](\d{1,2})"), "ym"),
)


@dataclass(frozen=True)
class _Span:
    """The first and last day a written date can mean."""

    first: datetime.date
    last: datetime.date


def _year(text: str) -> int:
    """Read a year, expanding two digits (below 70 is 20xx, else 19xx)."""
    value = int(text)
    if len(text) == 2:
        return 2000 + value if value < 70 else 1900 + value
    return value


def _day_span(year: int, month: int, day: int) -> _Span | None:
    try:
        day_value = datetime.date(year, month, day)
    except ValueError:
        return None
    return _Span(day_value, day_value)


def _month_span(year: int, month: int) -> _Span | None:
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        return None
    last_day = calendar.monthrange(year, month)[1]
    return _Span(datetime.date(year, month, 1), datetime.date(year, month, last_day))


def _month_of(text: str) -> int:
    for word in _WORD_RE.findall(text):
        number = _MONTH_NUMBER.get(word[:3].lower())
        if number is not None and re.fullmatch(_MONTH, word, re.IGNORECASE):
            return number
    raise ValueError(f"no month name in {text!r}")


@lru_cache(maxsize=4096)
def _context_date(text: str) -> _Span | None:
    """Read short forms ("09/13", "2018", "2023-06") allowed after a date label."""
    for pattern, form in _CONTEXT_DATE_RES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if form == "my":
            return _month_span(_year(match.group(2)), int(match.group(1)))
        if form == "y":
            year = int(match.group(1))
            return _Span(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        return _month_span(int(match.group(1)), int(match.group(2)))
    return None


def _decide_day_first(pairs: list[tuple[int, int]], day_first: bool | None) -> bool | None:
    """Pick the order of slash and dash dates; ``None`` means the text conflicts."""
    if day_first is not None:
        return day_first
    only_day_first = any(a > 12 >= b for a, b in pairs)
    only_month_first = any(b > 12 >= a for a, b in pairs)
    if only_day_first and only_month_first:
        return None
    return only_day_first


def _numeric_span(a: int, b: int, year: int, order: bool | None) -> _Span | str:
    """Resolve a slash or dash date "a/b/year" under the chosen order."""
    month_first = _day_span(year, a, b)
    day_first = _day_span(year, b, a)
    if order is True:
        return day_first or "not a valid day/month/year date"
    if order is False:
        return month_first or "not a valid month/day/year date"
    if month_first and day_first and a != b:
        return "day and month order is unclear: this text has dates written both ways"
    return month_first or day_first or "not a valid date"


def _token_span(kind: str, text: str, order: bool | None) -> _Span | str:
    """The days a date token means, or the reason it cannot be read."""
    numbers = [int(n) for n in _DIGITS_RE.findall(text)]
    raw = _DIGITS_RE.findall(text)
    span: _Span | None
    if kind == "dnoyear":
        return R_NO_YEAR
    if kind == "drange":
        month, year = _month_of(text), numbers[2]
        first = _day_span(year, month, numbers[0])
        last = _day_span(year, month, numbers[1])
        span = _Span(first.first, last.last) if first and last else None
    elif kind in ("dmdy", "ddmy"):
        span = _day_span(numbers[1], _month_of(text), numbers[0])
    elif kind == "dmy":
        span = _month_span(numbers[0], _month_of(text))
    elif kind == "diso":
        span = _day_span(numbers[0], numbers[1], numbers[2])
    elif kind == "ddot":
        span = _day_span(_year(raw[2]), numbers[1], numbers[0])
    elif kind == "dmonth":
        span = _month_span(numbers[1], numbers[0])
    else:  # dnum
        return _numeric_span(numbers[0], numbers[1], _year(raw[2]), order)
    return span or "not a valid date"
