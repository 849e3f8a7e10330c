"""Reading the scope text of recall notices into lots, serials, ranges and date windows.

Real strings come from two shared data sets beside the repository:
the FDA enforcement report of 2012-06-13 (``code-info`` and product descriptions)
and a sample of EU Safety Gate alerts (batch, barcode and production-date columns).
Expected values below were written by reading those strings, not by running the parser.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import fields
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from recalldesk.incidents.scope_text import (
    DateWindow,
    ParsedScope,
    Range,
    Unparsed,
    parse_lot_lines,
    parse_scope_text,
    parse_serial_lines,
)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FDA_FILE = DATA / "fda-enforcement-report-2012-06-13" / "ucm308307.json"
EU_FILE = DATA / "eu-safety-gate-alerts-sample" / "eu_safety_gate_alerts.csv"

NO_LABEL = "no label says what this is (a lot, serial or model number, or which kind of date)"
NOTE = "note in brackets with no label; not read as a lot, serial or date"
HEADING = (
    "text before a colon looks like a heading (a product, model or variant name), "
    "not a lot or serial"
)
NO_YEAR = "no year is given, so the date cannot be placed"
NOTHING = "no lot, serial or date could be read here"


# --------------------------------------------------------------------------
# Loading the real data
# --------------------------------------------------------------------------


@cache
def _fda_records() -> tuple[dict[str, Any], ...]:
    with FDA_FILE.open(encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


@cache
def _eu_rows() -> tuple[dict[str, str], ...]:
    with EU_FILE.open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def fda_records() -> tuple[dict[str, Any], ...]:
    if not FDA_FILE.exists():
        pytest.skip(f"FDA enforcement report not found at {FDA_FILE}")
    return _fda_records()


def eu_rows() -> tuple[dict[str, str], ...]:
    if not EU_FILE.exists():
        pytest.skip(f"EU Safety Gate sample not found at {EU_FILE}")
    return _eu_rows()


def fda(line: int, field_name: str = "code-info", starts: str = "") -> str:
    """One field of the record on ``line`` (0-based) of the FDA JSON Lines file."""
    text = str(fda_records()[line][field_name])
    assert text.startswith(starts), f"record {line} changed: {text[:80]!r}"
    return text


def eu_alert(alert_number: str) -> dict[str, str]:
    matches = [row for row in eu_rows() if row["alert_number"] == alert_number]
    assert len(matches) == 1, alert_number
    return {key: ("" if value == "None" else value) for key, value in matches[0].items()}


def eu_alert_text(row: dict[str, str]) -> str:
    """The alert's scope columns as a coordinator would paste them from the alert page."""
    parts = []
    for column, label in (
        ("batch_number", "Batch number"),
        ("barcode", "Barcode"),
        ("production_dates", "Production dates"),
    ):
        value = row[column]
        if value and value != "None":
            parts.append(f"{label}: {value}")
    return "\n".join(parts)


def eu_scope(alert_number: str) -> ParsedScope:
    return parse_scope_text(eu_alert_text(eu_alert(alert_number)), day_first=True)


def windows(scope: ParsedScope) -> list[tuple[str, date | None, date | None]]:
    return [(w.kind, w.start, w.end) for w in scope.date_windows]


def unparsed_texts(scope: ParsedScope) -> list[str]:
    return [item.text for item in scope.unparsed]


def is_empty(scope: ParsedScope) -> bool:
    return all(not getattr(scope, f.name) for f in fields(scope))


def read_anything(scope: ParsedScope) -> bool:
    return any(
        getattr(scope, name)
        for name in (
            "gtins",
            "models",
            "lots",
            "lot_ranges",
            "serials",
            "serial_ranges",
            "all_lots",
            "date_windows",
        )
    )


# --------------------------------------------------------------------------
# Real FDA code-info strings
# --------------------------------------------------------------------------


def test_it_reads_an_expiry_window_and_a_zero_padded_lot_range_from_one_sentence():
    scope = parse_scope_text(fda(0, starts="Expiration dates from 01/19/2012"))

    assert scope.lot_ranges == [Range("", 112, 10412, 5, "00112 through 10412")]
    assert scope.lot_ranges[0].codes()[:2] == ["00112", "00113"]
    assert scope.lot_ranges[0].codes()[-1] == "10412"
    assert windows(scope) == [("expiry", date(2012, 1, 19), date(2012, 5, 2))]
    assert scope.date_windows[0].text == "from 01/19/2012 through 05/02/2012"
    assert scope.lots == [] and scope.unparsed == []


def test_it_skips_item_markers_before_a_lot_hash_label():
    scope = parse_scope_text(fda(1, starts="1) - 5) Lot #030813"))

    assert scope.lots == ["030813"]
    assert scope.unparsed == [] and scope.lot_ranges == []


def test_it_reads_a_lot_and_the_use_by_date_in_brackets_after_it():
    scope = parse_scope_text(fda(2, starts="Lot 0201111 (use by date"))

    assert scope.lots == ["0201111"]
    assert windows(scope) == [("expiry", date(2011, 5, 6), date(2011, 5, 6))]
    assert scope.unparsed == []


def test_it_reads_unit_numbers_as_serials_across_item_markers_and_drops_repeats():
    scope = parse_scope_text(fda(3, starts="1) Units: 1) 93885489"))

    assert scope.serials == [
        "93885489",
        "00265489",
        "00545489",
        "93385489",
        "93075489",
        "92795489",
        "00075489",
        "00555489",
        "93555489",
        "00565490",
    ]
    assert scope.unparsed == []


def test_it_reports_best_by_dates_without_a_year_and_still_reads_the_unit_range():
    scope = parse_scope_text(fda(4, starts="1) Best if Used By Date May 17 to May 25"))

    assert scope.serial_ranges == [Range("", 51012, 51812, 6, "051012 to 051812")]
    assert scope.unparsed == [
        Unparsed("May 17 to May 25", NO_YEAR),
        Unparsed("May 16 to May 26", NO_YEAR),
        Unparsed("May 15 to May 25", NO_YEAR),
    ]
    assert scope.date_windows == []


def test_it_reads_all_varieties_with_a_best_by_window_in_two_digit_years():
    scope = parse_scope_text(fda(5, starts="All tempeh product varieties"))

    assert scope.all_lots is True
    assert windows(scope) == [("best_by", date(2012, 7, 11), date(2012, 10, 25))]
    assert scope.unparsed == []


def test_it_keeps_a_lot_code_written_with_spaces_as_one_lot():
    scope = parse_scope_text(fda(6, starts="a) Lot TFRS 130B 1503 KT34"))

    assert scope.lots == ["TFRS 130B 1503 KT34", "TFRS 130B 1803 KT34", "TFRS130B16"]
    assert windows(scope) == [("best_by", date(2012, 5, 25), date(2012, 5, 25))]
    assert scope.unparsed == []


def test_it_keeps_hyphenated_lot_codes_of_different_shapes_as_single_lots():
    scope = parse_scope_text(fda(7, starts="Lot # 439605-01"))

    assert scope.lots == ["439605-01", "439605-02"]
    assert scope.lot_ranges == [] and scope.unparsed == []


def test_it_reads_all_products_as_all_lots():
    scope = parse_scope_text(fda(9, starts="All products."))

    assert scope.all_lots is True
    assert scope.unparsed == []


def test_it_reads_repeated_expiration_dates_once_each():
    scope = parse_scope_text(fda(10, starts="1) -10) Expiration date: 5/25/12"))

    assert windows(scope) == [
        ("expiry", date(2012, 5, 25), date(2012, 5, 25)),
        ("expiry", date(2012, 5, 26), date(2012, 5, 26)),
    ]
    assert scope.unparsed == []


def test_it_reads_a_manufacture_window_written_with_mixed_date_styles():
    scope = parse_scope_text(fda(11, starts="Boxes have manufacturing dated on"))

    assert windows(scope) == [("manufactured", date(2012, 4, 23), date(2012, 5, 21))]
    assert scope.unparsed == []


def test_it_reads_a_code_with_production_and_best_before_dates_in_day_month_year():
    scope = parse_scope_text(fda(12, starts="Code 1742 Date produced 07 FEB 2012"))

    assert scope.lots == ["1742"]
    assert windows(scope) == [
        ("manufactured", date(2012, 2, 7), date(2012, 2, 7)),
        ("best_by", date(2014, 2, 7), date(2014, 2, 7)),
    ]
    assert scope.unparsed == []


def test_it_reads_a_list_of_expiration_dates():
    scope = parse_scope_text(fda(13, starts="Expiration Dates : 5/31/12"))

    days = [date(2012, 5, 31), date(2012, 6, 7), date(2012, 6, 14), date(2012, 6, 21)]
    days.append(date(2012, 6, 28))
    assert windows(scope) == [("expiry", day, day) for day in days]


def test_it_reads_a_short_expiry_month_after_each_group_of_lots():
    scope = parse_scope_text(fda(16, starts="Lot #'s: a) 90A024"))

    assert scope.lots == ["90A024", "90A026", "90A028"]
    assert windows(scope) == [("expiry", date(2013, 9, 1), date(2013, 9, 30))]
    assert scope.unparsed == []


def test_it_keeps_reading_lots_after_an_expiry_date_in_the_same_list():
    scope = parse_scope_text(fda(17, starts="Lot # 8D1082, Exp 01/13; 8D1151"))

    assert scope.lots == ["8D1082", "8D1151"]
    assert windows(scope) == [
        ("expiry", date(2013, 1, 1), date(2013, 1, 31)),
        ("expiry", date(2013, 3, 1), date(2013, 3, 31)),
    ]


def test_it_reads_lots_and_expiry_months_from_a_long_drug_lot_list():
    scope = parse_scope_text(fda(20, starts="Lot #: LF00478C"))

    assert scope.lots == [
        "LF00478C",
        "LF00479C",
        "LF00551C",
        "LF00552C",
        "LF00687C",
        "LF00688C",
        "LF00763C",
        "LF00764C",
        "LF00765C",
        "LF01261C",
    ]
    assert [(w.start, w.end) for w in scope.date_windows] == [
        (date(2012, 10, 1), date(2012, 10, 31)),
        (date(2013, 1, 1), date(2013, 1, 31)),
        (date(2013, 4, 1), date(2013, 4, 30)),
        (date(2013, 6, 1), date(2013, 6, 30)),
        (date(2014, 3, 1), date(2014, 3, 31)),
    ]


def test_it_reports_a_unit_number_with_an_item_marker_run_into_it():
    # The source reads "16KS022812) and 3)": unit 16KS02281 followed by "2) and 3)".
    scope = parse_scope_text(fda(25, starts="1) Units: 16GS36753, 16KS022812)"))

    assert scope.serials == ["16GS36753"]
    assert unparsed_texts(scope) == ["16KS022812)"]


def test_it_reads_a_long_blood_unit_list_as_serials():
    scope = parse_scope_text(fda(22, starts="1) Units: 003LX34086"))

    assert len(scope.serials) == 719
    assert scope.serials[:3] == ["003LX34086", "003LX34287", "003LX34294"]
    assert "993LX34307" in scope.serials and "003KX34419" in scope.serials
    assert scope.serials[-1] == "003LX33608"
    assert scope.unparsed == []


def test_it_skips_quantity_notes_between_unit_numbers():
    scope = parse_scope_text(fda(55, starts="Units: 042Y49061( 2 units)"))

    assert scope.serials == ["042Y49061", "042Y49062", "042Y49063", "042Y49064"]
    assert scope.unparsed == []


def test_it_splits_same_shaped_unit_numbers_that_lost_their_comma():
    scope = parse_scope_text(fda(57, starts="Units: 091159OSCN"))

    assert scope.serials[-3:] == ["110737OSCN", "110737ODCN", "110761OSCN"]
    assert len(scope.serials) == 62
    assert scope.unparsed == []


def test_it_reports_a_bare_code_with_no_label():
    scope = parse_scope_text(fda(62, starts="50V08131"))

    assert scope.unparsed == [Unparsed("50V08131", NO_LABEL)]
    assert not read_anything(scope)


def test_it_reports_an_unlabelled_table_of_codes_and_dates_instead_of_guessing():
    text = fda(63, starts="513602 00-001-BN 4/1/2014")
    scope = parse_scope_text(text)

    assert not read_anything(scope)
    assert len(scope.unparsed) == 1
    assert scope.unparsed[0].reason == NO_LABEL
    assert scope.unparsed[0].text == " ".join(text.split())


def test_it_reads_lot_ranges_written_with_thru():
    scope = parse_scope_text(fda(65, starts="1) Lot Number: 07110002 thru 07110009"))

    assert scope.lot_ranges == [
        Range("", 7110002, 7110009, 8, "07110002 thru 07110009"),
        Range("", 7110010, 7110016, 8, "07110010 thru 07110016"),
        Range("", 8110001, 8110008, 0, "8110001 thru 8110008"),
    ]
    assert scope.lot_ranges[0].codes()[0] == "07110002"
    assert scope.lots == ["6110100"]
    assert scope.unparsed == []


def test_it_reports_software_versions_as_unlabelled():
    scope = parse_scope_text(fda(66, starts="Software version 3.2.0"))

    assert scope.unparsed == [Unparsed("3.2.0, 3.2.1 or 3.2.3", NO_LABEL)]


def test_it_reports_each_unlabelled_catalogue_line_once():
    scope = parse_scope_text(fda(68, starts="NR068K, TIBIA PLATEAU, FIXED, T0;"))

    texts = unparsed_texts(scope)
    assert len(texts) == 11
    assert texts[0] == "NR068K, TIBIA PLATEAU, FIXED, T0"
    assert texts[1] == "NR070K, TIBIA PLATEAU, FIXED, T0+"
    assert texts[-1] == "NR079K, TIBIA PLATEAU, FIXED, T5"
    assert {item.reason for item in scope.unparsed} == {NO_LABEL}


def test_it_reads_an_expiry_month_written_as_a_month_name():
    scope = parse_scope_text(fda(69, starts="Lot Number 40041, exp. date February 2015"))

    assert scope.lots == ["40041", "40043"]
    assert windows(scope) == [("expiry", date(2015, 2, 1), date(2015, 2, 28))]


def test_it_reads_all_lots_made_and_distributed_in_a_window_with_listed_lots():
    scope = parse_scope_text(fda(70, starts="1) All lots manufactured and distributed"))

    assert scope.all_lots is True
    assert windows(scope) == [
        ("manufactured", date(2010, 12, 15), date(2011, 11, 15)),
        ("distributed", date(2010, 12, 15), date(2011, 11, 15)),
        ("manufactured", date(2010, 12, 9), date(2012, 2, 7)),
        ("distributed", date(2010, 12, 9), date(2012, 2, 7)),
    ]
    assert scope.lots == [
        "02031103",
        "09241101",
        "10251101",
        "06141101",
        "01201101",
        "01141102",
        "07211101",
        "01211102",
        "11201205",
        "12060204",
        "12070210",
        "12070211",
        "11201201",
        "11201202",
    ]
    assert scope.unparsed == []


# --------------------------------------------------------------------------
# Real FDA product descriptions: barcodes, item and part numbers
# --------------------------------------------------------------------------


def test_it_joins_a_upc_written_in_spaced_groups_inside_brackets():
    scope = parse_scope_text(fda(2, "product-description", "CHIVES --- The Chives"))

    assert scope.gtins == ["021985200056", "021985100042"]
    assert Unparsed("F-1350-2012", "recall or campaign number, not a product code") in (
        scope.unparsed
    )


def test_it_joins_a_upc_written_with_dashes():
    scope = parse_scope_text(fda(6, "product-description", "a) Private Selections"))

    assert scope.gtins == ["011110911285", "681131329002"]


def test_it_reads_an_ndc_as_a_model_and_a_split_upc_as_one_gtin():
    scope = parse_scope_text(fda(19, "product-description", "Pramipexole"))

    assert scope.models == ["0781-5248-92"]
    assert scope.gtins == ["307815248925"]


def test_it_reports_upcs_of_the_wrong_length():
    scope = parse_scope_text(fda(1, "product-description", "1) Harris Teeter"))

    assert scope.gtins == []
    reason = "has 10 digits; a UPC, EAN or GTIN has 8, 12, 13 or 14 digits"
    for upc in ("7203698196", "7203698195", "7203698194", "7203698197", "7203698193"):
        assert Unparsed(upc, reason) in scope.unparsed


def test_it_pairs_part_numbers_as_models_and_lot_numbers_as_lots_in_a_device_description():
    scope = parse_scope_text(fda(65, "product-description", "1) Accessories for the Captiva"))

    assert scope.models == [
        *(f"FPC25{size:02d}" for size in range(7, 15)),
        *(f"FPL25{size:02d}" for size in range(7, 14)),
        *(f"FPT25{size:02d}" for size in range(7, 15)),
        "FPT0200",
    ]
    assert scope.lots == [
        *(f"0711{n:04d}" for n in range(2, 17)),
        *(f"811000{n}" for n in range(1, 9)),
        "6110100",
    ]
    # "Quantity: 1" on the label template is not taken as lot 1.
    assert Unparsed("1", NO_LABEL) in scope.unparsed


# --------------------------------------------------------------------------
# Real EU Safety Gate alerts
# --------------------------------------------------------------------------


def test_it_reads_batch_ranges_with_prefixes_and_reports_the_model_notes():
    scope = eu_scope("A12/03112/24")

    assert scope.lot_ranges == [
        Range("MCJF-", 1000031, 1005100, 0, "MCJF-1000031 to MCJF-1005100"),
        Range("MCKF-", 1000010, 1003129, 0, "MCKF-1000010 to MCKF-1003129"),
        Range("MCLF-", 1000011, 1003702, 0, "MCLF-1000011 to MCLF-1003702"),
        Range("MCMF-", 1000002, 1001631, 0, "MCMF-1000002 to MCMF-1001631"),
        Range("MCMF-", 1001692, 1002081, 0, "MCMF-1001692 to MCMF-1002081"),
        Range("MCNF-", 1000046, 1002691, 0, "MCNF-1000046 to MCNF-1002691"),
        Range("MCPF-", 1000050, 1003289, 0, "MCPF-1000050 to MCPF-1003289"),
    ]
    assert scope.lot_ranges[0].codes()[:2] == ["MCJF-1000031", "MCJF-1000032"]
    assert scope.unparsed == [
        Unparsed("HRM1000", NOTE),
        Unparsed("HRM1500", NOTE),
        Unparsed("HRM2500", NOTE),
        Unparsed("HRM4000", NOTE),
    ]


def test_it_reads_a_batch_range_sharing_a_week_prefix_and_a_list_of_barcodes():
    scope = eu_scope("A12/01879/24")

    assert scope.lot_ranges == [Range("23W", 17, 46, 0, "23W17 - 23W46")]
    assert scope.gtins == [
        "5902533919246",
        "5902533919253",
        "5902533923069",
        "5902533923991",
        "5902533924011",
    ]
    assert scope.unparsed == []


def test_it_reports_product_headings_before_a_colon_and_reads_the_batches_after_them():
    scope = eu_scope("A12/03159/24")

    assert scope.lots == ["2318", "2319", "2322", "2313", "2316"]
    assert scope.unparsed == [Unparsed("E2037:", HEADING), Unparsed("E20382:", HEADING)]


def test_it_reads_a_ref_number_in_the_batch_column_as_a_catalogue_number():
    scope = eu_scope("SR/03786/24")

    assert scope.models == ["3985250"]
    assert scope.lots == []
    assert scope.gtins == ["3423473985259"]


def test_it_asks_about_a_date_looking_batch_instead_of_guessing():
    scope = eu_scope("A12/02766/24")

    assert scope.lots == [] and scope.date_windows == []
    assert scope.unparsed == [
        Unparsed(
            "10/2022", "looks like a date but is listed as a lot code; is it a lot code or a date?"
        )
    ]
    assert scope.gtins == ["8001478518334"]


def test_it_reads_a_batch_of_all_as_all_lots():
    scope = eu_scope("A12/03411/24")

    assert scope.all_lots is True
    assert scope.gtins == ["0200030569151"]
    assert scope.lots == []


def test_it_reports_barcodes_that_are_not_gtins():
    ten_digits = eu_scope("SR/03781/24")
    amazon_code = eu_scope("A12/03648/24")

    assert ten_digits.lots == ["20240401001"]
    assert ten_digits.unparsed == [
        Unparsed("7802694520", "has 10 digits; a UPC, EAN or GTIN has 8, 12, 13 or 14 digits")
    ]
    assert amazon_code.gtins == []
    assert amazon_code.unparsed == [
        Unparsed(
            "B0CHYPVWHV",
            "a UPC, EAN or GTIN is digits only; this contains letters or other characters",
        )
    ]


def test_it_reads_a_production_window_sharing_month_and_year():
    scope = eu_scope("A12/01116/21")

    assert windows(scope) == [("manufactured", date(2020, 12, 4), date(2020, 12, 14))]
    assert scope.date_windows[0].text == "between 4 and 14 December 2020"


def test_it_reads_slash_dates_day_first_when_the_text_itself_shows_it():
    text = eu_alert_text(eu_alert("A12/00017/20"))
    scope = parse_scope_text(text)  # no day_first given: 27/01/2018 settles it

    assert windows(scope) == [("manufactured", date(2016, 10, 2), date(2018, 1, 27))]


def test_it_reads_ambiguous_slash_dates_month_first_unless_told_the_notice_is_european():
    text = eu_alert_text(eu_alert("A12/00858/24"))

    assert windows(parse_scope_text(text)) == [
        ("manufactured", date(2020, 12, 3), date(2022, 4, 4))
    ]
    assert windows(parse_scope_text(text, day_first=True)) == [
        ("manufactured", date(2020, 3, 12), date(2022, 4, 4))
    ]


def test_it_reads_month_windows_and_reports_nothing_for_brand_notes_without_digits():
    scope = eu_scope("A12/00859/24")

    assert windows(scope) == [
        ("manufactured", date(2019, 4, 1), date(2021, 4, 30)),
        ("manufactured", date(2019, 12, 1), date(2021, 4, 30)),
    ]
    assert scope.unparsed == []


def test_it_reads_a_window_of_whole_years_straight_after_the_label():
    scope = eu_scope("A12/03632/24")

    assert windows(scope) == [("manufactured", date(2018, 1, 1), date(2022, 12, 31))]


def test_it_reads_a_dotted_date_with_a_space_before_the_year():
    scope = eu_scope("SR/03805/24")

    assert windows(scope) == [("manufactured", date(2010, 7, 1), date(2014, 8, 21))]


def test_it_reports_model_notes_in_brackets_beside_production_windows():
    scope = eu_scope("A12/02824/24")

    assert windows(scope) == [
        ("manufactured", date(2022, 2, 1), date(2022, 2, 1)),
        ("manufactured", date(2022, 1, 22), date(2022, 2, 1)),
        ("manufactured", date(2022, 1, 3), date(2022, 10, 14)),
        ("manufactured", date(2022, 1, 3), date(2022, 11, 8)),
        ("manufactured", date(2022, 1, 4), date(2022, 12, 8)),
        ("manufactured", date(2022, 1, 5), date(2022, 12, 9)),
    ]
    assert scope.unparsed == [
        Unparsed("301", NOTE),
        Unparsed("2008", NOTE),
        Unparsed("208", NOTE),
        Unparsed("5008", NOTE),
        Unparsed("308 and 3008", NOTE),
    ]


def test_it_reports_model_headings_in_front_of_production_windows():
    scope = eu_scope("A12/03128/23")

    assert windows(scope) == [
        ("manufactured", date(2008, 9, 24), date(2017, 2, 21)),
        ("manufactured", date(2010, 2, 2), date(2018, 5, 20)),
        ("manufactured", date(2008, 12, 5), date(2019, 5, 30)),
        ("manufactured", date(2010, 5, 5), date(2017, 2, 3)),
        ("manufactured", date(2010, 6, 30), date(2018, 2, 9)),
    ]
    assert unparsed_texts(scope) == ["C3:", "C4:", "DS3:", "DS4:", "DS5:"]


def test_it_reads_item_numbers_and_a_barcode_from_a_slovak_description():
    row = next(r for r in eu_rows() if "XE27273" in r["product_description"])
    scope = parse_scope_text(row["product_description"])

    assert scope.models == ["XE27273"]
    assert scope.gtins == ["8584156293704"]


def test_it_asks_about_a_batch_num_that_looks_like_a_date_in_a_product_name():
    row = next(r for r in eu_rows() if "Batch Num" in r["product_name"])
    scope = parse_scope_text(row["product_name"])

    assert scope.lots == []
    assert unparsed_texts(scope) == ["05-12-2022 A"]


def test_the_lot_box_takes_each_line_of_a_batch_column_as_written():
    ranges = parse_lot_lines(eu_alert("A12/03112/24")["batch_number"])
    dated = parse_lot_lines(eu_alert("A12/03448/24")["batch_number"])
    spaced = parse_lot_lines(eu_alert("A12/03231/24")["batch_number"])
    listed = parse_lot_lines(eu_alert("A12/02445/24")["batch_number"])

    assert ranges.lot_ranges[0].text == "From MCJF-1000031 to MCJF-1005100"
    assert len(ranges.lot_ranges) == 7
    assert unparsed_texts(ranges)[0] == "(HRM1000)"
    assert dated.lots == ["05-12-2022 A"] and dated.unparsed == []
    assert spaced.lots == ["SEA 124 WGR 707 ORD 33499500"]
    assert listed.lots == ["010248", "120739", "120783"]


def test_the_lot_box_reports_words_labels_and_all_instead_of_taking_them_as_lots():
    words = parse_lot_lines(eu_alert("SR/03792/24")["batch_number"])
    ref = parse_lot_lines(eu_alert("SR/03786/24")["batch_number"])
    everything = parse_lot_lines(eu_alert("A12/03411/24")["batch_number"])

    assert words.lots == []
    assert words.unparsed == [Unparsed("L 643 of 13/09/10", "contains words, not just a lot code")]
    assert ref.unparsed == [
        Unparsed("REF 3985250", "labelled as a model or catalogue number, not as a lot code")
    ]
    assert everything.lots == [] and everything.all_lots is False
    assert unparsed_texts(everything) == ["All"]


# --------------------------------------------------------------------------
# Every real record: nothing that looks like a code or date is dropped
# --------------------------------------------------------------------------

_ITEM_MARKER = re.compile(r"(?<![\w/)(.\]\[])(?:\d{1,2}|[a-z])\)")
_QUANTITY = re.compile(r"\(\s*\d[\d,]*\s*units?\s*\)|\b\d[\d,]*\s+units\b", re.IGNORECASE)
_PIECE = re.compile(r"\w*\d[\w\-/.]*")


def digit_pieces(text: str) -> list[str]:
    """Every word of the text that contains a digit, less item markers and quantities."""
    text = _QUANTITY.sub(" ", _ITEM_MARKER.sub(" ", text))
    return [piece.strip(".-/") for piece in _PIECE.findall(text)]


def accounted_for(piece: str, scope: ParsedScope) -> bool:
    texts = [
        *scope.lots,
        *scope.serials,
        *scope.models,
        *(r.text for r in scope.lot_ranges + scope.serial_ranges),
        *(w.text for w in scope.date_windows),
        *(u.text for u in scope.unparsed),
    ]
    pattern = re.compile(rf"(?<!\w){re.escape(piece)}(?!\w)")
    if any(pattern.search(text) for text in texts):
        return True
    digits = piece.replace("-", "")
    return digits.isdigit() and any(digits in gtin for gtin in scope.gtins)


def assert_nothing_dropped(text: str, scope: ParsedScope, where: str) -> None:
    missing = [p for p in digit_pieces(" ".join(text.split())) if not accounted_for(p, scope)]
    assert not missing, f"{where}: {missing[:5]} neither read nor reported"
    if text.strip():
        assert read_anything(scope) or scope.unparsed, f"{where}: nothing read or reported"


def test_every_fda_record_has_each_code_and_date_read_or_reported():
    checked = 0
    for line, record in enumerate(fda_records()):
        for field_name in ("code-info", "product-description"):
            text = record.get(field_name)
            if text:
                assert_nothing_dropped(text, parse_scope_text(text), f"{field_name} {line}")
                checked += 1
    assert checked == 143  # 72 descriptions, 71 code-info (one record has none)


def test_every_eu_alert_has_each_batch_barcode_and_date_read_or_reported():
    checked = 0
    for row in eu_rows():
        text = eu_alert_text(row)
        if text:
            scope = parse_scope_text(text, day_first=True)
            assert_nothing_dropped(text, scope, row["alert_number"])
            checked += 1
        batch = row["batch_number"]
        if batch and batch != "None":
            assert_nothing_dropped(batch, parse_lot_lines(batch), f"lot box {batch!r}")
    assert checked == 312  # alerts with a batch, barcode or production date


def test_only_the_fda_code_texts_without_labels_or_years_are_left_partly_unread():
    partly = [
        line
        for line, record in enumerate(fda_records())
        if record.get("code-info") and parse_scope_text(record["code-info"]).unparsed
    ]
    # 4: best-by dates without a year; 25: unit number run into "2)";
    # 62, 63, 66, 68: codes and dates with no label at all.
    assert partly == [4, 25, 62, 63, 66, 68]


# --------------------------------------------------------------------------
# Ranges
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Lot numbers 1234 through 1250", "1234 through 1250"),
        ("Lot numbers 1234 thru 1250", "1234 thru 1250"),
        ("Lots 1234-1250", "1234-1250"),
        ("Lot 1234 to 1250", "1234 to 1250"),
        ("Lots from 1234 to 1250", "1234 to 1250"),
        ("Lot numbers between 1234 and 1250", "1234 and 1250"),
        ("Lot Codes 1234 - 1250", "1234 - 1250"),
        ("Codes 1234 until 1250", "1234 until 1250"),
    ],
)
def test_it_reads_lot_numbers_written_as_a_range_in_each_form(text: str, written: str):
    scope = parse_scope_text(text)

    assert scope.lot_ranges == [Range("", 1234, 1250, 0, written)]
    assert scope.lots == [] and scope.unparsed == []


def test_it_reads_lot_numbers_written_as_a_through_range():
    assert parse_scope_text("Lot numbers 1234 through 1250").lot_ranges[0].codes()[:3] == [
        "1234",
        "1235",
        "1236",
    ]


def test_it_reads_serial_numbers_written_as_a_dash_range():
    scope = parse_scope_text("serial numbers 10000-20000")

    assert scope.serial_ranges == [Range("", 10000, 20000, 0, "10000-20000")]
    assert scope.serial_ranges[0].size == 10001


def test_it_reads_prefixed_ranges_and_carries_the_prefix_over():
    both = parse_scope_text("Lot AB1000-AB2000")
    carried = parse_scope_text("Lot AB1000 - 2000")

    assert both.lot_ranges == [Range("AB", 1000, 2000, 0, "AB1000-AB2000")]
    assert carried.lot_ranges == [Range("AB", 1000, 2000, 0, "AB1000 - 2000")]
    assert carried.lot_ranges[0].codes()[:2] == ["AB1000", "AB1001"]


def test_range_codes_keep_prefix_and_zero_padding():
    scope = parse_scope_text("Serial No. SN0098 through SN0102")

    assert scope.serial_ranges == [Range("SN", 98, 102, 4, "SN0098 through SN0102")]
    assert scope.serial_ranges[0].codes() == ["SN0098", "SN0099", "SN0100", "SN0101", "SN0102"]


def test_range_codes_refuse_to_expand_past_the_limit():
    huge = Range("", 0, 10**9, 0, "0-1000000000")

    with pytest.raises(ValueError, match="more than"):
        huge.codes()
    assert Range("A", 1, 3, 2, "A01-A03").codes(limit=3) == ["A01", "A02", "A03"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Lot 1250 through 1234", "range runs backwards (the first code is after the last)"),
        ("Lots 1250-1234", "range runs backwards (the first code is after the last)"),
        ("S/N AB1000 - AC2000", "the two ends of this range have different prefixes"),
        (
            "Lot AB12C through AB15C",
            "range ends do not finish in digits, so the codes in between cannot be listed",
        ),
    ],
)
def test_it_reports_a_range_it_cannot_expand(text: str, reason: str):
    scope = parse_scope_text(text)

    assert scope.lot_ranges == [] and scope.serial_ranges == []
    assert [u.reason for u in scope.unparsed] == [reason]


def test_it_keeps_hyphenated_codes_that_are_not_ranges_as_single_codes():
    scope = parse_scope_text("Lot 12-345-A, 439605-01, E0600-55, MLB-003")

    assert scope.lots == ["12-345-A", "439605-01", "E0600-55", "MLB-003"]
    assert scope.lot_ranges == []


def test_it_does_not_read_a_model_number_with_a_dash_as_a_range():
    scope = parse_scope_text("Model 1000-2000; Catalog # 55-100")

    assert scope.models == ["1000-2000", "55-100"]
    assert scope.lot_ranges == [] and scope.serial_ranges == []


def test_it_reports_an_unlabelled_dash_pair_rather_than_guessing_a_range():
    scope = parse_scope_text("1234-1250")

    assert scope.lot_ranges == []
    assert scope.unparsed == [Unparsed("1234-1250", NO_LABEL)]


def test_it_asks_about_a_date_looking_lot_code():
    scope = parse_scope_text("Lot # 5-25-2012")

    assert scope.lots == [] and scope.lot_ranges == [] and scope.date_windows == []
    assert unparsed_texts(scope) == ["5-25-2012"]


# --------------------------------------------------------------------------
# All lots, exceptions, labels
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["all lots", "All codes", "all units", "All serial numbers", "Lot: all"]
)
def test_it_reads_all_lots(text: str):
    scope = parse_scope_text(text)

    assert scope.all_lots is True
    assert scope.unparsed == []


def test_it_reports_exceptions_to_all_lots_instead_of_adding_them():
    scope = parse_scope_text("All lots except lot 1234 and 1235")

    assert scope.all_lots is True
    assert scope.lots == []
    assert scope.unparsed == [
        Unparsed(
            "1234 and 1235",
            "listed as an exception; exclusions are not read, so check these by hand",
        )
    ]


@pytest.mark.parametrize(
    ("text", "field_name", "value"),
    [
        ("Lot 12A345", "lots", "12A345"),
        ("Lot # 12A345", "lots", "12A345"),
        ("Lot No. 12A345", "lots", "12A345"),
        ("Lot Number(s): 12A345", "lots", "12A345"),
        ("Lot Codes 12A345", "lots", "12A345"),
        ("Batch 12A345", "lots", "12A345"),
        ("Batch number: 12A345", "lots", "12A345"),
        ("Codes: 12A345", "lots", "12A345"),
        ("Serial 12A345", "serials", "12A345"),
        ("Serial No. 12A345", "serials", "12A345"),
        ("S/N 12A345", "serials", "12A345"),
        ("SN 12A345", "serials", "12A345"),
        ("UPC 012345678905", "gtins", "012345678905"),
        ("GTIN: 10012345678902", "gtins", "10012345678902"),
        ("EAN 4006381333931", "gtins", "4006381333931"),
        ("Item # 4471", "models", "4471"),
        ("Model XR-200", "models", "XR-200"),
        ("Catalog # 55100", "models", "55100"),
        ("REF 77812", "models", "77812"),
        ("SKU 99812", "models", "99812"),
    ],
)
def test_it_files_codes_under_the_label_written_before_them(text: str, field_name: str, value: str):
    scope = parse_scope_text(text)

    assert getattr(scope, field_name) == [value]
    assert scope.unparsed == []


def test_it_joins_a_upc_written_in_groups():
    assert parse_scope_text("UPC 0 12345 67890 5").gtins == ["012345678905"]


def test_it_reads_the_brief_example_of_lots_and_an_expiry_month():
    scope = parse_scope_text("Lot #: 12A345, 12A346; Exp. 06/2013")

    assert scope.lots == ["12A345", "12A346"]
    assert scope.date_windows == [
        DateWindow("expiry", date(2013, 6, 1), date(2013, 6, 30), "06/2013")
    ]


def test_it_does_not_read_a_code_prefix_as_a_label_when_a_dash_joins_them():
    scope = parse_scope_text("Serial SN-0000001, SN-0000002")
    box = parse_serial_lines("SN-0000001\nSN 0000003")

    assert scope.serials == ["SN-0000001", "SN-0000002"]
    assert box.serials == ["SN-0000001", "0000003"]


def test_it_keeps_the_lot_label_across_a_heading_line():
    scope = parse_scope_text("Lot numbers listed below:\n1234\n5678")

    assert scope.lots == ["1234", "5678"]
    assert scope.unparsed == []


def test_an_unknown_field_label_ends_the_code_label_before_it():
    scope = parse_scope_text("Lot Number:***Quantity: 1")

    assert scope.lots == []
    assert scope.unparsed == [Unparsed("1", NO_LABEL)]


def test_a_new_item_that_starts_with_prose_ends_the_code_label():
    scope = parse_scope_text("UPC: 012345678905; 2) Smiling Hara Tempeh, 1.5 lb.")

    assert scope.gtins == ["012345678905"]
    assert scope.unparsed == [Unparsed("1.5", NO_LABEL)]


def test_a_recall_number_label_covers_one_number_only():
    scope = parse_scope_text("Lot 1234, Recall # F-1336-2012, 5678")

    assert scope.lots == ["1234", "5678"]
    assert scope.unparsed == [
        Unparsed("F-1336-2012", "recall or campaign number, not a product code")
    ]


def test_it_keeps_the_first_of_repeated_codes_in_order():
    scope = parse_scope_text("Lot 3, 1, 2, 1, 3; Serial 9, 9")

    assert scope.lots == ["3", "1", "2"]
    assert scope.serials == ["9"]


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Best by 6/1/2012", ("best_by", date(2012, 6, 1), date(2012, 6, 1))),
        ("Best by 6/1/12", ("best_by", date(2012, 6, 1), date(2012, 6, 1))),
        ("Best before June 1, 2012", ("best_by", date(2012, 6, 1), date(2012, 6, 1))),
        ("Manufactured Jun 2012", ("manufactured", date(2012, 6, 1), date(2012, 6, 30))),
        ("Manufactured 2012-06-01", ("manufactured", date(2012, 6, 1), date(2012, 6, 1))),
        ("Exp. 06/2013", ("expiry", date(2013, 6, 1), date(2013, 6, 30))),
        ("Mfg. date 8.6.2020", ("manufactured", date(2020, 6, 8), date(2020, 6, 8))),
        ("Purchased 1 June 2012", ("acquired", date(2012, 6, 1), date(2012, 6, 1))),
        (
            "best by dates 01/01/2013 through 03/31/2013",
            ("best_by", date(2013, 1, 1), date(2013, 3, 31)),
        ),
        (
            "manufactured between January 1, 2012 and March 31, 2012",
            ("manufactured", date(2012, 1, 1), date(2012, 3, 31)),
        ),
        (
            "distributed from June 1, 2012 to Jun 2013",
            ("distributed", date(2012, 6, 1), date(2013, 6, 30)),
        ),
        ("sold from 6/1/2012 through 6/30/2012", ("sold", date(2012, 6, 1), date(2012, 6, 30))),
        ("purchased before June 1, 2012", ("acquired", None, date(2012, 5, 31))),
        ("sold after 06/2012", ("sold", date(2012, 7, 1), None)),
        ("manufactured since March 2011", ("manufactured", date(2011, 3, 1), None)),
        ("shipped on or before 2011-12-31", ("distributed", None, date(2011, 12, 31))),
    ],
)
def test_it_reads_date_windows_in_each_written_form(
    text: str, expected: tuple[str, date | None, date | None]
):
    scope = parse_scope_text(text)

    assert windows(scope) == [expected]
    assert scope.unparsed == []


def test_it_opens_a_window_on_the_first_day_of_a_month_and_closes_it_on_the_last():
    scope = parse_scope_text("Expiry 02/2012 - 02/2013")

    assert windows(scope) == [("expiry", date(2012, 2, 1), date(2013, 2, 28))]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Dates: 5/5/2012",
            "no label says what this date is (expiry, best by, manufacture, sale ...)",
        ),
        ("Exp 02/30/2012", "not a valid month/day/year date"),
        ("Best by May 17", NO_YEAR),
        (
            "Sold 12/30/2012 through 1/2/2012",
            "date range runs backwards (the first date is after the second)",
        ),
        (
            "Exp 13/01/2012 or 01/13/2012 or 05/06/2012",
            "day and month order is unclear: this text has dates written both ways",
        ),
    ],
)
def test_it_reports_dates_it_cannot_place(text: str, reason: str):
    scope = parse_scope_text(text)

    assert reason in [u.reason for u in scope.unparsed]


def test_it_reads_only_the_unambiguous_dates_when_a_text_mixes_day_and_month_order():
    scope = parse_scope_text("Exp 13/01/2012 or 01/13/2012 or 05/06/2012")

    assert windows(scope) == [
        ("expiry", date(2012, 1, 13), date(2012, 1, 13)),
    ]
    assert unparsed_texts(scope) == ["05/06/2012"]


def test_it_reports_an_unlabelled_date():
    scope = parse_scope_text("4/1/2014")

    assert scope.date_windows == []
    assert scope.unparsed == [Unparsed("4/1/2014", NO_LABEL)]


# --------------------------------------------------------------------------
# Empty, garbage and very large input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " ;\n, "])
def test_it_returns_an_empty_scope_for_empty_input(text: str):
    assert is_empty(parse_scope_text(text))
    assert is_empty(parse_lot_lines(text))
    assert is_empty(parse_serial_lines(text))


def test_it_reports_garbage_text_as_unparsed():
    scope = parse_scope_text("please see the attached spreadsheet")
    box = parse_lot_lines("please see the attached spreadsheet\n12*34")

    assert scope.unparsed == [Unparsed("please see the attached spreadsheet", NOTHING)]
    assert box.lots == []
    assert box.unparsed == [
        Unparsed("please see the attached spreadsheet", "contains words, not just a lot code"),
        Unparsed("12*34", "contains characters that do not belong in a lot code"),
    ]


def test_it_reads_a_ten_thousand_line_lot_paste():
    lines = [f"LOT{n:05d}" for n in range(9_000)]
    lines += [f"R{n * 10:06d}-R{n * 10 + 9:06d}" for n in range(1_000)]
    text = "\n".join(lines)

    box = parse_lot_lines(text)
    free = parse_scope_text("Lot numbers:\n" + text)

    for scope in (box, free):
        assert len(scope.lots) == 9_000 and len(scope.lot_ranges) == 1_000
        assert scope.lots[0] == "LOT00000" and scope.lots[-1] == "LOT08999"
        assert scope.lot_ranges[-1] == Range("R", 9990, 9999, 6, "R009990-R009999")
        assert scope.unparsed == []


def test_it_reads_a_ten_thousand_line_serial_paste():
    text = "\n".join(f"SN-{n:07d}" for n in range(10_000))

    scope = parse_serial_lines(text)

    assert len(scope.serials) == 10_000 and scope.serials[1] == "SN-0000001"


# --------------------------------------------------------------------------
# Lot and serial boxes
# --------------------------------------------------------------------------


def test_the_lot_box_reads_one_lot_or_range_per_line_or_separated_by_commas():
    scope = parse_lot_lines(
        "AB1000 - 2000\n1234 through 1250; 0099-0101, Lot # 12-345-A\n"
        "between 5 and 7\nfrom X10 to X12\n17.05.2024"
    )

    assert scope.lot_ranges == [
        Range("AB", 1000, 2000, 0, "AB1000 - 2000"),
        Range("", 1234, 1250, 0, "1234 through 1250"),
        Range("", 99, 101, 4, "0099-0101"),
        Range("", 5, 7, 0, "between 5 and 7"),
        Range("X", 10, 12, 0, "from X10 to X12"),
    ]
    assert scope.lots == ["12-345-A", "17.05.2024"]
    assert scope.unparsed == []
    assert scope.serials == [] and scope.date_windows == []


def test_the_lot_box_reports_backwards_ranges_and_other_labels():
    scope = parse_lot_lines("AB1000-AB0999\nExp 06/2013\nSerial 55")

    assert scope.lot_ranges == [] and scope.lots == []
    assert scope.unparsed == [
        Unparsed("AB1000-AB0999", "range runs backwards (the first code is after the last)"),
        Unparsed("Exp 06/2013", "labelled as an expiry date, not as a lot code"),
        Unparsed("Serial 55", "labelled as a serial number, not as a lot code"),
    ]


def test_the_serial_box_fills_only_serials():
    scope = parse_serial_lines("SN 100-105; S/N AB7\nUnit: 0886922\nLot 5")

    assert scope.serial_ranges == [Range("", 100, 105, 0, "100-105")]
    assert scope.serials == ["AB7", "0886922"]
    assert scope.lots == [] and scope.lot_ranges == []
    assert scope.unparsed == [Unparsed("Lot 5", "labelled as a lot, not as a serial number")]
