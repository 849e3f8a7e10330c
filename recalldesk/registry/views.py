from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recalldesk.registry.models import ImportRun


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    runs = ImportRun.objects.select_related("created_by")[:50]
    return render(request, "registry/imports.html", {"runs": runs})
