"""Index the ledger by incident only: every read of it is of one incident.

Drops the single-column indexes on a ledger entry's party and a ledger holding's holding
(the unique constraints already index both, incident first), and replaces the ledger
holdings' (party, incident) index with (incident, party, quantity), from which a match
reads its sums per party without sorting. The two foreign keys lose their index with a
plain ``DROP INDEX`` (the same name on SQLite and PostgreSQL) rather than the copy of the
whole table SQLite's schema editor makes to alter a field.
"""

import django.db.models.deletion
from django.db import migrations, models

ENTRY_PARTY = "incidents_ledgerentry_party_id_7f0b655a"
HOLDING_HOLDING = "incidents_ledgerholding_holding_id_025d97f8"


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_ledgerentry_corrected_at_ledgerentry_units_corrected"),
        ("registry", "0004_party_webhook_url"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="ledgerholding",
            name="incidents_l_party_i_3e74df_idx",
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX "{ENTRY_PARTY}"',
                    f'CREATE INDEX "{ENTRY_PARTY}" ON "incidents_ledgerentry" ("party_id")',
                ),
                migrations.RunSQL(
                    f'DROP INDEX "{HOLDING_HOLDING}"',
                    f'CREATE INDEX "{HOLDING_HOLDING}"'
                    ' ON "incidents_ledgerholding" ("holding_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="party",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ledger_entries",
                        to="registry.party",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerholding",
                    name="holding",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.holding",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="ledgerholding",
            index=models.Index(
                fields=["incident", "party", "quantity"], name="incidents_l_inciden_2a38b1_idx"
            ),
        ),
    ]
