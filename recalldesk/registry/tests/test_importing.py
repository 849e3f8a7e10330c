"""Importing the registry from CSV and Excel files: every row checked, then all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recalldesk.audit.models import ChangeRecord
from recalldesk.registry import importing
from recalldesk.registry.choices import ImportKind, ImportStatus
from recalldesk.registry.models import (
    ConsigneeContact,
    Holding,
    ImportProblem,
    ImportRun,
    Party,
    Product,
)
from recalldesk.registry.tasks import run_import as run_import_task

pytestmark = pytest.mark.django_db

PRODUCTS = """sku,gtin,name,brand,unit_price,currency
HTR-1,012345678905,Space heater,Warmco,49.90,usd
KTL-1,4006381333931,Kettle,Boilit,"19,99",EUR
FAN-1,96385074,Desk fan,,,
"""

CUSTOMERS = """Customer ID,Name,E-mail,Phone,Country,Language,Preferred channels
C1,Jane Doe,jane@example.com,020 7946 0958,gb,en,"email, SMS"
C2,Jean Dupont,jean@example.fr,+33 1 23 45 67 89,FR,fr,
C3,João Silva,,,BR,pt_br,letter
"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def start(user, kind: str, path: Path, valid_rows: bool = False) -> ImportRun:
    with path.open("rb") as handle:
        return importing.create_import(
            user, kind, File(handle, name=path.name), import_valid_rows=valid_rows
        )


def do_import(user, kind: str, path: Path, valid_rows: bool = False) -> ImportRun:
    return importing.run_import(start(user, kind, path, valid_rows))


def problems(run: ImportRun) -> list[tuple[int, str, str]]:
    return list(run.problems.values_list("line", "column", "message"))


@pytest.fixture
def products(coordinator, tmp_path) -> ImportRun:
    return do_import(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", PRODUCTS))


@pytest.fixture
def customers(coordinator, tmp_path) -> ImportRun:
    return do_import(coordinator, ImportKind.CUSTOMERS, write(tmp_path, "c.csv", CUSTOMERS))


# --- Good files --------------------------------------------------------------------------


def test_it_imports_products_and_stores_every_gtin_as_14_digits(products):
    assert products.status == ImportStatus.DONE
    assert (products.created, products.updated, products.unchanged) == (3, 0, 0)
    assert products.rows_total == products.rows_processed == 3
    assert products.finished_at is not None
    heater = Product.objects.get(sku="HTR-1")
    assert heater.gtin == "00012345678905"
    assert str(heater.unit_price) == "49.90"
    assert heater.currency == "USD"
    assert Product.objects.get(sku="KTL-1").gtin == "04006381333931"
    assert str(Product.objects.get(sku="KTL-1").unit_price) == "19.99"
    assert Product.objects.get(sku="FAN-1").gtin == "00000096385074"


def test_it_imports_customers_reading_header_aliases_phones_languages_and_channels(customers):
    assert customers.status == ImportStatus.DONE
    assert customers.created == 3
    jane = Party.objects.consumers().get(external_id="C1")
    assert (jane.name, jane.email, jane.phone, jane.country) == (
        "Jane Doe",
        "jane@example.com",
        "+442079460958",
        "GB",
    )
    assert jane.preferred_channels == ["email", "sms"]
    assert Party.objects.get(external_id="C2").phone == "+33123456789"
    joao = Party.objects.get(external_id="C3")
    assert (joao.name, joao.language, joao.preferred_channels) == (
        "João Silva",
        "pt-BR",
        ["letter"],
    )


def test_it_imports_consignees_with_their_parents_and_contacts(coordinator, tmp_path):
    path = write(
        tmp_path,
        "d.csv",
        "external_id,name,consignee_kind,parent,contact_name,contact_email,contact_phone,country\n"
        "D1,Northern Distribution,distributor,,Sam Lee,sam@north.example,,US\n"
        "D2,Corner Shop,Retailer,D1,Ann Poe,,+1 202 555 0123,US\n"
        "D3,Main Street Shop,retailer,D1,,,,US\n",
    )
    run = do_import(coordinator, ImportKind.CONSIGNEES, path)
    assert run.status == ImportStatus.DONE, problems(run)
    assert run.created == 3
    north = Party.objects.consignees().get(external_id="D1")
    assert north.consignee_kind == "distributor"
    assert set(north.children.values_list("external_id", flat=True)) == {"D2", "D3"}
    assert Party.objects.get(external_id="D2").consignee_kind == "retailer"
    contacts = set(ConsigneeContact.objects.values_list("party__external_id", "name", "phone"))
    assert contacts == {("D1", "Sam Lee", ""), ("D2", "Ann Poe", "+12025550123")}

    again = do_import(coordinator, ImportKind.CONSIGNEES, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert ConsigneeContact.objects.count() == 2


def test_a_consignee_moved_to_another_parent_counts_as_updated(coordinator, tmp_path):
    header = "external_id,name,parent_external_id\n"
    do_import(
        coordinator,
        ImportKind.CONSIGNEES,
        write(tmp_path, "a.csv", header + "D1,North,\nD2,South,\nD3,Shop,D1\n"),
    )
    run = do_import(
        coordinator,
        ImportKind.CONSIGNEES,
        write(tmp_path, "b.csv", header + "D1,North,\nD2,South,\nD3,Shop,D2\n"),
    )
    assert (run.created, run.updated, run.unchanged) == (0, 1, 2)
    assert Party.objects.filter(external_id="D3", parent__external_id="D2").exists()


def test_it_imports_unit_and_service_holdings(coordinator, tmp_path, products, customers):
    do_import(
        coordinator,
        ImportKind.CONSIGNEES,
        write(tmp_path, "d.csv", "external_id,name\nD1,Corner Shop\n"),
    )
    path = write(
        tmp_path,
        "h.csv",
        "holding id,customer id,product,lot,s/n,qty,manufactured_on,purchase_date,source,"
        "service,account_number,area,period_start,period_end\n"
        "H1,C1,00012345678905,L1,,2,2024-01-05,2024/02/01,registration,,,,,\n"
        "H2,C2,KTL-1,,ab-000123,,,,,,,,,\n"
        "H3,D1,4006381333931,L9,,40,,,Shipment,,,,,\n"
        "H4,C3,,,,,,,,Fibre 1G,AC-77,North,2024-01-01,2030-12-31\n",
    )
    run = do_import(coordinator, ImportKind.HOLDINGS, path)
    assert run.status == ImportStatus.DONE, problems(run)
    assert run.created == 4
    first = Holding.objects.get(external_id="H1")
    assert (first.party.external_id, first.product_id, first.lot, first.quantity) == (
        "C1",
        Product.objects.get(sku="HTR-1").pk,
        "L1",
        2,
    )
    assert (first.manufactured_on, first.acquired_on) == (dt.date(2024, 1, 5), dt.date(2024, 2, 1))
    assert first.source == "registration"
    second = Holding.objects.get(external_id="H2")
    assert (second.serial, second.serial_prefix, second.serial_number) == ("ab-000123", "AB-", 123)
    assert second.quantity == 1
    third = Holding.objects.get(external_id="H3")
    assert (third.party.role, third.source) == ("consignee", "shipment")
    service = Holding.objects.get(external_id="H4")
    assert (service.kind, service.service, service.account_number, service.area) == (
        "service",
        "Fibre 1G",
        "AC-77",
        "North",
    )
    assert service.product is None


def test_an_excel_file_is_imported_with_its_dates_and_numbers(coordinator, tmp_path, products):
    Party.objects.create(role="consumer", external_id="C1", name="Jane")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["External ID", "Party", "GTIN", "Lot", "Quantity", "Manufactured on"])
    sheet.append(["H1", "C1", 4006381333931, "L1", 3, dt.datetime(2024, 3, 1)])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["H2", "C1", "HTR-1", 1234, 1.0, "2024-03-02"])
    path = tmp_path / "holdings.xlsx"
    book.save(path)

    run = do_import(coordinator, ImportKind.HOLDINGS, path)

    assert run.status == ImportStatus.DONE, problems(run)
    assert run.created == 2
    first = Holding.objects.get(external_id="H1")
    assert (first.product_id, first.quantity, first.manufactured_on) == (
        Product.objects.get(sku="KTL-1").pk,
        3,
        dt.date(2024, 3, 1),
    )
    assert Holding.objects.get(external_id="H2").lot == "1234"


def test_an_excel_file_reports_problems_with_its_row_numbers(coordinator, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["sku", "name", "gtin"])
    book.active.append(["A", "Alpha", "4006381333931"])
    book.active.append([])
    book.active.append(["B", "Beta", "4006381333932"])
    path = tmp_path / "products.xlsx"
    book.save(path)
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert run.status == ImportStatus.REJECTED
    assert problems(run) == [(4, "gtin", "The check digit is wrong: it should be 1.")]


def test_a_semicolon_file_with_a_byte_order_mark_is_read(coordinator, tmp_path):
    path = write(tmp_path, "p.csv", "\ufeffSKU;Product name;Price\nA;Alpha;1,50\nB;Beta;2\n")
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert run.status == ImportStatus.DONE, problems(run)
    assert sorted(Product.objects.values_list("sku", "name")) == [("A", "Alpha"), ("B", "Beta")]


def test_a_tab_separated_txt_file_is_read(coordinator, tmp_path):
    path = write(tmp_path, "p.txt", "sku\tname\tdescription\nA\tAlpha\tRed, with a lid\n")
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert run.status == ImportStatus.DONE, problems(run)
    assert Product.objects.get(sku="A").description == "Red, with a lid"


# --- Files with errors -------------------------------------------------------------------


BAD_CUSTOMERS = """external_id,name,email,phone,country,language
C1,Jane Doe,jane@example.com,+44 20 7946 0958,GB,en
C2,Bad Email,not-an-email,,US,en
C3,Bad Phone,,555-1234,US,en
C4,No Country,,2079460958,,en
C5,Bad Country,,,Britain,english
C6,Fine Too,fine@example.com,,,
"""


def test_a_file_with_errors_imports_nothing_and_lists_each_problem(coordinator, tmp_path):
    run = do_import(coordinator, ImportKind.CUSTOMERS, write(tmp_path, "c.csv", BAD_CUSTOMERS))

    assert run.status == ImportStatus.REJECTED
    assert Party.objects.count() == 0
    assert (run.rows_total, run.rows_invalid, run.created) == (6, 4, 0)
    assert "4 of 6 rows have errors" in run.message
    assert problems(run) == [
        (3, "email", "This is not a valid email address."),
        (4, "phone", "This is not a valid phone number in US."),
        (
            5,
            "phone",
            "This phone number cannot be read: write it with its country code "
            "(such as +44 20 7946 0000) or give the row a country.",
        ),
        (6, "country", "Use the two-letter ISO country code, such as US, GB or DE."),
        (6, "language", "Write the language as a code such as en, fr, de, es or pt-BR."),
    ]
    assert run.problems.get(line=3).value == "not-an-email"


def test_with_import_valid_rows_only_the_valid_rows_are_imported(coordinator, tmp_path):
    path = write(tmp_path, "c.csv", BAD_CUSTOMERS)
    run = do_import(coordinator, ImportKind.CUSTOMERS, path, valid_rows=True)

    assert run.status == ImportStatus.DONE
    assert (run.created, run.rows_invalid) == (2, 4)
    assert set(Party.objects.values_list("external_id", flat=True)) == {"C1", "C6"}
    assert run.problems.count() == 5
    assert "4 rows with errors were left out" in run.message


def test_a_file_where_no_row_is_valid_is_rejected_even_with_import_valid_rows(
    coordinator, tmp_path
):
    path = write(tmp_path, "c.csv", "external_id,name,email\nC1,Jane,nope\n")
    run = do_import(coordinator, ImportKind.CUSTOMERS, path, valid_rows=True)
    assert run.status == ImportStatus.REJECTED
    assert Party.objects.count() == 0


def test_a_gtin_with_a_wrong_check_digit_is_refused_with_the_right_digit(coordinator, tmp_path):
    path = write(
        tmp_path,
        "p.csv",
        "sku,name,gtin\nA,Alpha,4006381333932\nB,Beta,12345678905\nC,Gamma,40063813339X\n",
    )
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert run.status == ImportStatus.REJECTED
    assert problems(run) == [
        (2, "gtin", "The check digit is wrong: it should be 1."),
        (
            3,
            "gtin",
            "A GTIN has 8, 12, 13 or 14 digits, not 11. Excel may have dropped its leading "
            "zero: format the column as text.",
        ),
        (4, "gtin", "A GTIN has only digits."),
    ]


def test_a_gtin_already_held_by_another_product_is_a_problem(coordinator, tmp_path, products):
    path = write(tmp_path, "p.csv", "sku,name,gtin\nNEW-1,New,4006381333931\n")
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert problems(run) == [
        (2, "gtin", "This GTIN already belongs to the product with SKU KTL-1.")
    ]


def test_duplicate_external_ids_are_reported_on_the_later_line(coordinator, tmp_path):
    path = write(tmp_path, "c.csv", "external_id,name\nC1,Jane\nC2,John\nC1,Jane again\n")
    run = do_import(coordinator, ImportKind.CUSTOMERS, path)
    assert run.status == ImportStatus.REJECTED
    assert problems(run) == [(4, "external_id", "The same external_id is on line 2.")]


def test_future_and_badly_written_dates_are_problems(coordinator, tmp_path, products, customers):
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    path = write(
        tmp_path,
        "h.csv",
        "external_id,party,product,lot,manufactured_on,acquired_on\n"
        f"H1,C1,HTR-1,L1,{tomorrow.isoformat()},\n"
        "H2,C1,HTR-1,L1,03/04/2024,\n"
        "H3,C1,HTR-1,L1,2024-02-30,\n"
        "H4,C1,HTR-1,L1,2024-05-01,2024-04-01\n",
    )
    run = do_import(coordinator, ImportKind.HOLDINGS, path)
    assert problems(run) == [
        (2, "manufactured_on", "This date is in the future."),
        (3, "manufactured_on", "Write dates as YYYY-MM-DD, such as 2024-03-31."),
        (4, "manufactured_on", "There is no such date."),
        (5, "acquired_on", "This is before the date it was manufactured."),
    ]
    assert Holding.objects.count() == 0


def test_holdings_of_unknown_parties_or_products_or_with_nothing_to_match_are_problems(
    coordinator, tmp_path, products, customers
):
    path = write(
        tmp_path,
        "h.csv",
        "external_id,party,party_role,product,lot,serial,quantity\n"
        "H1,NOBODY,,HTR-1,L1,,1\n"
        "H2,C1,consignee,HTR-1,L1,,1\n"
        "H3,C1,,NO-SUCH,L1,,1\n"
        "H4,C1,,HTR-1,,,1\n"
        "H5,C1,,,L1,,1\n"
        "H6,C1,,HTR-1,L1,,0\n",
    )
    run = do_import(coordinator, ImportKind.HOLDINGS, path)
    assert problems(run) == [
        (2, "party", "No customer or consignee has this external id; import them first."),
        (3, "party", "No consignee has this external id; import them first."),
        (4, "product", "No product has this GTIN or SKU; import the products first."),
        (5, "lot", "A holding needs a lot, a serial or a service."),
        (6, "product", "A unit holding needs its product's GTIN or SKU."),
        (7, "quantity", "The quantity is a whole number of 1 or more."),
    ]


def test_missing_required_columns_are_one_problem_and_nothing_is_read(coordinator, tmp_path):
    path = write(tmp_path, "h.csv", "external_id,lot\nH1,L1\n")
    run = do_import(coordinator, ImportKind.HOLDINGS, path)
    assert run.status == ImportStatus.REJECTED
    assert run.rows_processed == 0
    [(line, column, message)] = problems(run)
    assert (line, column) == (1, "")
    assert message.startswith("Missing required column(s): party_external_id.")
    assert run.message == message


def test_unknown_columns_are_a_note_not_an_error(coordinator, tmp_path):
    path = write(tmp_path, "p.csv", "sku,name,colour,Shelf\nA,Alpha,red,3\n")
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert run.status == ImportStatus.DONE
    assert run.message == "Ignored column(s): colour, Shelf."


def test_a_row_with_more_values_than_the_header_is_a_problem(coordinator, tmp_path):
    path = write(tmp_path, "p.csv", "sku,name\nA,Alpha\nB,Beta,12.50\n")
    run = do_import(coordinator, ImportKind.PRODUCTS, path)
    assert problems(run) == [
        (
            3,
            "",
            "This line has 3 values but the header names 2 columns; check the delimiter "
            "and the quotes.",
        )
    ]


def test_a_latin1_file_is_refused_naming_the_line_and_asking_for_utf8(coordinator, tmp_path):
    path = write(tmp_path, "c.csv", "external_id,name\nC1,Jane\nC2,Jos\u00e9\n", "latin-1")
    run = do_import(coordinator, ImportKind.CUSTOMERS, path, valid_rows=True)
    assert run.status == ImportStatus.REJECTED
    assert Party.objects.count() == 0
    assert run.message.startswith("Line 3 is not UTF-8 text (byte 0xe9 at position 7).")
    assert "Save the file as UTF-8" in run.message
    assert problems(run) == [(3, "", run.message)]


def test_a_utf16_file_is_refused_asking_for_utf8(coordinator, tmp_path):
    path = write(tmp_path, "c.csv", "external_id,name\nC1,Jane\n", "utf-16")
    run = do_import(coordinator, ImportKind.CUSTOMERS, path)
    assert run.status == ImportStatus.REJECTED
    assert run.message.startswith("The file is UTF-16 text, not UTF-8 (line 1).")
    assert "Save the file as UTF-8" in run.message


def test_an_empty_file_is_refused(coordinator, tmp_path):
    with pytest.raises(ValidationError, match=r"The file is empty\."):
        start(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", ""))
    assert not ImportRun.objects.exists()


def test_a_file_of_blank_lines_is_empty(coordinator, tmp_path):
    run = do_import(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", "\n\n"))
    assert run.status == ImportStatus.REJECTED
    assert run.message == "The file is empty."


def test_a_header_only_file_says_it_has_no_rows(coordinator, tmp_path):
    run = do_import(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", "sku,name\n"))
    assert run.status == ImportStatus.REJECTED
    assert run.message == "The file has its header line but no rows under it."


def test_a_file_over_the_size_limit_is_refused_before_reading(coordinator, tmp_path, settings):
    path = write(tmp_path, "p.csv", PRODUCTS)
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refusal:
        start(coordinator, ImportKind.PRODUCTS, path)
    assert refusal.value.messages == [
        "The file is 162\xa0bytes; the limit is 100\xa0bytes. Split it into smaller files."
    ]

    settings.IMPORT_MAX_BYTES = 10_000
    run = start(coordinator, ImportKind.PRODUCTS, path)
    settings.IMPORT_MAX_BYTES = 100
    run = importing.run_import(run)
    assert run.status == ImportStatus.REJECTED
    assert "refused before reading" in run.message
    assert Product.objects.count() == 0


@pytest.mark.parametrize("name", ["products.xls", "products.pdf", "products"])
def test_files_that_are_not_csv_or_xlsx_are_refused(coordinator, tmp_path, name):
    with pytest.raises(ValidationError):
        start(coordinator, ImportKind.PRODUCTS, write(tmp_path, name, PRODUCTS))


def test_a_broken_xlsx_is_refused_with_a_clear_message(coordinator, tmp_path):
    run = do_import(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.xlsx", "sku,name\n"))
    assert run.status == ImportStatus.REJECTED
    assert run.message.startswith("This is not an Excel .xlsx file that can be read")


def test_only_staff_who_may_import_can_start_an_import(analyst, tmp_path):
    with pytest.raises(PermissionDenied):
        start(analyst, ImportKind.PRODUCTS, write(tmp_path, "p.csv", PRODUCTS))


def test_problems_beyond_the_cap_are_counted_but_not_stored(coordinator, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_PROBLEMS", 3)
    rows = "".join(f"P{n},Product {n},bad\n" for n in range(10))
    run = do_import(
        coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", "sku,name,gtin\n" + rows)
    )
    assert run.rows_invalid == 10
    assert run.problems.count() == 3


# --- Re-imports, progress, history ------------------------------------------------------


def test_importing_the_same_file_again_writes_nothing(coordinator, tmp_path, products, customers):
    path = write(tmp_path, "c.csv", CUSTOMERS)
    before = dict(Party.objects.values_list("external_id", "updated_at"))
    with CaptureQueriesContext(connection) as queries:
        again = do_import(coordinator, ImportKind.CUSTOMERS, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert dict(Party.objects.values_list("external_id", "updated_at")) == before
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "registry_party" in q["sql"] and q["sql"].lstrip().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []


def test_a_changed_row_is_updated_and_fields_not_in_the_file_are_kept(
    coordinator, tmp_path, customers
):
    path = write(tmp_path, "c.csv", "external_id,name\nC1,Jane Doe-Smith\nC2,Jean Dupont\n")
    run = do_import(coordinator, ImportKind.CUSTOMERS, path)
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    jane = Party.objects.get(external_id="C1")
    assert (jane.name, jane.email, jane.phone) == (
        "Jane Doe-Smith",
        "jane@example.com",
        "+442079460958",
    )


def test_holdings_imported_again_are_unchanged_and_edits_are_updates(
    coordinator, tmp_path, products, customers
):
    header = "external_id,party,product,lot,serial,quantity,unit_price\n"
    first = write(tmp_path, "a.csv", header + "H1,C1,HTR-1,L1,,1,10\nH2,C2,KTL-1,,S-9,1,\n")
    do_import(coordinator, ImportKind.HOLDINGS, first)
    assert do_import(coordinator, ImportKind.HOLDINGS, first).unchanged == 2
    edited = write(tmp_path, "b.csv", header + "H1,C1,HTR-1,L1,,3,10.00\nH2,C2,KTL-1,,S-9,1,\n")
    run = do_import(coordinator, ImportKind.HOLDINGS, edited)
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert Holding.objects.get(external_id="H1").quantity == 3


def test_progress_is_saved_batch_by_batch_through_both_passes(coordinator, tmp_path, settings):
    settings.IMPORT_BATCH_SIZE = 2
    rows = "".join(f"P{n},Product {n}\n" for n in range(5))
    run = start(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", "sku,name\n" + rows))
    seen = []

    def progress(current: ImportRun) -> None:
        stored = ImportRun.objects.get(pk=current.pk)
        seen.append((stored.status, stored.rows_processed, stored.rows_total))

    importing.run_import(run, progress=progress)

    assert seen == [
        ("validating", 0, 5),
        ("validating", 2, 5),
        ("validating", 4, 5),
        ("validating", 5, 5),
        ("importing", 0, 5),
        ("importing", 2, 5),
        ("importing", 4, 5),
        ("importing", 5, 5),
    ]
    assert Product.objects.count() == 5


def test_an_unexpected_error_fails_the_run_and_changes_nothing(coordinator, tmp_path, settings):
    settings.IMPORT_BATCH_SIZE = 2
    rows = "".join(f"P{n},Product {n}\n" for n in range(5))
    run = start(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", "sku,name\n" + rows))

    def progress(current: ImportRun) -> None:
        if current.status == ImportStatus.IMPORTING and current.rows_processed == 4:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        importing.run_import(run, progress=progress)

    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert "disk on fire" in run.message
    assert run.finished_at is not None
    assert Product.objects.count() == 0


def test_a_run_already_claimed_is_left_alone(coordinator, tmp_path, products):
    assert importing.run_import(products).status == ImportStatus.DONE
    assert ChangeRecord.objects.filter(action=ChangeRecord.Action.IMPORTED).count() == 1


def test_an_import_writes_a_history_row_with_its_figures(coordinator, products):
    record = ChangeRecord.for_object(products).get()
    assert record.action == ChangeRecord.Action.IMPORTED
    assert record.actor == coordinator
    assert record.changes == {
        "status": [None, "done"],
        "created": [None, 3],
        "updated": [None, 0],
        "unchanged": [None, 0],
        "rows_invalid": [None, 0],
    }


def test_a_rejected_import_writes_a_history_row_too(coordinator, tmp_path):
    run = do_import(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", "sku,name\nA,\n"))
    assert ChangeRecord.for_object(run).get().changes["status"] == [None, "rejected"]


def test_the_task_runs_an_import(coordinator, tmp_path):
    run = start(coordinator, ImportKind.PRODUCTS, write(tmp_path, "p.csv", PRODUCTS))
    result = run_import_task.enqueue(str(run.uuid))
    run.refresh_from_db()
    assert run.status == ImportStatus.DONE
    assert result.return_value == {"created": 3, "updated": 0, "unchanged": 0, "rows_invalid": 0}


# --- Reports, templates, the command -----------------------------------------------------


def test_the_error_report_lists_every_problem_and_defuses_formulas(coordinator, tmp_path):
    path = write(tmp_path, "c.csv", "external_id,name,email\nC1,Jane,=HYPERLINK(1)\nC2,,\n")
    run = do_import(coordinator, ImportKind.CUSTOMERS, path)
    text = "".join(importing.error_report_csv(run))
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [
        ["line", "column", "value", "message"],
        ["2", "email", "'=HYPERLINK(1)", "This is not a valid email address."],
        ["3", "name", "", "A value is required."],
    ]


@pytest.mark.parametrize("kind", ImportKind.values)
def test_the_template_has_every_column_and_an_example_row(kind):
    header, example = list(csv.reader(io.StringIO(importing.template_csv(kind))))
    assert header == [column.name for column in importing.COLUMNS[kind]]
    assert len(example) == len(header)


def test_the_templates_import_as_they_are(coordinator, tmp_path):
    for kind in ["products", "customers", "consignees", "holdings"]:
        path = write(tmp_path, f"{kind}.csv", importing.template_csv(kind))
        run = do_import(coordinator, kind, path)
        assert (run.status, run.created) == (ImportStatus.DONE, 1), problems(run)


def test_no_header_is_an_alias_of_two_columns():
    for kind, columns in importing.COLUMNS.items():
        names = [
            importing.normalise_header(alias)
            for column in columns
            for alias in {column.name, *column.aliases.split()}
        ]
        assert len(names) == len(set(names)), kind


def test_the_command_imports_a_file_with_a_progress_bar(coordinator, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_registry",
        "products",
        str(write(tmp_path, "p.csv", PRODUCTS)),
        "--user",
        coordinator.username,
        stdout=out,
        stderr=err,
    )
    assert out.getvalue().startswith("Imported: 3 rows, 3 new, 0 updated, 0 unchanged, 0 with")
    assert "\rChecking rows" in err.getvalue()
    assert "100% 3/3 rows" in err.getvalue()
    assert ImportRun.objects.get().created_by == coordinator


def test_the_command_lists_problems_and_fails_when_nothing_is_imported(tmp_path):
    out = io.StringIO()
    rows = "".join(f"P{n},,\n" for n in range(25))
    with pytest.raises(CommandError, match=r"Nothing was imported from p\.csv"):
        call_command(
            "import_registry",
            "products",
            str(write(tmp_path, "p.csv", "sku,name,gtin\n" + rows)),
            stdout=out,
            stderr=io.StringIO(),
        )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Has errors: nothing imported: 25 rows")
    assert lines[2] == "  line 2, name: A value is required."
    assert len([line for line in lines if line.startswith("  line ")]) == 20
    assert "and more" in lines[-1]
    assert ImportProblem.objects.count() == 25


def test_the_command_imports_valid_rows_when_asked(tmp_path):
    path = write(tmp_path, "p.csv", "sku,name\nA,Alpha\nB,\n")
    call_command(
        "import_registry",
        "products",
        str(path),
        "--valid-rows",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert list(Product.objects.values_list("sku", flat=True)) == ["A"]


def test_the_command_refuses_a_file_that_is_not_there():
    with pytest.raises(CommandError, match="No file at"):
        call_command("import_registry", "products", "/nowhere/p.csv")
