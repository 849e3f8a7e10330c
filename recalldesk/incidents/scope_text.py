"""Read the scope text of a recall notice into structured scope rules.

A recall coordinator pastes what a notice says about the affected product
("Lot # 8D1082, Exp 01/13", "serial numbers 10000-20000", "all lots",
"manufactured between January 1, 2012 and March 31, 2012") or pastes a long
list of lot lines. This module turns that text into lots, lot ranges,
serials, serial ranges, GTINs, model numbers and date windows.

It never guesses silently. Text that looks like a code or a date but cannot
be read with confidence is returned in ``ParsedScope.unparsed`` with a
plain-English reason, so the coordinator can deal with it by hand.

Entry points:

* :func:`parse_scope_text`: the free text of a notice.
* :func:`parse_lot_lines`: the lot box of the scope editor, with one lot or
  lot range per line, or separated by commas or semicolons.
* :func:`parse_serial_lines`: the same for the serial box.

How free text is read:

* A label ("Lot #", "Batch number", "Serial No.", "S/N", "Unit", "UPC",
  "Item #", "Model", "Catalog #", "REF", "Exp.", "Best by", "Manufactured",
  "Sold", "Purchased", "Distributed", ...) says what the codes or dates after
  it are. It holds across commas, semicolons, new lines and item markers such
  as "2)" until another label, an unknown label ("Quantity:"), an item that
  starts with prose, or the end of a sentence. A date label and a code label
  are tracked separately, so "Lot # 8D1082, Exp 01/13; 8D1151" reads 8D1151
  as a lot. "Recall #" labels one number, which is reported, not read.
  A label joined to a code by a dash or slash ("SN-0000001") is part of it.
* Codes and dates with no label are reported, not guessed; so are bare codes
  in brackets ("(HRM1000)"), codes before a colon ("C3: 24.9.2008 ..."),
  anything after "except" or "excluding", and any stretch of words with no
  label, code or date in it.
* Codes separated only by spaces are one code when a short capital word is
  among them ("TFRS 130B 1503 KT34"), several codes when they all have the
  same shape ("110737OSCN 110737ODCN"), and reported otherwise.
* "X-Y" written as one word is a range only when both ends have the same
  shape (same prefix, digit tails of equal length) and it sits under a lot
  or serial label; "439605-01", "E0600-55" and "12-345-A" stay single codes.
  "X through Y", "X thru Y", "X to Y", "X - Y", "from X to Y" and
  "between X and Y" are ranges under a lot or serial label.
* Slash and dash dates are month/day/year (US) unless ``day_first=True`` is
  given or the text itself shows day-first dates (a first number above 12,
  as in "27/01/2018"); if the text shows both orders, the dates that could
  be read either way are reported. Dotted dates ("8.6.2020") are day first.
  Two-digit years below 70 are 20xx, others 19xx.
* A month ("06/2013", "Jun 2012") as a whole window covers the month; as the
  start of a window it means the first day, as the end the last day.
  A lone four-digit year is read only straight after a date label.
* "Use by" is read as an expiry date; "best by", "best before",
  "best if used by" and "sell by" as best-by dates; "produced",
  "production", "packed", "made" and "built" as manufacture dates;
  "shipped" as distribution; "purchased", "bought" and "received" as
  acquired. "Manufactured and distributed between ..." gives one window of
  each kind.
* Quantity notes ("(2 units)", "529,327 units") and item markers ("1)",
  "b)") are skipped. Quoted text is normalised: dashes become "-" and runs
  of white space become one space.
* A barcode must have 8, 12, 13 or 14 digits; spaces and dashes inside it
  are removed ("UPC 0 12345 67890 5" gives "012345678905"). The check digit
  is not validated here.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "DATE_KINDS",
    "DateWindow",
    "ParsedScope",
    "Range",
    "Unparsed",
    "parse_lot_lines",
    "parse_scope_text",
    "parse_serial_lines",
]

DATE_KINDS: tuple[str, ...] = (
    "manufactured",
    "best_by",
    "expiry",
    "sold",
    "acquired",
    "distributed",
)

GTIN_LENGTHS = frozenset({8, 12, 13, 14})

#: Largest range ``Range.codes()`` expands by default.
MAX_RANGE_CODES = 1_000_000


# --------------------------------------------------------------------------
# Public result types
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """An inclusive range of codes that share a prefix.

    ``Range("AB", 1000, 2000, 0, "AB1000-AB2000")`` stands for AB1000,
    AB1001, ... AB2000. ``width`` is the number of digits in the numeric tail
    when the codes are zero-padded ("0010" gives 4), otherwise 0.
    """

    prefix: str
    start: int
    end: int
    width: int
    text: str

    @property
    def size(self) -> int:
        """Number of codes in the range."""
        return self.end - self.start + 1

    def codes(self, limit: int = MAX_RANGE_CODES) -> list[str]:
        """Expand to the individual codes, keeping prefix and zero padding.

        Raises ``ValueError`` when the range holds more than ``limit`` codes,
        so a mistyped range cannot exhaust memory.
        """
        if self.size > limit:
            raise ValueError(f"range {self.text!r} holds {self.size} codes, more than {limit}")
        return [
            f"{self.prefix}{str(number).zfill(self.width)}"
            for number in range(self.start, self.end + 1)
        ]


@dataclass(frozen=True)
class DateWindow:
    """A window of dates of one kind; an open edge is ``None``."""

    kind: str
    start: datetime.date | None
    end: datetime.date | None
    text: str


@dataclass(frozen=True)
class Unparsed:
    """Text that could not be read, and why, in plain English."""

    text: str
    reason: str


@dataclass
class ParsedScope:
    """Structured scope read from a notice or from the lot or serial box."""

    gtins: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    lots: list[str] = field(default_factory=list)
    lot_ranges: list[Range] = field(default_factory=list)
    serials: list[str] = field(default_factory=list)
    serial_ranges: list[Range] = field(default_factory=list)
    all_lots: bool = False
    date_windows: list[DateWindow] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)


# --------------------------------------------------------------------------
# Reasons given for unparsed text
# --------------------------------------------------------------------------

R_NOTHING = "no lot, serial or date could be read here"
R_NO_LABEL = "no label says what this is (a lot, serial or model number, or which kind of date)"
R_NOTE = "note in brackets with no label; not read as a lot, serial or date"
R_EXCEPT = "listed as an exception; exclusions are not read, so check these by hand"
R_HEADING = (
    "text before a colon looks like a heading (a product, model or variant "
    "name), not a lot or serial"
)
R_GLUED = (
    "a closing bracket is stuck to this code; an item number such as '2)' may have run into it"
)
R_SPACES = "codes separated only by spaces; cannot tell whether this is one code or several"
R_RECALL = "recall or campaign number, not a product code"
R_NO_YEAR = "no year is given, so the date cannot be placed"
R_DATE_NO_KIND = "no label says what this date is (expiry, best by, manufacture, sale ...)"
R_DATE_BACKWARDS = "date range runs backwards (the first date is after the second)"
R_DATE_AS_CODE = "looks like a date but is listed as a {noun}; is it a {noun} or a date?"
R_RANGE_NO_DIGITS = "range ends do not finish in digits, so the codes in between cannot be listed"
R_RANGE_PREFIX = "the two ends of this range have different prefixes"
R_RANGE_BACKWARDS = "range runs backwards (the first code is after the last)"
R_RANGE_OTHER = "ranges of {plural} are not read; list them one by one"
R_GTIN_CHARS = "a UPC, EAN or GTIN is digits only; this contains letters or other characters"
R_GTIN_LENGTH = "has {count} digits; a UPC, EAN or GTIN has 8, 12, 13 or 14 digits"
R_BOX_NOTE = "note in brackets; not read as a {noun}"
R_BOX_BRACKET = "unbalanced bracket; not read as a {noun}"
R_BOX_LABEL = "labelled as {what}, not as a {noun}"
R_BOX_ALL = "means every {noun}; use the 'all lots' option rather than a code"
R_BOX_WORDS = "contains words, not just a {noun}"
R_BOX_CHARS = "contains characters that do not belong in a {noun}"

_NOUN = {
    "lot": "lot code",
    "serial": "serial number",
    "model": "model number",
    "gtin": "barcode",
    "recall": "recall number",
}
_PLURAL = {"model": "model numbers", "gtin": "barcodes", "recall": "recall numbers"}
_DESCRIBE = {
    "lot": "a lot",
    "serial": "a serial number",
    "model": "a model or catalogue number",
    "gtin": "a barcode (UPC, EAN or GTIN)",
    "recall": "a recall number",
    "manufactured": "a manufacture date",
    "best_by": "a best-by date",
    "expiry": "an expiry date",
    "sold": "a sale date",
    "acquired": "a purchase date",
    "distributed": "a distribution date",
    "date": "a date",
}


# --------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------

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
_ORD = r"(?:st|nd|rd|th)?"
_COUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)"  # "529,327"; never rescans "1,1,1,..."
_NOT_AFTER_CODE = r"(?<![\w/.])"
_NOT_BEFORE_CODE = r"(?![\w/]|\.\d)"

# Words that qualify a label: "Lot No.", "Lot Number(s)", "Lot #'s:", "UPC code".
_CODE_SUFFIX = (
    r"(?:\s*(?:#|\bnos?\b\.?|\bnum(?:ber)?s?\b\.?(?:\(s\))?|\bcodes?\b|\branges?\b))*"
    "(?:\\s*['\u2019]s\\b)?(?:\\s*[:#])*"
)
_NUMBERED = r"(?=\s*(?:#|nos?\b|num))"
_DATE_SUFFIX = r"(?:\s*:)?"

# Order matters where two labels can start at the same place.
_LABELS: tuple[tuple[str, str], ...] = (
    ("recall", rf"\brecall{_NUMBERED}"),
    (
        "gtin",
        r"\b(?:upc(?:-?a)?|gtin(?:-?1[234])?|ean(?:-?(?:8|13))?|bar\s*codes?)\b",
    ),
    (
        "model",
        r"(?:\bmodels?\b|\b(?:item|part|article|style)\b"
        + _NUMBERED
        + r"|\bcat\b\.?"
        + _NUMBERED
        + r"|\bcatalog(?:ue)?\b|\bskus?\b|\bndc\b|\bproduct\s+codes?\b"
        r"|\b(?-i:REF|Ref)\b\.?)",
    ),
    ("serial", r"\b(?:serials?|s/n|(?-i:SN)|units?|vins?)\b"),
    ("lot", r"\b(?:date\s+codes?|lot\s*/\s*batch|lots?|batch(?:es)?|codes?)\b"),
)
_DATE_LABELS: tuple[tuple[str, str], ...] = (
    ("expiry", r"\b(?:exp(?:ir(?:y|ation|es|ed|ing))?\b\.?|use[\s-]+(?:by|before)\b)"),
    (
        "best_by",
        r"\b(?:best\s+if\s+used\s+by|best[\s-]+(?:by|before)|sell[\s-]+by"
        r"|enjoy\s+by|(?-i:BBD?))\b",
    ),
    (
        "manufactured",
        r"\b(?:manufactur\w*|mfg\b\.?|mfd\b\.?|produced\b|production\b|packed\b"
        r"|pack\s+dates?\b|built\b|made\b)",
    ),
    ("distributed", r"\b(?:distribut\w*|shipped|ship(?:ping)?\s+dates?)\b"),
    ("sold", r"\b(?:sold|on\s+sale|sales?\s+dates?)\b"),
    ("acquired", r"\b(?:purchased|acquired|bought|received|purchase\s+dates?)\b"),
    ("date", r"\b(?:dates?|dated)\b"),
)

# A label is never glued to a code by a dash or slash: "SN-0000001" is one serial.
_NOT_GLUED = r"(?![-/]\w)"
_LABEL_GROUPS = [f"(?P<L_{name}>{rx}{_CODE_SUFFIX}{_NOT_GLUED})" for name, rx in _LABELS] + [
    f"(?P<D_{name}>{rx}{_DATE_SUFFIX}{_NOT_GLUED})" for name, rx in _DATE_LABELS
]
_LABEL_RE = re.compile("|".join(_LABEL_GROUPS), re.IGNORECASE)

_DATE_TOKEN_KINDS = frozenset(
    {"drange", "dmdy", "ddmy", "dmy", "dnoyear", "diso", "dnum", "ddot", "dmonth"}
)

# Token patterns, tried in order at each position. They are split by the first
# character they can start with, so each position tries only the patterns that
# can match there (one big alternation was several times slower).
_QTY_COUNT = rf"(?P<qty>\b{_COUNT}\s+units\b(?!\s*[:#]))"
_QTY_BRACKET = rf"(?P<qty>\(\s*{_COUNT}\s*units?\s*\))"
_ENUM_BEHIND = r"(?<![\w/)(.\]\[])"
_WORD = r"(?P<word>\w+(?:[-/.]\w+)*\+*)"
_DIGIT_TOKENS = [
    _QTY_COUNT,
    rf"(?P<enum>{_ENUM_BEHIND}\d{{1,2}}\))",
    rf"(?P<drange>\b\d{{1,2}}{_ORD}\s*(?:-|and|to|through|thru)\s*"
    rf"\d{{1,2}}{_ORD}\s+{_MONTH}\b\.?,?\s+\d{{4}}\b)",
    rf"(?P<ddmy>\b\d{{1,2}}{_ORD}(?:\s+|-){_MONTH}\b\.?(?:,?\s+|-)\d{{4}}\b)",
    rf"(?P<diso>{_NOT_AFTER_CODE}\d{{4}}-\d{{1,2}}-\d{{1,2}}{_NOT_BEFORE_CODE})",
    rf"(?P<dnum>{_NOT_AFTER_CODE}\d{{1,2}}(?:/\d{{1,2}}/(?:\d{{4}}|\d{{2}})"
    rf"|-\d{{1,2}}-\d{{4}}){_NOT_BEFORE_CODE})",
    rf"(?P<ddot>{_NOT_AFTER_CODE}(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{4}}"
    rf"|\d{{2}}\.\d{{2}}\.\d{{2}}){_NOT_BEFORE_CODE})",
    rf"(?P<dmonth>{_NOT_AFTER_CODE}\d{{1,2}}[/.]\d{{4}}{_NOT_BEFORE_CODE})",
    _WORD,
]
_LETTER_TOKENS = [
    rf"(?P<enum>{_ENUM_BEHIND}(?-i:[a-z])\))",
    rf"(?P<dmdy>\b{_MONTH}\b\.?\s+\d{{1,2}}{_ORD}(?:\s*,\s*|\s+)\d{{4}}\b)",
    rf"(?P<dmy>\b{_MONTH}\b\.?,?\s+\d{{4}}\b)",
    rf"(?P<dnoyear>\b{_MONTH}\b\.?\s+\d{{1,2}}{_ORD}\b(?![/.-]\d))",
    r"(?P<except>\b(?:except(?:\s+for)?|excluding|other\s+than|not\s+including)\b)",
    r"(?P<all>\ball\s+(?:of\s+)?(?:the\s+)?(?:[^\W\d_]+\s+){0,2}?"
    r"(?:lots?|codes|units|serial\s+numbers|serials|batch(?:es)?"
    r"|products?|items|varieties)\b)",
    *_LABEL_GROUPS,
    r"(?P<conn>\b(?:prior\s+to|on\s+or\s+before|on\s+or\s+after|up\s+to"
    r"|through|thru|till|until|to|and|or|between|from|before|after|since"
    r"|starting)\b)",
    _WORD,
]
_OTHER_TOKENS = [
    _QTY_BRACKET,
    r"(?P<sent>\.(?=\s+[\"'(*\[]*(?-i:[A-Z]))|\.(?=\s*$))",
    r"(?P<conn>[&-])",
    r"(?P<punct>[,;:()\[\]\n])",
]
_DIGIT_TOKEN_RE = re.compile("|".join(_DIGIT_TOKENS), re.IGNORECASE)
_LETTER_TOKEN_RE = re.compile("|".join(_LETTER_TOKENS), re.IGNORECASE)
_OTHER_TOKEN_RE = re.compile("|".join(_OTHER_TOKENS), re.IGNORECASE)
_OTHER_STARTS = frozenset(".,;:()[]\n&-")
_TOKEN_START_RE = re.compile(r"[\w.,;:()\[\]\n&-]")


def _scan(text: str) -> Iterator[re.Match[str]]:
    """Yield token matches left to right; characters no token starts with are skipped."""
    position = 0
    while True:
        start = _TOKEN_START_RE.search(text, position)
        if start is None:
            return
        position = start.start()
        char = text[position]
        if char.isdecimal():
            pattern = _DIGIT_TOKEN_RE
        elif char in _OTHER_STARTS:
            pattern = _OTHER_TOKEN_RE
        else:
            pattern = _LETTER_TOKEN_RE
        match = pattern.match(text, position)
        if match is None:
            position += 1
            continue
        yield match
        position = match.end()


_RANGE_WORDS = frozenset({"through", "thru", "to", "till", "until", "-"})
_JOIN_WORDS = frozenset({"and", "or", "&"})
_TAIL_RE = re.compile(r"(.*?)(\d+)")
_WORD_RE = re.compile(r"[^\W\d_]+")
_DIGITS_RE = re.compile(r"\d+")
_GTIN_PART_RE = re.compile(r"\d+(?:-\d+)*")
_NOISY_GAP_RE = re.compile(r"[*\"$]")
_CONTEXT_DATE_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d{1,2})/(\d{2})"), "my"),
    (re.compile(r"(\d{1,2})-(\d{4})"), "my"),
    (re.compile(r"((?:19|20)\d{2})"), "y"),
    (re.compile(r"((?:19|20)\d{2})[-/](\d{1,2})"), "ym"),
)
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_SPACES = dict.fromkeys(map(ord, "\t\u00a0\u2007\u2009\u202f\u200b"), " ")


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Codes and ranges
# --------------------------------------------------------------------------


def _make_range(left: str, right: str, text: str, explicit: bool) -> Range | Unparsed | None:
    """Build a range from its two ends.

    ``explicit`` ranges were written with a connecting word or a spaced dash,
    so anything wrong with them is reported. An unspaced "X-Y" is only a range
    when both ends have the same shape; otherwise ``None`` says "not a range".
    """
    left_match = _TAIL_RE.fullmatch(left)
    right_match = _TAIL_RE.fullmatch(right)
    if left_match is None or right_match is None:
        return Unparsed(text, R_RANGE_NO_DIGITS) if explicit else None
    left_prefix, left_digits = left_match.groups()
    right_prefix, right_digits = right_match.groups()
    if not explicit:
        if len(left_digits) != len(right_digits):
            return None
        if right_prefix not in ("", left_prefix):
            return None
    if right_prefix == "":
        right_prefix = left_prefix
    if right_prefix != left_prefix:
        return Unparsed(text, R_RANGE_PREFIX)
    start, end = int(left_digits), int(right_digits)
    if start > end:
        return Unparsed(text, R_RANGE_BACKWARDS)
    padded = any(len(d) > 1 and d.startswith("0") for d in (left_digits, right_digits))
    width = max(len(left_digits), len(right_digits)) if padded else 0
    return Range(left_prefix, start, end, width, text)


def _hyphen_range(code: str) -> Range | Unparsed | None:
    """Read an unspaced "X-Y" as a range when both ends have the same shape."""
    if code.count("-") != 1:
        return None
    left, right = code.split("-")
    return _make_range(left, right, code, explicit=False)


def _shape(code: str) -> str:
    return re.sub(r"[^\W\d_]", "A", re.sub(r"\d", "9", code))


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_DASHES).translate(_SPACES)


def _squash(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------
# Collecting results
# --------------------------------------------------------------------------


class _Collector:
    """Gather results in order, dropping repeats."""

    def __init__(self) -> None:
        self.scope = ParsedScope()
        self._seen: set[tuple[object, ...]] = set()
        self._codes = {
            "lot": self.scope.lots,
            "serial": self.scope.serials,
            "model": self.scope.models,
            "gtin": self.scope.gtins,
        }

    def _first(self, key: tuple[object, ...]) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def code(self, kind: str, value: str) -> None:
        value = _squash(value)
        if value and self._first((kind, value)):
            self._codes[kind].append(value)

    def range(self, kind: str, found: Range | Unparsed) -> None:
        if isinstance(found, Unparsed):
            self.unparsed(found.text, found.reason)
            return
        found = Range(found.prefix, found.start, found.end, found.width, _squash(found.text))
        target = self.scope.lot_ranges if kind == "lot" else self.scope.serial_ranges
        if self._first((kind, "range", found.prefix, found.start, found.end, found.width)):
            target.append(found)

    def window(self, window: DateWindow) -> None:
        if self._first(("date", window.kind, window.start, window.end)):
            self.scope.date_windows.append(window)

    def unparsed(self, text: str, reason: str) -> None:
        text = _squash(text)
        if text and self._first(("unparsed", text, reason)):
            self.scope.unparsed.append(Unparsed(text, reason))


# --------------------------------------------------------------------------
# Free text
# --------------------------------------------------------------------------


class _Tok:
    """One token of the free text."""

    __slots__ = ("end", "kind", "label", "span", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end
        self.label = ""
        self.span: _Span | str | None = None


def _tokenise(text: str, day_first: bool | None) -> list[_Tok]:
    tokens: list[_Tok] = []
    pairs: list[tuple[int, int]] = []
    depth = 0
    for match in _scan(text):
        group = match.lastgroup or "punct"
        value = match.group()
        if group == "punct" and value in "([":
            depth += 1
        elif group == "punct" and value in ")]":
            depth = max(depth - 1, 0)
        if group == "enum" and depth:
            # "(UPC 0 21985 20005 6)": inside brackets "6)" closes the bracket.
            inner = value[:-1]
            kind = "code" if inner.isdigit() else "word"
            tokens.append(_Tok(kind, inner, match.start(), match.end() - 1))
            tokens.append(_Tok("punct", ")", match.end() - 1, match.end()))
            depth -= 1
            continue
        if group.startswith(("L_", "D_")):
            token = _Tok("label", value, match.start(), match.end())
            token.label = group
        elif group == "word":
            kind = "code" if any(ch.isdigit() for ch in value) else "word"
            token = _Tok(kind, value, match.start(), match.end())
        else:
            token = _Tok(group, value, match.start(), match.end())
        if group == "dnum":
            a, b = (int(n) for n in _DIGITS_RE.findall(value)[:2])
            pairs.append((a, b))
        tokens.append(token)
    order = _decide_day_first(pairs, day_first)
    for token in tokens:
        if token.kind in _DATE_TOKEN_KINDS:
            token.span = _token_span(token.kind, token.text, order)
    return tokens


@dataclass
class _Pending:
    """Unlabelled text waiting to be reported."""

    start: int
    end: int
    reason: str


@dataclass
class _Frame:
    """Reading state saved when a bracket opens."""

    code_field: str | None
    date_kinds: tuple[str, ...] | None
    last_label: str | None
    note: bool


class _FreeText:
    """Walk the tokens of a notice, keeping track of the current labels."""

    def __init__(self, text: str, day_first: bool | None) -> None:
        self.text = text
        self.toks = _tokenise(text, day_first)
        self.out = _Collector()
        self.code_field: str | None = None
        self.date_kinds: tuple[str, ...] | None = None
        self.last_label: str | None = None
        self.between = False
        self.qualifier: str | None = None
        self.date_expect = False
        self.except_mode = False
        self.note = False
        self.frames: list[_Frame] = []
        self.pending: list[_Pending] = []
        self.after_date_label = False
        self.join_kinds = False
        self.fresh_clause = False
        self.before_recall: tuple[str | None, str | None] = (None, None)
        self.lead_start: int | None = None
        self.clause_words: tuple[int, int] | None = None
        self.clause_read = False
        self.no_code_until = 0

    # -- helpers -----------------------------------------------------------

    def _pend(self, start: int, end: int, reason: str) -> None:
        """Hold unlabelled text; neighbours with the same reason become one item."""
        if self.pending and self.pending[-1].reason == reason:
            gap = self.text[self.pending[-1].end : start]
            if len(gap) <= 40 and not _NOISY_GAP_RE.search(gap):
                self.pending[-1].end = end
                return
        self.pending.append(_Pending(start, end, reason))

    def _flush(self) -> None:
        for held in self.pending:
            self.out.unparsed(self.text[held.start : held.end], held.reason)
        self.pending = []

    def _clause_end(self) -> None:
        if self.clause_words is not None and not self.clause_read:
            start, end = self.clause_words
            self.out.unparsed(self.text[start:end], R_NOTHING)
        self.clause_words = None
        self.clause_read = False
        self._flush()
        self.between = False
        self.qualifier = None
        self.date_expect = False
        self.except_mode = False
        self.fresh_clause = True
        self.lead_start = None

    def _is_uword(self, tok: _Tok) -> bool:
        return (
            tok.kind == "word" and tok.text.isalpha() and tok.text.isupper() and len(tok.text) <= 4
        )

    def _dateish(self, tok: _Tok) -> bool:
        if tok.kind in _DATE_TOKEN_KINDS:
            return True
        return tok.kind == "code" and self.date_expect and _context_date(tok.text) is not None

    def _span(self, tok: _Tok) -> _Span | str:
        if tok.kind == "code":
            return _context_date(tok.text) or "not a valid date"
        assert tok.span is not None
        return tok.span

    def _chain(self, i: int, allow_dates: bool) -> tuple[list[_Tok], int]:
        """Codes (and short capital words) separated only by spaces."""
        run: list[_Tok] = []
        j = i
        while j < len(self.toks):
            tok = self.toks[j]
            fits = tok.kind == "code" or self._is_uword(tok)
            fits = fits or (allow_dates and tok.kind in _DATE_TOKEN_KINDS)
            if not fits:
                break
            if run and self.text[run[-1].end : tok.start].strip(" "):
                break
            if run and not self.text[run[-1].end : tok.start]:
                break
            run.append(tok)
            j += 1
        scanned = j
        while run and self._is_uword(run[-1]) and len(run[-1].text) > 2:
            run.pop()
            j -= 1
        if not any(not self._is_uword(tok) for tok in run):
            # Capital words with no code after them: remember how far that goes,
            # so the next word of the same run is not scanned again.
            self.no_code_until = max(self.no_code_until, scanned)
            return [], i
        return run, j

    def _conn_word(self, j: int) -> str | None:
        if j < len(self.toks) and self.toks[j].kind == "conn":
            return _squash(self.toks[j].text.lower())
        return None

    def _is_range_word(self, word: str | None) -> bool:
        return word in _RANGE_WORDS or (word == "and" and self.between)

    def _partner(self, j: int, allow_dates: bool) -> int:
        """Step over "to <value>" after a value being reported as a whole."""
        if self._is_range_word(self._conn_word(j)):
            run, after = self._chain(j + 1, allow_dates)
            if run:
                return after
        return j

    # -- main loop ---------------------------------------------------------

    def run(self) -> ParsedScope:
        i = 0
        toks = self.toks
        while i < len(toks):
            tok = toks[i]
            was_after_date_label = self.after_date_label
            self.after_date_label = False
            kind = tok.kind
            if self.fresh_clause and kind not in ("qty", "enum", "punct", "conn"):
                self.fresh_clause = False
                if kind == "word" and not self._is_uword(tok):
                    # "UPC: 13964447019; 2) Smiling Hara Tempeh, 1.5 lb.": prose
                    # after an item marker starts a new item, so the code label
                    # no longer applies. "b) 90A028" keeps it.
                    self.code_field = None
                    if self.last_label == "code":
                        self.last_label = None
            if kind == "qty":
                self.clause_read = True
                i += 1
            elif kind == "enum" or (kind == "punct" and tok.text in ";\n"):
                self._clause_end()
                i += 1
            elif kind == "sent":
                self._clause_end()
                self.code_field = self.date_kinds = self.last_label = None
                self.frames = []
                self.note = False
                i += 1
            elif kind == "punct":
                if tok.text in "([":
                    self._open()
                elif tok.text in ")]":
                    self._close()
                elif was_after_date_label:  # "Expiration Dates :", "made, sold"
                    self.after_date_label = True
                    self.join_kinds = self.join_kinds or tok.text == ","
                i += 1
            elif kind == "except":
                self.clause_read = True
                self._flush()
                self.except_mode = True
                i += 1
            elif kind == "all":
                self.clause_read = True
                self.out.scope.all_lots = True
                i += 1
            elif kind == "label":
                self.clause_read = True
                self._label(tok, was_after_date_label)
                i += 1
            elif kind == "conn":
                self._conn(tok, was_after_date_label)
                i += 1
            elif kind == "word":
                i = self._word(i)
            else:
                self.clause_read = True
                i = self._value(i)
        self._clause_end()
        return self.out.scope

    # -- token handlers ----------------------------------------------------

    def _open(self) -> None:
        self._flush()
        self.frames.append(_Frame(self.code_field, self.date_kinds, self.last_label, self.note))
        self.note = True
        self.date_expect = False

    def _close(self) -> None:
        self._flush()
        if self.frames:
            frame = self.frames.pop()
            self.code_field = frame.code_field
            self.date_kinds = frame.date_kinds
            self.last_label = frame.last_label
            self.note = frame.note
        self.date_expect = False

    def _label(self, tok: _Tok, was_after_date_label: bool) -> None:
        self._flush()
        self.note = False
        self.between = False
        self.qualifier = None
        name = tok.label[2:]
        if tok.label.startswith("L_"):
            if name == "recall" and self.code_field != "recall":
                self.before_recall = (self.code_field, self.last_label)
            self.code_field = name
            self.last_label = "code"
            self.date_expect = False
            self.join_kinds = False
            return
        if name == "date":
            if not (was_after_date_label and self.last_label == "date"):
                self.date_kinds = ()
        elif self.join_kinds and was_after_date_label and self.date_kinds:
            if name not in self.date_kinds:
                self.date_kinds = (*self.date_kinds, name)
        else:
            self.date_kinds = (name,)
        self.join_kinds = False
        self.last_label = "date"
        self.date_expect = True
        self.after_date_label = True

    def _conn(self, tok: _Tok, was_after_date_label: bool) -> None:
        word = _squash(tok.text.lower())
        if word in _JOIN_WORDS and was_after_date_label:
            self.after_date_label = True
            self.join_kinds = True
        elif word == "between":
            self.between = True
            self.qualifier = None
            self.lead_start = tok.start
        elif word in ("and", "or", "&", "-", "to"):
            pass
        else:
            self.qualifier = word
            self.lead_start = tok.start

    def _word(self, i: int) -> int:
        tok = self.toks[i]
        following = self.toks[i + 1] if i + 1 < len(self.toks) else None
        if following is not None and following.kind == "punct" and following.text == ":":
            if self._words_after_label(i):
                return i + 2  # "EAN kódom:", "Lot numbers listed below:"
            self._flush()  # an unknown label such as "Quantity:" or "Material:"
            self.code_field = None
            if self.last_label == "code":
                self.last_label = None
            self.date_expect = False
            return i + 2
        if tok.text.lower() == "all" and self.last_label == "code" and i:
            previous = self.toks[i - 1]
            if previous.kind == "label" and previous.label in ("L_lot", "L_serial"):
                self.out.scope.all_lots = True
                return i + 1
        if self._is_uword(tok) and i >= self.no_code_until:
            run, _ = self._chain(i, allow_dates=False)
            if run:
                self.clause_read = True
                return self._value(i)
        if self.clause_words is None:
            self.clause_words = (tok.start, tok.end)
        else:
            self.clause_words = (self.clause_words[0], tok.end)
        return i + 1

    def _words_after_label(self, i: int) -> bool:
        """Whether word ``i`` only continues a label, with plain words in between."""
        k = i - 1
        while k >= 0 and self.toks[k].kind == "word":
            k -= 1
        if k < 0 or self.toks[k].kind != "label":
            return False
        label = self.toks[k]
        gap = self.text[label.end : self.toks[i].start]
        plain = gap == "" or re.fullmatch(r"[^\W\d_]*(?:\s+[^\W\d_]+)*\s+", gap)
        return not label.text.rstrip().endswith((":", "#")) and bool(plain)

    def _value(self, i: int) -> int:
        tok = self.toks[i]
        if self._dateish(tok) and self.last_label == "date" and not self.except_mode:
            return self._date_group(i)
        allow_dates = self.last_label != "date" or self.except_mode
        run, j = self._chain(i, allow_dates=allow_dates)
        if not run:
            return i + 1
        start, end = run[0].start, run[-1].end
        text = self.text[start:end]
        following = self.toks[j] if j < len(self.toks) else None
        if following is not None and following.kind == "punct" and following.text == ":":
            self._flush()
            self.out.unparsed(text + ":", R_HEADING)
            return j + 1
        if self.except_mode or self.note or self.code_field is None:
            after = self._partner(j, allow_dates)
            if self.except_mode:
                reason = R_EXCEPT
            elif self.note:
                reason = R_NOTE
            else:
                reason = R_NO_LABEL
            self._pend(start, self.toks[after - 1].end, reason)
            self.date_expect = self.date_expect and self.last_label == "date"
            return after
        if any(t.kind in _DATE_TOKEN_KINDS for t in run):
            if self.last_label == "code":
                noun = _NOUN[self.code_field]
                self.out.unparsed(text, R_DATE_AS_CODE.format(noun=noun))
                return j
            after = self._partner(j, allow_dates)
            self._pend(start, self.toks[after - 1].end, R_NO_LABEL)
            return after
        if (
            following is not None
            and following.kind == "punct"
            and following.text in ")]"
            and following.start == end
            and not self.frames
        ):
            self.out.unparsed(text + following.text, R_GLUED)
            return j + 1
        self.qualifier = None
        self.date_expect = False
        return self._codes(run, j, text)

    def _codes(self, run: list[_Tok], j: int, text: str) -> int:
        field_name = self.code_field
        assert field_name is not None
        if field_name == "recall":
            # "Recall # F-1336-2012" labels one number only.
            self.out.unparsed(text, R_RECALL)
            self.code_field, self.last_label = self.before_recall
            return j
        if field_name == "gtin":
            self._gtin(run, text)
            return j
        if len(run) == 1 and self._is_range_word(self._conn_word(j)):
            run2, after = self._chain(j + 1, allow_dates=False)
            if len(run2) == 1 and run2[0].kind == "code":
                self.between = False
                range_text = self.text[run[0].start : run2[0].end]
                if field_name in ("lot", "serial"):
                    found = _make_range(run[0].text, run2[0].text, range_text, True)
                    assert found is not None
                    self.out.range(field_name, found)
                else:
                    plural = _PLURAL[field_name]
                    self.out.unparsed(range_text, R_RANGE_OTHER.format(plural=plural))
                return after
        self.between = False
        if len(run) > 1 and any(self._is_uword(t) for t in run):
            self.out.code(field_name, text)
            return j
        if len(run) > 1 and len({_shape(t.text) for t in run}) > 1:
            self.out.unparsed(text, R_SPACES)
            return j
        for tok in run:
            self._single_code(field_name, tok.text)
        return j

    def _single_code(self, field_name: str, code: str) -> None:
        if field_name in ("lot", "serial"):
            found = _hyphen_range(code)
            if found is not None:
                self.out.range(field_name, found)
                return
        self.out.code(field_name, code)

    def _gtin(self, run: list[_Tok], text: str) -> None:
        parts = [tok.text for tok in run]
        if not all(_GTIN_PART_RE.fullmatch(part) for part in parts):
            self.out.unparsed(text, R_GTIN_CHARS)
            return
        digits = [part.replace("-", "") for part in parts]
        if len(digits) > 1 and all(len(d) in GTIN_LENGTHS for d in digits):
            for value in digits:
                self.out.code("gtin", value)
            return
        joined = "".join(digits)
        if len(joined) in GTIN_LENGTHS:
            self.out.code("gtin", joined)
        else:
            self.out.unparsed(text, R_GTIN_LENGTH.format(count=len(joined)))

    def _date_group(self, i: int) -> int:
        toks = self.toks
        first_tok = toks[i]
        last_tok = first_tok
        first = self._span(first_tok)
        second: _Span | str | None = None
        j = i + 1
        if (
            first_tok.kind != "drange"
            and self._is_range_word(self._conn_word(j))
            and j + 1 < len(toks)
            and self._dateish(toks[j + 1])
        ):
            last_tok = toks[j + 1]
            second = self._span(last_tok)
            j += 2
        lead = self.lead_start
        if lead is None or (self.qualifier is None and not self.between):
            lead = first_tok.start
        text = self.text[lead : last_tok.end]
        qualifier = self.qualifier
        self.qualifier = None
        self.lead_start = None
        self.between = False
        self.date_expect = True
        if isinstance(first, str) or isinstance(second, str):
            reason = first if isinstance(first, str) else str(second)
            self.out.unparsed(text, reason)
            return j
        start: datetime.date | None = first.first
        end: datetime.date | None = first.last
        if second is not None:
            end = second.last
            if first.first > second.last:
                self.out.unparsed(text, R_DATE_BACKWARDS)
                return j
        elif qualifier in ("before", "prior to"):
            start, end = None, first.first - datetime.timedelta(days=1)
        elif qualifier in ("on or before", "until", "till", "up to", "through", "thru"):
            start = None
        elif qualifier == "after":
            start, end = first.last + datetime.timedelta(days=1), None
        elif qualifier in ("since", "on or after", "from", "starting"):
            end = None
        if not self.date_kinds:
            self.out.unparsed(text, R_DATE_NO_KIND)
            return j
        for kind in self.date_kinds:
            self.out.window(DateWindow(kind, start, end, _squash(text)))
        return j


def parse_scope_text(text: str, *, day_first: bool | None = None) -> ParsedScope:
    """Read the free scope text of a recall notice.

    ``day_first`` fixes the order of slash and dash dates: ``True`` for
    day/month/year (European notices), ``False`` for month/day/year. Left as
    ``None``, dates are read month first unless the text itself shows day-first
    dates.
    """
    return _FreeText(_normalise(text), day_first).run()


# --------------------------------------------------------------------------
# Lot and serial boxes
# --------------------------------------------------------------------------

_BOX_SPLIT_RE = re.compile(r"[,;\n]")
_BOX_NOTE_RE = re.compile(r"[(\[][^()\[\]]*[)\]]")
_BOX_ALL_RE = re.compile(
    r"all(?:\s+(?:lots?|batch(?:es)?|codes?|units|serials|serial\s+numbers"
    r"|products?))?",
    re.IGNORECASE,
)
_BOX_BETWEEN_RE = re.compile(r"between\s+(\S+)\s+and\s+(\S+)", re.IGNORECASE)
_BOX_AND_RE = re.compile(r"\s+and\s+|\s*&\s*", re.IGNORECASE)
_BOX_WORD_RANGE_RE = re.compile(
    r"(?:from\s+)?(\S+)\s+(?:through|thru|to|till|until)\s+(\S+)", re.IGNORECASE
)
_BOX_DASH_RANGE_RE = re.compile(r"(\S+?)(?:\s+-\s*|\s*-\s+)(\S+)")
_BOX_CODE_RE = re.compile(r"\w[\w\-/.+# ]*")
_BOX_LABEL_OF = {"lot": "L_lot", "serial": "L_serial"}


def _box_item(piece: str, kind: str, out: _Collector) -> None:
    noun = _NOUN[kind]
    item = _squash(piece).rstrip(".").strip()
    if not item:
        return
    for note in _BOX_NOTE_RE.findall(item):
        out.unparsed(note, R_BOX_NOTE.format(noun=noun))
    item = _squash(_BOX_NOTE_RE.sub(" ", item))
    if not item:
        return
    if re.search(r"[()\[\]]", item):
        out.unparsed(item, R_BOX_BRACKET.format(noun=noun))
        return
    label = _LABEL_RE.match(item)
    if label is not None and label.lastgroup is not None:
        if label.lastgroup != _BOX_LABEL_OF[kind]:
            name = label.lastgroup[2:]
            what = _DESCRIBE.get(name, "something else")
            out.unparsed(item, R_BOX_LABEL.format(what=what, noun=noun))
            return
        item = item[label.end() :].strip()
        if not item:
            return
    if ":" in item:
        head, _, item = item.partition(":")
        out.unparsed(head.strip() + ":", R_HEADING)
        item = item.strip()
        if not item:
            return
    if _BOX_ALL_RE.fullmatch(item):
        out.unparsed(item, R_BOX_ALL.format(noun=noun))
        return
    between = _BOX_BETWEEN_RE.fullmatch(item)
    if between is not None:
        found = _make_range(between.group(1), between.group(2), item, explicit=True)
        assert found is not None
        out.range(kind, found)
        return
    for part in _BOX_AND_RE.split(item):
        _box_code(part.strip(), kind, out)


def _box_code(code: str, kind: str, out: _Collector) -> None:
    noun = _NOUN[kind]
    if not code:
        return
    ranged = _BOX_WORD_RANGE_RE.fullmatch(code) or _BOX_DASH_RANGE_RE.fullmatch(code)
    if ranged is not None:
        found = _make_range(ranged.group(1), ranged.group(2), code, explicit=True)
        assert found is not None
        out.range(kind, found)
        return
    if " " not in code:
        hyphen = _hyphen_range(code)
        if hyphen is not None:
            out.range(kind, hyphen)
            return
    if not _BOX_CODE_RE.fullmatch(code):
        out.unparsed(code, R_BOX_CHARS.format(noun=noun))
        return
    if any(w.isalpha() and not w.isupper() and len(w) > 1 for w in code.split()):
        out.unparsed(code, R_BOX_WORDS.format(noun=noun))
        return
    out.code(kind, code)


def _parse_box(text: str, kind: str) -> ParsedScope:
    out = _Collector()
    for piece in _BOX_SPLIT_RE.split(_normalise(text)):
        _box_item(piece, kind, out)
    return out.scope


def parse_lot_lines(text: str) -> ParsedScope:
    """Read the lot box: one lot or lot range per line, or comma/semicolon separated.

    Only ``lots``, ``lot_ranges`` and ``unparsed`` are filled. A leading lot
    label ("Lot #", "Batch") is dropped; a different label ("REF", "Exp") is
    reported. Each line is taken as written, so date-looking lot codes such as
    "17.05.2024" or "2022/04" stay lot codes.
    """
    return _parse_box(text, "lot")


def parse_serial_lines(text: str) -> ParsedScope:
    """Read the serial box, the same way as :func:`parse_lot_lines`.

    Only ``serials``, ``serial_ranges`` and ``unparsed`` are filled.
    """
    return _parse_box(text, "serial")
