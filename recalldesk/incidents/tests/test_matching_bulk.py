"""A large first match may drop the ledger's indexes and build them again after its inserts.

It must store the same ledger as the row-by-row path and leave the schema exactly as it was;
it only takes that path on PostgreSQL, when the ledger holds no more rows than it writes and
no other transaction is using it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recalldesk.incidents import matching
from recalldesk.incidents.models import LedgerEntry
from recalldesk.incidents.tests.builders import holding, incident, party, product, save_and_match

pytestmark = pytest.mark.django_db

TABLES = (matching.LEDGER_ENTRY,)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the bulk path is taken on PostgreSQL only"
)


@pytest.fixture
def heater():
    return product("HTR-1", "00012345678905", "Space heater")


@pytest.fixture
def bulk_from_one_row(monkeypatch):
    """Take the bulk path for any match, however small (the default starts at 20,000 rows)."""
    monkeypatch.setattr(matching, "BULK_MIN_ROWS", 1)


def schema() -> set[tuple[str, ...]]:
    """The indexes and constraints of the ledger tables, as the database describes them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes"
                " WHERE tablename = ANY(%s)"
                " UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)",
                [list(TABLES), list(TABLES)],
            )
        else:
            cursor.execute(
                "SELECT tbl_name, name, COALESCE(sql, '') FROM sqlite_master"
                f" WHERE type = 'index' AND tbl_name IN ({', '.join(['%s'] * len(TABLES))})",
                list(TABLES),
            )
        return {tuple(row) for row in cursor.fetchall()}


def entries(target: Any) -> list[tuple[Any, ...]]:
    return sorted(
        LedgerEntry.objects.filter(incident=target).values_list(
            "party__name", "status", "units", "holdings_count"
        )
    )


def ledger(target: Any) -> list[tuple[Any, ...]]:
    """Everything a match stores for ``target``: its entries, then its holdings."""
    holdings = sorted(
        (h.party.name, h.external_id, units)
        for _, units, h in LedgerEntry.objects.filter(incident=target).holdings()
    )
    return [*entries(target), *holdings]


def dropped(queries: CaptureQueriesContext) -> set[str]:
    """The ledger tables whose indexes a match dropped, by the statements that rebuilt them."""
    rebuilt = set()
    for query in queries.captured_queries:
        sql = query["sql"]
        for table in TABLES:
            if sql.startswith(f"ALTER TABLE {table} ADD CONSTRAINT") or (
                sql.startswith("CREATE")
                and "INDEX" in sql.split(" ON ")[0]
                and (f" ON public.{table} " in sql or f' ON "{table}" ' in sql)
            ):
                rebuilt.add(table)
    return rebuilt


# SQLite keeps its indexes up to date row by row: its writes block no reader, but it builds
# indexes about as slowly as it maintains them.
BULK_TABLES = set(TABLES) if connection.vendor == "postgresql" else set()


def some_holdings(heater, lots: dict[str, list[tuple[str, int]]]) -> None:
    for owner, held in lots.items():
        someone = party(owner)
        for lot, quantity in held:
            holding(someone, heater, lot=lot, quantity=quantity)


def test_a_bulk_first_match_stores_the_same_ledger_and_schema(coordinator, heater, monkeypatch):
    some_holdings(
        heater,
        {"Alice": [("L1", 2), ("L2", 1)], "Bob": [("L1", 1)], "Carol": [("L9", 5)]},
    )
    row_by_row = incident(coordinator, title="Row by row")
    bulk = incident(coordinator, title="Bulk")
    before = schema()

    with CaptureQueriesContext(connection) as plain_queries:
        plain_run = save_and_match(coordinator, row_by_row, products=[heater], lots=["L1", "L2"])
    monkeypatch.setattr(matching, "BULK_MIN_ROWS", 1)
    with CaptureQueriesContext(connection) as bulk_queries:
        bulk_run = save_and_match(coordinator, bulk, products=[heater], lots=["L1", "L2"])

    assert not dropped(plain_queries)
    assert dropped(bulk_queries) == BULK_TABLES
    assert schema() == before
    assert ledger(bulk) == ledger(row_by_row)
    assert entries(bulk) == [
        ("Alice", "affected", 3, 2),
        ("Bob", "affected", 1, 1),
    ]
    for run in (plain_run, bulk_run):
        assert (run.holdings_matched, run.parties_affected, run.units_affected) == (3, 2, 4)
        assert (run.newly_affected, run.still_affected, run.no_longer_affected) == (2, 0, 0)


def test_a_rematch_after_a_bulk_first_match_uses_the_rebuilt_keys(
    coordinator, heater, bulk_from_one_row
):
    some_holdings(heater, {"Stays": [("L1", 1)], "Leaves": [("L2", 1)], "Joins": [("L3", 4)]})
    target = incident(coordinator)
    first = save_and_match(coordinator, target, products=[heater], lots=["L1", "L2"])
    kept = LedgerEntry.objects.get(incident=target, party__name="Stays")

    second = save_and_match(coordinator, target, products=[heater], lots=["L1", "L3"])

    assert (second.newly_affected, second.still_affected, second.no_longer_affected) == (1, 1, 1)
    assert (second.parties_affected, second.units_affected, second.holdings_matched) == (2, 5, 2)
    stays = LedgerEntry.objects.get(incident=target, party__name="Stays")
    assert (stays.pk, stays.added_run_id, stays.units) == (kept.pk, first.pk, 1)
    assert LedgerEntry.objects.get(incident=target, party__name="Leaves").status == "removed"


def test_a_first_match_beside_a_larger_ledger_keeps_the_indexes(
    coordinator, heater, bulk_from_one_row
):
    some_holdings(heater, {"Alice": [("L1", 1)], "Bob": [("L2", 1)], "Carol": [("L3", 1)]})
    larger, smaller = incident(coordinator), incident(coordinator, title="Smaller")
    with CaptureQueriesContext(connection) as first_queries:
        save_and_match(coordinator, larger, products=[heater], lots=["L1", "L2", "L3"])

    with CaptureQueriesContext(connection) as queries:
        run = save_and_match(coordinator, smaller, products=[heater], lots=["L1"])

    assert dropped(first_queries) == BULK_TABLES
    assert not dropped(queries)
    assert entries(smaller) == [("Alice", "affected", 1, 1)]
    assert run.parties_affected == 1


@postgresql_only
def test_a_first_match_keeps_the_indexes_of_a_table_another_transaction_reads(
    coordinator, heater, bulk_from_one_row
):
    some_holdings(heater, {"Alice": [("L1", 2)], "Bob": [("L1", 1)]})
    target = incident(coordinator)
    before = schema()
    reader = connection.get_new_connection(connection.get_connection_params())
    try:
        reader.execute(f"LOCK TABLE {matching.LEDGER_ENTRY} IN ACCESS SHARE MODE")
        with CaptureQueriesContext(connection) as queries:
            run = save_and_match(coordinator, target, products=[heater], lots=["L1"])
    finally:
        reader.close()

    assert not dropped(queries)
    assert schema() == before
    assert entries(target) == [
        ("Alice", "affected", 2, 1),
        ("Bob", "affected", 1, 1),
    ]
    assert run.units_affected == 3


def test_a_match_writes_no_row_per_holding(coordinator, heater):
    someone = party("Alice")
    for lot in ("L1", "L2", "L3"):
        holding(someone, heater, lot=lot)
    target = incident(coordinator)

    with CaptureQueriesContext(connection) as queries:
        run = save_and_match(coordinator, target, products=[heater], lots=["L1", "L2", "L3"])

    writes = [
        q["sql"].split(" (")[0]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and "recalldesk_matched" not in q["sql"].split(" SELECT ")[0]
    ]
    assert run.holdings_matched == 3
    assert f"INSERT INTO {matching.LEDGER_ENTRY}" in writes
    assert not [w for w in writes if "ledger" in w and matching.LEDGER_ENTRY not in w]


def test_a_bulk_first_match_numbers_its_entries_and_leaves_the_next_ids_free(
    coordinator, heater, bulk_from_one_row, monkeypatch
):
    some_holdings(heater, {"Carol": [("L1", 1)], "Alice": [("L1", 1)], "Bob": [("L1", 1)]})
    target = incident(coordinator)
    save_and_match(coordinator, target, products=[heater], lots=["L1"])
    ids = list(
        LedgerEntry.objects.filter(incident=target)
        .order_by("party_id")
        .values_list("pk", flat=True)
    )
    later = incident(coordinator, title="Later")
    # The second match writes row by row: its entries are numbered by the table's sequence.
    monkeypatch.setattr(matching, "BULK_MIN_ROWS", 1_000)
    save_and_match(coordinator, later, products=[heater], lots=["L1"])
    later_ids = sorted(LedgerEntry.objects.filter(incident=later).values_list("pk", flat=True))

    assert ids == list(range(ids[0], ids[0] + 3))
    assert later_ids[0] > ids[-1]
    assert len(set(later_ids) | set(ids)) == 6
