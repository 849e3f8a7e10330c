"""The results of reading scope text: ranges, date windows, unparsed text and the scope.

Also the constants callers need to use them: the kinds of date window, the
lengths a barcode may have, and how large a range ``Range.codes()`` expands.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

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
