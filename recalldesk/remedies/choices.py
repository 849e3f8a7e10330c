"""Choices for remedies and claims, defined once: value, label and the colour the console
shows."""

from django.db import models


class OfferKind(models.TextChoices):
    REFUND = "refund", "Refund"
    REPLACEMENT = "replacement", "Replacement"
    REPAIR_KIT = "repair_kit", "Repair kit by post"
    REPAIR_VISIT = "repair_visit", "Repair appointment"
    WARRANTY = "warranty", "Extended warranty"
    VOUCHER = "voucher", "Voucher"
    CREDIT = "credit", "Service credit"


# What the claimant must give for each kind of remedy.
NEEDS_ADDRESS = {OfferKind.REPLACEMENT, OfferKind.REPAIR_KIT, OfferKind.REPAIR_VISIT}
NEEDS_PAYOUT = {OfferKind.REFUND}
# EU consumer law (GPSR Art. 37): a recall offers at least one of these, at no cost.
EU_CORE = {OfferKind.REFUND, OfferKind.REPLACEMENT, OfferKind.REPAIR_KIT, OfferKind.REPAIR_VISIT}
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)


class Audience(models.TextChoices):
    CONSUMER = "consumer", "Consumers"
    CONSIGNEE = "consignee", "Consignees"
    ALL = "all", "Everyone"


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    FULFILLED = "fulfilled", "Fulfilled"
    REJECTED = "rejected", "Rejected"


CLAIM_COLOURS = {
    ClaimStatus.SUBMITTED: "amber",
    ClaimStatus.APPROVED: "blue",
    ClaimStatus.FULFILLED: "green",
    ClaimStatus.REJECTED: "red",
}
# Claims that wait in an offer's queue for capacity.
OPEN = (ClaimStatus.SUBMITTED, ClaimStatus.APPROVED)


class ClaimSource(models.TextChoices):
    NOTICE = "notice", "Notice link"
    REGISTRATION = "registration", "Registered on the crisis site"
    STAFF = "staff", "Entered by staff"


class PayoutMethod(models.TextChoices):
    BANK = "bank", "Bank transfer"
    PAYPAL = "paypal", "PayPal"
    CHEQUE = "cheque", "Cheque by post"
    ORIGINAL = "original", "Back to the original payment"


class Step(models.TextChoices):
    SHIPPED = "shipped", "Replacement shipped"
    KIT_SHIPPED = "kit_shipped", "Repair kit shipped"
    REPAIR_BOOKED = "repair_booked", "Repair booked"
    REPAIR_DONE = "repair_done", "Repair done"
    REFUND_PAID = "refund_paid", "Refund paid"
    VOUCHER_ISSUED = "voucher_issued", "Voucher issued"
    WARRANTY_EXTENDED = "warranty_extended", "Warranty extended"
    RETURNED = "returned", "Unit returned"
    DESTROYED = "destroyed", "Unit destroyed"
    CORRECTED = "corrected", "Unit corrected"


DISPOSITIONS = (Step.RETURNED, Step.DESTROYED, Step.CORRECTED)
# The fulfilment steps of each remedy, in order; the last one fulfils the claim.
STEPS_FOR = {
    OfferKind.REFUND: (Step.REFUND_PAID,),
    OfferKind.REPLACEMENT: (Step.SHIPPED,),
    OfferKind.REPAIR_KIT: (Step.KIT_SHIPPED,),
    OfferKind.REPAIR_VISIT: (Step.REPAIR_BOOKED, Step.REPAIR_DONE),
    OfferKind.WARRANTY: (Step.WARRANTY_EXTENDED,),
    OfferKind.VOUCHER: (Step.VOUCHER_ISSUED,),
    OfferKind.CREDIT: (),
}
# What each step must record.
STEP_FIELDS = {
    Step.SHIPPED: ("carrier", "tracking"),
    Step.KIT_SHIPPED: ("carrier", "tracking"),
    Step.REPAIR_BOOKED: ("appointment",),
    Step.REPAIR_DONE: (),
    Step.REFUND_PAID: ("reference",),
    Step.VOUCHER_ISSUED: ("voucher_code",),
    Step.WARRANTY_EXTENDED: (),
    Step.RETURNED: (),
    Step.DESTROYED: (),
    Step.CORRECTED: (),
}


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", "Claim submitted"
    FLAGGED = "flagged", "Flagged for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    STEP = "step", "Fulfilment step"
    NOTE = "note", "Note"


class FlagCode(models.TextChoices):
    SERIAL_CLAIMED = "serial_claimed", "Serial already claimed"
    SERIAL_OUT_OF_SCOPE = "serial_out_of_scope", "Serial not in scope"
    TOO_MANY_UNITS = "too_many_units", "More units than held"
    VELOCITY = "velocity", "Many claims from one email or address"
