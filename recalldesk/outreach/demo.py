"""The demo's outreach: a policy, an approved notice in four languages, a consignee letter,
and two waves under way, so the console shows outreach as a recall team would see it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count

from recalldesk.incidents.models import Incident
from recalldesk.outreach import actions, waves
from recalldesk.outreach.models import Wave

CONSUMER = {
    "en": {
        "headline": "Product safety recall: Hearthwell HT-1500 and HT-2000 heaters",
        "product": "Hearthwell HT-1500 fan heater and HT-2000 tower heater, sold in white and "
        "grey from last winter onwards.",
        "identification": "The lot code (for example L2503A2) and the serial number (SN-...) "
        "are printed on the rating label under the base.",
        "hazard": "The thermostat can fail and the heater can overheat, which can start a fire "
        "and cause burns. We have 41 reports of overheating, including 6 fires.",
        "instructions": "Stop using the heater now. Unplug it and let it cool. Do not give it "
        "away or sell it.",
        "remedy": "You get a free replacement heater or a full refund of the price you paid, "
        "your choice. We collect the old heater free of charge.",
        "contact": "Call 0800 555 0150 (8am to 8pm, every day) or write to "
        "recall@hearthwell.example.",
        "sms": "Safety recall: stop using your Hearthwell heater, fire risk. Free replacement.",
    },
    "de": {
        "headline": "Produktsicherheitsrückruf: Heizgeräte Hearthwell HT-1500 und HT-2000",
        "product": "Hearthwell Heizlüfter HT-1500 und Turmheizer HT-2000, weiß und grau.",
        "identification": "Chargennummer (z. B. L2503A2) und Seriennummer (SN-...) stehen auf "
        "dem Typenschild unter dem Sockel.",
        "hazard": "Der Thermostat kann ausfallen und das Gerät überhitzen; das kann einen Brand "
        "und Verbrennungen verursachen. Uns liegen 41 Berichte vor, darunter 6 Brände.",
        "instructions": "Benutzen Sie das Gerät nicht mehr. Ziehen Sie den Stecker und lassen "
        "Sie es abkühlen. Geben Sie es nicht weiter.",
        "remedy": "Sie erhalten kostenlos ein Ersatzgerät oder den vollen Kaufpreis zurück. "
        "Wir holen das alte Gerät kostenlos ab.",
        "contact": "Rufen Sie 0800 555 0150 an (täglich 8 bis 20 Uhr) oder schreiben Sie an "
        "recall@hearthwell.example.",
        "sms": "Sicherheitsrückruf: Hearthwell-Heizgerät nicht mehr benutzen, Brandgefahr.",
    },
    "fr": {
        "headline": "Rappel de sécurité : radiateurs Hearthwell HT-1500 et HT-2000",
        "product": "Radiateur soufflant Hearthwell HT-1500 et radiateur colonne HT-2000, blancs "
        "et gris.",
        "identification": "Le numéro de lot (par exemple L2503A2) et le numéro de série (SN-...) "
        "figurent sur l'étiquette sous le socle.",
        "hazard": "Le thermostat peut tomber en panne et l'appareil surchauffer, ce qui peut "
        "provoquer un incendie et des brûlures. 41 cas signalés, dont 6 incendies.",
        "instructions": "Cessez immédiatement d'utiliser l'appareil. Débranchez-le et laissez-le "
        "refroidir. Ne le donnez pas et ne le revendez pas.",
        "remedy": "Vous recevez gratuitement un appareil de remplacement ou le remboursement "
        "intégral, au choix. Nous reprenons l'ancien gratuitement.",
        "contact": "Appelez le 0800 555 0150 (tous les jours de 8 h à 20 h) ou écrivez à "
        "recall@hearthwell.example.",
        "sms": "Rappel de sécurité : n'utilisez plus votre radiateur Hearthwell, "
        "risque d'incendie.",
    },
    "es": {
        "headline": "Retirada de producto por motivos de seguridad: calefactores Hearthwell",
        "product": "Calefactor Hearthwell HT-1500 y calefactor de torre HT-2000, blancos y grises.",
        "identification": "El número de lote (por ejemplo L2503A2) y el número de serie (SN-...) "
        "están en la etiqueta debajo de la base.",
        "hazard": "El termostato puede fallar y el aparato sobrecalentarse, lo que puede causar "
        "un incendio y quemaduras. Tenemos 41 informes, con 6 incendios.",
        "instructions": "Deje de usar el aparato ahora. Desenchúfelo y deje que se enfríe. No lo "
        "regale ni lo venda.",
        "remedy": "Recibe gratis un aparato de sustitución o el reembolso completo del precio "
        "pagado. Recogemos el aparato viejo sin coste.",
        "contact": "Llame al 0800 555 0150 (todos los días de 8 a 20 h) o escriba a "
        "recall@hearthwell.example.",
        "sms": "Retirada de seguridad: deje de usar su calefactor Hearthwell, riesgo de incendio.",
    },
}

CONSIGNEE = {
    "en": {
        **CONSUMER["en"],
        "instructions": "Stop selling and distributing these heaters now. Quarantine your stock, "
        "tell your own customers who bought them, and report your quantities through the link.",
        "remedy": "We credit every returned or destroyed unit at its invoice price and collect "
        "your stock free of charge.",
        "sms": "Safety recall: stop selling Hearthwell HT-1500/HT-2000 heaters now.",
    }
}


def build_outreach_demo(incident: Incident) -> list[Wave]:
    """Approve the notices and launch a consignee wave and a consumer wave for one region."""
    users = {u.username: u for u in get_user_model().objects.all()}
    coordinator, approver = users["coordinator"], users["approver"]
    actions.do_save_policy(
        coordinator,
        actions.policy_for(incident),
        regimes=["cpsc", "eu_gpsr"],
        languages=["de", "fr", "es"],
        escalation=[
            {"after_days": 3, "channel": "sms"},
            {"after_days": 7, "channel": "phone"},
            {"after_days": 14, "channel": "letter"},
        ],
    )
    launched = []
    for name, audience, sheets, channels in [
        ("Consignee notice", "consignee", CONSIGNEE, ["email", "letter"]),
        ("Consumer notice", "consumer", CONSUMER, ["email", "sms", "phone", "letter"]),
    ]:
        message = actions.do_create_message(
            coordinator, incident, name=name, audience=audience, sheets=sheets
        )
        version = message.latest()
        assert version is not None
        actions.do_submit(coordinator, version)
        reason = "Demo: the consignee letter is English only." if audience == "consignee" else ""
        version = actions.do_approve(approver, version, reason)
        segment: dict[str, Any] = {}
        if audience == "consumer":
            segment = {"regions": [_small_region(incident)]}
        if not waves.count_segment(incident, audience, segment):
            continue  # a demo small enough to have nobody of this audience in the ledger
        launched.append(
            waves.do_launch_wave(
                coordinator,
                incident,
                version,
                channels=channels,
                segment=segment,
                name=f"{name}: first wave",
                respect_quiet_hours=False,
            )
        )
    return launched


def _small_region(incident: Incident) -> str:
    """A region with a few hundred affected consumers: enough to watch, quick to send."""
    regions = (
        incident.ledger.filter(party__role="consumer", status="affected")
        .exclude(party__region="")
        .values("party__region")
        .annotate(n=Count("id"))
        .order_by("n")
    )
    for row in regions:
        if row["n"] >= 200:
            return str(row["party__region"])
    last = regions.last()
    return str(last["party__region"]) if last else ""
