"""Reading import files: a CSV (UTF-8, delimiter taken from the header) or the first sheet of
an Excel .xlsx, as records ``(line, cells)`` with a row estimate for the progress bar. A file
that cannot be read at all is ``Refused`` with a message that says how to fix it.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import openpyxl
from django.core.files import File

from recalldesk.registry.models import ImportRun

SAVE_AS_UTF8 = 'Save the file as UTF-8 (in Excel: "CSV UTF-8") and upload it again.'


class Refused(Exception):
    """A file that cannot be imported at all: too big, not UTF-8, unreadable, no header."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _is_excel(name: str) -> bool:
    return name.lower().endswith(".xlsx")


@contextmanager
def open_records(
    run: ImportRun,
) -> Iterator[tuple[Iterator[tuple[int, Sequence[Any]]], int, list[str]]]:
    """Open the run's file; yields its records ``(line, cells)``, a row estimate and notes."""
    with run.file.open("rb") as handle:
        if not _is_excel(run.file.name or ""):
            yield _csv_records(handle), _count_rows(handle), []
            return
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise Refused(
                "This is not an Excel .xlsx file that can be read: save it again as .xlsx, "
                "or as CSV UTF-8."
            ) from exc
        try:
            sheet = book.worksheets[0]
            notes = []
            if len(book.worksheets) > 1:
                notes.append(f"Only the first sheet, {sheet.title!r}, was read.")
            estimate = max((sheet.max_row or 1) - 1, 0)
            yield _excel_records(sheet), estimate, notes
        finally:
            book.close()


def _count_rows(handle: File) -> int:
    """The data lines of a CSV, counted in raw chunks: cheap, for the progress bar only."""
    lines, last = 0, b"\n"
    for chunk in handle.chunks():
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def _decoded_lines(handle: Iterable[bytes]) -> Iterator[str]:
    # Each line is decoded alone, so a wrongly encoded file is refused with its line number.
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise Refused(f"The file is UTF-16 text, not UTF-8 (line 1). {SAVE_AS_UTF8}", 1)
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refused(
                f"Line {number} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                f"{exc.start + 1}). {SAVE_AS_UTF8}",
                number,
            ) from exc
        if "\x00" in text:
            raise Refused(
                f"Line {number} holds NUL characters: the file looks like UTF-16. {SAVE_AS_UTF8}",
                number,
            )
        yield text


def _csv_records(handle: Iterable[bytes]) -> Iterator[tuple[int, Sequence[Any]]]:
    lines = _decoded_lines(handle)
    first = next(lines, None)
    if first is None:
        return
    # The header names the columns, so the delimiter it uses most is the file's.
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if cells:
                yield line, cells
    except csv.Error as exc:
        raise Refused(
            f"Line {reader.line_num} cannot be read as CSV ({exc}).", reader.line_num
        ) from exc


def _excel_records(sheet: Any) -> Iterator[tuple[int, Sequence[Any]]]:
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        if any(cell is not None and cell != "" for cell in cells):
            yield number, cells
