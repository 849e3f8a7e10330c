"""Reading the free scope text of a recall notice: :func:`parse_scope_text`.

Walks the tokens of a notice, keeping track of the labels in force, and
turns codes, ranges, barcodes and dates into scope, reporting whatever it
cannot read with confidence. The rules are described in the package docstring.
"""

from __future__ import annotations

import datetime
import re

from recalldesk.incidents.scope_text.codes import _hyphen_range, _make_range, _shape
from recalldesk.incidents.scope_text.dates import _Span
from recalldesk.incidents.scope_text.model import GTIN_LENGTHS, DateWindow, ParsedScope
from recalldesk.incidents.scope_text.normalise import _normalise, _squash
from recalldesk.incidents.scope_text.reader import _Frame, _Reader
from recalldesk.incidents.scope_text.reasons import (
    _NOUN,
    _PLURAL,
    R_DATE_AS_CODE,
    R_DATE_BACKWARDS,
    R_DATE_NO_KIND,
    R_EXCEPT,
    R_GLUED,
    R_GTIN_CHARS,
    R_GTIN_LENGTH,
    R_HEADING,
    R_NO_LABEL,
    R_NOTE,
    R_RANGE_OTHER,
    R_RECALL,
    R_SPACES,
)
from recalldesk.incidents.scope_text.tokens import _DATE_TOKEN_KINDS, _Tok

_JOIN_WORDS = frozenset({"and", "or", "&"})
_GTIN_PART_RE = re.compile(r"\d+(?:-\d+)*")


class _FreeText(_Reader):
    """Walk the tokens of a notice, keeping track of the current labels."""

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
