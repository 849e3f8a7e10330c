"""Change history: every change to an incident, its scope and its imports leaves a row."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ChangeRecord(models.Model):
    """One change to one object: who, when, what changed (field: [old, new]) and why."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        STATUS = "status", "Status changed"
        SCOPE = "scope", "Scope changed"
        MATCHED = "matched", "Ledger matched"
        IMPORTED = "imported", "Imported"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.actor_name or 'system'}"

    @classmethod
    def for_object(cls, obj: models.Model) -> models.QuerySet[ChangeRecord]:
        return cls.objects.filter(
            object_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).select_related("actor")


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Return ``{field: [old, new]}`` for every field whose value differs."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def record_change(
    actor: Any,
    obj: models.Model,
    action: str,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> ChangeRecord:
    """Write the history row for a change made by ``actor`` (a user, or None for the system)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return ChangeRecord.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        object_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
        note=note,
    )
