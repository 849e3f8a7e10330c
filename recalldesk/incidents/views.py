"""Console pages of incidents: list, detail, scope editor and ledger."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from recalldesk.audit.models import ChangeRecord
from recalldesk.incidents import actions, choices
from recalldesk.incidents.forms import IncidentForm, ScopeForm
from recalldesk.incidents.models import Incident, LedgerEntry, Scope
from recalldesk.incidents.scope_text import parse_scope_text
from recalldesk.registry.choices import PartyRole
from recalldesk.remedies.actions import completion

LEDGER_PAGE_SIZE = 50


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    actions.check_perm(request.user, "incidents.view_incident")
    incidents = Incident.objects.select_related("owner").annotate(
        parties=Count("ledger", filter=Q(ledger__status=choices.LedgerStatus.AFFECTED)),
    )
    status = request.GET.get("status", "")
    if status in choices.IncidentStatus.values:
        incidents = incidents.filter(status=status)
    return render(
        request,
        "incidents/list.html",
        {
            "incidents": incidents,
            "status": status,
            "statuses": choices.IncidentStatus.choices,
            "can_add": request.user.has_perm("incidents.add_incident"),
        },
    )


@login_required
def incident_create(request: HttpRequest) -> HttpResponse:
    actions.check_perm(request.user, "incidents.add_incident")
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        incident = actions.do_create_incident(request.user, form.save(commit=False))
        messages.success(request, f"{incident.reference} opened. Now say what it affects.")
        return redirect("incidents:scope", incident.uuid)
    return render(request, "incidents/form.html", {"form": form, "incident": None})


@login_required
def incident_edit(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = actions.get_incident(request.user, incident_uuid, "incidents.change_incident")
    before = actions.snapshot(incident)
    form = IncidentForm(request.POST or None, instance=incident)
    if request.method == "POST" and form.is_valid():
        actions.do_update_incident(request.user, form.save(commit=False), before)
        messages.success(request, "Incident saved.")
        return redirect(incident)
    return render(request, "incidents/form.html", {"form": form, "incident": incident})


def ledger_counts(incident: Incident) -> dict[str, Any]:
    """The headline figures of an incident's ledger, in two queries."""
    affected = Q(status=choices.LedgerStatus.AFFECTED)
    totals = LedgerEntry.objects.filter(incident=incident).aggregate(
        parties=Count("id", filter=affected),
        consumers=Count("id", filter=affected & Q(party__role=PartyRole.CONSUMER)),
        consignees=Count("id", filter=affected & Q(party__role=PartyRole.CONSIGNEE)),
        units=Sum("units", filter=affected),
        removed=Count("id", filter=Q(status=choices.LedgerStatus.REMOVED)),
    )
    totals["units"] = totals["units"] or 0
    entries = LedgerEntry.objects.affected().filter(incident=incident)
    by_region: list[dict[str, Any]] = [
        dict(row)
        for row in entries.values("party__country", "party__region")
        .annotate(parties=Count("id"), units=Sum("units"))
        .order_by("-parties")[:12]
    ]
    top = by_region[0]["parties"] if by_region else 0
    for row in by_region:
        row["share"] = round(100 * row["parties"] / top) if top else 0
    totals["by_region"] = by_region
    return totals


@login_required
def incident_detail(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = actions.get_incident(request.user, incident_uuid)
    scope = Scope.objects.prefetch_related("products").get(incident=incident)
    last_run = incident.match_runs.first()
    can_see_ledger = request.user.has_perm("incidents.view_ledger")
    context = {
        "incident": incident,
        "scope": scope,
        "lot_count": scope.lots.count(),
        "serial_ranges": list(scope.serial_ranges.all()[:20]),
        "last_run": last_run,
        "counts": ledger_counts(incident) if can_see_ledger else None,
        "completion": completion(incident) if can_see_ledger else None,
        "history": ChangeRecord.for_object(incident)[:30],
        "next_statuses": [
            (value, choices.IncidentStatus(value).label)
            for value in choices.STATUS_NEXT[choices.IncidentStatus(incident.status)]
        ],
        "milestones": [(m.label, getattr(incident, m.value)) for m in choices.Milestone],
        "can_change": request.user.has_perm("incidents.change_incident"),
        "can_edit_scope": request.user.has_perm("incidents.edit_scope"),
        "refresh": bool(last_run and last_run.status in ("queued", "running")),
    }
    return render(request, "incidents/detail.html", context)


@login_required
@require_POST
def incident_status(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = actions.get_incident(request.user, incident_uuid, "incidents.change_incident")
    try:
        actions.do_change_status(
            request.user, incident, request.POST.get("status", ""), request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Status is now {incident.get_status_display().lower()}.")
    return redirect(incident)


def _scope_initial(scope: Scope) -> dict[str, Any]:
    return {
        "products": "\n".join(p.gtin or p.sku for p in scope.products.all()),
        "all_units": scope.all_units,
        "lots": scope.lots_text,
        "serials": scope.serials_text,
        "date_basis": scope.date_basis,
        "date_from": scope.date_from,
        "date_to": scope.date_to,
        "regions": ", ".join(scope.regions),
        "postcodes": ", ".join(scope.postcodes),
        "services": ", ".join(scope.services),
        "areas": ", ".join(scope.areas),
        "accounts": "\n".join(scope.accounts),
        "window_start": scope.window_start,
        "window_end": scope.window_end,
    }


def _notice_initial(
    form_data: dict[str, Any], notice: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Fill the scope boxes from a pasted notice; returns the data and what was not read."""
    parsed = parse_scope_text(notice)
    data = dict(form_data)

    def add(field: str, lines: list[str]) -> None:
        existing = [line for line in (data.get(field) or "").splitlines() if line.strip()]
        data[field] = "\n".join(dict.fromkeys(existing + lines))

    add("lots", parsed.lots + [r.text for r in parsed.lot_ranges])
    add("serials", parsed.serials + [r.text for r in parsed.serial_ranges])
    add("products", parsed.gtins)
    if parsed.all_lots:
        data["all_units"] = "on"
    windows = parsed.date_windows
    if windows:
        window = windows[0]
        data["date_basis"] = (
            choices.DateBasis.ACQUIRED
            if window.kind in ("sold", "acquired", "distributed")
            else choices.DateBasis.MANUFACTURED
        )
        data["date_from"] = window.start.isoformat() if window.start else ""
        data["date_to"] = window.end.isoformat() if window.end else ""
    notes = [(u.text, u.reason) for u in parsed.unparsed]
    notes += [
        (w.text, "only the first date window is used; set this one by hand") for w in windows[1:]
    ]
    found = parsed.lots or parsed.lot_ranges or parsed.serials or parsed.serial_ranges
    if not (found or parsed.all_lots or notes):
        notes.append((notice[:80], "no lot, serial or date could be read here"))
    return data, notes


@login_required
def incident_scope(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = actions.get_incident(request.user, incident_uuid, "incidents.view_incident")
    scope = Scope.objects.get(incident=incident)
    can_edit = request.user.has_perm("incidents.edit_scope")
    counts = None
    notes: list[tuple[str, str]] = []
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Your role cannot change a scope.")
        intent = request.POST.get("intent", "preview")
        if intent == "read-notice":
            data, notes = _notice_initial(request.POST.dict(), request.POST.get("notice", ""))
            form = ScopeForm(data=data, incident=incident)
            form.is_valid()
        else:
            form = ScopeForm(request.POST, incident=incident)
            if form.is_valid():
                if intent == "save":
                    try:
                        run = actions.do_save_scope(
                            request.user,
                            incident,
                            form.cleaned_data,
                            {
                                "lots": request.POST.get("lots", ""),
                                "serials": request.POST.get("serials", ""),
                            },
                        )
                    except PermissionDenied as exc:
                        messages.error(request, str(exc))
                    else:
                        messages.success(
                            request,
                            f"Scope saved (v{run.scope_version}). The ledger is being rebuilt.",
                        )
                        return redirect(incident)
                counts = actions.preview_scope(request.user, incident, form.cleaned_data)
    else:
        form = ScopeForm(initial=_scope_initial(scope), incident=incident)
    return render(
        request,
        "incidents/scope.html",
        {
            "incident": incident,
            "scope": scope,
            "form": form,
            "counts": counts,
            "notes": notes,
            "can_edit": can_edit,
            "notice": request.POST.get("notice", ""),
        },
    )


def filtered_ledger(
    incident: Incident, params: Any
) -> tuple[QuerySet[LedgerEntry], dict[str, str]]:
    """The ledger rows the filters in ``params`` ask for, and the filters as read."""
    filters = {
        "status": params.get("status", choices.LedgerStatus.AFFECTED),
        "role": params.get("role", ""),
        "country": params.get("country", "").upper()[:2],
        "region": params.get("region", ""),
        "q": params.get("q", "").strip()[:100],
    }
    rows = LedgerEntry.objects.filter(incident=incident).select_related("party")
    if filters["status"] in choices.LedgerStatus.values:
        rows = rows.filter(status=filters["status"])
    if filters["role"] in PartyRole.values:
        rows = rows.filter(party__role=filters["role"])
    if filters["country"]:
        rows = rows.filter(party__country=filters["country"])
    if filters["region"]:
        rows = rows.filter(party__region=filters["region"])
    if filters["q"]:
        q = filters["q"]
        rows = rows.filter(
            Q(party__name__icontains=q)
            | Q(party__email__iexact=q)
            | Q(party__external_id=q)
            | Q(party__phone=q)
            | Q(party__postcode__iexact=q)
        )
    return rows.order_by("id"), filters


def _ledger_completion(incident: Incident) -> dict[str, int]:
    """The ledger page's headline of units and parties corrected, in one query."""
    done = (
        LedgerEntry.objects.affected()
        .filter(incident=incident)
        .aggregate(
            total=Coalesce(Sum("units"), 0),
            corrected=Coalesce(Sum("units_corrected"), 0),
            parties=Count("id"),
            completed=Count("id", filter=Q(units__gt=0, units_corrected__gte=F("units"))),
        )
    )
    return {
        "units": done["total"],
        "units_corrected": done["corrected"],
        "parties": done["parties"],
        "parties_completed": done["completed"],
    }


@login_required
def incident_ledger(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = actions.get_incident(request.user, incident_uuid, "incidents.view_ledger")
    rows, filters = filtered_ledger(incident, request.GET)
    page = Paginator(rows, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    from recalldesk.outreach.ledger import notice_states

    states = notice_states(incident.pk, [entry.party_id for entry in page.object_list])
    for entry in page.object_list:
        entry.notice = states.get(entry.party_id)  # type: ignore[attr-defined]
    return render(
        request,
        "incidents/ledger.html",
        {
            "incident": incident,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "statuses": choices.LedgerStatus.choices,
            "roles": PartyRole.choices,
            "can_export": request.user.has_perm("incidents.export_ledger"),
            "completion": _ledger_completion(incident),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


LEDGER_CSV_COLUMNS = [
    "party_external_id",
    "role",
    "name",
    "email",
    "phone",
    "country",
    "region",
    "postcode",
    "language",
    "status",
    "units",
    "holdings",
    "first_affected_at",
    "units_corrected",
    "corrected_at",
]


def _ledger_csv(rows: QuerySet[LedgerEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(LEDGER_CSV_COLUMNS)
    for entry in rows.iterator(chunk_size=5000):
        party = entry.party
        yield writer.writerow(
            [
                party.external_id,
                party.role,
                party.name,
                party.email,
                party.phone,
                party.country,
                party.region,
                party.postcode,
                party.language,
                entry.status,
                entry.units,
                entry.holdings_count,
                entry.first_affected_at.isoformat(),
                entry.units_corrected,
                entry.corrected_at.isoformat() if entry.corrected_at else "",
            ]
        )


@login_required
def incident_ledger_csv(request: HttpRequest, incident_uuid: Any) -> StreamingHttpResponse:
    incident = actions.get_incident(request.user, incident_uuid, "incidents.export_ledger")
    rows, _ = filtered_ledger(incident, request.GET)
    response = StreamingHttpResponse(_ledger_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{incident.reference}-ledger.csv"'
    return response


@login_required
@require_POST
def incident_rematch(request: HttpRequest, incident_uuid: Any) -> HttpResponse:
    incident = actions.get_incident(request.user, incident_uuid, "incidents.edit_scope")
    actions.do_request_match(request.user, incident)
    messages.success(request, "The ledger is being rebuilt from the scope.")
    return redirect(incident)
