"""Read the scope text of a recall notice into structured scope rules.

A recall coordinator pastes what a notice says about the affected product
("Lot # 8D1082, Exp 01/13", "serial numbers 10000-20000", "all lots",
"manufactured between January 1, 2012 and March 31, 2012") or pastes a long
list of lot lines. This module turns that text into lots, lot ranges,
serials, serial ranges, GTINs, model numbers and date windows.

It never guesses silently. Text that looks like a code or a date but cannot
be read with confidence is returned in ``ParsedScope.unparsed`` with a
plain-English reason, so the coordinator can deal with it by hand.

Entry points:

* :func:`parse_scope_text`: the free text of a notice.
* :func:`parse_lot_lines`: the lot box of the scope editor, with one lot or
  lot range per line, or separated by commas or semicolons.
* :func:`parse_serial_lines`: the same for the serial box.

How free text is read:

* A label ("Lot #", "Batch number", "Serial No.", "S/N", "Unit", "UPC",
  "Item #", "Model", "Catalog #", "REF", "Exp.", "Best by", "Manufactured",
  "Sold", "Purchased", "Distributed", ...) says what the codes or dates after
  it are. It holds across commas, semicolons, new lines and item markers such
  as "2)" until another label, an unknown label ("Quantity:"), an item that
  starts with prose, or the end of a sentence. A date label and a code label
  are tracked separately, so "Lot # 8D1082, Exp 01/13; 8D1151" reads 8D1151
  as a lot. "Recall #" labels one number, which is reported, not read.
  A label joined to a code by a dash or slash ("SN-0000001") is part of it.
* Codes and dates with no label are reported, not guessed; so are bare codes
  in brackets ("(HRM1000)"), codes before a colon ("C3: 24.9.2008 ..."),
  anything after "except" or "excluding", and any stretch of words with no
  label, code or date in it.
* Codes separated only by spaces are one code when a short capital word is
  among them ("TFRS 130B 1503 KT34"), several codes when they all have the
  same shape ("110737OSCN 110737ODCN"), and reported otherwise.
* "X-Y" written as one word is a range only when both ends have the same
  shape (same prefix, digit tails of equal length) and it sits under a lot
  or serial label; "439605-01", "E0600-55" and "12-345-A" stay single codes.
  "X through Y", "X thru Y", "X to Y", "X - Y", "from X to Y" and
  "between X and Y" are ranges under a lot or serial label.
* Slash and dash dates are month/day/year (US) unless ``day_first=True`` is
  given or the text itself shows day-first dates (a first number above 12,
  as in "27/01/2018"); if the text shows both orders, the dates that could
  be read either way are reported. Dotted dates ("8.6.2020") are day first.
  Two-digit years below 70 are 20xx, others 19xx.
* A month ("06/2013", "Jun 2012") as a whole window covers the month; as the
  start of a window it means the first day, as the end the last day.
  A lone four-digit year is read only straight after a date label.
* "Use by" is read as an expiry date; "best by", "best before",
  "best if used by" and "sell by" as best-by dates; "produced",
  "production", "packed", "made" and "built" as manufacture dates;
  "shipped" as distribution; "purchased", "bought" and "received" as
  acquired. "Manufactured and distributed between ..." gives one window of
  each kind.
* Quantity notes ("(2 units)", "529,327 units") and item markers ("1)",
  "b)") are skipped. Quoted text is normalised: dashes become "-" and runs
  of white space become one space.
* A barcode must have 8, 12, 13 or 14 digits; spaces and dashes inside it
  are removed ("UPC 0 12345 67890 5" gives "012345678905"). The check digit
  is not validated here.
"""

from __future__ import annotations

from recalldesk.incidents.scope_text.boxes import parse_lot_lines, parse_serial_lines
from recalldesk.incidents.scope_text.model import (
    DATE_KINDS,
    DateWindow,
    ParsedScope,
    Range,
    Unparsed,
)
from recalldesk.incidents.scope_text.model import GTIN_LENGTHS as GTIN_LENGTHS
from recalldesk.incidents.scope_text.model import MAX_RANGE_CODES as MAX_RANGE_CODES
from recalldesk.incidents.scope_text.notice import parse_scope_text

__all__ = [
    "DATE_KINDS",
    "DateWindow",
    "ParsedScope",
    "Range",
    "Unparsed",
    "parse_lot_lines",
    "parse_scope_text",
    "parse_serial_lines",
]
