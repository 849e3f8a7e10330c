"""Tell the recall team something needs a person, through whatever they read (apprise).

``settings.TEAM_ALERT_URLS`` lists apprise URLs (Slack, Teams, email, ntfy, a JSON
endpoint...). An alert is a courtesy on top of the console, never part of the work: a chat
service that is down must not stop a wave, so failures are logged and reported as False.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import apprise
from django.conf import settings

logger = logging.getLogger(__name__)


def alert_team(title: str, body: str, *, urls: Sequence[str] | None = None) -> bool:
    """Send ``title`` and ``body`` to the team's alert services; whether all of them took it.

    ``urls`` replaces ``settings.TEAM_ALERT_URLS`` (a test send from a settings page, say).
    Returns False, and logs why, when nothing is configured, a URL is not understood or a
    service refused the message.
    """
    targets = list(settings.TEAM_ALERT_URLS if urls is None else urls)
    if not targets:
        logger.warning("Team alert not sent, no TEAM_ALERT_URLS configured: %s", title)
        return False

    notifier = apprise.Apprise()
    understood = True
    for url in targets:
        if not notifier.add(url):
            # Apprise redacts secrets in its own logs; the URL may hold a token, so only
            # its scheme is named here.
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            logger.error(
                "Team alert URL not understood (scheme %s://); check TEAM_ALERT_URLS.", scheme
            )
            understood = False
    if len(notifier) == 0:
        return False

    # Apprise reports a failing service only in its log; capture it so the failure logged
    # here says what the service answered.
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        sent = bool(notifier.notify(body=body, title=title))
    if not sent:
        detail = " ".join(captured.getvalue().split()) or "no detail from apprise"
        logger.error("Team alert %r was not delivered: %s", title, detail)
    return sent and understood
