"""The workers' side of a wave: claim one batch, render, send, record each outcome.

Each delivery's outcome is written by itself in autocommit mode, so a worker killed in the
middle of a batch loses nothing: rows already sent stay sent, rows still claimed go back out
once their claim's lease runs out (``resume_stalled``).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from recalldesk.incidents.models import LedgerEntry
from recalldesk.outreach import choices
from recalldesk.outreach.alerts import alert_team
from recalldesk.outreach.channels import CHANNELS, Outgoing, Transport, TransportError
from recalldesk.outreach.models import BadContact, Delivery, RateSlot, Wave
from recalldesk.outreach.rendering import ack_link, compiled_for
from recalldesk.registry.models import Holding

log = logging.getLogger(__name__)
Status = choices.DeliveryStatus
SENT = Status.SENT.value
CLAIMED = Status.CLAIMED.value
# A server may refuse a message after its final dot, when the row is already recorded sent.
NOT_SENT: dict[str, Any] = {"sent_at": None, "provider_id": "", "duration_ms": None}
AUTOMATIC = [kind for kind, spec in CHANNELS.items() if spec.automatic]
ROW_FIELDS = [
    "id",
    "channel",
    "step",
    "address",
    "language",
    "attempts",
    "party_id",
    "party__uuid",
    "party__name",
    "party__time_zone",
]


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def quiet_until(now: datetime, zone_name: str, start: Any, end: Any) -> datetime | None:
    """When quiet hours end for a party in ``zone_name``, or None when it is not quiet."""
    try:
        zone = ZoneInfo(zone_name) if zone_name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    clock = local.time()
    quiet = (clock >= start or clock < end) if start > end else (start <= clock < end)
    if not quiet or start == end:
        return None
    wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(ZoneInfo("UTC"))


def wait_for_slot(provider: str, count: int) -> None:
    """Reserve ``count`` sends of ``provider``'s rate across all workers, then wait for them."""
    rate = settings.OUTREACH_RATE_LIMITS.get(provider) or 0
    if rate <= 0:
        return
    with transaction.atomic():
        slot, _ = RateSlot.objects.select_for_update().get_or_create(provider=provider)
        start = max(slot.next_free, time.time())
        slot.next_free = start + count / rate
        slot.save(update_fields=["next_free"])
    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)


def units_text(incident_id: int, party_ids: Iterable[int] | QuerySet[Any]) -> dict[int, str]:
    """Each party's affected units, one line per holding. ``party_ids`` may be a query of
    party ids (it goes into the SQL as a subquery: no per-id work in Python)."""
    lines: dict[int, list[str]] = defaultdict(list)
    parties = party_ids if isinstance(party_ids, QuerySet) else list(party_ids)
    entries = LedgerEntry.objects.filter(incident_id=incident_id, party_id__in=parties)
    holdings = Holding.objects.select_related("product").only(
        "lot", "serial", "service", "account_number", "product__name"
    )
    for party_id, quantity, holding in entries.holdings(holdings):
        product = holding.product.name if holding.product else ""
        lot, serial = holding.lot, holding.serial
        service, account = holding.service, holding.account_number
        if service or account:
            bits = [service or "Service", f"account {account}" if account else ""]
        else:
            bits = [
                f"{quantity} × {product or 'product'}",
                f"lot {lot}" if lot else "",
                f"serial {serial}" if serial else "",
            ]
        lines[party_id].append(", ".join(bit for bit in bits if bit))
    return {party_id: "\n".join(sorted(text)) for party_id, text in lines.items()}


def claim(wave: Wave, batch: int, now: datetime) -> list[dict[str, Any]]:
    """Claim the batch's sendable rows atomically; rows another worker holds stay its own
    unless their lease has run out."""
    lease = now - timedelta(seconds=settings.OUTREACH_CLAIM_LEASE_SECONDS)
    ready = Q(status=Status.QUEUED) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    stale = Q(status=Status.CLAIMED, claimed_at__lt=lease)
    Delivery.objects.filter(wave=wave, batch=batch, channel__in=AUTOMATIC).filter(
        ready | stale
    ).update(status=Status.CLAIMED, claimed_at=now, attempts=F("attempts") + 1)
    return list(
        Delivery.objects.filter(wave=wave, batch=batch, status=Status.CLAIMED, claimed_at=now)
        .order_by("id")
        .values(*ROW_FIELDS)
    )


class ClaimLost(Exception):
    """The row's claim went to another worker while this one held it past its lease."""


class BatchSender:
    """Sends one claimed batch; one transport per channel, opened once.

    ``token`` is the claim's ``claimed_at``: a row is recorded sent only while it still
    carries it, so a worker that stalled past its lease never sends what another took over.
    """

    def __init__(self, wave: Wave, batch: int, token: datetime) -> None:
        self.wave = wave
        self.batch = batch
        self.token = token
        self.token_db = _db_time(token)
        # Bound once: through the ``connection`` proxy it costs more per message than the
        # conversion itself.
        self.db_time = connection.ops.adapt_datetimefield_value
        self.incident = wave.incident
        self.transports: dict[str, Transport] = {}
        # The row whose message went out last, its server's answer not read yet.
        self.unsettled: tuple[dict[str, Any], Any, str] | None = None
        self.fallbacks: list[tuple[dict[str, Any], str]] = []
        self.retry_at: datetime | None = None
        self.counts: dict[str, int] = defaultdict(int)
        self.reference = self.incident.reference
        self.headers = {"X-Recall-Reference": self.reference}

    def transport(self, kind: str) -> Transport:
        if kind not in self.transports:
            factory = CHANNELS[kind].transport
            assert factory is not None
            self.transports[kind] = factory()
        return self.transports[kind]

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()

    def renew(self) -> None:
        """Move the claim's lease on for the rows still claimed under our token."""
        renewed = timezone.now()
        Delivery.objects.filter(
            wave=self.wave, batch=self.batch, status=Status.CLAIMED, claimed_at=self.token
        ).update(claimed_at=renewed)
        self.token = renewed
        self.token_db = _db_time(renewed)

    def send_rows(self, rows: list[dict[str, Any]]) -> None:
        # The parties of the rows this claim holds (a superset of ``rows``, which may leave
        # out deferred ones), as a subquery rather than hundreds of ids.
        claimed = Delivery.objects.filter(wave=self.wave, batch=self.batch, claimed_at=self.token)
        units = units_text(self.incident.pk, claimed.values("party_id"))
        # Renew well inside the lease, so a worker that is merely slow keeps its rows.
        beat = max(0.2, settings.OUTREACH_CLAIM_LEASE_SECONDS / 4)
        last_beat = time.monotonic()
        with connection.cursor() as cursor:
            for index, row in enumerate(rows):
                item = self.outgoing(row, units.get(row["party_id"], ""))
                # The message before is on its way: its answer is read once this one is
                # ready, so the worker prepares a message while the server takes one (and
                # before a renew, as a refusal puts the row back under the current token).
                self.settle()
                if index % 20 == 0:
                    wait_for_slot(row["channel"], min(20, len(rows) - index))
                if time.monotonic() - last_beat > beat:
                    self.renew()
                    last_beat = time.monotonic()
                self.send_one(cursor, row, item, self.next_address(rows, index))
            self.settle()

    @staticmethod
    def next_address(rows: list[dict[str, Any]], index: int) -> str | None:
        """The address of the row sent right after ``rows[index]`` through the same transport
        (no wait for a rate slot in between), which an SMTP transport can announce to the
        server along with this row's message; None when there is none."""
        following = index + 1
        if following >= len(rows) or rows[following]["channel"] != rows[index]["channel"]:
            return None
        if following % 20 == 0 and settings.OUTREACH_RATE_LIMITS.get(rows[index]["channel"]):
            return None
        return str(rows[following]["address"])

    def outgoing(self, row: dict[str, Any], units: str) -> Outgoing:
        """The row's notice, rendered and personalised."""
        compiled = compiled_for(self.wave.version_id, row["language"], row["channel"])
        link = ack_link(self.incident.uuid, row["party__uuid"])
        parts = compiled.fill(
            {
                "name": row["party__name"],
                "units": units,
                "link": link,
                "address_block": row["address"],
                "reference": self.reference,
            }
        )
        return Outgoing(
            delivery_id=row["id"],
            address=row["address"],
            language=row["language"],
            subject=parts.get("subject", ""),
            text=parts.get("text", ""),
            html=parts.get("html", ""),
            link=link,
            party_name=row["party__name"],
            reference=self.reference,
            headers=self.headers,
        )

    def send_one(
        self, cursor: Any, row: dict[str, Any], item: Outgoing, next_address: str | None = None
    ) -> None:
        """Send ``item``, the notice of ``row``. With a transport that can (SMTP), the
        server's answer to it is left for ``settle``."""
        started = time.perf_counter()
        recorded = False
        token = self.token_db

        def mark_sent(provider_id: str) -> None:
            # Commits at once (autocommit): the SMTP transport calls this after the server's
            # 354 and before the content and final dot, so a worker killed after it never
            # sends the message again.
            nonlocal recorded
            elapsed = int((time.perf_counter() - started) * 1000)
            cursor.execute(
                "UPDATE outreach_delivery SET status = %s, sent_at = %s, provider_id = %s, "
                "duration_ms = %s WHERE id = %s AND status = %s AND claimed_at = %s",
                [
                    SENT,
                    self.db_time(timezone.now()),
                    provider_id,
                    elapsed,
                    row["id"],
                    CLAIMED,
                    token,
                ],
            )
            if cursor.rowcount != 1:
                raise ClaimLost(f"delivery {row['id']} was claimed by another worker")
            recorded = True

        transport = self.transport(row["channel"])
        try:
            starting = getattr(transport, "start_send", None)
            committing = getattr(transport, "send_committing", None)
            if starting is not None:
                provider_id = starting(item, mark_sent, next_address)
            elif committing is not None:
                provider_id = committing(item, mark_sent)
            else:
                provider_id = transport.send(item)
            if not recorded:
                mark_sent(provider_id)
            if starting is not None:
                self.unsettled = (row, transport, provider_id)
            else:
                self.counts["sent"] += 1
        except TransportError as exc:
            self.failed(row, exc)
        except ClaimLost as exc:
            # Another worker holds the row now and sends it; the transport dropped ours.
            log.warning("%s", exc)
            self.counts["lost"] += 1

    def settle(self) -> None:
        """Read the server's answer to the message sent last, if still unread, and count it
        sent or record its failure."""
        if self.unsettled is None:
            return
        row, transport, provider_id = self.unsettled
        self.unsettled = None
        try:
            transport.finish_send(provider_id)
            self.counts["sent"] += 1
        except TransportError as exc:
            self.failed(row, exc)

    def ours(self, row: dict[str, Any]) -> Any:
        """The row, while it is still claimed under this sender's token (or was just recorded
        sent by it, when the server refuses the message after its final dot)."""
        return Delivery.objects.filter(
            pk=row["id"], status__in=[Status.CLAIMED, Status.SENT], claimed_at=self.token
        )

    def failed(self, row: dict[str, Any], exc: TransportError) -> None:
        now = timezone.now()
        if not exc.permanent and row["attempts"] < settings.OUTREACH_MAX_ATTEMPTS:
            when = now + timedelta(seconds=30 * 2 ** (row["attempts"] - 1))
            self.ours(row).update(
                status=Status.QUEUED, not_before=when, error=exc.message[:2000], **NOT_SENT
            )
            self.retry_at = min(self.retry_at or when, when)
            self.counts["retry"] += 1
            return
        self.ours(row).update(
            status=Status.BOUNCED if exc.permanent and not exc.contact_ok else Status.FAILED,
            failed_at=now,
            error=exc.message[:2000],
            **NOT_SENT,
        )
        self.counts["failed"] += 1
        if exc.permanent and not exc.contact_ok:
            BadContact.objects.get_or_create(
                channel=row["channel"],
                address=row["address"],
                defaults={"reason": exc.message[:2000], "delivery_id": row["id"]},
            )
        else:
            alert_team(
                f"{self.incident.reference}: delivery failed after {row['attempts']} attempts",
                f"{CHANNELS[row['channel']].label} to {row['address']}: {exc.message}",
            )
        self.fallbacks.append((row, exc.message))


def send_batch(wave_id: int, batch: int) -> dict[str, int]:
    """Send one batch of a wave; returns counts. Safe to run twice or concurrently."""
    from recalldesk.outreach import tasks

    wave = Wave.objects.select_related("incident__outreach", "version").get(pk=wave_id)
    if wave.status == choices.WaveStatus.CANCELLED:
        return {}
    now = timezone.now()
    rows = claim(wave, batch, now)
    policy = getattr(wave.incident, "outreach", None)
    sendable, deferred = [], defaultdict(list)
    for row in rows:
        wake = None
        if wave.respect_quiet_hours and policy is not None:
            wake = quiet_until(now, row["party__time_zone"], policy.quiet_start, policy.quiet_end)
        if wake is not None:
            deferred[wake].append(row["id"])
        else:
            sendable.append(row)
    for wake, ids in deferred.items():
        Delivery.objects.filter(id__in=ids).update(
            status=Status.QUEUED, not_before=wake, attempts=F("attempts") - 1
        )
    sender = BatchSender(wave, batch, now)
    try:
        sender.send_rows(sendable)
    finally:
        sender.close()
    for row, reason in sender.fallbacks:
        fall_back(wave, row["id"], reason)
    later = [*deferred, *([sender.retry_at] if sender.retry_at else [])]
    if later:
        tasks.schedule(tasks.send_batch, min(later), wave.pk, batch)
    finish_if_done(wave)
    return {**sender.counts, "deferred": sum(len(ids) for ids in deferred.values())}


def next_channel(wave: Wave, delivery: Delivery) -> tuple[str, str] | None:
    """The next channel of the wave after ``delivery``'s that can reach its party."""
    party = delivery.party
    for kind in wave.channels[delivery.step + 1 :]:
        spec = CHANNELS[kind]
        address = contact_of(party, spec.contact)
        if not address or kind in (party.opted_out_channels or []):
            continue
        if BadContact.objects.filter(channel=kind, address=address).exists():
            continue
        return kind, address
    return None


def contact_of(party: Any, contact: str) -> str:
    if contact == "email":
        return str(party.email)
    if contact == "phone":
        return str(party.phone)
    if contact == "webhook":
        return str(party.webhook_url)
    if not party.address_line1:
        return ""
    lines = [party.name, party.address_line1, party.address_line2]
    lines += [f"{party.postcode} {party.city}".strip(), party.country]
    return "\n".join(line for line in lines if line)


def fall_back(wave: Wave, delivery_id: int, reason: str) -> Delivery | None:
    """After a failure for good, write the party's next channel as a delivery of its own
    batch (a batch of one is fine: failures are few) and send it after commit."""
    from recalldesk.outreach import tasks

    delivery = Delivery.objects.select_related("party").get(pk=delivery_id)
    found = next_channel(wave, delivery)
    if found is None:
        return None
    kind, address = found
    with transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(batches=F("batches") + 1, total=F("total") + 1)
        batch = Wave.objects.values_list("batches", flat=True).get(pk=wave.pk) - 1
        follow = Delivery.objects.create(
            wave=wave,
            incident_id=delivery.incident_id,
            party_id=delivery.party_id,
            entry_id=delivery.entry_id,
            channel=kind,
            step=wave.channels.index(kind),
            address=address,
            language=delivery.language,
            batch=batch,
            queued_at=timezone.now(),
            error=f"After {delivery.get_channel_display()} failed: {reason}"[:2000],
        )
        Wave.objects.filter(pk=wave.pk, status=choices.WaveStatus.DONE).update(
            status=choices.WaveStatus.SENDING, finished_at=None
        )
        if CHANNELS[kind].automatic:
            transaction.on_commit(lambda: tasks.send_batch.enqueue(wave.pk, batch))
    return follow


def finish_if_done(wave: Wave) -> bool:
    pending = Delivery.objects.filter(
        wave=wave, status__in=[Status.QUEUED, Status.CLAIMED], channel__in=AUTOMATIC
    ).exists()
    if pending:
        return False
    Wave.objects.filter(pk=wave.pk, status=choices.WaveStatus.SENDING).update(
        status=choices.WaveStatus.DONE, finished_at=timezone.now()
    )
    return True


def waiting_batches(lease: datetime) -> set[tuple[int, int]]:
    """(wave, batch) pairs that have a send task waiting in the database queue, or running
    since the lease began; none known when the task backend keeps no queue to look at."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from recalldesk.outreach import tasks

    if not isinstance(tasks.send_batch.get_backend(), DatabaseBackend):
        return set()
    # A killed worker's task stays "running" for ever, so only a recent start counts.
    rows = DBTaskResult.objects.filter(task_path=tasks.send_batch.module_path).filter(
        Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=lease)
    )
    waiting = set()
    for args_kwargs in rows.values_list("args_kwargs", flat=True):
        args = args_kwargs.get("args") or []
        if len(args) == 2:
            waiting.add((int(args[0]), int(args[1])))
    return waiting


def resume_stalled(now: datetime | None = None) -> int:
    """Enqueue again every batch whose claim outlived its lease (a worker died holding it)
    or whose deferred rows are due (a backend that could not defer them). Claims are atomic,
    so a batch enqueued twice is sent once. Returns the number of batches.

    Batches whose task still waits in the queue are left out: the workers call this every
    half lease, and a stalled batch behind a long queue must not gain a task per call.
    """
    from recalldesk.outreach import tasks

    now = now or timezone.now()
    lease = now - timedelta(seconds=settings.OUTREACH_CLAIM_LEASE_SECONDS)
    stalled = set(
        Delivery.objects.filter(channel__in=AUTOMATIC, wave__status=choices.WaveStatus.SENDING)
        .filter(
            Q(status=Status.CLAIMED, claimed_at__lt=lease)
            | Q(status=Status.QUEUED, not_before__lte=now)
        )
        .values_list("wave_id", "batch")
        .distinct()
    )
    stalled -= waiting_batches(lease)
    pairs = sorted(stalled)
    for wave_id, batch in pairs:
        tasks.send_batch.enqueue(wave_id, batch)
    return len(pairs)
