"""The crisis site's two hot requests, answered in front of Django when the answer is in memory.

Under a surge nearly every request is a GET of an incident page or of the lookup, and each
worker already keeps what they answer (the page's bytes, the lookup's index and answer
shells; see views.py). Going through Django's handler to reach them cost more than the
answer: the request and response objects, nine middleware, the URL resolver, the request
signals. :class:`SurgePath` wraps the WSGI application and answers those two GETs itself, from
the same memory the views use, with the same bytes and headers Django would send; anything
else, and these two whenever any part of the answer is not in memory, goes to Django as
before. It never touches the database: when a page's version is due to be checked, a count
of lookups to be written, or a page to be rendered, the request goes to Django, which does it.

Why the answer is the same:

- the route is Django's own (the URL resolver's answer for the path, kept per path), and only
  ``views.incident_page`` and ``views.lookup`` are answered here, only for GET;
- the body is what the view would return: the same kept page, or the same lookup code
  (``views.lookup_answer``, ``views.fill_shell``) filling the same kept shell;
- the status and headers are those Django sent for the last answer of the same view to a
  request of the same scheme (seen on its way out), with the Content-Length of this body.
  The middleware in ``MIDDLEWARE`` add nothing that depends on one of these requests, except
  in the cases sent to Django: a host not in ALLOWED_HOSTS (or none in the request), a
  session or CSRF cookie that the session or CSRF middleware would answer with a cookie of
  their own, and the settings that make a middleware look at each request
  (``SECURE_SSL_REDIRECT`` redirects, which is a status other than 200, so nothing is kept;
  ``DISALLOWED_USER_AGENTS``, ``PREPEND_WWW``, ``CSRF_USE_SESSIONS``, ``DEBUG``). A
  response with a cookie or a Vary header is never replayed. A middleware not in
  :data:`KNOWN_MIDDLEWARE` turns this path off until someone checks what it does to these
  two views and adds it;
- the host, scheme, cookies and query string are read as Django reads them, with Django's
  own functions where it has them (``tests/test_fastpath.py`` holds the rest to Django's);
- the lookup is rate limited per address before it is answered, by the same counts as the
  view (``limits``): a refused one goes to Django, which refuses it (429).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.handlers.wsgi import get_bytes_from_wsgi, get_path_info, get_str_from_wsgi
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.middleware.csrf import (  # type: ignore[attr-defined]
    InvalidTokenFormat,
    _check_token_format,
)
from django.urls import Resolver404, resolve

from recalldesk.public import heap, limits, views
from recalldesk.public.lookup import built_index

KNOWN_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django_ratelimit.middleware.RatelimitMiddleware",
    }
)
PAGE = "page"
LOOKUP = "lookup"

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]


class NotInMemory(Exception):
    """This request is Django's to answer: part of the answer is not kept, or Django would
    answer it differently (a refusal, an error)."""


@dataclass(frozen=True)
class Config:
    """The settings read on every request, read once (and again when a test changes one)."""

    enabled: bool
    urlconf: str
    allowed_hosts: tuple[str, ...]
    forwarded_host: bool
    proxy_ssl_header: tuple[str, str] | None
    session_cookie: str
    csrf_cookie: str
    charset: str
    max_fields: int | None

    @classmethod
    def read(cls) -> Config:
        proxy = settings.SECURE_PROXY_SSL_HEADER
        return cls(
            enabled=not (
                settings.DEBUG
                or settings.DISALLOWED_USER_AGENTS
                or settings.PREPEND_WWW
                or settings.CSRF_USE_SESSIONS
                # Django says what is wrong with a header that is not a pair; let it.
                or (proxy and len(proxy) != 2)
                or not KNOWN_MIDDLEWARE.issuperset(settings.MIDDLEWARE)
            ),
            urlconf=settings.ROOT_URLCONF,
            allowed_hosts=tuple(settings.ALLOWED_HOSTS),
            forwarded_host=settings.USE_X_FORWARDED_HOST,
            proxy_ssl_header=(proxy[0], proxy[1]) if proxy else None,
            session_cookie=settings.SESSION_COOKIE_NAME,
            csrf_cookie=settings.CSRF_COOKIE_NAME,
            charset=settings.DEFAULT_CHARSET,
            max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )


_config: list[Config] = []


def config() -> Config:
    if not _config:
        _config.append(Config.read())
    return _config[0]


@receiver(setting_changed)
def _settings_changed(**kwargs: Any) -> None:
    _config.clear()


@functools.lru_cache(maxsize=1024)
def route(urlconf: str, path: str) -> tuple[str, str, str] | None:
    """``(PAGE or LOOKUP, slug, language)`` when Django would send ``path`` to one of the two
    views, else None. Kept per path: the resolver walks a dozen patterns to find these."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    if match.func is views.incident_page and not match.args:
        return PAGE, match.kwargs["slug"], match.kwargs.get("language", "")
    if match.func is views.lookup and not match.args:
        return LOOKUP, match.kwargs["slug"], ""
    return None


@functools.lru_cache(maxsize=256)
def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """``HttpRequest.get_host()``'s check of the host (DEBUG being off here)."""
    domain, _ = split_domain_port(host)
    return bool(domain and validate_host(domain, list(allowed)))


def is_secure(environ: dict[str, Any], conf: Config) -> bool:
    """``HttpRequest.is_secure()`` for a request from ``environ``."""
    if conf.proxy_ssl_header:
        header, secure_value = conf.proxy_ssl_header
        value = environ.get(header)
        if value is not None:
            value, *_ = value.split(",", 1)
            return bool(value.strip() == secure_value)
    return bool(environ.get("wsgi.url_scheme") == "https")


def query(environ: dict[str, Any], conf: Config) -> dict[str, str]:
    """``request.GET`` as a dict of the last value of each name, which is what its ``get()``
    answers. Too many fields (Django answers 400) is Django's to answer."""
    raw = get_bytes_from_wsgi(environ, "QUERY_STRING", "")
    try:
        text = raw.decode(conf.charset)
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding=conf.charset, max_num_fields=conf.max_fields
        )
    except ValueError as exc:
        raise NotInMemory from exc
    return dict(pairs)


def cookies_inert(environ: dict[str, Any], conf: Config) -> bool:
    """Whether the session and CSRF middleware leave the response alone for the request's
    cookies: they answer an empty or malformed session cookie by deleting it, a malformed
    CSRF cookie by setting a new one, and save every session on every request if told to."""
    if "HTTP_COOKIE" not in environ:
        return True
    cookies = parse_cookie(get_str_from_wsgi(environ, "HTTP_COOKIE", ""))
    session = cookies.get(conf.session_cookie)
    if session is not None:
        if settings.SESSION_SAVE_EVERY_REQUEST:
            return False
        if import_module(settings.SESSION_ENGINE).SessionStore(session).is_empty():
            return False
    token = cookies.get(conf.csrf_cookie)
    if token is not None:
        try:
            _check_token_format(token)
        except InvalidTokenFormat:
            return False
    return True


class SurgePath:
    """A WSGI application: the page and the lookup from memory, everything else ``app``."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        # (PAGE or LOOKUP, secure) -> (status, headers) of Django's last 200 for that view.
        self.seen: dict[tuple[str, bool], tuple[str, Headers]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        conf = config()
        found = route(conf.urlconf, get_path_info(environ) or "/") if conf.enabled else None
        if found is None:
            return self.app(environ, start_response)
        kind, slug, language = found
        secure = is_secure(environ, conf)
        try:
            host = environ.get("HTTP_HOST")
            if conf.forwarded_host and "HTTP_X_FORWARDED_HOST" in environ:
                host = environ["HTTP_X_FORWARDED_HOST"]
            if host is None or not host_allowed(host, conf.allowed_hosts):
                raise NotInMemory
            if not cookies_inert(environ, conf):
                raise NotInMemory
            seen = self.seen.get((kind, secure))
            if seen is None:
                raise NotInMemory
            body = self.page(slug, language) if kind == PAGE else self.lookup(environ, conf, slug)
        except (NotInMemory, ObjectDoesNotExist):
            return self.through(environ, start_response, (kind, secure))
        status, headers = seen
        length = str(len(body))
        start_response(
            status, [(k, length) if k.lower() == "content-length" else (k, v) for k, v in headers]
        )
        return [body]

    def page(self, slug: str, language: str) -> bytes:
        body = views.kept_body(slug, language)
        if body is None:
            raise NotInMemory
        return body

    def lookup(self, environ: dict[str, Any], conf: Config, slug: str) -> bytes:
        page = views.kept_page(slug)
        if page is None:
            raise NotInMemory

        def index() -> Any:
            # A missing scope raises ObjectDoesNotExist, as it does in the view.
            prepared = built_index(page.incident)
            if prepared is None:
                raise NotInMemory
            return prepared

        asked = query(environ, conf)
        kind, values, outcome = views.lookup_answer(page, asked, index)
        parts = views.kept_shell(
            page,
            views.active_language(asked.get("lang")),
            views.lookup_language(page, asked.get("lang")),
            kind,
        )
        if parts is None or (outcome and views.count_would_flush()):
            raise NotInMemory
        # Counted last, once: a request sent to Django before this is counted there. One
        # refused here is counted again there, which changes nothing: it is over the limit.
        # Without an address django-ratelimit fails, in Django's hands.
        if not environ.get("REMOTE_ADDR"):
            raise NotInMemory
        if limits.is_limited_wsgi(environ, views.LOOKUP_GROUP, settings.PUBLIC_LOOKUP_RATE):
            raise NotInMemory
        if outcome:
            views.count_lookup(page.incident_id, outcome, flush=False)
        return views.fill_shell(parts, values).encode(conf.charset)

    def through(
        self, environ: dict[str, Any], start_response: StartResponse, key: tuple[str, bool]
    ) -> Iterable[bytes]:
        """Django answers; its status and headers are kept when they can be replayed."""

        def seeing(status: str, headers: Headers, exc_info: Any = None) -> Any:
            names = {name.lower() for name, _ in headers}
            if status.startswith("200 ") and not names & {"set-cookie", "vary"}:
                self.seen[key] = (status, list(headers))
            return start_response(status, headers, exc_info)

        response = self.app(environ, seeing)
        # What Django just kept (a page, an index, a shell) is out of the collector's way
        # before the next request (see heap.py).
        heap.settle()
        return response
