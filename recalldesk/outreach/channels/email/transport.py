"""Email transports: a direct SMTP conversation, or a Django email backend (anymail).

With SMTP the delivery row is committed as sent just before the final "." of the DATA
command: a server only takes a message once it has read that dot, so a worker killed at
any point before it leaves the message unsent and the row claimable again, and a worker
killed after it leaves the row already recorded. The only gap left is the few instructions
between the commit and the write of three bytes.
"""

from __future__ import annotations

import re
import secrets
import smtplib
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from recalldesk.outreach.channels.base import Outgoing, Transport, TransportError
from recalldesk.outreach.channels.email.mime import build_message

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_LEADING_DOT = re.compile(rb"(?m)^\.")


def email_transport() -> Transport:
    """The transport the settings ask for: our own SMTP client, or the configured backend."""
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return SmtpTransport()
    return BackendTransport()


def _message_id(item: Outgoing) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "recalldesk"
    return f"<d{item.delivery_id}.{secrets.token_hex(6)}@{domain}>"


class SmtpTransport:
    """Sends over one kept-open SMTP connection, reconnecting when the server drops it."""

    def __init__(self) -> None:
        self.sender = settings.DEFAULT_FROM_EMAIL
        self.envelope_from = parseaddr(self.sender)[1]
        self.smtp: smtplib.SMTP | None = None

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
            except (OSError, smtplib.SMTPException) as exc:
                raise TransportError(
                    f"Cannot reach the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: "
                    f"{exc}"
                ) from exc
            self.smtp = smtp
        return self.smtp

    def send(self, item: Outgoing) -> str:
        return self.send_committing(item, None)

    def send_committing(self, item: Outgoing, commit: Callable[[str], None] | None) -> str:
        """Send ``item``; ``commit(provider_id)`` runs just before the final dot."""
        message_id = _message_id(item)
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
            code, reply = smtp.mail(self.envelope_from)
            if code != 250:
                raise self._refused(smtp, code, reply, "sender")
            code, reply = smtp.rcpt(item.address)
            if code not in (250, 251):
                raise self._refused(smtp, code, reply, item.address)
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                raise self._refused(smtp, code, reply, "message")
            smtp.send(_LEADING_DOT.sub(b"..", data) + b"\r\n")
            if commit is not None:
                commit(message_id)
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TransportError(f"The mail server dropped the connection: {exc}") from exc
        if code != 250:
            raise self._refused(smtp, code, reply, "message")
        return message_id

    def _refused(self, smtp: smtplib.SMTP, code: int, reply: bytes, what: str) -> TransportError:
        text = reply.decode(errors="replace")
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()
        # Only a refused recipient says something about the address; a refused sender or
        # message is our problem and must not mark the party's address bad.
        return TransportError(
            f"The mail server refused {what}: {code} {text}",
            permanent=500 <= code < 600 and what not in ("sender", "message"),
        )

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
            raise TransportError(f"The email service refused {item.address}: {exc}", permanent=True)
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
