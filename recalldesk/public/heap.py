"""Keeping Python's cycle collector off what a web worker keeps for its life.

A worker keeps the crisis page, the lookup's index and its answer shells, besides Django's
own modules, templates and translations: hundreds of thousands of objects that live as long
as the worker. Every full collection walks all of them, which stalled a worker for 50-90 ms
at a time under a surge (the tail of the page's latency at half load). After something new
is kept, :func:`settle` moves everything alive into the permanent generation
(``gc.freeze``), so later collections only walk what requests allocate since.

Freezing is cheap; a full collection before it is not (it is the stall above), so only the
young generations are collected first. Cyclic garbage older than that stays frozen until the
worker ends; requests free almost everything they allocate by reference counting, and
something new is kept only when a page or scope changes or a kept page is renewed.
"""

from __future__ import annotations

import gc

_changes = [0]
_settled = [0]


def kept() -> None:
    """Note that something long-lived was just kept (a page, an index, a shell)."""
    _changes[0] += 1


def settle() -> bool:
    """Freeze what is alive, if something was kept since the last time; whether it did."""
    changes = _changes[0]
    if _settled[0] == changes:
        return False
    _settled[0] = changes
    gc.collect(1)
    gc.freeze()
    return True
