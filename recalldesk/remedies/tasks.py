"""Background work of remedies: claim notices and service credits."""

from __future__ import annotations

from django_tasks import task

from recalldesk.remedies import credits, notify


@task()
def send_claim_notice(event_id: int) -> bool:
    """Tell the claimant of one change to their claim."""
    return notify.send_notice(event_id)


@task()
def apply_credits(incident_id: int) -> int:
    """Apply every active credit offer of a service failure to its affected accounts."""
    return credits.apply_for_incident(incident_id)


def schedule_notice(event_id: int) -> None:
    send_claim_notice.enqueue(event_id)
