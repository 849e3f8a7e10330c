"""The Atom feeds: valid Atom, published updates only, newest first, in the chosen language."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.utils import timezone

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests import builders
from recalldesk.public.choices import UpdateStatus
from recalldesk.public.models import PublicPage, Update, UpdateText

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
URN_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

pytestmark = pytest.mark.urls("recalldesk.public.tests.feed_urls")


def public_incident(
    user: Any, slug: str, published: bool = True, title: str = "Heater overheats"
) -> Incident:
    """An incident with its public page, published or not."""
    incident = builders.incident(user, title=title)
    PublicPage.objects.create(incident=incident, slug=slug, published=published)
    return incident


def update(
    incident: Incident,
    status: str = UpdateStatus.PUBLISHED,
    at: str = "2026-11-23T14:00:00+00:00",
    **texts: dict[str, str],
) -> Update:
    """An update published at ``at`` (drafts have no publish time), with texts per language."""
    when = dt.datetime.fromisoformat(at)
    row = Update.objects.create(
        incident=incident,
        status=status,
        next_update_at=when + dt.timedelta(days=1),
        published_at=when if status == UpdateStatus.PUBLISHED else None,
    )
    for language, fields in (texts or {"en": {"resolved": "Sales stopped."}}).items():
        UpdateText.objects.create(update=row, language=language, **fields)
    return row


def atom(response: Any) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{ATOM}entry")


def text_of(element: ET.Element, tag: str) -> str:
    found = element.find(f"{ATOM}{tag}")
    assert found is not None, f"no <{tag}> in <{element.tag}>"
    return found.text or ""


def test_the_incident_feed_is_atom_with_one_entry_per_published_update(client, coordinator):
    incident = public_incident(coordinator, "heater-2026")
    older = update(incident, at="2026-11-22T09:30:00+00:00")
    newer = update(
        incident,
        at="2026-11-23T14:00:00+00:00",
        en={
            "resolved": "Sales stopped.",
            "in_progress": "Replacing units.",
            "take_part": "Unplug it.",
        },
    )
    update(incident, status=UpdateStatus.DRAFT, en={"resolved": "Secret draft words"})
    update(incident, status=UpdateStatus.IN_REVIEW, en={"resolved": "Words under review"})

    response = client.get("/status/heater-2026/feed.atom")

    root = atom(response)
    assert root.get(XML_LANG) == "en"
    assert text_of(root, "title") == f"Heater overheats ({incident.reference})"
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert RFC3339.match(text_of(root, "updated"))
    found = entries(root)
    assert [text_of(entry, "id") for entry in found] == [
        f"urn:uuid:{newer.uuid}",
        f"urn:uuid:{older.uuid}",
    ]
    assert all(URN_UUID.match(text_of(entry, "id")) for entry in found)
    first = found[0]
    assert text_of(first, "title") == "Update 23 Nov 2026 14:00"
    updated = text_of(first, "updated")
    assert RFC3339.match(updated)
    assert dt.datetime.fromisoformat(updated) == newer.published_at
    link = first.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == f"http://127.0.0.1:8000/status/heater-2026/#update-{newer.uuid}"
    content = first.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert "<h3>What is resolved</h3><p>Sales stopped.</p>" in (content.text or "")
    assert "<p>Replacing units.</p>" in (content.text or "")
    assert "<p>Unplug it.</p>" in (content.text or "")
    assert b"Secret draft words" not in response.content
    assert b"Words under review" not in response.content


def test_the_feed_shows_the_chosen_language_and_falls_back_to_the_default(client, coordinator):
    incident = public_incident(coordinator, "heater-2026")
    update(
        incident,
        at="2026-11-23T14:00:00+00:00",
        en={"resolved": "Sales stopped."},
        de={"resolved": "Verkauf gestoppt."},
    )
    update(incident, at="2026-11-22T14:00:00+00:00", en={"resolved": "We are investigating."})

    root = atom(client.get("/status/heater-2026/feed.atom?lang=de"))

    assert root.get(XML_LANG) == "de"
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == "http://127.0.0.1:8000/status/heater-2026/feed.atom?lang=de"
    german, english = entries(root)
    assert "Verkauf gestoppt." in text_of(german, "content")
    assert "Sales stopped." not in text_of(german, "content")
    assert german.get(XML_LANG) is None
    # No German text yet: the entry falls back to the incident's default language, says so.
    assert "We are investigating." in text_of(english, "content")
    assert english.get(XML_LANG) == "en"


def test_a_language_that_is_not_a_language_tag_is_ignored(client, coordinator):
    incident = public_incident(coordinator, "heater-2026")
    update(incident)

    response = client.get("/status/heater-2026/feed.atom", {"lang": '"><script>'})

    assert atom(response).get(XML_LANG) == "en"
    assert b"<script>" not in response.content


def test_words_written_by_staff_reach_the_feed_escaped(client, coordinator):
    incident = public_incident(coordinator, "heater-2026")
    update(incident, en={"resolved": "Fixed <b>now</b>\n\nSecond & last"})

    root = atom(client.get("/status/heater-2026/feed.atom"))

    content = text_of(entries(root)[0], "content")
    assert "<p>Fixed &lt;b&gt;now&lt;/b&gt;</p>" in content
    assert "<p>Second &amp; last</p>" in content


@pytest.mark.parametrize("path", ["/status/hidden/feed.atom", "/status/nothing-here/feed.atom"])
def test_an_unpublished_or_unknown_page_has_no_feed(client, coordinator, path):
    incident = public_incident(coordinator, "hidden", published=False)
    update(incident)

    assert client.get(path).status_code == 404


def test_the_feed_of_all_incidents_has_only_published_updates_of_published_pages(
    client, coordinator
):
    shown = public_incident(coordinator, "heater-2026")
    other = public_incident(coordinator, "kettle-2026", title="Kettle leaks")
    hidden = public_incident(coordinator, "hidden", published=False, title="Not yet public")
    first = update(shown, at="2026-11-21T08:00:00+00:00")
    second = update(other, at="2026-11-23T08:00:00+00:00")
    update(shown, status=UpdateStatus.DRAFT, en={"resolved": "Secret draft words"})
    update(hidden, en={"resolved": "Not public words"})

    response = client.get("/status/feed.atom")

    root = atom(response)
    assert [text_of(entry, "id") for entry in entries(root)] == [
        f"urn:uuid:{second.uuid}",
        f"urn:uuid:{first.uuid}",
    ]
    link = entries(root)[0].find(f"{ATOM}link")
    assert link is not None
    assert link.get("href", "").startswith("http://127.0.0.1:8000/status/kettle-2026/#update-")
    assert b"Secret draft words" not in response.content
    assert b"Not public words" not in response.content
    assert b"hidden" not in response.content


def test_an_empty_feed_is_still_valid_atom(client, coordinator):
    public_incident(coordinator, "heater-2026")

    root = atom(client.get("/status/heater-2026/feed.atom"))

    assert entries(root) == []
    assert RFC3339.match(text_of(root, "updated"))


def test_feed_times_are_exact_whatever_the_site_time_zone(client, coordinator, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    incident = public_incident(coordinator, "heater-2026")
    row = update(incident, at="2026-11-23T14:00:00+00:00")

    entry = entries(atom(client.get("/status/heater-2026/feed.atom")))[0]

    # The title is for people (local time), <updated> for machines (an exact instant).
    assert text_of(entry, "title") == "Update 23 Nov 2026 15:00"
    assert dt.datetime.fromisoformat(text_of(entry, "updated")) == row.published_at
    assert timezone.is_aware(dt.datetime.fromisoformat(text_of(entry, "updated")))


def test_the_feeds_read_a_fixed_number_of_queries(client, coordinator, django_assert_num_queries):
    for slug in ("heater-2026", "kettle-2026"):
        incident = public_incident(coordinator, slug)
        for day in range(1, 6):
            update(incident, at=f"2026-11-0{day}T08:00:00+00:00", de={"resolved": "Gut."})

    # The page; the updates with their incidents and pages; their texts.
    with django_assert_num_queries(3):
        assert len(entries(atom(client.get("/status/heater-2026/feed.atom")))) == 5
    with django_assert_num_queries(2):
        assert len(entries(atom(client.get("/status/feed.atom")))) == 10


def test_an_entry_carries_its_words_once_in_content(client, coordinator):
    update(public_incident(coordinator, "heater-2026"))

    entry = entries(atom(client.get("/status/heater-2026/feed.atom")))[0]

    assert entry.find(f"{ATOM}summary") is None
    assert [child.tag for child in entry].count(f"{ATOM}content") == 1
