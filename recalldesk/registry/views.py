"""Console pages of the registry: imports and their error reports."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from recalldesk.registry import importing
from recalldesk.registry.choices import ImportKind, ImportStatus
from recalldesk.registry.forms import ImportForm
from recalldesk.registry.models import ImportRun
from recalldesk.registry.tasks import run_import


@login_required
@permission_required("registry.view_importrun", raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    can_import = request.user.has_perm("registry.add_importrun")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_import:
            return HttpResponse("Your role cannot import.", status=403)
        if form.is_valid():
            try:
                with transaction.atomic():
                    run = importing.create_import(
                        request.user,
                        form.cleaned_data["kind"],
                        form.cleaned_data["file"],
                        import_valid_rows=form.cleaned_data["import_valid_rows"],
                    )
                    transaction.on_commit(lambda: run_import.enqueue(str(run.uuid)))
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                messages.success(request, f"{run.original_name} uploaded; checking its rows.")
                return redirect("registry:import_detail", run.uuid)
    runs = ImportRun.objects.select_related("created_by")[:50]
    return render(
        request,
        "registry/imports.html",
        {"form": form, "runs": runs, "can_import": can_import, "kinds": ImportKind.choices},
    )


def _get_run(run_uuid: Any) -> ImportRun:
    return get_object_or_404(ImportRun.objects.select_related("created_by"), uuid=run_uuid)


@login_required
@permission_required("registry.view_importrun", raise_exception=True)
def import_detail(request: HttpRequest, run_uuid: Any) -> HttpResponse:
    run = _get_run(run_uuid)
    busy = run.status in (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.IMPORTING)
    return render(
        request,
        "registry/import_detail.html",
        {"run": run, "problems": run.problems.all()[:200], "refresh": busy},
    )


@login_required
@permission_required("registry.view_importrun", raise_exception=True)
def import_errors_csv(request: HttpRequest, run_uuid: Any) -> StreamingHttpResponse:
    run = _get_run(run_uuid)
    response = StreamingHttpResponse(
        importing.error_report_csv(run), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="errors-{run.original_name}.csv"'
    return response


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ImportKind.values:
        return HttpResponse(f"No import template for {kind!r}.", status=404)
    response = HttpResponse(importing.template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
