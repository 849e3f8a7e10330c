"""The authenticated API for the systems that feed the registry and read ledgers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import HttpBearer

from recalldesk.public.api import router as public_router
from recalldesk.registry.api import ledger_router
from recalldesk.registry.api import router as registry_router
from recalldesk.staff.models import ApiToken

# Writing last_used_at on every call would make each read a write; once a minute is enough.
LAST_USED_EVERY = timedelta(minutes=1)


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: an unrevoked API token of an active staff user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


api = NinjaAPI(
    title="recalldesk API",
    version="1",
    urls_namespace="api",
    auth=ApiTokenAuth(),
    description="Push registry rows in batches and read incident ledgers. "
    "Every call needs an API token: `Authorization: Bearer <token>` "
    "(`manage.py issue_token USER NAME`), except the public crisis-site calls under /public.",
)
api.add_router("/", registry_router)
api.add_router("/incidents", ledger_router)
# The crisis site's read-only API: no token, only published pages and updates.
api.add_router("/public", public_router)
