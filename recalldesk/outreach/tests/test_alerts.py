"""Team alerts go out through apprise, and a failing alert service never breaks the caller.

Apprise's JSON service posts with ``requests``, so ``responses`` stands in for the team's
endpoint: the network edge, and nothing more, is mocked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from recalldesk.outreach.alerts import alert_team

ALERT_ENDPOINT = "http://alerts.recalldesk.example/team"
ALERT_URL = "json://alerts.recalldesk.example/team"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_it_sends_the_title_and_body_to_the_configured_services(
    settings: Any, mocked: responses.RequestsMock
) -> None:
    settings.TEAM_ALERT_URLS = [ALERT_URL]
    mocked.post(ALERT_ENDPOINT, status=200)

    sent = alert_team("Wave 3 of RC-2026-0001 stopped", "412 deliveries failed for good.")

    assert sent is True
    assert len(mocked.calls) == 1
    body = mocked.calls[0].request.body
    assert isinstance(body, str | bytes)
    payload = json.loads(body)
    assert payload["title"] == "Wave 3 of RC-2026-0001 stopped"
    assert payload["message"] == "412 deliveries failed for good."


def test_it_sends_to_the_urls_it_is_given_instead_of_the_settings(
    settings: Any, mocked: responses.RequestsMock
) -> None:
    settings.TEAM_ALERT_URLS = ["json://elsewhere.recalldesk.example/never"]
    mocked.post(ALERT_ENDPOINT, status=200)

    assert alert_team("Test alert", "It works.", urls=[ALERT_URL]) is True

    assert [call.request.url for call in mocked.calls] == [ALERT_ENDPOINT]


def test_it_returns_false_when_no_service_is_configured(
    settings: Any, mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TEAM_ALERT_URLS = []

    with caplog.at_level(logging.WARNING, logger="recalldesk.outreach.alerts"):
        assert alert_team("Nobody listens", "Nothing configured.") is False

    assert len(mocked.calls) == 0
    assert "no TEAM_ALERT_URLS" in caplog.text


def test_it_returns_false_and_logs_the_service_answer_when_the_service_fails(
    settings: Any, mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TEAM_ALERT_URLS = [ALERT_URL]
    mocked.post(ALERT_ENDPOINT, status=503, body="maintenance")

    with caplog.at_level(logging.ERROR, logger="recalldesk.outreach.alerts"):
        sent = alert_team("Wave stopped", "Look at the console.")

    assert sent is False
    assert len(mocked.calls) >= 1
    ours = [r.getMessage() for r in caplog.records if r.name == "recalldesk.outreach.alerts"]
    assert len(ours) == 1
    assert "Wave stopped" in ours[0]
    assert "503" in ours[0]


def test_it_returns_false_when_the_service_cannot_be_reached(
    settings: Any, mocked: responses.RequestsMock
) -> None:
    settings.TEAM_ALERT_URLS = [ALERT_URL]
    mocked.post(ALERT_ENDPOINT, body=requests.ConnectionError("connection refused"))

    assert alert_team("Wave stopped", "Look at the console.") is False


def test_it_returns_false_for_a_url_apprise_does_not_understand(
    settings: Any, mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TEAM_ALERT_URLS = ["nosuchservice://token@somewhere"]

    with caplog.at_level(logging.ERROR, logger="recalldesk.outreach.alerts"):
        assert alert_team("Wave stopped", "Look at the console.") is False

    assert len(mocked.calls) == 0
    ours = [r.getMessage() for r in caplog.records if r.name == "recalldesk.outreach.alerts"]
    assert any("not understood" in message for message in ours)
    # The URL may carry a service token: our own log names only its scheme.
    assert not any("token" in message for message in ours)
