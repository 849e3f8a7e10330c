"""Phone call lists: the agent's script in the party's language."""

from __future__ import annotations

from types import SimpleNamespace

from django.template.loader import select_template

from recalldesk.outreach.channels import CHANNELS

SHEET = {
    "headline": "Kettle lids may open & scald",
    "product": "Northwind K2 electric kettle",
    "identification": "Model K2-1700",
    "hazard": "The lid can open while pouring.",
    "instructions": "Stop using the kettle now.",
    "remedy": "A replacement lid, free of charge.",
    "contact": "0800 123 456",
    "sms": "",
}


def script(language: str, audience: str) -> str:
    template = select_template(
        [f"outreach/phone/script.{language}.txt", "outreach/phone/script.txt"]
    )
    return template.render(
        {
            "sheet": SHEET,
            "incident": SimpleNamespace(reference="RC-2026-0001", title="Kettle", kind="recall"),
            "audience": audience,
            "company": "Northwind Home Products",
            "language": language,
            "name": "Jörg Müller",
            "units": "K2-1700 serial 000123",
            "link": "https://recall.example.com/a/abc",
        }
    )


def test_the_phone_channel_is_a_call_list_for_agents_without_a_transport() -> None:
    spec = CHANNELS["phone"]
    assert spec.contact == "phone"
    assert not spec.automatic
    assert spec.transport is None
    assert "html" not in spec.templates


def test_the_script_walks_the_agent_through_the_call_in_english() -> None:
    text = script("en", "consumer")

    assert text.startswith("Hello, this is [your name] calling from Northwind Home Products")
    assert "Am I speaking with Jörg Müller?" in text
    # Text, not HTML: the fact sheet's ampersand stays as typed.
    assert "Kettle lids may open & scald" in text
    assert "K2-1700 serial 000123" in text
    assert "in your own words" in text
    assert "by text message or email" in text
    assert "https://recall.example.com/a/abc" in text


def test_the_german_script_asks_a_consignee_to_stop_selling_and_report() -> None:
    text = script("de", "consignee")

    assert text.startswith("Guten Tag, hier ist [Ihr Name] von Northwind Home Products.")
    assert "Spreche ich mit Jörg Müller?" in text
    assert "Ihr Unternehmen Produkte erhalten hat" in text
    assert "stellen Sie Verkauf und Vertrieb dieser Produkte sofort ein" in text
    assert "Ihre Mengen melden" in text
