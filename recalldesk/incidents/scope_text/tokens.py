"""The lexer for free scope text: label patterns, token patterns and tokens.

Labels ("Lot #", "Serial No.", "UPC", "Exp.", "Best by", ...) say what the
codes or dates after them are; :func:`_tokenise` splits a notice into
labels, codes, words, dates, connecting words and punctuation, and reads
each date token under the day/month order the text shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from recalldesk.incidents.scope_text.dates import (
    _DIGITS_RE,
    _MONTH,
    _decide_day_first,
    _Span,
    _token_span,
)

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
