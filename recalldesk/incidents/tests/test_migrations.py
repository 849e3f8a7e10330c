"""Migration 0008 moves the ledger holdings into the entries, and back when it is undone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from recalldesk.incidents.models import LedgerEntry
from recalldesk.incidents.tests.builders import holding, incident, party, product, save_and_match

BEFORE = ("incidents", "0007_ledger_entries_without_last_run_or_status_index")
AFTER = ("incidents", "0008_ledger_entries_hold_their_holdings")


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def entries() -> list[tuple[int, str, list[list[int]]]]:
    return sorted(LedgerEntry.objects.values_list("party_id", "status", "holdings"))


@pytest.mark.django_db(transaction=True)
def test_undoing_0008_fills_the_ledger_holdings_and_redoing_it_fills_the_entries(coordinator):
    heater = product("HTR-1", "00012345678905", "Space heater")
    stays, leaves = party("Stays"), party("Leaves")
    first = holding(stays, heater, lot="L1", quantity=2)
    second = holding(stays, heater, lot="L2")
    holding(leaves, heater, lot="L3")
    target = incident(coordinator)
    save_and_match(coordinator, target, products=[heater], lots=["L1", "L2", "L3"])
    save_and_match(coordinator, target, products=[heater], lots=["L1", "L2"])
    before = entries()

    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT incident_id, holding_id, party_id, quantity"
                " FROM incidents_ledgerholding ORDER BY holding_id"
            )
            ledger_holdings = cursor.fetchall()
    finally:
        migrate(AFTER)

    assert ledger_holdings == [
        (target.pk, first.pk, stays.pk, 2),
        (target.pk, second.pk, stays.pk, 1),
    ]
    assert before == [
        (stays.pk, "affected", [[first.pk, 2], [second.pk, 1]]),
        (leaves.pk, "removed", []),
    ]
    assert entries() == before
