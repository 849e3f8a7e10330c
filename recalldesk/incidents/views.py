from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recalldesk.incidents.models import Incident


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = Incident.objects.select_related("owner")
    return render(request, "incidents/list.html", {"incidents": incidents})
