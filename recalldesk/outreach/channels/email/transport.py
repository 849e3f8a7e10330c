"""Email transports: a direct SMTP conversation, or a Django email backend (anymail).

With SMTP the delivery row is committed as sent just before the final "." of the DATA
command: a server only takes a message once it has read that dot, so a worker killed at
any point before the commit leaves the message unsent and the row claimable again, and a
worker killed after it leaves the row already recorded: a message is never sent twice. The
price is the other way round: a worker killed between the commit and the write of the dot
(on PostgreSQL, from the moment the server has the COMMIT until the dot is written) leaves
one row recorded sent whose message the server never took; so does a connection that drops
after the dot and before the server's answer, which is kept as sent rather than risk a
second copy.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import socket
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from recalldesk.outreach.channels.base import Outgoing, Transport, TransportError
from recalldesk.outreach.channels.email.mime import build_message

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_LEADING_DOT = re.compile(rb"(?m)^\.")
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")
log = logging.getLogger(__name__)


def email_transport() -> Transport:
    """The transport the settings ask for: our own SMTP client, or the configured backend."""
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return SmtpTransport()
    return BackendTransport()


def dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: a dot doubled at the start of a line (RFC 5321 4.5.2), and a line
    end before the final dot. The regex only runs when some line starts with a dot."""
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "recalldesk"


def _message_id(item: Outgoing, domain: str | None = None) -> str:
    return f"<d{item.delivery_id}.{secrets.token_hex(6)}@{domain or _domain()}>"


class SmtpTransport:
    """Sends over one kept-open SMTP connection, reconnecting when the server drops it.

    When the server offers PIPELINING (RFC 2920) the envelope (MAIL, RCPT, DATA) goes in
    one write, which halves the round trips per message.
    """

    def __init__(self) -> None:
        self.sender = settings.DEFAULT_FROM_EMAIL
        self.envelope_from = parseaddr(self.sender)[1]
        self.domain = _domain()
        self.smtp: smtplib.SMTP | None = None
        self.pipelining = False

    def _connect(self) -> smtplib.SMTP:
        if self.smtp is None:
            try:
                smtp = smtplib.SMTP(
                    settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT
                )
                smtp.ehlo_or_helo_if_needed()
                if settings.EMAIL_USE_TLS:
                    smtp.starttls()
                    smtp.ehlo()
                if settings.EMAIL_HOST_USER:
                    smtp.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
                # The final dot is a write of its own after the commit; with Nagle's
                # algorithm it would wait for the server's delayed ACK of the body (40 ms).
                if smtp.sock is not None:
                    smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, smtplib.SMTPException) as exc:
                raise TransportError(
                    f"Cannot reach the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: "
                    f"{exc}"
                ) from exc
            self.smtp = smtp
            self.pipelining = smtp.has_extn("pipelining")
        return self.smtp

    def send(self, item: Outgoing) -> str:
        return self.send_committing(item, None)

    def send_committing(self, item: Outgoing, commit: Callable[[str], None] | None) -> str:
        """Send ``item``; ``commit(provider_id)`` runs just before the final dot. If it
        raises, the connection is dropped without the dot (the server discards the message)
        and the exception goes on to the caller."""
        if not _ADDRESS.fullmatch(item.address):
            # Written into a pipelined command as it is: nothing may end the line early.
            raise TransportError(f"Not an email address: {item.address!r}", permanent=True)
        message_id = _message_id(item, self.domain)
        data = build_message(
            sender=self.sender,
            to=item.address,
            subject=item.subject,
            text=item.text,
            html=item.html,
            message_id=message_id,
            headers=item.headers,
        )
        smtp = self._connect()
        try:
            self._envelope(smtp, item.address)
            smtp.send(dot_stuffed(data))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TransportError(f"The mail server dropped the connection: {exc}") from exc
        if commit is not None:
            try:
                commit(message_id)
            except BaseException:
                self.abort()
                raise
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The dot is out: the server may well have the message. Sending it again could
            # make a second copy, so the row stays as recorded.
            self.close()
            log.warning("No answer after the message to %s: %s", item.address, exc)
            return message_id
        if code != 250:
            raise self._refused(smtp, code, reply, "message")
        return message_id

    def _envelope(self, smtp: smtplib.SMTP, address: str) -> None:
        """MAIL, RCPT and DATA, up to the server's 354 (in one write when pipelining)."""
        if not self.pipelining:
            code, reply = smtp.mail(self.envelope_from)
            if code != 250:
                raise self._refused(smtp, code, reply, "sender")
            code, reply = smtp.rcpt(address)
            if code not in (250, 251):
                raise self._refused(smtp, code, reply, address)
            code, reply = smtp.docmd("data")
            if code != 354:
                raise self._refused(smtp, code, reply, "message")
            return
        smtp.send(f"MAIL FROM:<{self.envelope_from}>\r\nRCPT TO:<{address}>\r\nDATA\r\n")
        replies = [smtp.getreply() for _ in range(3)]
        (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = replies
        refused = None
        if mail_code != 250:
            refused = (mail_code, mail_reply, "sender")
        elif rcpt_code not in (250, 251):
            refused = (rcpt_code, rcpt_reply, address)
        elif data_code != 354:
            refused = (data_code, data_reply, "message")
        if refused is None:
            return
        if data_code == 354:
            # The server wants a message after refusing its envelope: only dropping the
            # connection is sure to send nothing.
            self.abort()
        raise self._refused(smtp, *refused)

    def _refused(self, smtp: smtplib.SMTP, code: int, reply: bytes, what: str) -> TransportError:
        text = reply.decode(errors="replace")
        if self.smtp is not None:
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
        return TransportError(
            f"The mail server refused {what}: {code} {text}", permanent=500 <= code < 600
        )

    def abort(self) -> None:
        """Drop the connection in the middle of a message, so the server discards it."""
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


class BackendTransport:
    """Sends through the configured Django email backend, e.g. an anymail email service,
    whose webhooks then report delivered, bounced and opened."""

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False)

    def send(self, item: Outgoing) -> str:
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

        message_id = _message_id(item)
        message = EmailMultiAlternatives(
            subject=item.subject,
            body=item.text,
            to=[item.address],
            headers={"Message-ID": message_id, **item.headers},
            connection=self.connection,
        )
        if item.html:
            message.attach_alternative(item.html, "text/html")
        try:
            message.send()
        except AnymailRecipientsRefused as exc:
            raise TransportError(
                f"The email service refused {item.address}: {exc}", permanent=True
            ) from exc
        except AnymailAPIError as exc:
            status = getattr(exc, "status_code", None) or 0
            permanent = 400 <= status < 500 and status not in (408, 429)
            raise TransportError(f"The email service said: {exc}", permanent=permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(f"Email could not be sent: {exc}") from exc
        status = getattr(message, "anymail_status", None)
        provider_id = getattr(status, "message_id", None) if status is not None else None
        return str(provider_id or message_id)

    def close(self) -> None:
        self.connection.close()
