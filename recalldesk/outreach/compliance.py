"""The compliance check for recall messages: a full checklist, not just the first problem.

A message version has one fact sheet per language. ``check_sheets`` checks those sheets
against the regimes the incident falls under and returns one ``Finding`` per rule (passing or
failing), so the console can show a checklist and highlight the failing words. ``check_text``
runs the same rules over one free-text notice, finding the elements by cue words.

The rules:

- required elements: always a headline, the product, the hazard, what to do now and how to
  reach us; plus what each regime adds (FDA 21 CFR 7.49(c)(1): codes/lots and a ready means to
  report back; CPSC: the remedy and a phone number or web address; EU GPSR Art. 36: the
  "Product safety recall" heading, identification numbers and the remedy; NHTSA 49 CFR 577.5:
  a "safety recall" heading, the risk, the remedy and when it is available). A sheet field
  counts when it holds at least ``MIN_WORDS`` words.
- banned wording that plays down the risk or sells (GPSR Art. 36, FDA 7.49(c)(2)), in any
  field and any language, with offsets for highlighting;
- SMS length as sent (with the link), and the languages the incident needs.

The word lists live in ``compliance_words``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from recalldesk.outreach.choices import Audience, Regime
from recalldesk.outreach.compliance_words import (
    BANNED,
    CONTACT_CHANNEL,
    CUES,
    EU_HEADLINE,
    SAFETY_RECALL,
)

# Same order as models.FACT_FIELDS; kept here so the check needs no database.
FIELDS = (
    "headline",
    "product",
    "identification",
    "hazard",
    "instructions",
    "remedy",
    "contact",
    "sms",
)
# "More than a couple of words": a field with fewer says nothing a reader can act on.
MIN_WORDS = 3
# Two concatenated GSM-7 parts of 153 characters; one part holds 160.
SMS_ONE_PART = 160
SMS_TWO_PARTS = 306
# What a language's sheet must hold at least for that language to count as present.
LANGUAGE_CORE = ("headline", "hazard", "instructions")


@dataclass(frozen=True)
class Finding:
    """One line of the compliance checklist: a rule, whether it holds, and where it fails."""

    code: str  # e.g. "required.hazard", "banned.voluntary", "sms.length", "language.missing"
    label: str  # the checklist sentence, e.g. "States the hazard"
    ok: bool
    language: str = ""
    field: str = ""  # fact sheet field where the problem is
    detail: str = ""  # why it failed, e.g. 'Minimising wording "as a precaution"'
    start: int = -1  # offsets of the failing text inside the field value
    end: int = -1


@dataclass(frozen=True)
class _Element:
    """A required element: the field it lives in and how it is recognised."""

    code: str
    label: str
    field: str
    # Key into CUES, or "eu_headline", "safety_recall", "channel" for the special patterns.
    pattern: str
    # Elements a sheet satisfies by a filled field; the others need their pattern in the field.
    filled: bool = True


# In checklist order: each special rule right after the element it refines.
ELEMENTS: dict[str, _Element] = {
    "headline": _Element("required.headline", "Has a headline", "headline", "headline"),
    "eu_headline": _Element(
        "eu.headline", 'Headline reads "Product safety recall"', "headline", "eu_headline", False
    ),
    "safety_recall": _Element(
        "nhtsa.headline", 'Headline says "safety recall"', "headline", "safety_recall", False
    ),
    "product": _Element("required.product", "Identifies the product", "product", "product"),
    "identification": _Element(
        "required.identification",
        "Gives the lot, code or serial numbers",
        "identification",
        "identification",
    ),
    "hazard": _Element("required.hazard", "States the hazard", "hazard", "hazard"),
    "risk": _Element("nhtsa.risk", "Explains the risk to safety", "hazard", "risk", False),
    "instructions": _Element(
        "required.instructions", "Says what to do now", "instructions", "instructions"
    ),
    "stop_sale": _Element(
        "consignee.stop_sale",
        "Tells consignees to stop distribution and set stock aside",
        "instructions",
        "stop_sale",
        False,
    ),
    "remedy": _Element("required.remedy", "States the remedy", "remedy", "remedy"),
    "remedy_when": _Element(
        "nhtsa.remedy_when", "Says when the remedy is available", "remedy", "remedy_when", False
    ),
    "contact": _Element("required.contact", "Says how to reach us", "contact", "contact"),
    "contact_channel": _Element(
        "required.contact_channel",
        "Gives a phone number or web address",
        "contact",
        "channel",
        filled=False,
    ),
}

ALWAYS = ("headline", "product", "hazard", "instructions", "contact")
REGIME_ELEMENTS: dict[str, tuple[str, ...]] = {
    Regime.FDA: ("product", "identification", "hazard", "instructions", "contact"),
    Regime.CPSC: ("product", "hazard", "remedy", "instructions", "contact", "contact_channel"),
    Regime.EU_GPSR: (
        "eu_headline",
        "product",
        "identification",
        "hazard",
        "instructions",
        "remedy",
        "contact",
    ),
    Regime.NHTSA: (
        "headline",
        "safety_recall",
        "hazard",
        "risk",
        "remedy",
        "remedy_when",
        "instructions",
        "contact",
    ),
}
# Consignees (distributors, retailers) are told to stop distribution and return stock; the
# remedy is the consumer's, so it is not theirs to be told.
CONSIGNEE_DROPS = ("remedy", "remedy_when")
CONSIGNEE_ADDS = ("stop_sale",)


def check_sheets(
    sheets: Mapping[str, Mapping[str, str]],
    *,
    regimes: Sequence[str],
    languages: Sequence[str],
    audience: str = Audience.CONSUMER,
    sms_rendered: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Check one message version's fact sheets (language -> field -> text).

    Every language in ``languages`` must have a sheet; a language's remaining checks run only
    when its sheet has any text, so a missing translation is one finding, not twenty.
    """
    needed = _required_elements(regimes, audience)
    findings: list[Finding] = []
    for language in dict.fromkeys([*languages, *sheets]):
        sheet = {name: (sheets.get(language) or {}).get(name) or "" for name in FIELDS}
        if language in languages:
            findings.append(_language_present(language, sheet))
        if not any(value.strip() for value in sheet.values()):
            continue
        for name, regime_labels in needed.items():
            findings.append(_sheet_element(ELEMENTS[name], sheet, language, regime_labels))
        findings.extend(_banned(sheet, language))
    for language, text in (sms_rendered or {}).items():
        findings.append(_sms_length(language, text))
    return findings


def check_text(text: str, *, regimes: Sequence[str], language: str = "en") -> list[Finding]:
    """Check one free-text notice: banned wording with offsets into ``text``, and the
    required elements found by cue words (the headline in the first non-empty line)."""
    needed = _required_elements(regimes, Audience.CONSUMER)
    first = re.search(r"\S[^\n]*", text)
    findings = []
    for name, regime_labels in needed.items():
        element = ELEMENTS[name]
        region = (first.group(0) if first else "") if element.field == "headline" else text
        found = _pattern(element.pattern, language).search(region)
        findings.append(
            Finding(
                element.code,
                element.label,
                bool(found),
                language,
                detail="" if found else f"Not found in the text ({_required_by(regime_labels)})",
            )
        )
    findings.extend(_banned({"": text}, language))
    return findings


def failures(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that fail, in checklist order."""
    return [finding for finding in findings if not finding.ok]


def _required_elements(regimes: Sequence[str], audience: str) -> dict[str, list[str]]:
    """Element name -> labels of the regimes that require it, in checklist order."""
    unknown = [regime for regime in regimes if regime not in REGIME_ELEMENTS]
    if unknown:
        raise ValueError(f"Unknown regime(s): {', '.join(unknown)}")
    if audience not in Audience.values:
        raise ValueError(f"Unknown audience: {audience}")
    by: dict[str, list[str]] = {name: [] for name in ALWAYS}
    for regime in regimes:
        for name in REGIME_ELEMENTS[regime]:
            by.setdefault(name, []).append(Regime(regime).label)
    if audience == Audience.CONSIGNEE:
        for name in CONSIGNEE_DROPS:
            by.pop(name, None)
        for name in CONSIGNEE_ADDS:
            by[name] = ["FDA 21 CFR 7.49 for consignees"]
    return {name: by[name] for name in ELEMENTS if name in by}


def _required_by(regime_labels: Sequence[str]) -> str:
    if not regime_labels:
        return "required in every notice"
    return "required by " + ", ".join(regime_labels)


def _sheet_element(
    element: _Element, sheet: Mapping[str, str], language: str, regime_labels: Sequence[str]
) -> Finding:
    value = sheet[element.field]
    words = len(re.findall(r"\w+", value))
    start = end = -1
    if not value.strip():
        problem = "Empty"
    elif words < MIN_WORDS:
        problem = f'Only {words} word{"s" if words != 1 else ""}: "{value.strip()}"'
        start, end = 0, len(value)
    elif not element.filled and not _pattern(element.pattern, language).search(value):
        problem = _MISSING_PATTERN[element.pattern]
    else:
        return Finding(element.code, element.label, True, language, element.field)
    detail = f"{problem} ({_required_by(regime_labels)})"
    return Finding(element.code, element.label, False, language, element.field, detail, start, end)


_MISSING_PATTERN = {
    "channel": "No phone number or web address",
    "eu_headline": 'No "Product safety recall" wording in the language of the sheet',
    "safety_recall": 'No "safety recall" wording',
    "risk": "Does not say what could happen (crash, injury, fire)",
    "remedy_when": "Does not say when the remedy is available",
    "stop_sale": "Does not tell them to stop distribution or quarantine stock",
}


def _language_present(language: str, sheet: Mapping[str, str]) -> Finding:
    missing = [name for name in LANGUAGE_CORE if not sheet[name].strip()]
    if not any(value.strip() for value in sheet.values()):
        detail = f"No {language} sheet"
    elif missing:
        detail = f"The {language} sheet lacks {', '.join(missing)}"
    else:
        detail = ""
    label = f"The {language} sheet has a headline, hazard and instructions"
    return Finding("language.missing", label, not missing, language, detail=detail)


def _banned(fields: Mapping[str, str], language: str) -> list[Finding]:
    """One passing finding per banned category, or one failing finding per phrase found."""
    findings = []
    for category, (label, _patterns) in BANNED.items():
        code = f"banned.{category}"
        kind = "Sales wording" if category == "sales" else "Minimising wording"
        hits = [
            Finding(code, label, False, language, name, f'{kind} "{text[s:e]}"', s, e)
            for name, text in fields.items()
            for s, e in _spans(category, text)
        ]
        findings.extend(hits or [Finding(code, label, True, language)])
    return findings


def _spans(category: str, text: str) -> list[tuple[int, int]]:
    """Where a category's patterns match, overlapping matches merged into the first, longest."""
    found = sorted(
        (match.start(), -match.end())
        for pattern in _banned_patterns(category)
        for match in pattern.finditer(text)
    )
    spans: list[tuple[int, int]] = []
    for start, negative_end in found:
        if not spans or start >= spans[-1][1]:
            spans.append((start, -negative_end))
    return spans


def _sms_length(language: str, text: str) -> Finding:
    length = len(text)
    label = f"SMS fits in two parts ({SMS_TWO_PARTS} characters)"
    if length <= SMS_ONE_PART:
        return Finding("sms.length", label, True, language, "sms", f"1 part ({length} characters)")
    if length <= SMS_TWO_PARTS:
        return Finding("sms.length", label, True, language, "sms", f"2 parts ({length} characters)")
    detail = f"{length} characters, more than 2 parts (limit {SMS_TWO_PARTS})"
    return Finding("sms.length", label, False, language, "sms", detail)


@cache
def _banned_patterns(category: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in BANNED[category][1])


@cache
def _pattern(name: str, language: str) -> re.Pattern[str]:
    """The pattern that recognises an element in the given language (English as fallback)."""
    if name == "channel":
        source = CONTACT_CHANNEL
    else:
        table = {"eu_headline": EU_HEADLINE, "safety_recall": SAFETY_RECALL}.get(name)
        table = table or CUES[name]
        source = table.get(language.split("-")[0].lower(), table["en"])
        if name == "contact":
            # In free text a phone number or web address is itself a way to reach us.
            source = f"{source}|{CONTACT_CHANNEL}"
    return re.compile(source, re.IGNORECASE)
