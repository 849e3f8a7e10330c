"""What can be done to an incident: ``check_*`` checks access, ``do_*`` changes and records."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord, diff_fields, record_change
from recalldesk.incidents import choices
from recalldesk.incidents.matching import ScopeCounts, count_selection, selection_for
from recalldesk.incidents.models import (
    Incident,
    MatchRun,
    Scope,
    ScopeLot,
    ScopeSerialRange,
)

INCIDENT_FIELDS = ["kind", "title", "hazard", "classification", "default_language", "owner_id"]


def get_incident(user: Any, incident_uuid: Any, perm: str = "incidents.view_incident") -> Incident:
    """The incident, if ``user`` may ``perm`` it; 404 for no such incident."""
    incident = get_object_or_404(Incident.objects.select_related("owner"), uuid=incident_uuid)
    check_perm(user, perm)
    return incident


def check_perm(user: Any, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(f"Your role does not allow this ({perm.split('.')[-1]}).")


def next_reference(kind: str) -> str:
    """``RC-2026-0007`` for the seventh recall of 2026; ``SF-...`` for service failures."""
    letters = "SF" if kind == choices.IncidentKind.SERVICE else "RC"
    year = timezone.now().year
    stem = f"{letters}-{year}-"
    count = Incident.objects.filter(reference__startswith=stem).count()
    return f"{stem}{count + 1:04d}"


def snapshot(incident: Incident) -> dict[str, Any]:
    """The recorded fields of an incident, to diff against after an edit."""
    values = {name: getattr(incident, name) for name in INCIDENT_FIELDS}
    values.update({m.value: getattr(incident, m.value) for m in choices.Milestone})
    return values


@transaction.atomic
def do_create_incident(user: Any, incident: Incident) -> Incident:
    """Save a new incident with its empty scope and its first history row."""
    check_perm(user, "incidents.add_incident")
    incident.reference = incident.reference or next_reference(incident.kind)
    if incident.owner_id is None and getattr(user, "is_authenticated", False):
        incident.owner = user
    incident.save()
    Scope.objects.create(incident=incident)
    record_change(user, incident, ChangeRecord.Action.CREATED, diff_fields({}, snapshot(incident)))
    return incident


@transaction.atomic
def do_update_incident(user: Any, incident: Incident, before: dict[str, Any]) -> Incident:
    """Save edits to ``incident``; ``before`` is ``snapshot(incident)`` taken before editing."""
    check_perm(user, "incidents.change_incident")
    changes = diff_fields(before, snapshot(incident))
    if changes:
        incident.save()
        record_change(user, incident, ChangeRecord.Action.UPDATED, changes)
    return incident


def check_status_change(user: Any, incident: Incident, new_status: str) -> None:
    check_perm(user, "incidents.change_incident")
    allowed = choices.STATUS_NEXT[choices.IncidentStatus(incident.status)]
    if new_status not in allowed:
        labels = dict(choices.IncidentStatus.choices)
        wanted = labels.get(new_status, repr(new_status)).lower()
        raise ValidationError(
            f"An incident that is {incident.get_status_display().lower()} cannot become {wanted}."
        )


@transaction.atomic
def do_change_status(user: Any, incident: Incident, new_status: str, reason: str = "") -> None:
    """Move the incident along its lifecycle; the milestone it reaches is stamped once."""
    check_status_change(user, incident, new_status)
    old = incident.status
    incident.status = new_status
    fields = ["status", "updated_at"]
    now = timezone.now()
    stamp = {
        choices.IncidentStatus.ACTIVE: "decided_at",
        choices.IncidentStatus.CLOSED: "closed_at",
    }.get(choices.IncidentStatus(new_status))
    changes: dict[str, Any] = {"status": [old, new_status]}
    if stamp and getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
        fields.append(stamp)
        changes[stamp] = [None, now.isoformat()]
    if new_status != choices.IncidentStatus.CLOSED and incident.closed_at:
        changes["closed_at"] = [incident.closed_at.isoformat(), None]
        incident.closed_at = None
        fields.append("closed_at")
    incident.save(update_fields=fields)
    record_change(user, incident, ChangeRecord.Action.STATUS, changes, note=reason)


def _digest(values: list[str]) -> str:
    """Thousands of lots in a history row would drown it: their count and a fingerprint
    show that they changed (swapping one lot for another changes the fingerprint)."""
    fingerprint = hashlib.sha1("\n".join(sorted(values)).encode(), usedforsecurity=False)
    return f"{len(values)} ({fingerprint.hexdigest()[:8]})"


def _scope_values(scope: Scope) -> dict[str, Any]:
    return {
        "products": sorted(scope.products.values_list("sku", flat=True)),
        "all_units": scope.all_units,
        "lots": _digest(list(scope.lots.values_list("lot", flat=True))),
        "serial_ranges": [str(r) for r in scope.serial_ranges.all()],
        "date_basis": scope.date_basis,
        "date_from": scope.date_from,
        "date_to": scope.date_to,
        "regions": scope.regions,
        "postcodes": scope.postcodes,
        "services": scope.services,
        "areas": scope.areas,
        "accounts": _digest([str(a) for a in scope.accounts]),
        "window_start": scope.window_start,
        "window_end": scope.window_end,
    }


def _write_scope(scope: Scope, data: dict[str, Any], raw: dict[str, str]) -> None:
    """Replace the scope's rules with ``data`` (a cleaned ``ScopeForm``)."""
    for name in (
        "all_units",
        "date_basis",
        "date_from",
        "date_to",
        "regions",
        "postcodes",
        "services",
        "areas",
        "accounts",
        "window_start",
        "window_end",
    ):
        setattr(scope, name, data.get(name))
    scope.lots_text = raw.get("lots", "")
    scope.serials_text = raw.get("serials", "")
    scope.save()
    scope.products.set(data.get("products") or [])
    scope.lots.all().delete()
    ScopeLot.objects.bulk_create(
        (ScopeLot(scope=scope, lot=lot) for lot in data.get("lots") or []), batch_size=5000
    )
    scope.serial_ranges.all().delete()
    ScopeSerialRange.objects.bulk_create(
        ScopeSerialRange(scope=scope, prefix=prefix, first_number=first, last_number=last)
        for prefix, first, last in data.get("serials") or []
    )


def check_edit_scope(user: Any, incident: Incident) -> None:
    check_perm(user, "incidents.edit_scope")
    if incident.status == choices.IncidentStatus.CLOSED:
        raise PermissionDenied("The incident is closed; reopen it to change its scope.")


def preview_scope(user: Any, incident: Incident, data: dict[str, Any]) -> ScopeCounts:
    """Count what ``data`` would affect, without saving anything."""
    check_perm(user, "incidents.view_ledger")
    with transaction.atomic():
        scope = Scope.objects.select_related("incident").get(incident=incident)
        _write_scope(scope, data, {})
        counts = count_selection(selection_for(scope))
        transaction.set_rollback(True)
    return counts


@transaction.atomic
def do_save_scope(
    user: Any, incident: Incident, data: dict[str, Any], raw: dict[str, str]
) -> MatchRun:
    """Save the scope, record what changed, and queue a match to rebuild the ledger."""
    check_edit_scope(user, incident)
    scope = Scope.objects.select_related("incident").get(incident=incident)
    before = _scope_values(scope)
    _write_scope(scope, data, raw)
    after = _scope_values(scope)
    changes = diff_fields(before, after)
    if changes:
        scope.version += 1
        scope.updated_by = user if getattr(user, "is_authenticated", False) else None
        scope.save(update_fields=["version", "updated_by", "updated_at"])
        record_change(
            user, incident, ChangeRecord.Action.SCOPE, changes, note=f"scope v{scope.version}"
        )
    return do_request_match(user, incident)


def do_request_match(user: Any, incident: Incident) -> MatchRun:
    """Queue a rebuild of the ledger; the task is sent once the transaction commits."""
    from recalldesk.incidents.tasks import match_incident

    run = MatchRun.objects.create(
        incident=incident,
        scope_version=incident.scope.version,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: match_incident.enqueue(str(run.uuid)))
    return run
