"""Atom feeds of the crisis site: the published updates of one incident, or of all of them.

Only published pages and published updates are ever in a feed. An update is shown in the
feed's language (``?lang=de``), falling back to the incident's default language, then to
any language the update was written in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone, translation
from django.utils.feedgenerator import Atom1Feed, SyndicationFeed
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from recalldesk.public.choices import UpdateStatus
from recalldesk.public.models import PublicPage, Update, UpdateText

# The feed of all incidents is polled by aggregators: the newest entries are enough.
ALL_FEED_LIMIT = 50
# A language tag as the page writes them ("de", "pt-br"); anything else is ignored rather
# than carried into xml:lang.
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def public_page_url(slug: str) -> str:
    """The absolute address of an incident's public page."""
    return f"{settings.PUBLIC_URL}/status/{slug}/"


def public_feed_url(slug: str | None = None) -> str:
    """The absolute address of an incident's feed, or of the feed of all incidents."""
    if slug is None:
        return f"{settings.PUBLIC_URL}/status/feed.atom"
    return f"{settings.PUBLIC_URL}/status/{slug}/feed.atom"


def requested_language(request: HttpRequest) -> str | None:
    """The ``lang`` query parameter if it looks like a language tag, else None."""
    value = request.GET.get("lang", "").strip().lower()
    return value if LANGUAGE_TAG.match(value) else None


def pick_text(texts: dict[str, UpdateText], wanted: str, default: str) -> UpdateText | None:
    """The update's text in ``wanted``, else in ``default``, else in any language it has."""
    for language in (wanted, default, *sorted(texts)):
        if language in texts:
            return texts[language]
    return None


def published_updates() -> QuerySet[Update]:
    """Published updates of published pages, newest first, with their texts."""
    return (
        Update.objects.filter(
            status=UpdateStatus.PUBLISHED,
            published_at__isnull=False,
            incident__public__published=True,
        )
        .select_related("incident__public")
        .prefetch_related("translations")
        .order_by("-published_at", "-id")
    )


@dataclass(frozen=True)
class FeedSubject:
    """What one request asked for: an incident's page (None: all incidents) and a language,
    ``chosen`` when it came from ``?lang=`` rather than the default."""

    page: PublicPage | None
    language: str
    chosen: bool = False

    def query(self) -> str:
        return f"?lang={self.language}" if self.chosen else ""


@dataclass(frozen=True)
class FeedEntry:
    """One published update as the feed shows it, with the text chosen for the language."""

    update: Update
    text: UpdateText | None
    slug: str


class UpdateAtomFeed(Atom1Feed):
    """Atom with the update in ``<content type="html">`` (Django writes only ``<summary>``)
    and ``xml:lang`` on an entry whose text fell back to another language."""

    def item_attributes(self, item: dict[str, Any]) -> dict[str, str]:
        attributes = super().item_attributes(item)
        if item.get("language") and item["language"] != self.feed["language"]:
            attributes["xml:lang"] = item["language"]
        return attributes

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        # The words go in <content>; a <summary> repeating them would only double the feed.
        super().add_item_elements(handler, {**item, "description": None})
        handler.addQuickElement("content", item["content"], {"type": "html"})


class UpdateFeed(Feed):
    """What the two feeds share: entries, their words and the language switch."""

    feed_type: type[SyndicationFeed] = UpdateAtomFeed

    def get_feed(self, obj: FeedSubject, request: HttpRequest) -> SyndicationFeed:
        # The framing words, month names and the feed's xml:lang follow the chosen language.
        with translation.override(obj.language):
            return super().get_feed(obj, request)

    def author_name(self) -> str:
        return str(settings.COMPANY_NAME)

    def entries(self, updates: QuerySet[Update] | list[Update], language: str) -> list[FeedEntry]:
        return [
            FeedEntry(
                update=update,
                text=pick_text(update.texts(), language, update.incident.default_language),
                slug=update.incident.public.slug,
            )
            for update in updates
        ]

    def item_title(self, item: FeedEntry) -> str:
        assert item.update.published_at is not None
        when = formats.date_format(timezone.localtime(item.update.published_at), "j M Y H:i")
        return _("Update %(when)s") % {"when": when}

    def item_description(self, item: FeedEntry) -> str:
        return ""  # UpdateAtomFeed writes <content> instead

    def item_link(self, item: FeedEntry) -> str:
        return f"{public_page_url(item.slug)}#update-{item.update.uuid}"

    def item_guid(self, item: FeedEntry) -> str:
        return f"urn:uuid:{item.update.uuid}"

    def item_pubdate(self, item: FeedEntry) -> Any:
        return item.update.published_at

    def item_updateddate(self, item: FeedEntry) -> Any:
        return item.update.published_at

    def item_extra_kwargs(self, item: FeedEntry) -> dict[str, Any]:
        return {
            "content": str(update_html(item)),
            "language": item.text.language if item.text else None,
        }


def update_html(item: FeedEntry) -> SafeString:
    """The update's three parts and its promise of the next update, as escaped HTML."""
    parts = []
    if item.text is not None:
        for heading, body in (
            (_("What is resolved"), item.text.resolved),
            (_("What is in progress"), item.text.in_progress),
            (_("How to take part"), item.text.take_part),
        ):
            if body.strip():
                # linebreaks escapes the text itself (autoescape) but returns a plain str.
                parts.append((heading, mark_safe(linebreaks(body, autoescape=True))))
    sections = format_html_join("", "<h3>{}</h3>{}", parts)
    when = formats.date_format(timezone.localtime(item.update.next_update_at), "j M Y H:i")
    promise = format_html("<p><em>{}</em></p>", _("Next update by %(when)s") % {"when": when})
    return format_html("{}{}", sections, promise)


class IncidentFeed(UpdateFeed):
    """The published updates of one published incident page, newest first."""

    def get_object(self, request: HttpRequest, slug: str) -> FeedSubject:
        page = get_object_or_404(
            PublicPage.objects.select_related("incident"), slug=slug, published=True
        )
        chosen = requested_language(request)
        return FeedSubject(page, chosen or page.incident.default_language, bool(chosen))

    def title(self, obj: FeedSubject) -> str:
        assert obj.page is not None
        incident = obj.page.incident
        return f"{incident.title} ({incident.reference})"

    def subtitle(self, obj: FeedSubject) -> str:
        return _("Updates on this incident from %(company)s") % {"company": settings.COMPANY_NAME}

    def link(self, obj: FeedSubject) -> str:
        assert obj.page is not None
        return public_page_url(obj.page.slug)

    def feed_url(self, obj: FeedSubject) -> str:
        assert obj.page is not None
        return public_feed_url(obj.page.slug) + obj.query()

    def items(self, obj: FeedSubject) -> list[FeedEntry]:
        assert obj.page is not None
        updates = published_updates().filter(incident_id=obj.page.incident_id)
        return self.entries(updates, obj.language)


class AllIncidentsFeed(UpdateFeed):
    """The newest published updates of every published incident page."""

    def get_object(self, request: HttpRequest) -> FeedSubject:
        chosen = requested_language(request)
        return FeedSubject(None, chosen or settings.LANGUAGE_CODE, bool(chosen))

    def title(self, obj: FeedSubject) -> str:
        return _("Incident updates from %(company)s") % {"company": settings.COMPANY_NAME}

    def link(self, obj: FeedSubject) -> str:
        return f"{settings.PUBLIC_URL}/status/"

    def feed_url(self, obj: FeedSubject) -> str:
        return public_feed_url() + obj.query()

    def items(self, obj: FeedSubject) -> list[FeedEntry]:
        return self.entries(published_updates()[:ALL_FEED_LIMIT], obj.language)


incident_feed = IncidentFeed()
all_feed = AllIncidentsFeed()
