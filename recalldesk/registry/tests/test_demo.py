"""The demo company: a plausible registry, staff with their roles and an open recall."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from stdnum import ean

from recalldesk.incidents.choices import IncidentKind, IncidentStatus, LedgerStatus
from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.registry.choices import ConsigneeKind, HoldingKind, PartyRole
from recalldesk.registry.demo import DEMO_PASSWORD, MARK, STAFF
from recalldesk.registry.models import ConsigneeContact, Holding, Party, Product

pytestmark = pytest.mark.django_db

POSTCODES = {
    "US": r"\d{5}",
    "GB": r"[A-Z]{1,2}\d{1,2}[A-Z]? \d[A-Z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "CA": r"[A-Z]\d[A-Z] \d[A-Z]\d",
    "AU": r"\d{4}",
}
LANGUAGES = {"US": {"en"}, "GB": {"en"}, "DE": {"de"}, "FR": {"fr"}, "ES": {"es"}}


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--customers", "300", "--holdings", "3000", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(settings: Any) -> str:
    # The demo's staff passwords are hashed with the real hasher otherwise: a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return run_demo()


def test_it_reports_what_it_built_with_timings(demo):
    assert "300 customers" in demo
    assert re.search(r"3,000 holdings \(\d+\.\d s\)", demo)
    assert "Demo ready" in demo
    assert "RC-" in demo


def test_products_have_valid_gtins_skus_brands_and_prices(demo):
    products = list(Product.objects.all())
    assert 20 <= len(products) <= 40
    for product in products:
        gtin = product.gtin or ""
        assert len(gtin) == 13
        assert ean.is_valid(gtin), gtin
        assert gtin.startswith("952")  # GS1's prefix for demonstrations
        assert product.sku and product.brand and product.name
        assert product.unit_price is not None and product.unit_price > 0
        assert product.currency in {"USD", "EUR", "GBP"}


def test_every_party_has_a_country_language_and_reachable_contact_points(demo):
    parties = list(Party.objects.all())
    assert len(parties) > 300
    countries = {p.country for p in parties}
    assert {"US", "GB", "DE", "FR", "ES", "CA"} <= countries
    for party in parties:
        assert party.external_id.startswith(MARK)
        assert party.country and party.language and party.time_zone
        assert party.city and party.region and party.address_line1
        assert re.fullmatch(POSTCODES[party.country], party.postcode), party.postcode
        if party.country in LANGUAGES:
            assert party.language in LANGUAGES[party.country]
        if party.email:
            assert party.email.rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}
        if party.phone:
            number = phonenumbers.parse(party.phone)
            assert phonenumbers.is_valid_number(number), party.phone
            assert phonenumbers.region_code_for_number(number) == party.country
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            assert party.phone == e164
    customers = [p for p in parties if p.role == PartyRole.CONSUMER]
    assert sum(1 for p in customers if p.phone) > len(customers) * 0.7
    assert any(p.opted_out_channels for p in customers)
    assert any(p.language == "fr" for p in customers if p.country == "CA")


def test_consignees_form_a_tree_of_distributors_and_their_stores_with_contacts(demo):
    consignees = Party.objects.consignees()
    distributors = consignees.filter(consignee_kind=ConsigneeKind.DISTRIBUTOR)
    stores = consignees.exclude(consignee_kind=ConsigneeKind.DISTRIBUTOR)
    assert distributors.count() >= 3
    assert stores.count() >= 24
    assert not distributors.filter(parent__isnull=False).exists()
    assert not stores.filter(parent__isnull=True).exists()
    assert set(stores.values_list("consignee_kind", flat=True)) == {
        ConsigneeKind.RETAILER,
        ConsigneeKind.DEALER,
    }
    for store in stores.select_related("parent"):
        assert store.parent is not None and store.parent.country == store.country
    assert not consignees.filter(contacts__isnull=True).exists()
    for contact in ConsigneeContact.objects.all():
        assert phonenumbers.is_valid_number(phonenumbers.parse(contact.phone))
        assert contact.email.endswith("@example.net")


def test_holdings_carry_lots_serials_past_dates_and_service_accounts(demo):
    assert Holding.objects.count() == 3000
    today = dt.date.today()
    units = Holding.objects.filter(kind=HoldingKind.UNIT)
    for holding in units:
        made, acquired = holding.manufactured_on, holding.acquired_on
        assert made is not None and acquired is not None
        assert re.fullmatch(r"L\d{4}[A-C]\d", holding.lot), holding.lot
        assert made <= acquired <= today
        assert holding.lot[1:5] == made.strftime("%y%m")
        assert holding.region and holding.postcode and holding.country
        assert holding.quantity >= 1
    serials = units.exclude(serial="")
    assert serials.count() > 300
    for holding in serials:
        assert re.fullmatch(r"SN-\d{7}", holding.serial)
        assert holding.serial_prefix == "SN-"
        assert holding.serial_number == int(holding.serial[3:])
    assert units.filter(party__role=PartyRole.CONSIGNEE, quantity__gte=12).exists()
    services = Holding.objects.filter(kind=HoldingKind.SERVICE)
    assert services.exists()
    for holding in services:
        assert holding.service and holding.account_number and holding.area
        assert holding.period_start is not None and holding.period_start <= today


def test_the_demo_recall_is_active_and_its_ledger_lists_holders_of_units_in_scope(demo):
    incident = Incident.objects.get()
    assert incident.kind == IncidentKind.RECALL
    assert incident.status == IncidentStatus.ACTIVE
    assert incident.hazard and incident.classification
    assert incident.owner is not None and incident.owner.username == "coordinator"
    scope = incident.scope
    products = set(scope.products.values_list("id", flat=True))
    lots = set(scope.lots.values_list("lot", flat=True))
    ranges = list(scope.serial_ranges.values_list("prefix", "first_number", "last_number"))
    assert len(products) == 2 and len(lots) >= 24 and ranges
    start, end = scope.date_from, scope.date_to
    assert start is not None and end is not None

    def in_scope(h: Holding) -> bool:
        by_serial = any(
            h.serial_prefix == prefix and first <= (h.serial_number or -1) <= last
            for prefix, first, last in ranges
        )
        return (
            h.kind == HoldingKind.UNIT
            and h.product_id in products
            and (h.lot in lots or by_serial)
            and h.manufactured_on is not None
            and start <= h.manufactured_on <= end
        )

    expected = {h.pk for h in Holding.objects.all() if in_scope(h)}
    entries = LedgerEntry.objects.filter(incident=incident, status=LedgerStatus.AFFECTED)
    assert entries.exists()
    assert {
        h.pk for _, _, h in LedgerEntry.objects.filter(incident=incident).holdings()
    } == expected
    for entry in entries:
        held = Holding.objects.filter(party=entry.party_id, pk__in=expected)
        assert held.exists()
        assert entry.units == sum(h.quantity for h in held)
    assert incident.match_runs.get().status == "done"


def test_staff_users_can_log_in_with_the_demo_password_and_have_their_roles(demo):
    for username, _, _ in STAFF:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [username]
    coordinator = authenticate(username="coordinator", password=DEMO_PASSWORD)
    agent = authenticate(username="agent", password=DEMO_PASSWORD)
    assert coordinator is not None and agent is not None
    assert coordinator.has_perm("incidents.edit_scope")
    assert not agent.has_perm("incidents.edit_scope")


def test_running_it_again_refuses_and_changes_nothing(demo):
    before = (Party.objects.count(), Holding.objects.count(), Incident.objects.count())
    with pytest.raises(CommandError, match="demo data already present; use --fresh"):
        run_demo()
    assert (Party.objects.count(), Holding.objects.count(), Incident.objects.count()) == before


def test_fresh_rebuilds_the_same_company_from_the_same_seed(demo):
    def snapshot() -> tuple[Any, ...]:
        return (
            list(Party.objects.order_by("external_id").values_list("name", "email", "phone")),
            list(Holding.objects.order_by("external_id").values_list("lot", "serial", "quantity")),
            LedgerEntry.objects.count(),
        )

    before = snapshot()
    run_demo("--fresh")
    assert snapshot() == before
    assert Incident.objects.count() == 1
    run_demo("--fresh", "--seed", "7")
    assert snapshot() != before
