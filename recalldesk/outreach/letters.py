"""Letter batches: the wave's queued letters as one PDF for printing and a CSV for the
print house, then marked mailed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.outreach import choices
from recalldesk.outreach.channels import Outgoing
from recalldesk.outreach.channels.letter.pdf import letters_pdf, print_house_csv
from recalldesk.outreach.dispatch import units_text
from recalldesk.outreach.models import Delivery, Wave
from recalldesk.outreach.rendering import ack_link, compiled_for

Status = choices.DeliveryStatus


def queued_letters(wave: Wave) -> list[Outgoing]:
    rows = list(
        Delivery.objects.filter(wave=wave, channel="letter", status=Status.QUEUED)
        .select_related("party")
        .order_by("id")
    )
    incident = wave.incident
    units = units_text(incident.pk, {d.party_id for d in rows})
    out = []
    for d in rows:
        link = ack_link(incident.uuid, d.party.uuid)
        parts = compiled_for(wave.version_id, d.language, "letter").fill(
            {
                "name": d.party.name,
                "units": units.get(d.party_id, ""),
                "link": link,
                "address_block": d.address,
                "reference": incident.reference,
            }
        )
        out.append(
            Outgoing(
                delivery_id=d.pk,
                address=d.address,
                language=d.language,
                subject=parts.get("subject", ""),
                text=parts.get("text", ""),
                html=parts.get("html", ""),
                link=link,
                party_name=d.party.name,
                reference=incident.reference,
            )
        )
    return out


def letters_for(wave: Wave, kind: str) -> tuple[bytes | str, str, str]:
    letters = queued_letters(wave)
    stem = f"{wave.incident.reference}-letters"
    if kind == "csv":
        return print_house_csv(letters), "text/csv; charset=utf-8", f"{stem}.csv"
    return letters_pdf(letters, title=wave.name), "application/pdf", f"{stem}.pdf"


@transaction.atomic
def mark_mailed(user: Any, wave: Wave) -> int:
    now = timezone.now()
    count = Delivery.objects.filter(wave=wave, channel="letter", status=Status.QUEUED).update(
        status=Status.SENT, sent_at=now, handled_by=user
    )
    if count:
        record_change(
            user, wave.incident, ChangeRecord.Action.UPDATED, {"letters mailed": [0, count]}
        )
    return count
