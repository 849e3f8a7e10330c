"""The public router alone on a throwaway API, for the API tests.

The API refuses every request by default, as the project's token-guarded API does: the
public router must still answer without credentials.
"""

from typing import Any

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI
from ninja.security import HttpBearer

from recalldesk.public.api import router


class RefuseAll(HttpBearer):
    """Stands in for the project's token check: nothing passes."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return None


api = NinjaAPI(title="public test", urls_namespace="public-test", auth=RefuseAll())
api.add_router("/", router)

urlpatterns = [path("api/public/", api.urls)]
