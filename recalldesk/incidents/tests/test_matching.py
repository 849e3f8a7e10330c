"""Matching a scope against the registry builds the ledger, and rematching shows the change."""

from __future__ import annotations

import pytest

from recalldesk.incidents import actions
from recalldesk.incidents.matching import count_selection, holdings_in_scope, selection_for
from recalldesk.incidents.models import LedgerEntry, Scope
from recalldesk.incidents.tests.builders import (
    day,
    holding,
    incident,
    party,
    product,
    save_and_match,
    scope_data,
)

pytestmark = pytest.mark.django_db


def affected_names(target) -> set[str]:
    return set(
        LedgerEntry.objects.affected().filter(incident=target).values_list("party__name", flat=True)
    )


@pytest.fixture
def heater():
    return product("HTR-1", "00012345678905", "Space heater")


@pytest.fixture
def kettle():
    return product("KTL-1", "04006381333931", "Kettle")


def test_it_matches_holdings_by_lot_of_the_scoped_products(coordinator, heater, kettle):
    alice, bob, carol = party("Alice"), party("Bob"), party("Carol")
    holding(alice, heater, lot="L100", quantity=2)
    holding(bob, heater, lot="L999")
    holding(carol, kettle, lot="L100")  # same lot code, other product
    target = incident(coordinator)

    run = save_and_match(coordinator, target, products=[heater], lots=["L100", "L101"])

    assert affected_names(target) == {"Alice"}
    entry = LedgerEntry.objects.get(incident=target)
    assert (entry.units, entry.holdings_count) == (2, 1)
    assert (run.parties_affected, run.units_affected, run.holdings_matched) == (1, 2, 1)


def test_it_matches_lots_of_any_product_when_no_product_is_named(coordinator, heater, kettle):
    alice, carol = party("Alice"), party("Carol")
    holding(alice, heater, lot="L100")
    holding(carol, kettle, lot="L100")
    target = incident(coordinator)

    save_and_match(coordinator, target, lots=["L100"])

    assert affected_names(target) == {"Alice", "Carol"}


def test_it_matches_numeric_and_prefixed_serial_ranges(coordinator, heater):
    owners = {name: party(name) for name in ["In", "Edge", "Out", "OtherPrefix", "Numeric"]}
    holding(owners["In"], heater, serial="SN-0015000")
    holding(owners["Edge"], heater, serial="SN-0020000")
    holding(owners["Out"], heater, serial="SN-0020001")
    holding(owners["OtherPrefix"], heater, serial="XX-0015000")
    holding(owners["Numeric"], heater, serial="12345")
    target = incident(coordinator)

    save_and_match(
        coordinator,
        target,
        products=[heater],
        serials=[("SN-", 10000, 20000), ("", 12000, 12400)],
    )

    assert affected_names(target) == {"In", "Edge", "Numeric"}


def test_it_counts_a_holding_in_scope_by_lot_and_serial_once(coordinator, heater):
    alice = party("Alice")
    holding(alice, heater, lot="L1", serial="SN5", quantity=3)
    target = incident(coordinator)

    run = save_and_match(coordinator, target, lots=["L1"], serials=[("SN", 1, 9)])

    assert run.holdings_matched == 1
    assert LedgerEntry.objects.get(incident=target).units == 3


def test_it_applies_the_manufacture_date_window(coordinator, heater):
    early, inside, late, unknown = party("Early"), party("Inside"), party("Late"), party("Unknown")
    holding(early, heater, lot="L1", manufactured_on=day("2023-12-31"))
    holding(inside, heater, lot="L1", manufactured_on=day("2024-01-01"))
    holding(late, heater, lot="L1", manufactured_on=day("2024-04-01"))
    holding(unknown, heater, lot="L1")
    target = incident(coordinator)

    save_and_match(
        coordinator, target, lots=["L1"], date_from=day("2024-01-01"), date_to=day("2024-03-31")
    )

    assert affected_names(target) == {"Inside"}


def test_it_applies_an_acquisition_date_window(coordinator, heater):
    bought_early, bought_inside = party("Early"), party("Inside")
    holding(bought_early, heater, lot="L1", acquired_on=day("2022-05-01"))
    holding(bought_inside, heater, lot="L1", acquired_on=day("2024-02-01"))
    target = incident(coordinator)

    save_and_match(
        coordinator, target, lots=["L1"], date_basis="acquired", date_from=day("2024-01-01")
    )

    assert affected_names(target) == {"Inside"}


def test_it_limits_the_scope_to_regions_and_postcode_prefixes(coordinator, heater):
    ca, tx, sw1, sw9 = party("CA"), party("TX"), party("SW1"), party("N1")
    holding(ca, heater, lot="L1", region="CA", postcode="94105")
    holding(tx, heater, lot="L1", region="TX", postcode="73301")
    holding(sw1, heater, lot="L1", region="London", postcode="SW1A 1AA")
    holding(sw9, heater, lot="L1", region="London", postcode="N1 9GU")
    target = incident(coordinator)

    save_and_match(coordinator, target, lots=["L1"], regions=["CA", "London"])
    assert affected_names(target) == {"CA", "SW1", "N1"}

    save_and_match(coordinator, target, lots=["L1"], postcodes=["SW1*", "94105"])
    assert affected_names(target) == {"CA", "SW1"}


def test_a_postcode_prefix_treats_wildcard_characters_literally(coordinator, heater):
    plain = party("Plain")
    holding(plain, heater, lot="L1", postcode="AB12")
    target = incident(coordinator)

    save_and_match(coordinator, target, lots=["L1"], postcodes=["A_*"])

    assert affected_names(target) == set()


def test_all_units_affects_every_unit_of_the_products(coordinator, heater, kettle):
    alice, bob = party("Alice"), party("Bob")
    holding(alice, heater, lot="ANY", serial="Q1")
    holding(bob, kettle, lot="ANY")
    target = incident(coordinator)

    save_and_match(coordinator, target, products=[heater], all_units=True)

    assert affected_names(target) == {"Alice"}


def test_a_service_failure_matches_accounts_by_service_area_and_outage_window(coordinator):
    hit, other_area, before, other_service = (
        party("Hit"),
        party("OtherArea"),
        party("Before"),
        party("OtherService"),
    )
    holding(
        hit,
        kind="service",
        service="Fibre 500",
        area="North",
        account_number="A1",
        period_start=day("2024-01-01"),
    )
    holding(
        other_area,
        kind="service",
        service="Fibre 500",
        area="South",
        account_number="A2",
        period_start=day("2024-01-01"),
    )
    holding(
        before,
        kind="service",
        service="Fibre 500",
        area="North",
        account_number="A3",
        period_start=day("2023-01-01"),
        period_end=day("2023-12-31"),
    )
    holding(other_service, kind="service", service="Mobile", area="North", account_number="A4")
    target = incident(coordinator, kind="service", title="Fibre outage")

    save_and_match(
        coordinator,
        target,
        services=["Fibre 500"],
        areas=["North"],
        window_start=day("2024-06-01"),
        window_end=day("2024-06-02"),
    )

    assert affected_names(target) == {"Hit"}


def test_rematching_a_changed_scope_shows_who_is_new_who_left_and_keeps_their_rows(
    coordinator, heater
):
    stays, leaves, joins = party("Stays"), party("Leaves"), party("Joins")
    holding(stays, heater, lot="L1")
    holding(leaves, heater, lot="L2")
    holding(joins, heater, lot="L3")
    target = incident(coordinator)
    first = save_and_match(coordinator, target, lots=["L1", "L2"])
    kept_row = LedgerEntry.objects.get(incident=target, party=stays)

    second = save_and_match(coordinator, target, lots=["L1", "L3"])

    assert (first.newly_affected, first.still_affected, first.no_longer_affected) == (2, 0, 0)
    assert (second.newly_affected, second.still_affected, second.no_longer_affected) == (1, 1, 1)
    assert affected_names(target) == {"Stays", "Joins"}
    stays_row = LedgerEntry.objects.get(incident=target, party=stays)
    assert stays_row.pk == kept_row.pk
    assert stays_row.added_run_id == first.pk
    left = LedgerEntry.objects.get(incident=target, party=leaves)
    assert (left.status, left.removed_run_id) == ("removed", second.pk)
    assert {h.party.name for _, _, h in target.ledger.holdings()} == {"Stays", "Joins"}
    assert left.holdings == []


def test_a_rematch_writes_only_the_entries_whose_units_changed(coordinator, heater):
    same, more = party("Same"), party("More")
    holding(same, heater, lot="L1", quantity=2)
    holding(more, heater, lot="L1")
    target = incident(coordinator)
    first = save_and_match(coordinator, target, lots=["L1", "L2"])
    before = {e.party.name: e for e in LedgerEntry.objects.filter(incident=target)}
    holding(more, heater, lot="L2", quantity=3)

    second = save_and_match(coordinator, target, lots=["L1", "L2"])

    after = {e.party.name: e for e in LedgerEntry.objects.filter(incident=target)}
    assert (second.newly_affected, second.still_affected, second.no_longer_affected) == (0, 2, 0)
    assert (second.parties_affected, second.units_affected) == (2, 6)
    assert (after["More"].units, after["More"].holdings_count) == (4, 2)
    assert after["More"].updated_at > before["More"].updated_at
    assert after["More"].added_run_id == first.pk
    # Unchanged, so not written: the row is exactly as the first match left it.
    assert after["Same"].updated_at == before["Same"].updated_at
    assert (after["Same"].units, after["Same"].added_run_id) == (2, first.pk)


def test_a_party_that_comes_back_into_scope_counts_as_newly_affected(coordinator, heater):
    back = party("Back")
    holding(back, heater, lot="L1")
    target = incident(coordinator)
    save_and_match(coordinator, target, lots=["L1"])
    save_and_match(coordinator, target, lots=["L9"])

    third = save_and_match(coordinator, target, lots=["L1"])

    assert third.newly_affected == 1
    entry = LedgerEntry.objects.get(incident=target, party=back)
    assert (entry.status, entry.added_run_id, entry.removed_run_id) == ("affected", third.pk, None)


def test_two_incidents_keep_separate_ledgers(coordinator, heater):
    alice, bob = party("Alice"), party("Bob")
    holding(alice, heater, lot="L1")
    holding(bob, heater, lot="L2")
    first, second = incident(coordinator), incident(coordinator, title="Second")

    save_and_match(coordinator, first, lots=["L1"])
    save_and_match(coordinator, second, lots=["L2"])
    save_and_match(coordinator, first, lots=["L1"])

    assert affected_names(first) == {"Alice"}
    assert affected_names(second) == {"Bob"}


def test_preview_counts_without_saving_the_scope(coordinator, heater):
    alice, bob = party("Alice"), party("Bob")
    holding(alice, heater, lot="L1", quantity=4)
    holding(bob, heater, lot="L1")
    target = incident(coordinator)

    counts = actions.preview_scope(coordinator, target, scope_data(lots=["L1"]))

    assert (counts.holdings, counts.parties, counts.units) == (2, 2, 5)
    scope = Scope.objects.get(incident=target)
    assert (scope.version, scope.lots.count()) == (0, 0)
    assert not LedgerEntry.objects.filter(incident=target).exists()


def test_holdings_in_scope_is_the_same_selection_as_the_ledger(coordinator, heater):
    alice, bob = party("Alice"), party("Bob")
    wanted = holding(alice, heater, lot="L1")
    holding(bob, heater, lot="L2")
    target = incident(coordinator)
    save_and_match(coordinator, target, lots=["L1"])
    scope = Scope.objects.select_related("incident").get(incident=target)

    assert list(holdings_in_scope(scope)) == [wanted]
    assert count_selection(selection_for(scope)).holdings == 1


def test_saving_a_scope_queues_a_match_after_commit(
    coordinator, heater, django_capture_on_commit_callbacks
):
    alice = party("Alice")
    holding(alice, heater, lot="L1")
    target = incident(coordinator)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = actions.do_save_scope(coordinator, target, scope_data(lots=["L1"]), {})

    assert len(callbacks) == 1
    run.refresh_from_db()
    assert (run.status, run.parties_affected) == ("done", 1)
    assert affected_names(target) == {"Alice"}


def test_deleting_a_party_removes_its_ledger_rows(coordinator, heater):
    gone, stays = party("Gone"), party("Stays")
    holding(gone, heater, lot="L1")
    holding(stays, heater, lot="L1")
    target = incident(coordinator)
    save_and_match(coordinator, target, lots=["L1"])

    gone.delete()

    assert affected_names(target) == {"Stays"}
    assert [h.party_id for _, _, h in target.ledger.holdings()] == [stays.pk]


def test_deleting_an_incident_removes_its_ledger(coordinator, heater):
    holding(party("Alice"), heater, lot="L1")
    target = incident(coordinator)
    save_and_match(coordinator, target, lots=["L1"])

    target.delete()

    assert not LedgerEntry.objects.exists()


def test_swapping_one_lot_for_another_is_a_new_scope_version(coordinator, heater):
    target = incident(coordinator)
    save_and_match(coordinator, target, products=[heater], lots=["L1", "L2"])
    first = Scope.objects.get(incident=target).version
    save_and_match(coordinator, target, products=[heater], lots=["L1", "L3"])
    assert Scope.objects.get(incident=target).version == first + 1
    save_and_match(coordinator, target, products=[heater], lots=["L3", "L1"])
    assert Scope.objects.get(incident=target).version == first + 1


def test_each_entry_sums_only_its_own_incidents_holdings(coordinator, heater, kettle):
    alice, bob = party("Alice"), party("Bob")
    holding(alice, heater, lot="L1", quantity=2)
    holding(alice, heater, lot="L1", quantity=3)
    holding(alice, kettle, lot="K1", quantity=7)
    holding(bob, heater, lot="L1", quantity=1)
    heaters, kettles = incident(coordinator), incident(coordinator, title="Kettles")

    save_and_match(coordinator, kettles, products=[kettle], lots=["K1"])
    save_and_match(coordinator, heaters, products=[heater], lots=["L1"])
    holding(alice, heater, lot="L1", quantity=4)
    rematch = save_and_match(coordinator, heaters, products=[heater], lots=["L1", "L2"])

    figures = {
        (e.incident_id, e.party.name): (e.units, e.holdings_count)
        for e in LedgerEntry.objects.select_related("party")
    }
    assert figures == {
        (kettles.pk, "Alice"): (7, 1),
        (heaters.pk, "Alice"): (9, 3),
        (heaters.pk, "Bob"): (1, 1),
    }
    assert (rematch.units_affected, rematch.still_affected) == (10, 2)


def test_an_entry_holds_its_holdings_with_their_units_in_holding_order(coordinator, heater):
    alice, bob = party("Alice"), party("Bob")
    first = holding(alice, heater, lot="L2", quantity=2)
    second = holding(bob, heater, lot="L1")
    third = holding(alice, heater, lot="L1", quantity=5)
    holding(alice, heater, lot="L9")
    target = incident(coordinator)

    save_and_match(coordinator, target, lots=["L1", "L2"])

    alices = LedgerEntry.objects.get(incident=target, party=alice)
    assert alices.holdings == [[first.pk, 2], [third.pk, 5]]
    assert (alices.units, alices.holdings_count) == (7, 2)
    assert LedgerEntry.objects.get(incident=target, party=bob).holdings == [[second.pk, 1]]
    assert [(p, units, h.pk) for p, units, h in target.ledger.holdings()] == [
        (alice.pk, 2, first.pk),
        (alice.pk, 5, third.pk),
        (bob.pk, 1, second.pk),
    ]


def test_a_rematch_rewrites_an_entry_whose_holdings_changed_but_not_its_units(coordinator, heater):
    alice = party("Alice")
    old = holding(alice, heater, lot="L1")
    new = holding(alice, heater, lot="L2")
    target = incident(coordinator)
    save_and_match(coordinator, target, lots=["L1"])
    before = LedgerEntry.objects.get(incident=target, party=alice)

    run = save_and_match(coordinator, target, lots=["L2"])

    after = LedgerEntry.objects.get(incident=target, party=alice)
    assert (before.holdings, after.holdings) == ([[old.pk, 1]], [[new.pk, 1]])
    assert after.units == before.units
    assert after.updated_at > before.updated_at
    assert (run.still_affected, run.holdings_matched) == (1, 1)


def test_a_holding_deleted_after_the_match_is_left_out_of_the_ledger_holdings(coordinator, heater):
    alice = party("Alice")
    kept = holding(alice, heater, lot="L1")
    gone = holding(alice, heater, lot="L1", quantity=3)
    target = incident(coordinator)
    save_and_match(coordinator, target, lots=["L1"])

    gone.delete()

    assert [(units, h.pk) for _, units, h in target.ledger.holdings()] == [(1, kept.pk)]
