"""The staff console of remedies: offers, capacity and priority, service credits, the claim
queue, a claim and its fulfilment."""

from __future__ import annotations

import csv
import datetime as dt
import mimetypes
import uuid
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from recalldesk.incidents.actions import get_incident
from recalldesk.incidents.models import Incident
from recalldesk.remedies import actions, choices, credits, queue, tasks
from recalldesk.remedies.forms import (
    CapacityWeekForm,
    DecisionForm,
    OfferForm,
    PriorityRuleForm,
    StepForm,
)
from recalldesk.remedies.models import (
    Claim,
    ClaimEvent,
    Offer,
    PriorityRule,
    ServiceCredit,
    monday,
)

QUEUE_PAGE_SIZE = 50


# --- the Remedies tab ------------------------------------------------------------------


def _offer_rows(incident: Incident) -> list[dict[str, Any]]:
    offers = list(
        incident.offers.select_related("replacement_product").prefetch_related(
            "products", "capacity_weeks"
        )
    )
    credit_totals = {
        row["offer_id"]: row
        for row in ServiceCredit.objects.filter(incident=incident)
        .values("offer_id")
        .annotate(accounts=Count("id"), amount=Sum("amount"))
    }
    return [
        {
            "offer": offer,
            "queue": queue.queue_summary(offer) if offer.kind != choices.OfferKind.CREDIT else None,
            "weeks": [w for w in offer.capacity_weeks.all() if w.week_start >= _this_monday()],
            "credits": credit_totals.get(offer.pk),
        }
        for offer in offers
    ]


def _this_monday() -> dt.date:
    return monday(timezone.localdate())


@login_required
def home(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "remedies.view_claim")
    rows = _offer_rows(incident)
    done = actions.completion(incident)
    by_status = dict(
        Claim.objects.filter(incident=incident)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    flagged = Claim.objects.filter(incident=incident, status__in=choices.OPEN).exclude(flags=[])
    return render(
        request,
        "remedies/console/home.html",
        {
            "incident": incident,
            "tab": "remedies",
            "rows": [r for r in rows if r["offer"].kind != choices.OfferKind.CREDIT],
            "credit_rows": [r for r in rows if r["offer"].kind == choices.OfferKind.CREDIT],
            "eu_gaps": actions.eu_rule_gaps(incident, [r["offer"] for r in rows]),
            "completion": done,
            "by_status": {s.value: by_status.get(s.value, 0) for s in choices.ClaimStatus},
            "flagged": flagged.count(),
            "rules": incident.priority_rules.all(),
            "rule_form": PriorityRuleForm(),
            "can_manage": request.user.has_perm("remedies.manage_offers"),
        },
    )


# --- offers, capacity, priority and credits --------------------------------------------


def _offer_page(
    request: HttpRequest,
    incident: Incident,
    form: OfferForm,
    offer: Offer | None,
    week_form: CapacityWeekForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "remedies/console/offer_form.html",
        {
            "incident": incident,
            "tab": "remedies",
            "form": form,
            "offer": offer,
            "weeks": list(offer.capacity_weeks.filter(week_start__gte=_this_monday()))
            if offer
            else [],
            "week_form": week_form or CapacityWeekForm(),
            "summary": queue.queue_summary(offer) if offer else None,
        },
    )


def _save_offer(request: HttpRequest, incident: Incident, form: OfferForm) -> Offer | None:
    if not form.is_valid():
        return None
    try:
        return actions.do_save_offer(
            request.user, incident, form.save(commit=False), list(form.cleaned_data["products"])
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@login_required
def offer_new(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "remedies.manage_offers")
    form = OfferForm(request.POST or None, incident=incident, instance=Offer(incident=incident))
    if request.method == "POST":
        offer = _save_offer(request, incident, form)
        if offer is not None:
            messages.success(request, f"Offer “{offer.title}” added.")
            return redirect("remedies:home", incident.uuid)
    return _offer_page(request, incident, form, None)


@login_required
def offer_edit(request: HttpRequest, offer_uuid: Any) -> HttpResponse:
    offer = actions.get_offer(request.user, offer_uuid)
    incident = offer.incident
    form = OfferForm(request.POST or None, incident=incident, instance=offer)
    if request.method == "POST":
        saved = _save_offer(request, incident, form)
        if saved is not None:
            messages.success(request, f"Offer “{saved.title}” saved.")
            return redirect("remedies:home", incident.uuid)
        # A refused edit must not show its unsaved values as the offer's own.
        offer = Offer.objects.get(pk=offer.pk)
    return _offer_page(request, incident, form, offer)


@login_required
@require_POST
def offer_capacity(request: HttpRequest, offer_uuid: Any) -> HttpResponse:
    offer = actions.get_offer(request.user, offer_uuid)
    form = CapacityWeekForm(request.POST)
    if not form.is_valid():
        return _offer_page(
            request, offer.incident, OfferForm(incident=offer.incident, instance=offer), offer, form
        )
    week = actions.do_set_capacity(
        request.user, offer, form.cleaned_data["week_start"], form.cleaned_data["units"]
    )
    messages.success(
        request, f"Capacity for the week of {week.week_start:%-d %b %Y}: {week.units} units."
    )
    return redirect("remedies:offer", offer.uuid)


@login_required
@require_POST
def priority_rules(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    """Add or delete a priority rule, then place every open claim again."""
    incident = get_incident(request.user, incident_uuid, "remedies.manage_offers")
    delete = request.POST.get("delete")
    if delete:
        rule = get_object_or_404(PriorityRule, incident=incident, pk=delete)
        moved = actions.do_delete_priority_rule(request.user, rule)
    else:
        form = PriorityRuleForm(request.POST)
        if not form.is_valid():
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else "Rule"
                messages.error(request, f"{label}: {' '.join(str(e) for e in errors)}")
            return redirect("remedies:home", incident.uuid)
        moved = actions.do_add_priority_rule(request.user, incident, form.save(commit=False))
    done = "deleted" if delete else "added"
    messages.success(request, f"Rule {done}; {moved} open claim{'s' if moved != 1 else ''} moved.")
    return redirect("remedies:home", incident.uuid)


@login_required
@require_POST
def credits_apply(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "remedies.manage_offers")
    if not incident.is_service:
        raise Http404("Service credits are for service failures.")
    incident_id = incident.pk
    transaction.on_commit(lambda: tasks.apply_credits.enqueue(incident_id))
    messages.success(
        request, "Credits are being applied to every affected account; reload to see the totals."
    )
    return redirect("remedies:home", incident.uuid)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


@login_required
def credits_csv(request: HttpRequest, offer_uuid: Any) -> StreamingHttpResponse:
    offer = actions.get_offer(request.user, offer_uuid)
    if offer.kind != choices.OfferKind.CREDIT:
        raise Http404("Only a credit offer has a billing file.")
    response = StreamingHttpResponse(
        _csv(credits.export_rows(offer)), content_type="text/csv; charset=utf-8"
    )
    name = f"{offer.incident.reference}-credits-{str(offer.uuid)[:8]}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the claim queue -------------------------------------------------------------------


def filtered_claims(incident: Incident, params: Any) -> tuple[QuerySet[Claim], dict[str, str]]:
    """The incident's claims the filters in ``params`` ask for, in queue order (priority,
    then arrival), and the filters as read."""
    filters = {
        # A work queue: the claims still waiting, unless the filter asks for others.
        "status": params.get("status") or "open",
        "offer": params.get("offer", ""),
        "flagged": "1" if params.get("flagged") else "",
        "q": params.get("q", "").strip()[:100],
    }
    claims = Claim.objects.filter(incident=incident).select_related("party", "offer")
    if filters["status"] in choices.ClaimStatus.values:
        claims = claims.filter(status=filters["status"])
    elif filters["status"] != "all":
        filters["status"] = "open"
        claims = claims.filter(status__in=choices.OPEN)
    if filters["offer"]:
        try:
            claims = claims.filter(offer__uuid=uuid.UUID(filters["offer"]))
        except ValueError:
            filters["offer"] = ""
    if filters["flagged"]:
        claims = claims.exclude(flags=[])
    if filters["q"]:
        q = filters["q"]
        claims = claims.filter(
            Q(number__iexact=q)
            | Q(number__iexact=f"{q[:4]}-{q[4:]}".upper())
            | Q(email__iexact=q)
            | Q(postcode__iexact=q)
            | Q(party__name__icontains=q)
        )
    return claims.order_by("-priority", "id"), filters


def _queue_page(
    request: HttpRequest,
    incident: Incident,
    selected: set[str] | None = None,
    errors: list[str] | None = None,
    reason: str = "",
) -> HttpResponse:
    claims, filters = filtered_claims(incident, request.GET)
    page = Paginator(claims, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    places = queue.standings(rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "remedies/console/claims.html",
        {
            "incident": incident,
            "tab": "remedies",
            "page": page,
            "rows": [(claim, places.get(claim.pk)) for claim in rows],
            "filters": filters,
            "query": query.urlencode(),
            "statuses": choices.ClaimStatus.choices,
            "offers": incident.offers.exclude(kind=choices.OfferKind.CREDIT),
            "selected": selected or set(),
            "errors": errors or [],
            "reason": reason,
            "can_decide": request.user.has_perm("remedies.decide_claim"),
        },
        status=400 if errors else 200,
    )


@login_required
def claim_queue(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = get_incident(request.user, incident_uuid, "remedies.view_claim")
    if request.method != "POST":
        return _queue_page(request, incident)
    actions.check_perm(request.user, "remedies.decide_claim")
    chosen = request.POST.getlist("claims")
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    claims = list(claims_named(incident, chosen))
    if not claims:
        return _queue_page(request, incident, errors=["Tick the claims to decide."])
    try:
        actions.do_decide(request.user, claims, decision, reason)
    except ValidationError as exc:
        return _queue_page(request, incident, set(chosen), exc.messages, reason)
    word = "approved" if decision == choices.ClaimStatus.APPROVED else "rejected"
    count = len(claims)
    messages.success(request, f"{count} claim{'s' if count != 1 else ''} {word}.")
    return redirect(f"{reverse('remedies:claims', args=[incident.uuid])}?{request.GET.urlencode()}")


def claims_named(incident: Incident, uuids: list[str]) -> QuerySet[Claim]:
    """The incident's claims among ``uuids``; malformed ones are ignored."""
    valid = []
    for text in uuids:
        try:
            valid.append(uuid.UUID(text))
        except ValueError:
            continue
    return (
        Claim.objects.filter(incident=incident, uuid__in=valid)
        .select_related("offer", "party")
        .order_by("id")
    )


# --- one claim -------------------------------------------------------------------------


def _claim_page(
    request: HttpRequest,
    claim: Claim,
    decision_form: DecisionForm | None = None,
    step_form: StepForm | None = None,
) -> HttpResponse:
    events = list(claim.events.select_related("actor"))
    done = {e.step for e in events if e.kind == choices.EventKind.STEP}
    user = request.user
    bad = bool((decision_form and decision_form.errors) or (step_form and step_form.errors))
    step_form = step_form or StepForm(claim=claim, done=done)
    open_steps = [value for value, _ in step_form.fields["step"].choices]  # type: ignore[attr-defined]
    shown = [*claim.offer.steps, *(s for s in choices.DISPOSITIONS if s in done)]
    decided = [
        e for e in events if e.kind in (choices.EventKind.APPROVED, choices.EventKind.REJECTED)
    ]
    return render(
        request,
        "remedies/console/claim.html",
        {
            "incident": claim.incident,
            "tab": "remedies",
            "claim": claim,
            "units": claim.claim_units.select_related("holding__product"),
            "events": events,
            "decision": decided[-1] if decided else None,
            # The console reads the whole queue: staff see the units waiting too.
            "standing": queue.standings([claim]).get(claim.pk),
            "decision_form": decision_form or DecisionForm(),
            "step_form": step_form,
            "remedy_steps": [{"label": choices.Step(s).label, "done": s in done} for s in shown],
            "step_fields": step_fields(open_steps),
            "can_decide": user.has_perm("remedies.decide_claim") and claim.is_open,
            "can_approve": claim.status == choices.ClaimStatus.SUBMITTED,
            "can_fulfil": user.has_perm("remedies.fulfil_claim"),
        },
        status=400 if bad else 200,
    )


def step_fields(steps: list[str]) -> list[str]:
    """The step form's fields worth showing for the steps on offer, in form order."""
    wanted = {"note"}
    for step in steps:
        wanted.update(choices.STEP_FIELDS[choices.Step(step)])
        if step in choices.DISPOSITIONS:
            wanted.add("proof")
    order = ("carrier", "tracking", "reference", "appointment", "voucher_code", "note", "proof")
    return [name for name in order if name in wanted]


@login_required
def claim_detail(request: HttpRequest, claim_uuid: Any) -> HttpResponse:
    claim = actions.get_claim(request.user, claim_uuid)
    return _claim_page(request, claim)


@login_required
@require_POST
def claim_decide(request: HttpRequest, claim_uuid: Any) -> HttpResponse:
    claim = actions.get_claim(request.user, claim_uuid, "remedies.decide_claim")
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            actions.do_decide(
                request.user, [claim], form.cleaned_data["decision"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            rejecting = form.cleaned_data["decision"] == choices.ClaimStatus.REJECTED
            unexplained = rejecting and not form.cleaned_data["reason"].strip()
            form.add_error("reason" if unexplained else None, exc)
        else:
            messages.success(request, f"Claim {claim.number} {claim.get_status_display().lower()}.")
            return redirect(claim)
    claim.refresh_from_db()
    return _claim_page(request, claim, decision_form=form)


@login_required
@require_POST
def claim_step(request: HttpRequest, claim_uuid: Any) -> HttpResponse:
    claim = actions.get_claim(request.user, claim_uuid, "remedies.fulfil_claim")
    done = set(claim.events.filter(kind=choices.EventKind.STEP).values_list("step", flat=True))
    form = StepForm(request.POST, request.FILES, claim=claim, done=done)
    if form.is_valid():
        step = form.cleaned_data["step"]
        try:
            actions.do_record_step(
                request.user, claim, step, form.step_data(), form.cleaned_data["proof"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{choices.Step(step).label} recorded.")
            return redirect(claim)
    return _claim_page(request, claim, step_form=form)


def _private_file(field: Any, name: str) -> FileResponse:
    """A claim's file for staff only, never cached by a shared proxy."""
    if not field:
        raise Http404("No file.")
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing from storage.") from exc
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type, filename=name)
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def claim_evidence(request: HttpRequest, claim_uuid: Any) -> FileResponse:
    claim = actions.get_claim(request.user, claim_uuid)
    suffix = (claim.evidence.name or "").rpartition(".")[2] if claim.evidence else "bin"
    return _private_file(claim.evidence, f"{claim.number}-evidence.{suffix}")


@login_required
def event_proof(request: HttpRequest, claim_uuid: Any, event_id: int) -> FileResponse:
    claim = actions.get_claim(request.user, claim_uuid)
    event = get_object_or_404(ClaimEvent, claim=claim, pk=event_id)
    suffix = (event.proof.name or "").rpartition(".")[2] if event.proof else "bin"
    return _private_file(event.proof, f"{claim.number}-{event.step or 'proof'}.{suffix}")
