"""A coordinator opens an incident, pastes a scope, previews it and sees the ledger, in Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.incidents.tests.builders import holding, party, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[3] / "var" / "screenshots")
)
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # test itself are still synchronous, so Django's async guard is lifted for the test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_role("button", name="Log in").click()


def test_a_coordinator_opens_an_incident_scopes_it_and_sees_the_ledger(
    browser, live_server, coordinator
):
    heater = product("HTR-1", "00012345678905", "Space heater")
    for index in range(12):
        owner = party(f"Owner {index}", region="CA" if index % 2 else "TX")
        holding(owner, heater, lot=f"L{1230 + index}", quantity=1 + index % 3)
    holding(party("Outside"), heater, lot="Z9")

    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server.url, coordinator.username)
    shoot(page, "incidents-empty-desktop")
    page.get_by_role("link", name="Open an incident").first.click()
    page.get_by_label("Kind").select_option("recall")
    page.get_by_label("Title").fill("Space heater may overheat")
    page.get_by_label("Hazard").fill("The cord can overheat and melt, posing a fire hazard.")
    page.get_by_role("button", name="Open incident").click()

    page.get_by_label("Products (GTIN or SKU, one per line)").fill("00012345678905")
    page.get_by_label("Lot or batch codes").fill("L1230 through L1235\nL1240")
    page.get_by_role("button", name="Preview count").click()
    preview = page.get_by_test_id("preview-parties")
    assert preview.inner_text().startswith("7")
    shoot(page, "scope-preview-desktop")
    assert not LedgerEntry.objects.exists()

    page.get_by_role("button", name="Save scope and rebuild ledger").click()
    page.wait_for_url("**/incidents/*/")
    shoot(page, "incident-detail-desktop")
    incident = Incident.objects.get()
    assert LedgerEntry.objects.filter(incident=incident).count() == 7
    assert "7" in page.locator(".stat").first.inner_text()

    page.get_by_role("link", name="Ledger").click()
    assert page.locator("table.ledger tbody tr").count() == 7
    shoot(page, "ledger-desktop")

    phone = browser.new_page(viewport=PHONE)
    log_in(phone, live_server.url, coordinator.username)
    phone.goto(f"{live_server.url}{incident.get_absolute_url()}")
    shoot(phone, "incident-detail-phone")
    phone.goto(f"{live_server.url}/incidents/{incident.uuid}/scope/")
    shoot(phone, "scope-phone")
    phone.goto(f"{live_server.url}/incidents/{incident.uuid}/ledger/")
    assert phone.locator("table.ledger tbody tr").count() == 7
    # On a phone the ledger reads as cards: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "ledger-phone")


def test_an_agent_sees_the_scope_but_cannot_change_it(browser, live_server, coordinator, agent):
    from recalldesk.incidents.tests.builders import incident as make_incident

    target = make_incident(coordinator)
    page = browser.new_page(viewport=DESKTOP)
    log_in(page, live_server.url, agent.username)
    page.goto(f"{live_server.url}/incidents/{target.uuid}/scope/")

    assert page.get_by_text("Your role can read the scope but not change it.").is_visible()
    assert page.get_by_role("button", name="Save scope and rebuild ledger").count() == 0
    assert page.get_by_label("Lot or batch codes").is_disabled()
