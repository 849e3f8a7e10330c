"""Builders for crisis-site tests: a published recall page with an approved statement."""

from __future__ import annotations

from typing import Any

from recalldesk.incidents.models import Incident
from recalldesk.outreach.tests import builders as ob
from recalldesk.public import actions
from recalldesk.public.models import PublicPage


def published_recall(
    author: Any, approver: Any, parties: list[dict[str, Any]] | None = None
) -> Incident:
    incident = ob.recall_with_ledger(
        author,
        parties if parties is not None else [{"name": "Ann Owner", "email": "ann@example.com"}],
    )
    ob.approved(author, approver, incident, sheets={"en": ob.CLEAN_EN, "de": ob.CLEAN_DE})
    page = actions.page_for(incident)
    PublicPage.objects.filter(pk=page.pk).update(published=True, phone="0800 123 456")
    return Incident.objects.get(pk=incident.pk)
