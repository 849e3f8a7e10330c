"""The crisis site the surge bench serves: one published recall made through the real actions,
the lookup queries asked of it, and the settings and URLconf that add the bare baseline view.

Part of ``bench/surge.py`` (run that).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SLUG = "rc-surge-0001"
PRODUCTS = 4
SERIAL_PRODUCTS = (2, 3)  # product indexes whose units carry a serial number
SCOPE_LOTS = 2000
SCOPE_RANGES = 50
RANGE_WIDTH = 1000
RANGE_STRIDE = 10_000
LOOKUP_QUERIES = 1000

SHEETS = {
    "en": {
        "headline": "Product safety recall: Northwind fan heaters and stacking cups",
        "product": "Northwind fan heaters NH-2000 and NH-3000, and Tumble stacking cups.",
        "identification": "The lot code is printed on the label under the base, e.g. L2407A1.",
        "hazard": "The heater can overheat and catch fire, which can cause serious burns.",
        "instructions": "Stop using the product now, unplug it and keep it away from children.",
        "remedy": "We give you a full refund or a free replacement, your choice.",
        "contact": "Call 0800 123 456 (8am to 8pm, every day) or write to safety@example.com.",
        "sms": "Safety recall: stop using your Northwind heater, fire risk.",
    },
    "de": {
        "headline": "Produktsicherheitsrückruf: Northwind Heizlüfter und Stapelbecher",
        "product": "Northwind Heizlüfter NH-2000 und NH-3000 sowie Tumble Stapelbecher.",
        "identification": "Die Charge steht auf dem Etikett unter dem Sockel, z. B. L2407A1.",
        "hazard": "Das Gerät kann überhitzen und Feuer fangen; schwere Verbrennungen sind möglich.",
        "instructions": "Benutzen Sie das Produkt nicht mehr und ziehen Sie den Stecker.",
        "remedy": "Sie erhalten den vollen Kaufpreis zurück oder ein kostenloses Ersatzprodukt.",
        "contact": "Rufen Sie 0800 123 456 an oder schreiben Sie an safety@example.com.",
        "sms": "Sicherheitsrückruf: Northwind Heizlüfter nicht mehr benutzen, Brandgefahr.",
    },
}
UPDATE = {
    "resolved": "Every retailer has taken the products off its shelves.",
    "in_progress": "Replacement heaters are on their way to the first claimants.",
    "take_part": "Check your lot code below and register your unit.",
}
FAQ = [
    ("How do I find the lot code?", "It is printed on the label under the base, e.g. L2407A1."),
    ("Do I need the receipt?", "No. The lot code or serial number is enough."),
    ("How long does a refund take?", "We pay within 14 days of receiving your claim."),
]


def setup_django(url: str, data_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
    # Nothing is sent: the tasks a publish queues go nowhere.
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    import django

    django.setup()


def gtin_of(n: int) -> str:
    from stdnum import ean

    stem = f"400638{n:06d}"
    return stem + ean.calc_check_digit(stem)


def lot_code(index: int) -> str:
    """``L2407A1``: month, shift letter and line, 416 lots a month from January 2021."""
    month, rest = divmod(index, 26 * 16)
    letter, line = divmod(rest, 16)
    return f"L{21 + month // 12:02d}{month % 12 + 1:02d}{chr(65 + letter)}{line + 1}"


def serial_ranges() -> list[tuple[str, int, int]]:
    return [
        ("SN-", k * RANGE_STRIDE + 1, k * RANGE_STRIDE + RANGE_WIDTH) for k in range(SCOPE_RANGES)
    ]


def staff(username: str, role: str) -> Any:
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, f"{username}@example.com", "bench-pass-9")
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # fresh, so its permission cache is empty


def publish_site() -> Any:
    """One published recall, made through the same actions the console uses."""
    import datetime as dt

    from django.utils import timezone

    from recalldesk.incidents import actions as incidents
    from recalldesk.incidents.models import Incident
    from recalldesk.outreach import actions as outreach
    from recalldesk.public import actions as public
    from recalldesk.public.models import FaqEntry, PublicPage
    from recalldesk.registry.models import Product
    from recalldesk.staff.roles import ensure_roles

    ensure_roles()
    author = staff("surge-coordinator", "coordinator")
    approver = staff("surge-approver", "approver")
    products = [
        Product.objects.create(
            sku=f"NH-{2000 + n}",
            gtin=gtin_of(n),
            name=("Northwind fan heater" if n in SERIAL_PRODUCTS else "Tumble stacking cups")
            + f" model {n + 1}",
            brand="Northwind",
        )
        for n in range(PRODUCTS)
    ]
    incident = incidents.do_create_incident(
        author,
        Incident(
            reference=SLUG.upper(),
            kind="recall",
            title="Fan heaters overheat; stacking cups break into small parts",
            hazard="Fire and burns; choking.",
        ),
    )
    lots = [lot_code(i) for i in range(SCOPE_LOTS)]
    ranges = serial_ranges()
    # The scope as the scope form cleans it: every rule present, only products and units set.
    data: dict[str, Any] = {
        "products": products,
        "all_units": False,
        "lots": lots,
        "serials": ranges,
        "date_basis": "manufactured",
        **dict.fromkeys(["date_from", "date_to", "window_start", "window_end"]),
        **{rule: [] for rule in ("regions", "postcodes", "services", "areas", "accounts")},
    }
    raw = {
        "lots": "\n".join(lots),
        "serials": "\n".join(f"{p}{a}-{p}{b}" for p, a, b in ranges),
    }
    incidents.do_save_scope(author, incident, data, raw)
    message = outreach.do_create_message(
        author, incident, name="Consumer notice", audience="consumer", sheets=SHEETS
    )
    version = message.latest()
    assert version is not None
    outreach.do_submit(author, version)
    outreach.do_approve(approver, version)
    update = public.do_write_update(
        author, incident, {"en": UPDATE}, timezone.now() + dt.timedelta(days=1)
    )
    public.do_submit_update(author, update)
    public.do_publish_update(approver, update)
    FaqEntry.objects.bulk_create(
        FaqEntry(incident=incident, language="en", question=q, answer=a, order=n)
        for n, (q, a) in enumerate(FAQ)
    )
    page = public.page_for(incident)
    PublicPage.objects.filter(pk=page.pk).update(published=True, phone="0800 123 456")
    public.bump(page)
    return Incident.objects.get(pk=incident.pk)


def lookup_queries(incident: Any) -> tuple[list[str], dict[str, int]]:
    """``LOOKUP_QUERIES`` query strings, half of them affected, and the outcome counts.

    Every outcome is the one the lookup code gives for it (asked here, in this process), so
    the mix is what was asked, not what was hoped for.
    """
    from recalldesk.public.lookup import build_index, lookup

    index = build_index(incident)
    rng = random.Random(20260101)
    lot_gtins = [gtin_of(n) for n in range(PRODUCTS) if n not in SERIAL_PRODUCTS]
    serial_gtins = [gtin_of(n) for n in SERIAL_PRODUCTS]
    ranges = serial_ranges()

    def lot(hit: bool) -> str:
        # Misses are lots of the same shape from the months after the scope's.
        return lot_code(rng.randrange(SCOPE_LOTS) + (0 if hit else SCOPE_LOTS))

    def serial(hit: bool) -> str:
        _, first, _ = rng.choice(ranges)
        offset = rng.randrange(RANGE_WIDTH) if hit else RANGE_WIDTH + rng.randrange(1000)
        return f"SN-{first + offset:08d}"

    queries: list[str] = []
    outcomes: dict[str, int] = {}
    for n in range(LOOKUP_QUERIES):
        hit = n % 2 == 0
        kind = n // 2 % 4
        if kind == 0:
            fields = {"gtin": rng.choice(lot_gtins), "lot": lot(hit)}
        elif kind == 1:
            fields = {"lot": lot(hit)}
        elif kind == 2:
            fields = {"gtin": rng.choice(serial_gtins), "serial": serial(hit)}
        else:
            fields = {"code": f"(01){rng.choice(lot_gtins).zfill(14)}(10){lot(hit)}"}
        outcome = lookup(index, **fields).outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        queries.append(urlencode(fields))
    return queries, outcomes


def write_overrides(directory: Path, page_body: bytes) -> None:
    """A settings module and URLconf adding the bare view, both importable from ``directory``.

    The settings are recalldesk's own (ROOT_URLCONF is not read from the environment), with
    only the URLconf changed, so the bare view runs behind the same middleware.
    """
    (directory / "surge_body.html").write_bytes(page_body)
    (directory / "surge_settings.py").write_text(
        "from recalldesk.settings import *  # noqa: F403\n\nROOT_URLCONF = 'surge_urls'\n"
    )
    (directory / "surge_urls.py").write_text(
        "from pathlib import Path\n\n"
        "from django.http import HttpResponse\n"
        "from django.urls import include, path\n\n"
        "BODY = (Path(__file__).parent / 'surge_body.html').read_bytes()\n\n\n"
        "def bare(request):\n"
        "    return HttpResponse(BODY)\n\n\n"
        "urlpatterns = [path('surge/bare/', bare), path('', include('recalldesk.urls'))]\n"
    )
