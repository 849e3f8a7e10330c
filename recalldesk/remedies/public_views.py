"""The claimant's pages: choose a remedy from a notice link, give the details, follow it.

No login and no sequential ids: the notice's signed token names the party, offers go by
UUID, units by a keyed hash, and a claim's status page by its number and derived secret.
Every form is rate limited like the crisis site's.
"""

from __future__ import annotations

import hmac
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from recalldesk.incidents.models import Incident
from recalldesk.outreach.ack import resolve_ack_token as resolve_token
from recalldesk.registry.choices import HoldingSource
from recalldesk.registry.models import Party
from recalldesk.remedies import actions, choices, queue
from recalldesk.remedies.models import Claim, Offer
from recalldesk.remedies.public_forms import ClaimForm, StatusLookupForm


def _language(request: HttpRequest, *preferred: str) -> str:
    """The page's language: the one asked for (``lang``), else the claimant's, if we have it."""
    known = dict(settings.LANGUAGES)
    for language in (request.POST.get("lang"), request.GET.get("lang"), *preferred):
        if language and language in known:
            return language
    return settings.LANGUAGE_CODE


def _private(response: HttpResponse) -> HttpResponse:
    # The pages show a person's units and address, and their URLs hold a secret: keep them
    # out of search engines and out of the Referer sent to other sites. Not "no-referrer":
    # Chromium then sends "Origin: null" with the form, which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@ratelimit(key="ip", rate=lambda g, r: settings.PUBLIC_FORM_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest, token: str) -> HttpResponse:
    found = resolve_token(token)
    if isinstance(found, str):
        language = _language(request)
        with translation.override(language):
            return render(
                request,
                "remedies/public/link_error.html",
                {"reason": found, "language": language},
                status=410 if found == "expired" else 400,
            )
    incident, party, _entry = found
    language = _language(request, party.language, incident.default_language)
    with translation.override(language):
        return _private(_choose(request, token, incident, party, language))


def _choose(
    request: HttpRequest, token: str, incident: Incident, party: Party, language: str
) -> HttpResponse:
    items = actions.claimable(incident, party)
    offers = actions.offers_for(incident, party, items)
    asked = request.POST.get("offer") or request.GET.get("offer") or ""
    offer = next((o for o in offers if str(o.uuid) == asked), None)
    if offer is None and request.method == "POST":
        # A unit claimed meanwhile (another tab, the back button) closes the offer to this
        # owner; the claim's checks say why, rather than a bare "choose again".
        offer = _active_offer(incident, asked)
    context = {
        "incident": incident,
        "party": party,
        "items": items,
        "token": token,
        "language": language,
        "lang": request.POST.get("lang") or request.GET.get("lang") or "",
        "claims": [
            (claim, reverse("claims:status", args=[claim.number, claim.secret]))
            for claim in Claim.objects.filter(incident=incident, party=party).select_related(
                "offer"
            )
        ],
    }
    if offer is None:
        return render(
            request,
            "remedies/public/choose.html",
            {
                **context,
                "cards": [(o, queue.queue_summary(o)["next_estimate"]) for o in offers],
                "missing": "offer" in request.POST or "offer" in request.GET,
                "open_units": sum(item.remaining for item in items),
            },
            status=400 if asked and request.method == "POST" else 200,
        )
    form = ClaimForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        offer=offer,
        party=party,
        items=items,
        holding_ids=list(party.holdings.values_list("pk", flat=True)),
        initial=_initial(party),
    )
    if request.method == "POST" and form.is_valid():
        try:
            claim = actions.do_submit_claim(
                incident, party, form.claim_request(_source(items), language)
            )
        except ValidationError as exc:
            form.add_claim_errors(exc)
        else:
            return render(
                request,
                "remedies/public/submitted.html",
                {
                    **context,
                    "claim": claim,
                    "offer": offer,
                    "standing": queue.standing(claim),
                    "status_url": claim.status_url(),
                },
            )
    return render(
        request,
        "remedies/public/details.html",
        {
            **context,
            "offer": offer,
            "form": form,
            "estimate": queue.queue_summary(offer)["next_estimate"],
        },
        status=400 if form.errors else 200,
    )


def _active_offer(incident: Incident, asked: str) -> Offer | None:
    try:
        wanted = uuid.UUID(asked)
    except ValueError:
        return None
    return (
        incident.offers.filter(active=True, uuid=wanted)
        .exclude(kind=choices.OfferKind.CREDIT)
        .first()
    )


def _initial(party: Party) -> dict[str, str]:
    return {
        "email": party.email,
        "phone": party.phone,
        "ship_name": party.name,
        "address_line1": party.address_line1,
        "address_line2": party.address_line2,
        "city": party.city,
        "postcode": party.postcode,
        "country": party.country,
    }


def _source(items: list[actions.Claimable]) -> str:
    """A claim for units the owner registered on the crisis site comes from that
    registration; any other claim through the signed link comes from the notice."""
    if items and all(item.holding.source == HoldingSource.REGISTRATION for item in items):
        return choices.ClaimSource.REGISTRATION
    return choices.ClaimSource.NOTICE


def _number_key(group: str, request: HttpRequest) -> str:
    # A second limit per claim number, so guessing one claim's postcode from many
    # addresses is as slow as from one.
    return request.POST.get("number", "").replace(" ", "").replace("-", "").upper()[:12]


@never_cache
@ratelimit(key="ip", rate=lambda g, r: settings.PUBLIC_FORM_RATE, method="POST", block=True)
@ratelimit(key=_number_key, rate=lambda g, r: settings.PUBLIC_FORM_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def status_lookup(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        form = StatusLookupForm(
            request.POST if request.method == "POST" else None,
            initial={"number": request.GET.get("number", "")[:20]},
        )
        if request.method == "POST" and form.is_valid() and form.claim is not None:
            claim = form.claim
            return redirect("claims:status", claim.number, claim.secret)
        return render(
            request,
            "remedies/public/status_lookup.html",
            {"form": form, "language": language},
            status=400 if form.errors else 200,
        )


@never_cache
@require_GET
def status(request: HttpRequest, number: str, secret: str) -> HttpResponse:
    claim = (
        Claim.objects.select_related("incident", "offer__replacement_product")
        .filter(number=number.upper()[:12])
        .first()
    )
    if claim is None or not hmac.compare_digest(claim.secret, secret[:64]):
        language = _language(request)
        with translation.override(language):
            return render(
                request, "remedies/public/not_found.html", {"language": language}, status=404
            )
    language = _language(request, claim.language)
    events = list(claim.events.filter(public=True))
    rejection = next((e for e in reversed(events) if e.kind == choices.EventKind.REJECTED), None)
    with translation.override(language):
        return _private(
            render(
                request,
                "remedies/public/status.html",
                {
                    "claim": claim,
                    "incident": claim.incident,
                    "offer": claim.offer,
                    "units": claim.claim_units.select_related("holding__product"),
                    "events": events,
                    "rejection": rejection,
                    "standing": queue.standing(claim) if claim.is_open else None,
                    "language": language,
                },
            )
        )
