"""Small builders of registry rows and incidents for the incidents tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from recalldesk.incidents import actions
from recalldesk.incidents.matching import build_ledger
from recalldesk.incidents.models import Incident, MatchRun
from recalldesk.registry.models import Holding, Party, Product
from recalldesk.registry.serials import split_serial

_ids = itertools.count(1)


def product(sku: str, gtin: str | None = None, name: str = "") -> Product:
    return Product.objects.create(sku=sku, gtin=gtin, name=name or f"Product {sku}")


def party(name: str, role: str = "consumer", **fields: Any) -> Party:
    fields.setdefault("country", "US")
    fields.setdefault("language", "en")
    return Party.objects.create(name=name, role=role, external_id=f"P{next(_ids)}", **fields)


def holding(owner: Party, item: Product | None = None, **fields: Any) -> Holding:
    serial = fields.get("serial", "")
    if serial:
        fields["serial_prefix"], fields["serial_number"] = split_serial(serial)
    return Holding.objects.create(external_id=f"H{next(_ids)}", party=owner, product=item, **fields)


def incident(user: Any, kind: str = "recall", title: str = "Heater overheats") -> Incident:
    return actions.do_create_incident(user, Incident(kind=kind, title=title))


def scope_data(**overrides: Any) -> dict[str, Any]:
    """Cleaned scope-form data with nothing set, overridden by ``overrides``."""
    data: dict[str, Any] = {
        "products": [],
        "all_units": False,
        "lots": [],
        "serials": [],
        "date_basis": "manufactured",
        "date_from": None,
        "date_to": None,
        "regions": [],
        "postcodes": [],
        "services": [],
        "areas": [],
        "accounts": [],
        "window_start": None,
        "window_end": None,
    }
    data.update(overrides)
    return data


def save_and_match(user: Any, target: Incident, **scope: Any) -> MatchRun:
    """Save a scope as ``user`` and build the ledger right away (as the worker would)."""
    run = actions.do_save_scope(user, target, scope_data(**scope), {})
    return build_ledger(MatchRun.objects.select_related("incident").get(pk=run.pk))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
