"""The public acknowledgement page behind each party's signed link: no login, no ids."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.outreach import choices
from recalldesk.outreach.events import mark_acknowledged
from recalldesk.outreach.models import Acknowledgement
from recalldesk.outreach.rendering import read_ack_token
from recalldesk.registry.models import Party

MAX_LIST_BYTES = 5 * 1024 * 1024


class ConsumerAckForm(forms.Form):
    kind = forms.ChoiceField(
        label="Your answer",
        choices=[
            (choices.AckKind.READ.value, "I have read this notice"),
            (choices.AckKind.NO_LONGER_HAVE.value, "I no longer have the product"),
            (choices.AckKind.WANT_REMEDY.value, "I still have it and want the remedy"),
        ],
        widget=forms.RadioSelect,
    )


class ConsigneeAckForm(forms.Form):
    signer_name = forms.CharField(label="Your name", max_length=200)
    on_hand = forms.IntegerField(label="Units on hand when notified", min_value=0)
    returned = forms.IntegerField(label="Units returned", min_value=0, initial=0)
    destroyed = forms.IntegerField(label="Units destroyed", min_value=0, initial=0)
    corrected = forms.IntegerField(label="Units corrected", min_value=0, initial=0)
    sub_recall_notified = forms.IntegerField(
        label="Your own customers notified", min_value=0, required=False
    )
    sub_recall_list = forms.FileField(
        label="Or upload the list of customers you notified (CSV or Excel)", required=False
    )

    def __init__(self, *args: Any, received: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = received

    def clean_sub_recall_list(self) -> Any:
        upload = self.cleaned_data.get("sub_recall_list")
        if upload and upload.size > MAX_LIST_BYTES:
            raise forms.ValidationError("The list is larger than 5 MB.")
        if upload and not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError("Upload the list as CSV or Excel (.csv, .xlsx).")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        on_hand = data.get("on_hand")
        done = sum(data.get(k) or 0 for k in ("returned", "destroyed", "corrected"))
        if on_hand is not None:
            if self.received and on_hand > self.received:
                self.add_error(
                    "on_hand",
                    f"More units on hand ({on_hand}) than we shipped to you ({self.received}).",
                )
            if done > on_hand:
                self.add_error(
                    None,
                    f"Returned, destroyed and corrected add up to {done}, more than the "
                    f"{on_hand} on hand.",
                )
        return data


def resolve_ack_token(token: str) -> tuple[Incident, Party, LedgerEntry] | str:
    try:
        incident_prefix, party_hex = read_ack_token(token)
    except signing.SignatureExpired:
        return "expired"
    except signing.BadSignature:
        return "invalid"
    party = Party.objects.filter(uuid=party_hex).first()
    incidents = (
        [
            i
            for i in Incident.objects.filter(ledger__party=party)
            if i.uuid.hex[:8] == incident_prefix
        ]
        if party
        else []
    )
    if not incidents or party is None:
        return "invalid"
    entry = LedgerEntry.objects.get(incident=incidents[0], party=party)
    return incidents[0], party, entry


def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    found = resolve_ack_token(token)
    if isinstance(found, str):
        return render(
            request,
            "outreach/ack_error.html",
            {"reason": found},
            status=410 if found == "expired" else 400,
        )
    incident, party, entry = found
    consignee = party.role == "consignee"
    done = Acknowledgement.objects.filter(incident=incident, party=party).first()
    form: forms.Form
    if consignee:
        form = ConsigneeAckForm(request.POST or None, request.FILES or None, received=entry.units)
    else:
        form = ConsumerAckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            delivery = mark_acknowledged(incident.pk, party.pk)
            ack = Acknowledgement(incident=incident, party=party, delivery=delivery)
            if consignee:
                ack.kind = choices.AckKind.CONSIGNEE_REPORT
                ack.signer_name = data["signer_name"]
                for name in ("on_hand", "returned", "destroyed", "corrected"):
                    setattr(ack, name, data.get(name) or 0)
                ack.sub_recall_notified = data.get("sub_recall_notified")
                if data.get("sub_recall_list"):
                    ack.sub_recall_list = data["sub_recall_list"]
            else:
                ack.kind = data["kind"]
            ack.save()
        return render(
            request, "outreach/ack_done.html", {"incident": incident, "party": party, "ack": ack}
        )
    return render(
        request,
        "outreach/ack.html",
        {
            "incident": incident,
            "party": party,
            "entry": entry,
            "form": form,
            "consignee": consignee,
            "done": done,
        },
    )
