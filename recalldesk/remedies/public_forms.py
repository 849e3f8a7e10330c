"""The claimant's forms: the units claimed, the details the chosen remedy needs, the photo
of the label, and the two-factor lookup of a claim's status page."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from PIL import Image

from recalldesk.registry.cleaning import Invalid, clean_phone
from recalldesk.registry.models import Party
from recalldesk.remedies import choices
from recalldesk.remedies.actions import Claimable, ClaimRequest, holding_eligible
from recalldesk.remedies.models import Claim, Offer

UNIT_PREFIX = "units-"
# Pillow's format names of the photos a claimant may send, with their MIME types. HEIC only
# counts when a HEIF plugin is installed: a file staff cannot open is no evidence.
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
HEIC_TYPES = {"HEIF": "image/heic"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}
PAYOUT_LABELS = {
    choices.PayoutMethod.BANK: _("Bank transfer"),
    choices.PayoutMethod.PAYPAL: _("PayPal"),
    choices.PayoutMethod.CHEQUE: _("Cheque by post"),
    choices.PayoutMethod.ORIGINAL: _("Back to the card or account you paid with"),
}


def unit_key(holding_pk: int) -> str:
    """The name a holding goes by in the form: stable, but no sequential id in the page."""
    return salted_hmac("recalldesk.claim-unit", str(holding_pk)).hexdigest()[:12]


def photo_types() -> dict[str, str]:
    """The photo formats this installation's Pillow can open (format name -> MIME type)."""
    Image.init()
    wanted = {**PHOTO_TYPES, **HEIC_TYPES}
    return {name: mime for name, mime in wanted.items() if name in Image.OPEN}


def photo_type_names() -> str:
    return ", ".join("HEIC" if name == "HEIF" else name for name in photo_types())


class ClaimForm(forms.Form):
    """The details one remedy needs. Built for the chosen offer: a units field per affected
    holding that is open to it, an address for what is sent or visited, payout details for a
    refund, a photo when the offer asks for one."""

    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Mobile phone"), required=False, max_length=40)
    ship_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    address_line1 = forms.CharField(label=_("Street and number"), required=False, max_length=200)
    address_line2 = forms.CharField(
        label=_("Flat, building (optional)"), required=False, max_length=200
    )
    city = forms.CharField(label=_("Town or city"), required=False, max_length=100)
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=20)
    country = forms.CharField(
        label=_("Country (two letters, e.g. US)"), required=False, max_length=2
    )
    payout_method = forms.ChoiceField(
        label=_("How should we pay you?"),
        required=False,
        widget=forms.RadioSelect,
        choices=list(PAYOUT_LABELS.items()),
    )
    payout_reference = forms.CharField(
        label=_("Account holder and last four digits, or PayPal address"),
        help_text=_("Never a card number: we do not need it and will not store it."),
        required=False,
        max_length=120,
    )
    serial_seen = forms.CharField(
        label=_("Serial number as printed on your unit (optional)"),
        help_text=_("It helps us match your unit quickly."),
        required=False,
        max_length=64,
    )
    evidence = forms.FileField(label=_("Photo of the label or serial number"), required=False)

    def __init__(
        self,
        *args: Any,
        offer: Offer,
        party: Party,
        items: list[Claimable],
        holding_ids: list[int],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.party = party
        # Every holding of the party by its key: a key for one of them that is not (or no
        # longer) open goes to the claim's checks, which say why; any other key is refused.
        self.keys = {unit_key(pk): pk for pk in holding_ids}
        self.unit_fields: list[tuple[str, Claimable]] = []
        self.units_errors: list[str] = []
        for item in items:
            if not item.remaining or not holding_eligible(offer, party, item.holding):
                continue
            name = UNIT_PREFIX + unit_key(item.holding.pk)
            self.fields[name] = forms.IntegerField(
                label=_("Units to claim"),
                required=False,
                min_value=0,
                initial=item.remaining,
                error_messages={"min_value": _("Give a number of units, 0 or more.")},
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "units"}),
            )
            self.unit_fields.append((name, item))
        address = offer.needs_address or offer.needs_payout
        if not address:
            for name in ("ship_name", "address_line1", "address_line2", "city", "postcode"):
                del self.fields[name]
            del self.fields["country"]
        if not offer.needs_payout:
            del self.fields["payout_method"]
            del self.fields["payout_reference"]
        if offer.evidence_required:
            types = photo_types()
            self.fields["evidence"].help_text = _(
                "A clear photo where we can read the label. %(types)s, up to %(size)s."
            ) % {
                "types": photo_type_names(),
                "size": filesizeformat(settings.CLAIM_EVIDENCE_MAX_BYTES),
            }
            self.fields["evidence"].widget.attrs["accept"] = ",".join(types.values())
        else:
            del self.fields["evidence"]
        for name in ("ship_name", "address_line1", "city", "postcode", "country"):
            if name in self.fields and offer.needs_address:
                self.fields[name].widget.attrs["aria-required"] = "true"
        autocomplete = {
            "email": "email",
            "phone": "tel",
            "ship_name": "name",
            "address_line1": "address-line1",
            "address_line2": "address-line2",
            "city": "address-level2",
            "postcode": "postal-code",
            "country": "country",
        }
        for name, token in autocomplete.items():
            if name in self.fields:
                self.fields[name].widget.attrs["autocomplete"] = token
        self.fields["phone"].widget.input_type = "tel"

    @property
    def unit_rows(self) -> list[tuple[forms.BoundField, Claimable]]:
        return [(self[name], item) for name, item in self.unit_fields]

    @property
    def address_fields(self) -> list[forms.BoundField]:
        names = ("ship_name", "address_line1", "address_line2", "city", "postcode", "country")
        return [self[name] for name in names if name in self.fields]

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            raise ValidationError(_("Give the country as two letters, such as US or DE."))
        return country

    def clean_payout_reference(self) -> str:
        return (self.cleaned_data.get("payout_reference") or "").strip()

    def clean_evidence(self) -> Any:
        upload = self.cleaned_data.get("evidence")
        if not upload:
            return None
        limit = settings.CLAIM_EVIDENCE_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("Photo of the label: this file is %(size)s; send a photo of %(limit)s or less.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        types = photo_types()
        not_a_photo = ValidationError(
            _("Photo of the label: this file is not a photo we can open. Send a %(types)s.")
            % {"types": photo_type_names()}
        )
        try:
            with Image.open(upload) as image:
                kind = image.format
                image.verify()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise not_a_photo from exc
        if kind not in types:
            raise not_a_photo
        upload.seek(0)
        # The phone's file name can carry a person's name or the place and time of the
        # photo; the stored name says nothing.
        upload.name = f"{secrets.token_hex(10)}.{EXTENSIONS[kind]}"
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("phone"):
            country = data.get("country") or self.party.country
            try:
                data["phone"] = clean_phone(data["phone"], country)
            except Invalid as exc:
                self.add_error("phone", str(exc))
        units: dict[int, int] = {}
        for name, value in self.data.items():
            if not name.startswith(UNIT_PREFIX):
                continue
            pk = self.keys.get(name[len(UNIT_PREFIX) :])
            if pk is None:
                self.units_errors.append(str(_("One of the units is not affected by this recall.")))
                continue
            if name in self.fields:
                count = data.get(name)
            else:
                try:
                    count = int(value)
                except (TypeError, ValueError):
                    count = None
            if count:
                units[pk] = count
        data["units"] = units
        if self.units_errors:
            raise ValidationError(self.units_errors[0])
        return data

    def claim_request(self, source: str, language: str) -> ClaimRequest:
        data = self.cleaned_data
        return ClaimRequest(
            offer=self.offer,
            units=data["units"],
            source=source,
            language=language,
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            ship_name=data.get("ship_name") or "",
            address_line1=data.get("address_line1") or "",
            address_line2=data.get("address_line2") or "",
            city=data.get("city") or "",
            postcode=data.get("postcode") or "",
            country=data.get("country") or "",
            payout_method=data.get("payout_method") or "",
            payout_reference=data.get("payout_reference") or "",
            serial_seen=data.get("serial_seen") or "",
            evidence=data.get("evidence"),
        )

    def add_claim_errors(self, error: ValidationError) -> None:
        """Put the claim checks' refusals beside the fields they name."""
        for name, messages in error.message_dict.items():
            if name == "units":
                self.units_errors.extend(messages)
                self.add_error(None, messages)
            elif name in self.fields:
                self.add_error(name, messages)
            else:
                self.add_error(None, messages)


def normal_number(text: str) -> str:
    raw = re.sub(r"[\s-]", "", text).upper()
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


def normal_postcode(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def same(given: str, kept: str) -> bool:
    return bool(kept) and hmac.compare_digest(given.encode(), kept.encode())


class StatusLookupForm(forms.Form):
    """A claim number and a second factor the claimant gave with it: the email address or
    the postcode. A wrong pair says only that no claim matched."""

    number = forms.CharField(
        label=_("Claim number"), help_text=_("For example ABCD-EF23."), max_length=20
    )
    second = forms.CharField(
        label=_("The email address or postcode you gave with the claim"), max_length=254
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claim: Claim | None = None
        self.fields["number"].widget.attrs.update(
            {"autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"}
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        number = normal_number(data["number"])
        second = data["second"].strip()
        claim = Claim.objects.filter(number=number).first()
        found = claim is not None and (
            same(second.lower(), claim.email.lower())
            if "@" in second
            else same(normal_postcode(second), normal_postcode(claim.postcode))
        )
        if not found:
            raise ValidationError(
                _("We found no claim with that number and email or postcode."), code="no_match"
            )
        self.claim = claim
        return data
