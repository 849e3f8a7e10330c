"""Ledger entries lose ``last_run`` (a rematch now finds the removed entries by key) and the
(incident, status) index.

Undone, ``last_run`` comes back filled, since the code before this migration finds removed
entries by it: an affected entry was affected in its incident's latest finished match."""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill_last_run(apps, schema_editor) -> None:
    LedgerEntry = apps.get_model("incidents", "LedgerEntry")
    MatchRun = apps.get_model("incidents", "MatchRun")
    latest = (
        MatchRun.objects.filter(incident=OuterRef("incident"), status="done")
        .order_by("-pk")
        .values("pk")[:1]
    )
    LedgerEntry.objects.filter(status="affected").update(
        last_run=Coalesce(Subquery(latest), F("added_run"))
    )
    LedgerEntry.objects.exclude(status="affected").update(last_run=F("added_run"))


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_ledger_holding_keyed_by_incident_and_holding"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="ledgerentry",
            name="incidents_l_inciden_5afe05_idx",
        ),
        # Runs when the migration is undone, after last_run is added back.
        migrations.RunPython(migrations.RunPython.noop, fill_last_run),
        migrations.RemoveField(
            model_name="ledgerentry",
            name="last_run",
        ),
    ]
