"""The static export: every page and language, feeds, assets and the lookup index, and in
Chromium its script answers lookups as the live site does."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from django.core.management import call_command

from recalldesk.incidents.tests.test_browser import PHONE, browser
from recalldesk.public.lookup import answer, index_for, parse_query
from recalldesk.public.tests.builders import published_recall

__all__ = ["browser"]


@pytest.mark.django_db
def test_it_writes_pages_feeds_assets_and_the_index(tmp_path, coordinator, approver):
    incident = published_recall(coordinator, approver)
    slug = incident.public.slug
    call_command("export_site", str(tmp_path))
    english = (tmp_path / "status" / slug / "index.html").read_text()
    german = (tmp_path / "status" / slug / "de" / "index.html").read_text()
    assert "Product safety recall" in english and "data-lookup-index" in english
    assert "Produktsicherheitsrückruf" in german
    assert "/register/" not in english, "forms need the live site; the export leaves them out"
    assert (tmp_path / "status" / slug / "lookup-index.json").stat().st_size > 0
    assert (tmp_path / "static" / "public" / "lookup.js").exists()
    assert (tmp_path / "static" / "recalldesk" / "public.css").exists()
    assert (tmp_path / "status" / "index.html").read_text().count(incident.title) == 1


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def static_server(tmp_path):
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_export_answers_lookups_like_the_live_site(
    browser, static_server, coordinator, approver
):
    base, directory = static_server
    incident = published_recall(coordinator, approver)
    call_command("export_site", str(directory))
    gtin = incident.scope.products.get().gtin or ""
    cases = [{"lot": "L1230"}, {"lot": "Z999"}, {"code": "(01)09506000134352(10)L1230"}]
    if gtin:
        cases.append({"gtin": gtin, "lot": "L1230"})
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/status/{incident.public.slug}/")
    index = index_for(incident)
    for case in cases:
        try:
            expected = answer(index, parse_query(**case)).outcome
        except ValueError:
            expected = "unreadable"
        page.reload()
        for name, value in case.items():
            page.fill(f"input[name={name}]", value)
        page.get_by_role("button", name="Check").click()
        result = page.locator("[data-lookup-result]")
        result.wait_for()
        page.wait_for_function(
            "document.querySelector('[data-lookup-result]').dataset.outcome !== undefined"
            " || document.querySelector('[data-lookup-result]').textContent.trim() !== ''"
        )
        shown = result.get_attribute("data-outcome") or result.inner_text()
        assert expected in shown or shown in expected, (case, expected, shown)
    assert Path(directory / "status").exists()
