"""What can be done with remedies and claims: ``check_*`` validates and checks access,
``do_*`` changes and records (every claim change writes a ``ClaimEvent``)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce, Least, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from recalldesk.audit.models import ChangeRecord, diff_fields, record_change
from recalldesk.incidents.models import (
    Incident,
    LedgerEntry,
    Scope,
    ScopeSerialRange,
)
from recalldesk.registry.models import Holding, Party
from recalldesk.registry.serials import split_serial
from recalldesk.remedies import choices
from recalldesk.remedies.models import (
    CapacityWeek,
    Claim,
    ClaimEvent,
    ClaimUnit,
    Offer,
    PriorityRule,
    monday,
)

OFFER_FIELDS = [
    "kind",
    "title",
    "description",
    "at_no_cost",
    "active",
    "replacement_product_id",
    "amount",
    "amount_cap",
    "currency",
    "warranty_months",
    "audience",
    "countries",
    "regions",
    "lots",
    "evidence_required",
    "weekly_capacity",
    "lead_days",
]
# Claim numbers: no 0/O or 1/I/L, so they can be read over the phone.
NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CARD_NUMBER = re.compile(r"(?:\d[ -]?){13,19}")


def check_perm(user: Any, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(f"Your role does not allow this ({perm.split('.')[-1]}).")


def get_claim(user: Any, claim_uuid: Any, perm: str = "remedies.view_claim") -> Claim:
    """The claim, if ``user`` may ``perm`` it; 404 for no such claim."""
    claim = get_object_or_404(
        Claim.objects.select_related("incident", "party", "offer"), uuid=claim_uuid
    )
    check_perm(user, perm)
    return claim


def get_offer(user: Any, offer_uuid: Any, perm: str = "remedies.manage_offers") -> Offer:
    offer = get_object_or_404(Offer.objects.select_related("incident"), uuid=offer_uuid)
    check_perm(user, perm)
    return offer


# --- offers and eligibility ------------------------------------------------------------


def holding_eligible(offer: Offer, party: Party, holding: Holding) -> bool:
    """Whether ``offer`` is open to ``party`` for ``holding`` (every set rule must pass)."""
    if not offer.active:
        return False
    if offer.audience != choices.Audience.ALL and offer.audience != party.role:
        return False
    country = holding.country or party.country
    if offer.countries and country not in offer.countries:
        return False
    if offer.regions and (holding.region or party.region) not in offer.regions:
        return False
    if offer.lots and holding.lot not in offer.lots:
        return False
    product_ids = offer_product_ids(offer)
    return not (product_ids and holding.product_id not in product_ids)


def offer_product_ids(offer: Offer) -> set[int]:
    cached = getattr(offer, "_product_ids", None)
    if cached is None:
        cached = set(offer.products.values_list("pk", flat=True))
        offer._product_ids = cached  # type: ignore[attr-defined]
    return cached


def eu_rule_gaps(incident: Incident, offers: list[Offer] | None = None) -> list[str]:
    """EU countries where the incident has affected parties but no free refund, replacement
    or repair is open to them (GPSR Art. 37 asks for at least one). Empty when the rule
    holds."""
    if incident.is_service:
        return []
    countries = set(
        LedgerEntry.objects.affected()
        .filter(incident=incident, party__country__in=choices.EU_COUNTRIES)
        .values_list("party__country", flat=True)
        .distinct()
    )
    if offers is None:
        offers = list(incident.offers.all())
    covered: set[str] = set()
    for offer in offers:
        if offer.active and offer.at_no_cost and offer.kind in choices.EU_CORE:
            covered |= set(offer.countries) if offer.countries else countries
    return sorted(countries - covered)


def check_offer(user: Any, incident: Incident, offer: Offer) -> None:
    """Refuse an offer that is incomplete for its kind, or that would leave EU owners
    without a free refund, replacement or repair."""
    check_perm(user, "remedies.manage_offers")
    errors: dict[str, str] = {}
    kind = offer.kind
    if kind == choices.OfferKind.CREDIT and not incident.is_service:
        errors["kind"] = "Service credits are for service failures; this incident is a recall."
    if incident.is_service and kind != choices.OfferKind.CREDIT and kind in choices.EU_CORE:
        errors["kind"] = "A service failure offers credits, vouchers or warranties."
    if kind == choices.OfferKind.REPLACEMENT and not offer.replacement_product_id:
        errors["replacement_product"] = "Say which product replaces the affected one."
    if kind in (choices.OfferKind.VOUCHER, choices.OfferKind.CREDIT):
        if not offer.amount or offer.amount <= 0:
            errors["amount"] = (
                "Give the credit per day of outage."
                if kind == choices.OfferKind.CREDIT
                else "Give the voucher's value."
            )
        if not offer.currency:
            errors["currency"] = "Give the currency (three letters, e.g. EUR)."
    if kind == choices.OfferKind.WARRANTY and not offer.warranty_months:
        errors["warranty_months"] = "Give how many months the warranty is extended."
    if not errors and not incident.is_service:
        others = [o for o in incident.offers.all() if o.pk != offer.pk]
        old = list(Offer.objects.filter(pk=offer.pk)) if offer.pk else []
        before = set(eu_rule_gaps(incident, others + old))
        after = eu_rule_gaps(incident, [*others, offer])
        helps = offer.active and offer.at_no_cost and offer.kind in choices.EU_CORE
        if after and (set(after) - before or not helps):
            errors["__all__"] = (
                "EU rule: owners in "
                + ", ".join(after)
                + " must be offered a refund, a replacement or a repair at no cost. "
                "Add that offer first."
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_save_offer(user: Any, incident: Incident, offer: Offer, products: list[Any]) -> Offer:
    """Save a new or edited offer with its history row on the incident."""
    before = (
        {name: getattr(Offer.objects.get(pk=offer.pk), name) for name in OFFER_FIELDS}
        if offer.pk
        else {}
    )
    check_offer(user, incident, offer)
    created = offer.pk is None
    offer.incident = incident
    if created:
        offer.created_by = user if getattr(user, "is_authenticated", False) else None
        offer.position = incident.offers.count()
    offer.save()
    offer.products.set(products)
    after = {name: getattr(offer, name) for name in OFFER_FIELDS}
    record_change(
        user,
        incident,
        ChangeRecord.Action.UPDATED,
        {f"offer {offer.title}: {k}": v for k, v in diff_fields(before, after).items()},
        note="offer added" if created else "offer changed",
    )
    return offer


@transaction.atomic
def do_set_capacity(user: Any, offer: Offer, week_start: dt.date, units: int) -> CapacityWeek:
    """Set one week's capacity of an offer (from its Monday), with its history row."""
    check_perm(user, "remedies.manage_offers")
    week_start = monday(week_start)
    before = CapacityWeek.objects.filter(offer=offer, week_start=week_start).first()
    week, _ = CapacityWeek.objects.update_or_create(
        offer=offer, week_start=week_start, defaults={"units": units}
    )
    record_change(
        user,
        offer.incident,
        ChangeRecord.Action.UPDATED,
        {
            f"offer {offer.title}: capacity week of {week_start}": [
                before.units if before else None,
                units,
            ]
        },
        note="capacity changed",
    )
    return week


@transaction.atomic
def do_add_priority_rule(user: Any, incident: Incident, rule: PriorityRule) -> int:
    """Add a priority rule and place every open claim again; returns how many moved."""
    check_perm(user, "remedies.manage_offers")
    rule.incident = incident
    rule.save()
    record_change(
        user,
        incident,
        ChangeRecord.Action.UPDATED,
        {f"priority rule {rule.name}": [None, rule.points]},
        note="priority rule added",
    )
    return do_reprioritise(user, incident)


@transaction.atomic
def do_delete_priority_rule(user: Any, rule: PriorityRule) -> int:
    """Delete a priority rule and place every open claim again; returns how many moved."""
    check_perm(user, "remedies.manage_offers")
    incident = rule.incident
    record_change(
        user,
        incident,
        ChangeRecord.Action.UPDATED,
        {f"priority rule {rule.name}": [rule.points, None]},
        note="priority rule deleted",
    )
    rule.delete()
    return do_reprioritise(user, incident)


# --- what a party may claim ------------------------------------------------------------


@dataclass
class Claimable:
    """One affected holding of a party and how many of its units are still unclaimed."""

    holding: Holding
    held: int
    claimed: int
    claim_numbers: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(0, self.held - self.claimed)


def claimable(incident: Incident, party: Party) -> list[Claimable]:
    """The party's affected holdings in the ledger, with what earlier claims already cover
    (rejected claims do not count)."""
    rows = list(
        LedgerEntry.objects.filter(incident=incident, party=party).holdings(
            Holding.objects.select_related("product")
        )
    )
    taken: dict[int, tuple[int, list[str]]] = {}
    for unit in (
        ClaimUnit.objects.filter(
            holding_id__in=[row[2].pk for row in rows], claim__incident=incident
        )
        .exclude(claim__status=choices.ClaimStatus.REJECTED)
        .select_related("claim")
    ):
        count, numbers = taken.get(unit.holding_id, (0, []))
        taken[unit.holding_id] = (count + unit.quantity, [*numbers, unit.claim.number])
    return [
        Claimable(holding, units, *taken.get(holding.pk, (0, [])))
        for _party, units, holding in rows
    ]


def offers_for(incident: Incident, party: Party, holdings: list[Claimable]) -> list[Offer]:
    """The active offers open to ``party`` for at least one of its claimable holdings."""
    offers = [
        o
        for o in incident.offers.filter(active=True).exclude(kind=choices.OfferKind.CREDIT)
        if any(holding_eligible(o, party, c.holding) for c in holdings if c.remaining)
    ]
    return offers


def looks_like_card(text: str) -> bool:
    """A payment card number (13 to 19 digits passing the Luhn check) anywhere in ``text``."""
    for match in CARD_NUMBER.finditer(text):
        digits = [int(d) for d in re.sub(r"\D", "", match.group())]
        total = 0
        for n, digit in enumerate(reversed(digits)):
            if n % 2:
                digit *= 2
                digit -= 9 if digit > 9 else 0
            total += digit
        if total % 10 == 0:
            return True
    return False


@dataclass
class ClaimRequest:
    """What a claimant asks for: the offer, units per holding and the details it needs."""

    offer: Offer
    units: dict[int, int]
    source: str
    language: str = "en"
    email: str = ""
    phone: str = ""
    ship_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""
    payout_method: str = ""
    payout_reference: str = ""
    serial_seen: str = ""
    evidence: Any = None


def check_claim(incident: Incident, party: Party, request: ClaimRequest) -> list[Claimable]:
    """Refuse a claim that cannot be right, naming the field: an offer not open to this
    party, a unit not affected or already claimed, more units than held, a missing address
    or payout reference, a card number, missing evidence. Returns the holdings claimed."""
    offer = request.offer
    errors: dict[str, list[str]] = {}

    def refuse(name: str, text: str) -> None:
        errors.setdefault(name, []).append(text)

    if offer.incident_id != incident.pk or not offer.active:
        refuse("offer", _("This remedy is not offered for this recall."))
    held = {c.holding.pk: c for c in claimable(incident, party)}
    chosen = {pk: n for pk, n in request.units.items() if n}
    if not chosen:
        refuse("units", _("Choose at least one unit to claim for."))
    for pk, count in chosen.items():
        item = held.get(pk)
        if item is None:
            refuse("units", _("One of the units is not affected by this recall."))
            continue
        if item.remaining == 0:
            numbers = ", ".join(item.claim_numbers)
            refuse(
                "units",
                _("You have already claimed this unit (claim %(numbers)s).") % {"numbers": numbers},
            )
        elif count > item.remaining:
            refuse(
                "units",
                _("You asked for %(count)s units but hold %(left)s more that can be claimed.")
                % {"count": count, "left": item.remaining},
            )
        elif offer.active and not holding_eligible(offer, party, item.holding):
            refuse("offer", _("This remedy is not open for one of the units you chose."))
    if offer.needs_address:
        for name, label in (
            ("ship_name", _("the name to deliver to")),
            ("address_line1", _("the street address")),
            ("city", _("the town or city")),
            ("postcode", _("the postcode")),
            ("country", _("the country")),
        ):
            if not getattr(request, name).strip():
                refuse(
                    name,
                    _("Give %(what)s: we need it to send your %(remedy)s.")
                    % {"what": label, "remedy": offer.title.lower()},
                )
    if offer.needs_payout:
        if not request.payout_method:
            refuse("payout_method", _("Choose how we pay your refund."))
        if request.payout_method in (choices.PayoutMethod.BANK, choices.PayoutMethod.PAYPAL) and (
            not request.payout_reference.strip()
        ):
            refuse(
                "payout_reference",
                _("Give the account holder and the last digits, or PayPal address."),
            )
        if request.payout_method == choices.PayoutMethod.CHEQUE and not (
            request.address_line1.strip() and request.postcode.strip()
        ):
            refuse("address_line1", _("Give the address the cheque goes to."))
    for name in ("payout_reference", "serial_seen", "address_line1", "address_line2"):
        if looks_like_card(getattr(request, name)):
            refuse(name, _("Never give a card number here; we do not need it."))
    if offer.evidence_required and not request.evidence:
        refuse("evidence", _("This remedy needs a photo of the label or serial number."))
    if not request.email and not request.phone:
        refuse(
            "email",
            _("Give an email address or a mobile number so we can tell you of progress."),
        )
    if errors:
        raise ValidationError(errors)
    return [held[pk] for pk in chosen]


def serial_in_scope(incident: Incident, serial: str) -> bool | None:
    """Whether ``serial`` falls in one of the scope's serial ranges; None when the scope
    names no serials (it is then not a check)."""
    scope = Scope.objects.get(incident_id=incident.pk)
    if scope.all_units:
        return True
    ranges = ScopeSerialRange.objects.filter(scope=scope)
    if not ranges.exists():
        return None
    prefix, number = split_serial(serial)
    if number is None:
        return False
    return ranges.filter(prefix=prefix, first_number__lte=number, last_number__gte=number).exists()


def flags_for(
    incident: Incident, party: Party, request: ClaimRequest, items: list[Claimable]
) -> list[dict[str, str]]:
    """What staff should look at before deciding: serials claimed by someone else, a serial
    out of scope, a claimant claiming more than held, many claims from one email or address."""
    flags: list[dict[str, str]] = []
    serials = {c.holding.serial.upper() for c in items if c.holding.serial}
    if request.serial_seen:
        seen = request.serial_seen.strip().upper()
        serials.add(seen)
        if serial_in_scope(incident, seen) is False:
            flags.append(
                {
                    "code": choices.FlagCode.SERIAL_OUT_OF_SCOPE,
                    "text": f"Serial {seen} on the label is not in the recall's serial ranges.",
                }
            )
    if serials:
        others = (
            ClaimUnit.objects.filter(claim__incident=incident)
            .exclude(claim__status=choices.ClaimStatus.REJECTED)
            .exclude(claim__party=party)
            .filter(Q(holding__serial__in=serials) | Q(claim__serial_seen__in=serials))
            .select_related("claim", "holding")
        )
        for unit in others[:5]:
            flags.append(
                {
                    "code": choices.FlagCode.SERIAL_CLAIMED,
                    "text": f"Serial {unit.holding.serial or unit.claim.serial_seen} is also "
                    f"claimed by another party in claim {unit.claim.number}.",
                }
            )
    since = timezone.now() - dt.timedelta(hours=settings.CLAIM_VELOCITY_HOURS)
    recent = Claim.objects.filter(submitted_at__gte=since)
    same = Q(pk__in=[])
    if request.email:
        same |= Q(email__iexact=request.email)
    if request.address_line1 and request.postcode:
        same |= Q(
            postcode__iexact=request.postcode.strip(),
            address_line1__iexact=request.address_line1.strip(),
        )
    count = recent.filter(same).count()
    if count + 1 > settings.CLAIM_VELOCITY_LIMIT:
        flags.append(
            {
                "code": choices.FlagCode.VELOCITY,
                "text": f"{count + 1} claims from this email or address in the last "
                f"{settings.CLAIM_VELOCITY_HOURS} hours.",
            }
        )
    return flags


def priority_of(incident: Incident, party: Party, holdings: list[Holding]) -> int:
    rules = list(PriorityRule.objects.filter(incident=incident))
    return sum(
        rule.points for rule in rules if any(rule.matches(h, party.region) for h in holdings)
    )


def _amount(offer: Offer, items: list[Claimable], units: dict[int, int]) -> tuple[Any, str]:
    if offer.kind == choices.OfferKind.REFUND:
        # At least the price paid: the holding's price, else the product's list price.
        total = Decimal("0")
        currency = ""
        for item in items:
            price = item.holding.unit_price
            product = item.holding.product
            if price is None and product is not None:
                price = product.unit_price
            if price is None:
                return None, ""
            total += price * units[item.holding.pk]
            currency = currency or (product.currency if product else "")
        return total, currency
    if offer.kind == choices.OfferKind.VOUCHER:
        return offer.amount, offer.currency
    return None, ""


def _new_number() -> str:
    while True:
        raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"{raw[:4]}-{raw[4:]}"
        if not Claim.objects.filter(number=number).exists():
            return number


def record_event(
    claim: Claim,
    actor: Any,
    kind: str,
    *,
    old_status: str = "",
    new_status: str = "",
    public: bool = True,
    **fields: Any,
) -> ClaimEvent:
    """Write the claim's history row; a public one is sent to the claimant after commit."""
    from recalldesk.remedies import tasks

    user = actor if getattr(actor, "is_authenticated", False) else None
    event = ClaimEvent.objects.create(
        claim=claim,
        actor=user,
        actor_name=user.get_username() if user else "",
        kind=kind,
        old_status=old_status,
        new_status=new_status,
        public=public,
        **fields,
    )
    if public:
        transaction.on_commit(lambda: tasks.schedule_notice(event.pk))
    return event


def do_submit_claim(
    incident: Incident, party: Party, request: ClaimRequest, actor: Any = None
) -> Claim:
    """Check and store a claim with its units, priority, amount, first estimate and flags."""
    from recalldesk.remedies.queue import standing

    with transaction.atomic():
        # One claim at a time per party: two tabs submitting at once must not both pass the
        # "already claimed" check.
        LedgerEntry.objects.select_for_update().filter(incident=incident, party=party).first()
        items = check_claim(incident, party, request)
        units = {c.holding.pk: request.units[c.holding.pk] for c in items}
        flags = flags_for(incident, party, request, items)
        amount, currency = _amount(request.offer, items, units)
        claim = Claim.objects.create(
            number=_new_number(),
            incident=incident,
            party=party,
            offer=request.offer,
            source=request.source,
            language=request.language,
            units=sum(units.values()),
            priority=priority_of(incident, party, [c.holding for c in items]),
            email=request.email,
            phone=request.phone,
            ship_name=request.ship_name.strip(),
            address_line1=request.address_line1.strip(),
            address_line2=request.address_line2.strip(),
            city=request.city.strip(),
            postcode=request.postcode.strip().upper(),
            country=request.country.strip().upper(),
            payout_method=request.payout_method,
            payout_reference=request.payout_reference.strip(),
            serial_seen=request.serial_seen.strip().upper(),
            evidence=request.evidence or "",
            amount=amount,
            currency=currency,
            flags=flags,
        )
        ClaimUnit.objects.bulk_create(
            [ClaimUnit(claim=claim, holding_id=pk, quantity=n) for pk, n in units.items()]
        )
        place = standing(claim)
        if place and place.estimate:
            claim.promised_on = place.estimate
            claim.save(update_fields=["promised_on"])
        record_event(claim, actor, choices.EventKind.SUBMITTED, new_status=claim.status)
        _acknowledge(incident, party)
        if flags:
            record_event(
                claim,
                None,
                choices.EventKind.FLAGGED,
                public=False,
                reason="; ".join(f["text"] for f in flags),
            )
    return claim


def _acknowledge(incident: Incident, party: Party) -> None:
    """A claimant has plainly received the notice: record the answer, so that escalation
    stops chasing them."""
    from recalldesk.outreach.choices import AckKind
    from recalldesk.outreach.events import mark_acknowledged
    from recalldesk.outreach.models import Acknowledgement

    if Acknowledgement.objects.filter(incident=incident, party=party).exists():
        return
    delivery = mark_acknowledged(incident.pk, party.pk)
    Acknowledgement.objects.create(
        incident=incident,
        party=party,
        delivery=delivery,
        kind=AckKind.WANT_REMEDY,
        note="claimed a remedy",
    )


# --- staff decisions and fulfilment ----------------------------------------------------


def check_decision(user: Any, claim: Claim, decision: str, reason: str) -> None:
    check_perm(user, "remedies.decide_claim")
    if decision == choices.ClaimStatus.APPROVED:
        if claim.status != choices.ClaimStatus.SUBMITTED:
            raise ValidationError(
                f"Claim {claim.number} is {claim.get_status_display().lower()}; only a "
                "submitted claim can be approved."
            )
    elif decision == choices.ClaimStatus.REJECTED:
        if claim.status not in choices.OPEN:
            raise ValidationError(
                f"Claim {claim.number} is {claim.get_status_display().lower()}; only an open "
                "claim can be rejected."
            )
        if not reason.strip():
            raise ValidationError("Say why the claim is rejected: the claimant is told.")
    else:
        raise ValidationError(f"Unknown decision {decision!r}.")


def do_decide(user: Any, claims: list[Claim], decision: str, reason: str = "") -> list[Claim]:
    """Approve or reject claims (one or many): each gets its history row and its notice.
    Every claim is checked first, so a bulk decision applies to all or to none."""
    for claim in claims:
        check_decision(user, claim, decision, reason)
    now = timezone.now()
    with transaction.atomic():
        for claim in claims:
            old = claim.status
            changed = Claim.objects.filter(pk=claim.pk, status=old).update(
                status=decision, decided_at=now
            )
            if not changed:
                raise ValidationError(f"Claim {claim.number} changed meanwhile; reload it.")
            claim.status, claim.decided_at = decision, now
            record_event(
                claim,
                user,
                decision,
                old_status=old,
                new_status=decision,
                reason=reason.strip(),
            )
    return claims


def check_step(user: Any, claim: Claim, step: str, data: dict[str, Any], proof: Any = None) -> None:
    """Refuse a fulfilment step that does not belong to the claim's remedy, comes out of
    order, or lacks what it must record (a disposition needs its proof)."""
    check_perm(user, "remedies.fulfil_claim")
    offer_steps = claim.offer.steps
    done = set(claim.events.filter(kind=choices.EventKind.STEP).values_list("step", flat=True))
    if step in choices.DISPOSITIONS:
        if claim.status not in (choices.ClaimStatus.APPROVED, choices.ClaimStatus.FULFILLED):
            raise ValidationError("Record the returned unit once the claim is approved.")
    elif step in offer_steps:
        if claim.status != choices.ClaimStatus.APPROVED:
            raise ValidationError(
                f"Claim {claim.number} is {claim.get_status_display().lower()}: only an "
                "approved claim can be fulfilled."
            )
        earlier = offer_steps[: offer_steps.index(choices.Step(step))]
        missing = [s for s in earlier if s not in done]
        if missing:
            raise ValidationError(f"Record “{choices.Step(missing[0]).label}” before this step.")
    else:
        raise ValidationError(
            f"“{choices.Step(step).label if step in choices.Step.values else step}” is not a "
            f"step of a {claim.offer.get_kind_display().lower()}."
        )
    errors = {
        name: "Required for this step."
        for name in choices.STEP_FIELDS[choices.Step(step)]
        if not data.get(name)
    }
    if step in choices.DISPOSITIONS and not proof:
        errors["proof"] = (
            "Attach the proof: a collection receipt, a photo or a certificate of destruction."
        )
    if errors:
        raise ValidationError(errors)


def do_record_step(
    user: Any, claim: Claim, step: str, data: dict[str, Any], proof: Any = None
) -> ClaimEvent:
    """Record a fulfilment step or the returned unit's disposition; the remedy's last step
    fulfils the claim, and a fulfilled remedy or a disposition counts the units corrected."""
    check_step(user, claim, step, data, proof)
    fields = {
        k: data[k] for k in ("carrier", "tracking", "reference", "voucher_code") if data.get(k)
    }
    if data.get("appointment"):
        fields["appointment"] = data["appointment"]
    with transaction.atomic():
        old = claim.status
        last = claim.offer.steps[-1] if claim.offer.steps else None
        new = old
        if step == last:
            new = choices.ClaimStatus.FULFILLED
            now = timezone.now()
            Claim.objects.filter(pk=claim.pk).update(status=new, fulfilled_at=now)
            claim.status, claim.fulfilled_at = new, now
        event = record_event(
            claim,
            user,
            choices.EventKind.STEP,
            step=step,
            old_status=old if new != old else "",
            new_status=new if new != old else "",
            reason=(data.get("note") or "").strip(),
            proof=proof or "",
            **fields,
        )
        if step == last or step in choices.DISPOSITIONS:
            count_corrected(claim)
    return event


def count_corrected(claim: Claim) -> bool:
    """Count the claim's units corrected in the ledger, once per claim."""
    now = timezone.now()
    if not Claim.objects.filter(pk=claim.pk, corrected_at__isnull=True).update(corrected_at=now):
        return False
    claim.corrected_at = now
    LedgerEntry.objects.filter(incident_id=claim.incident_id, party_id=claim.party_id).update(
        units_corrected=Least(F("units"), F("units_corrected") + claim.units),
        corrected_at=Coalesce(F("corrected_at"), now),
    )
    return True


def do_reprioritise(user: Any, incident: Incident) -> int:
    """Apply the incident's priority rules again to every open claim (after a rule changed);
    returns how many claims moved."""
    check_perm(user, "remedies.manage_offers")
    moved = 0
    rules = list(PriorityRule.objects.filter(incident=incident))
    claims = (
        Claim.objects.filter(incident=incident, status__in=choices.OPEN)
        .select_related("party")
        .prefetch_related("claim_units__holding")
    )
    for claim in claims:
        holdings = [u.holding for u in claim.claim_units.all()]
        region = claim.party.region
        points = sum(r.points for r in rules if any(r.matches(h, region) for h in holdings))
        if points != claim.priority:
            Claim.objects.filter(pk=claim.pk).update(priority=points)
            moved += 1
    record_change(
        user, incident, ChangeRecord.Action.UPDATED, {"claims reprioritised": [None, moved]}
    )
    return moved


# --- completion ------------------------------------------------------------------------


@dataclass
class Completion:
    """How much of an incident's ledger has been made safe."""

    units: int
    units_corrected: int
    parties: int
    parties_completed: int
    trend: list[tuple[dt.date, int]]

    @property
    def unit_rate(self) -> float:
        return self.units_corrected / self.units if self.units else 0.0

    @property
    def party_rate(self) -> float:
        return self.parties_completed / self.parties if self.parties else 0.0


def completion(incident: Incident, weeks: int = 8) -> Completion:
    """Units and parties corrected, and the cumulative units corrected at the end of each of
    the last ``weeks`` weeks."""
    affected = LedgerEntry.objects.affected().filter(incident=incident)
    totals = affected.aggregate(
        units=Coalesce(Sum("units"), 0), corrected=Coalesce(Sum("units_corrected"), 0)
    )
    parties = affected.count()
    completed = affected.filter(units__gt=0, units_corrected__gte=F("units")).count()
    today = timezone.localdate()
    ends = [today - dt.timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    by_day = (
        affected.filter(corrected_at__isnull=False)
        .annotate(day=TruncDate("corrected_at"))
        .values("day")
        .annotate(n=Sum("units_corrected"))
        .values_list("day", "n")
    )
    days = sorted(by_day)
    trend = [(end, sum(n for day, n in days if day <= end)) for end in ends]
    return Completion(
        units=totals["units"],
        units_corrected=totals["corrected"],
        parties=parties,
        parties_completed=completed,
        trend=trend,
    )
