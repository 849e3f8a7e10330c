"""The console's crisis-site tab: the page's settings, updates and their approval, actions,
FAQ, questions from the public and lookup counts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from recalldesk.incidents.actions import check_perm, get_incident
from recalldesk.outreach.actions import policy_for
from recalldesk.public import actions, choices
from recalldesk.public.models import Action, FaqEntry, LookupCount, Update
from recalldesk.public.pages import forget

CADENCE_HELP = "One step a line: “14 days every 24 hours”, then “every 168 hours” for the rest."


def _cadence_text(cadence: list[dict[str, Any]]) -> str:
    lines = []
    for step in cadence:
        every = f"every {float(step['every_hours']):g} hours"
        lines.append(f"{float(step['for_days']):g} days {every}" if "for_days" in step else every)
    return "\n".join(lines)


def _parse_cadence(text: str) -> list[dict[str, Any]]:
    steps = []
    for line in text.splitlines():
        words = line.lower().replace("days", "").replace("hours", "").split()
        if not words:
            continue
        try:
            if words[0] == "every":
                steps.append({"every_hours": float(words[1])})
            else:
                steps.append({"for_days": float(words[0]), "every_hours": float(words[2])})
        except (IndexError, ValueError) as exc:
            raise ValidationError(f"Cadence line “{line.strip()}”: {CADENCE_HELP}") from exc
    if not steps:
        raise ValidationError(f"Give the cadence. {CADENCE_HELP}")
    return steps


def _when(value: str) -> Any:
    when = parse_datetime(value) if value else None
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


@login_required
def site_home(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "public.view_publicpage")
    page = actions.page_for(incident)
    languages = policy_for(incident).all_languages()
    if request.method == "POST":
        try:
            statement = request.POST.get("statement") or None
            actions.do_save_page(
                request.user,
                page,
                published=bool(request.POST.get("published")),
                phone=request.POST.get("phone", "").strip(),
                email=request.POST.get("email", "").strip(),
                cadence=_parse_cadence(request.POST.get("cadence", "")),
                statement_id=int(statement) if statement else None,
            )
            forget(page.slug)
            messages.success(request, "Crisis site saved.")
            return redirect("public_console:home", incident.uuid)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
    updates = list(
        Update.objects.filter(incident=incident)
        .prefetch_related("translations")
        .select_related("author", "approved_by")
    )
    counts = dict(
        LookupCount.objects.filter(incident=incident)
        .values_list("outcome")
        .annotate(n=Sum("count"))
    )
    return render(
        request,
        "public/console/home.html",
        {
            "incident": incident,
            "page": page,
            "languages": languages,
            "cadence_text": _cadence_text(page.cadence),
            "cadence_help": CADENCE_HELP,
            "due": actions.next_update_due(incident),
            "updates": updates,
            "actions": Action.objects.filter(incident=incident),
            "faq": FaqEntry.objects.filter(incident=incident),
            "questions": incident.questions.all()[:50],
            "counts": [(o.label, counts.get(o.value, 0)) for o in choices.LookupOutcome],
            "statements": incident.messages.filter(audience="consumer"),
            "action_kinds": choices.ActionKind.choices,
            "colours": choices.UPDATE_COLOURS,
        },
    )


@login_required
@require_POST
def update_write(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "public.add_update")
    languages = policy_for(incident).all_languages()
    texts = {
        language: {
            name: request.POST.get(f"{language}-{name}", "") for name in actions.UPDATE_FIELDS
        }
        for language in languages
    }
    try:
        update = actions.do_write_update(
            request.user,
            incident,
            texts,
            _when(request.POST.get("next_update_at", "")),
            notify_ledger=bool(request.POST.get("notify_ledger")),
        )
        actions.do_submit_update(request.user, update)
        messages.success(request, "Update written and sent for approval.")
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    return redirect("public_console:home", incident.uuid)


@login_required
@require_POST
def update_publish(request: HttpRequest, update_uuid: Any) -> HttpResponse:
    update = get_object_or_404(Update.objects.select_related("incident"), uuid=update_uuid)
    try:
        actions.do_publish_update(request.user, update)
        forget(actions.page_for(update.incident).slug)
        messages.success(request, "Update published: on the page, in the feed, and on its way.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("public_console:home", update.incident.uuid)


@login_required
@require_POST
def action_save(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "public.change_publicpage")
    check_perm(request.user, "public.add_action")
    if request.POST.get("action"):
        action = get_object_or_404(Action, pk=request.POST["action"], incident=incident)
        action.published = bool(request.POST.get("published"))
        action.closed_on = request.POST.get("closed_on") or None
        action.findings = request.POST.get("findings", action.findings)
        action.save(update_fields=["published", "closed_on", "findings", "updated_at"])
    else:
        kind = request.POST.get("kind", "")
        title = request.POST.get("title", "").strip()
        if kind not in choices.ActionKind.values or not title:
            messages.error(request, "An action needs a kind and a title.")
            return redirect("public_console:home", incident.uuid)
        Action.objects.create(
            incident=incident,
            kind=kind,
            title=title[:200],
            description=request.POST.get("description", ""),
            due_on=request.POST.get("due_on") or None,
        )
    actions.bump(actions.page_for(incident))
    forget(actions.page_for(incident).slug)
    messages.success(request, "Action saved.")
    return redirect("public_console:home", incident.uuid)


@login_required
@require_POST
def faq_add(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "public.change_publicpage")
    question = request.POST.get("question", "").strip()
    answer = request.POST.get("answer", "").strip()
    language = request.POST.get("language", incident.default_language)
    if not question or not answer:
        messages.error(request, "A question and its answer are both needed.")
    else:
        FaqEntry.objects.create(
            incident=incident, language=language, question=question[:300], answer=answer
        )
        actions.bump(actions.page_for(incident))
        forget(actions.page_for(incident).slug)
        messages.success(request, "Question and answer added to the page.")
    return redirect("public_console:home", incident.uuid)
