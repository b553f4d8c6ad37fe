"""record_event(): the one way to write an audit row."""

from typing import Any

from django.db import models

from leadflow.audit.models import AuditEvent


def subject_key(obj: models.Model) -> str:
    return obj._meta.label_lower


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if isinstance(value, models.Model):
            value = str(value)
        elif value is not None and not isinstance(
            value, str | int | float | bool | list | dict
        ):
            value = str(value)
        out[key] = value
    return out


def record_event(
    *,
    actor,
    subject: models.Model,
    event_type: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one audit row about ``subject``; call inside the action's transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        subject_type=subject_key(subject),
        subject_id=subject.pk,
        event_type=event_type,
        old=_jsonable(old),
        new=_jsonable(new),
        reason=reason or "",
    )


def changed_fields(
    obj: models.Model, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Old and new values of the fields in ``values`` that really change."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name, value in values.items():
        current = getattr(obj, name)
        if current != value:
            old[name] = current
            new[name] = value
    return old, new
