"""The public page, registration, subscriptions, questions, updates and cadence."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from recalldesk.incidents.models import LedgerEntry
from recalldesk.outreach.tests.conftest import body_text
from recalldesk.public import actions, choices
from recalldesk.public.models import PublicPage, Question, Subscriber, Update
from recalldesk.public.pages import forget
from recalldesk.public.tests.builders import published_recall
from recalldesk.registry.models import Holding, Party

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(coordinator, approver):
    return published_recall(coordinator, approver)


@pytest.fixture
def slug(incident):
    return incident.public.slug


def test_the_page_shows_the_approved_statement_in_each_language(client, incident, slug):
    page = client.get(f"/status/{slug}/").content.decode()
    assert "Product safety recall: Northwind 2000 W fan heater" in page
    assert "Stop using the heater now" in page and "0800 123 456" in page
    assert 'hreflang="de"' in page
    german = client.get(f"/status/{slug}/de/").content.decode()
    assert "Produktsicherheitsrückruf" in german and '<html lang="de">' in german
    assert client.get(f"/status/{slug}/fr/").status_code == 302  # no French sheet: default


def test_an_unpublished_page_is_not_there(client, incident, slug):
    PublicPage.objects.filter(pk=incident.public.pk).update(published=False)
    forget(slug)
    assert client.get(f"/status/{slug}/").status_code == 404
    assert client.get("/status/nope/").status_code == 404


def test_the_index_lists_active_incidents(client, incident):
    assert incident.title in client.get("/status/").content.decode()


def _update(author, incident, hours=24, text="Replacement heaters ship from Monday."):
    return actions.do_write_update(
        author,
        incident,
        {"en": {"resolved": text, "in_progress": "Testing the new thermostat.", "take_part": ""}},
        timezone.now() + dt.timedelta(hours=hours),
    )


def test_an_update_needs_an_approver_who_is_not_its_author(coordinator, approver, incident):
    update = _update(coordinator, incident)
    actions.do_submit_update(coordinator, update)
    coordinator.groups.add(*approver.groups.all())
    coordinator = type(coordinator).objects.get(pk=coordinator.pk)
    with pytest.raises(PermissionDenied, match="author"):
        actions.do_publish_update(coordinator, update)
    update.refresh_from_db()
    assert update.status == choices.UpdateStatus.IN_REVIEW


def test_publishing_puts_the_update_on_the_page_and_sends_it_to_subscribers(
    client, coordinator, approver, incident, slug, smtp_server, django_capture_on_commit_callbacks
):
    live = Subscriber.objects.create(
        incident=incident,
        channel="email",
        address="sub@example.com",
        language="en",
        confirmed_at=timezone.now(),
    )
    Subscriber.objects.create(  # never confirmed: hears nothing
        incident=incident, channel="email", address="pending@example.com", language="en"
    )
    before = client.get(f"/status/{slug}/").content.decode()
    update = _update(coordinator, incident)
    actions.do_submit_update(coordinator, update)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_publish_update(approver, update)
    forget(slug)
    after = client.get(f"/status/{slug}/").content.decode()
    assert "Replacement heaters ship from Monday." in after and "Replacement" not in before
    assert [m["To"] for m in smtp_server.messages] == ["sub@example.com"]
    text = body_text(smtp_server.messages[0])
    assert "Replacement heaters ship from Monday." in text
    assert f"/status/unsubscribe/{live.token}/" in text
    assert smtp_server.messages[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_update_to_the_ledger_goes_out_as_an_approved_wave(
    coordinator, approver, incident, smtp_server, django_capture_on_commit_callbacks
):
    policy = incident.outreach
    policy.quiet_start = policy.quiet_end = dt.time(0, 0)  # no quiet hours for this test
    policy.save()
    update = actions.do_write_update(
        coordinator,
        incident,
        {"en": {"resolved": "Fixed.", "in_progress": "", "take_part": "Claim now."}},
        timezone.now() + dt.timedelta(days=1),
        notify_ledger=True,
    )
    actions.do_submit_update(coordinator, update)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_publish_update(approver, update)
    wave = incident.waves.get()
    assert wave.version.approved_by == approver and wave.total == 1
    assert smtp_server.to("ann@example.com")


def test_the_next_update_is_due_then_late_and_the_page_says_so(
    client, coordinator, approver, incident, slug
):
    update = _update(coordinator, incident, hours=1)
    actions.do_submit_update(coordinator, update)
    actions.do_publish_update(approver, update)
    due = actions.next_update_due(incident)
    assert due["soon"] and not due["late"]
    later = actions.next_update_due(incident, now=timezone.now() + dt.timedelta(hours=2))
    assert later["late"]
    Update.objects.filter(pk=update.pk).update(
        next_update_at=timezone.now() - dt.timedelta(minutes=5)
    )
    actions.bump(incident.public)
    forget(slug)
    assert "It is late" in client.get(f"/status/{slug}/").content.decode()


def test_the_cadence_is_daily_then_weekly():
    start = timezone.now()
    cadence = actions.DEFAULT_CADENCE
    assert actions.cadence_hours(cadence, start, start + dt.timedelta(days=3)) == 24
    assert actions.cadence_hours(cadence, start, start + dt.timedelta(days=20)) == 168


def test_it_refuses_an_update_without_a_future_promise(coordinator, incident):
    with pytest.raises(ValidationError, match="future"):
        _update(coordinator, incident, hours=-1)
    assert not Update.objects.exists()


def test_subscribing_needs_the_confirmation_link(
    client, incident, slug, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            f"/status/{slug}/subscribe/", {"channel": "email", "address": "new@example.com"}
        )
    assert b"Check your inbox" in page.content
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is None
    link = re.search(r"/status/confirm/(\S+)/", body_text(smtp_server.messages[0]))
    assert link is not None
    client.get(f"/status/confirm/{link.group(1)}/")
    subscriber.refresh_from_db()
    assert subscriber.active
    response = client.post(f"/status/unsubscribe/{subscriber.token}/")
    assert b"Unsubscribed" in response.content
    subscriber.refresh_from_db()
    assert not subscriber.active


def test_a_forged_unsubscribe_or_confirm_link_changes_nothing(client, incident):
    sub = Subscriber.objects.create(
        incident=incident,
        channel="email",
        address="a@example.com",
        language="en",
        confirmed_at=timezone.now(),
    )
    assert client.post("/status/unsubscribe/forged-token/").status_code == 404
    assert client.get("/status/confirm/forged-token/").status_code == 404
    sub.refresh_from_db()
    assert sub.active


def test_a_bad_address_is_named_and_nothing_stored(client, slug):
    page = client.post(f"/status/{slug}/subscribe/", {"channel": "email", "address": "not-mail"})
    assert b"not a valid email address" in page.content
    page = client.post(
        f"/status/{slug}/subscribe/", {"channel": "sms", "address": "12", "country": "US"}
    )
    assert b"not a valid phone number" in page.content
    assert not Subscriber.objects.exists()


def test_registering_an_affected_unit_adds_the_owner_to_the_ledger(
    client, incident, slug, smtp_server, django_capture_on_commit_callbacks
):
    product = incident.scope.products.get()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            f"/status/{slug}/register/",
            {
                "name": "Zoe New",
                "email": "zoe@example.com",
                "country": "US",
                "product": product.pk,
                "lot": "l1230",
                "quantity": 2,
            },
        )
    assert b"Your unit is affected" in page.content
    zoe = Party.objects.get(name="Zoe New")
    entry = LedgerEntry.objects.get(incident=incident, party=zoe)
    assert entry.units == 2
    assert Holding.objects.get(party=zoe).source == "registration"
    mail = body_text(smtp_server.to("zoe@example.com")[0])
    assert "Your unit is affected" in mail and "/a/" in mail


def test_registering_a_unit_out_of_scope_keeps_it_out_of_the_ledger(client, incident, slug):
    product = incident.scope.products.get()
    page = client.post(
        f"/status/{slug}/register/",
        {
            "name": "Yan",
            "email": "yan@example.com",
            "country": "US",
            "product": product.pk,
            "lot": "Z999",
            "quantity": 1,
        },
    )
    assert b"not affected" in page.content
    assert not LedgerEntry.objects.filter(party__name="Yan").exists()


def test_registration_without_contact_or_unit_is_refused(client, incident, slug):
    product = incident.scope.products.get()
    page = client.post(
        f"/status/{slug}/register/",
        {"name": "X", "country": "US", "product": product.pk, "lot": "L1230", "quantity": 1},
    )
    assert b"Give an email address or a mobile phone number." in page.content
    assert not Party.objects.filter(name="X").exists()


def test_script_in_any_field_is_stored_as_text_and_shown_escaped(client, incident, slug):
    attack = '<script>alert("x")</script>'
    client.post(
        f"/status/{slug}/ask/", {"name": attack, "contact": "a@example.com", "text": attack}
    )
    question = Question.objects.get()
    assert question.text == attack
    page = client.get(f"/status/{slug}/lookup/", {"lot": attack, "gtin": attack}).content.decode()
    assert "<script>alert" not in page


def test_public_forms_are_rate_limited(client, settings, slug):
    settings.PUBLIC_FORM_RATE = "3/m"
    codes = [
        client.post(
            f"/status/{slug}/ask/", {"name": "A", "contact": "a@example.com", "text": "Q"}
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert Question.objects.count() == 3


def test_staff_see_questions_and_publish_from_the_console(client, coordinator, approver, incident):
    Question.objects.create(incident=incident, name="Pat", contact="p@example.com", text="Refund?")
    client.force_login(coordinator)
    url = reverse("public_console:home", args=[incident.uuid])
    page = client.get(url).content.decode()
    assert "Refund?" in page and "Next update promised by" in page
    when = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        reverse("public_console:update_write", args=[incident.uuid]),
        {"en-resolved": "Shipping starts.", "next_update_at": when},
    )
    update = Update.objects.get()
    assert update.status == choices.UpdateStatus.IN_REVIEW
    client.force_login(approver)
    client.post(reverse("public_console:update_publish", args=[update.uuid]))
    update.refresh_from_db()
    assert update.status == choices.UpdateStatus.PUBLISHED and update.approved_by == approver
