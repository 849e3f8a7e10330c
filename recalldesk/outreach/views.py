"""Console pages of outreach: messages and their approval, waves and their progress,
the phone call list and the letter batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time
from django.views.decorators.http import require_POST

from recalldesk.audit.models import ChangeRecord
from recalldesk.incidents.actions import check_perm, get_incident
from recalldesk.outreach import actions, choices, waves
from recalldesk.outreach.channels import CHANNELS
from recalldesk.outreach.models import (
    FACT_FIELDS,
    Acknowledgement,
    Delivery,
    FactSheet,
    Message,
    MessageVersion,
    Wave,
)
from recalldesk.outreach.rendering import compile_channel, sample_values
from recalldesk.registry.models import Party

FIELD_LABELS = {
    name: str(getattr(FactSheet._meta.get_field(name), "verbose_name", name))
    for name in FACT_FIELDS
}


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _sheets_from_post(request: HttpRequest, languages: list[str]) -> dict[str, dict[str, str]]:
    sheets = {}
    for language in languages:
        fields = {name: request.POST.get(f"{language}-{name}", "") for name in FACT_FIELDS}
        if any(value.strip() for value in fields.values()):
            sheets[language] = fields
    return sheets


def _sheet_forms(languages: list[str], sheets: dict[str, dict[str, str]]) -> list[dict]:
    return [
        {
            "language": language,
            "fields": [
                {
                    "name": name,
                    "label": FIELD_LABELS[name],
                    "value": (sheets.get(language) or {}).get(name, ""),
                    "id": f"{language}-{name}",
                }
                for name in FACT_FIELDS
            ],
        }
        for language in languages
    ]


@login_required
def outreach_home(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "outreach.view_message")
    policy = actions.policy_for(incident)
    if request.method == "POST":
        try:
            escalation = []
            for line in request.POST.get("escalation", "").splitlines():
                if not line.strip():
                    continue
                days, _, kind = line.strip().partition(" ")
                if kind.strip() not in CHANNELS or not days.replace(".", "").isdigit():
                    raise ValidationError(
                        f"Escalation line “{line.strip()}”: write days then a channel, "
                        f"e.g. “3 sms” ({', '.join(CHANNELS)})."
                    )
                escalation.append({"after_days": float(days), "channel": kind.strip()})
            start = parse_time(request.POST.get("quiet_start", ""))
            end = parse_time(request.POST.get("quiet_end", ""))
            if start is None or end is None:
                raise ValidationError("Quiet hours need a start and an end time, e.g. 21:00.")
            actions.do_save_policy(
                request.user,
                policy,
                regimes=[r for r in request.POST.getlist("regimes") if r in choices.Regime.values],
                languages=[
                    lang.strip().lower()
                    for lang in request.POST.get("languages", "").split(",")
                    if lang.strip()
                ],
                quiet_start=start,
                quiet_end=end,
                escalation=escalation,
            )
            messages.success(request, "Outreach policy saved.")
            return redirect("outreach:home", incident.uuid)
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
    wave_list = list(incident.waves.select_related("version__message")[:50])
    for wave in wave_list:
        wave.progress = waves.progress(wave)  # type: ignore[attr-defined]
    context = {
        "incident": incident,
        "policy": policy,
        "regimes": choices.Regime.choices,
        "escalation_text": "\n".join(
            f"{step['after_days']:g} {step['channel']}" for step in policy.escalation
        ),
        "message_list": [(m, m.latest()) for m in incident.messages.prefetch_related("versions")],
        "wave_list": wave_list,
        "calls_waiting": Delivery.objects.filter(
            incident_id=incident.pk, channel="phone", status=choices.DeliveryStatus.QUEUED
        ).count(),
        "channels": CHANNELS,
        "can_edit": request.user.has_perm("outreach.change_outreachpolicy"),
    }
    return render(request, "outreach/home.html", context)


@login_required
def message_new(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "outreach.add_message")
    languages = actions.policy_for(incident).all_languages()
    sheets: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    name, audience = "", choices.Audience.CONSUMER.value
    if request.method == "POST":
        name = request.POST.get("name", "")
        audience = request.POST.get("audience", audience)
        sheets = _sheets_from_post(request, languages)
        try:
            message = actions.do_create_message(
                request.user, incident, name=name, audience=audience, sheets=sheets
            )
            messages.success(request, "Message saved as a draft.")
            return redirect("outreach:message", message.uuid)
        except ValidationError as exc:
            errors = _errors(exc)
    return render(
        request,
        "outreach/message_form.html",
        {
            "incident": incident,
            "name": name,
            "audience": audience,
            "audiences": choices.Audience.choices,
            "sheet_forms": _sheet_forms(languages, sheets),
            "errors": errors,
            "new": True,
        },
    )


@login_required
def message_edit(request: HttpRequest, message_uuid: Any) -> HttpResponse:
    message = actions.get_message(request.user, message_uuid, "outreach.change_message")
    incident = message.incident
    latest = message.latest()
    assert latest is not None
    languages = actions.policy_for(incident).all_languages()
    languages += [lang for lang in latest.sheets() if lang not in languages]
    sheets = actions.sheets_of(latest)
    errors: list[str] = []
    if request.method == "POST":
        sheets = _sheets_from_post(request, languages)
        try:
            version = actions.do_edit_message(request.user, message, sheets)
            messages.success(request, f"Saved as version {version.number} (draft).")
            return redirect("outreach:message", message.uuid)
        except ValidationError as exc:
            errors = _errors(exc)
    return render(
        request,
        "outreach/message_form.html",
        {
            "incident": incident,
            "message": message,
            "latest": latest,
            "sheet_forms": _sheet_forms(languages, sheets),
            "errors": errors,
        },
    )


def _checklist(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per rule: passing everywhere, or its failures (each with its excerpt).

    Each rule is checked per language; a flat list of every rule times every language is
    too long to read, so passing languages fold into their rule's line.
    """
    rules: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        key = (finding["code"], finding["label"])
        rule = rules.setdefault(
            key, {"label": finding["label"], "ok": True, "languages": [], "failures": []}
        )
        if finding.get("language") and finding["language"] not in rule["languages"]:
            rule["languages"].append(finding["language"])
        if not finding["ok"]:
            rule["ok"] = False
            rule["failures"].append(finding)
    return sorted(rules.values(), key=lambda rule: rule["ok"])


def _highlight(findings: list[dict[str, Any]], sheets: dict[str, dict[str, str]]) -> list[dict]:
    out = []
    for finding in findings:
        item = dict(finding)
        text = (sheets.get(item.get("language", "")) or {}).get(item.get("field", ""), "")
        start, end = item.get("start", -1), item.get("end", -1)
        if not item["ok"] and text and 0 <= start < end <= len(text):
            lo = max(0, start - 60)
            item["before"] = ("…" if lo else "") + text[lo:start]
            item["hit"] = text[start:end]
            item["after"] = text[end : end + 60] + ("…" if end + 60 < len(text) else "")
        out.append(item)
    return out


@login_required
def message_detail(request: HttpRequest, message_uuid: Any) -> HttpResponse:
    message = actions.get_message(request.user, message_uuid)
    versions = list(message.versions.select_related("author", "approved_by"))
    number = request.GET.get("v")
    version = next((v for v in versions if str(v.number) == number), versions[0])
    sheets = actions.sheets_of(version)
    findings = [
        {
            "code": f.code,
            "label": f.label,
            "ok": f.ok,
            "language": f.language,
            "field": f.field,
            "detail": f.detail,
            "start": f.start,
            "end": f.end,
        }
        for f in actions.run_check(version)
    ]
    default = message.incident.default_language
    language = request.GET.get("lang") or (default if default in sheets else next(iter(sheets), ""))
    channel = request.GET.get("channel") or "email"
    if channel not in CHANNELS:
        channel = "email"
    preview = None
    if language in sheets:
        preview = compile_channel(version, language, channel).fill(sample_values(version))
    previous = next((v for v in versions if v.number == version.number - 1), None)
    context = {
        "incident": message.incident,
        "message": message,
        "version": version,
        "versions": versions,
        "sheets": sheets,
        "field_labels": FIELD_LABELS,
        "checklist": _checklist(_highlight(findings, sheets)),
        "failing": [f for f in findings if not f["ok"]],
        "preview": preview,
        "preview_language": language,
        "preview_channel": channel,
        "channels": CHANNELS,
        "diff": actions.diff_sheets(actions.sheets_of(previous), sheets) if previous else [],
        "history": ChangeRecord.for_object(message)[:20],
        "can_edit": request.user.has_perm("outreach.change_message"),
        "can_approve": request.user.has_perm("outreach.approve_message")
        and version.author_id != request.user.pk,
        "is_author": version.author_id == request.user.pk,
        "colours": choices.VERSION_COLOURS,
    }
    return render(request, "outreach/message_detail.html", context)


def _version_action(request: HttpRequest, message_uuid: Any) -> tuple[Message, MessageVersion]:
    message = actions.get_message(request.user, message_uuid)
    version = get_object_or_404(message.versions, number=request.POST.get("version"))
    return message, version


@login_required
@require_POST
def message_submit(request: HttpRequest, message_uuid: Any) -> HttpResponse:
    message, version = _version_action(request, message_uuid)
    try:
        findings = actions.do_submit(request.user, version)
        failing = [f for f in findings if not f.ok]
        if failing:
            messages.info(
                request,
                f"Sent for review with {len(failing)} compliance problem(s) for the approver.",
            )
        else:
            messages.success(request, "Sent for review; the compliance check passed.")
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    return redirect("outreach:message", message.uuid)


@login_required
@require_POST
def message_approve(request: HttpRequest, message_uuid: Any) -> HttpResponse:
    message, version = _version_action(request, message_uuid)
    try:
        if request.POST.get("decision") == "reject":
            actions.do_reject(request.user, version, request.POST.get("reason", ""))
            messages.success(request, f"Version {version.number} went back to its author.")
        else:
            actions.do_approve(request.user, version, request.POST.get("override_reason", ""))
            messages.success(request, f"Version {version.number} approved.")
    except (ValidationError, PermissionDenied) as exc:
        errs = _errors(exc) if isinstance(exc, ValidationError) else [str(exc)]
        for error in errs:
            messages.error(request, error)
    return redirect(f"{reverse('outreach:message', args=[message.uuid])}?v={version.number}")


@login_required
def wave_new(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "outreach.add_wave")
    approved = list(
        MessageVersion.objects.filter(
            message__incident=incident, status=choices.VersionStatus.APPROVED
        ).select_related("message")
    )
    errors: list[str] = []
    form: dict[str, Any] = {"channels": ["email", "sms", "letter"], "quiet": True}
    if request.method == "POST":
        form = {
            "version": request.POST.get("version", ""),
            "name": request.POST.get("name", ""),
            "channels": [c for c in request.POST.getlist("channels") if c],
            "regions": request.POST.get("regions", ""),
            "countries": request.POST.get("countries", ""),
            "languages": request.POST.get("languages", ""),
            "not_acknowledged": bool(request.POST.get("not_acknowledged")),
            "scheduled_for": request.POST.get("scheduled_for", ""),
            "quiet": bool(request.POST.get("quiet")),
        }
        version = next((v for v in approved if str(v.pk) == form["version"]), None)
        scheduled: datetime | None = None
        if form["scheduled_for"]:
            scheduled = parse_datetime(form["scheduled_for"])
            if scheduled is not None and timezone.is_naive(scheduled):
                scheduled = timezone.make_aware(scheduled)
        split = lambda text: [item.strip() for item in text.split(",") if item.strip()]  # noqa: E731
        try:
            if version is None:
                raise ValidationError("Choose an approved message version to send.")
            if form["scheduled_for"] and scheduled is None:
                raise ValidationError("The scheduled time is not a date and time.")
            wave = waves.do_launch_wave(
                request.user,
                incident,
                version,
                channels=list(dict.fromkeys(form["channels"])),
                segment={
                    "regions": split(form["regions"]),
                    "countries": [c.upper() for c in split(form["countries"])],
                    "languages": split(form["languages"]),
                    "not_acknowledged": form["not_acknowledged"],
                },
                name=form["name"],
                scheduled_for=scheduled,
                respect_quiet_hours=form["quiet"],
            )
            messages.success(request, f"Wave launched: {wave.total:,} deliveries queued.")
            return redirect("outreach:wave", wave.uuid)
        except ValidationError as exc:
            errors = _errors(exc)
    return render(
        request,
        "outreach/wave_form.html",
        {
            "incident": incident,
            "approved": approved,
            "form": form,
            "errors": errors,
            "channel_specs": list(CHANNELS.values()),
            "slots": range(3),
        },
    )


def _get_wave(request: HttpRequest, wave_uuid: Any) -> Wave:
    wave = get_object_or_404(
        Wave.objects.select_related("incident", "version__message", "parent"), uuid=wave_uuid
    )
    check_perm(request.user, "outreach.view_wave")
    return wave


@login_required
def wave_detail(request: HttpRequest, wave_uuid: Any) -> HttpResponse:
    wave = _get_wave(request, wave_uuid)
    recent = (
        Delivery.objects.filter(wave=wave)
        .exclude(status=choices.DeliveryStatus.QUEUED)
        .select_related("party")
        .order_by("-id")[:25]
    )
    context = {
        "incident": wave.incident,
        "wave": wave,
        "progress": waves.progress(wave),
        "recent": recent,
        "letters": Delivery.objects.filter(
            wave=wave, channel="letter", status=choices.DeliveryStatus.QUEUED
        ).count(),
        "escalations": wave.escalations.all(),
        "colours": choices.DELIVERY_COLOURS,
        "wave_colours": choices.WAVE_COLOURS,
    }
    return render(request, "outreach/wave_detail.html", context)


@login_required
def wave_progress(request: HttpRequest, wave_uuid: Any) -> JsonResponse:
    return JsonResponse(waves.progress(_get_wave(request, wave_uuid)))


@login_required
def wave_letters(request: HttpRequest, wave_uuid: Any) -> HttpResponse:
    """The wave's queued letters as one print-ready PDF, or the print house's CSV; POST
    marks them mailed."""
    from recalldesk.outreach.letters import letters_for, mark_mailed

    wave = _get_wave(request, wave_uuid)
    check_perm(request.user, "outreach.work_call_list")
    if request.method == "POST":
        count = mark_mailed(request.user, wave)
        messages.success(request, f"{count:,} letters marked as mailed.")
        return redirect("outreach:wave", wave.uuid)
    kind = request.GET.get("format", "pdf")
    body, content_type, filename = letters_for(wave, kind)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def call_list(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    """The agent console: the next party to call, the script, and the outcome form."""
    from recalldesk.outreach.calls import do_record_call, next_call

    incident = get_incident(request.user, incident_uuid, "outreach.work_call_list")
    if request.method == "POST":
        delivery = get_object_or_404(
            Delivery, pk=request.POST.get("delivery"), incident_id=incident.pk, channel="phone"
        )
        try:
            do_record_call(
                request.user,
                delivery,
                outcome=request.POST.get("outcome", ""),
                call_back_at=request.POST.get("call_back_at", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, f"Call to {delivery.party.name} recorded.")
            return redirect("outreach:calls", incident.uuid)
        except ValidationError as exc:
            for error in _errors(exc):
                messages.error(request, error)
    call = next_call(request.user, incident)
    return render(
        request,
        "outreach/calls.html",
        {
            "incident": incident,
            "call": call,
            "outcomes": choices.CallOutcome.choices,
            "waiting": Delivery.objects.filter(
                incident_id=incident.pk, channel="phone", status=choices.DeliveryStatus.QUEUED
            ).count(),
        },
    )


@login_required
def party_timeline(request: HttpRequest, incident_uuid: Any, party_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "outreach.view_delivery")
    party = get_object_or_404(Party, uuid=party_uuid)
    deliveries = Delivery.objects.filter(incident_id=incident.pk, party=party).select_related(
        "wave"
    )
    acks = Acknowledgement.objects.filter(incident=incident, party=party)
    events: list[dict[str, Any]] = []
    for d in deliveries:
        for stamp, label in [
            ("queued_at", "queued"),
            ("sent_at", "sent"),
            ("delivered_at", "delivered"),
            ("opened_at", "opened"),
            ("failed_at", "failed"),
            ("acknowledged_at", "acknowledged"),
        ]:
            at = getattr(d, stamp)
            if at:
                events.append({"at": at, "what": f"{d.get_channel_display()} {label}", "d": d})
    for ack in acks:
        events.append({"at": ack.created_at, "what": ack.get_kind_display(), "ack": ack})
    events.sort(key=lambda e: e["at"], reverse=True)
    return render(
        request,
        "outreach/timeline.html",
        {"incident": incident, "party": party, "events": events, "deliveries": deliveries},
    )
