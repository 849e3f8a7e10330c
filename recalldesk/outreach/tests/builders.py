"""Builders for outreach tests: an incident with a matched ledger and a message."""

from __future__ import annotations

from typing import Any

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests import builders as b
from recalldesk.outreach import actions, choices
from recalldesk.outreach.models import Message, MessageVersion

CLEAN_EN = {
    "headline": "Product safety recall: Northwind 2000 W fan heater",
    "product": "Northwind fan heater model NH-2000, white, sold from March to June 2026.",
    "identification": "Lot code L1230 to L1235, printed on the label under the base.",
    "hazard": "The heater can overheat and catch fire, which can cause serious burns.",
    "instructions": "Stop using the heater now, unplug it and keep it away from children.",
    "remedy": "We give you a full refund or a free replacement heater, your choice.",
    "contact": "Call 0800 123 456 (8am to 8pm, every day) or write to safety@example.com.",
    "sms": "Safety recall: stop using your NH-2000 heater, fire risk.",
}
CLEAN_DE = {
    "headline": "Produktsicherheitsrückruf: Heizlüfter Northwind 2000 W",
    "product": "Northwind Heizlüfter Modell NH-2000, weiß, verkauft von März bis Juni 2026.",
    "identification": "Chargen L1230 bis L1235, auf dem Etikett unter dem Sockel.",
    "hazard": "Das Gerät kann überhitzen und Feuer fangen; schwere Verbrennungen sind möglich.",
    "instructions": "Benutzen Sie das Gerät nicht mehr, ziehen Sie den Stecker.",
    "remedy": "Sie erhalten den vollen Kaufpreis zurück oder ein kostenloses Ersatzgerät.",
    "contact": "Rufen Sie 0800 123 456 an oder schreiben Sie an safety@example.com.",
    "sms": "Sicherheitsrückruf: NH-2000 nicht mehr benutzen, Brandgefahr.",
}


def recall_with_ledger(user: Any, parties: list[dict[str, Any]]) -> Incident:
    """A recall whose scope is lot L1230 and whose ledger holds one unit per party."""
    item = b.product("NH-2000", name="Northwind fan heater")
    incident = b.incident(user)
    for fields in parties:
        owner = b.party(fields.pop("name"), **fields)
        b.holding(owner, item, lot="L1230")
    b.save_and_match(user, incident, products=[item], lots=["L1230"])
    incident.refresh_from_db()
    return incident


def message(
    author: Any,
    incident: Incident,
    sheets: dict[str, dict[str, str]] | None = None,
    audience: str = "consumer",
) -> Message:
    return actions.do_create_message(
        author,
        incident,
        name="Consumer notice",
        audience=audience,
        sheets=sheets or {"en": CLEAN_EN},
    )


def draft(author: Any, incident: Incident, **kwargs: Any) -> MessageVersion:
    version = message(author, incident, **kwargs).latest()
    assert version is not None
    return version


def approved(author: Any, approver: Any, incident: Incident, **kwargs: Any) -> MessageVersion:
    created = message(author, incident, **kwargs)
    version = created.latest()
    assert version is not None
    actions.do_submit(author, version)
    version = actions.do_approve(approver, version)
    assert version.status == choices.VersionStatus.APPROVED
    return version
