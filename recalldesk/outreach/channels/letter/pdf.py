"""Postal letters for the print house: one print-ready PDF per batch and its address list.

Letters are not sent by the workers: a batch is printed, folded into window envelopes
and posted by a print house, which gets the PDF and a CSV of the same letters in the
same order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from recalldesk.outreach.channels.base import Outgoing

# The DIN 5008 address zone holds six lines; the return line takes one of them.
ADDRESS_LINES = 5

CSV_COLUMNS = [
    "delivery_id",
    "reference",
    "name",
    *(f"address_{number}" for number in range(1, ADDRESS_LINES + 1)),
    "language",
]

# A spreadsheet runs a cell starting with these as a formula (CSV injection); names and
# addresses are typed by customers and importers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def address_lines(address: str) -> list[str]:
    """Split a postal address block into at most ``ADDRESS_LINES`` non-empty lines.

    Extra lines are joined onto the last one rather than dropped: a long address printed
    on one line still arrives, a missing line does not.
    """
    lines = [line.strip() for line in address.splitlines() if line.strip()]
    if len(lines) > ADDRESS_LINES:
        lines[ADDRESS_LINES - 1 :] = [", ".join(lines[ADDRESS_LINES - 1 :])]
    return lines


def letters_pdf(letters: Sequence[Outgoing], *, title: str) -> bytes:
    """Render letters into one A4 PDF, each starting on a new sheet with its address in
    the envelope window.

    Each ``Outgoing.html`` is a rendered, personalised ``letter.html`` body. All letters go
    into one HTML document and one WeasyPrint call: the print house gets one job, the
    fonts are embedded once (a sixth of the size of one PDF per letter), and styles are
    parsed once. Layout still costs about 60 ms a page, so callers print in batches of a
    few hundred letters rather than a whole wave at once.
    """
    if not letters:
        raise ValueError("No letters to print.")
    document = render_to_string(
        "outreach/letter/print.html",
        {
            "title": title,
            "company": settings.COMPANY_NAME,
            "letters": [
                {
                    "delivery_id": item.delivery_id,
                    "reference": item.reference,
                    "party_name": item.party_name,
                    "language": item.language,
                    "address_lines": address_lines(item.address),
                    # Rendered from our own templates, with the fact sheet escaped there.
                    "body": mark_safe(item.html),
                }
                for item in letters
            ],
        },
    )
    # Local files and inline data only: a letter must never make the print job reach a
    # server (or wait for one).
    fetcher = weasyprint.URLFetcher(allowed_protocols=["file", "data"])
    pdf = weasyprint.HTML(string=document, url_fetcher=fetcher).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return pdf


def print_house_csv(letters: Sequence[Outgoing]) -> str:
    """The address list for the print house, one row per letter in PDF order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for item in letters:
        lines = address_lines(item.address)
        lines += [""] * (ADDRESS_LINES - len(lines))
        writer.writerow(
            [
                item.delivery_id,
                cell(item.reference),
                cell(item.party_name),
                *(cell(line) for line in lines),
                item.language,
            ]
        )
    return buffer.getvalue()


def cell(value: str) -> str:
    """A CSV value a spreadsheet shows as text instead of running it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
