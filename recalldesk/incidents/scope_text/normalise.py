"""Cleaning pasted text: line endings, dashes and runs of white space."""

from __future__ import annotations

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_SPACES = dict.fromkeys(map(ord, "\t\u00a0\u2007\u2009\u202f\u200b"), " ")


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_DASHES).translate(_SPACES)


def _squash(text: str) -> str:
    return " ".join(text.split())
