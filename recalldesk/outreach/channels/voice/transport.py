"""Places automated calls through Twilio that read the script and ask for a key press.

The TwiML goes inline with the call request (``twiml=``), so Twilio needs nothing from us
until the person presses a key: then it posts to ``twilio_gather`` with a signed token
naming the delivery.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from django.core import signing
from django.template.loader import select_template
from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import VoiceResponse

from recalldesk.outreach.channels.base import Outgoing, TransportError
from recalldesk.outreach.channels.sms.errors import transport_error
from recalldesk.outreach.channels.sms.transport import TwilioTransport, status_callback_url

GATHER_SALT = "recalldesk.voice-gather"
# Twilio refuses inline TwiML longer than this (error 32018).
MAX_TWIML = 4000
# Our language codes -> the voices Twilio's <Say> has for them.
TWILIO_LANGUAGES = {"en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES"}


def twilio_language(language: str) -> str:
    return TWILIO_LANGUAGES.get(language.split("-")[0].lower(), TWILIO_LANGUAGES["en"])


def spoken_words(name: str, language: str, **context: Any) -> str:
    """One of the channel's fixed phrases (``outreach/voice/<name>.txt``) in ``language``."""
    lang = language.split("-")[0].lower()
    template = select_template([f"outreach/voice/{name}.{lang}.txt", f"outreach/voice/{name}.txt"])
    context.setdefault("company", settings.COMPANY_NAME)
    return template.render(context).strip()


def gather_url(delivery_id: int) -> str:
    """Where Twilio posts the key pressed; the token is the delivery id, signed."""
    token = signing.dumps(delivery_id, salt=GATHER_SALT)
    return f"{settings.PUBLIC_URL}/outreach/callbacks/twilio/gather/{token}/"


def call_twiml(item: Outgoing) -> str:
    """The call: the script and the key-press prompt, then a goodbye if no key comes."""
    language = twilio_language(item.language)
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=gather_url(item.delivery_id), method="POST")
    gather.say(f"{item.text}\n{spoken_words('prompt', item.language)}", language=language)
    response.say(spoken_words("goodbye", item.language), language=language)
    return str(response)


class VoiceTransport(TwilioTransport):
    """Places one call per item and returns the call SID."""

    def send(self, item: Outgoing) -> str:
        client = self.client()
        twiml = call_twiml(item)
        if len(twiml) > MAX_TWIML:
            raise TransportError(
                f"The call script makes {len(twiml)} characters of TwiML; Twilio takes at most "
                f"{MAX_TWIML}. Shorten the fact sheet's spoken fields.",
                permanent=True,
                contact_ok=True,
            )
        try:
            call = client.calls.create(
                to=item.address,
                from_=settings.TWILIO_FROM_NUMBER,
                twiml=twiml,
                status_callback=status_callback_url(),
                status_callback_method="POST",
            )
        except (TwilioException, requests.RequestException) as exc:
            raise transport_error(exc) from exc
        return str(call.sid)
