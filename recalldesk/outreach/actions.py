"""What can be done in outreach: ``check_*`` checks access and input, ``do_*`` changes and
records. Messages and their approval live here; waves in ``waves.py``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from recalldesk.audit.models import ChangeRecord, record_change
from recalldesk.incidents.actions import check_perm
from recalldesk.incidents.models import Incident
from recalldesk.outreach import choices, compliance
from recalldesk.outreach.models import (
    FACT_FIELDS,
    FactSheet,
    Message,
    MessageVersion,
    OutreachPolicy,
)
from recalldesk.outreach.rendering import check_field, compile_channel, sample_values

Sheets = Mapping[str, Mapping[str, str]]


def policy_for(incident: Incident) -> OutreachPolicy:
    policy, _ = OutreachPolicy.objects.get_or_create(incident=incident)
    return policy


def get_message(user: Any, message_uuid: Any, perm: str = "outreach.view_message") -> Message:
    message = get_object_or_404(Message.objects.select_related("incident"), uuid=message_uuid)
    check_perm(user, perm)
    return message


def check_sheets_input(sheets: Sheets) -> None:
    """Every field of every language must render; a headline is needed in each language."""
    errors = []
    if not sheets:
        errors.append("Write the message in at least one language.")
    for language, fields in sheets.items():
        if not (fields.get("headline") or "").strip():
            errors.append(f"[{language}] headline: a headline is needed.")
        for name in FACT_FIELDS:
            problem = check_field(fields.get(name) or "")
            if problem:
                errors.append(f"[{language}] {name}: {problem}")
    if errors:
        raise ValidationError(errors)


def _write_sheets(version: MessageVersion, sheets: Sheets) -> None:
    version.fact_sheets.exclude(language__in=list(sheets)).delete()
    for language, fields in sheets.items():
        values = {name: (fields.get(name) or "").strip() for name in FACT_FIELDS}
        FactSheet.objects.update_or_create(version=version, language=language, defaults=values)


def sheets_of(version: MessageVersion) -> dict[str, dict[str, str]]:
    return {sheet.language: sheet.fields() for sheet in version.fact_sheets.all()}


@transaction.atomic
def do_create_message(
    user: Any, incident: Incident, *, name: str, audience: str, sheets: Sheets
) -> Message:
    check_perm(user, "outreach.add_message")
    if audience not in choices.Audience.values:
        raise ValidationError(f"Audience {audience!r} is not one of {choices.Audience.values}.")
    check_sheets_input(sheets)
    message = Message.objects.create(
        incident=incident, name=name.strip() or "Notice", audience=audience, created_by=user
    )
    version = MessageVersion.objects.create(message=message, number=1, author=user)
    _write_sheets(version, sheets)
    record_change(user, message, ChangeRecord.Action.CREATED, {"version": [None, 1]})
    return message


@transaction.atomic
def do_edit_message(user: Any, message: Message, sheets: Sheets) -> MessageVersion:
    """Edit the latest version: a draft changes in place; anything reviewed or approved gets
    a new draft version that needs approval again."""
    check_perm(user, "outreach.change_message")
    check_sheets_input(sheets)
    latest = message.latest()
    assert latest is not None
    if latest.status == choices.VersionStatus.DRAFT:
        version = latest
    else:
        version = MessageVersion.objects.create(
            message=message, number=latest.number + 1, author=user
        )
    before = sheets_of(version) if version is latest else sheets_of(latest)
    _write_sheets(version, sheets)
    changed = diff_sheets(before, sheets_of(version))
    if changed:
        record_change(
            user, message, ChangeRecord.Action.UPDATED, {"version": [latest.number, version.number]}
        )
    return version


def diff_sheets(before: Sheets, after: Sheets) -> list[dict[str, Any]]:
    """Per language and field, the lines removed and added: the version diff."""
    out = []
    for language in sorted(set(before) | set(after)):
        for name in FACT_FIELDS:
            old = (before.get(language) or {}).get(name, "") or ""
            new = (after.get(language) or {}).get(name, "") or ""
            if old != new:
                lines = list(
                    difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
                )[2:]
                out.append({"language": language, "field": name, "lines": lines})
    return out


def run_check(version: MessageVersion) -> list[compliance.Finding]:
    """The compliance check of a version under its incident's policy."""
    incident = version.message.incident
    policy = policy_for(incident)
    sms = {}
    for language in version.sheets():
        compiled = compile_channel(version, language, "sms")
        sms[language] = compiled.fill(sample_values(version))["text"]
    return compliance.check_sheets(
        sheets_of(version),
        regimes=policy.regimes,
        languages=policy.all_languages(),
        audience=version.message.audience,
        sms_rendered=sms,
    )


def _set_status(user: Any, version: MessageVersion, status: str, note: str = "") -> None:
    old = version.status
    version.status = status
    record_change(
        user,
        version.message,
        ChangeRecord.Action.STATUS,
        {"status": [old, status], "version": [version.number, version.number]},
        note,
    )


@transaction.atomic
def do_submit(user: Any, version: MessageVersion) -> list[compliance.Finding]:
    check_perm(user, "outreach.change_message")
    if version.status != choices.VersionStatus.DRAFT:
        raise ValidationError(f"Version {version.number} is {version.get_status_display()}.")
    findings = run_check(version)
    version.check_result = [asdict(f) for f in findings]
    version.submitted_at = timezone.now()
    _set_status(user, version, choices.VersionStatus.IN_REVIEW)
    version.save(update_fields=["status", "check_result", "submitted_at"])
    return findings


def check_approve(user: Any, version: MessageVersion, override_reason: str) -> None:
    check_perm(user, "outreach.approve_message")
    if version.status != choices.VersionStatus.IN_REVIEW:
        raise ValidationError(
            f"Only a version in review can be approved; version {version.number} is "
            f"{version.get_status_display().lower()}."
        )
    if version.author_id is not None and version.author_id == user.pk:
        raise PermissionDenied("The author of a version cannot approve it; ask another approver.")
    failing = compliance.failures(run_check(version))
    if failing and not override_reason.strip():
        raise ValidationError(
            [f"Compliance check failed: {f.label} ({f.detail})" for f in failing]
            + ["Fix the message, or approve with a written reason for overriding the check."]
        )


@transaction.atomic
def do_approve(user: Any, version: MessageVersion, override_reason: str = "") -> MessageVersion:
    version = MessageVersion.objects.select_for_update().get(pk=version.pk)
    check_approve(user, version, override_reason)
    findings = run_check(version)
    failing = compliance.failures(findings)
    MessageVersion.objects.filter(
        message=version.message, status=choices.VersionStatus.APPROVED
    ).update(status=choices.VersionStatus.SUPERSEDED)
    version.approved_by = user
    version.approved_at = timezone.now()
    version.check_result = [asdict(f) for f in findings]
    version.override_reason = override_reason.strip() if failing else ""
    note = f"Compliance check overridden: {version.override_reason}" if failing else ""
    _set_status(user, version, choices.VersionStatus.APPROVED, note)
    version.save(
        update_fields=["status", "approved_by", "approved_at", "check_result", "override_reason"]
    )
    return version


@transaction.atomic
def do_reject(user: Any, version: MessageVersion, reason: str) -> MessageVersion:
    check_perm(user, "outreach.approve_message")
    if version.status != choices.VersionStatus.IN_REVIEW:
        raise ValidationError("Only a version in review can be sent back.")
    if not reason.strip():
        raise ValidationError("Say why the version goes back to its author.")
    _set_status(user, version, choices.VersionStatus.DRAFT, reason.strip())
    version.save(update_fields=["status"])
    return version


@transaction.atomic
def do_save_policy(user: Any, policy: OutreachPolicy, **values: Any) -> OutreachPolicy:
    check_perm(user, "outreach.change_outreachpolicy")
    before = {name: getattr(policy, name) for name in values}
    for name, value in values.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    changes = {k: [str(before[k]), str(v)] for k, v in values.items() if before[k] != v}
    if changes:
        record_change(
            user, policy.incident, ChangeRecord.Action.UPDATED, changes, "outreach policy"
        )
    return policy
