"""Per-address rate limits on the public lookup, counted in this process when that is what the
cache would do anyway.

django-ratelimit counts in a Django cache: on every request it hashes a key, and the default
cache (LocMemCache) pickles the counter in and out under a lock, about a seventh of a lookup
under a surge. LocMemCache is private to each worker process, so counting in a dict here
gives the same limits: the same key (the client's address, masked as django-ratelimit masks
it), the same fixed windows (its own ``_get_window``, staggered per address), the same rule
(the request that takes the count past the limit, and every later one in the window, is
refused). With any other cache, which workers may share (Redis, memcached), django-ratelimit
counts as before.

One difference: LocMemCache evicts a third of its entries when it holds ``MAX_ENTRIES``, so
under traffic from thousands of addresses a minute it forgets some counts early; counts here
are dropped only when their window has passed.
"""

from __future__ import annotations

import functools
import ipaddress
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django_ratelimit.core import _get_ip, _get_window, _split_rate, is_ratelimited
from django_ratelimit.exceptions import Ratelimited

# (group, limit, period, address) -> [end of the window, requests in it]
_windows: dict[tuple[str, int, int, str], list[int]] = {}
_lock = threading.Lock()
_next_sweep = [0.0]


def counted_here() -> bool:
    """True when django-ratelimit would count in a cache private to this process."""
    if not _here:
        cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
        _here.append(isinstance(cache, LocMemCache))
    return _here[0]


# counted_here(), once: finding the cache costs a few thread-local lookups a request.
_here: list[bool] = []


@receiver(setting_changed)
def _settings_changed(setting: str, **kwargs: Any) -> None:
    if setting in ("CACHES", "RATELIMIT_USE_CACHE"):
        _here.clear()


@functools.lru_cache(maxsize=64)
def _rate(rate: str) -> tuple[int, int]:
    limit, period = _split_rate(rate)
    return int(limit), int(period)


@functools.lru_cache(maxsize=4096)
def _masked(address: str, mask: int) -> str:
    return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)


def client_key(meta: Mapping[str, Any], request: Callable[[], HttpRequest]) -> str:
    """The address a limit counts against: django-ratelimit's ``key="ip"``. ``meta`` is the
    request's META (or WSGI environ); ``request()`` makes the request, for the settings that
    django-ratelimit reads from it."""
    address = meta["REMOTE_ADDR"]
    if getattr(settings, "RATELIMIT_IP_META_KEY", None) or not address:
        return str(_get_ip(request()))  # it says what is wrong with an empty one
    if ":" in address:
        return _masked(address, getattr(settings, "RATELIMIT_IPV6_MASK", 64))
    return _masked(address, getattr(settings, "RATELIMIT_IPV4_MASK", 32))


def is_limited(request: HttpRequest, group: str, rate: str) -> bool:
    """Count this request against ``rate`` for its address; True when it is over the limit."""
    return _limited(request.META, lambda: request, group, rate)


def is_limited_wsgi(environ: dict[str, Any], group: str, rate: str) -> bool:
    """:func:`is_limited` for a request not yet made from its WSGI ``environ``."""
    return _limited(environ, lambda: WSGIRequest(environ.copy()), group, rate)


def _limited(
    meta: Mapping[str, Any], request: Callable[[], HttpRequest], group: str, rate: str
) -> bool:
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return False
    if not counted_here():
        return bool(is_ratelimited(request(), group=group, key="ip", rate=rate, increment=True))
    limit, period = _rate(rate)
    address = client_key(meta, request)
    window = _get_window(address, period)
    key = (group, limit, period, address)
    with _lock:
        counter = _windows.get(key)
        if counter is None or counter[0] != window:
            counter = _windows[key] = [window, 0]
        counter[1] += 1
        count = counter[1]
        now = time.monotonic()
        if now >= _next_sweep[0]:
            _sweep()
            _next_sweep[0] = now + 10
    return count > limit


def _sweep() -> None:
    """Drop counts whose window has ended (the caller holds the lock)."""
    now = int(time.time())
    for key in [key for key, (end, _) in _windows.items() if end < now]:
        del _windows[key]


def forget() -> None:
    """Drop every count (tests start clean)."""
    with _lock:
        _windows.clear()


def per_address(group: str, rate: Callable[[], str]) -> Callable[[Any], Any]:
    """What ``@ratelimit(key="ip", rate=..., block=True)`` does, counted by :func:`is_limited`:
    a refused request raises ``Ratelimited``, which ``RATELIMIT_VIEW`` answers (429)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limited = is_limited(request, group, rate())
            request.limited = limited or getattr(request, "limited", False)  # type: ignore[attr-defined]
            if limited:
                cls = getattr(settings, "RATELIMIT_EXCEPTION_CLASS", Ratelimited)
                raise (import_string(cls) if isinstance(cls, str) else cls)()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
