"""Migration 0008 moves the ledger holdings into the entries, and 0009 makes them text;
both come back when undone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from recalldesk.incidents.models import LedgerEntry
from recalldesk.incidents.tests.builders import holding, incident, party, product, save_and_match

BEFORE = ("incidents", "0007_ledger_entries_without_last_run_or_status_index")
ARRAYS = ("incidents", "0008_ledger_entries_hold_their_holdings")
AFTER = ("incidents", "0009_ledger_holdings_as_text")


def migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def entries() -> list[tuple[int, str, list[list[int]]]]:
    return sorted(LedgerEntry.objects.values_list("party_id", "status", "holdings"))


def stored() -> list[tuple[int, Any]]:
    """Each entry's holdings as the database returns them, by party."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT party_id, holdings FROM incidents_ledgerentry ORDER BY party_id")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_undoing_0009_and_0008_restores_arrays_and_ledger_holdings_and_redoing_them_the_text(
    coordinator,
):
    heater = product("HTR-1", "00012345678905", "Space heater")
    stays, leaves = party("Stays"), party("Leaves")
    first = holding(stays, heater, lot="L1", quantity=2)
    second = holding(stays, heater, lot="L2")
    holding(leaves, heater, lot="L3")
    target = incident(coordinator)
    save_and_match(coordinator, target, products=[heater], lots=["L1", "L2", "L3"])
    save_and_match(coordinator, target, products=[heater], lots=["L1", "L2"])
    before = entries()
    as_text = stored()

    migrate(ARRAYS)
    try:
        as_arrays = stored()
        migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT incident_id, holding_id, party_id, quantity"
                " FROM incidents_ledgerholding ORDER BY holding_id"
            )
            ledger_holdings = cursor.fetchall()
    finally:
        migrate(AFTER)

    assert as_text == [(stays.pk, f"{first.pk}:2,{second.pk}:1"), (leaves.pk, "")]
    pairs = [[first.pk, 2], [second.pk, 1]]
    if connection.vendor == "postgresql":
        assert as_arrays == [(stays.pk, pairs), (leaves.pk, [])]
    else:
        assert [(p, json.loads(h)) for p, h in as_arrays] == [(stays.pk, pairs), (leaves.pk, [])]
    assert ledger_holdings == [
        (target.pk, first.pk, stays.pk, 2),
        (target.pk, second.pk, stays.pk, 1),
    ]
    assert before == [
        (stays.pk, "affected", pairs),
        (leaves.pk, "removed", []),
    ]
    assert entries() == before
    assert stored() == as_text
