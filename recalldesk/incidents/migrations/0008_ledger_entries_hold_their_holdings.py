"""Each ledger entry holds its affected holdings (``[[holding id, units], ...]``), and the
ledger holdings table, a row per affected holding, goes.

The entries are filled from the ledger holdings before the table is dropped; undone, the
table comes back filled from the entries."""

from django.db import migrations

import recalldesk.incidents.models

ENTRY = "incidents_ledgerentry"
HOLDING = "incidents_ledgerholding"


def fill_entries(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE {ENTRY} e SET holdings = g.holdings FROM (SELECT incident_id, party_id,"
            " array_agg(ARRAY[holding_id, quantity::bigint] ORDER BY holding_id) AS holdings"
            f" FROM {HOLDING} GROUP BY incident_id, party_id) g"
            " WHERE e.incident_id = g.incident_id AND e.party_id = g.party_id"
        )
        return
    mine = f"h.incident_id = {ENTRY}.incident_id AND h.party_id = {ENTRY}.party_id"
    schema_editor.execute(
        f"UPDATE {ENTRY} SET holdings = (SELECT json_group_array(json_array(holding_id,"
        f" quantity)) FROM (SELECT holding_id, quantity FROM {HOLDING} h WHERE {mine}"
        f" ORDER BY holding_id)) WHERE EXISTS (SELECT 1 FROM {HOLDING} h WHERE {mine})"
    )


def fill_ledger_holdings(apps, schema_editor) -> None:
    columns = f"INSERT INTO {HOLDING} (incident_id, holding_id, party_id, quantity)"
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"{columns} SELECT e.incident_id, e.holdings[i][1], e.party_id, e.holdings[i][2]"
            f" FROM {ENTRY} e, generate_subscripts(e.holdings, 1) i"
        )
        return
    schema_editor.execute(
        f"{columns} SELECT e.incident_id, json_extract(h.value, '$[0]'), e.party_id,"
        f" json_extract(h.value, '$[1]') FROM {ENTRY} e, json_each(e.holdings) h"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_ledger_entries_without_last_run_or_status_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="holdings",
            field=recalldesk.incidents.models.HoldingsField(default=list, editable=False),
        ),
        migrations.RunPython(fill_entries, fill_ledger_holdings),
        migrations.DeleteModel(name="LedgerHolding"),
    ]
