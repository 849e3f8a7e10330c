"""The demo's remedies: offers that meet the EU rule and claims at every stage."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from recalldesk.incidents.models import Incident
from recalldesk.remedies import actions
from recalldesk.remedies.models import Claim
from recalldesk.remedies.queue import standings

pytestmark = pytest.mark.django_db


def test_the_demo_recall_has_offers_and_claims_at_every_stage(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = io.StringIO()
    call_command("demo", "--customers", "300", "--holdings", "3000", stdout=out)
    incident = Incident.objects.get()
    assert "claims at every stage" in out.getvalue()
    assert actions.eu_rule_gaps(incident) == []
    statuses = set(Claim.objects.values_list("status", flat=True))
    assert {"submitted", "approved", "fulfilled"} <= statuses
    done = actions.completion(incident)
    assert 0 < done.units_corrected < done.units
    waiting = list(Claim.objects.filter(status__in=["submitted", "approved"]))
    found = standings(waiting)
    assert sorted(s.position for s in found.values())[:1] == [1]
    assert all(s.estimate is not None for s in found.values())
