"""Codes and code ranges: building a range from its two ends, and code shapes.

"AB1000-AB2000" and "1234 through 1250" become :class:`Range` values;
"439605-01" or "12-345-A" are not ranges because their ends differ in shape.
"""

from __future__ import annotations

import re

from recalldesk.incidents.scope_text.model import Range, Unparsed
from recalldesk.incidents.scope_text.reasons import (
    R_RANGE_BACKWARDS,
    R_RANGE_NO_DIGITS,
    R_RANGE_PREFIX,
)

_TAIL_RE = re.compile(r"(.*?)(\d+)")


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
