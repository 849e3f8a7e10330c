"""The key a person pressed during an automated call: 1 acknowledges the notice.

Twilio signs the request with our auth token, and the URL carries the delivery id signed
by us, so neither a forged request nor a guessed URL can acknowledge anything.
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse

from recalldesk.outreach import events
from recalldesk.outreach.channels.sms.callbacks import signed_by_twilio
from recalldesk.outreach.channels.voice.transport import (
    GATHER_SALT,
    spoken_words,
    twilio_language,
)
from recalldesk.outreach.models import Delivery, FactSheet
from recalldesk.outreach.rendering import render_sheet

# A key press comes while the call is on; a day leaves room for calls Twilio queued.
GATHER_MAX_AGE = 24 * 3600


def _language_and_contact(delivery_id: int) -> tuple[str, str]:
    """The delivery's language and the fact sheet's "how to reach us" in it, filled in."""
    row = (
        Delivery.objects.filter(pk=delivery_id)
        .values("language", "wave__version_id", "party__name", "incident__reference")
        .first()
    )
    if row is None:
        return "en", ""
    contact = (
        FactSheet.objects.filter(version_id=row["wave__version_id"], language=row["language"])
        .values_list("contact", flat=True)
        .first()
    )
    if not contact:
        return row["language"], ""
    # The field may use the party's values; links are left out, nobody can follow one
    # read aloud.
    values = {"name": row["party__name"], "reference": row["incident__reference"]}
    return row["language"], render_sheet({"contact": contact}, values)["contact"].strip()


@csrf_exempt
@require_POST
def twilio_gather(request: HttpRequest, token: str) -> HttpResponse:
    """Record an acknowledgement when the person pressed 1, and say what happens next."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("Invalid Twilio signature.")
    try:
        delivery_id = signing.loads(token, salt=GATHER_SALT, max_age=GATHER_MAX_AGE)
    except signing.SignatureExpired:
        return HttpResponseForbidden("This call has expired.")
    except signing.BadSignature as exc:
        raise Http404("No such call.") from exc

    language, contact = _language_and_contact(delivery_id)
    if request.POST.get("Digits") == "1":
        events.record_provider_event(
            "voice", request.POST.get("CallSid", ""), "acknowledged", "pressed 1"
        )
        words = spoken_words("thanks", language)
    else:
        words = spoken_words("reach_us", language, contact=contact)
    response = VoiceResponse()
    response.say(words, language=twilio_language(language))
    return HttpResponse(str(response), content_type="text/xml")
