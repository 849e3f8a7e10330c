"""What a public page shows, gathered once per (page version, language) and then cached."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from recalldesk.incidents.models import Incident
from recalldesk.outreach.models import Message, MessageVersion
from recalldesk.public import choices
from recalldesk.public.actions import next_update_due, page_for
from recalldesk.public.models import Action, FaqEntry, PublicPage, Update

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}


@dataclass(frozen=True)
class PageMeta:
    page_id: int
    incident_id: int
    slug: str
    version: int
    scope_version: int
    published: bool
    # A scope edit is seen by its save time even where it keeps the version (see
    # lookup.index_for): caches keyed by the whole meta are then read again.
    scope_saved_at: Any


_memo: dict[str, tuple[float, PageMeta | None]] = {}
_memo_lock = threading.Lock()


def page_meta(slug: str) -> PageMeta | None:
    """The page's identity and versions, remembered by this worker for a second or two:
    under a surge the cached page is served without touching the database."""
    now = time.monotonic()
    with _memo_lock:
        hit = _memo.get(slug)
        if hit and now - hit[0] < settings.PUBLIC_VERSION_TTL:
            return hit[1]
    row = (
        PublicPage.objects.filter(slug=slug)
        .values_list(
            "pk",
            "incident_id",
            "version",
            "incident__scope__version",
            "published",
            "incident__scope__updated_at",
        )
        .first()
    )
    meta = PageMeta(row[0], row[1], slug, row[2], row[3] or 0, row[4], row[5]) if row else None
    with _memo_lock:
        _memo[slug] = (now, meta)
    return meta


def remembered_meta(slug: str) -> tuple[bool, PageMeta | None]:
    """``(True, meta)`` when :func:`page_meta` would answer from memory (``meta`` is None for
    a page that does not exist), ``(False, None)`` when it would read the database."""
    now = time.monotonic()
    with _memo_lock:
        hit = _memo.get(slug)
    if hit and now - hit[0] < settings.PUBLIC_VERSION_TTL:
        return True, hit[1]
    return False, None


def forget(slug: str | None = None) -> None:
    """Drop what this worker remembers of one page (or of every page)."""
    with _memo_lock:
        if slug is None:
            _memo.clear()
        else:
            _memo.pop(slug, None)


def statement_version(page: PublicPage) -> MessageVersion | None:
    message = page.statement
    if message is None:
        message = (
            Message.objects.filter(incident=page.incident, audience="consumer")
            .order_by("created_at")
            .first()
        )
    return message.approved() if message else None


def languages_of(incident: Incident, version: MessageVersion | None) -> list[str]:
    langs = list(version.sheets()) if version else []
    default = incident.default_language
    if default in langs:
        langs.remove(default)
    return [default, *sorted(langs)] if version else [default]


def page_context(page: PublicPage, language: str) -> dict[str, Any]:
    incident = page.incident
    version = statement_version(page)
    sheets = version.sheets() if version else {}
    sheet = sheets.get(language) or sheets.get(incident.default_language)
    updates = []
    for update in (
        Update.objects.filter(incident=incident, status=choices.UpdateStatus.PUBLISHED)
        .prefetch_related("translations")
        .order_by("-published_at")
    ):
        texts = update.texts()
        updates.append(
            {
                "update": update,
                "text": texts.get(language)
                or texts.get(incident.default_language)
                or next(iter(texts.values()), None),
            }
        )
    faq = list(FaqEntry.objects.filter(incident=incident, language=language)) or list(
        FaqEntry.objects.filter(incident=incident, language=incident.default_language)
    )
    scope = getattr(incident, "scope", None)
    return {
        "page": page,
        "incident": incident,
        "sheet": sheet,
        "language": language if sheet and sheet.language == language else incident.default_language,
        "languages": [
            (code, LANGUAGE_NAMES.get(code, code)) for code in languages_of(incident, version)
        ],
        "products": list(scope.products.all()) if scope else [],
        "scope": scope,
        "updates": updates,
        "due": next_update_due(incident),
        "actions": list(Action.objects.filter(incident=incident, published=True)),
        "faq": faq,
        "rendered_at": timezone.now(),
    }


def published_pages() -> list[PublicPage]:
    return list(
        PublicPage.objects.filter(published=True)
        .select_related("incident")
        .order_by("-incident__created_at")
    )


__all__ = ["forget", "page_context", "page_for", "page_meta", "published_pages"]
