"""The integration API: token auth, batches of registry rows, and the ledger page by page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord
from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.registry.models import Holding, ImportRun, Party, Product
from recalldesk.staff.models import ApiToken

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    _, token = ApiToken.issue(user, "ERP nightly push")
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def erp(coordinator) -> Client:
    return client_for(coordinator)


def post(client: Client, path: str, rows: list[Any]):
    return client.post(path, {"rows": rows}, content_type="application/json")


CUSTOMERS = [
    {"external_id": "C1", "name": "Jane Doe", "email": "jane@example.com", "country": "GB"},
    {"customer_id": "C2", "name": "John Roe", "phone": "+1 202 555 0123", "language": "en"},
]


def test_a_batch_of_customers_is_upserted_and_the_token_marked_used(erp, coordinator):
    response = post(erp, "/api/customers", CUSTOMERS)

    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "problems": []}
    assert Party.objects.get(external_id="C2").phone == "+12025550123"
    assert ApiToken.objects.get().last_used_at is not None
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.created, run.created_by) == (
        "customers",
        "done",
        2,
        coordinator,
    )
    assert ChangeRecord.for_object(run).get().actor == coordinator

    again = post(erp, "/api/customers", [{**CUSTOMERS[0], "name": "Jane Doe-Smith"}])
    assert again.json() == {"created": 0, "updated": 1, "unchanged": 0, "problems": []}


def test_a_batch_with_a_bad_row_gets_422_with_every_problem_and_writes_nothing(erp):
    rows = [*CUSTOMERS, {"external_id": "C3", "name": "", "email": "nope"}, CUSTOMERS[0]]

    response = post(erp, "/api/customers", rows)

    assert response.status_code == 422
    assert response.json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "problems": [
            {"row": 2, "field": "name", "message": "A value is required."},
            {"row": 2, "field": "email", "message": "This is not a valid email address."},
            {"row": 3, "field": "external_id", "message": "The same external_id is on row 0."},
        ],
    }
    assert not Party.objects.exists()
    assert not ImportRun.objects.exists()


def test_an_unknown_field_in_a_batch_is_a_problem(erp):
    response = post(erp, "/api/customers", [{"external_id": "C1", "name": "Jane", "emial": "x"}])
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"row": 0, "field": "emial", "message": "Unknown field."}
    ]


def test_products_consignees_and_holdings_are_pushed_in_batches(erp):
    assert post(erp, "/api/products", [{"sku": "HTR-1", "gtin": "012345678905", "name": "Heater"}])
    consignees = [
        {"external_id": "D1", "name": "North", "consignee_kind": "distributor"},
        {"external_id": "D2", "name": "Shop", "parent_external_id": "D1", "contact_name": "Sam"},
    ]
    assert post(erp, "/api/consignees", consignees).status_code == 200
    holdings = [
        {"external_id": "H1", "party": "D2", "product": "HTR-1", "lot": "L1", "quantity": 12},
        {"external_id": "H2", "party": "D1", "gtin": "00012345678905", "serial": "SN-1"},
    ]
    response = post(erp, "/api/holdings", holdings)

    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    assert Product.objects.get().gtin == "00012345678905"
    assert Party.objects.filter(external_id="D2", parent__external_id="D1").exists()
    assert Holding.objects.get(external_id="H1").quantity == 12
    assert Holding.objects.get(external_id="H2").serial_number == 1


def test_a_batch_over_5000_rows_is_refused(erp):
    rows = [{"external_id": f"C{n}", "name": "x"} for n in range(5001)]
    assert post(erp, "/api/customers", rows).status_code == 422
    assert not Party.objects.exists()


def test_a_missing_wrong_or_revoked_token_gets_401(coordinator):
    assert (
        Client().post("/api/customers", {"rows": CUSTOMERS}, "application/json").status_code == 401
    )
    wrong = Client(headers={"Authorization": "Bearer rd_nope_nope"})
    assert post(wrong, "/api/customers", CUSTOMERS).status_code == 401
    row, token = ApiToken.issue(coordinator, "old")
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    revoked = Client(headers={"Authorization": f"Bearer {token}"})
    assert post(revoked, "/api/customers", CUSTOMERS).status_code == 401
    assert not Party.objects.exists()


def test_a_token_of_a_user_who_may_not_import_gets_403(analyst):
    response = post(client_for(analyst), "/api/customers", CUSTOMERS)
    assert response.status_code == 403
    assert not Party.objects.exists()


@pytest.fixture
def incident():
    return Incident.objects.create(reference="RC-2026-0001", kind="recall", title="Heater fire")


def make_ledger(incident: Incident, count: int) -> list[LedgerEntry]:
    start = timezone.now() - dt.timedelta(days=1)
    entries = []
    for n in range(count):
        party = Party.objects.create(
            role="consumer",
            external_id=f"C{n}",
            name=f"Customer {n}",
            email=f"c{n}@example.com",
            country="US",
            language="en",
        )
        entries.append(
            LedgerEntry.objects.create(
                incident=incident,
                party=party,
                units=n + 1,
                holdings_count=1,
                first_affected_at=start,
                updated_at=start,
            )
        )
    return entries


def test_the_ledger_is_read_page_by_page_with_a_cursor(erp, incident):
    make_ledger(incident, 5)
    other = Incident.objects.create(reference="RC-2026-0002", kind="recall", title="Other")
    LedgerEntry.objects.create(
        incident=other,
        party=Party.objects.get(external_id="C0"),
        first_affected_at=timezone.now(),
        updated_at=timezone.now(),
    )
    url = f"/api/incidents/{incident.uuid}/ledger"

    pages, cursor = [], ""
    while True:
        body = erp.get(url, {"limit": 2, "cursor": cursor}).json()
        pages.append([item["party_external_id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == [["C0", "C1"], ["C2", "C3"], ["C4"]]
    first = erp.get(url, {"limit": 1}).json()["items"][0]
    assert set(first) == {
        "party_external_id",
        "role",
        "name",
        "email",
        "phone",
        "country",
        "language",
        "status",
        "units",
        "holdings_count",
        "holdings",
        "first_affected_at",
    }
    assert (first["role"], first["email"], first["status"], first["units"]) == (
        "consumer",
        "c0@example.com",
        "affected",
        1,
    )


def test_each_ledger_row_lists_its_holdings_by_external_id_with_their_units(erp, incident):
    (entry,) = make_ledger(incident, 1)
    made = [
        Holding.objects.create(party=entry.party, external_id=f"H{n}", quantity=n + 1)
        for n in range(3)
    ]
    entry.holdings = [[made[0].pk, 1], [made[2].pk, 3]]
    entry.save()

    (row,) = erp.get(f"/api/incidents/{incident.uuid}/ledger").json()["items"]

    assert row["holdings"] == [{"external_id": "H0", "units": 1}, {"external_id": "H2", "units": 3}]


def test_a_page_that_ends_exactly_on_the_last_entry_has_no_next_cursor(erp, incident):
    make_ledger(incident, 2)
    body = erp.get(f"/api/incidents/{incident.uuid}/ledger", {"limit": 2}).json()
    assert (len(body["items"]), body["next_cursor"]) == (2, None)


def test_the_ledger_needs_the_permission_to_see_it(outsider, analyst, incident):
    make_ledger(incident, 1)
    url = f"/api/incidents/{incident.uuid}/ledger"
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(analyst).get(url).status_code == 200


def test_an_unknown_incident_or_a_bad_cursor_is_refused(erp, incident):
    assert erp.get("/api/incidents/00000000-0000-0000-0000-000000000000/ledger").status_code == 404
    assert erp.get(f"/api/incidents/{incident.uuid}/ledger", {"cursor": "x"}).status_code == 400
    assert erp.get(f"/api/incidents/{incident.uuid}/ledger", {"limit": 0}).status_code == 422


def test_the_openapi_schema_documents_the_endpoints_and_the_token():
    schema = Client().get("/api/openapi.json").json()
    assert {
        "/api/products",
        "/api/customers",
        "/api/consignees",
        "/api/holdings",
        "/api/incidents/{incident_uuid}/ledger",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"]["scheme"] == "bearer"
