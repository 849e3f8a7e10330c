"""Email transports: a direct SMTP conversation, or a Django email backend (anymail).

With SMTP the delivery row is committed as sent once the server has answered DATA with 354
and before the message's content and its final "." go out: a server only takes a message
once it has read that dot, so a worker killed at any point before the commit leaves the
message unsent and the row claimable again, and a worker killed after it leaves the row
already recorded: a message is never sent twice. The price is the other way round: a worker
killed between the commit and the write of the content and dot (on PostgreSQL, from the
moment the server has the COMMIT until that write) leaves one row recorded sent whose
message the server never took; so does a connection that drops after the dot and before
the server's answer, which is kept as sent rather than risk a second copy. The next row is
only committed after that write, so there is at most one such row per worker.
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


def _message_id(item: Outgoing, domain: str | None = None, token: str | None = None) -> str:
    return f"<d{item.delivery_id}.{token or secrets.token_hex(6)}@{domain or _domain()}>"


class _Tokens:
    """``secrets.token_hex(6)`` a few hundred at a time: one call to the system's random
    source for many messages rather than one each."""

    def __init__(self, batch: int = 256) -> None:
        self.batch = batch
        self.hex = ""
        self.at = 0

    def next(self) -> str:
        if self.at >= len(self.hex):
            self.hex, self.at = secrets.token_hex(6 * self.batch), 0
        self.at += 12
        return self.hex[self.at - 12 : self.at]


class SmtpTransport:
    """Sends over one kept-open SMTP connection, reconnecting when the server drops it.

    When the server offers PIPELINING (RFC 2920) the envelope (MAIL, RCPT, DATA) goes in
    one write. When the caller also names the address of the message it sends next, that
    message's envelope goes out in the same write as this one's body and final dot (the
    message content may start a pipelined group), so a message costs one write and one
    round trip: its dot's reply and the next envelope's replies come back together. With
    ``start_send`` and ``finish_send`` the caller prepares its next message during that round trip.
    """

    def __init__(self) -> None:
        self.sender = settings.DEFAULT_FROM_EMAIL
        self.envelope_from = parseaddr(self.sender)[1]
        self.domain = _domain()
        self.smtp: smtplib.SMTP | None = None
        self.pipelining = False
        self.tokens = _Tokens()
        # The address whose envelope went out after the last final dot, its replies not yet
        # read: the server is (or will be) waiting for that message's content.
        self.pending: str | None = None
        # The provider id and address of the message whose final dot went out last, while
        # the server's answer to it is not read yet (between start_send() and finish_send()).
        self.awaiting: tuple[str, str] | None = None

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
                # Without pipelining the envelope's commands are small writes each waiting
                # for a reply; with Nagle's algorithm one could wait for the server's delayed
                # ACK of the one before (40 ms).
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

    def send_committing(
        self,
        item: Outgoing,
        commit: Callable[[str], None] | None,
        next_address: str | None = None,
    ) -> str:
        """Send ``item``; ``commit(provider_id)`` runs once the server has said it takes the
        message (354 to DATA) and before any of its content goes out, so before the final
        dot. If it raises, the connection is dropped without the dot (the server discards
        the message) and the exception goes on to the caller.

        ``next_address``: the address of the message the caller sends next through this
        transport, whose envelope then goes out with this message's final dot (only when
        pipelining). A call for another address drops that connection first."""
        return self.finish_send(self.start_send(item, commit, next_address))

    def start_send(
        self,
        item: Outgoing,
        commit: Callable[[str], None] | None,
        next_address: str | None = None,
    ) -> str:
        """``send_committing`` up to and including the write of the message and its final
        dot; returns the message's provider id. The server's answer to the dot is read by
        ``finish_send(provider_id)``, which must come before anything else is sent: the caller
        can prepare its next message while the server takes this one."""
        if self.awaiting is not None:
            raise RuntimeError("start_send() before the message sent last was finish_send()ed")
        if not _ADDRESS.fullmatch(item.address):
            # Written into a pipelined command as it is: nothing may end the line early.
            raise TransportError(f"Not an email address: {item.address!r}", permanent=True)
        message_id = _message_id(item, self.domain, self.tokens.next())
        data = dot_stuffed(
            build_message(
                sender=self.sender,
                to=item.address,
                subject=item.subject,
                text=item.text,
                html=item.html,
                message_id=message_id,
                headers=item.headers,
            )
        )
        if self.pending is not None and self.pending != item.address:
            # The server waits for a message that is not coming: only dropping the
            # connection is sure to make it take nothing.
            self.abort()
        smtp = self._connect()
        try:
            if self.pending is not None:
                self.pending = None
                self._envelope_replies(smtp, item.address)
            else:
                self._envelope(smtp, item.address)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.abort()
            raise TransportError(f"The mail server dropped the connection: {exc}") from exc
        if commit is not None:
            try:
                commit(message_id)
            except BaseException:
                self.abort()
                raise
        payload = data + b".\r\n"
        dot_end = len(payload)
        follow = next_address if self.pipelining and _pipelinable(next_address) else None
        if follow is not None:
            payload += self._envelope_command(follow)
        sent, error = _write(smtp, payload)
        if error is not None:
            self.abort()
            if sent < dot_end:
                # The final dot did not go out: the server discards the message.
                raise TransportError(f"The mail server dropped the connection: {error}") from error
            # The dot is out: the server may well have the message. Sending it again could
            # make a second copy, so the row stays as recorded.
            log.warning("No answer after the message to %s: %s", item.address, error)
            return message_id
        self.pending = follow
        self.awaiting = (message_id, item.address)
        return message_id

    def finish_send(self, provider_id: str) -> str:
        """The server's answer to the final dot of the message ``start_send`` returned
        ``provider_id`` for: ``provider_id`` when it took the message (or may have: the
        connection dropped after the dot), ``TransportError`` when it refused it."""
        if self.awaiting is None or self.awaiting[0] != provider_id or self.smtp is None:
            # Settled in start_send(): the connection dropped after the dot went out.
            return provider_id
        address = self.awaiting[1]
        self.awaiting = None
        smtp = self.smtp
        try:
            code, reply = _reply(smtp)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The dot is out: the server may well have the message. Sending it again could
            # make a second copy, so the row stays as recorded.
            self.abort()
            log.warning("No answer after the message to %s: %s", address, exc)
            return provider_id
        if code != 250:
            raise self._refused(smtp, code, reply, "message")
        return provider_id

    def _envelope_command(self, address: str) -> bytes:
        return f"MAIL FROM:<{self.envelope_from}>\r\nRCPT TO:<{address}>\r\nDATA\r\n".encode()

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
        self._envelope_replies(smtp, address)

    def _envelope_replies(self, smtp: smtplib.SMTP, address: str) -> None:
        """The replies to a pipelined MAIL, RCPT and DATA; raises when one refused."""
        replies = [_reply(smtp) for _ in range(3)]
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
        # With the next envelope already on its way a RSET would land among its replies;
        # none is needed then: a reply to the final dot ends the transaction.
        if self.smtp is not None and self.pending is None:
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
        return TransportError(
            f"The mail server refused {what}: {code} {text}", permanent=500 <= code < 600
        )

    def abort(self) -> None:
        """Drop the connection in the middle of a message, so the server discards it."""
        self.pending = None
        self.awaiting = None
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.pending is not None or self.awaiting is not None:
            # The server waits for a message that is not coming (see start_send()), or its
            # answers are not where a QUIT's would be read.
            self.abort()
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _pipelinable(address: str | None) -> bool:
    """Whether ``address`` may go into a pipelined envelope written with a final dot: an
    address that could fail there would fail after the commit of the message before it."""
    return address is not None and address.isascii() and bool(_ADDRESS.fullmatch(address))


def _reply(smtp: smtplib.SMTP) -> tuple[int, bytes]:
    """``smtp.getreply()``, without its per-line work for the usual one-line reply that is
    already read in: that is taken straight from the buffer, anything else (a reply to
    wait for, a multi-line or malformed one) goes to ``getreply``."""
    file = smtp.file
    if file is not None and not smtp.debuglevel:
        buffered = file.peek(0)
        end = buffered.find(b"\n", 0, 512)
        if end > 3 and buffered[3:4] == b" " and buffered[:3].isdigit():
            line = file.read(end + 1)
            return int(line[:3]), line[4:].strip(b" \t\r\n")
    return smtp.getreply()


def _write(smtp: smtplib.SMTP, payload: bytes) -> tuple[int, OSError | None]:
    """Write ``payload``; how many bytes went out, and the error that stopped it if any.
    (``sendall`` does not tell how far it got, and what matters is whether the final dot
    went out.)"""
    sock = smtp.sock
    if sock is None:
        return 0, OSError("not connected")
    view = memoryview(payload)
    sent = 0
    try:
        while sent < len(payload):
            sent += sock.send(view[sent:])
    except OSError as exc:
        return sent, exc
    return sent, None


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
