"""SMS through Twilio: two message parts at most, delivery reported by status callbacks."""

from recalldesk.outreach.channels.base import ChannelSpec
from recalldesk.outreach.channels.sms.transport import MAX_LENGTH, SmsTransport

SPEC = ChannelSpec(
    kind="sms",
    label="SMS",
    contact="phone",
    automatic=True,
    templates={"text": "outreach/sms/body.txt"},
    transport=SmsTransport,
    max_length=MAX_LENGTH,
)
