"""A ledger entry's holdings become text, ``holding:units`` pairs joined by commas, on every
database: a 2-D ``bigint`` array on PostgreSQL and JSON on SQLite before.

``{{1041,2},{1187,1}}`` and ``[[1041,2],[1187,1]]`` both become ``1041:2,1187:1``, and an
empty list an empty string; undone, they go back. Both old forms were written compactly (by
the database, or by the field), so the conversion is a few string replacements. A database
migrated from before 0008 with this code gets a text column from 0008 already (the field's
type now), holding the array's text form, which converts the same way."""

from django.db import migrations

ENTRY = "incidents_ledgerentry"


def to_text(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {ENTRY} ALTER COLUMN holdings TYPE text USING btrim(replace(replace("
            "replace(holdings::text, '},{', ';'), ',', ':'), ';', ','), '{}')"
        )
        return
    schema_editor.execute(
        f"UPDATE {ENTRY} SET holdings = trim(replace(replace(replace(holdings, '],[', ';'),"
        " ',', ':'), ';', ','), '[]')"
    )


def pairs_between(opening: str, closing: str) -> str:
    """SQL turning ``1041:2,1187:1`` into ``1041,2<closing>,<opening>1187,1``."""
    return f"replace(replace(holdings, ',', '{closing},{opening}'), ':', ',')"


def from_text(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        pairs = pairs_between("{", "}")
        schema_editor.execute(
            f"ALTER TABLE {ENTRY} ALTER COLUMN holdings TYPE bigint[] USING (CASE WHEN"
            f" holdings = '' THEN '{{}}' ELSE '{{{{' || {pairs} || '}}}}' END)::bigint[]"
        )
        return
    schema_editor.execute(
        f"UPDATE {ENTRY} SET holdings = CASE WHEN holdings = '' THEN '[]'"
        f" ELSE '[[' || {pairs_between('[', ']')} || ']]' END"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0008_ledger_entries_hold_their_holdings"),
    ]

    operations = [migrations.RunPython(to_text, from_text)]
