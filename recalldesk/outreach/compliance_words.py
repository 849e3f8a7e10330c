"""The words the recall compliance check looks for, kept as data apart from the rules.

Every pattern is a regular expression matched case-insensitively. Banned wording is matched
in every language at once (a German word in an English sheet is still banned); cue words are
chosen by the sheet's language, falling back to English.

Sources: EU GPSR (Regulation 2023/988) Art. 36 names "voluntary", "precautionary",
"discretionary", "in rare/specific situations" and "no reported accidents" as wording that
plays down the risk; FDA 21 CFR 7.49(c)(2) forbids promotional material and statements that
detract from the message. The German heading is the one the German text of Art. 36 uses
("Produktsicherheitsrückruf"); French and Spanish headings accept the usual wordings.
"""

from __future__ import annotations

# Things that can be hurt or fail; shared by the "no injuries reported" patterns.
_HARMS = (
    r"(?:accidents?|crash(?:es)?|injur(?:y|ies)|incidents?|illness(?:es)?|fires?|deaths?"
    r"|fatalit(?:y|ies)|failures?)"
)

# code -> (checklist label, patterns). The code of a finding is "banned.<code>".
BANNED: dict[str, tuple[str, tuple[str, ...]]] = {
    "voluntary": (
        "Does not call the recall voluntary",
        (
            r"\bvoluntar\w*",  # en voluntary/voluntarily, es voluntaria/voluntariamente
            r"\bfreiwillig\w*",
            r"\bvolontaire(?:s|ment)?\b",
        ),
    ),
    "precautionary": (
        "Does not present the recall as a mere precaution",
        (
            r"\bprecautionary\b",
            r"\bas an? (?:safety |extra )?precaution\b",
            r"\bvorsorglich\w*",
            r"\bvorsichtshalber\b",
            r"\baus (?:reiner )?Vorsicht(?:sgründen)?\b",
            r"\bpar (?:mesure de )?précaution\b",
            r"\bà titre (?:préventif|de précaution)\b",
            r"\bpor precaución\b",
            r"\bcomo medida (?:de precaución|preventiva)\b",
            r"\bde forma preventiva\b",
        ),
    ),
    "abundance_of_caution": (
        "Does not say it acts out of an abundance of caution",
        (
            r"\b(?:out of (?:an? )?|an? )(?:over)?abundance of caution\b",
            r"\baus übergroßer Vorsicht\b",
            r"\bpar excès de prudence\b",
            r"\bpor (?:exceso de|extrema) (?:precaución|prudencia)\b",
        ),
    ),
    "discretionary": (
        "Does not call the action discretionary or goodwill",
        (
            r"\bdiscretionary\b",
            r"\bgoodwill\b",
            r"\bKulanz\w*",
            r"\bdiscrétionnaire\b",
            r"\bgeste commercial\b",
            r"\bdiscrecional\b",
            r"\bgesto comercial\b",
        ),
    ),
    "rare": (
        "Does not play down how likely the hazard is",
        (
            r"\bin (?:very |extremely )?(?:rare|specific|isolated|exceptional) "
            r"(?:cases|situations|instances|circumstances|occasions)\b",
            r"\bin (?:sehr )?(?:seltenen|bestimmten|vereinzelten) (?:Fällen|Situationen)\b",
            r"\bdans (?:de |des )?(?:très )?rares (?:cas|situations)\b",
            r"\ben (?:casos|situaciones) (?:muy )?(?:raros|raras|excepcionales|aislados)\b",
            r"\ben raras ocasiones\b",
        ),
    ),
    "no_injuries": (
        "Does not stress that no injuries were reported",
        (
            rf"\bno (?:known |reported )?{_HARMS}(?: (?:or|and) {_HARMS})?"
            r" (?:(?:have|has) been |were |was )?reported\b",
            rf"\bno reports? of (?:any )?{_HARMS}(?: (?:or|and) {_HARMS})?",
            rf"\bno known {_HARMS}",
            r"\bkeine (?:\w+ ){0,2}(?:Unfälle|Verletzungen|Vorfälle|Schäden)"
            r" (?:\w+ ){0,2}(?:bekannt|gemeldet)\b",
            r"\baucun(?:e)? (?:accident|incident|blessure|cas)s? n'a été (?:signalée?|rapportée?)",
            r"\bno se (?:han|ha) (?:registrado|reportado|notificado|producido)"
            r" (?:accidentes|lesiones|incidentes)",
        ),
    ),
    "apology": (
        "Does not apologise for inconvenience",
        (
            r"\b(?:we )?apologi[sz]e for (?:any|the) inconvenience\b",
            r"\bsorry for (?:any|the) inconvenience\b",
            r"\bfür (?:die|alle|etwaige|eventuelle) (?:entstandenen )?Unannehmlichkeiten\b",
            r"\b(?:nous nous excusons|veuillez nous excuser) (?:pour|de) "
            r"(?:la gêne|les désagréments|tout désagrément)",
            r"\b(?:disculpen?|lamentamos|sentimos) las molestias\b",
        ),
    ),
    "sales": (
        "Contains no sales language",
        (
            r"\bbuy now\b",
            r"\bspecial offer\b",
            r"\bdiscount(?:s|ed)?\b",
            r"\blimited[- ]time\b",
            r"\bexclusive deals?\b",
            r"\d+\s?% (?:off|Rabatt|de réduction|de descuento)\b",
            r"\bjetzt kaufen\b",
            r"\bSonderangebot\w*",
            r"\bRabatt\w*",
            r"\bachetez maintenant\b",
            r"\boffre (?:spéciale|exclusive)\b",
            r"\bcompre ahora\b",
            r"\boferta (?:especial|exclusiva)\b",
            r"\bdescuentos?\b",
        ),
    ),
}

# Required headings. EU GPSR Art. 36(2)(a): the words "Product safety recall" in the notice's
# language. NHTSA 49 CFR 577.5: the owner letter is headed as a safety recall.
EU_HEADLINE: dict[str, str] = {
    "en": r"\bproduct safety recall\b",
    "de": r"(?:produkt)?sicherheitsrückruf|rückruf wegen (?:produkt)?sicherheit",
    "fr": r"\brappel de (?:sécurité|produit)\b",
    "es": r"\b(?:recuperación|retirada) (?:de(?: un)? producto )?(?:por motivos )?de seguridad\b",
}
SAFETY_RECALL: dict[str, str] = {
    "en": r"\bsafety recall\b",
    "de": r"sicherheitsrückruf|rückruf",
    "fr": r"\brappel\b[^.:]{0,40}?\bsécurité\b",
    "es": r"\b(?:retiro|retirada|recuperación|llamad[oa] a revisión)\b[^.:]{0,40}?\bseguridad\b",
}

# A phone number or web address the reader can use; "{{ link }}" is filled in per party.
# Phone numbers need their usual separators, so that lot numbers and dates do not count.
CONTACT_CHANNEL = (
    r"\+\d[\d ().\-]{6,}\d"  # international: +49 30 1234567
    r"|\(?\b\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}\b"  # North American: (800) 555-0199
    r"|\b1-8\d\d-[A-Z0-9-]{7,}"  # toll-free with letters: 1-800-RECALLS
    r"|\b0\d{2,5}[ /\-]\d{3,}"  # national: 030 1234567, 0800-123456
    r"|\b0\d(?:[ .]\d\d){4}\b"  # French: 01 23 45 67 89
    r"|https?://\S+|\bwww\.\S+|\b[\w-]+\.(?:com|org|net|gov|eu|de|fr|es|at|ch|be|uk)\b"
    r"|\{\{\s*link\s*\}\}"
)

# A code-like token (5+ letters and digits, at least 2 of them digits) is an identifier in
# any language: lot, unit and serial numbers in real notices often stand without a label.
_CODE = r"|\b(?=\w*\d\w*\d)[A-Z0-9]{5,}\b"

# element -> language -> cue pattern. Used to find the elements in free text (check_text) and,
# for the few rules that need more than a filled field, in one field of a sheet.
CUES: dict[str, dict[str, str]] = {
    "headline": {
        "en": r"\brecall\w*|\bwithdrawal\b|\bsafety (?:notice|alert|campaign)\b",
        "de": r"rückruf\w*|\bwarnung\b|\bsicherheitshinweis\b",
        "fr": r"\brappel\w*|\bretrait\b|\bavis de sécurité\b",
        "es": r"\bretirada\b|\bretiro\b|\brecuperación\b|\bllamad[oa] a revisión\b",
    },
    "product": {
        "en": r"\b(?:products?|models?|brand|items?|vehicles?|units?|label(?:l)?ed|sold|upc|sku"
        r"|packag\w*|bottles?|boxes|bags?)\b",
        "de": r"\bprodukt\w*|\bmodell\w*|\bmarke\b|\bartikel\b|\bfahrzeug\w*|\bverkauft\b",
        "fr": r"\bproduits?\b|\bmodèles?\b|\bmarque\b|\barticles?\b|\bvéhicules?\b|\bvendus?\b",
        "es": r"\bproductos?\b|\bmodelos?\b|\bmarca\b|\bartículos?\b|\bvehículos?\b|\bvendid\w*",
    },
    "identification": {
        "en": r"\b(?:lots?|batch(?:es)?|serial|codes?|upc|vin|sku|model (?:no|number)\w*"
        r"|expir\w*|best[- ]by|use[- ]by|barcode|ref|units?\s*(?:numbers?|#))\b|\bunits?:" + _CODE,
        "de": r"\bcharge\w*|\blos\b|\bseriennummer\w*|\bmodellnummer\b|\bmindesthaltbarkeit\w*"
        r"|\bean\b|\bfin\b|\bcode\b" + _CODE,
        "fr": r"\blots?\b|\bnuméro de série\b|\bcodes?\b|\bréférence\b|\bean\b|\bdlc\b|\bdluo\b"
        + _CODE,
        "es": r"\blotes?\b|\bnúmero de serie\b|\bcódigos?\b|\breferencia\b|\bcaducidad\b" + _CODE,
    },
    "hazard": {
        "en": r"\b(?:hazard\w*|risk\w*|danger\w*|injur\w*|fire|burn\w*|shock|chok\w*|lacerat\w*"
        r"|crash\w*|contaminat\w*|adulterat\w*|steril\w*|salmonella|listeria|e\. coli|allerg\w*"
        r"|undeclared|toxic\w*|illness|death|fall\w*|strangulat\w*|suffocat\w*|poison\w*"
        r"|chemical|microbiological|drown\w*|cuts?|hearing|sight|environment\w*)\b",
        "de": r"gefahr\w*|risiko\w*|verletz\w*|\bbrand\w*|\bfeuer\b|stromschlag|erstick\w*"
        r"|unfall\w*|verbrenn\w*|vergift\w*|allerg\w*",
        "fr": r"\bdanger\w*|\brisques?\b|\bbless\w*|\bincendie\b|\bbrûlure\w*|\bchoc électrique\b"
        r"|\bétouffement\b|\baccident\w*|\bintoxication\b|\ballerg\w*",
        "es": r"\bpeligro\w*|\briesgos?\b|\blesi\w*|\bincendio\b|\bquemadura\w*"
        r"|\bdescarga eléctrica\b|\basfixia\b|\baccidente\w*|\bintoxicación\b|\balerg\w*",
    },
    "instructions": {
        "en": r"\b(?:stop using|do not (?:use|eat|consume|drive|sell|install)|don't use|return"
        r"|discard|dispose|throw (?:it |them )?away|bring|take (?:it|them|your \w+) to|unplug"
        r"|should (?:stop|contact|return|check|discard|take)|immediately)\b",
        "de": r"nicht mehr (?:\w+ ){0,2}(?:verwenden|benutzen|essen|verzehren|fahren)"
        r"|zurückgeben|zurückbringen|entsorgen|bringen sie|wenden sie sich|sofort",
        "fr": r"n'utilisez plus|ne plus utiliser|cessez|rapportez|retournez|jetez|ramenez"
        r"|immédiatement",
        "es": r"deje de (?:usar|utilizar)|no (?:use|utilice|consuma)|devuelva|deseche|lleve"
        r"|inmediatamente",
    },
    "remedy": {
        "en": r"\b(?:refund\w*|replace\w*|repair\w*|free of charge|for free|no (?:charge|cost)"
        r"|update\w*|reimburs\w*|remedy|fix\w*|exchange)\b",
        "de": r"erstatt\w*|\bersatz\w*|austausch\w*|reparatur\w*|repariert|kostenlos\w*"
        r"|kostenfrei\w*|gutschrift|aktualisier\w*|update",
        "fr": r"\brembours\w*|\bremplac\w*|\brépar\w*|\bgratuit\w*|\béchange\w*|mise à jour",
        "es": r"\breembols\w*|\bsustitu\w*|\breemplaz\w*|\brepar\w*|\bgratuit\w*"
        r"|\bsin (?:coste?|cargo)|actualización",
    },
    "contact": {
        "en": r"\b(?:call|contact|visit|website|toll[- ]free|hotline|email|e-mail|phone)\b",
        "de": r"\banrufen\b|\brufen sie\b|\bkontakt\w*|\bwebseite\b|\bwebsite\b|\bhotline\b"
        r"|\btelefon\w*|\be-mail\b",
        "fr": r"\bappel\w*|\bcontact\w*|\bsite\b|\bnuméro\b|\btéléphone\b|\bcourriel\b",
        "es": r"\bllame\b|\bcontact\w*|\bsitio web\b|\bweb\b|\bteléfono\b|\bcorreo\b",
    },
    # NHTSA 577.5(e): an evaluation of the risk to motor vehicle safety.
    "risk": {
        "en": r"\b(?:increas\w* the risk|risk of|crash\w*|injur\w*|fire|burns?|death|fatal\w*)\b",
        "de": r"risiko\w*|unfall\w*|verletz\w*|\bbrand\w*",
        "fr": r"\brisques?\b|\baccident\w*|\bbless\w*|\bincendie\b",
        "es": r"\briesgos?\b|\baccidente\w*|\blesi\w*|\bincendio\b",
    },
    # NHTSA 577.5(g): when the remedy will be available.
    "remedy_when": {
        "en": r"\b(?:available|from|starting|begin\w*|expected|on or about|now|interim)\b|\d{4}",
        "de": r"\bab\b|verfügbar|voraussichtlich|\bsofort\b|\d{4}",
        "fr": r"\bdisponibles?\b|\bà partir\b|\bdès\b|\d{4}",
        "es": r"\bdisponibles?\b|\ba partir\b|\bdesde\b|\d{4}",
    },
    # FDA 7.49 to consignees: stop distribution, quarantine stock, return it.
    "stop_sale": {
        "en": r"\b(?:stop (?:selling|distribut\w*|shipping|sale)|do not (?:sell|distribute|ship)"
        r"|quarantine|remove from (?:sale|shelves|stock)|hold all)\b",
        "de": r"verkauf \w+ einstellen|nicht mehr (?:verkaufen|ausliefern)|sperren|aus dem verkauf",
        "fr": r"\bcesse[rz] la (?:vente|distribution)|ne plus vendre|retire[rz] de la vente"
        r"|\bbloque[rz]\b|mettez en quarantaine",
        "es": r"dej(?:ar|e) de (?:vender|distribuir)|retir(?:ar|e) de la venta|inmovili\w*"
        r"|cuarentena",
    },
}
