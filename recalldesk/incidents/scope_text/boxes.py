"""Reading the lot and serial boxes of the scope editor.

One lot or serial (or range) per line, or separated by commas or
semicolons: :func:`parse_lot_lines` and :func:`parse_serial_lines`.
"""

from __future__ import annotations

import re

from recalldesk.incidents.scope_text.codes import _hyphen_range, _make_range
from recalldesk.incidents.scope_text.collector import _Collector
from recalldesk.incidents.scope_text.model import ParsedScope
from recalldesk.incidents.scope_text.normalise import _normalise, _squash
from recalldesk.incidents.scope_text.reasons import (
    _DESCRIBE,
    _NOUN,
    R_BOX_ALL,
    R_BOX_BRACKET,
    R_BOX_CHARS,
    R_BOX_LABEL,
    R_BOX_NOTE,
    R_BOX_WORDS,
    R_HEADING,
)
from recalldesk.incidents.scope_text.tokens import _LABEL_RE

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
