"""Waves: pick a segment of the ledger, write every delivery row in one statement, enqueue
one task per batch, and escalate to the next channel when nobody answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.incidents.actions import check_perm
from recalldesk.incidents.models import Incident
from recalldesk.outreach import choices
from recalldesk.outreach.channels import CHANNELS
from recalldesk.outreach.models import Delivery, MessageVersion, Wave

SEGMENT_KEYS = {"regions", "countries", "languages", "not_acknowledged", "from_wave"}

# The column of a party each contact kind reads; postal is built from the address lines.
CONTACT_SQL = {
    "email": "p.email",
    "phone": "p.phone",
    "webhook": "p.webhook_url",
    "postal": (
        "CASE WHEN p.address_line1 <> '' THEN p.name || char(10) || p.address_line1 || "
        "CASE WHEN p.address_line2 <> '' THEN char(10) || p.address_line2 ELSE '' END || "
        "char(10) || TRIM(p.postcode || ' ' || p.city) || char(10) || p.country ELSE '' END"
    ),
}


def _contact_sql(contact: str) -> str:
    sql = CONTACT_SQL[contact]
    if connection.vendor == "postgresql":
        sql = sql.replace("char(10)", "chr(10)")
    return sql


def _opted_out_sql(kind: str) -> str:
    if connection.vendor == "postgresql":
        return f"p.opted_out_channels ? '{kind}'"
    return f"p.opted_out_channels LIKE '%%\"{kind}\"%%'"


def check_wave(
    user: Any, incident: Incident, version: MessageVersion, channels: list[str], segment: dict
) -> None:
    if user is not None:  # None: the system itself, escalating on the policy's schedule
        check_perm(user, "outreach.add_wave")
    if version.message.incident_id != incident.pk:
        raise ValidationError("That message belongs to another incident.")
    if version.status != choices.VersionStatus.APPROVED:
        raise ValidationError(
            f"Version {version.number} of “{version.message}” is "
            f"{version.get_status_display().lower()}: only an approved version can be sent."
        )
    if not channels:
        raise ValidationError("Choose at least one channel.")
    unknown = [kind for kind in channels if kind not in CHANNELS]
    if unknown:
        raise ValidationError(f"Unknown channel {unknown[0]!r}; known: {', '.join(CHANNELS)}.")
    if len(set(channels)) != len(channels):
        raise ValidationError("A channel appears twice in the order.")
    bad_keys = set(segment) - SEGMENT_KEYS
    if bad_keys:
        raise ValidationError(f"Unknown segment filter {sorted(bad_keys)[0]!r}.")


def _segment_sql(wave: Wave) -> tuple[str, list[Any]]:
    segment, where, params = wave.segment, [], []
    for key, column in [("regions", "p.region"), ("countries", "p.country")]:
        values = [v for v in segment.get(key) or [] if v]
        if values:
            where.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
            params += values
    languages = [v for v in segment.get("languages") or [] if v]
    if languages:
        where.append(f"p.language IN ({', '.join(['%s'] * len(languages))})")
        params += languages
    if segment.get("not_acknowledged"):
        where.append(
            "NOT EXISTS (SELECT 1 FROM outreach_acknowledgement a "
            "WHERE a.incident_id = e.incident_id AND a.party_id = e.party_id)"
        )
    if segment.get("from_wave"):
        where.append(
            "e.party_id IN (SELECT d.party_id FROM outreach_delivery d WHERE d.wave_id = %s)"
        )
        params.append(int(segment["from_wave"]))
    return "".join(f" AND {clause}" for clause in where), params


def count_segment(incident: Incident, audience: str, segment: dict) -> int:
    probe = Wave(incident=incident, segment=segment)
    where, params = _segment_sql(probe)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM incidents_ledgerentry e "
            "JOIN registry_party p ON p.id = e.party_id "
            f"WHERE e.incident_id = %s AND e.status = 'affected' AND p.role = %s{where}",
            [incident.pk, audience, *params],
        )
        return int(cursor.fetchone()[0])


def _insert_deliveries(wave: Wave, now: datetime) -> int:
    """One INSERT ... SELECT: for each party of the segment, the first channel of the wave
    it can be reached on (a contact point, not opted out, not known bad); none -> skipped."""
    version = wave.version
    languages = list(version.sheets())
    default = version.message.incident.default_language
    if default not in languages:
        default = languages[0]
    usable, channel_case, step_case, address_case = [], [], [], []
    for step, kind in enumerate(wave.channels):
        contact = _contact_sql(CHANNELS[kind].contact)
        test = (
            f"({contact} <> '' AND NOT ({_opted_out_sql(kind)}) AND NOT EXISTS ("
            f"SELECT 1 FROM outreach_badcontact b WHERE b.channel = '{kind}' "
            f"AND b.address = {contact}))"
        )
        usable.append(test)
        channel_case.append(f"WHEN {test} THEN '{kind}'")
        step_case.append(f"WHEN {test} THEN {step}")
        address_case.append(f"WHEN {test} THEN {contact}")
    any_usable = " OR ".join(usable)
    first = wave.channels[0]
    where, params = _segment_sql(wave)
    lang_list = ", ".join(["%s"] * len(languages))
    sql = f"""
        INSERT INTO outreach_delivery (
            wave_id, incident_id, party_id, entry_id, channel, step, address, language,
            batch, status, provider_id, error, attempts, queued_at, outcome
        )
        SELECT %s, e.incident_id, e.party_id, e.id,
            CASE {" ".join(channel_case)} ELSE '{first}' END,
            CASE {" ".join(step_case)} ELSE 0 END,
            CASE {" ".join(address_case)} ELSE '' END,
            CASE WHEN p.language IN ({lang_list}) THEN p.language ELSE %s END,
            (ROW_NUMBER() OVER (ORDER BY e.id) - 1) / %s,
            CASE WHEN {any_usable} THEN 'queued' ELSE 'skipped' END,
            '',
            CASE WHEN {any_usable} THEN ''
                 ELSE 'No usable contact point on any channel of this wave' END,
            0, %s, ''
        FROM incidents_ledgerentry e
        JOIN registry_party p ON p.id = e.party_id
        WHERE e.incident_id = %s AND e.status = 'affected' AND p.role = %s{where}
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                wave.pk,
                *languages,
                default,
                wave.batch_size,
                now,
                wave.incident_id,
                version.message.audience,
                *params,
            ],
        )
        return cursor.rowcount


@transaction.atomic
def do_launch_wave(
    user: Any,
    incident: Incident,
    version: MessageVersion,
    *,
    channels: list[str],
    segment: dict | None = None,
    name: str = "",
    scheduled_for: datetime | None = None,
    respect_quiet_hours: bool = True,
    batch_size: int | None = None,
    parent: Wave | None = None,
) -> Wave:
    """Write the wave and all its delivery rows; the batches are enqueued after commit."""
    from django.conf import settings

    segment = {k: v for k, v in (segment or {}).items() if v not in (None, "", [], False)}
    check_wave(user, incident, version, channels, segment)
    if count_segment(incident, version.message.audience, segment) == 0:
        raise ValidationError(
            "Nobody in the ledger matches this segment: check the audience and the filters."
        )
    now = timezone.now()
    wave = Wave.objects.create(
        incident=incident,
        version=version,
        parent=parent,
        name=name.strip() or f"{version.message.name} v{version.number}",
        segment=segment,
        channels=channels,
        status=choices.WaveStatus.SENDING,
        scheduled_for=scheduled_for,
        respect_quiet_hours=respect_quiet_hours,
        batch_size=batch_size or settings.OUTREACH_BATCH_SIZE,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        queued_at=now,
    )
    total = _insert_deliveries(wave, now)
    batches = Delivery.objects.filter(wave=wave).aggregate(n=Max("batch"))["n"]
    wave.total = total
    wave.batches = (batches + 1) if batches is not None else 0
    wave.save(update_fields=["total", "batches"])
    if not incident.first_notice_at:
        Incident.objects.filter(pk=incident.pk).update(first_notice_at=scheduled_for or now)
    record_change(
        user,
        incident,
        ChangeRecord.Action.CREATED,
        {"wave": [None, wave.name], "recipients": [None, total], "channels": [None, channels]},
        "escalation" if parent else "wave launched",
    )
    transaction.on_commit(lambda: enqueue_wave(wave.pk))
    return wave


def enqueue_wave(wave_id: int) -> None:
    """One task per batch; escalation checks scheduled for their day."""
    from recalldesk.outreach import tasks

    wave = Wave.objects.select_related("incident__outreach").get(pk=wave_id)
    for batch in range(wave.batches):
        tasks.schedule(tasks.send_batch, wave.scheduled_for, wave.pk, batch)
    if wave.parent_id is None:
        policy = getattr(wave.incident, "outreach", None)
        for index, step in enumerate(policy.escalation if policy else []):
            when = (wave.scheduled_for or wave.queued_at or timezone.now()) + timedelta(
                days=float(step.get("after_days", 0))
            )
            tasks.schedule(tasks.escalate, when, wave.pk, index)


def do_escalate(wave: Wave, step_index: int) -> Wave | None:
    """Send the next channel to the parties of ``wave`` who have not acknowledged."""
    policy = getattr(wave.incident, "outreach", None)
    steps = policy.escalation if policy else []
    if step_index >= len(steps) or wave.status == choices.WaveStatus.CANCELLED:
        return None
    channel = steps[step_index]["channel"]
    version = wave.version.message.approved() or wave.version
    segment = {**wave.segment, "not_acknowledged": True, "from_wave": wave.pk}
    if count_segment(wave.incident, version.message.audience, segment) == 0:
        return None
    return do_launch_wave(
        None,
        wave.incident,
        version,
        channels=[channel],
        segment=segment,
        name=f"{wave.name}: escalation {step_index + 1} ({CHANNELS[channel].label})",
        respect_quiet_hours=wave.respect_quiet_hours,
        parent=wave,
    )


def progress(wave: Wave) -> dict[str, Any]:
    """Counts per status, the send rate over the last minute and the estimated end."""
    counts = dict(Delivery.objects.filter(wave=wave).values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    done = sum(counts.get(s, 0) for s in choices.DELIVERY_FINAL)
    now = timezone.now()
    recent = Delivery.objects.filter(wave=wave, sent_at__gte=now - timedelta(seconds=60)).count()
    rate = recent / 60.0
    remaining = counts.get("queued", 0) + counts.get("claimed", 0)
    eta = now + timedelta(seconds=remaining / rate) if rate and remaining else None
    return {
        "counts": [
            {
                "status": s.value,
                "label": s.label,
                "colour": choices.DELIVERY_COLOURS[s],
                "n": counts.get(s.value, 0),
            }
            for s in choices.DeliveryStatus
        ],
        "total": total,
        "done": done,
        "percent": round(100 * done / total) if total else 100,
        "rate_per_second": round(rate, 1),
        "eta": eta.isoformat() if eta else None,
        "status": wave.status,
    }
