"""Fixtures for the remedies tests: a recall with a ledger and its offers, the real SMTP
server, photos made with Pillow, and uploads kept out of the project's media folder."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests import builders as b
from recalldesk.outreach.rendering import ack_token
from recalldesk.outreach.tests.conftest import smtp_server
from recalldesk.registry.models import Holding, Party, Product
from recalldesk.remedies import actions, choices
from recalldesk.remedies.models import Offer

__all__ = ["smtp_server"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Uploaded photos land in the test's own folder, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Recall:
    """A heater recall (lot L1230) with two owners in its ledger, one unit each, and two
    offers: a free replacement that asks for a photo of the label, and a refund."""

    incident: Incident
    heater: Product
    ann: Party
    ann_heater: Holding
    ann_old_heater: Holding
    ben: Party
    ben_heater: Holding
    replacement: Offer
    refund: Offer

    def token(self, party: Party | None = None) -> str:
        return ack_token(self.incident.uuid, (party or self.ann).uuid)

    def link(self, party: Party | None = None) -> str:
        return f"/claim/{self.token(party)}/"


def add_offers(user: Any, incident: Incident, product: Product) -> tuple[Offer, Offer]:
    spare = b.product("NH-2100", name="Northwind fan heater NH-2100")
    replacement = actions.do_save_offer(
        user,
        incident,
        Offer(
            kind=choices.OfferKind.REPLACEMENT,
            title="Free replacement heater",
            description="A new NH-2100 heater, delivered to your door.",
            replacement_product=spare,
            evidence_required=True,
            weekly_capacity=100,
            lead_days=3,
        ),
        [product],
    )
    refund = actions.do_save_offer(
        user,
        incident,
        Offer(
            kind=choices.OfferKind.REFUND,
            title="Full refund",
            description="The price you paid, back to you.",
            weekly_capacity=500,
            lead_days=5,
        ),
        [product],
    )
    return replacement, refund


def build_recall(user: Any) -> Recall:
    heater = b.product("NH-2000", name="Northwind fan heater")
    Product.objects.filter(pk=heater.pk).update(unit_price=Decimal("49.90"), currency="USD")
    heater.refresh_from_db()
    ann = b.party(
        "Ann Owner",
        email="ann@example.com",
        address_line1="1 Elm Street",
        city="Springfield",
        postcode="62704",
        region="IL",
    )
    ann_heater = b.holding(ann, heater, lot="L1230", serial="SN-1001")
    ann_old_heater = b.holding(ann, heater, lot="Z999", serial="SN-9001")
    ben = b.party(
        "Ben Owner",
        email="ben@example.com",
        address_line1="9 Oak Road",
        city="Dayton",
        postcode="45402",
        region="OH",
    )
    ben_heater = b.holding(ben, heater, lot="L1230", serial="SN-1002")
    incident = b.incident(user)
    b.save_and_match(user, incident, products=[heater], lots=["L1230"])
    incident.refresh_from_db()
    replacement, refund = add_offers(user, incident, heater)
    return Recall(
        incident, heater, ann, ann_heater, ann_old_heater, ben, ben_heater, replacement, refund
    )


@pytest.fixture
def recall(coordinator: Any) -> Recall:
    return build_recall(coordinator)


def png_bytes(size: tuple[int, int] = (48, 32), noise: bool = False) -> bytes:
    """A real PNG; with ``noise`` it does not compress, so its size follows its pixels."""
    if noise:
        import os

        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 40, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def photo(name: str = "label.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else png_bytes(), "image/png")
