"""The crisis site speaks German, French and Spanish: the framing words of the public pages
come from the catalogues under ``recalldesk/locale``, which must be complete and compiled."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from recalldesk.public.tests.builders import published_recall

LOCALE = Path(settings.LOCALE_PATHS[0])
# Every language the site offers besides the one its templates are written in.
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# A fresh checkout writes django.mo just before django.po (git writes files in path order),
# so the .po can look a moment newer without anyone having forgotten to compile. The
# comparison of the two catalogues below catches a forgotten compile whatever the clocks say.
CHECKOUT_SLACK_SECONDS = 2.0


@dataclass
class Entry:
    """One message of a .po file, as much of it as these checks need."""

    msgid: str
    msgstr: str = ""
    flags: set[str] = field(default_factory=set)
    line: int = 0


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included (its msgid is empty).

    Plain messages only: the site has no plurals or contexts, and a catalogue that grows
    them fails here loudly rather than being checked wrongly."""
    entries: list[Entry] = []
    flags: set[str] = set()
    part = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):  # blank, or an obsolete entry
            continue
        if line.startswith("#,"):
            # Flags belong to the msgid that follows them.
            flags = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            entries.append(Entry(msgid=ast.literal_eval(line[6:]), flags=flags, line=number))
            flags, part = set(), "msgid"
        elif line.startswith("msgstr ") and entries:
            entries[-1].msgstr, part = ast.literal_eval(line[7:]), "msgstr"
        elif line.startswith('"') and part:
            setattr(entries[-1], part, getattr(entries[-1], part) + ast.literal_eval(line))
        else:
            pytest.fail(f"{path}:{number}: this reader does not know {line.split()[0]!r}")
    return entries


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.fixture
def slug(coordinator, approver) -> str:
    return published_recall(coordinator, approver).public.slug


@pytest.mark.django_db
def test_the_german_page_frames_the_notice_in_german(client, slug):
    page = client.get(f"/status/{slug}/de/").content.decode()
    assert '<html lang="de">' in page
    assert "Sind Sie betroffen?" in page
    assert "Was Sie jetzt tun sollten" in page
    assert "So erreichen Sie uns" in page
    assert "Is mine affected?" not in page
    assert "What to do now" not in page


@pytest.mark.django_db
def test_the_page_without_a_language_stays_in_english(client, slug):
    page = client.get(f"/status/{slug}/").content.decode()
    assert '<html lang="en">' in page
    assert "Is mine affected?" in page and "What to do now" in page
    assert "Sind Sie betroffen?" not in page


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated_and_none_is_fuzzy(language):
    entries = read_po(po_path(language))
    messages = [e for e in entries if e.msgid]
    assert messages, f"{po_path(language)} has no messages; run makemessages"
    empty = [f"line {e.line}: {e.msgid!r}" for e in messages if not e.msgstr.strip()]
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]
    assert not empty, f"untranslated in {language}: {empty}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalogue_is_compiled_after_its_last_edit(language):
    po = po_path(language)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing; run compilemessages"
    age = po.stat().st_mtime - mo.stat().st_mtime
    assert age <= CHECKOUT_SLACK_SECONDS, f"{po} was edited after {mo}; run compilemessages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(po):
        if entry.msgid:
            assert compiled.gettext(entry.msgid) == entry.msgstr, (
                f"{mo} differs from {po} at line {entry.line}; run compilemessages"
            )


def test_the_update_email_reads_in_german_when_german_is_active():
    # The sender renders with the subscriber's language active; the template brings the words,
    # the update text itself comes in that language already.
    published = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)
    context = {
        "incident": SimpleNamespace(title="Kettle & lid", reference="RC-2026-007"),
        "update": SimpleNamespace(
            published_at=published, next_update_at=published + dt.timedelta(days=1)
        ),
        "text": SimpleNamespace(
            resolved="Verkauf gestoppt.", in_progress="Tests laufen.", take_part="Registrieren."
        ),
        "page": "https://status.example/status/kettle/de/",
        "unsubscribe": "https://status.example/status/unsubscribe/abc/",
        "company": "Hearthwell",
        "sms": False,
    }
    with translation.override("de"):
        body = render_to_string("public/mail/update.txt", context)
    assert "Aktualisierung zu \u201eKettle & lid\u201c (RC-2026-007), 3 Dez 2026 14:05" in body
    assert "Was behoben ist:\nVerkauf gestoppt." in body
    assert "Woran wir arbeiten:\nTests laufen." in body
    assert "So nehmen Sie teil:\nRegistrieren." in body
    assert "Nächste Aktualisierung bis 4 Dez 2026 14:05 UTC." in body
    assert "Vollständige Mitteilung: https://status.example/status/kettle/de/" in body
    assert "Mit einem Klick abbestellen: https://status.example/status/unsubscribe/abc/" in body
    assert "Update on" not in body and "What is resolved" not in body
