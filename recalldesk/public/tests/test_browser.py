"""The crisis site in Chromium: look up an affected and an unaffected unit, register,
subscribe and read an update, at phone and desktop widths, with axe-core checking each page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from recalldesk.incidents.tests.test_browser import DESKTOP, PHONE, browser, shoot
from recalldesk.public import actions
from recalldesk.public.models import Subscriber
from recalldesk.public.tests.builders import published_recall
from recalldesk.registry.models import Party

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser"]

AXE = (
    Path(__file__).resolve().parents[3] / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
)


def axe_problems(page) -> list[str]:
    """Serious and critical accessibility violations axe-core finds on the page."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (make browser installs it with npm)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_public_looks_up_registers_subscribes_and_reads_updates(
    browser, live_server, coordinator, approver, settings
):
    settings.PUBLIC_URL = live_server.url
    incident = published_recall(coordinator, approver)
    update = actions.do_write_update(
        coordinator,
        incident,
        {
            "en": {
                "resolved": "Replacement heaters are in stock.",
                "in_progress": "",
                "take_part": "Register your heater below.",
            }
        },
        timezone.now() + dt.timedelta(days=1),
    )
    actions.do_submit_update(coordinator, update)
    actions.do_publish_update(approver, update)
    slug = incident.public.slug

    for viewport, label in [(DESKTOP, "desktop"), (PHONE, "phone")]:
        page = browser.new_page(viewport=viewport)
        page.goto(f"{live_server.url}/status/{slug}/")
        page.get_by_text("Replacement heaters are in stock.").wait_for()
        shoot(page, f"public-page-{label}")
        assert axe_problems(page) == []

    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/status/{slug}/")
    page.get_by_label("and the lot code").fill("L1230")
    page.get_by_role("button", name="Check").click()
    page.get_by_text("Yes, this unit is affected.").wait_for()
    shoot(page, "public-lookup-affected-phone")
    assert axe_problems(page) == []
    page.get_by_label("and the lot code").fill("Z999")
    page.get_by_role("button", name="Check").click()
    page.get_by_text("No, this unit is not affected.").wait_for()
    shoot(page, "public-lookup-not-affected-phone")

    page.goto(f"{live_server.url}/status/{slug}/register/")
    page.get_by_label("Your name").fill("Zoe New")
    page.get_by_label("Email").fill("zoe@example.com")
    page.get_by_label("Country (two letters, e.g. US)").fill("US")
    page.get_by_label("Lot code").fill("L1230")
    assert axe_problems(page) == []
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Your unit is affected. Stop using it now.").wait_for()
    shoot(page, "public-registered-phone")
    assert incident.ledger.filter(party=Party.objects.get(name="Zoe New")).exists()

    page.goto(f"{live_server.url}/status/{slug}/subscribe/")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Email address or mobile number").fill("fan@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text("Check your inbox").wait_for()
    assert Subscriber.objects.get().confirmed_at is None
