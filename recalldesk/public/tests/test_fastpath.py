"""The page and the lookup answered in front of Django (fastpath.py): the same bytes and headers
as Django's, the same limits and counts, and Django's answer whenever anything differs."""

from __future__ import annotations

import gc
import io
import sys
from collections.abc import Iterator, Sequence
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import close_old_connections
from django.http import QueryDict

from recalldesk.incidents.tests.test_browser import browser
from recalldesk.public import actions, fastpath, heap, limits, views
from recalldesk.public.models import LookupCount
from recalldesk.public.pages import forget
from recalldesk.public.tests.builders import published_recall

pytestmark = pytest.mark.django_db
__all__ = ["browser"]

Answer = tuple[str, list[tuple[str, str]], bytes]


def forget_counts() -> None:
    """Drop the counts of earlier tests' lookups, not yet written: their incidents are gone."""
    with views._counts_lock:
        views._counts.clear()


class Counted:
    """Django's handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.app = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def django_app() -> Iterator[Counted]:
    # As Django's test client does: a request's end must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    fastpath.route.cache_clear()
    forget_counts()
    yield Counted()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def surge(django_app: Counted) -> fastpath.SurgePath:
    return fastpath.SurgePath(django_app)


@pytest.fixture
def incident(coordinator, approver):
    return published_recall(coordinator, approver)


@pytest.fixture
def slug(incident) -> str:
    return incident.public.slug


def environ(path: str, query: str = "", method: str = "GET", **extra: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multiprocess": True,
        "wsgi.multithread": False,
        "wsgi.run_once": False,
        **extra,
    }


def call(app: Any, path: str, query: str = "", **extra: Any) -> Answer:
    started: list[Any] = []
    result = app(environ(path, query, **extra), lambda s, h, e=None: started.extend([s, h]))
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started[0], list(started[1]), body


def test_the_page_from_memory_is_the_page_django_sends(surge, django_app, slug):
    for path in (f"/status/{slug}/", f"/status/{slug}/de/"):
        first = call(surge, path)
        calls = django_app.calls
        again = call(surge, path)
        assert django_app.calls == calls  # answered from memory
        assert again == first == call(django_app, path)
        assert first[0] == "200 OK"
        assert ("Cache-Control", "public, max-age=30") in first[1]
        assert ("X-Frame-Options", "DENY") in first[1]
    assert b"Produktsicherheitsr\xc3\xbcckruf" in call(surge, f"/status/{slug}/de/")[2]


def test_a_page_django_redirects_or_refuses_stays_djangos(surge, django_app, slug):
    call(surge, f"/status/{slug}/")
    calls = django_app.calls
    assert call(surge, f"/status/{slug}/fr/")[0].startswith("302")  # no French sheet
    assert call(surge, "/status/nothing-here/")[0].startswith("404")
    assert call(surge, f"/status/{slug}/", method="HEAD")[0] == "200 OK"
    assert call(surge, f"/status/{slug}/", HTTP_HOST="evil.example.com")[0].startswith("400")
    assert django_app.calls == calls + 4


def test_a_new_version_of_the_page_is_read_again(surge, coordinator, approver, incident, slug):
    call(surge, f"/status/{slug}/")
    assert b"Replacements ship Monday." not in call(surge, f"/status/{slug}/")[2]
    update = actions.do_write_update(
        coordinator,
        incident,
        {"en": {"resolved": "Replacements ship Monday.", "in_progress": "", "take_part": ""}},
        incident.created_at.replace(year=2100),
    )
    actions.do_submit_update(coordinator, update)
    actions.do_publish_update(approver, update)
    forget(slug)  # as PUBLIC_VERSION_TTL passing does
    assert b"Replacements ship Monday." in call(surge, f"/status/{slug}/")[2]


GTIN = "09506000134352"  # a valid one; the recall's product has none


def lookups(gtin: str = GTIN) -> list[dict[str, str]]:
    return [
        {"lot": "L1230"},
        {"lot": "l1230", "lang": "de"},
        {"gtin": gtin, "lot": "Z999"},
        {"gtin": "123"},
        {"code": f"(01){gtin.zfill(14)}(10)L1230"},
        {"code": "(01)0950600013435"},
        {"lot": '<script>alert("x")</script>'},
        {},
        {"lang": "xx"},
    ]


def test_a_lookup_from_memory_is_the_answer_django_sends(surge, django_app, incident, slug):
    path = f"/status/{slug}/lookup/"
    for fields in lookups():
        query = urlencode(fields)
        expected = call(django_app, path, query)
        calls = django_app.calls
        assert call(surge, path, query) == expected
        if django_app.calls == calls + 1:  # the first of its kind: Django's, and kept
            assert call(surge, path, query) == expected
        assert django_app.calls <= calls + 1
    assert call(surge, path, "lot=L1230&lot=Z999") == call(django_app, path, "lot=L1230&lot=Z999")
    answered = call(surge, path, "lot=L1230")
    assert b"Yes, this unit is affected." in answered[2]
    assert b"<script>alert" not in call(surge, path, urlencode(lookups()[6]))[2]


def test_each_lookup_is_counted_once_whichever_path_answers(surge, django_app, incident, slug):
    path = f"/status/{slug}/lookup/"
    for _ in range(3):
        call(surge, path, "lot=L1230")
        call(django_app, path, "lot=Z999")
    call(surge, path, "gtin=123")
    views.flush_counts()
    counts = LookupCount.objects.filter(incident=incident).values_list("outcome", "count")
    assert sorted(counts) == [("affected", 3), ("not_affected", 3), ("unreadable", 1)]
    call(surge, path, "lot=L1230")
    views.flush_counts()
    assert LookupCount.objects.get(incident=incident, outcome="affected").count == 4


def test_lookups_are_rate_limited_per_address_on_both_paths(surge, django_app, slug, settings):
    settings.PUBLIC_LOOKUP_RATE = "3/m"
    path = f"/status/{slug}/lookup/"
    codes = [call(surge, path, "lot=L1230")[0][:3] for _ in range(3)]
    refused = call(surge, path, "lot=L1230")
    assert codes == ["200", "200", "200"] and refused[0].startswith("429")
    assert b"Too many requests" in refused[2]
    assert call(django_app, path, "lot=L1230")[0].startswith("429")
    assert call(surge, path, "lot=L1230", REMOTE_ADDR="10.0.0.9")[0] == "200 OK"


def test_cookies_the_middleware_would_answer_go_to_django(surge, django_app, slug):
    path = f"/status/{slug}/"
    call(surge, path)
    calls = django_app.calls
    good = "a" * 32
    assert call(surge, path, HTTP_COOKIE=f"csrftoken={good}; sessionid={'b' * 32}")[0] == "200 OK"
    assert django_app.calls == calls
    status, headers, _ = call(surge, path, HTTP_COOKIE="csrftoken=bad")
    assert status == "200 OK" and any(name == "Set-Cookie" for name, _ in headers)
    status, headers, _ = call(surge, path, HTTP_COOKIE="sessionid=short")
    assert any(name == "Set-Cookie" and "sessionid=" in value for name, value in headers)
    assert django_app.calls == calls + 2


def test_settings_that_make_a_middleware_read_each_request_turn_it_off(settings):
    fastpath._config.clear()
    assert fastpath.config().enabled
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "example.RequestIdMiddleware"]
    assert not fastpath.config().enabled
    settings.MIDDLEWARE = settings.MIDDLEWARE[:-1]
    settings.PREPEND_WWW = True
    assert not fastpath.config().enabled
    settings.PREPEND_WWW = False
    settings.DEBUG = True
    assert not fastpath.config().enabled


@pytest.mark.parametrize(
    "raw",
    [
        "lot=L1&lot=L2",
        "lot=&gtin=",
        "lot=a+b%20c",
        "lot=%E9t%C3%A9",
        "lot=L1;gtin=2",
        "code=%2801%29095%2810%29L1&lang=de",
        "lot=caf\xc3\xa9",  # raw UTF-8 bytes, as a server puts them in the environ
        "lot=caf\xe9",  # raw Latin-1 bytes
        "=x&lot",
    ],
)
def test_the_query_is_read_as_django_reads_it(raw):
    env = environ("/", raw)
    read = fastpath.query(env, fastpath.Config.read())
    expected = WSGIRequest(dict(env)).GET
    assert isinstance(expected, QueryDict)
    assert read == {key: expected.get(key) for key in expected}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"wsgi.url_scheme": "https"},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_X_FORWARDED_PROTO": "https, http"},
        {"HTTP_X_FORWARDED_PROTO": "http", "wsgi.url_scheme": "https"},
    ],
)
@pytest.mark.parametrize("proxy", [None, ("HTTP_X_FORWARDED_PROTO", "https")])
def test_the_scheme_is_read_as_django_reads_it(extra, proxy, settings):
    settings.SECURE_PROXY_SSL_HEADER = proxy
    env = environ("/", **extra)
    assert fastpath.is_secure(env, fastpath.config()) == WSGIRequest(dict(env)).is_secure()


@pytest.mark.parametrize(
    "host", ["testserver", "testserver:8000", "127.0.0.1", "[::1]:80", "evil.com", "bad host", ""]
)
def test_the_host_is_checked_as_django_checks_it(host, settings):
    from django.core.exceptions import DisallowedHost

    try:
        WSGIRequest(environ("/", HTTP_HOST=host)).get_host()
        allowed = True
    except DisallowedHost:
        allowed = False
    assert fastpath.host_allowed(host, tuple(settings.ALLOWED_HOSTS)) == allowed


def test_counts_here_limit_as_django_ratelimit_does(rf, settings):
    from django_ratelimit.core import is_ratelimited

    request = rf.get("/", REMOTE_ADDR="2001:db8::1")
    other = rf.get("/", REMOTE_ADDR="2001:db8::2")  # the same /64
    mine = [limits.is_limited(r, "g", "3/m") for r in (request, other, request, other)]
    theirs = [
        is_ratelimited(r, group="g", key="ip", rate="3/m", increment=True)
        for r in (request, other, request, other)
    ]
    assert mine == theirs == [False, False, False, True]
    settings.RATELIMIT_ENABLE = False
    assert not limits.is_limited(request, "g", "3/m")


def test_a_cache_shared_between_workers_keeps_counting_in_the_cache(rf, settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        }
    }
    assert not limits.counted_here()
    request = rf.get("/", REMOTE_ADDR="192.0.2.7")
    assert [limits.is_limited(request, "g", "2/m") for _ in range(3)] == [False, False, True]
    assert not limits._windows


def test_an_unreadable_code_is_refused_the_same_each_time():
    from recalldesk.public.lookup import parse_query

    messages = []
    for _ in range(2):
        with pytest.raises(ValueError, match="cannot be read") as caught:
            parse_query(code="(01)123")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


@pytest.fixture
def surge_server(transactional_db) -> Iterator[tuple[str, list[str]]]:
    """A live server answering through the fast path; yields its address and the paths of the
    requests that reached Django."""
    from django.db import connections
    from django.test.testcases import LiveServerThread

    reached: list[str] = []
    forget_counts()
    fastpath.route.cache_clear()

    def app(handler: Any) -> fastpath.SurgePath:
        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            reached.append(environ["PATH_INFO"])
            return handler(environ, start_response)

        return fastpath.SurgePath(counted)

    # As Django's live server does: an in-memory SQLite database is shared with its thread.
    every: Sequence[Any] = connections.all()
    shared = {c.alias: c for c in every if c.vendor == "sqlite" and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    # Django calls its ``static_handler`` with its handler: here, to put the fast path on it.
    thread = LiveServerThread("127.0.0.1", cast(Any, app), shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}", reached
    thread.terminate()
    for connection in shared.values():
        connection.dec_thread_sharing()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_public_reads_the_page_and_looks_up_through_the_fast_path(
    surge_server, browser, coordinator, approver, settings
):
    # surge_server first: the browser closes its connections before the server stops.
    settings.PUBLIC_VERSION_TTL = 600  # no version check in Django while the test runs
    base, reached = surge_server
    slug = published_recall(coordinator, approver).public.slug
    page = browser.new_page()
    for _ in range(3):
        page.goto(f"{base}/status/{slug}/")
        page.get_by_text("Product safety recall: Northwind 2000 W fan heater").first.wait_for()
    answers = [("L1230", "Yes, this unit is affected."), ("Z999", "No, this unit is not")]
    for lot, heading in answers:
        for _ in range(2):
            page.goto(f"{base}/status/{slug}/")
            page.get_by_label("and the lot code").fill(lot)
            page.get_by_role("button", name="Check").click()
            page.get_by_text(heading).wait_for()
            assert page.get_by_label("and the lot code").input_value() == lot
    # Django answered the first page and the first lookup of each answer (and, at most once
    # more, one due to write the counts); the rest came from memory.
    assert reached.count(f"/status/{slug}/") == 1
    assert reached.count(f"/status/{slug}/lookup/") in (2, 3)


@pytest.fixture
def unfrozen() -> Iterator[None]:
    heap.settle()  # what earlier tests kept
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_what_django_keeps_for_a_page_is_frozen_out_of_the_collectors_way(surge, unfrozen, slug):
    views.forget_rendered()
    forget(slug)
    call(surge, f"/status/{slug}/")  # Django renders and keeps the page
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert views.kept_body(slug, "") is not None
    # Answered from memory: nothing new is kept, nothing more is frozen.
    call(surge, f"/status/{slug}/")
    assert heap.settle() is False
    assert gc.get_freeze_count() == frozen


def test_settling_freezes_only_after_something_new_was_kept(unfrozen):
    assert heap.settle() is False
    assert gc.get_freeze_count() == 0
    heap.kept()
    assert heap.settle() is True
    assert gc.get_freeze_count() > 0
    assert heap.settle() is False
