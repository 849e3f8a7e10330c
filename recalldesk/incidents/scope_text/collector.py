"""Gathering what was read into a :class:`ParsedScope`, in order and without repeats."""

from __future__ import annotations

from recalldesk.incidents.scope_text.model import DateWindow, ParsedScope, Range, Unparsed
from recalldesk.incidents.scope_text.normalise import _squash


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
