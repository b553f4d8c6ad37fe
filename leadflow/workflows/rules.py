"""Rule matching (pure): does an event pass a rule's filters? No database here."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Event:
    """What happened, with the attributes rules filter on (None = not known)."""

    type: str
    source: str  # the outbox row, e.g. "intake.inquirytransition:42"
    at: datetime
    subject_label: str
    url: str
    subject: object = None
    actor_id: int | None = None
    outcome: str = ""
    company_id: int | None = None
    company_size: int | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    department_id: int | None = None
    value: Decimal | None = None
    service_type: str = ""
    owner_id: int | None = None
    owner_team_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class RuleSpec:
    """A rule's filters as plain values (loaded once per batch)."""

    id: int
    event: str
    created_at: datetime
    outcome: str = ""
    company_ids: frozenset[int] = field(default_factory=frozenset)
    min_company_size: int | None = None
    channel_ids: frozenset[int] = field(default_factory=frozenset)
    campaign_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)
    min_value: Decimal | None = None
    service_type: str = ""
    team_ids: frozenset[int] = field(default_factory=frozenset)


def _in(values: frozenset[int], value: int | None) -> bool:
    return not values or value in values


def matches(rule: RuleSpec, event: Event) -> bool:
    """All filters must hold; an event older than the rule never matches (no
    notifications about history when a rule is added)."""
    if rule.event != event.type or event.at < rule.created_at:
        return False
    if rule.outcome and rule.outcome != event.outcome:
        return False
    if rule.min_company_size is not None and (
        event.company_size is None or event.company_size < rule.min_company_size
    ):
        return False
    if rule.min_value is not None and (
        event.value is None or event.value <= rule.min_value
    ):
        return False
    if (
        rule.service_type
        and rule.service_type.casefold() != event.service_type.casefold()
    ):
        return False
    return (
        _in(rule.company_ids, event.company_id)
        and _in(rule.channel_ids, event.channel_id)
        and _in(rule.campaign_ids, event.campaign_id)
        and _in(rule.department_ids, event.department_id)
        and _in(rule.team_ids, event.owner_team_id)
    )
