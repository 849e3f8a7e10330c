"""Twilio's status callbacks: what became of a message or a call, recorded on its delivery.

Twilio signs each request with our auth token (``X-Twilio-Signature``); anything else
gets a 403 and changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from recalldesk.outreach import events
from recalldesk.outreach.channels.sms.errors import describe, is_permanent_code, parse_code

# MessageStatus -> our event. Intermediate states (queued, sending, sent) are not recorded:
# the delivery row is already "sent" once Twilio took the message.
MESSAGE_EVENTS = {"delivered": "delivered", "undelivered": "failed", "failed": "failed"}
# CallStatus -> our event. "completed" means someone (or a voicemail) picked up.
CALL_EVENTS = {
    "completed": "delivered",
    "busy": "failed",
    "no-answer": "failed",
    "failed": "failed",
}
# A busy line or nobody at home says nothing bad about the number.
CALL_TEMPORARY = {"busy", "no-answer"}


def signed_by_twilio(request: HttpRequest) -> bool:
    """Whether the request carries a valid Twilio signature for its URL and POST fields."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    # Twilio signs the URL we gave it, built from PUBLIC_URL. Behind a proxy that
    # terminates TLS, build_absolute_uri() can see another scheme or host, so either
    # reading of the URL is accepted; both still need our auth token to sign.
    urls = dict.fromkeys(
        [request.build_absolute_uri(), f"{settings.PUBLIC_URL}{request.get_full_path_info()}"]
    )
    return any(validator.validate(url, request.POST, signature) for url in urls)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Record a final message or call status reported by Twilio on the matching delivery."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("Invalid Twilio signature.")

    message_sid = request.POST.get("MessageSid", "")
    call_sid = request.POST.get("CallSid", "")
    code = parse_code(request.POST.get("ErrorCode"))
    if message_sid:
        channel, sid = "sms", message_sid
        status = request.POST.get("MessageStatus", "")
        event = MESSAGE_EVENTS.get(status)
        permanent = is_permanent_code(code)
    elif call_sid:
        channel, sid = "voice", call_sid
        status = request.POST.get("CallStatus", "")
        event = CALL_EVENTS.get(status)
        permanent = status not in CALL_TEMPORARY and is_permanent_code(code)
    else:
        return HttpResponseBadRequest("Neither MessageSid nor CallSid.")

    if event is not None:
        detail = ""
        if event == "failed":
            detail = f"Twilio status {status}"
            if code is not None:
                detail += f"; {describe(code)}"
        events.record_provider_event(channel, sid, event, detail, permanent)
    # Twilio only needs a 2xx; an unknown SID is not its problem to retry.
    return HttpResponse(status=204)
