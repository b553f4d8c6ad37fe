"""The timeline of a record: audit events and lifecycle transitions, newest first."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext

from leadflow.audit.actions import subject_key
from leadflow.audit.labels import detail_label, event_label, state_label, value_label
from leadflow.audit.models import AuditEvent

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: Any
    kind: str  # "transition" or "event"
    event_type: str
    from_state: str = ""
    to_state: str = ""
    old: dict | None = None
    new: dict | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        return event_label(self.event_type)

    @property
    def from_label(self) -> str:
        return state_label(self.from_state)

    @property
    def to_label(self) -> str:
        return state_label(self.to_state)

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(label, old, new) rows; for transitions, the details stored with the move."""
        old = self.old or {}
        new = {
            k: v
            for k, v in (self.new or {}).items()
            if k != "event" and v not in (None, [], "")
        }
        keys = list(dict.fromkeys([*old, *new]))
        return [(detail_label(k), _show(old.get(k)), _show(new.get(k))) for k in keys]


def _show(value):
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return value_label(value)


def timeline_for(
    obj: models.Model, transitions: models.QuerySet | None = None
) -> list[TimelineEntry]:
    """Merge the record's audit rows and (optional) transition rows, newest first."""
    entries = [
        TimelineEntry(
            at=e.at,
            actor=e.actor,
            kind="event",
            event_type=e.event_type,
            old=e.old,
            new=e.new,
            reason=e.reason,
        )
        for e in AuditEvent.objects.filter(
            subject_type=subject_key(obj), subject_id=obj.pk
        ).select_related("actor")[:TIMELINE_LIMIT]
    ]
    if transitions is not None:
        entries += [
            TimelineEntry(
                at=t.at,
                actor=t.actor,
                kind="transition",
                event_type=t.data.get("event", "transition"),
                from_state=t.from_state,
                to_state=t.to_state,
                new=t.data,
                reason=t.reason,
            )
            for t in transitions.select_related("actor").order_by("-at")[
                :TIMELINE_LIMIT
            ]
        ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries
