"""The public API: published incidents only, published updates only, nothing personal,
lookups that answer and refuse malformed input plainly, and no credentials needed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests import builders
from recalldesk.public import views
from recalldesk.public.choices import ActionKind, UpdateStatus
from recalldesk.public.models import Action, LookupCount
from recalldesk.public.tests.test_feeds import public_incident, update

pytestmark = pytest.mark.urls("recalldesk.public.tests.api_urls")

BASE = "/api/public"


@pytest.fixture(autouse=True)
def fresh_counters():
    """Rate limits count in the cache and lookup counts wait in memory, both outliving a
    test; a test's rolled-back incident ids are reused by the next one."""
    cache.clear()
    with views._counts_lock:
        views._counts.clear()
    yield
    cache.clear()


def heater_recall(user: Any, slug: str = "heater-2026", published: bool = True) -> Incident:
    """A published recall of one heater bought by Jane Doe, with its ledger built."""
    incident = public_incident(user, slug, published=published)
    heater = builders.product("HT-100", gtin="04012345000016", name="Room heater")
    heater.brand = "Hearthwell"
    heater.save(update_fields=["brand"])
    jane = builders.party("Jane Doe", email="jane@example.com", postcode="10115")
    builders.holding(jane, heater, lot="L2026-11", serial="HT0001234")
    builders.save_and_match(user, incident, products=[heater], lots=["L2026-11"])
    return incident


def test_it_lists_only_published_incidents(client, coordinator):
    shown = public_incident(coordinator, "heater-2026")
    shown.hazard = "Can overheat and catch fire."
    shown.announced_at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    shown.save(update_fields=["hazard", "announced_at"])
    public_incident(coordinator, "hidden", published=False, title="Not yet public")

    response = client.get(f"{BASE}/incidents")

    assert response.status_code == 200
    assert response.json() == [
        {
            "reference": shown.reference,
            "slug": "heater-2026",
            "kind": "recall",
            "title": "Heater overheats",
            "status": "draft",
            "hazard": "Can overheat and catch fire.",
            "announced_at": "2026-11-20T09:00:00Z",
            "page_url": "http://127.0.0.1:8000/status/heater-2026/",
            "feed_url": "http://127.0.0.1:8000/status/heater-2026/feed.atom",
        }
    ]


def test_it_shows_an_incident_with_its_products_and_published_actions_only(client, coordinator):
    incident = heater_recall(coordinator)
    Action.objects.create(
        incident=incident,
        kind=ActionKind.ROOT_CAUSE,
        title="Faulty thermostat",
        findings="A supplier changed the part.",
        due_on=dt.date(2026, 12, 1),
        published=True,
    )
    Action.objects.create(
        incident=incident, kind=ActionKind.AUDIT, title="Internal draft audit", published=False
    )

    response = client.get(f"{BASE}/incidents/heater-2026")

    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == incident.reference
    assert body["default_language"] == "en"
    assert body["products"] == [
        {"name": "Room heater", "brand": "Hearthwell", "gtin": "04012345000016", "sku": "HT-100"}
    ]
    assert body["actions"] == [
        {
            "kind": "root_cause",
            "title": "Faulty thermostat",
            "description": "",
            "findings": "A supplier changed the part.",
            "due_on": "2026-12-01",
            "closed_on": None,
        }
    ]
    # The ledger behind the incident stays out of the public API.
    assert b"Jane" not in response.content
    assert b"jane@example.com" not in response.content
    assert b"10115" not in response.content


def test_it_lists_published_updates_with_their_texts_and_never_drafts(client, coordinator):
    incident = public_incident(coordinator, "heater-2026")
    older = update(incident, at="2026-11-22T09:30:00+00:00")
    newer = update(
        incident,
        at="2026-11-23T14:00:00+00:00",
        en={"resolved": "Sales stopped.", "take_part": "Unplug it."},
        de={"resolved": "Verkauf gestoppt."},
    )
    update(incident, status=UpdateStatus.DRAFT, en={"resolved": "Secret draft words"})
    update(incident, status=UpdateStatus.IN_REVIEW, en={"resolved": "Words under review"})

    response = client.get(f"{BASE}/incidents/heater-2026/updates")

    assert response.status_code == 200
    body = response.json()
    assert [item["uuid"] for item in body] == [str(newer.uuid), str(older.uuid)]
    assert body[0]["published_at"] == "2026-11-23T14:00:00Z"
    assert body[0]["next_update_at"] == "2026-11-24T14:00:00Z"
    assert body[0]["texts"] == {
        "en": {"resolved": "Sales stopped.", "in_progress": "", "take_part": "Unplug it."},
        "de": {"resolved": "Verkauf gestoppt.", "in_progress": "", "take_part": ""},
    }
    assert b"Secret draft words" not in response.content
    assert b"Words under review" not in response.content


@pytest.mark.parametrize("slug", ["hidden", "nothing-here"])
@pytest.mark.parametrize("tail", ["", "/updates", "/lookup?gtin=04012345000016&lot=L2026-11"])
def test_an_unpublished_or_unknown_incident_is_not_found(client, coordinator, slug, tail):
    incident = public_incident(coordinator, "hidden", published=False)
    update(incident, en={"resolved": "Not public words"})

    response = client.get(f"{BASE}/incidents/{slug}{tail}")

    assert response.status_code == 404
    assert b"Not public words" not in response.content


def test_the_openapi_schema_lists_the_four_operations_without_credentials(client):
    response = client.get(f"{BASE}/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert sorted(paths) == [
        f"{BASE}/incidents",
        f"{BASE}/incidents/{{slug}}",
        f"{BASE}/incidents/{{slug}}/lookup",
        f"{BASE}/incidents/{{slug}}/updates",
    ]
    for operations in paths.values():
        assert list(operations) == ["get"]
        assert "security" not in operations["get"]
    lookup_params = {
        p["name"] for p in paths[f"{BASE}/incidents/{{slug}}/lookup"]["get"]["parameters"]
    }
    assert lookup_params == {"slug", "code", "gtin", "lot", "serial", "account", "postcode"}


def test_a_lookup_with_nothing_to_look_up_is_refused_plainly(client, coordinator):
    public_incident(coordinator, "heater-2026")

    response = client.get(f"{BASE}/incidents/heater-2026/lookup", {"lot": "   "})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Enter the barcode, the lot code or serial number, or your account number or "
        "postcode."
    }


def test_a_lookup_says_whether_a_unit_is_affected(client, coordinator):
    heater_recall(coordinator)

    affected = client.get(
        f"{BASE}/incidents/heater-2026/lookup", {"gtin": "04012345000016", "lot": "L2026-11"}
    )
    spared = client.get(
        f"{BASE}/incidents/heater-2026/lookup", {"gtin": "4012345000016", "lot": "L2025-01"}
    )

    assert affected.status_code == 200
    assert affected.json() == {
        "outcome": "affected",
        "reason": "Lot L2026-11 of Room heater is part of this recall. "
        "Stop using it and follow the instructions on this page.",
        "product": "Room heater",
    }
    assert spared.status_code == 200
    assert spared.json()["outcome"] == "not_affected"
    assert spared.json()["product"] == "Room heater"
    assert b"Jane" not in affected.content + spared.content


def test_a_malformed_lookup_is_refused_plainly(client, coordinator):
    heater_recall(coordinator)

    response = client.get(
        f"{BASE}/incidents/heater-2026/lookup", {"gtin": "<script>alert(1)</script>"}
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "detail": "A barcode number (GTIN) has 8, 12, 13 or 14 digits: "
        "enter the digits printed under the barcode."
    }
    assert b"script" not in response.content


def test_a_lookup_never_echoes_markup_it_was_given(client, coordinator):
    heater_recall(coordinator)

    answered = client.get(f"{BASE}/incidents/heater-2026/lookup", {"lot": "<img src=x>"})
    refused = client.get(f"{BASE}/incidents/heater-2026/lookup", {"lot": "<b>\x01</b>"})

    assert answered.status_code == 200
    assert answered.json()["outcome"] == "not_affected"
    assert answered.json()["reason"].startswith("Lot &lt;IMG SRC=X&gt; is not part of this recall.")
    assert b"<" not in answered.content
    assert refused.status_code == 400
    assert b"<" not in refused.content


def test_lookups_are_counted_by_outcome_only(client, coordinator):
    incident = heater_recall(coordinator)

    client.get(
        f"{BASE}/incidents/heater-2026/lookup", {"gtin": "04012345000016", "lot": "L2026-11"}
    )
    client.get(f"{BASE}/incidents/heater-2026/lookup", {"gtin": "123"})
    views.flush_counts()

    counts = LookupCount.objects.filter(incident=incident).values_list("outcome", "count")
    assert sorted(counts) == [("affected", 1), ("unreadable", 1)]


def test_lookups_are_rate_limited_per_address(client, coordinator, settings):
    settings.PUBLIC_LOOKUP_RATE = "2/m"
    heater_recall(coordinator)
    query = {"gtin": "04012345000016", "lot": "L2026-11"}

    answers = [client.get(f"{BASE}/incidents/heater-2026/lookup", query) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json() == {
        "detail": "Too many lookups from this address; try again in a minute."
    }


def test_the_lists_read_a_fixed_number_of_queries(client, coordinator, django_assert_num_queries):
    for slug in ("heater-2026", "kettle-2026", "toaster-2026"):
        incident = public_incident(coordinator, slug)
        for day in range(1, 4):
            update(incident, at=f"2026-11-0{day}T08:00:00+00:00", de={"resolved": "Gut."})

    with django_assert_num_queries(1):
        assert len(client.get(f"{BASE}/incidents").json()) == 3
    # The page; the updates; their texts.
    with django_assert_num_queries(3):
        assert len(client.get(f"{BASE}/incidents/heater-2026/updates").json()) == 3
