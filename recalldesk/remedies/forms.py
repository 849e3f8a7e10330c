"""Forms of the remedies console: an offer, a capacity week, a priority rule, a decision and a
fulfilment step."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q

from recalldesk.incidents.forms import split_values
from recalldesk.incidents.models import Incident
from recalldesk.registry.models import Product
from recalldesk.remedies import choices
from recalldesk.remedies.models import Claim, Offer, PriorityRule, monday

# What a proof of fulfilment or disposition may be: a photo or a signed PDF certificate,
# known by its first bytes rather than by the type the browser claims.
PROOF_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-")
# The kinds of remedy each kind of incident offers (``actions.check_offer`` enforces it too).
SERVICE_KINDS = (choices.OfferKind.CREDIT, choices.OfferKind.VOUCHER, choices.OfferKind.WARRANTY)


class ListField(forms.CharField):
    """A comma- or line-separated list of codes, stored as a JSON list."""

    def __init__(self, *, upper: bool = False, **kwargs: Any) -> None:
        self.upper = upper
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return list(value)
        values = split_values(super().to_python(value) or "")
        return [v.upper() for v in values] if self.upper else values


class OfferForm(forms.ModelForm):
    """An offer; what is complete for its kind and the EU rule are checked by
    ``actions.check_offer`` when it is saved."""

    replacement_product = forms.CharField(
        required=False,
        label="Replacement product (GTIN or SKU)",
        help_text="For a replacement: the product the customer receives.",
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only for these products",
        help_text="None ticked: every product in scope.",
    )
    countries = ListField(
        upper=True, label="Only in these countries", help_text="Two-letter codes, e.g. DE, FR."
    )
    regions = ListField(label="Only in these regions")
    lots = ListField(label="Only for these lots")

    class Meta:
        model = Offer
        fields = [
            "kind",
            "title",
            "description",
            "at_no_cost",
            "active",
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
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "amount": forms.TextInput(attrs={"inputmode": "decimal"}),
            "amount_cap": forms.TextInput(attrs={"inputmode": "decimal"}),
            "currency": forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"}),
            "warranty_months": forms.TextInput(attrs={"inputmode": "numeric"}),
            "weekly_capacity": forms.TextInput(attrs={"inputmode": "numeric"}),
            "lead_days": forms.TextInput(attrs={"inputmode": "numeric"}),
        }
        labels = {
            "at_no_cost": "At no cost to the customer",
            "active": "Open for claims",
            "amount_cap": "Most credit per account",
            "warranty_months": "Warranty extended by (months)",
            "evidence_required": "Ask for a photo of the label or serial",
            "weekly_capacity": "Capacity per week",
            "lead_days": "Lead time (days)",
        }
        help_texts = {"evidence_required": "", "amount": "", "amount_cap": ""}

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident
        products = self.fields["products"]
        assert isinstance(products, forms.ModelMultipleChoiceField)
        in_scope = Q(scopes__incident=incident)
        if self.instance.pk:
            in_scope |= Q(pk__in=self.instance.products.values("pk"))
        products.queryset = Product.objects.filter(in_scope).distinct().order_by("name")
        if self.instance.pk:
            self.initial["products"] = list(self.instance.products.values_list("pk", flat=True))
            replacement = self.instance.replacement_product
            if replacement is not None:
                self.initial["replacement_product"] = replacement.gtin or replacement.sku
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [
            (value, label)
            for value, label in choices.OfferKind.choices
            if (value in SERVICE_KINDS) == incident.is_service
            or value in (choices.OfferKind.VOUCHER, choices.OfferKind.WARRANTY)
        ]
        if incident.is_service:
            self.fields["amount"].label = "Credit per day of outage"
        else:
            self.fields["amount"].label = "Voucher value"
            del self.fields["amount_cap"]

    def clean_replacement_product(self) -> Product | None:
        code = self.cleaned_data.get("replacement_product", "").strip()
        if not code:
            return None
        product = Product.objects.filter(Q(gtin=code) | Q(sku=code)).first()
        if product is None:
            raise forms.ValidationError(f"No product with GTIN or SKU “{code}” in the registry.")
        return product

    def clean_currency(self) -> str:
        return self.cleaned_data.get("currency", "").strip().upper()

    def save(self, commit: bool = False) -> Offer:
        """The offer with the form's values, unsaved: ``actions.do_save_offer`` saves it."""
        offer = super().save(commit=False)
        offer.replacement_product = self.cleaned_data.get("replacement_product")
        return offer


class CapacityWeekForm(forms.Form):
    """One week's capacity of an offer, overriding its weekly default."""

    week_start = forms.DateField(
        label="Week of",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Any day of the week; it counts from its Monday.",
    )
    units = forms.IntegerField(
        min_value=0, label="Units that week", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )

    def clean_week_start(self) -> dt.date:
        day: dt.date = self.cleaned_data["week_start"]
        return monday(day)


class PriorityRuleForm(forms.ModelForm):
    """A risk rule: its points go to claims with a unit matching every condition set."""

    regions = ListField(label="In these regions")
    lots = ListField(label="Of these lots")

    class Meta:
        model = PriorityRule
        fields = ["name", "points", "made_before", "bought_before", "regions", "lots"]
        widgets = {
            "made_before": forms.DateInput(attrs={"type": "date"}),
            "bought_before": forms.DateInput(attrs={"type": "date"}),
            "points": forms.TextInput(attrs={"inputmode": "numeric"}),
        }
        labels = {"made_before": "Made before", "bought_before": "Bought before"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(n) for n in ("made_before", "bought_before", "regions", "lots")):
            raise forms.ValidationError(
                "Set at least one condition (a date, a region or a lot), or the rule would "
                "move every claim alike."
            )
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (choices.ClaimStatus.APPROVED, "Approve"),
            (choices.ClaimStatus.REJECTED, "Reject"),
        ]
    )
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Reason",
        help_text="Needed to reject: the claimant is told.",
    )


class StepForm(forms.Form):
    """A fulfilment step or the returned unit's disposition. Only the steps of the claim's
    remedy not yet recorded are offered; the order and the fields a step must record are
    checked by ``actions.check_step``."""

    step = forms.ChoiceField(label="Step")
    carrier = forms.CharField(required=False, max_length=60)
    tracking = forms.CharField(required=False, max_length=80, label="Tracking number")
    reference = forms.CharField(
        required=False, max_length=120, label="Payment reference", help_text="For a refund."
    )
    appointment = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="For a repair visit.",
    )
    voucher_code = forms.CharField(required=False, max_length=60)
    note = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    proof = forms.FileField(
        required=False,
        label="Proof (photo or PDF)",
        help_text="Needed for the returned unit: a photo, a receipt or a destruction certificate.",
    )

    def __init__(self, *args: Any, claim: Claim, done: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claim = claim
        step = self.fields["step"]
        assert isinstance(step, forms.ChoiceField)
        step.choices = [(s, choices.Step(s).label) for s in steps_open(claim, done)]

    def clean_proof(self) -> Any:
        proof = self.cleaned_data.get("proof")
        if not proof:
            return None
        if proof.size > settings.CLAIM_EVIDENCE_MAX_BYTES:
            limit = settings.CLAIM_EVIDENCE_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The proof is larger than {limit} MB.")
        head = proof.read(12)
        proof.seek(0)
        webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        if not (webp or head.startswith(PROOF_MAGIC)):
            raise forms.ValidationError("Upload a photo (JPEG, PNG or WebP) or a PDF.")
        return proof

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        missing = not data.get("proof") and "proof" not in self.errors
        if data.get("step") in choices.DISPOSITIONS and missing:
            self.add_error("proof", "Attach the proof of what happened to the returned unit.")
        return data

    def step_data(self) -> dict[str, Any]:
        names = ("carrier", "tracking", "reference", "appointment", "voucher_code", "note")
        return {name: self.cleaned_data.get(name) for name in names}


def steps_open(claim: Claim, done: set[str]) -> list[str]:
    """The steps that may still be recorded: the remedy's steps not yet done while the claim
    is approved, then the returned unit's disposition once it is approved or fulfilled."""
    steps: list[str] = []
    if claim.status == choices.ClaimStatus.APPROVED:
        steps += [s for s in claim.offer.steps if s not in done]
    if claim.status in (choices.ClaimStatus.APPROVED, choices.ClaimStatus.FULFILLED):
        steps += [s for s in choices.DISPOSITIONS if s not in done]
    return steps
