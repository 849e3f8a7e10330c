"""Integration tokens for the API."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A token for one integration that feeds the registry or reads a ledger.

    Only a hash is kept; the token is shown once, when it is made.
    """

    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=8, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: models.Model, name: str) -> tuple[ApiToken, str]:
        """Make a token for ``user``; returns the row and the token text to show once."""
        prefix = secrets.token_hex(4)
        token = f"rd_{prefix}_{secrets.token_urlsafe(32)}"
        row = cls.objects.create(name=name, user=user, prefix=prefix, token_hash=cls.hash(token))
        return row, token
