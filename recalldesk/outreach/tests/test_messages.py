"""Messages: rendering per channel and language, the compliance gate and approval rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from recalldesk.audit.models import ChangeRecord
from recalldesk.outreach import actions, choices
from recalldesk.outreach.channels import CHANNELS
from recalldesk.outreach.rendering import compile_channel, sample_values
from recalldesk.outreach.tests import builders as ob

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(coordinator):
    return ob.recall_with_ledger(coordinator, [{"name": "Ann Owner", "email": "ann@example.com"}])


def test_it_renders_every_channel_in_the_partys_language_with_their_values(coordinator, incident):
    version = ob.draft(coordinator, incident, sheets={"en": ob.CLEAN_EN, "de": ob.CLEAN_DE})
    values = {**sample_values(version), "name": "Jörg <Müller>", "units": "1 × Heater, lot L1230"}
    for kind in CHANNELS:
        for language in ("en", "de"):
            parts = compile_channel(version, language, kind).fill(values)
            text = parts.get("text") or parts.get("html", "")
            assert text, (kind, language)
            if kind not in ("sms",):
                assert "Jörg" in text or "J&ouml;rg" in text or "Jörg" in parts.get("html", "")
    email_de = compile_channel(version, "de", "email").fill(values)
    assert email_de["subject"].startswith(ob.CLEAN_DE["headline"])
    assert "Ihre betroffenen Einheiten" in email_de["html"]
    assert "Jörg &lt;Müller&gt;" in email_de["html"], "personal values are escaped in HTML"
    assert "Jörg <Müller>" in email_de["text"]
    sms = compile_channel(version, "en", "sms").fill(values)["text"]
    assert ob.CLEAN_EN["sms"] in sms and values["link"] in sms and len(sms) <= 306


def test_a_language_without_a_sheet_falls_back_to_the_incident_default(coordinator, incident):
    version = ob.draft(coordinator, incident)
    parts = compile_channel(version, "fr", "email").fill(sample_values(version))
    assert parts["subject"].startswith(ob.CLEAN_EN["headline"])


def test_fields_can_use_the_partys_values(coordinator, incident):
    sheet = {**ob.CLEAN_EN, "instructions": "{{ name }}, stop using these: {{ units }}"}
    version = ob.draft(coordinator, incident, sheets={"en": sheet})
    text = compile_channel(version, "en", "email").fill(
        {"name": "Ann", "units": "1 × Heater, lot L1230", "link": "L"}
    )["text"]
    assert "Ann, stop using these: 1 × Heater, lot L1230" in text


def test_it_refuses_a_broken_template_naming_language_and_field(coordinator, incident):
    sheet = {**ob.CLEAN_EN, "hazard": "Fire {% if name %}risk"}
    with pytest.raises(ValidationError) as err:
        ob.draft(coordinator, incident, sheets={"en": sheet})
    assert "[en] hazard: the template is broken" in " ".join(err.value.messages)
    sheet = {**ob.CLEAN_EN, "remedy": "Refund for {{ customer.card }}"}
    with pytest.raises(ValidationError) as err:
        ob.message(coordinator, incident, sheets={"en": sheet})
    assert "unknown value {{ customer.card }}" in " ".join(err.value.messages)
    assert not incident.messages.exists()


def test_the_author_cannot_approve_their_own_version(coordinator, approver, incident):
    coordinator.groups.add(*approver.groups.all())
    coordinator = type(coordinator).objects.get(pk=coordinator.pk)  # a fresh permission cache
    version = ob.draft(coordinator, incident)
    actions.do_submit(coordinator, version)
    with pytest.raises(PermissionDenied, match="author"):
        actions.do_approve(coordinator, version)
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.IN_REVIEW


def test_a_failing_check_blocks_approval_unless_a_reason_is_written(
    coordinator, approver, incident
):
    sheet = {**ob.CLEAN_EN, "hazard": "Out of an abundance of caution we are recalling it."}
    version = ob.draft(coordinator, incident, sheets={"en": sheet})
    findings = actions.do_submit(coordinator, version)
    assert any(not f.ok and f.field == "hazard" for f in findings)
    with pytest.raises(ValidationError, match="Compliance check failed"):
        actions.do_approve(approver, version)
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.IN_REVIEW
    actions.do_approve(approver, version, "Legal asked for this wording; reviewed 2026-11-23.")
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.APPROVED
    assert version.override_reason.startswith("Legal asked")
    row = ChangeRecord.for_object(version.message).filter(action="status").first()
    assert row is not None and "overridden: Legal asked" in row.note and row.actor == approver


def test_editing_an_approved_version_makes_a_new_one_needing_approval(
    coordinator, approver, incident
):
    version = ob.approved(coordinator, approver, incident)
    edited = {**ob.CLEAN_EN, "remedy": "A full refund of the price you paid."}
    new = actions.do_edit_message(coordinator, version.message, {"en": edited})
    assert new.number == 2 and new.status == choices.VersionStatus.DRAFT
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.APPROVED
    assert version.fact_sheets.get().remedy == ob.CLEAN_EN["remedy"]
    diff = actions.diff_sheets(actions.sheets_of(version), actions.sheets_of(new))
    assert [d["field"] for d in diff] == ["remedy"]
    assert "+A full refund of the price you paid." in diff[0]["lines"]
    actions.do_submit(coordinator, new)
    actions.do_approve(approver, new)
    version.refresh_from_db()
    assert version.status == choices.VersionStatus.SUPERSEDED


def test_a_missing_translation_fails_the_check(coordinator, incident):
    actions.policy_for(incident)
    incident.outreach.languages = ["de", "fr"]
    incident.outreach.save()
    version = ob.draft(coordinator, incident, sheets={"en": ob.CLEAN_EN, "de": ob.CLEAN_DE})
    failing = [f for f in actions.run_check(version) if not f.ok]
    assert any(f.language == "fr" for f in failing)


def test_an_outsider_cannot_write_messages(outsider, coordinator, incident):
    with pytest.raises(PermissionDenied):
        ob.message(outsider, incident)
