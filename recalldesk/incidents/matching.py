"""Matching: the scope's selection of holdings, and the ledger built from it in set-based SQL.

The selection is one SQL ``SELECT id, party_id, quantity`` over the holdings, written as a
union of branches that each use an index: holdings joined to the scope's lots, holdings in
the scope's serial ranges (an index range scan per range), every unit of the scope's products
when all units are affected, and service accounts for a service failure. Every branch shares
the window and area rules. The same selection answers the preview count and fills the ledger,
so what the coordinator previews is what the ledger gets.

No holding passes through Python: on SQLite and PostgreSQL alike the ledger is written by
``INSERT ... SELECT`` and an ``INSERT ... ON CONFLICT DO UPDATE`` over the affected parties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from recalldesk.incidents.choices import DateBasis, LedgerStatus, MatchStatus
from recalldesk.incidents.models import (
    Incident,
    LedgerEntry,
    LedgerHolding,
    MatchRun,
    Scope,
    ScopeLot,
    ScopeSerialRange,
)
from recalldesk.registry.choices import HoldingKind
from recalldesk.registry.models import Holding

HOLDING = Holding._meta.db_table
SCOPE_LOT = ScopeLot._meta.db_table
SCOPE_SERIAL = ScopeSerialRange._meta.db_table
SCOPE_PRODUCTS = Scope.products.through._meta.db_table
LEDGER_ENTRY = LedgerEntry._meta.db_table
LEDGER_HOLDING = LedgerHolding._meta.db_table


@dataclass(frozen=True)
class Selection:
    """The SQL that selects ``(id, party_id, quantity)`` of the holdings a scope affects."""

    sql: str
    params: tuple[Any, ...]

    @property
    def is_empty(self) -> bool:
        return not self.sql


@dataclass(frozen=True)
class ScopeCounts:
    """What a scope affects: holdings, parties and units."""

    holdings: int
    parties: int
    units: int


def _common_filters(scope: Scope) -> tuple[list[str], list[Any]]:
    """The window and area rules every branch shares."""
    where: list[str] = []
    params: list[Any] = []
    if scope.incident.is_service:
        if scope.window_start:
            where.append("(h.period_end IS NULL OR h.period_end >= %s)")
            params.append(scope.window_start)
        if scope.window_end:
            where.append("(h.period_start IS NULL OR h.period_start <= %s)")
            params.append(scope.window_end)
    else:
        column = (
            "h.manufactured_on" if scope.date_basis == DateBasis.MANUFACTURED else ("h.acquired_on")
        )
        if scope.date_from:
            where.append(f"{column} >= %s")
            params.append(scope.date_from)
        if scope.date_to:
            where.append(f"{column} <= %s")
            params.append(scope.date_to)
    if scope.regions:
        where.append(f"h.region IN ({', '.join(['%s'] * len(scope.regions))})")
        params.extend(scope.regions)
    if scope.postcodes:
        exact = [p for p in scope.postcodes if not p.endswith("*")]
        prefixes = [p[:-1] for p in scope.postcodes if p.endswith("*")]
        terms = []
        if exact:
            terms.append(f"h.postcode IN ({', '.join(['%s'] * len(exact))})")
            params.extend(exact)
        for prefix in prefixes:
            terms.append("h.postcode LIKE %s")
            params.append(prefix.replace("%", r"\%").replace("_", r"\_") + "%")
        where.append("(" + " OR ".join(terms) + ")")
    return where, params


def selection_for(scope: Scope) -> Selection:
    """Build the selection of the holdings ``scope`` affects, as of its saved rules."""
    common, common_params = _common_filters(scope)
    branches: list[str] = []
    params: list[Any] = []

    def branch(from_sql: str, where: list[str], where_params: list[Any]) -> None:
        clauses = where + common
        branches.append(
            f"SELECT h.id, h.party_id, h.quantity FROM {from_sql} WHERE " + " AND ".join(clauses)
        )
        params.extend(where_params)
        params.extend(common_params)

    if scope.incident.is_service:
        where = [f"h.kind = '{HoldingKind.SERVICE}'"]
        where_params: list[Any] = []
        for column, values in (
            ("h.service", scope.services),
            ("h.area", scope.areas),
            ("h.account_number", scope.accounts),
        ):
            if values:
                where.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
                where_params.extend(values)
        if len(where) == 1 and not common:
            return Selection("", ())
        branch(f"{HOLDING} h", where, where_params)
    else:
        has_products = scope.products.exists()
        unit_where = [f"h.kind = '{HoldingKind.UNIT}'"]
        product_params: list[Any] = []
        if has_products:
            unit_where.append(
                f"h.product_id IN (SELECT product_id FROM {SCOPE_PRODUCTS} WHERE scope_id = %s)"
            )
            product_params.append(scope.pk)
        if scope.all_units:
            if has_products:
                branch(f"{HOLDING} h", unit_where, product_params)
        else:
            if scope.lots.exists():
                branch(
                    f"{SCOPE_LOT} l JOIN {HOLDING} h ON h.lot = l.lot",
                    ["l.scope_id = %s", *unit_where],
                    [scope.pk, *product_params],
                )
            if scope.serial_ranges.exists():
                branch(
                    f"{SCOPE_SERIAL} r JOIN {HOLDING} h ON h.serial_prefix = r.prefix"
                    " AND h.serial_number BETWEEN r.first_number AND r.last_number",
                    ["r.scope_id = %s", *unit_where],
                    [scope.pk, *product_params],
                )
    if not branches:
        return Selection("", ())
    # UNION, not UNION ALL: a holding whose lot and serial are both in scope counts once.
    return Selection(" UNION ".join(branches), tuple(params))


def count_selection(selection: Selection) -> ScopeCounts:
    if selection.is_empty:
        return ScopeCounts(0, 0, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(DISTINCT m.party_id), COALESCE(SUM(m.quantity), 0)"
            f" FROM ({selection.sql}) m",
            selection.params,
        )
        holdings, parties, units = cursor.fetchone()
    return ScopeCounts(int(holdings), int(parties), int(units))


def holdings_in_scope(scope: Scope) -> QuerySet[Holding]:
    """The holdings ``scope`` affects, as a queryset (for pages and exports)."""
    selection = selection_for(scope)
    if selection.is_empty:
        return Holding.objects.none()
    return Holding.objects.filter(
        id__in=RawSQL(f"SELECT m.id FROM ({selection.sql}) m", selection.params)
    )


def build_ledger(run: MatchRun) -> MatchRun:
    """Match the incident's scope and store its ledger; records what changed in ``run``.

    Parties that stay keep their ledger row (and so their history); parties that drop out
    are marked removed, never deleted; parties that come back are counted as newly affected.
    """
    incident = run.incident
    run.status = MatchStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    try:
        with transaction.atomic():
            # Serialise matches of one incident: the second waits for the first to commit.
            Incident.objects.select_for_update().filter(pk=incident.pk).first()
            scope = Scope.objects.select_related("incident").get(incident=incident)
            _write_ledger(run, scope)
    except Exception as exc:
        run.status = MatchStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    run.status = MatchStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


def _write_ledger(run: MatchRun, scope: Scope) -> None:
    incident_id = run.incident_id
    now = timezone.now()
    selection = selection_for(scope)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LEDGER_HOLDING} WHERE incident_id = %s", [incident_id])
        if not selection.is_empty:
            cursor.execute(
                f"INSERT INTO {LEDGER_HOLDING} (incident_id, holding_id, party_id, quantity)"
                f" SELECT %s, m.id, m.party_id, m.quantity FROM ({selection.sql}) m",
                (incident_id, *selection.params),
            )
            run.holdings_matched = max(cursor.rowcount, 0)
        # An entry that was removed and comes back is newly affected again, so its
        # added_run moves to this run; an entry that stays keeps its added_run.
        cursor.execute(
            f"INSERT INTO {LEDGER_ENTRY} (incident_id, party_id, status, units, holdings_count,"
            " added_run_id, last_run_id, removed_run_id, first_affected_at, updated_at)"
            " SELECT incident_id, party_id, %s, SUM(quantity), COUNT(*), %s, %s, NULL, %s, %s"
            f" FROM {LEDGER_HOLDING} WHERE incident_id = %s GROUP BY incident_id, party_id"
            " ON CONFLICT (incident_id, party_id) DO UPDATE SET"
            " units = excluded.units, holdings_count = excluded.holdings_count,"
            f" added_run_id = CASE WHEN {LEDGER_ENTRY}.status = %s"
            f" THEN excluded.added_run_id ELSE {LEDGER_ENTRY}.added_run_id END,"
            " status = excluded.status, last_run_id = excluded.last_run_id,"
            " removed_run_id = NULL, updated_at = excluded.updated_at",
            [LedgerStatus.AFFECTED, run.pk, run.pk, now, now, incident_id, LedgerStatus.REMOVED],
        )
        cursor.execute(
            f"UPDATE {LEDGER_ENTRY} SET status = %s, removed_run_id = %s, updated_at = %s"
            " WHERE incident_id = %s AND status = %s AND last_run_id <> %s",
            [LedgerStatus.REMOVED, run.pk, now, incident_id, LedgerStatus.AFFECTED, run.pk],
        )
        run.no_longer_affected = max(cursor.rowcount, 0)
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(units), 0),"
            " COALESCE(SUM(CASE WHEN added_run_id = %s THEN 1 ELSE 0 END), 0)"
            f" FROM {LEDGER_ENTRY} WHERE incident_id = %s AND status = %s",
            [run.pk, incident_id, LedgerStatus.AFFECTED],
        )
        parties, units, newly = cursor.fetchone()
    run.parties_affected = int(parties)
    run.units_affected = int(units)
    run.newly_affected = int(newly)
    run.still_affected = run.parties_affected - run.newly_affected
    run.scope_version = scope.version
