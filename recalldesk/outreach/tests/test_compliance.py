"""The compliance check: clean sheets pass, each rule fails on its own, and the check holds up
on real recall texts (FDA enforcement report, EU Safety Gate, NHTSA and CPSC records)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import pytest

from recalldesk.outreach.compliance import (
    FIELDS,
    Finding,
    check_sheets,
    check_text,
    failures,
)
from recalldesk.outreach.compliance_words import BANNED
from recalldesk.outreach.models import FACT_FIELDS

REGIMES = ["fda", "cpsc", "eu_gpsr", "nhtsa"]

CLEAN = {
    "en": {
        "headline": "Product safety recall: Brightline K2 electric kettle",
        "product": "Brightline K2 electric kettle, 1.7 litre, white or black, sold from March "
        "2025 to January 2026",
        "identification": "Model number K2-17 and lot codes 2503 to 2601, printed on the label "
        "under the base",
        "hazard": "The handle can come loose while the kettle is full, so boiling water can "
        "spill and cause serious burns, increasing the risk of injury.",
        "instructions": "Stop using the kettle immediately, unplug it and keep it out of reach "
        "of children.",
        "remedy": "We replace the kettle free of charge; replacements are available from "
        "2 March 2026.",
        "contact": "Call 0800 123 4567 or visit www.brightline.example/recall",
        "sms": "Safety recall: Brightline K2 kettle can cause burns. Stop using it. {{ link }}",
    },
    "de": {
        "headline": "Produktsicherheitsrückruf: Wasserkocher Brightline K2",
        "product": "Elektrischer Wasserkocher Brightline K2, 1,7 Liter, weiß oder schwarz, "
        "verkauft von März 2025 bis Januar 2026",
        "identification": "Modellnummer K2-17 und Chargen 2503 bis 2601, auf dem Etikett unter "
        "dem Sockel",
        "hazard": "Der Griff kann sich lösen, wenn der Wasserkocher voll ist. Kochendes Wasser "
        "kann austreten und schwere Verbrennungen verursachen; es besteht Verletzungsgefahr.",
        "instructions": "Verwenden Sie den Wasserkocher nicht mehr, ziehen Sie sofort den "
        "Stecker und bewahren Sie ihn außerhalb der Reichweite von Kindern auf.",
        "remedy": "Wir ersetzen den Wasserkocher kostenlos; Ersatzgeräte sind ab 2. März 2026 "
        "verfügbar.",
        "contact": "Rufen Sie uns an unter 0800 123 4567 oder besuchen Sie "
        "www.brightline.example/rueckruf",
        "sms": "Sicherheitsrückruf: Wasserkocher Brightline K2. Nicht mehr verwenden. {{ link }}",
    },
    "fr": {
        "headline": "Rappel de sécurité : bouilloire Brightline K2",
        "product": "Bouilloire électrique Brightline K2, 1,7 litre, blanche ou noire, vendue de "
        "mars 2025 à janvier 2026",
        "identification": "Numéro de modèle K2-17 et lots 2503 à 2601, indiqués sur l'étiquette "
        "sous le socle",
        "hazard": "La poignée peut se détacher lorsque la bouilloire est pleine : l'eau "
        "bouillante peut se renverser et provoquer de graves brûlures. Risque de blessure.",
        "instructions": "N'utilisez plus la bouilloire, débranchez-la immédiatement et gardez-la "
        "hors de portée des enfants.",
        "remedy": "Nous remplaçons la bouilloire gratuitement ; les bouilloires de remplacement "
        "sont disponibles à partir du 2 mars 2026.",
        "contact": "Appelez le 01 23 45 67 89 ou rendez-vous sur www.brightline.example/rappel",
        "sms": "Rappel de sécurité : bouilloire Brightline K2. Ne l'utilisez plus. {{ link }}",
    },
    "es": {
        "headline": "Retirada de producto por motivos de seguridad: hervidor Brightline K2",
        "product": "Hervidor eléctrico Brightline K2, 1,7 litros, blanco o negro, vendido de "
        "marzo de 2025 a enero de 2026",
        "identification": "Número de modelo K2-17 y lotes 2503 a 2601, en la etiqueta de la base",
        "hazard": "El asa puede soltarse con el hervidor lleno: el agua hirviendo puede "
        "derramarse y causar quemaduras graves, con riesgo de lesiones.",
        "instructions": "Deje de usar el hervidor inmediatamente, desenchúfelo y manténgalo "
        "fuera del alcance de los niños.",
        "remedy": "Sustituimos el hervidor de forma gratuita; los hervidores de sustitución "
        "están disponibles a partir del 2 de marzo de 2026.",
        "contact": "Llame al +34 900 123 456 o visite www.brightline.example/retirada",
        "sms": "Retirada de seguridad: hervidor Brightline K2. Deje de usarlo. {{ link }}",
    },
}


def sheet(language: str = "en", **changes: str) -> dict[str, str]:
    return {**CLEAN[language], **changes}


def failing(findings: list[Finding], code: str) -> list[Finding]:
    return [finding for finding in failures(findings) if finding.code == code]


# -- structured sheets ---------------------------------------------------------------------


def test_it_checks_the_same_fields_as_the_fact_sheet_model():
    assert list(FIELDS) == FACT_FIELDS


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_it_passes_clean_sheets_on_every_check_of_each_regime(regime, language):
    findings = check_sheets(
        {language: CLEAN[language]},
        regimes=[regime],
        languages=[language],
        sms_rendered={language: CLEAN[language]["sms"]},
    )

    assert failures(findings) == []
    codes = {finding.code for finding in findings}
    assert {f"banned.{category}" for category in BANNED} <= codes
    assert {"required.headline", "required.hazard", "language.missing", "sms.length"} <= codes


def test_it_passes_three_clean_languages_together_under_all_regimes():
    findings = check_sheets(
        {language: CLEAN[language] for language in ("en", "de", "fr")},
        regimes=REGIMES,
        languages=["en", "de", "fr"],
    )

    assert failures(findings) == []
    assert {finding.language for finding in findings} == {"en", "de", "fr"}


def test_it_lists_each_rule_once_per_language_for_the_checklist():
    findings = check_sheets({"en": CLEAN["en"]}, regimes=["fda", "cpsc"], languages=["en"])

    codes = [finding.code for finding in findings]
    assert len(codes) == len(set(codes))
    assert codes[:2] == ["language.missing", "required.headline"]


BANNED_CASES = [
    ("We are voluntarily recalling the kettle.", "banned.voluntary", "voluntarily"),
    ("This VOLUNTARY recall covers all kettles.", "banned.voluntary", "VOLUNTARY"),
    ("As a precaution, stop using the kettle.", "banned.precautionary", "As a precaution"),
    ("This is a precautionary measure.", "banned.precautionary", "precautionary"),
    (
        "Out of an abundance of caution we recall it.",
        "banned.abundance_of_caution",
        "Out of an abundance of caution",
    ),
    ("This discretionary action covers all kettles.", "banned.discretionary", "discretionary"),
    ("In rare situations the handle comes loose.", "banned.rare", "In rare situations"),
    ("The handle comes loose in rare cases.", "banned.rare", "in rare cases"),
    ("No accidents reported so far.", "banned.no_injuries", "No accidents reported"),
    ("No injuries have been reported.", "banned.no_injuries", "No injuries have been reported"),
    ("There have been no reports of injury.", "banned.no_injuries", "no reports of injury"),
    (
        "We apologize for any inconvenience.",
        "banned.apology",
        "We apologize for any inconvenience",
    ),
    ("Buy now and save.", "banned.sales", "Buy now"),
    ("Ask about our special offer.", "banned.sales", "special offer"),
    ("Get a discount on your next kettle.", "banned.sales", "discount"),
    ("For a limited time only.", "banned.sales", "limited time"),
    ("An exclusive deal for you.", "banned.sales", "exclusive deal"),
    ("Now 20% off all kettles.", "banned.sales", "20% off"),
    ("Dieser freiwillige Rückruf betrifft alle Geräte.", "banned.voluntary", "freiwillige"),
    ("Wir rufen vorsorglich alle Geräte zurück.", "banned.precautionary", "vorsorglich"),
    (
        "Aus Vorsicht bitten wir Sie, das Gerät zurückzugeben.",
        "banned.precautionary",
        "Aus Vorsicht",
    ),
    ("In seltenen Fällen löst sich der Griff.", "banned.rare", "In seltenen Fällen"),
    ("Es sind keine Unfälle bekannt.", "banned.no_injuries", "keine Unfälle bekannt"),
    ("Im Rahmen einer Kulanzaktion tauschen wir.", "banned.discretionary", "Kulanzaktion"),
    ("Jetzt mit 20 % Rabatt.", "banned.sales", "20 % Rabatt"),
    ("Ce rappel volontaire concerne toutes les bouilloires.", "banned.voluntary", "volontaire"),
    ("Nous rappelons par précaution ces bouilloires.", "banned.precautionary", "par précaution"),
    (
        "Par mesure de précaution, rapportez-la.",
        "banned.precautionary",
        "Par mesure de précaution",
    ),
    ("Dans de rares cas, la poignée se détache.", "banned.rare", "Dans de rares cas"),
    ("Aucun accident n'a été signalé.", "banned.no_injuries", "Aucun accident n'a été signalé"),
    ("Profitez de notre offre spéciale.", "banned.sales", "offre spéciale"),
    ("Esta retirada voluntaria afecta a todos.", "banned.voluntary", "voluntaria"),
    ("Retiramos por precaución estos hervidores.", "banned.precautionary", "por precaución"),
    (
        "Como medida de precaución, devuélvalo.",
        "banned.precautionary",
        "Como medida de precaución",
    ),
    ("En casos aislados el asa se suelta.", "banned.rare", "En casos aislados"),
    ("No se han registrado accidentes.", "banned.no_injuries", "No se han registrado accidentes"),
    ("Con un descuento especial.", "banned.sales", "descuento"),
]


@pytest.mark.parametrize(("sentence", "code", "phrase"), BANNED_CASES)
def test_it_finds_each_banned_phrase_with_its_offsets(sentence, code, phrase):
    hazard = f"Boiling water can spill and cause burns. {sentence}"

    findings = check_sheets({"en": sheet(hazard=hazard)}, regimes=["cpsc"], languages=["en"])

    [finding] = failing(findings, code)
    assert (finding.field, finding.language) == ("hazard", "en")
    assert hazard[finding.start : finding.end] == phrase
    assert finding.start == hazard.index(phrase)
    assert phrase in finding.detail
    assert [f.code for f in failures(findings)] == [code]


def test_it_finds_banned_words_in_any_field_and_language_and_names_each_one():
    german = sheet(
        "de",
        headline="Produktsicherheitsrückruf: freiwilliger Austausch",
        remedy="Wir ersetzen den Wasserkocher kostenlos ab 2. März 2026, vorsorglich.",
    )

    findings = check_sheets({"de": german}, regimes=["eu_gpsr"], languages=["de"])

    found = [(f.code, f.field, f.start, f.end, f.detail) for f in failures(findings)]
    assert found == [
        ("banned.voluntary", "headline", 27, 39, 'Minimising wording "freiwilliger"'),
        ("banned.precautionary", "remedy", 57, 68, 'Minimising wording "vorsorglich"'),
    ]


def test_it_calls_sales_language_sales_wording():
    findings = check_sheets(
        {"en": sheet(remedy="Replacement kettles are available from 2 March 2026 at a discount.")},
        regimes=["cpsc"],
        languages=["en"],
    )

    [finding] = failures(findings)
    assert finding.detail == 'Sales wording "discount"'


@pytest.mark.parametrize(
    ("field", "regime", "code"),
    [
        ("headline", "fda", "required.headline"),
        ("product", "cpsc", "required.product"),
        ("identification", "fda", "required.identification"),
        ("identification", "eu_gpsr", "required.identification"),
        ("hazard", "eu_gpsr", "required.hazard"),
        ("instructions", "nhtsa", "required.instructions"),
        ("remedy", "cpsc", "required.remedy"),
        ("remedy", "nhtsa", "required.remedy"),
        ("contact", "fda", "required.contact"),
    ],
)
def test_it_fails_a_missing_element_with_its_code(field, regime, code):
    findings = check_sheets({"en": sheet(**{field: ""})}, regimes=[regime], languages=["en"])

    [finding] = failing(findings, code)
    assert (finding.field, finding.language) == (field, "en")
    assert finding.detail.startswith("Empty (required")


def test_it_refuses_a_field_of_two_words_as_not_meaningful_and_highlights_it():
    findings = check_sheets({"en": sheet(hazard="Burn risk")}, regimes=["fda"], languages=["en"])

    [finding] = failing(findings, "required.hazard")
    assert finding.detail == 'Only 2 words: "Burn risk" (required by US FDA 21 CFR 7.49)'
    assert (finding.start, finding.end) == (0, len("Burn risk"))


def test_it_asks_only_what_the_regime_requires():
    bare = sheet(identification="", remedy="")

    assert failures(check_sheets({"en": bare}, regimes=[], languages=["en"])) == []
    cpsc = failures(check_sheets({"en": bare}, regimes=["cpsc"], languages=["en"]))
    assert [f.code for f in cpsc] == ["required.remedy"]
    fda = failures(check_sheets({"en": bare}, regimes=["fda"], languages=["en"]))
    assert [f.code for f in fda] == ["required.identification"]


def test_it_requires_a_phone_number_or_web_address_for_cpsc():
    by_post = sheet(contact="Write to Brightline Customer Care, 1 Kettle Lane, Springfield")

    cpsc = check_sheets({"en": by_post}, regimes=["cpsc"], languages=["en"])
    fda = check_sheets({"en": by_post}, regimes=["fda"], languages=["en"])

    [finding] = failures(cpsc)
    assert finding.code == "required.contact_channel"
    assert finding.field == "contact"
    assert failures(fda) == []


def test_it_counts_the_personal_link_as_a_web_address():
    online = sheet(contact="Tell us where to send your replacement here: {{ link }}")

    assert failures(check_sheets({"en": online}, regimes=["cpsc"], languages=["en"])) == []


def test_it_requires_the_risk_and_when_the_remedy_is_ready_for_nhtsa():
    vague = sheet(
        hazard="The seat belt buckle may not latch properly in cold weather.",
        remedy="Dealers will replace the seat belt buckle.",
    )

    findings = check_sheets({"en": vague}, regimes=["nhtsa"], languages=["en"])

    assert [(f.code, f.field) for f in failures(findings)] == [
        ("nhtsa.risk", "hazard"),
        ("nhtsa.remedy_when", "remedy"),
    ]


def test_it_requires_a_safety_recall_headline_for_nhtsa():
    findings = check_sheets(
        {"en": sheet(headline="Important notice about your Brightline K2 kettle")},
        regimes=["nhtsa"],
        languages=["en"],
    )

    assert [f.code for f in failures(findings)] == ["nhtsa.headline"]


def test_it_drops_the_remedy_and_asks_consignees_to_stop_distribution():
    consumer_words = sheet(remedy="")
    stop_sale = sheet(
        remedy="",
        instructions="Stop selling the kettles at once, quarantine your stock and return it.",
    )

    plain = check_sheets(
        {"en": consumer_words}, regimes=["fda", "cpsc"], languages=["en"], audience="consignee"
    )
    told = check_sheets(
        {"en": stop_sale}, regimes=["fda", "cpsc"], languages=["en"], audience="consignee"
    )

    assert [(f.code, f.field) for f in failures(plain)] == [("consignee.stop_sale", "instructions")]
    assert failures(told) == []


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("en", "Recall of the Brightline K2 electric kettle"),
        ("en", "Safety recall: Brightline K2 electric kettle"),
        ("de", "Product safety recall: Wasserkocher Brightline K2"),
        ("de", "Rückruf: Wasserkocher Brightline K2"),
        ("fr", "Avis important : bouilloire Brightline K2"),
        ("es", "Aviso importante: hervidor Brightline K2"),
    ],
)
def test_it_refuses_an_eu_headline_without_product_safety_recall_in_its_language(
    language, headline
):
    findings = check_sheets(
        {language: sheet(language, headline=headline)}, regimes=["eu_gpsr"], languages=[language]
    )

    [finding] = failures(findings)
    assert (finding.code, finding.field, finding.language) == ("eu.headline", "headline", language)


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("en", "PRODUCT SAFETY RECALL - Brightline K2 kettle"),
        ("de", "Sicherheitsrückruf: Wasserkocher Brightline K2"),
        ("fr", "Rappel de produit : bouilloire Brightline K2"),
        ("es", "Retirada de seguridad: hervidor Brightline K2"),
        ("es", "Recuperación de producto por motivos de seguridad: hervidor K2"),
    ],
)
def test_it_accepts_the_eu_headline_in_each_language(language, headline):
    findings = check_sheets(
        {language: sheet(language, headline=headline)}, regimes=["eu_gpsr"], languages=[language]
    )

    assert failures(findings) == []


@pytest.mark.parametrize(
    ("length", "ok", "detail"),
    [
        (160, True, "1 part (160 characters)"),
        (161, True, "2 parts (161 characters)"),
        (306, True, "2 parts (306 characters)"),
        (307, False, "307 characters, more than 2 parts (limit 306)"),
    ],
)
def test_it_measures_the_sms_as_sent(length, ok, detail):
    text = "Safety recall: stop using your kettle. " + "x" * length
    text = text[:length]

    findings = check_sheets(
        {"en": CLEAN["en"]}, regimes=["fda"], languages=["en"], sms_rendered={"en": text}
    )

    [finding] = [f for f in findings if f.code == "sms.length"]
    assert (finding.ok, finding.detail, finding.field, finding.language) == (
        ok,
        detail,
        "sms",
        "en",
    )


def test_it_fails_a_missing_language_once_and_checks_nothing_else_in_it():
    findings = check_sheets({"en": CLEAN["en"]}, regimes=["eu_gpsr"], languages=["en", "de"])

    assert [(f.code, f.language, f.detail) for f in failures(findings)] == [
        ("language.missing", "de", "No de sheet"),
    ]
    assert [f for f in findings if f.language == "de"] == failures(findings)


def test_it_fails_a_language_whose_sheet_lacks_the_core_fields():
    partial = {"headline": "Produktsicherheitsrückruf: Wasserkocher Brightline K2", "hazard": ""}

    findings = check_sheets(
        {"en": CLEAN["en"], "de": partial}, regimes=["fda"], languages=["en", "de"]
    )

    [finding] = failing(findings, "language.missing")
    assert finding.detail == "The de sheet lacks hazard, instructions"
    assert "required.hazard" in {f.code for f in failures(findings) if f.language == "de"}


def test_it_treats_an_empty_sheet_as_missing():
    findings = check_sheets(
        {"en": CLEAN["en"], "fr": {name: "" for name in FIELDS}},
        regimes=["fda"],
        languages=["en", "fr"],
    )

    assert [(f.code, f.language) for f in failures(findings)] == [("language.missing", "fr")]


def test_it_refuses_an_unknown_regime_or_audience():
    with pytest.raises(ValueError, match="ftc"):
        check_sheets({"en": CLEAN["en"]}, regimes=["ftc"], languages=["en"])
    with pytest.raises(ValueError, match="retailer"):
        check_sheets({"en": CLEAN["en"]}, regimes=[], languages=["en"], audience="retailer")


# -- free text -----------------------------------------------------------------------------


def test_it_finds_the_elements_of_a_complete_free_text_notice():
    notice = "\n".join(CLEAN["en"][name] for name in FIELDS if name != "sms")

    assert failures(check_text(notice, regimes=REGIMES)) == []


def test_it_reports_what_a_short_free_text_lacks_and_where_its_banned_words_are():
    notice = (
        "Kettle recall\nAs a precaution, return the Brightline K2 kettle, model K2-17, to the shop."
    )

    findings = failures(check_text(notice, regimes=["cpsc"]))

    assert [(f.code, f.start, f.end) for f in findings] == [
        ("required.hazard", -1, -1),
        ("required.remedy", -1, -1),
        ("required.contact", -1, -1),
        ("required.contact_channel", -1, -1),
        ("banned.precautionary", 14, 29),
    ]
    assert findings[0].detail == "Not found in the text (required by US CPSC recall notice)"


def test_it_reads_german_cue_words_in_a_german_notice():
    notice = "\n".join(CLEAN["de"][name] for name in FIELDS if name != "sms")

    assert failures(check_text(notice, regimes=REGIMES, language="de")) == []


# -- real recall texts ---------------------------------------------------------------------


def fda_texts(shared_data: Path) -> list[str]:
    """The FDA enforcement report records as the report prints them, one text per recall."""
    path = shared_data / "fda-enforcement-report-2012-06-13" / "ucm308307.json"
    keys = (
        "product-description",
        "code-info",
        "reason-for-recall",
        "recalling-firm",
        "distribution-pattern",
    )
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return ["\n".join(r[key] for key in keys if r.get(key)) for r in records]


SAFETY_GATE_LABELS = {
    "product_name": "Product",
    "brand": "Brand",
    "product_description": "Name",
    "model_type_number": "Type / number of model",
    "batch_number": "Batch number",
    "barcode": "Barcode",
    "production_dates": "Production dates",
    "risk_type": "Risk type",
    "risk_description": "Description of the risk",
}


def safety_gate_texts(shared_data: Path) -> list[tuple[str, str]]:
    """EU Safety Gate alerts as the alert page shows them: labelled lines, empty ones left out.
    (110 alerts of the sample come from the Slovak inspectorate and have no alert number.)"""
    path = shared_data / "eu-safety-gate-alerts-sample" / "eu_safety_gate_alerts.csv"
    with path.open(newline="") as handle:
        return [
            (
                row["alert_number"],
                "\n".join(
                    f"{label}: {row[key]}"
                    for key, label in SAFETY_GATE_LABELS.items()
                    if row[key] not in ("", "None")
                ),
            )
            for row in csv.DictReader(handle)
        ]


def nhtsa_rows(shared_data: Path, name: str = "RCL_FROM_2025_2026.zip") -> Iterator[dict[str, str]]:
    """NHTSA recall document rows (one per document and make/model/year), streamed."""
    archive = zipfile.ZipFile(shared_data / "nhtsa-recall-documents-2020-2026" / name)
    with archive.open(archive.namelist()[0]) as raw:
        yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", errors="replace"))


def cpsc_headlines(shared_data: Path) -> dict[str, str]:
    """CPSC press release titles, read back from the words of each recall's URL."""
    headlines = {}
    for path in sorted((shared_data / "cpsc-recalls-2013-usagov-api" / "data").glob("*.json")):
        for result in json.loads(path.read_text())["success"]["results"]:
            if result.get("organization") == "CPSC" and result.get("recall_url"):
                slug = result["recall_url"].rstrip("/").rsplit("/", 1)[-1]
                headlines[result["recall_number"]] = slug.replace("-", " ")
    return headlines


@cache
def checked(text: str, regimes: tuple[str, ...]) -> list[Finding]:
    # Several tests ask different questions of the same few thousand texts.
    return check_text(text, regimes=regimes)


def flagged(texts: Iterable[str], code: str, regimes: list[str]) -> list[str]:
    return [text for text in texts if failing(checked(text, tuple(regimes)), code)]


def plainly(texts: Iterable[str], pattern: str) -> list[str]:
    return [text for text in texts if re.search(pattern, text, re.IGNORECASE)]


def test_it_checks_every_real_recall_text_without_crashing(shared_data):
    texts = [
        *fda_texts(shared_data),
        *(text for _number, text in safety_gate_texts(shared_data)),
        *dict.fromkeys(row["SUMMARY"] for row in nhtsa_rows(shared_data)),
        *cpsc_headlines(shared_data).values(),
    ]
    assert len(texts) == 72 + 463 + 682 + 3153

    for text in texts:
        findings = checked(text, tuple(REGIMES))
        assert {f"banned.{category}" for category in BANNED} <= {f.code for f in findings}
        for finding in failures(findings):
            if finding.start >= 0:
                assert 0 <= finding.start < finding.end <= len(text)


def test_it_flags_exactly_the_fda_records_with_minimising_words(shared_data):
    texts = fda_texts(shared_data)

    # The 2012 enforcement report states reasons plainly: none of its 72 records minimise.
    assert flagged(texts, "banned.voluntary", ["fda"]) == plainly(texts, "voluntar") == []
    assert flagged(texts, "banned.precautionary", ["fda"]) == plainly(texts, "precaution") == []
    assert flagged(texts, "banned.rare", ["fda"]) == plainly(texts, r"in rare (cases|situ)") == []


def test_it_finds_what_a_real_fda_record_lacks_as_a_notice(shared_data):
    texts = fda_texts(shared_data)
    listeria, sandoz = texts[0], texts[20]

    assert [f.code for f in failures(check_text(listeria, regimes=["fda"]))] == [
        "required.instructions"
    ]
    # "Contraceptive Tablets Out of Sequence" names a fault but no hazard, and no action.
    assert [f.code for f in failures(check_text(sandoz, regimes=["fda"]))] == [
        "required.hazard",
        "required.instructions",
    ]
    # An enforcement record tells FDA what happened; it never tells the reader what to do.
    assert flagged(texts, "required.instructions", ["fda"]) == texts


def test_it_reports_what_every_safety_gate_alert_lacks_as_a_recall_notice(shared_data):
    alerts = dict(safety_gate_texts(shared_data))
    texts = [text for _number, text in safety_gate_texts(shared_data)]

    for text in texts:
        codes = {f.code for f in failures(check_text(text, regimes=["eu_gpsr"]))}
        assert {"eu.headline", "required.instructions", "required.remedy"} <= codes
    assert flagged(texts, "banned.voluntary", ["eu_gpsr"]) == []
    assert plainly(texts, "voluntar|freiwillig|volontaire") == []
    bentley = failures(check_text(alerts["A12/0912/19"], regimes=["eu_gpsr"]))
    assert [f.code for f in bentley] == [
        "required.headline",
        "eu.headline",
        "required.identification",
        "required.instructions",
        "required.remedy",
        "required.contact",
    ]


def test_it_flags_exactly_the_nhtsa_documents_that_minimise(shared_data):
    summaries = list(dict.fromkeys(row["SUMMARY"] for row in nhtsa_rows(shared_data)))

    voluntary = flagged(summaries, "banned.voluntary", ["nhtsa"])
    assert voluntary == plainly(summaries, "voluntar")
    assert len(voluntary) == 10
    rare = flagged(summaries, "banned.rare", ["nhtsa"])
    assert rare == plainly(summaries, "in rare cases")
    assert len(rare) == 3
    apology = flagged(summaries, "banned.apology", ["nhtsa"])
    assert apology == plainly(summaries, "apologize for any inconvenience")
    assert len(apology) == 1


def test_it_pins_the_findings_of_known_nhtsa_documents(shared_data):
    summary = {row["DOCUMENT NAME"]: row["SUMMARY"] for row in nhtsa_rows(shared_data)}

    nissan = check_text(summary["RCRIT-25V153-2771.pdf"], regimes=["nhtsa"])
    assert [(f.code, f.start, f.end) for f in failing(nissan, "banned.voluntary")] == [
        ("banned.voluntary", 0, 9),
        ("banned.voluntary", 114, 123),
        ("banned.voluntary", 714, 723),
    ]
    assert summary["RCRIT-25V153-2771.pdf"][:9] == "VOLUNTARY"
    # Its first line "VOLUNTARY SAFETY RECALL CAMPAIGN" is a safety recall heading.
    assert not failing(nissan, "nhtsa.headline")

    [rare] = failing(check_text(summary["RCMN-25V148-1299.pdf"], regimes=["nhtsa"]), "banned.rare")
    assert (rare.start, rare.end, rare.detail) == (206, 219, 'Minimising wording "in rare cases"')

    hyundai = check_text(summary["RCRN-25V065-1775.pdf"], regimes=["nhtsa"])
    [apology] = failing(hyundai, "banned.apology")
    assert (apology.start, apology.end) == (681, 715)
    assert apology.detail == 'Minimising wording "We apologize for any inconvenience"'


def test_it_flags_no_reports_of_injuries_in_a_real_media_statement(shared_data):
    rows = nhtsa_rows(shared_data, "RCL_FROM_2020_2024.zip")
    honda = next(r["SUMMARY"] for r in rows if r["DOCUMENT NAME"] == "RMISC-20V314-5843.pdf")

    findings = failures(check_text(honda, regimes=["nhtsa"]))

    assert [(f.code, f.start, f.end) for f in findings if f.code.startswith("banned.")] == [
        ("banned.voluntary", 38, 49),
        ("banned.no_injuries", 388, 421),
    ]
    assert honda[388:421] == "no reports of crashes or injuries"


def test_it_flags_exactly_the_cpsc_headlines_that_say_voluntary(shared_data):
    headlines = cpsc_headlines(shared_data)

    voluntary = flagged(headlines.values(), "banned.voluntary", ["cpsc"])

    assert voluntary == plainly(headlines.values(), "voluntar")
    assert len(voluntary) == 22
    kellogg = headlines["88118"]
    assert kellogg == "Kellogg Company Voluntarily Recalls Two Toy Premiums"
    [finding] = failing(check_text(kellogg, regimes=["cpsc"]), "banned.voluntary")
    assert (finding.start, finding.end) == (16, 27)
