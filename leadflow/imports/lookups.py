"""The reference values an import names, matched loosely (case, accents, punctuation)
against what Leadflow knows; unknown ones are listed in the check for the user to map
or create."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department, User
from leadflow.audit.actions import record_event
from leadflow.contacts.models import Company
from leadflow.core.text import name_key
from leadflow.imports.fields import Lookup
from leadflow.intake.models import Campaign, Channel
from leadflow.opportunities.models import Opportunity, Stage


def _matcher(rows: Callable[[], Iterable[tuple[str, Iterable[str]]]]):
    """``match(raw)``: the value whose names (any of them) equal the raw cell, folded."""

    def match(raw: str) -> str | None:
        key = name_key(raw)
        if not key:
            return None
        for value, names in rows():
            if any(name_key(n) == key for n in names if n):
                return value
        return None

    return match


def _local(obj) -> str:
    if get_language() == "nl" and getattr(obj, "name_nl", ""):
        return obj.name_nl
    return obj.name


# --- salespeople ------------------------------------------------------------------------


def _users():
    return User.objects.filter(is_active=True).order_by("username")


def _user_names():
    for u in _users():
        yield str(u.pk), (u.username, u.email, u.get_full_name(), u.last_name)


OWNER = Lookup(
    key="user",
    label=_("people"),
    choices=lambda: [(str(u.pk), f"{u} ({u.username})") for u in _users()],
    match=_matcher(_user_names),
    resolve=lambda value: User.objects.get(pk=value),
)


# --- channels, campaigns, departments, stages --------------------------------------------


def _channel_names():
    for c in Channel.objects.all():
        yield c.code, (c.code, c.name, c.name_nl)


CHANNEL = Lookup(
    key="channel",
    label=_("channels"),
    choices=lambda: [(c.code, _local(c)) for c in Channel.objects.order_by("order")],
    match=_matcher(_channel_names),
    resolve=lambda value: Channel.objects.get(code=value),
)


def _creator(model, event_type: str, max_length: int):
    """``create(raw, actor)`` for a named reference table: found or made, audited."""

    def create(raw: str, actor) -> str:
        obj, made = model.objects.get_or_create(name=raw.strip()[:max_length])
        if made:
            record_event(
                actor=actor,
                subject=obj,
                event_type=event_type,
                new={"name": obj.name},
                reason="import",
            )
        return str(obj.pk)

    return create


CAMPAIGN = Lookup(
    key="campaign",
    label=_("campaigns"),
    choices=lambda: [(str(c.pk), c.name) for c in Campaign.objects.order_by("name")],
    match=_matcher(lambda: ((str(c.pk), (c.name,)) for c in Campaign.objects.all())),
    resolve=lambda value: Campaign.objects.get(pk=value),
    create=_creator(Campaign, "campaign.created", 150),
)


DEPARTMENT = Lookup(
    key="department",
    label=_("departments"),
    choices=lambda: [(str(d.pk), d.name) for d in Department.objects.order_by("name")],
    match=_matcher(lambda: ((str(d.pk), (d.name,)) for d in Department.objects.all())),
    resolve=lambda value: Department.objects.get(pk=value),
    create=_creator(Department, "department.created", 100),
)


def _stage_names():
    for s in Stage.objects.all():
        yield s.code, (s.code, s.name, s.name_nl)


STAGE = Lookup(
    key="stage",
    label=_("stages"),
    choices=lambda: [(s.code, _local(s)) for s in Stage.objects.order_by("order")],
    match=_matcher(_stage_names),
    resolve=lambda value: Stage.objects.get(code=value),
)


# --- free-text classifications: kept as written (after merging spellings) ----------------


def _distinct(model, column: str) -> list[str]:
    return list(
        model.objects.exclude(**{column: ""})
        .values_list(column, flat=True)
        .distinct()
        .order_by(column)[:500]
    )


def _free_text(key: str, label, model, column: str) -> Lookup:
    def match(raw: str) -> str | None:
        wanted = name_key(raw)
        hit = (
            model.objects.filter(Q(**{f"{column}__iexact": raw.strip()}))
            .values_list(column, flat=True)
            .first()
        )
        if hit:
            return hit
        for known in _distinct(model, column):
            if name_key(known) == wanted:
                return known
        return None

    return Lookup(
        key=key,
        label=label,
        choices=lambda: [(v, v) for v in _distinct(model, column)],
        match=match,
        resolve=lambda value: value,
        create=lambda raw, actor: raw.strip(),
    )


INDUSTRY = _free_text("industry", _("industries"), Company, "industry")
SERVICE_TYPE = _free_text(
    "service_type", _("products and services"), Opportunity, "service_type"
)

LOOKUPS: dict[str, Lookup] = {
    lookup.key: lookup
    for lookup in (OWNER, CHANNEL, CAMPAIGN, DEPARTMENT, STAGE, INDUSTRY, SERVICE_TYPE)
}
