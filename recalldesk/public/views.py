"""The public crisis site: index, incident page, lookup, registration, subscriptions and
questions. No login; no sequential ids in URLs; every form rate limited; nothing personal
shown back."""

from __future__ import annotations

import functools
import html
import json
import re
import threading
import time
from collections import Counter
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from recalldesk.outreach.rendering import ack_token
from recalldesk.public import actions, choices, heap, limits
from recalldesk.public.models import LookupCount, PublicPage
from recalldesk.public.pages import (
    PageMeta,
    page_context,
    page_meta,
    published_pages,
    remembered_meta,
)
from recalldesk.registry.cleaning import Invalid, clean_email, clean_phone

PAGE_CACHE_SECONDS = 60
MAX_FIELD = 200


def in_language(view: Any) -> Any:
    """Render the view in the language the page passes along (``lang``), if we have it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = active_language(request.POST.get("lang") or request.GET.get("lang"))
        with translation.override(language):
            return view(request, *args, **kwargs)

    return wrapper


def active_language(asked: str | None) -> str:
    """The language a view runs in when the page passes ``asked`` along."""
    return asked if asked and asked in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "public/limited.html", status=429)


# slug -> (meta, read at, page with incident and scope): read once per page and scope version
# and at most PAGE_CACHE_SECONDS old, so a lookup does not touch the database.
_pages: dict[str, tuple[PageMeta, float, PublicPage]] = {}


def forget_rendered() -> None:
    """Drop every page, body and answer shell this worker keeps, and the lookup's per-address
    counts (tests start clean, as they did when those counts were in the cache)."""
    _pages.clear()
    _bodies.clear()
    _shells.clear()
    limits.forget()


def _published(slug: str) -> PublicPage:
    meta = page_meta(slug)
    if meta is None or not meta.published:
        raise Http404("No such page.")
    now = time.monotonic()
    hit = _pages.get(slug)
    if hit is not None and hit[0] == meta and now - hit[1] < PAGE_CACHE_SECONDS:
        return hit[2]
    page = PublicPage.objects.select_related("incident__scope").get(pk=meta.page_id)
    _pages[slug] = (meta, now, page)
    heap.kept()
    return page


def _kept(slug: str, hit: tuple[PageMeta, float, Any] | None) -> Any:
    """What ``hit`` keeps, if a view would use it now without reading the database: the
    page's meta is remembered and current, it is published, ``hit`` is of that meta and
    young enough. None otherwise."""
    known, meta = remembered_meta(slug)
    if not known or meta is None or not meta.published or hit is None:
        return None
    if hit[0] == meta and time.monotonic() - hit[1] < PAGE_CACHE_SECONDS:
        return hit[2]
    return None


def kept_page(slug: str) -> PublicPage | None:
    """The page ``_published`` would return, if it can do so from memory."""
    page: PublicPage | None = _kept(slug, _pages.get(slug))
    return page


def kept_body(slug: str, language: str) -> bytes | None:
    """The body ``incident_page`` would answer, if it can do so from memory."""
    body: bytes | None = _kept(slug, _bodies.get((slug, language)))
    return body


def index(request: HttpRequest) -> HttpResponse:
    pages = published_pages()
    return render(
        request,
        "public/index.html",
        {
            "active": [p for p in pages if p.incident.status != "closed"],
            "past": [p for p in pages if p.incident.status == "closed"],
        },
    )


# (slug, language) -> (meta, rendered at, page as bytes). A plain dict rather than the cache:
# LocMemCache pickles what it keeps, and copying the page in and out on every hit costs more
# than rendering saves under a surge. Keys are only languages the page has (see below).
_bodies: dict[tuple[str, str], tuple[PageMeta, float, bytes]] = {}


def incident_page(request: HttpRequest, slug: str, language: str = "") -> HttpResponse:
    """The page, from this worker's memory when its version is current."""
    meta = page_meta(slug)
    if meta is None or not meta.published:
        raise Http404("No such page.")
    now = time.monotonic()
    hit = _bodies.get((slug, language))
    if hit is not None and hit[0] == meta and now - hit[1] < PAGE_CACHE_SECONDS:
        body = hit[2]
    else:
        page = PublicPage.objects.select_related("incident__scope").get(pk=meta.page_id)
        context = page_context(page, language or page.incident.default_language)
        if language and context["language"] != language:
            return redirect("public:page", slug)
        with translation.override(context["language"]):
            body = render_to_string("public/page.html", context, request=None).encode()
        _bodies[(slug, language)] = (meta, now, body)
        heap.kept()
    response = HttpResponse(body)
    response["Cache-Control"] = f"public, max-age={PAGE_CACHE_SECONDS // 2}"
    return response


# --- lookup ------------------------------------------------------------------------------

FLUSH_SECONDS = 5
_counts: Counter[tuple[int, str]] = Counter()
_counts_lock = threading.Lock()
_last_flush = [time.monotonic()]


def count_lookup(incident_id: int, outcome: str, *, flush: bool = True) -> None:
    """Count in memory and write the sums every few seconds: a surge of lookups must not
    become a surge of writes. Counts only; nothing of what was asked. ``flush=False`` never
    writes (the caller is outside a request's database handling): the next count does.

    Every FLUSH_SECONDS, whatever the rate: a write every 500 lookups, as before, was four
    writes a second (each holding SQLite's write lock for every worker) at 2,000 a second.
    """
    with _counts_lock:
        _counts[(incident_id, outcome)] += 1
        if not (flush and _flush_due()):
            return
        pending = dict(_counts)
        _counts.clear()
        _last_flush[0] = time.monotonic()
    flush_counts(pending)


def _flush_due() -> bool:
    return time.monotonic() - _last_flush[0] > FLUSH_SECONDS


def count_would_flush() -> bool:
    """Whether counting one more lookup now would write the counts to the database."""
    return _flush_due()


def flush_counts(pending: dict[tuple[int, str], int] | None = None) -> None:
    if pending is None:
        with _counts_lock:
            pending = dict(_counts)
            _counts.clear()
    if not pending:
        return
    today = timezone.localdate()
    # One transaction, and one UPDATE a count once the day's row exists: a flush holds the
    # write lock (on SQLite, every worker's) for as short a time as it can.
    with transaction.atomic():
        for (incident_id, outcome), n in pending.items():
            rows = LookupCount.objects.filter(incident_id=incident_id, day=today, outcome=outcome)
            if not rows.update(count=F("count") + n):
                LookupCount.objects.get_or_create(
                    incident_id=incident_id, day=today, outcome=outcome
                )
                rows.update(count=F("count") + n)


def lookup_index(request: HttpRequest, slug: str) -> HttpResponse:
    """The compact lookup index, for the static export's script (and anyone's cache)."""
    from recalldesk.public.lookup import build_index

    page = _published(slug)
    key = f"public-index:{slug}:{page.incident.scope.version}"
    body = cache.get(key)
    if body is None:
        body = json.dumps(build_index(page.incident), separators=(",", ":"))
        cache.set(key, body, PAGE_CACHE_SECONDS)
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = f"public, max-age={PAGE_CACHE_SECONDS // 2}"
    return response


LOOKUP_FIELDS = ["code", "gtin", "lot", "serial", "account", "postcode"]
# What the public typed and what the lookup answered are filled into the page rendered once
# per page, language and kind of answer: rendering the template on every lookup cost
# several times the answer itself. The slots are text that escaping leaves as it is.
_SLOT = re.compile("\ue000(code|gtin|lot|serial|account|postcode|reason|error)\ue001")
_shells: dict[tuple[str, str, str, str], tuple[PublicPage, list[str]]] = {}


def _lookup_shell(page: PublicPage, language: str, kind: str) -> list[str]:
    """lookup.html for ``kind`` (an outcome, "error", or "" for the empty form) split at its
    slots: even items are markup, odd items the names of the values that go between.

    Kept while ``_published`` returns the same page object, so it is rendered again exactly
    when the page is read again.
    """
    from recalldesk.public.lookup import Answer

    key = (page.slug, translation.get_language(), language, kind)
    hit = _shells.get(key)
    if hit is not None and hit[0] is page:
        return hit[1]
    slot = "\ue000{}\ue001".format
    context = {
        "page": page,
        "incident": page.incident,
        "given": {name: slot(name) for name in LOOKUP_FIELDS},
        "result": Answer(kind, slot("reason")) if kind not in ("", "error") else None,
        "error": slot("error") if kind == "error" else "",
        "language": language,
    }
    parts = _SLOT.split(render_to_string("public/lookup.html", context))
    _shells[key] = (page, parts)
    heap.kept()
    return parts


def kept_shell(page: PublicPage, active: str, language: str, kind: str) -> list[str] | None:
    """The shell ``_lookup_shell`` would return with ``active`` the active language, if kept."""
    hit = _shells.get((page.slug, active, language, kind))
    return hit[1] if hit is not None and hit[0] is page else None


# django-ratelimit's name for the view, so that counts in a shared cache are the same ones.
LOOKUP_GROUP = "recalldesk.public.views.lookup"


def lookup_language(page: PublicPage, asked: str | None) -> str:
    """The language of the lookup page's links and form when ``lang`` is ``asked``."""
    # Only languages we have: the language is part of the key of what is kept.
    if asked and asked in dict(settings.LANGUAGES):
        return asked
    return page.incident.default_language


def lookup_answer(page: PublicPage, asked: Any, index: Any) -> tuple[str, dict[str, str], str]:
    """The lookup of what the query string ``asked`` (a QueryDict) holds, from ``index()``,
    the page's prepared index (asked for only when the query could be read): the kind of
    answer, the values that go into its shell, and the outcome to count ("" for none)."""
    from recalldesk.public.lookup import answer, parse_query

    given = {name: asked.get(name, "")[: MAX_FIELD + 1] for name in LOOKUP_FIELDS}
    values = dict(given, reason="", error="")
    if not any(given.values()):
        return "", values, ""
    try:
        query = parse_query(**given)
    except ValueError as exc:
        values["error"] = str(exc)
        return "error", values, choices.LookupOutcome.UNREADABLE
    result = answer(index(), query)
    values["reason"] = result.reason
    return result.outcome, values, result.outcome


def fill_shell(parts: list[str], values: dict[str, str]) -> str:
    """The shell's markup with the values escaped into its slots, in one pass, so that a value
    that happens to hold a slot's text is not filled in again."""
    # html.escape is what Django's escape() does, without its check for lazy strings.
    return "".join(
        part if n % 2 == 0 else html.escape(values[part]) for n, part in enumerate(parts)
    )


@limits.per_address(LOOKUP_GROUP, lambda: settings.PUBLIC_LOOKUP_RATE)
@in_language
def lookup(request: HttpRequest, slug: str) -> HttpResponse:
    from recalldesk.public.lookup import index_for

    page = _published(slug)
    kind, values, outcome = lookup_answer(page, request.GET, lambda: index_for(page.incident))
    if outcome:
        count_lookup(page.incident_id, outcome)
    parts = _lookup_shell(page, lookup_language(page, request.GET.get("lang")), kind)
    return HttpResponse(fill_shell(parts, values))


# --- registration, subscription, questions --------------------------------------------


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=MAX_FIELD)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False)
    country = forms.CharField(label=_("Country (two letters, e.g. US)"), max_length=2, min_length=2)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    product = forms.ChoiceField(label=_("Product"))
    lot = forms.CharField(label=_("Lot code"), max_length=64, required=False)
    serial = forms.CharField(label=_("Serial number"), max_length=64, required=False)
    quantity = forms.IntegerField(label=_("How many"), min_value=1, max_value=50, initial=1)

    def __init__(self, *args: Any, products: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = {str(p.pk): p for p in products}
        field = self.fields["product"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(p.pk), p.name) for p in products]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        country = (data.get("country") or "").upper()
        data["country"] = country
        try:
            data["email"] = clean_email(data.get("email", "")) if data.get("email") else ""
        except Invalid as exc:
            self.add_error("email", str(exc))
        try:
            data["phone"] = clean_phone(data.get("phone", ""), country) if data.get("phone") else ""
        except Invalid as exc:
            self.add_error("phone", str(exc))
        if not data.get("email") and not data.get("phone") and not self.errors:
            raise forms.ValidationError(_("Give an email address or a mobile phone number."))
        if not data.get("lot") and not data.get("serial"):
            raise forms.ValidationError(_("Give the lot code or the serial number of your unit."))
        return data


@ratelimit(key="ip", rate=lambda g, r: settings.PUBLIC_FORM_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
@in_language
def register(request: HttpRequest, slug: str) -> HttpResponse:
    from recalldesk.public import tasks

    page = _published(slug)
    incident = page.incident
    products = list(incident.scope.products.all())
    form = RegisterForm(request.POST or None, products=products)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        party, affected = actions.do_register(
            incident,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            country=data["country"],
            postcode=data["postcode"],
            language=request.POST.get("lang", incident.default_language)[:10],
            product=form.products[data["product"]],
            lot=data["lot"].strip().upper(),
            serial=data["serial"].strip().upper(),
            quantity=data["quantity"],
        )
        tasks.send_registration.enqueue(incident.pk, party.pk, affected)
        return render(
            request,
            "public/registered.html",
            {
                "page": page,
                "incident": incident,
                "affected": affected,
                "party": party,
                # The new owner claims at once, through the same signed link a notice carries.
                "claim_url": reverse("claims:choose", args=[ack_token(incident.uuid, party.uuid)])
                if affected
                else "",
            },
        )
    return render(
        request, "public/register.html", {"page": page, "incident": incident, "form": form}
    )


class SubscribeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How"), choices=choices.SubscriberChannel.choices, widget=forms.RadioSelect
    )
    address = forms.CharField(label=_("Email address or mobile number"), max_length=254)
    country = forms.CharField(
        label=_("Country of the number (two letters)"), max_length=2, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            if data.get("channel") == "email":
                data["address"] = clean_email(data.get("address", ""))
            elif data.get("channel") == "sms":
                data["address"] = clean_phone(
                    data.get("address", ""), (data.get("country") or "US").upper()
                )
        except Invalid as exc:
            self.add_error("address", str(exc))
        return data


@ratelimit(key="ip", rate=lambda g, r: settings.PUBLIC_FORM_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
@in_language
def subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    page = _published(slug)
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.do_subscribe(
            page.incident,
            channel=form.cleaned_data["channel"],
            address=form.cleaned_data["address"],
            language=request.POST.get("lang", page.incident.default_language)[:10],
        )
        return render(request, "public/subscribed.html", {"page": page, "incident": page.incident})
    return render(
        request, "public/subscribe.html", {"page": page, "incident": page.incident, "form": form}
    )


@in_language
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = actions.do_confirm(token[:64])
    if subscriber is None:
        return render(request, "public/link_invalid.html", status=404)
    return render(request, "public/confirmed.html", {"incident": subscriber.incident})


@require_http_methods(["GET", "POST"])
@in_language
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One click: the button on this page, or a mail client's List-Unsubscribe-Post."""
    if request.method == "POST":
        subscriber = actions.do_unsubscribe(token[:64])
        if subscriber is None:
            return render(request, "public/link_invalid.html", status=404)
        return render(request, "public/unsubscribed.html", {"incident": subscriber.incident})
    from recalldesk.public.models import Subscriber

    subscriber = Subscriber.objects.select_related("incident").filter(token=token[:64]).first()
    if subscriber is None:
        return render(request, "public/link_invalid.html", status=404)
    return render(request, "public/unsubscribe.html", {"incident": subscriber.incident})


class QuestionForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=MAX_FIELD)
    contact = forms.CharField(label=_("Email or phone, for our answer"), max_length=254)
    text = forms.CharField(label=_("Your question"), max_length=4000, widget=forms.Textarea)


@ratelimit(key="ip", rate=lambda g, r: settings.PUBLIC_FORM_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
@in_language
def ask(request: HttpRequest, slug: str) -> HttpResponse:
    page = _published(slug)
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.do_ask(
            page.incident,
            language=request.POST.get("lang", page.incident.default_language)[:10],
            **form.cleaned_data,
        )
        return render(request, "public/asked.html", {"page": page, "incident": page.incident})
    return render(
        request, "public/ask.html", {"page": page, "incident": page.incident, "form": form}
    )
