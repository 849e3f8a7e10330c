"""The plain-English reasons given for text that could not be read.

Also the nouns used to fill them in ("lot code", "a best-by date", ...), so
every message a coordinator sees is worded in one place.
"""

from __future__ import annotations

R_NOTHING = "no lot, serial or date could be read here"
R_NO_LABEL = "no label says what this is (a lot, serial or model number, or which kind of date)"
R_NOTE = "note in brackets with no label; not read as a lot, serial or date"
R_EXCEPT = "listed as an exception; exclusions are not read, so check these by hand"
R_HEADING = (
    "text before a colon looks like a heading (a product, model or variant "
    "name), not a lot or serial"
)
R_GLUED = (
    "a closing bracket is stuck to this code; an item number such as '2)' may have run into it"
)
R_SPACES = "codes separated only by spaces; cannot tell whether this is one code or several"
R_RECALL = "recall or campaign number, not a product code"
R_NO_YEAR = "no year is given, so the date cannot be placed"
R_DATE_NO_KIND = "no label says what this date is (expiry, best by, manufacture, sale ...)"
R_DATE_BACKWARDS = "date range runs backwards (the first date is after the second)"
R_DATE_AS_CODE = "looks like a date but is listed as a {noun}; is it a {noun} or a date?"
R_RANGE_NO_DIGITS = "range ends do not finish in digits, so the codes in between cannot be listed"
R_RANGE_PREFIX = "the two ends of this range have different prefixes"
R_RANGE_BACKWARDS = "range runs backwards (the first code is after the last)"
R_RANGE_OTHER = "ranges of {plural} are not read; list them one by one"
R_GTIN_CHARS = "a UPC, EAN or GTIN is digits only; this contains letters or other characters"
R_GTIN_LENGTH = "has {count} digits; a UPC, EAN or GTIN has 8, 12, 13 or 14 digits"
R_BOX_NOTE = "note in brackets; not read as a {noun}"
R_BOX_BRACKET = "unbalanced bracket; not read as a {noun}"
R_BOX_LABEL = "labelled as {what}, not as a {noun}"
R_BOX_ALL = "means every {noun}; use the 'all lots' option rather than a code"
R_BOX_WORDS = "contains words, not just a {noun}"
R_BOX_CHARS = "contains characters that do not belong in a {noun}"

_NOUN = {
    "lot": "lot code",
    "serial": "serial number",
    "model": "model number",
    "gtin": "barcode",
    "recall": "recall number",
}
_PLURAL = {"model": "model numbers", "gtin": "barcodes", "recall": "recall numbers"}
_DESCRIBE = {
    "lot": "a lot",
    "serial": "a serial number",
    "model": "a model or catalogue number",
    "gtin": "a barcode (UPC, EAN or GTIN)",
    "recall": "a recall number",
    "manufactured": "a manufacture date",
    "best_by": "a best-by date",
    "expiry": "an expiry date",
    "sold": "a sale date",
    "acquired": "a purchase date",
    "distributed": "a distribution date",
    "date": "a date",
}
