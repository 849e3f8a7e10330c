"""The public lookup: reading what people type or scan, the index, and the answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recalldesk.incidents.models import Incident
from recalldesk.incidents.tests.builders import day, incident, product, save_and_match
from recalldesk.public import lookup
from recalldesk.public.lookup import Query, answer, build_index, index_for, parse_query

pytestmark = pytest.mark.django_db

HEATER = "09506000134352"
FAN = "00614141000036"
KETTLE = "00012345678905"


def scoped(user: Any, kind: str = "recall", **scope: Any) -> Incident:
    """A new incident of ``kind`` with ``scope`` saved, read back as a request would."""
    target = incident(user, kind=kind)
    save_and_match(user, target, **scope)
    return Incident.objects.select_related("scope").get(pk=target.pk)


@pytest.fixture
def heater(db):
    return product("HTR-1", HEATER, "Space heater")


@pytest.fixture
def fan(db):
    return product("FAN-1", FAN, "Desk fan")


@pytest.fixture
def recall(coordinator, heater, fan):
    return scoped(
        coordinator,
        products=[heater, fan],
        lots=["L1230", "l1231", "L24–07"],
        serials=[("SN-", 10000, 20000), ("SN-", 15000, 30000), ("", 500, 600)],
    )


@pytest.fixture
def outage(coordinator):
    return scoped(
        coordinator,
        kind="service",
        services=["Broadband"],
        areas=["Northside"],
        postcodes=["941*", "SW1A 1AA"],
        accounts=["ACC-1001", "77 1234"],
        window_start=day("2024-03-01"),
        window_end=day("2024-03-03"),
    )


def ask(index: dict[str, Any], **fields: str) -> lookup.Answer:
    return lookup.lookup(index, **fields)


# -- Reading what people type or scan -------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "gtin"),
    [
        ("96385074", "00000096385074"),
        ("614141000036", FAN),
        ("9506000134352", HEATER),
        (HEATER, HEATER),
        ("9 506000 134352", HEATER),
        ("９５０６０００１３４３５２", HEATER),
    ],
)
def test_it_reads_a_gtin_of_any_length_as_a_gtin_14(typed, gtin):
    assert parse_query(gtin=typed) == Query(gtin=gtin)
    assert parse_query(code=typed) == Query(gtin=gtin)


def test_it_refuses_a_gtin_whose_check_digit_is_wrong():
    with pytest.raises(ValueError, match="does not add up"):
        parse_query(gtin="09506000134353")
    with pytest.raises(ValueError, match="does not add up"):
        parse_query(code="(01)09506000134353(10)ABC123")


def test_it_refuses_a_gtin_of_the_wrong_length():
    with pytest.raises(ValueError, match="8, 12, 13 or 14 digits"):
        parse_query(gtin="95060001343")


def test_it_reads_a_bracketed_gs1_element_string():
    query = parse_query(code="(01)09506000134352(10)ABC123(21)12345")

    assert query == Query(gtin=HEATER, lot="ABC123", serial="12345")


def test_it_reads_a_raw_element_string_with_fnc1_separators_and_a_symbology_identifier():
    raw = "]d2" + "0109506000134352" + "17260231" + "10abc123\x1d" + "21SN-15000"

    assert parse_query(code=raw) == Query(gtin=HEATER, lot="ABC123", serial="SN-15000")
    assert parse_query(code="\x1d0109506000134352\x1d10L1230\n") == Query(gtin=HEATER, lot="L1230")


def test_it_reads_a_gs1_digital_link():
    link = "https://id.gs1.org/01/09506000134352/10/ABC123?17=260101"
    with_serial = "https://example.com/shop/01/9506000134352/10/L%2F12/21/SN-5/#top"

    assert parse_query(code=link) == Query(gtin=HEATER, lot="ABC123")
    assert parse_query(code=with_serial) == Query(gtin=HEATER, lot="L/12", serial="SN-5")


def test_a_typed_field_wins_over_the_same_value_in_the_barcode():
    query = parse_query(code="(01)09506000134352(10)ABC123", lot="L1230")

    assert query == Query(gtin=HEATER, lot="L1230")


@pytest.mark.parametrize(
    "code",
    [
        "hello",
        "(01)0950600013435(10)A",
        "https://example.com/about",
        "0109506000134352" + "10" + "A" * 25,
        "(17)260101",
    ],
)
def test_it_says_plainly_when_a_barcode_cannot_be_read(code):
    with pytest.raises(ValueError, match="barcode"):
        parse_query(code=code)


def test_it_refuses_input_longer_than_200_characters():
    with pytest.raises(ValueError, match="too long"):
        parse_query(lot="L" * 201)
    assert parse_query(lot="L" * 200).lot == "L" * 200


def test_it_asks_for_something_when_nothing_is_given():
    with pytest.raises(ValueError, match="Enter the barcode"):
        parse_query(code="  ", lot="\t")


def test_it_folds_lots_and_serials_as_printed_on_a_label():
    query = parse_query(lot="  l24–07 ", serial=" sn-０１５０００ ", postcode="sw1a  1aa")

    assert query == Query(lot="L24-07", serial="SN-015000", postcode="SW1A 1AA")


def test_it_refuses_control_characters():
    with pytest.raises(ValueError, match="cannot be printed"):
        parse_query(lot="L12\x0030")


def test_markup_in_a_lot_stays_text(recall):
    index = build_index(recall)

    found = ask(index, lot="<script>alert(1)</script>")
    scanned = ask(index, code="https://id.gs1.org/01/09506000134352/10/%3Cscript%3E")

    assert found.outcome == "not_affected"
    assert "Lot <SCRIPT>ALERT(1)</SCRIPT> is not part" in found.reason
    assert scanned.outcome == "not_affected"
    assert scanned.product == "Space heater"


# -- The index ------------------------------------------------------------------------


def test_the_index_holds_the_scope_compactly(recall):
    index = build_index(recall)

    assert json.loads(json.dumps(index)) == index
    assert index["reference"] == recall.reference
    assert index["version"] == recall.scope.version
    assert index["kind"] == "recall"
    assert [p["gtin"] for p in index["products"]] == [FAN, HEATER]
    assert index["lots"] == ["L1230", "L1231", "L24-07"]
    # The overlapping SN- ranges are merged, so one bisect finds the only candidate.
    assert index["serials"] == [["", "500", "600"], ["SN-", "10000", "30000"]]


def test_the_index_never_shows_account_numbers(outage):
    index = build_index(outage)
    text = json.dumps(index)

    assert "ACC-1001" not in text and "ACC1001" not in text
    assert "771234" not in text and "77 1234" not in text
    assert len(index["accounts"]["hashes"]) == 2
    assert all(len(h) == 16 for h in index["accounts"]["hashes"])


def test_each_incident_salts_account_hashes_differently_and_stably(coordinator, outage):
    other = scoped(coordinator, kind="service", accounts=["ACC-1001"])

    assert build_index(outage)["accounts"] == build_index(outage)["accounts"]
    assert build_index(other)["accounts"]["salt"] != build_index(outage)["accounts"]["salt"]
    assert set(build_index(other)["accounts"]["hashes"]).isdisjoint(
        build_index(outage)["accounts"]["hashes"]
    )


def test_index_for_builds_once_per_scope_version(coordinator, recall, heater):
    first = index_for(recall)

    assert index_for(Incident.objects.get(pk=recall.pk)) is first

    save_and_match(coordinator, recall, products=[heater], lots=["L9999"])
    changed = Incident.objects.select_related("scope").get(pk=recall.pk)
    second = index_for(changed)

    assert second is not first
    assert second["version"] == changed.scope.version
    assert answer(second, Query(lot="L9999")).outcome == "affected"
    assert index_for(Incident.objects.get(pk=recall.pk)) is second


def test_index_for_notices_a_lot_list_changed_without_a_new_version(coordinator, heater):
    # The scope's version counts lots, so swapping one lot for another keeps the version.
    target = scoped(coordinator, products=[heater], lots=["L1"])
    assert answer(index_for(target), Query(lot="L1")).outcome == "affected"

    save_and_match(coordinator, target, products=[heater], lots=["L2"])
    changed = Incident.objects.select_related("scope").get(pk=target.pk)

    assert answer(index_for(changed), Query(lot="L2")).outcome == "affected"
    assert answer(index_for(changed), Query(lot="L1")).outcome == "not_affected"


def test_a_plain_dict_index_answers_as_the_prepared_one(recall):
    index = json.loads(json.dumps(build_index(recall)))

    assert answer(index, Query(lot="L1230")).outcome == "affected"
    assert lookup._prepared(index) is lookup._prepared(index)


# -- Answers for a recall -------------------------------------------------------------


def test_a_lot_in_scope_is_affected_with_what_to_do(recall):
    found = ask(build_index(recall), gtin=HEATER, lot="l1230")

    assert found.outcome == "affected"
    assert found.product == "Space heater"
    assert found.reason == (
        "Lot L1230 of Space heater is part of this recall. "
        "Stop using it and follow the instructions on this page."
    )


def test_a_product_not_in_the_recall_is_not_affected(recall):
    found = ask(build_index(recall), gtin=KETTLE, lot="L1230")

    assert found.outcome == "not_affected"
    assert found.reason.startswith("This product is not part of this recall")
    assert "Desk fan, Space heater" in found.reason


def test_a_lot_not_in_scope_is_not_affected_with_what_to_check(recall):
    found = ask(build_index(recall), code="(01)09506000134352(10)L9999")

    assert found.outcome == "not_affected"
    assert "Check that you entered the lot code exactly as printed near the barcode" in (
        found.reason
    )


def test_a_product_alone_asks_for_its_lot_or_serial(recall):
    found = ask(build_index(recall), gtin=FAN)

    assert found.outcome == "check"
    assert found.reason.startswith("Some units of Desk fan are part of this recall.")


def test_a_lot_without_a_product_names_the_products_it_covers(recall):
    found = ask(build_index(recall), lot="L24-07")

    assert found.outcome == "affected"
    assert "The recall covers Desk fan, Space heater." in found.reason


@pytest.mark.parametrize(
    ("serial", "outcome"),
    [
        ("SN-10000", "affected"),
        ("sn-0010000", "affected"),
        ("SN-9999", "not_affected"),
        ("SN-30000", "affected"),
        ("SN-30001", "not_affected"),
        ("SN-20001", "affected"),
        ("XX-15000", "not_affected"),
        ("500", "affected"),
        ("600", "affected"),
        ("601", "not_affected"),
        ("SN-", "not_affected"),
        ("SN-123456789012345678901", "not_affected"),
    ],
)
def test_serial_ranges_include_both_ends(recall, serial, outcome):
    assert ask(build_index(recall), serial=serial).outcome == outcome


def test_every_unit_of_a_product_is_affected_when_all_units_are(coordinator, heater):
    index = build_index(scoped(coordinator, products=[heater], all_units=True))

    assert ask(index, gtin=HEATER).outcome == "affected"
    assert ask(index, code=f"(01){HEATER}(10)ANY").outcome == "affected"
    assert ask(index, gtin=FAN).outcome == "not_affected"
    assert ask(index, lot="ANY").outcome == "check"


def test_a_date_window_the_query_cannot_tell_asks_to_check_it(coordinator, heater):
    index = build_index(
        scoped(
            coordinator,
            products=[heater],
            lots=["L1"],
            date_basis="acquired",
            date_from=day("2024-03-01"),
            date_to=day("2024-05-31"),
        )
    )

    found = ask(index, gtin=HEATER, lot="L1")

    assert found.outcome == "check"
    assert found.reason == (
        "Lot L1 of Space heater is part of this recall. Only units bought between 1 March "
        "2024 and 31 May 2024 are affected: check the date on your receipt."
    )


def test_a_region_rule_asks_to_check_where_it_was_bought(coordinator, heater):
    index = build_index(scoped(coordinator, products=[heater], lots=["L1"], regions=["CA", "TX"]))

    found = ask(index, lot="L1")

    assert found.outcome == "check"
    assert "Only units sold in CA, TX are affected: check where you bought it." in found.reason


def test_a_recall_postcode_rule_is_met_by_a_matching_postcode(coordinator, heater):
    index = build_index(scoped(coordinator, products=[heater], lots=["L1"], postcodes=["941*"]))

    assert ask(index, lot="L1", postcode="94110").outcome == "affected"
    assert ask(index, lot="L1", postcode="10001").outcome == "check"
    assert ask(index, lot="L1").outcome == "check"


def test_a_recall_asks_for_the_product_when_given_only_an_account(recall):
    assert ask(build_index(recall), account="123").outcome == "check"


# -- Answers for a service failure ----------------------------------------------------


def test_an_affected_account_is_affected_however_it_is_written(outage):
    index = build_index(outage)

    found = ask(index, account=" acc 1001 ")

    assert found.outcome == "affected"
    assert found.reason == (
        "This account is affected by the service failure between 1 March 2024 and "
        "3 March 2024. Follow the instructions on this page."
    )
    assert ask(index, account="771234").outcome == "affected"


def test_an_account_not_listed_is_not_affected(outage):
    found = ask(build_index(outage), account="ACC-1002")

    assert found.outcome == "not_affected"
    assert "Check the account number printed on your bill." in found.reason


@pytest.mark.parametrize(
    ("postcode", "outcome"),
    [
        ("94110", "affected"),
        ("sw1a 1aa", "affected"),
        ("SW1A1AA", "affected"),
        ("northside", "affected"),
        ("10001", "check"),
    ],
)
def test_a_postcode_in_the_affected_area_is_affected(outage, postcode, outcome):
    # 10001 is outside the areas, but accounts elsewhere are listed: ask for the account.
    assert ask(build_index(outage), postcode=postcode).outcome == outcome


def test_a_postcode_outside_an_area_only_outage_is_not_affected(coordinator):
    index = build_index(scoped(coordinator, kind="service", postcodes=["941*"]))

    assert ask(index, postcode="10001").outcome == "not_affected"
    assert ask(index, gtin=HEATER).outcome == "check"


def test_an_outage_of_a_whole_service_asks_which_service_one_has(coordinator):
    index = build_index(scoped(coordinator, kind="service", services=["Broadband"]))

    found = ask(index, postcode="10001")

    assert found.outcome == "check"
    assert found.reason == "Every customer of Broadband is affected: check which service you have."


def test_what_cannot_be_read_is_answered_unreadable(outage):
    found = ask(build_index(outage), code="not a barcode")

    assert found.outcome == "unreadable"
    assert "cannot be read" in found.reason
