"""Postal letters: the templates, the print-ready PDF and the print house's CSV."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.template.loader import select_template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from recalldesk.outreach.channels import CHANNELS
from recalldesk.outreach.channels.base import Outgoing
from recalldesk.outreach.channels.letter.pdf import letters_pdf, print_house_csv
from recalldesk.outreach.channels.letter.tests.pdf_reading import outline_titles, page_texts

HEADINGS = {
    "en": "URGENT: PRODUCT SAFETY RECALL",
    "de": "DRINGEND: PRODUKTRÜCKRUF AUS SICHERHEITSGRÜNDEN",
}

SHEET = {
    "headline": "Kettle lids may open & scald",
    "product": "Northwind K2 electric kettle, 1.7 l, white",
    "identification": "Model K2-1700; the lot is printed under the base.",
    "hazard": "The lid can open while pouring.\nHot water can scald.",
    "instructions": "Stop using the kettle now and unplug it.",
    "remedy": "We send you a replacement lid free of charge.",
    "contact": "Call 0800 123 456, Monday to Friday 8:00 to 18:00.",
    "sms": "",
}

INCIDENT = SimpleNamespace(reference="RC-2026-0001", title="Kettle lids", kind="recall")


def render_letter(*, language: str, audience: str, name: str, units: str, link: str) -> str:
    """Render letter.html the way the engine does, personal values included."""
    template = select_template(
        [f"outreach/letter/letter.{language}.html", "outreach/letter/letter.html"]
    )
    return template.render(
        {
            "sheet": SHEET,
            "incident": INCIDENT,
            "audience": audience,
            "company": "Northwind Home Products",
            "language": language,
            "name": name,
            # The engine fills units in HTML as escaped lines joined by <br>.
            "units": mark_safe(escape(units).replace("\n", "<br>")),
            "link": link,
            "address_block": "",
        }
    )


def letter(
    delivery_id: int, name: str, address: str, *, language: str, audience: str = "consumer"
) -> Outgoing:
    link = f"https://recall.example.com/a/{delivery_id}x7Q"
    return Outgoing(
        delivery_id=delivery_id,
        address=address,
        language=language,
        subject=SHEET["headline"],
        text="",
        html=render_letter(
            language=language,
            audience=audience,
            name=name,
            units="K2-1700 serial 000123\nK2-1700 serial 000124",
            link=link,
        ),
        link=link,
        party_name=name,
        reference=INCIDENT.reference,
    )


@pytest.fixture
def batch() -> list[Outgoing]:
    return [
        letter(
            101,
            "Ada Lovelace",
            "Ada Lovelace\n12 Byron Road\nLondon N1 7AA\nUNITED KINGDOM",
            language="en",
        ),
        letter(
            102,
            "Jörg Müller",
            "Jörg Müller\nHauptstraße 5\n\n10115 Berlin\nDEUTSCHLAND",
            language="de",
        ),
        letter(
            103,
            "Corner Hardware Ltd",
            "Corner Hardware Ltd\nAttn: Store manager\n1 Market Street\nLeeds LS1 6DT\n"
            "UNITED KINGDOM",
            language="en",
            audience="consignee",
        ),
    ]


def test_the_letter_channel_is_registered_as_printed_work_without_a_transport() -> None:
    spec = CHANNELS["letter"]
    assert spec.contact == "postal"
    assert not spec.automatic
    assert spec.transport is None
    assert spec.templates["html"] == "outreach/letter/letter.html"


def test_it_prints_each_letter_from_a_fresh_page_with_its_address_and_heading(
    batch: list[Outgoing],
) -> None:
    pdf = letters_pdf(batch, title="RC-2026-0001 letters, wave 1")

    assert pdf.startswith(b"%PDF-")
    pages = page_texts(pdf)
    first_pages = [
        number
        for number, text in enumerate(pages)
        if any(heading in text for heading in HEADINGS.values())
    ]
    # One group of pages per letter, each starting with its own heading.
    assert len(first_pages) == len(batch)
    assert first_pages[0] == 0
    assert len(pages) >= len(batch)
    for item, number in zip(batch, first_pages, strict=True):
        first_page = pages[number]
        assert HEADINGS[item.language] in first_page
        assert item.party_name in first_page
        # The address block in the window, blank lines dropped.
        assert " ".join(line for line in item.address.splitlines() if line) in first_page
    letter_text = [
        " ".join(pages[a:b]) for a, b in zip(first_pages, [*first_pages[1:], None], strict=True)
    ]
    for item, text in zip(batch, letter_text, strict=True):
        assert item.link in text  # written out in full, for people to type
    assert "Dear Ada Lovelace," in letter_text[0]
    assert "Guten Tag Jörg Müller," in letter_text[1]
    assert "Stop selling and distributing" in letter_text[2]
    assert "Stop selling and distributing" not in letter_text[0]
    # The print operator finds each letter by recipient in the bookmarks.
    assert outline_titles(pdf) == [f"{item.party_name} (RC-2026-0001)" for item in batch]


def test_it_refuses_to_print_an_empty_batch() -> None:
    with pytest.raises(ValueError, match="No letters"):
        letters_pdf([], title="nothing")


def test_it_never_fetches_a_remote_resource_named_in_a_letter(
    batch: list[Outgoing], caplog: pytest.LogCaptureFixture
) -> None:
    remote = replace(batch[0], html=batch[0].html + '<img src="http://192.0.2.1/track.png" alt="">')

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = letters_pdf([remote], title="one")

    assert pdf.startswith(b"%PDF-")
    assert "disallowed protocol" in caplog.text


def test_it_lists_one_csv_row_per_letter_with_the_address_lines_split(
    batch: list[Outgoing],
) -> None:
    rows = list(csv.DictReader(io.StringIO(print_house_csv(batch))))

    assert [row["delivery_id"] for row in rows] == ["101", "102", "103"]
    assert rows[1] == {
        "delivery_id": "102",
        "reference": "RC-2026-0001",
        "name": "Jörg Müller",
        "address_1": "Jörg Müller",
        "address_2": "Hauptstraße 5",
        "address_3": "10115 Berlin",
        "address_4": "DEUTSCHLAND",
        "address_5": "",
        "language": "de",
    }
    assert rows[2]["address_5"] == "UNITED KINGDOM"


def test_it_keeps_every_line_of_a_long_address_and_defuses_spreadsheet_formulas() -> None:
    long_address = "=HYPERLINK(1)\nFloor 3\nBuilding B\nBusiness Park\nLeeds LS1 6DT\nUK"
    item = Outgoing(
        delivery_id=7,
        address=long_address,
        language="en",
        subject="",
        text="",
        html="",
        link="",
        party_name="=HYPERLINK(1)",
        reference="RC-2026-0001",
    )

    row = next(csv.DictReader(io.StringIO(print_house_csv([item]))))

    assert row["name"] == "'=HYPERLINK(1)"
    assert row["address_1"] == "'=HYPERLINK(1)"
    assert row["address_5"] == "Leeds LS1 6DT, UK"


def test_the_german_letter_has_the_german_heading() -> None:
    html = render_letter(
        language="de",
        audience="consumer",
        name="Jörg Müller",
        units="K2-1700 serial 000123",
        link="https://recall.example.com/a/abc",
    )

    assert '<h1 class="notice-heading">DRINGEND: PRODUKTRÜCKRUF AUS SICHERHEITSGRÜNDEN</h1>' in html
    assert "Guten Tag Jörg Müller," in html
    assert "Ihre betroffenen Einheiten" in html
    assert "URGENT" not in html


def test_the_consignee_letter_asks_for_a_stop_quarantine_sub_recall_and_report() -> None:
    html = render_letter(
        language="en",
        audience="consignee",
        name="Corner Hardware Ltd",
        units="200 units, lot L2407",
        link="https://recall.example.com/a/abc",
    )

    for step in [
        "Stop selling and distributing",
        "Quarantine your stock",
        "Notify your customers",
        "sub-recall",
        "Report your quantities",
    ]:
        assert step in html
    assert "https://recall.example.com/a/abc" in html


def test_the_text_letter_keeps_the_fact_sheet_unescaped() -> None:
    text = select_template(["outreach/letter/letter.fr.txt", "outreach/letter/letter.txt"]).render(
        {
            "sheet": SHEET,
            "incident": INCIDENT,
            "audience": "consumer",
            "company": "Northwind Home Products",
            "language": "fr",
            "name": "Émile Zola",
            "units": "K2-1700 serial 000123",
            "link": "https://recall.example.com/a/abc",
        }
    )

    assert text.startswith("URGENT : RAPPEL DE PRODUIT POUR RAISON DE SÉCURITÉ\n")
    assert "Kettle lids may open & scald" in text
    assert "Bonjour Émile Zola," in text
    assert "Vos unités concernées :\nK2-1700 serial 000123" in text
