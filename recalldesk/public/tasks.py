"""Crisis-site background work: confirmations, sending a published update, cadence alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task

from recalldesk.public.models import Update


@task()
def send_confirmation(subscriber_id: int) -> bool:
    """Send the double opt-in link to a new subscriber."""
    from recalldesk.public.sending import send_confirmation as send

    return send(subscriber_id)


@task()
def send_update(update_id: int) -> dict[str, int]:
    """Send a published update to confirmed subscribers, and to the ledger if chosen."""
    from recalldesk.public.sending import send_update as send

    return send(update_id)


@task()
def cadence_check(incident_id: int, promised: str, late: bool) -> bool:
    """Warn the team before a promised update is due, and when it is late."""
    from recalldesk.public.sending import cadence_alert

    return cadence_alert(incident_id, dt.datetime.fromisoformat(promised), late)


def schedule_cadence_checks(update: Update) -> None:
    from recalldesk.outreach.tasks import schedule

    promised = update.next_update_at
    checks: list[tuple[Any, bool]] = [(promised - dt.timedelta(hours=2), False), (promised, True)]
    for when, late in checks:
        schedule(cadence_check, when, update.incident_id, promised.isoformat(), late)


@task()
def send_registration(incident_id: int, party_id: int, affected: bool) -> bool:
    """Confirm a registration by email or SMS, with the acknowledgement link if affected."""
    from recalldesk.public.sending import send_registration as send

    return send(incident_id, party_id, affected)
