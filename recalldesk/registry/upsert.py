"""Writing checked rows: a set-based upsert per batch (``INSERT ... ON CONFLICT`` on SQLite,
COPY and one ``INSERT ... SELECT`` on PostgreSQL) that skips unchanged rows and counts what it
did, then the consignees' contacts and, once every row is written, their parents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import F
from django.utils import timezone

from recalldesk.registry.checking import Context
from recalldesk.registry.choices import PartyRole
from recalldesk.registry.cleaning import Problem
from recalldesk.registry.columns import KEYS, TARGETS, Target
from recalldesk.registry.models import ConsigneeContact, ImportRun, Party


@dataclass
class ImportOutcome:
    """What an import did: rows created, updated and unchanged, or the problems that stopped it."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    run: ImportRun | None = None


def write_batch(
    ctx: Context, rows: list[tuple[Any, ...]], tally: ImportOutcome
) -> list[tuple[str, str]]:
    """Upsert one batch of checked rows; returns the consignee parent links to set afterwards.

    The existing rows of the batch are read in one query and compared field by field, so
    unchanged rows are not written at all and the counts say exactly what happened.
    """
    target = TARGETS[ctx.kind]
    key = KEYS[ctx.kind]
    fields = ctx.write_fields
    items = [dict(zip(ctx.out_fields, row, strict=True)) for row in rows]
    extra = {"_parent": F("parent__external_id")} if "_parent" in ctx.out_fields else {}
    existing = {
        old[key]: old
        for old in target.model._default_manager.filter(
            **target.fixed, **{f"{key}__in": [item[key] for item in items]}
        ).values(key, *fields, **extra)
    }
    contacts = _existing_contacts(existing) if "_contact" in ctx.out_fields else {}
    to_write: list[dict[str, Any]] = []
    new_contacts: list[tuple[str, tuple[str, str, str, str]]] = []
    parent_links: list[tuple[str, str]] = []
    for item in items:
        parent = item.pop("_parent", None)
        contact = item.pop("_contact", None)
        old = existing.get(item[key])
        if old is None:
            tally.created += 1
            to_write.append(item)
            changed = True
        else:
            changed = any(old[name] != item[name] for name in fields)
            if changed:
                to_write.append(item)
        if parent is not None and ((old or {}).get("_parent") or "") != parent:
            parent_links.append((item[key], parent))
            changed = True
        if contact and contacts.get((item[key], contact[2], contact[3])) != contact[:2]:
            new_contacts.append((item[key], contact))
            changed = True
        if old is not None:
            if changed:
                tally.updated += 1
            else:
                tally.unchanged += 1
    if to_write:
        upsert(target, to_write, fields)
    if new_contacts:
        _write_contacts(new_contacts)
    return parent_links


def upsert(target: Target, items: list[dict[str, Any]], fields: list[str]) -> None:
    """Write new and changed rows with one ``INSERT ... ON CONFLICT DO UPDATE`` per batch.

    A changed row keeps every field this import does not carry, and a new row gets the
    model's defaults for them. Plain SQL, because ``bulk_create`` spends most of an import
    compiling each value and, on SQLite, holds a statement to 999 parameters (40 holdings).
    """
    meta = target.model._meta
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    given = items[0].keys()  # every row of a batch carries the same fields
    model_fields = [f for f in meta.concrete_fields if not f.primary_key]
    # A template row holds the values every row shares; only the rest is filled per row.
    template: list[Any] = []
    fill: list[tuple[int, str, Callable[[Any], Any] | None]] = []
    fresh: list[tuple[int, Any, Callable[[Any], Any]]] = []
    for position, model_field in enumerate(model_fields):
        convert = _db_value(model_field)
        name = model_field.attname
        template.append(None)
        if name in ("created_at", "updated_at"):
            template[position] = now
        elif name in target.fixed:
            template[position] = convert(target.fixed[name])
        elif name in given:
            fill.append((position, name, None if convert is _same else convert))
        elif callable(model_field.default):
            fresh.append((position, model_field, convert))
        else:
            template[position] = convert(model_field.get_default())
    rows = []
    for item in items:
        row = template.copy()
        for position, name, to_db in fill:
            value = item[name]
            row[position] = value if to_db is None else to_db(value)
        for position, model_field, make in fresh:
            row[position] = make(model_field.get_default())
        rows.append(row)
    quote = ops.quote_name

    def column(name: str) -> str:
        return quote(str(getattr(meta.get_field(name), "column", name)))

    columns = [quote(str(f.column)) for f in model_fields]
    unique = [column(name) for name in target.unique]
    updates = [column(name) for name in [*fields, "updated_at"]]
    insert = f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) VALUES "
    one_row = f"({', '.join(['%s'] * len(columns))})"
    on_conflict = f" ON CONFLICT ({', '.join(unique)}) DO UPDATE SET " + ", ".join(
        f"{name} = EXCLUDED.{name}" for name in updates
    )
    if connection.vendor == "postgresql":
        _upsert_postgresql(quote(meta.db_table), columns, rows, on_conflict)
        return
    with connection.cursor() as cursor:
        # One prepared statement that SQLite runs for every row, in C.
        cursor.executemany(insert + one_row + on_conflict, rows)


def _upsert_postgresql(
    table: str, columns: list[str], rows: list[list[Any]], on_conflict: str
) -> None:
    """COPY the batch into a temporary table, then upsert it all with one INSERT ... SELECT.

    A statement per row costs PostgreSQL a round trip and an executor start each; COPY and
    one set-based statement are some ten times faster.
    """
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE import_batch AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY import_batch ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM import_batch{on_conflict}"
        )
        cursor.execute("DROP TABLE import_batch")


def _same(value: Any) -> Any:
    return value


def _db_value(model_field: Any) -> Callable[[Any], Any]:
    """How a cleaned value of ``model_field`` goes to the database driver."""
    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        return connection.ops.adapt_datefield_value
    if isinstance(model_field, models.JSONField):
        return lambda value: connection.ops.adapt_json_value(value, model_field.encoder)
    if isinstance(model_field, models.UUIDField | models.FileField | models.DateTimeField):
        return lambda value: model_field.get_db_prep_save(value, connection)
    return _same


def _existing_contacts(existing: dict[str, Any]) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``(party external id, email, phone) -> (name, role)`` of the batch's known contacts."""
    if not existing:
        return {}
    rows = ConsigneeContact.objects.filter(
        party__role=PartyRole.CONSIGNEE, party__external_id__in=list(existing)
    ).values_list("party__external_id", "email", "phone", "name", "role")
    return {(ext, email, phone): (name, role) for ext, email, phone, name, role in rows}


def _write_contacts(contacts: list[tuple[str, tuple[str, str, str, str]]]) -> None:
    ids = dict(
        Party.objects.consignees()
        .filter(external_id__in=[ext for ext, _ in contacts])
        .values_list("external_id", "id")
    )
    ConsigneeContact.objects.bulk_create(
        [
            ConsigneeContact(party_id=ids[ext], name=name, role=role, email=email, phone=phone)
            for ext, (name, role, email, phone) in contacts
        ],
        update_conflicts=True,
        unique_fields=["party", "email", "phone"],
        update_fields=["name", "role"],
    )


def set_parents(links: list[tuple[str, str]]) -> None:
    """Link consignees to their parents once every row is written (a parent may be new)."""
    wanted = sorted({name for link in links for name in link if name})
    ids: dict[str, int] = {}
    for start in range(0, len(wanted), 5_000):
        ids.update(
            Party.objects.consignees()
            .filter(external_id__in=wanted[start : start + 5_000])
            .values_list("external_id", "id")
        )
    now = timezone.now()
    Party.objects.bulk_update(
        [
            Party(id=ids[child], parent_id=ids[parent] if parent else None, updated_at=now)
            for child, parent in links
        ],
        ["parent", "updated_at"],
        batch_size=500,
    )
