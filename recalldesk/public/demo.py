"""The demo's crisis site: the page published with an update, actions and FAQ entries."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from recalldesk.incidents.models import Incident
from recalldesk.public import actions
from recalldesk.public.models import Action, FaqEntry

FAQ = {
    "en": [
        (
            "How do I know if my heater is affected?",
            "Enter the lot code or serial number from the label under the base in the box above.",
        ),
        (
            "Is it safe to keep using the heater until the replacement arrives?",
            "No. Unplug it now: the thermostat can fail without warning.",
        ),
    ],
    "de": [
        (
            "Woran erkenne ich, ob mein Gerät betroffen ist?",
            "Geben Sie oben die Chargen- oder Seriennummer vom Typenschild unter dem Sockel ein.",
        ),
    ],
}


def build_public_demo(incident: Incident) -> None:
    users = {u.username: u for u in get_user_model().objects.all()}
    coordinator, approver = users["coordinator"], users["approver"]
    page = actions.page_for(incident)
    actions.do_save_page(
        coordinator,
        page,
        published=True,
        phone="0800 555 0150",
        email="recall@hearthwell.example",
        cadence=actions.DEFAULT_CADENCE,
    )
    for language, entries in FAQ.items():
        for order, (question, answer) in enumerate(entries):
            FaqEntry.objects.create(
                incident=incident, language=language, question=question, answer=answer, order=order
            )
    today = timezone.localdate()
    Action.objects.create(
        incident=incident,
        kind="root_cause",
        title="Thermostat contacts weld under sustained load",
        description="A supplier changed the contact alloy in lots made from last spring.",
        due_on=today - dt.timedelta(days=2),
        closed_on=today - dt.timedelta(days=1),
        published=True,
    )
    Action.objects.create(
        incident=incident,
        kind="corrective",
        title="New thermostat with a thermal fuse in every replacement heater",
        due_on=today + dt.timedelta(days=10),
        published=True,
    )
    update = actions.do_write_update(
        coordinator,
        incident,
        {
            "en": {
                "resolved": "We have identified the cause: a thermostat part from one supplier.",
                "in_progress": "Replacement heaters are being built; the first ship next week.",
                "take_part": "Check your heater above and register it to get your replacement.",
            },
            "de": {
                "resolved": "Die Ursache ist gefunden: ein Thermostatteil eines Zulieferers.",
                "in_progress": "Ersatzgeräte werden gebaut; die ersten gehen nächste Woche raus.",
                "take_part": "Prüfen Sie Ihr Gerät oben und registrieren Sie es für den Ersatz.",
            },
        },
        timezone.now() + dt.timedelta(hours=24),
    )
    actions.do_submit_update(coordinator, update)
    actions.do_publish_update(approver, update)
