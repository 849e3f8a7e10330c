"""Email: SMTP by default, or any email service through django-anymail."""

from recalldesk.outreach.channels.base import ChannelSpec
from recalldesk.outreach.channels.email.transport import email_transport

SPEC = ChannelSpec(
    kind="email",
    label="Email",
    contact="email",
    automatic=True,
    templates={
        "subject": "outreach/email/subject.txt",
        "text": "outreach/email/body.txt",
        "html": "outreach/email/body.html",
    },
    transport=email_transport,
)
