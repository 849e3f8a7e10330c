"""Phone call lists: agents call parties from the console, reading a script in the
party's language, so the channel has no transport."""

from recalldesk.outreach.channels.base import ChannelSpec

SPEC = ChannelSpec(
    kind="phone",
    label="Phone call list",
    contact="phone",
    automatic=False,
    templates={
        "subject": "outreach/phone/subject.txt",
        "text": "outreach/phone/script.txt",
    },
)
