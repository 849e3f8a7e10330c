"""The phone call list: agents take the next party to call and record what happened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.incidents.actions import check_perm
from recalldesk.incidents.models import Incident
from recalldesk.outreach import choices
from recalldesk.outreach.dispatch import fall_back, units_text
from recalldesk.outreach.models import BadContact, Delivery
from recalldesk.outreach.rendering import ack_link, compiled_for

Status = choices.DeliveryStatus
Outcome = choices.CallOutcome


def next_call(user: Any, incident: Incident) -> dict[str, Any] | None:
    """The call this agent holds, or the oldest due one, claimed for them atomically."""
    check_perm(user, "outreach.work_call_list")
    now = timezone.now()
    mine = Delivery.objects.filter(
        incident_id=incident.pk, channel="phone", status=Status.CLAIMED, handled_by=user
    ).first()
    while mine is None:
        candidate = (
            Delivery.objects.filter(incident_id=incident.pk, channel="phone", status=Status.QUEUED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("not_before", "id")
            .values_list("id", flat=True)
            .first()
        )
        if candidate is None:
            return None
        # Two agents may pick the same row: only the one whose UPDATE changes it gets it.
        taken = Delivery.objects.filter(pk=candidate, status=Status.QUEUED).update(
            status=Status.CLAIMED, claimed_at=now, handled_by=user
        )
        if taken:
            mine = Delivery.objects.get(pk=candidate)
    mine = Delivery.objects.select_related("party", "wave").get(pk=mine.pk)
    script = compiled_for(mine.wave.version_id, mine.language, "phone").fill(
        {
            "name": mine.party.name,
            "units": units_text(incident.pk, [mine.party_id]).get(mine.party_id, ""),
            "link": ack_link(incident.uuid, mine.party.uuid),
            "address_block": "",
            "reference": incident.reference,
        }
    )
    return {"delivery": mine, "party": mine.party, "script": script}


@transaction.atomic
def do_record_call(
    user: Any, delivery: Delivery, *, outcome: str, call_back_at: str = "", note: str = ""
) -> Delivery:
    check_perm(user, "outreach.work_call_list")
    if outcome not in Outcome.values:
        raise ValidationError("Choose what happened on the call.")
    if delivery.status not in (Status.CLAIMED, Status.QUEUED):
        raise ValidationError("This call was already recorded.")
    now = timezone.now()
    fields: dict[str, Any] = {"outcome": outcome, "handled_by": user, "error": note[:2000]}
    if outcome == Outcome.CALL_BACK:
        when = parse_datetime(call_back_at) if call_back_at else None
        if when is None:
            raise ValidationError("Say when to call back (date and time).")
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        if when <= now:
            raise ValidationError("The call-back time is in the past.")
        fields.update(status=Status.QUEUED, not_before=when, call_back_at=when)
    elif outcome == Outcome.NO_ANSWER:
        if delivery.attempts + 1 >= settings.OUTREACH_MAX_ATTEMPTS:
            fields.update(status=Status.FAILED, failed_at=now)
        else:
            fields.update(status=Status.QUEUED, not_before=now + timedelta(hours=4))
        fields["attempts"] = delivery.attempts + 1
    elif outcome == Outcome.WRONG_NUMBER:
        fields.update(status=Status.BOUNCED, failed_at=now)
    elif outcome == Outcome.VOICEMAIL:
        fields.update(status=Status.SENT, sent_at=now)
    else:
        fields.update(status=Status.DELIVERED, sent_at=now, delivered_at=now)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    record_change(
        user,
        delivery.party,
        ChangeRecord.Action.UPDATED,
        {"call": [None, choices.CallOutcome(outcome).label]},
        note,
    )
    if outcome == Outcome.WRONG_NUMBER:
        BadContact.objects.get_or_create(
            channel="phone",
            address=delivery.address,
            defaults={"reason": "Wrong number (agent)", "delivery": delivery},
        )
        transaction.on_commit(lambda: fall_back(delivery.wave, delivery.pk, "wrong number"))
    delivery.refresh_from_db()
    return delivery
