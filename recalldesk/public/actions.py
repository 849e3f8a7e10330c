"""What can be done on the crisis site: ``check_*`` checks, ``do_*`` changes and records.

Staff publish pages and updates (approved by someone other than the author); the public
registers units, subscribes with double opt-in and asks questions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.incidents.actions import check_perm
from recalldesk.incidents.models import Incident, LedgerEntry
from recalldesk.public import choices
from recalldesk.public.models import PublicPage, Question, Subscriber, Update, UpdateText
from recalldesk.registry.choices import HoldingSource, PartyRole
from recalldesk.registry.models import Holding, Party, Product

UPDATE_FIELDS = ["resolved", "in_progress", "take_part"]
DEFAULT_CADENCE = [{"for_days": 14, "every_hours": 24}, {"every_hours": 168}]


def page_for(incident: Incident) -> PublicPage:
    page, _ = PublicPage.objects.get_or_create(
        incident=incident,
        defaults={"slug": incident.reference.lower(), "cadence": DEFAULT_CADENCE},
    )
    return page


def bump(page: PublicPage) -> None:
    """A new version of the page: caches keyed by the old one are never read again."""
    PublicPage.objects.filter(pk=page.pk).update(version=F("version") + 1)
    page.refresh_from_db(fields=["version"])


@transaction.atomic
def do_save_page(user: Any, page: PublicPage, **values: Any) -> PublicPage:
    check_perm(user, "public.change_publicpage")
    before = {name: getattr(page, name) for name in values}
    for name, value in values.items():
        setattr(page, name, value)
    page.full_clean()
    page.save()
    bump(page)
    changes = {k: [str(before[k]), str(v)] for k, v in values.items() if before[k] != v}
    if changes:
        record_change(user, page.incident, ChangeRecord.Action.UPDATED, changes, "public page")
    return page


# --- updates and cadence -----------------------------------------------------------------


def check_update_texts(texts: Mapping[str, Mapping[str, str]], next_update_at: Any) -> None:
    errors = []
    if not any(any((v or "").strip() for v in fields.values()) for fields in texts.values()):
        errors.append("Write the update in at least one language.")
    if next_update_at is None:
        errors.append("Say when the next update will come.")
    elif next_update_at <= timezone.now():
        errors.append("The next update must be promised for a time in the future.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_write_update(
    user: Any,
    incident: Incident,
    texts: Mapping[str, Mapping[str, str]],
    next_update_at: dt.datetime | None,
    notify_ledger: bool = False,
    update: Update | None = None,
) -> Update:
    check_perm(user, "public.add_update")
    check_update_texts(texts, next_update_at)
    assert next_update_at is not None
    if update is None:
        update = Update.objects.create(
            incident=incident,
            author=user,
            next_update_at=next_update_at,
            notify_ledger=notify_ledger,
        )
    else:
        if update.status == choices.UpdateStatus.PUBLISHED:
            raise ValidationError("A published update cannot change; write a new one.")
        update.next_update_at, update.notify_ledger = next_update_at, notify_ledger
        update.status = choices.UpdateStatus.DRAFT
        update.save(update_fields=["next_update_at", "notify_ledger", "status"])
    for language, fields in texts.items():
        values = {name: (fields.get(name) or "").strip() for name in UPDATE_FIELDS}
        if any(values.values()):
            UpdateText.objects.update_or_create(update=update, language=language, defaults=values)
        else:
            UpdateText.objects.filter(update=update, language=language).delete()
    record_change(user, incident, ChangeRecord.Action.UPDATED, {"update": [None, str(update.uuid)]})
    return update


@transaction.atomic
def do_submit_update(user: Any, update: Update) -> Update:
    check_perm(user, "public.add_update")
    if update.status != choices.UpdateStatus.DRAFT:
        raise ValidationError("Only a draft goes to review.")
    update.status = choices.UpdateStatus.IN_REVIEW
    update.save(update_fields=["status"])
    return update


@transaction.atomic
def do_publish_update(user: Any, update: Update) -> Update:
    """Approve and publish: the page and feeds show it, subscribers (and the ledger's parties
    if chosen) are sent it after commit."""
    from recalldesk.public import tasks

    check_perm(user, "public.publish_update")
    update = Update.objects.select_for_update().get(pk=update.pk)
    if update.status != choices.UpdateStatus.IN_REVIEW:
        raise ValidationError("Only an update in review can be published.")
    if update.author_id == user.pk:
        raise PermissionDenied("The author of an update cannot publish it; ask an approver.")
    now = timezone.now()
    update.status, update.approved_by, update.published_at = (
        choices.UpdateStatus.PUBLISHED,
        user,
        now,
    )
    update.save(update_fields=["status", "approved_by", "published_at"])
    page = page_for(update.incident)
    bump(page)
    record_change(
        user,
        update.incident,
        ChangeRecord.Action.STATUS,
        {
            "update": ["in review", "published"],
            "next update by": [None, str(update.next_update_at)],
        },
    )
    transaction.on_commit(lambda: tasks.send_update.enqueue(update.pk))
    transaction.on_commit(lambda: tasks.schedule_cadence_checks(update))
    return update


def next_update_due(incident: Incident, now: dt.datetime | None = None) -> dict[str, Any]:
    """When the next update is promised, and whether it is late or due soon."""
    now = now or timezone.now()
    last = (
        Update.objects.filter(incident=incident, status=choices.UpdateStatus.PUBLISHED)
        .order_by("-published_at")
        .first()
    )
    if last is not None:
        due = last.next_update_at
    else:
        page = page_for(incident)
        start = incident.announced_at or incident.created_at
        due = start + dt.timedelta(hours=cadence_hours(page.cadence, start, start))
    return {
        "due": due,
        "late": due < now,
        "soon": now <= due < now + dt.timedelta(hours=2),
        "last": last,
    }


def cadence_hours(cadence: list[dict[str, Any]], start: dt.datetime, now: dt.datetime) -> float:
    """The promised interval at ``now`` for a cadence that began at ``start``."""
    elapsed_days = (now - start).total_seconds() / 86400
    for step in cadence or DEFAULT_CADENCE:
        if "for_days" not in step or elapsed_days < float(step["for_days"]):
            return float(step["every_hours"])
        elapsed_days -= float(step["for_days"])
    return float((cadence or DEFAULT_CADENCE)[-1]["every_hours"])


# --- the public: questions, subscriptions, registrations ---------------------------------


def do_ask(incident: Incident, *, name: str, contact: str, text: str, language: str) -> Question:
    return Question.objects.create(
        incident=incident,
        name=name.strip(),
        contact=contact.strip(),
        text=text.strip(),
        language=language,
    )


def do_subscribe(incident: Incident, *, channel: str, address: str, language: str) -> Subscriber:
    """A new or renewed subscription waiting for confirmation; the confirmation goes out
    after commit. Subscribing again sends a fresh link; it never reveals who subscribed."""
    from recalldesk.public import tasks

    subscriber, created = Subscriber.objects.get_or_create(
        incident=incident, channel=channel, address=address, defaults={"language": language}
    )
    if not created:
        subscriber.token = secrets.token_urlsafe(24)
        subscriber.language = language
        subscriber.unsubscribed_at = None
        subscriber.save(update_fields=["token", "language", "unsubscribed_at"])
    transaction.on_commit(lambda: tasks.send_confirmation.enqueue(subscriber.pk))
    return subscriber


def do_confirm(token: str) -> Subscriber | None:
    subscriber = Subscriber.objects.select_related("incident").filter(token=token).first()
    if subscriber is None:
        return None
    if subscriber.confirmed_at is None or subscriber.unsubscribed_at is not None:
        subscriber.confirmed_at = timezone.now()
        subscriber.unsubscribed_at = None
        subscriber.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return subscriber


def do_unsubscribe(token: str) -> Subscriber | None:
    subscriber = Subscriber.objects.select_related("incident").filter(token=token).first()
    if subscriber is not None and subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])
    return subscriber


@transaction.atomic
def do_register(
    incident: Incident,
    *,
    name: str,
    email: str,
    phone: str,
    country: str,
    postcode: str,
    language: str,
    product: Product | None,
    lot: str,
    serial: str,
    quantity: int,
) -> tuple[Party, bool]:
    """An owner the company did not know: add the party and the holding, and if the unit is
    in scope, add them to the ledger (same SQL selection as the match). Returns the party and
    whether the unit is affected."""
    from recalldesk.incidents.matching import holdings_in_scope
    from recalldesk.registry.serials import split_serial

    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    party = Party.objects.create(
        role=PartyRole.CONSUMER,
        external_id=f"web-{stamp}-{secrets.token_hex(4)}",
        name=name,
        email=email,
        phone=phone,
        country=country,
        postcode=postcode,
        language=language,
    )
    prefix, number = split_serial(serial) if serial else ("", None)
    holding = Holding.objects.create(
        external_id=f"web-{stamp}-{secrets.token_hex(4)}",
        party=party,
        product=product,
        lot=lot,
        serial=serial,
        serial_prefix=prefix,
        serial_number=number,
        quantity=quantity,
        postcode=postcode,
        country=country,
        source=HoldingSource.REGISTRATION,
    )
    affected = holdings_in_scope(incident.scope).filter(pk=holding.pk).exists()
    if affected:
        now = timezone.now()
        last_run = incident.match_runs.order_by("-created_at").first()
        entry = LedgerEntry.objects.create(
            incident=incident,
            party=party,
            units=quantity,
            holdings_count=1,
            holdings=[[holding.pk, quantity]],
            added_run=last_run,
            first_affected_at=now,
            updated_at=now,
        )
        record_change(
            None,
            incident,
            ChangeRecord.Action.UPDATED,
            {"registered": [None, entry.units]},
            "owner registered on the public page",
        )
    return party, affected
