"""What Twilio's error codes mean for us: is the number itself no good, or may a retry work?

Shared by the SMS and voice channels and by the status callbacks. Only codes that say
something about the *recipient's number* are permanent: a permanent error marks the
contact point bad for good, so a problem with our own account (a wrong token, a sender
number that cannot send) must never be blamed on a million recipients. Those are
retried a bounded number of times, after which a person is told.

Codes: https://www.twilio.com/docs/api/errors
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException

from recalldesk.outreach.channels.base import TransportError

# The recipient's number cannot take what we send, or its owner said no.
RECIPIENT_CODES: dict[int, str] = {
    21211: "not a valid phone number",
    21214: "the number cannot be reached",
    21215: "calls to this region are not enabled for our account",
    21216: "Twilio blocks calls to this number",
    21217: "the number does not appear to be valid",
    21408: "SMS to this region are not enabled for our account",
    21610: "the recipient has unsubscribed (replied STOP)",
    21612: "Twilio cannot route to this number",
    21614: "not a mobile number",
    21635: "the number is a landline",
    30004: "the recipient blocked our messages",
    30005: "the number is unknown to its carrier",
    30006: "a landline or a carrier we cannot reach",
}

# Problems on our side: retrying will not help either, but the number is not at fault,
# so these are temporary (bounded retries, then a person is told) rather than permanent.
ACCOUNT_CODES: dict[int, str] = {
    20003: "Twilio refused our credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    20005: "our Twilio account is not active",
    21210: "TWILIO_FROM_NUMBER is not verified for calls on our account",
    21212: "TWILIO_FROM_NUMBER is not a valid phone number",
    21606: "TWILIO_FROM_NUMBER cannot send SMS",
    21659: "TWILIO_FROM_NUMBER is not a Twilio number of our account",
}

# Not in RECIPIENT_CODES on purpose: 30003 "unreachable destination handset" is most often
# a phone switched off or out of signal, which Twilio itself says a later try may fix.
TEMPORARY_CODES: dict[int, str] = {
    20429: "too many requests to Twilio",
    30003: "the handset is unreachable (switched off or out of signal)",
    30008: "unknown error at the carrier",
}


def describe(code: int | None) -> str:
    """A short human reading of a Twilio error code."""
    if code is None:
        return "no error code"
    meaning = RECIPIENT_CODES.get(code) or ACCOUNT_CODES.get(code) or TEMPORARY_CODES.get(code)
    return f"Twilio error {code}: {meaning}" if meaning else f"Twilio error {code}"


def is_permanent_code(code: int | None) -> bool:
    """Whether an error code reported later (a status callback's ErrorCode) condemns the
    number. Unknown codes are not: a wrongly kept number costs one more try, a wrongly
    condemned one costs a person who never hears about the recall."""
    return code in RECIPIENT_CODES


def parse_code(value: str | None) -> int | None:
    """The integer in a callback's ``ErrorCode`` field, if there is one."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


def is_permanent_response(status: int | None, code: int | None) -> bool:
    """Whether an error answer of the REST API condemns the number."""
    if code in RECIPIENT_CODES:
        return True
    if code in ACCOUNT_CODES or code in TEMPORARY_CODES:
        return False
    if status is None:
        return False
    # 401/403 are about our credentials and 429 about our pace; other 4xx answers say the
    # request for this recipient is wrong and will stay wrong.
    return 400 <= status < 500 and status not in (401, 403, 429)


def transport_error(exc: Exception) -> TransportError:
    """The TransportError for an exception raised while calling Twilio's API."""
    if isinstance(exc, TwilioException):
        # TwilioRestException and the newer TwilioServiceException both carry these.
        status: int | None = getattr(exc, "status", None)
        code: int | None = getattr(exc, "code", None)
        if code == status:
            # The library fills in the HTTP status when the body had no Twilio code.
            code = None
        permanent = is_permanent_response(status, code)
        reason = getattr(exc, "msg", "") or getattr(exc, "detail", "") or ""
        parts = [f"Twilio answered HTTP {status}"]
        if code is not None:
            parts.append(describe(code))
        if reason:
            parts.append(str(reason))
        return TransportError("; ".join(parts), permanent=permanent)
    if isinstance(exc, requests.RequestException):
        return TransportError(f"Cannot reach Twilio: {exc}", permanent=False)
    raise TypeError(f"not an error of the Twilio API: {exc!r}")
