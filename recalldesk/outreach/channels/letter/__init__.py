"""Postal letters: printed in batches as one PDF with a CSV for the print house, so the
channel has no transport."""

from recalldesk.outreach.channels.base import ChannelSpec

SPEC = ChannelSpec(
    kind="letter",
    label="Postal letter",
    contact="postal",
    automatic=False,
    templates={
        "subject": "outreach/letter/subject.txt",
        "html": "outreach/letter/letter.html",
        "text": "outreach/letter/letter.txt",
    },
)
