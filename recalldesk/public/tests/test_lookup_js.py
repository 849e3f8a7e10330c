"""lookup.js in Chromium gives the same readings and answers as lookup.py, and the static
export's form answers from the published index without the server."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests.builders import day, incident, product, save_and_match
from recalldesk.incidents.tests.test_browser import browser
from recalldesk.public import lookup

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
__all__ = ["browser"]

SCRIPT = Path(lookup.__file__).resolve().parent / "static" / "public" / "lookup.js"
HEATER = "09506000134352"
FAN = "00614141000036"
KETTLE = "00012345678905"
SITE = "http://recalldesk.test/recalls/heater"


def scoped(user: Any, kind: str = "recall", **scope: Any) -> Incident:
    target = incident(user, kind=kind)
    save_and_match(user, target, **scope)
    return Incident.objects.select_related("scope").get(pk=target.pk)


@pytest.fixture
def indexes(coordinator) -> dict[str, dict[str, Any]]:
    """Indexes of a few incidents. Tests ask for this before the browser: once Playwright's
    loop runs, the ORM would use another SQLite connection and find the tables locked."""
    heater = product("HTR-1", HEATER, "Space heater")
    fan = product("FAN-1", FAN, "Desk fan")
    recall = scoped(
        coordinator,
        products=[heater, fan],
        lots=["L1230", "l1231", "L24–07"],
        serials=[
            ("SN-", 10000, 20000),
            ("SN-", 15000, 30000),
            ("", 500, 600),
            # Past 2**53, where JavaScript numbers lose digits.
            ("", 12345678901234560, 12345678901234569),
        ],
    )
    dated = scoped(
        coordinator,
        products=[heater],
        lots=["L1"],
        date_from=day("2024-03-01"),
        regions=["CA"],
        postcodes=["941*"],
    )
    every = scoped(coordinator, products=[heater], all_units=True)
    outage = scoped(
        coordinator,
        kind="service",
        services=["Broadband"],
        areas=["Northside"],
        postcodes=["941*", "SW1A 1AA"],
        accounts=["ACC-1001", "77 1234"],
        window_start=day("2024-03-01"),
        window_end=day("2024-03-03"),
    )
    whole = scoped(
        coordinator, kind="service", services=["Broadband"], window_end=day("2024-03-03")
    )
    built = {"recall": recall, "dated": dated, "every": every, "outage": outage, "whole": whole}
    # Through JSON, as the static export publishes it.
    return {name: json.loads(json.dumps(lookup.build_index(i))) for name, i in built.items()}


CASES: list[tuple[str, dict[str, str]]] = [
    ("recall", {"gtin": HEATER, "lot": "l1230"}),
    ("recall", {"gtin": KETTLE, "lot": "L1230"}),
    ("recall", {"code": "(01)09506000134352(10)L9999"}),
    ("recall", {"gtin": FAN}),
    ("recall", {"lot": "l24–07"}),
    ("recall", {"serial": "SN-10000"}),
    ("recall", {"serial": "sn-0010000"}),
    ("recall", {"serial": "SN-9999"}),
    ("recall", {"serial": "SN-30000"}),
    ("recall", {"serial": "SN-30001"}),
    ("recall", {"serial": "600"}),
    ("recall", {"serial": "601"}),
    ("recall", {"serial": "12345678901234565"}),
    ("recall", {"serial": "12345678901234570"}),
    ("recall", {"serial": "SN-123456789012345678901"}),
    ("recall", {"lot": "L9", "serial": "SN-1"}),
    ("recall", {"code": "]d2" + "0109506000134352" + "17260231" + "10abc123\x1d" + "21SN-15000"}),
    ("recall", {"code": "\x1d0109506000134352\x1d10L1230\n"}),
    ("recall", {"code": "https://id.gs1.org/01/09506000134352/10/L1230?17=260101"}),
    ("recall", {"code": "https://example.com/shop/01/9506000134352/10/L%2F12/21/SN-5/#top"}),
    ("recall", {"code": "614141000036", "lot": "L1231"}),
    ("recall", {"code": "96385074"}),
    ("recall", {"code": "９５０６０００１３４３５２"}),
    ("recall", {"gtin": "09506000134353"}),
    ("recall", {"code": "(01)09506000134353(10)A"}),
    ("recall", {"gtin": "95060001343"}),
    ("recall", {"lot": "L" * 201}),
    ("recall", {}),
    ("recall", {"lot": "<script>alert(1)</script>"}),
    ("recall", {"code": "https://id.gs1.org/01/09506000134352/10/%3Cscript%3E"}),
    ("recall", {"code": "hello"}),
    ("recall", {"code": "(17)260101"}),
    ("recall", {"code": "0109506000134352" + "10" + "A" * 25}),
    ("recall", {"lot": "L12\x0030"}),
    ("recall", {"account": "123"}),
    ("dated", {"lot": "L1"}),
    ("dated", {"gtin": HEATER, "lot": "L1", "postcode": "94110"}),
    ("every", {"gtin": HEATER}),
    ("every", {"code": f"(01){HEATER}(10)ANY"}),
    ("every", {"lot": "ANY"}),
    ("outage", {"account": " acc 1001 "}),
    ("outage", {"account": "771234"}),
    ("outage", {"account": "ACC-1002"}),
    ("outage", {"postcode": "94110"}),
    ("outage", {"postcode": "sw1a 1aa"}),
    ("outage", {"postcode": "northside"}),
    ("outage", {"postcode": "10001"}),
    ("outage", {"gtin": HEATER}),
    ("whole", {"postcode": "10001"}),
]


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content=SCRIPT.read_text())
    yield page
    page.close()


def python_reading(fields: dict[str, str]) -> dict[str, str]:
    try:
        return dataclasses.asdict(lookup.parse_query(**fields))
    except ValueError as exc:
        return {"error": str(exc)}


def test_the_script_reads_every_input_as_python_does(page):
    readings = page.evaluate(
        "cases => cases.map(fields => window.RecalldeskLookup.parse(fields))",
        [fields for _, fields in CASES],
    )

    assert readings == [python_reading(fields) for _, fields in CASES]


def test_the_script_answers_every_query_as_python_does(indexes, page):
    answers = page.evaluate(
        """([indexes, cases]) => cases.map(([name, fields]) => {
            const lookup = window.RecalldeskLookup;
            return lookup.answer(indexes[name], lookup.parse(fields));
        })""",
        [indexes, CASES],
    )

    expected = [dataclasses.asdict(lookup.lookup(indexes[n], **f)) for n, f in CASES]
    assert answers == expected
    assert {a["outcome"] for a in answers} == {"affected", "not_affected", "check", "unreadable"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("salt", ""),
        ("0123456789abcdef0123456789abcdef", "ACC1001"),
        ("k" * 100, "a longer message " * 10),
        ("clé", "Konto-Nr. 7 · 1234 ✓"),
    ],
)
def test_the_script_computes_hmac_sha256_as_python_does(page, key, message):
    digest = page.evaluate(
        "([k, m]) => window.RecalldeskLookup.hmacSha256Hex(k, m)", [key, message]
    )

    assert digest == hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


FORM = """<!doctype html>
<html lang="en"><body>
<form data-lookup-index="lookup-index.json">
  <label>Barcode <input name="code"></label>
  <button type="button" data-lookup-scan>Scan the barcode</button>
  <label>Barcode number <input name="gtin"></label>
  <label>Lot code <input name="lot"></label>
  <label>Serial number <input name="serial"></label>
  <button type="submit">Check</button>
  <p data-lookup-result role="status"></p>
</form>
<script src="/static/public/lookup.js"></script>
</body></html>"""


def static_site(page, index: dict[str, Any] | None) -> None:
    """Serve the exported page, the script and the index, without any server of ours."""
    page.route(f"{SITE}/", lambda route: route.fulfill(body=FORM, content_type="text/html"))
    page.route(
        "**/static/public/lookup.js",
        lambda route: route.fulfill(body=SCRIPT.read_text(), content_type="text/javascript"),
    )
    if index is None:
        page.route(f"{SITE}/lookup-index.json", lambda route: route.fulfill(status=404))
    else:
        page.route(
            f"{SITE}/lookup-index.json",
            lambda route: route.fulfill(body=json.dumps(index), content_type="application/json"),
        )


def test_the_exported_page_answers_a_lookup_in_the_browser(indexes, browser):
    page = browser.new_page()
    static_site(page, indexes["recall"])
    page.goto(f"{SITE}/")

    page.get_by_label("Barcode", exact=True).fill("(01)09506000134352(10)L1230")
    page.get_by_role("button", name="Check").click()

    result = page.get_by_role("status")
    assert result.inner_text() == (
        "Affected. Lot L1230 of Space heater is part of this recall. "
        "Stop using it and follow the instructions on this page."
    )
    assert result.get_attribute("data-outcome") == "affected"
    assert page.url == f"{SITE}/"

    page.get_by_label("Barcode", exact=True).fill("")
    page.get_by_label("Lot code").fill("<img src=x onerror=alert(1)>")
    page.get_by_role("button", name="Check").click()

    assert result.get_attribute("data-outcome") == "not_affected"
    assert "Lot <IMG SRC=X ONERROR=ALERT(1)> is not part" in result.inner_text()
    assert page.locator("[data-lookup-result] img").count() == 0
    # The camera button shows only where the browser can read barcodes itself.
    detector = page.evaluate("'BarcodeDetector' in window")
    assert page.locator("[data-lookup-scan]").is_visible() == detector
    page.close()


def test_the_exported_page_says_so_when_the_index_cannot_be_loaded(browser):
    page = browser.new_page()
    static_site(page, None)
    page.goto(f"{SITE}/")

    page.get_by_label("Lot code").fill("L1230")
    page.get_by_role("button", name="Check").click()

    result = page.get_by_role("status")
    result.filter(has_text="could not be loaded").wait_for()
    assert result.get_attribute("data-outcome") == "unreadable"
    page.close()


# Stands in for the camera and the browser's barcode reader, which headless Chromium lacks
# (and which browsers offer only on https pages).
FAKE_CAMERA = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["data_matrix", "ean_13"]; }
  constructor(options) { window.scanFormats = options.formats; }
  async detect() { return [{ rawValue: "\\x1d0109506000134352\\x1d10L1231" }]; }
};
Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia: async () => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 16;
  canvas.getContext("2d").fillRect(0, 0, 16, 16);
  return canvas.captureStream();
} } });
"""


def test_the_scan_button_reads_a_barcode_with_the_camera_and_answers(indexes, browser):
    page = browser.new_page()
    page.add_init_script(FAKE_CAMERA)
    static_site(page, indexes["recall"])
    page.goto(f"{SITE}/")

    page.get_by_role("button", name="Scan the barcode").click()

    result = page.get_by_role("status")
    result.filter(has_text="Lot L1231").wait_for()
    assert result.get_attribute("data-outcome") == "affected"
    assert (
        page.get_by_label("Barcode", exact=True).input_value() == "\x1d0109506000134352\x1d10L1231"
    )
    assert page.evaluate("window.scanFormats") == ["data_matrix", "ean_13"]
    # The camera is given back once the barcode is read.
    assert page.locator("video").count() == 0
    page.close()
