"""Forms of the incident console: the incident itself and its scope editor."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from recalldesk.incidents import choices
from recalldesk.incidents.models import Incident
from recalldesk.incidents.scope_text import parse_lot_lines, parse_serial_lines
from recalldesk.registry.models import Product
from recalldesk.registry.serials import split_serial

# Expanding a lot range writes one row per code; past this the range is surely a typo.
MAX_LOT_CODES = 250_000
SPLIT = re.compile(r"[\n,;]+")


def split_values(text: str) -> list[str]:
    """Split a pasted list on lines, commas and semicolons; keep order, drop repeats."""
    seen: dict[str, None] = {}
    for value in SPLIT.split(text or ""):
        value = value.strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "kind",
            "title",
            "hazard",
            "classification",
            "owner",
            "default_language",
            "detected_at",
            "announced_at",
            "first_notice_at",
        ]
        widgets = {
            "hazard": forms.Textarea(attrs={"rows": 3}),
            "detected_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "announced_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "first_notice_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        if self.instance.pk:
            # Changing the kind would orphan the scope's rules; open a new incident instead.
            self.fields["kind"].disabled = True


class ScopeForm(forms.Form):
    """The scope editor. Every pasted list is parsed; what cannot be read is refused by name."""

    products = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Products (GTIN or SKU, one per line)",
    )
    all_units = forms.BooleanField(required=False, label="All lots and serials of these products")
    lots = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Lot or batch codes",
        help_text="One per line, or ranges such as 1234 through 1250.",
    )
    serials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Serial numbers",
        help_text="Single serials or ranges such as SN10000-SN20000.",
    )
    date_basis = forms.ChoiceField(choices=choices.DateBasis.choices, label="Date of")
    date_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    date_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To"
    )
    regions = forms.CharField(required=False, label="Regions", help_text="Comma separated.")
    postcodes = forms.CharField(
        required=False, label="Postcodes", help_text="Comma separated; end with * for a prefix."
    )
    services = forms.CharField(required=False, label="Services", help_text="Comma separated.")
    areas = forms.CharField(required=False, label="Areas", help_text="Comma separated.")
    accounts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Account numbers",
    )
    window_start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Outage from"
    )
    window_end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Outage to"
    )

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident

    def clean_products(self) -> list[Product]:
        wanted = split_values(self.cleaned_data["products"])
        if not wanted:
            return []
        found = list(Product.objects.filter(Q(gtin__in=wanted) | Q(sku__in=wanted)))
        known = {p.gtin for p in found} | {p.sku for p in found}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise forms.ValidationError(
                "Not in the product registry: %(codes)s.",
                params={"codes": ", ".join(unknown[:20])},
            )
        return found

    def clean_lots(self) -> list[str]:
        parsed = parse_lot_lines(self.cleaned_data["lots"])
        if parsed.unparsed:
            raise forms.ValidationError(
                [f"Cannot read “{u.text}”: {u.reason}." for u in parsed.unparsed[:10]]
            )
        lots: dict[str, None] = dict.fromkeys(parsed.lots)
        for lot_range in parsed.lot_ranges:
            if lot_range.end - lot_range.start + 1 + len(lots) > MAX_LOT_CODES:
                raise forms.ValidationError(
                    "The range “%(text)s” would list more than %(max)s lots; check it.",
                    params={"text": lot_range.text, "max": f"{MAX_LOT_CODES:,}"},
                )
            lots.update(dict.fromkeys(lot_range.codes()))
        return list(lots)

    def clean_serials(self) -> list[tuple[str, int, int]]:
        """Serial ranges as ``(prefix, first, last)``; a single serial is a range of one."""
        parsed = parse_serial_lines(self.cleaned_data["serials"])
        if parsed.unparsed:
            raise forms.ValidationError(
                [f"Cannot read “{u.text}”: {u.reason}." for u in parsed.unparsed[:10]]
            )
        ranges = [(r.prefix.upper(), r.start, r.end) for r in parsed.serial_ranges]
        for serial in parsed.serials:
            prefix, number = split_serial(serial)
            if number is None:
                raise forms.ValidationError(
                    "The serial “%(s)s” has no numeric part to match on.", params={"s": serial}
                )
            ranges.append((prefix, number, number))
        return list(dict.fromkeys(ranges))

    def clean_regions(self) -> list[str]:
        return split_values(self.cleaned_data["regions"])

    def clean_postcodes(self) -> list[str]:
        return [p.upper() for p in split_values(self.cleaned_data["postcodes"])]

    def clean_services(self) -> list[str]:
        return split_values(self.cleaned_data["services"])

    def clean_areas(self) -> list[str]:
        return split_values(self.cleaned_data["areas"])

    def clean_accounts(self) -> list[str]:
        return split_values(self.cleaned_data["accounts"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        for first, last in (("date_from", "date_to"), ("window_start", "window_end")):
            if data.get(first) and data.get(last) and data[first] > data[last]:
                self.add_error(last, "The end is before the start.")
        if self.incident.is_service:
            if not (data["services"] or data["areas"] or data["accounts"]):
                raise forms.ValidationError("Name at least one service, area or account.")
        else:
            if data["all_units"] and not data["products"]:
                self.add_error("products", "Name the products whose every unit is affected.")
            if not (data["all_units"] or data["lots"] or data["serials"]):
                raise forms.ValidationError(
                    "Give lot codes or serial numbers, or tick “all lots and serials”."
                )
        return data
