"""Outreach background work: one task per batch of a wave, and escalation checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from recalldesk.outreach import dispatch
from recalldesk.outreach.models import Wave


@task()
def send_batch(wave_id: int, batch: int) -> dict[str, int]:
    """Send one batch of a wave (a few hundred deliveries) and record every outcome."""
    return dispatch.send_batch(wave_id, batch)


@task()
def escalate(wave_id: int, step_index: int) -> int | None:
    """On the policy's day, send the next channel to the wave's parties who did not answer."""
    from recalldesk.outreach.waves import do_escalate

    wave = Wave.objects.select_related("incident__outreach", "version__message").get(pk=wave_id)
    follow = do_escalate(wave, step_index)
    return follow.pk if follow else None


def schedule(job: Task[Any, Any], when: datetime | None, *args: Any) -> None:
    """Enqueue ``job`` to run at ``when``. A backend that cannot defer (the immediate one
    used in tests) skips future work; ``manage.py worker`` picks up what is due on start."""
    if when is None or when <= timezone.now():
        job.enqueue(*args)
    elif job.get_backend().supports_defer:
        job.using(run_after=when).enqueue(*args)
