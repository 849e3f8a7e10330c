"""The reading state for the free text of a notice, and look-ahead over its tokens.

:class:`_Reader` holds the labels in force, open brackets and unlabelled
text waiting to be reported, and finds runs of codes and range partners.
:class:`recalldesk.incidents.scope_text.notice._FreeText` builds on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recalldesk.incidents.scope_text.collector import _Collector
from recalldesk.incidents.scope_text.dates import _context_date, _Span
from recalldesk.incidents.scope_text.normalise import _squash
from recalldesk.incidents.scope_text.reasons import R_NOTHING
from recalldesk.incidents.scope_text.tokens import _DATE_TOKEN_KINDS, _Tok, _tokenise

_RANGE_WORDS = frozenset({"through", "thru", "to", "till", "until", "-"})
_NOISY_GAP_RE = re.compile(r"[*\"$]")


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


class _Reader:
    """Reading state for a notice's tokens, with helpers that look ahead in them."""

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
