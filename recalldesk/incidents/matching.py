"""Matching: the scope's selection of holdings, and the ledger built from it in set-based SQL.

The selection is one SQL ``SELECT id, party_id, quantity`` over the holdings that uses the
indexes on lots and serials, written for each database's planner:

- on SQLite, the holdings with a scoped lot (joined to the scope's lots through the lot
  index) and those in a serial range (an index range scan per range) are selected from the
  indexes alone, which cover every column the match reads or checks, then ``UNION``-ed;
- on PostgreSQL, the lots and serial ranges are written into the query as values, so the
  planner sees what it is looking for and combines one bitmap per index (a join to the
  scope's tables hides their contents from it, and it guessed badly).

Every unit of the scope's products is selected when all units are affected, and service
accounts for a service failure. The window and area rules apply to everything. The same
selection answers the preview count and fills the ledger, so what the coordinator previews is
what the ledger gets.

No holding passes through Python: the selection is grouped by party once, into a temporary
table of the match's parties (units, holding count, and the holdings themselves as
``holding:units`` pairs), and the ledger is written from it with ``INSERT ... SELECT``
(a first match) or with a diff that writes only the entries that change (a rematch: an
unchanged scope writes nothing). An entry carries its holdings, so a match writes one row
per affected party and nothing per holding.

Writing the ledger costs more than selecting it: every row written updates the table and
its two indexes. On PostgreSQL, a large first match into a ledger that holds no more rows
than it writes, and that no other transaction is using, drops the indexes and builds them
again after the insert (the same indexes under the same names): a sort each instead of a
B-tree descent per row; its entries take their ids from the sequence as one block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from recalldesk.incidents.choices import DateBasis, LedgerStatus, MatchStatus
from recalldesk.incidents.models import (
    Incident,
    LedgerEntry,
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
        return _holdings_where(where + common, [*where_params, *common_params])
    if scope.all_units:
        products = list(scope.products.values_list("id", flat=True))
        if not products:
            return Selection("", ())
        where, where_params = _unit_rules(products)
        return _holdings_where(where + common, [*where_params, *common_params])
    if connection.vendor == "postgresql":
        return _selection_by_bitmaps(scope, common, common_params)
    return _selection_by_ids(scope, common, common_params)


def _holdings_where(where: list[str], params: list[Any]) -> Selection:
    return Selection(
        f"SELECT h.id, h.party_id, h.quantity FROM {HOLDING} h WHERE " + " AND ".join(where),
        tuple(params),
    )


def _unit_rules(products: list[int]) -> tuple[list[str], list[Any]]:
    where = [f"h.kind = '{HoldingKind.UNIT}'"]
    if products:
        where.append(f"h.product_id IN ({', '.join(['%s'] * len(products))})")
    return where, list(products)


def _selection_by_ids(scope: Scope, common: list[str], common_params: list[Any]) -> Selection:
    """The holdings joined to the scope's lots, and to its serial ranges, from the indexes.

    The lot and serial indexes carry every column a match reads or checks (product, kind,
    dates, party, quantity), so each branch is answered from its index alone, the lot branch
    with a lookup per scoped lot, the serial branch with a range scan per range; the table
    is not read (unless the scope filters on region or postcode). ``UNION`` selects a
    holding in scope by lot and by serial, or in two overlapping ranges, once.
    """
    products = list(scope.products.values_list("id", flat=True))
    where, where_params = _unit_rules(products)
    rules = " AND ".join(where + common)
    rule_params = [*where_params, *common_params]
    branches: list[str] = []
    params: list[Any] = []
    if scope.lots.exists():
        branches.append(
            f"SELECT h.id, h.party_id, h.quantity FROM {SCOPE_LOT} l"
            f" JOIN {HOLDING} h ON h.lot = l.lot WHERE l.scope_id = %s AND {rules}"
        )
        params.extend([scope.pk, *rule_params])
    if scope.serial_ranges.exists():
        branches.append(
            f"SELECT h.id, h.party_id, h.quantity FROM {SCOPE_SERIAL} r"
            f" JOIN {HOLDING} h ON h.serial_prefix = r.prefix"
            " AND h.serial_number BETWEEN r.first_number AND r.last_number"
            f" WHERE r.scope_id = %s AND {rules}"
        )
        params.extend([scope.pk, *rule_params])
    if not branches:
        return Selection("", ())
    return Selection(" UNION ".join(branches), tuple(params))


def _selection_by_bitmaps(scope: Scope, common: list[str], common_params: list[Any]) -> Selection:
    """One pass over the holdings: lots and serial ranges as values, OR-ed.

    PostgreSQL answers each term from its index (the lots as one ``= ANY`` array, each range
    as a range scan, the single serials of a prefix as one array) and ORs the bitmaps, so a
    holding is selected once however many terms it meets, and the table is read in the order
    it is stored.
    """
    products = list(scope.products.values_list("id", flat=True))
    terms: list[str] = []
    params: list[Any] = []
    lots = list(scope.lots.values_list("lot", flat=True))
    if lots:
        terms.append("h.lot = ANY(%s)")
        params.append(lots)
    singles: dict[str, list[int]] = {}
    for prefix, first, last in scope.serial_ranges.values_list(
        "prefix", "first_number", "last_number"
    ):
        if first == last:
            singles.setdefault(prefix, []).append(first)
        else:
            terms.append("(h.serial_prefix = %s AND h.serial_number BETWEEN %s AND %s)")
            params.extend([prefix, first, last])
    for prefix, numbers in singles.items():
        terms.append("(h.serial_prefix = %s AND h.serial_number = ANY(%s))")
        params.extend([prefix, numbers])
    if not terms:
        return Selection("", ())
    where, where_params = _unit_rules(products)
    return _holdings_where(
        [*where, *common, "(" + " OR ".join(terms) + ")"],
        [*where_params, *common_params, *params],
    )


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
        # SQLite looks up the parent of every foreign key of every row written, one B-tree
        # search each: three quarters of a large match. Every row written here comes from
        # rows read in the same write transaction (SQLite has one writer at a time), so none
        # can dangle. The switch only works outside a transaction; inside one it does nothing.
        with connection.constraint_checks_disabled(), transaction.atomic():
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


MATCHED = "recalldesk_matched"
MATCHED_PARTIES = "recalldesk_matched_parties"

# On PostgreSQL, a first match writes the entries with their indexes dropped and builds them
# again after the insert (a sort each, instead of a B-tree descent per row) when it matches at
# least this many holdings ...
BULK_MIN_ROWS = 20_000
# ... and the table holds at most this many rows per holding matched, since a rebuild also
# sorts the rows already there (of other incidents).
BULK_EXISTING_PER_NEW = 1


def _write_ledger(run: MatchRun, scope: Scope) -> None:
    incident_id = run.incident_id
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Enough memory keeps the bitmaps of a large selection exact (a lossy one
            # rechecks every row of its pages against every term) and the sorts, index
            # builds included, in memory; compiling the expressions costs more than it saves
            # on plans driven by indexes.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
            # The commit does not wait for its WAL to reach the disk: a crash in the next
            # fraction of a second can lose this match, never half of it, and the run is
            # only marked done by a later (durable) commit, so it would show as running.
            cursor.execute("SET LOCAL synchronous_commit = off")
        run.holdings_matched = _store_selection(cursor, selection_for(scope))
        if _has_rows(cursor, LEDGER_ENTRY, incident_id):
            _update_ledger(cursor, run, now)
        else:
            _insert_ledger(cursor, run, now)
        cursor.execute(f"DROP TABLE {MATCHED}")
    run.scope_version = scope.version


def _store_selection(cursor: Any, selection: Selection) -> int:
    """Keep the selection in a temporary table, ``(id, party_id, quantity)`` in (party,
    holding) order; its row count. The holdings are read once; the ledger is written from
    this table, grouped by party (``_parties``)."""
    sql, params = selection.sql, selection.params
    if selection.is_empty:
        sql, params = f"SELECT h.id, h.party_id, h.quantity FROM {HOLDING} h WHERE false", ()
    cursor.execute(f"DROP TABLE IF EXISTS {MATCHED}")
    if connection.vendor == "postgresql":
        # CREATE TABLE AS may read the holdings with parallel workers (INSERT ... SELECT
        # may not), which also sort their shares. The planner underestimates how many rows
        # a selection of many lots returns, and with them the cost of passing them from the
        # workers; a lower cost per row passed lets it pick the parallel scan it already
        # picks for a count.
        cursor.execute("SET LOCAL parallel_tuple_cost = 0.01")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {MATCHED} (id, party_id, quantity) AS"
            f" SELECT * FROM ({sql}) s ORDER BY party_id, id",
            params,
        )
        return max(cursor.rowcount, 0)
    # Keyed by (party, holding), SQLite keeps the rows in that order.
    cursor.execute(
        f"CREATE TEMPORARY TABLE {MATCHED} (party_id INTEGER NOT NULL, id INTEGER NOT NULL,"
        " quantity INTEGER NOT NULL, PRIMARY KEY (party_id, id)) WITHOUT ROWID"
    )
    cursor.execute(f"INSERT INTO {MATCHED} (id, party_id, quantity) {sql}", params)
    return max(cursor.rowcount, 0)


def _parties() -> str:
    """The stored selection grouped by party, in party order: ``(party_id, units, holdings,
    pairs)``, ``pairs`` being the party's holdings as an entry stores them
    (``holding:units,...``), in holding order, so that the same holdings always compare
    equal.

    The rows are read in (party, holding) order, which each aggregate keeps: on PostgreSQL
    the sort only checks the stored order, on SQLite the table's key gives it.
    """
    if connection.vendor == "postgresql":
        source = f"(SELECT * FROM {MATCHED} ORDER BY party_id, id) m"
        concatenate = "string_agg"
    else:
        source, concatenate = MATCHED, "group_concat"
    return (
        "SELECT party_id, SUM(quantity) AS units, COUNT(*) AS holdings,"
        f" {concatenate}(id || ':' || quantity, ',') AS pairs"
        f" FROM {source} GROUP BY party_id ORDER BY party_id"
    )


def _insert_ledger(cursor: Any, run: MatchRun, now: Any) -> None:
    """A first match: every party is new, so the entries get one plain insert, in party
    order (the order of the ledger's unique key, which a new incident's rows extend at its
    end: the cheapest insert a B-tree has)."""
    rebuild = _drop_indexes(cursor, run.holdings_matched)
    sequence, first_id = None, None
    if rebuild:
        # No other transaction can write an entry until the commit (the table is locked
        # for the index rebuild): the entries take their ids from the sequence as one block,
        # numbered in the insert, instead of a call to the sequence per row.
        cursor.execute(
            "SELECT s, nextval(s) FROM (SELECT pg_get_serial_sequence(%s, 'id') AS s) q",
            [LEDGER_ENTRY],
        )
        sequence, first_id = cursor.fetchone()
    cursor.execute(*_insert_entries(run, now, f"FROM ({_parties()}) p", [], first_id))
    parties = max(cursor.rowcount, 0)
    if first_id is not None and parties > 1:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first_id + parties - 1])
    cursor.execute(f"SELECT COALESCE(SUM(quantity), 0) FROM {MATCHED}")
    (units,) = cursor.fetchone()
    for sql in rebuild:
        cursor.execute(sql)
    run.parties_affected = run.newly_affected = parties
    run.units_affected = int(units)
    run.no_longer_affected = run.still_affected = 0


def _insert_entries(
    run: MatchRun, now: Any, rest: str, params: list[Any], first_id: int | None = None
) -> tuple[str, list[Any]]:
    """``INSERT ... SELECT`` of affected entries, one per stored party ``p``, selected by
    ``rest`` (``FROM ...``, with ``params``); numbered from ``first_id`` in the order
    selected, if given, else by the table's sequence."""
    columns = (
        "incident_id, party_id, status, units, holdings_count, holdings, added_run_id,"
        " removed_run_id, first_affected_at, updated_at"
    )
    values = "%s, p.party_id, %s, p.units, p.holdings, p.pairs, %s, NULL, %s, %s"
    head: list[Any] = []
    if first_id is not None:
        columns, values = f"id, {columns}", f"%s - 1 + row_number() OVER (), {values}"
        head = [first_id]
    return (
        f"INSERT INTO {LEDGER_ENTRY} ({columns}) SELECT {values} {rest}",
        [*head, run.incident_id, LedgerStatus.AFFECTED, run.pk, now, now, *params],
    )


def _drop_indexes(cursor: Any, rows: int) -> list[str]:
    """Drop the entries' indexes for a first match of at least ``BULK_MIN_ROWS`` holdings
    (``rows``, which bound the entries it writes), where building them again is cheaper;
    the statements that build them again, exactly as they were (the definitions are read
    from the database). Only when the table holds at most ``rows * BULK_EXISTING_PER_NEW``
    rows.

    On PostgreSQL, keeping an index up to date costs about four times what building it after
    the inserts does; dropping an index locks its table against readers until the commit, so
    it is only done when no other transaction is using the table at that moment (``NOWAIT``);
    otherwise the indexes stay. SQLite keeps its indexes up to date about as cheaply as it
    builds them (measured on 10 M holdings), and cannot drop the unique constraints, which
    are part of the tables: it always writes row by row.
    """
    if connection.vendor != "postgresql" or rows < BULK_MIN_ROWS:
        return []
    limit = rows * BULK_EXISTING_PER_NEW
    cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {LEDGER_ENTRY} LIMIT %s) t", [limit + 1])
    if cursor.fetchone()[0] > limit or not _lock_now(cursor, LEDGER_ENTRY):
        return []
    return _drop_postgresql_indexes(cursor, LEDGER_ENTRY)


def _lock_now(cursor: Any, table: str) -> bool:
    try:
        with transaction.atomic():
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT")
    except OperationalError:
        return False
    return True


def _drop_postgresql_indexes(cursor: Any, table: str) -> list[str]:
    """Drop every index of ``table``: its primary key too, unless a foreign key uses it."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'u')"
        " AND (contype = 'u' OR NOT EXISTS"
        " (SELECT 1 FROM pg_constraint f WHERE f.confrelid = %s::regclass))"
        " ORDER BY contype, conname",
        [table, table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        " ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall()
    rebuild = []
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
        rebuild.append(definition)
    return rebuild


def _has_rows(cursor: Any, table: str, incident_id: int) -> bool:
    cursor.execute(f"SELECT 1 FROM {table} WHERE incident_id = %s LIMIT 1", [incident_id])
    return cursor.fetchone() is not None


def _update_ledger(cursor: Any, run: MatchRun, now: Any) -> None:
    """Bring the incident's entries to the match, writing only those that change; count.

    The entries are compared with the stored parties by key: an entry that stays with the
    same holdings and units is not written at all, so a rematch of an unchanged scope writes
    nothing. An entry that was removed and comes back is newly affected again, so its
    added_run moves to this run; an entry that stays keeps its added_run. Every comparison
    is a lookup by key, so no plan (the ledger's statistics can lag behind a large first
    match) compares every entry with every party.
    """
    incident_id = run.incident_id
    e = LEDGER_ENTRY
    _store_parties(cursor)
    # UPDATE ... FROM: PostgreSQL, and SQLite from 3.33 (Python 3.11 on Debian has 3.40).
    cursor.execute(
        f"UPDATE {e} SET units = p.units, holdings_count = p.holdings, holdings = p.pairs,"
        f" added_run_id = CASE WHEN {e}.status = %s THEN %s ELSE {e}.added_run_id END,"
        f" status = %s, removed_run_id = NULL, updated_at = %s FROM {MATCHED_PARTIES} p"
        f" WHERE {e}.incident_id = %s AND {e}.party_id = p.party_id"
        f" AND ({e}.status <> %s OR {e}.units <> p.units OR {e}.holdings <> p.pairs)",
        [
            LedgerStatus.REMOVED,
            run.pk,
            LedgerStatus.AFFECTED,
            now,
            incident_id,
            LedgerStatus.AFFECTED,
        ],
    )
    cursor.execute(
        *_insert_entries(
            run,
            now,
            f"FROM {MATCHED_PARTIES} p WHERE NOT EXISTS (SELECT 1 FROM {e}"
            f" WHERE {e}.incident_id = %s AND {e}.party_id = p.party_id) ORDER BY p.party_id",
            [incident_id],
        )
    )
    cursor.execute(
        f"UPDATE {e} SET status = %s, removed_run_id = %s, updated_at = %s, holdings = %s"
        f" WHERE incident_id = %s AND status = %s AND NOT EXISTS"
        f" (SELECT 1 FROM {MATCHED_PARTIES} p WHERE p.party_id = {e}.party_id)",
        [
            LedgerStatus.REMOVED,
            run.pk,
            now,
            LedgerEntry._meta.get_field("holdings").get_db_prep_value([], connection),
            incident_id,
            LedgerStatus.AFFECTED,
        ],
    )
    run.no_longer_affected = max(cursor.rowcount, 0)
    cursor.execute(
        "SELECT COUNT(*), COALESCE(SUM(units), 0),"
        " COALESCE(SUM(CASE WHEN added_run_id = %s THEN 1 ELSE 0 END), 0)"
        f" FROM {e} WHERE incident_id = %s AND status = %s",
        [run.pk, incident_id, LedgerStatus.AFFECTED],
    )
    parties, units, newly = cursor.fetchone()
    run.parties_affected = int(parties)
    run.units_affected = int(units)
    run.newly_affected = int(newly)
    run.still_affected = run.parties_affected - run.newly_affected
    cursor.execute(f"DROP TABLE {MATCHED_PARTIES}")


def _store_parties(cursor: Any) -> None:
    """Keep the match's parties (``_parties``) in a temporary table keyed by party, which a
    rematch compares the entries with, entry by entry."""
    cursor.execute(f"DROP TABLE IF EXISTS {MATCHED_PARTIES}")
    if connection.vendor == "postgresql":
        cursor.execute(f"CREATE TEMPORARY TABLE {MATCHED_PARTIES} AS {_parties()}")
        cursor.execute(f"ALTER TABLE {MATCHED_PARTIES} ADD PRIMARY KEY (party_id)")
        cursor.execute(f"ANALYZE {MATCHED_PARTIES}")
        return
    # An INTEGER PRIMARY KEY is SQLite's row id: filled in party order, it costs nothing.
    cursor.execute(
        f"CREATE TEMPORARY TABLE {MATCHED_PARTIES} (party_id INTEGER PRIMARY KEY,"
        " units INTEGER NOT NULL, holdings INTEGER NOT NULL, pairs TEXT NOT NULL)"
    )
    cursor.execute(f"INSERT INTO {MATCHED_PARTIES} (party_id, units, holdings, pairs) {_parties()}")
