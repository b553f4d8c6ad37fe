"""Configuring workflows: notification rules, webhooks and their delivery log.

The one place for the rules of this configuration, used by the settings pages and the
API alike. Only administrators (capability ``config.manage``) read or change any of
it; the checks are at the edge (``*_for_admin``), the invariants in the actions.

Every change is one transaction that locks the row (``select_for_update``) and writes
an audit row with the old and new values. The models carry no version column, so a
*version* is derived from the stored state (a hash of every field and relation): an
edit made from a stale form or GET carries the version it started from and is refused
with 409 ``stale_version`` when someone else saved in between, instead of silently
overwriting their change.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department, Role, Team, User
from leadflow.accounts.permissions import require
from leadflow.audit.actions import record_event
from leadflow.contacts.models import Company
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.intake.models import Campaign, Channel
from leadflow.workflows import webhooks
from leadflow.workflows.models import (
    DeliveryStatus,
    NotificationRule,
    RuleEvent,
    Webhook,
    WebhookDelivery,
)

CAPABILITY = "config.manage"

# Events about an inquiry carry no owner, value, service type or owner's team; the
# others (qualified leads, quotes, stakeholders) do. A filter or recipient that the
# event never carries would make a rule that can never fire.
INQUIRY_EVENTS = frozenset({RuleEvent.INQUIRY_REGISTERED, RuleEvent.INQUIRY_CLOSED})
OUTCOMES = ("qualified", "nurture", "archived")
OWNER_ONLY_FILTERS = ("min_value", "service_type", "teams")
MAX_COMPANY_SIZE = 10_000_000
MAX_CHOSEN = 1000  # companies, users… in one rule
MAX_VALUE_DIGITS = 12  # before the decimal point (max_digits=14, decimal_places=2)
SECRET_MIN, SECRET_MAX = 16, 128


class ConfigInvalid(ValidationFailed):
    """A value of a rule or webhook breaks a rule; ``field`` names the input."""

    def __init__(self, message=None, *, code: str, field: str | None = None, **params):
        super().__init__(message, code=code, **params)
        self.field = field


def _stale() -> Conflict:
    return Conflict(code="stale_version")


def _version(state: dict[str, Any]) -> str:
    text = json.dumps(state, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _text(value, *, name: str, label, max_length: int, required: bool = False) -> str:
    """Trimmed text, or ConfigInvalid (``label`` names the field in the message)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ConfigInvalid(
            _("%(label)s must be text."), code="invalid_value", field=name, label=label
        )
    value = value.strip()
    if "\x00" in value:
        raise ConfigInvalid(
            _("Text may not contain NUL characters."),
            code="invalid_characters",
            field=name,
        )
    if required and not value:
        raise ConfigInvalid(
            _("Give the %(label)s."), code=f"{name}_required", field=name, label=label
        )
    if len(value) > max_length:
        raise ConfigInvalid(
            _("The %(label)s is at most %(max)d characters."),
            code="too_long",
            field=name,
            label=label,
            max=max_length,
        )
    return value


def _flag(value, *, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigInvalid(
            _("%(name)s must be true or false."),
            code="invalid_value",
            field=name,
            name=name,
        )
    return value


def _event_codes(values, *, name: str) -> list[str]:
    """Known event codes, without repeats, in the order of the event list."""
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigInvalid(
            _("Give a list of event codes."), code="invalid_value", field=name
        )
    values = list(values)
    unknown = sorted(
        {str(v) for v in values if not isinstance(v, str) or v not in RuleEvent.values}
    )
    if unknown:
        raise ConfigInvalid(
            _("Unknown events: %(events)s. Known: %(known)s."),
            code="unknown_event",
            field=name,
            events=", ".join(unknown),
            known=", ".join(RuleEvent.values),
        )
    return [code for code in RuleEvent.values if code in values]


# --- notification rules ------------------------------------------------------------------

RULE_RELATIONS: dict[str, type[Model]] = {
    "companies": Company,
    "channels": Channel,
    "campaigns": Campaign,
    "departments": Department,
    "teams": Team,
    "recipient_users": User,
}


@dataclass
class RuleData:
    """Everything a rule says; related records are model instances."""

    name: str = ""
    event: str = ""
    is_active: bool = True
    outcome: str = ""
    companies: Sequence[Company] = ()
    min_company_size: int | None = None
    channels: Sequence[Channel] = ()
    campaigns: Sequence[Campaign] = ()
    departments: Sequence[Department] = ()
    min_value: Decimal | None = None
    service_type: str = ""
    teams: Sequence[Team] = ()
    recipient_users: Sequence[User] = ()
    recipient_roles: Sequence[str] = field(default_factory=list)
    notify_owner: bool = False
    notify_owner_manager: bool = False

    @classmethod
    def of(cls, rule: NotificationRule) -> "RuleData":
        """The rule as stored (relations read through any prefetch)."""
        scalars = {
            f.name: getattr(rule, f.name)
            for f in fields(cls)
            if f.name not in RULE_RELATIONS
        }
        scalars["recipient_roles"] = list(rule.recipient_roles or [])
        relations = {name: list(getattr(rule, name).all()) for name in RULE_RELATIONS}
        return cls(**scalars, **relations)


RULE_FIELDS = frozenset(f.name for f in fields(RuleData))


def _state(data: RuleData, *, labels: bool = False) -> dict[str, Any]:
    """Comparable plain values: ids (or labels, for the audit row) for relations."""
    state: dict[str, Any] = {
        "name": data.name,
        "event": data.event,
        "is_active": data.is_active,
        "outcome": data.outcome,
        "min_company_size": data.min_company_size,
        "min_value": None if data.min_value is None else f"{data.min_value:.2f}",
        "service_type": data.service_type,
        "recipient_roles": sorted(data.recipient_roles),
        "notify_owner": data.notify_owner,
        "notify_owner_manager": data.notify_owner_manager,
    }
    for name in RULE_RELATIONS:
        objs = getattr(data, name)
        if name == "recipient_users" and labels:
            state[name] = sorted(u.username for u in objs)
        elif labels:
            state[name] = sorted(f"{o} (#{o.pk})" for o in objs)
        else:
            state[name] = sorted(o.pk for o in objs)
    return state


def rule_version(rule: NotificationRule) -> str:
    """A hash of the stored rule: changes whenever anyone saves a change to it."""
    return _version(_state(RuleData.of(rule)))


def _related(values, *, name: str) -> list:
    model = RULE_RELATIONS[name]
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigInvalid(_("Give a list."), code="invalid_value", field=name)
    items = list(values)
    if any(not isinstance(obj, model) or obj.pk is None for obj in items):
        raise ConfigInvalid(
            _("Give a list of %(what)s."),
            code="invalid_value",
            field=name,
            what=model._meta.verbose_name_plural,
        )
    chosen = list({obj.pk: obj for obj in items}.values())
    if len(chosen) > MAX_CHOSEN:
        raise ConfigInvalid(
            _("Choose at most %(max)d."), code="too_many", field=name, max=MAX_CHOSEN
        )
    return chosen


def _minimum(value, *, name: str, kind: type) -> Any:
    if value is None or value == "":
        return None
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigInvalid(
                _("Give a whole number."), code="invalid_value", field=name
            )
        if value > MAX_COMPANY_SIZE:
            raise ConfigInvalid(
                _("At most %(max)d employees."),
                code="too_large",
                field=name,
                max=MAX_COMPANY_SIZE,
            )
    else:
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            value = Decimal(str(value)) if not isinstance(value, Decimal) else value
        except (InvalidOperation, ValueError):
            value = Decimal("NaN")
        if not value.is_finite():
            raise ConfigInvalid(_("Give an amount."), code="invalid_value", field=name)
        if abs(value) >= Decimal(10) ** MAX_VALUE_DIGITS:
            raise ConfigInvalid(
                _("The amount is too large."), code="too_large", field=name
            )
        if value != value.quantize(Decimal("0.01")):
            raise ConfigInvalid(
                _("An amount has at most two decimals."),
                code="invalid_value",
                field=name,
            )
        value = value.quantize(Decimal("0.01"))
    if value < 0:
        raise ConfigInvalid(
            _("A minimum cannot be negative."), code="negative_value", field=name
        )
    return value


def clean_rule(data: RuleData) -> RuleData:
    """The rule's values checked and normalised, or ConfigInvalid (nothing written)."""
    name = _text(data.name, name="name", label=_("name"), max_length=150, required=True)
    if not isinstance(data.event, str) or data.event not in RuleEvent.values:
        raise ConfigInvalid(
            _("Unknown event %(event)r. Known: %(known)s."),
            code="unknown_event",
            field="event",
            event=str(data.event),
            known=", ".join(RuleEvent.values),
        )
    event = data.event
    outcome = data.outcome or ""
    if outcome not in ("", *OUTCOMES):
        raise ConfigInvalid(
            _("Unknown outcome %(outcome)r. Known: %(known)s."),
            code="unknown_outcome",
            field="outcome",
            outcome=str(outcome),
            known=", ".join(OUTCOMES),
        )
    roles = data.recipient_roles
    if roles is None:
        roles = []
    if isinstance(roles, str) or not isinstance(roles, Iterable):
        roles = None
    else:
        roles = list(roles)
    if roles is None or not all(isinstance(r, str) for r in roles):
        raise ConfigInvalid(
            _('Give a list of role codes, e.g. ["sales_director"].'),
            code="invalid_value",
            field="recipient_roles",
        )
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ConfigInvalid(
            _("Unknown roles: %(roles)s. Known: %(known)s."),
            code="unknown_role",
            field="recipient_roles",
            roles=", ".join(unknown),
            known=", ".join(Role.values),
        )
    clean = RuleData(
        name=name,
        event=event,
        is_active=_flag(data.is_active, name="is_active"),
        outcome=outcome,
        min_company_size=_minimum(
            data.min_company_size, name="min_company_size", kind=int
        ),
        min_value=_minimum(data.min_value, name="min_value", kind=Decimal),
        service_type=_text(
            data.service_type,
            name="service_type",
            label=_("service type"),
            max_length=100,
        ),
        recipient_roles=[r for r in Role.values if r in roles],
        notify_owner=_flag(data.notify_owner, name="notify_owner"),
        notify_owner_manager=_flag(
            data.notify_owner_manager, name="notify_owner_manager"
        ),
        **{name: _related(getattr(data, name), name=name) for name in RULE_RELATIONS},
    )
    inactive = sorted(u.username for u in clean.recipient_users if not u.is_active)
    if inactive:
        raise ConfigInvalid(
            _("These people can no longer log in: %(users)s."),
            code="inactive_user",
            field="recipient_users",
            users=", ".join(inactive),
        )
    _check_applicable(clean)
    return clean


def _check_applicable(data: RuleData) -> None:
    """Refuse filters and recipients the event never carries (the rule would never
    fire, or tell nobody)."""
    about_inquiry = data.event in INQUIRY_EVENTS
    if data.outcome and data.event != RuleEvent.INQUIRY_CLOSED:
        raise ConfigInvalid(
            _("Only “Inquiry closed” has an outcome to filter on."),
            code="filter_not_applicable",
            field="outcome",
        )
    if about_inquiry:
        for name in OWNER_ONLY_FILTERS:
            if getattr(data, name) not in (None, "", []):
                raise ConfigInvalid(
                    _(
                        "An inquiry has no expected value, service type or owner: "
                        "that filter only works for qualified leads and quotes."
                    ),
                    code="filter_not_applicable",
                    field=name,
                )
        if data.notify_owner or data.notify_owner_manager:
            raise ConfigInvalid(
                _(
                    "An inquiry has no owner yet: tell people or roles instead, or "
                    "choose an event about a qualified lead."
                ),
                code="recipient_not_applicable",
                field="notify_owner",
            )
    if not (
        data.recipient_users
        or data.recipient_roles
        or data.notify_owner
        or data.notify_owner_manager
    ):
        raise ConfigInvalid(
            _("Choose who is told: people, roles, the owner or the owner's manager."),
            code="no_recipient",
            field="recipient_users",
        )


def _write_rule(rule: NotificationRule, data: RuleData) -> None:
    for name in RULE_FIELDS - set(RULE_RELATIONS):
        setattr(rule, name, getattr(data, name))
    rule.recipient_roles = list(data.recipient_roles)
    rule.save()
    for name in RULE_RELATIONS:
        getattr(rule, name).set(getattr(data, name))


def _audit_diff(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in changed}, {k: new[k] for k in changed}


@transaction.atomic
def create_rule(data: RuleData, *, actor: User | None) -> NotificationRule:
    """A new notification rule; it applies to events from now on."""
    clean = clean_rule(data)
    rule = NotificationRule()
    _write_rule(rule, clean)
    record_event(
        actor=actor,
        subject=rule,
        event_type="notification_rule.created",
        new=_state(clean, labels=True),
    )
    return rule


def _locked_rule(rule: NotificationRule, version: str | None) -> NotificationRule:
    locked = NotificationRule.objects.select_for_update().filter(pk=rule.pk).first()
    if locked is None:
        raise Conflict(_("This rule no longer exists."), code="gone")
    if version is not None and rule_version(locked) != version:
        raise _stale()
    return locked


@transaction.atomic
def update_rule(
    rule: NotificationRule,
    *,
    actor: User | None,
    version: str | None = None,
    **changes,
) -> NotificationRule:
    """Change some of a rule's values (the others stay); the whole rule is checked
    again. ``version`` (from ``rule_version``) refuses a change made from a stale
    copy."""
    unknown = set(changes) - RULE_FIELDS
    if unknown:
        raise ConfigInvalid(
            _("These fields cannot be changed here: %(fields)s"),
            code="invalid_field",
            fields=", ".join(sorted(unknown)),
        )
    locked = _locked_rule(rule, version)
    current = RuleData.of(locked)
    merged = RuleData(**{**current.__dict__, **changes})
    clean = clean_rule(merged)
    old, new = _audit_diff(_state(current, labels=True), _state(clean, labels=True))
    if not new:
        return locked
    _write_rule(locked, clean)
    record_event(
        actor=actor,
        subject=locked,
        event_type="notification_rule.updated",
        old=old,
        new=new,
    )
    return locked


@transaction.atomic
def set_rule_active(
    rule: NotificationRule, *, actor: User | None, active: bool
) -> NotificationRule:
    """Switch a rule on or off (idempotent: the wanted state, not a flip)."""
    active = _flag(active, name="is_active")
    locked = _locked_rule(rule, None)
    if locked.is_active == active:
        return locked
    NotificationRule.objects.filter(pk=locked.pk).update(is_active=active)
    record_event(
        actor=actor,
        subject=locked,
        event_type="notification_rule.activated"
        if active
        else "notification_rule.deactivated",
        old={"is_active": locked.is_active},
        new={"is_active": active},
    )
    locked.is_active = active
    return locked


@transaction.atomic
def delete_rule(rule: NotificationRule, *, actor: User | None) -> None:
    """Remove a rule; the notifications it sent stay (without their rule)."""
    locked = _locked_rule(rule, None)
    sent = locked.notifications.count()
    record_event(
        actor=actor,
        subject=locked,
        event_type="notification_rule.deleted",
        old={**_state(RuleData.of(locked), labels=True), "notifications_sent": sent},
    )
    locked.delete()


# --- webhooks ----------------------------------------------------------------------------

WEBHOOK_FIELDS = frozenset({"name", "url", "events", "is_active"})
_url_validator = URLValidator(schemes=["http", "https"])


def clean_url(url) -> str:
    url = _text(url, name="url", label=_("URL"), max_length=500, required=True)
    try:
        _url_validator(url)
    except ValidationError:
        raise ConfigInvalid(
            _("Give a full http:// or https:// address."),
            code="invalid_url",
            field="url",
        ) from None
    return url


def clean_secret(secret) -> str:
    """A given secret, or a new random one when none is given."""
    secret = _text(
        secret, name="secret", label=_("signing secret"), max_length=SECRET_MAX
    )
    if not secret:
        return webhooks.new_secret()
    if len(secret) < SECRET_MIN or any(ch.isspace() for ch in secret):
        raise ConfigInvalid(
            _("A signing secret has %(min)d to %(max)d characters and no spaces."),
            code="invalid_secret",
            field="secret",
            min=SECRET_MIN,
            max=SECRET_MAX,
        )
    return secret


def _secret_fingerprint(secret: str) -> str:
    """Names a secret in the audit log without revealing it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def _webhook_state(hook: Webhook) -> dict[str, Any]:
    return {
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events or []),
        "is_active": hook.is_active,
    }


def webhook_version(hook: Webhook) -> str:
    """A hash of the stored webhook (its secret included: a rotation changes it)."""
    return _version(
        {**_webhook_state(hook), "secret": _secret_fingerprint(hook.secret)}
    )


def _clean_webhook(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _text(
            values.get("name"),
            name="name",
            label=_("name"),
            max_length=150,
            required=True,
        ),
        "url": clean_url(values.get("url")),
        "events": _event_codes(values.get("events"), name="events"),
        "is_active": _flag(values.get("is_active"), name="is_active"),
    }


@transaction.atomic
def create_webhook(
    *,
    actor: User | None,
    name: str,
    url: str,
    events: Sequence[str] = (),
    is_active: bool = True,
    secret: str = "",
) -> Webhook:
    """A new webhook; without a secret a random one is made (shown to the admin once,
    by the caller)."""
    values = _clean_webhook(
        {"name": name, "url": url, "events": events, "is_active": is_active}
    )
    hook = Webhook.objects.create(**values, secret=clean_secret(secret))
    record_event(
        actor=actor,
        subject=hook,
        event_type="webhook.created",
        new={**values, "secret": _secret_fingerprint(hook.secret)},
    )
    return hook


def _locked_webhook(hook: Webhook, version: str | None) -> Webhook:
    locked = Webhook.objects.select_for_update().filter(pk=hook.pk).first()
    if locked is None:
        raise Conflict(_("This webhook no longer exists."), code="gone")
    if version is not None and webhook_version(locked) != version:
        raise _stale()
    return locked


@transaction.atomic
def update_webhook(
    hook: Webhook, *, actor: User | None, version: str | None = None, **changes
) -> Webhook:
    """Change a webhook's name, address, events or active flag (the secret only
    changes by ``rotate_webhook_secret``)."""
    unknown = set(changes) - WEBHOOK_FIELDS
    if unknown:
        raise ConfigInvalid(
            _("These fields cannot be changed here: %(fields)s"),
            code="invalid_field",
            fields=", ".join(sorted(unknown)),
        )
    locked = _locked_webhook(hook, version)
    current = _webhook_state(locked)
    values = _clean_webhook({**current, **changes})
    old, new = _audit_diff(current, values)
    if not new:
        return locked
    for key, value in new.items():
        setattr(locked, key, value)
    locked.save(update_fields=list(new))
    record_event(
        actor=actor, subject=locked, event_type="webhook.updated", old=old, new=new
    )
    return locked


@transaction.atomic
def rotate_webhook_secret(
    hook: Webhook, *, actor: User | None, version: str | None = None
) -> Webhook:
    """A new random signing secret; deliveries from now on are signed with it."""
    locked = _locked_webhook(hook, version)
    old = _secret_fingerprint(locked.secret)
    locked.secret = webhooks.new_secret()
    locked.save(update_fields=["secret"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="webhook.secret_rotated",
        old={"secret": old},
        new={"secret": _secret_fingerprint(locked.secret)},
    )
    return locked


@transaction.atomic
def delete_webhook(hook: Webhook, *, actor: User | None) -> None:
    """Remove a webhook and its delivery log; nothing more is sent to it."""
    locked = _locked_webhook(hook, None)
    deliveries = locked.deliveries.count()
    record_event(
        actor=actor,
        subject=locked,
        event_type="webhook.deleted",
        old={**_webhook_state(locked), "deliveries": deliveries},
    )
    locked.delete()


@transaction.atomic
def redeliver_delivery(
    delivery: WebhookDelivery, *, actor: User | None
) -> WebhookDelivery:
    """Send a failed or delivered event again (a fresh series of attempts, started
    after the commit). A delivery still being tried is left alone."""
    locked = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("webhook")
        .filter(pk=delivery.pk)
        .first()
    )
    if locked is None:
        raise Conflict(_("This delivery no longer exists."), code="gone")
    if locked.status == DeliveryStatus.PENDING:
        raise Conflict(
            _("This delivery is still being tried; wait for it to finish."),
            code="delivery_pending",
        )
    if not locked.webhook.is_active:
        raise Conflict(
            _("The webhook is switched off: switch it on before sending again."),
            code="webhook_inactive",
        )
    old = {"status": locked.status, "attempts": locked.attempts}
    redone = webhooks.redeliver(locked)
    record_event(
        actor=actor,
        subject=redone,
        event_type="webhook_delivery.redelivered",
        old=old,
        new={
            "status": redone.status,
            "webhook": redone.webhook.name,
            "event": redone.event_type,
        },
    )
    return redone


# --- reading (admins only) ---------------------------------------------------------------


def resolve_related(name: str, values: Iterable[int | str] | None) -> list:
    """Ids (usernames for people, id or code for channels) → records, or
    ConfigInvalid naming the unknown ones."""
    model = RULE_RELATIONS[name]
    values = list(values or [])
    if len(values) > MAX_CHOSEN:
        raise ConfigInvalid(
            _("Choose at most %(max)d."), code="too_many", field=name, max=MAX_CHOSEN
        )
    found: dict[int | str, Model] = {}
    if model is User:
        wanted = {str(v) for v in values}
        found = {u.username: u for u in User.objects.filter(username__in=wanted)}
        keys = [str(v) for v in values]
    else:
        ids = {int(v) for v in values if isinstance(v, int) or str(v).isdigit()}
        ids = {i for i in ids if 0 < i < 2**63}
        found = {o.pk: o for o in model._default_manager.filter(pk__in=ids)}
        keys = [int(v) if isinstance(v, int) or str(v).isdigit() else v for v in values]
        codes = {k for k in keys if isinstance(k, str)}
        if model is Channel and codes:
            found.update({c.code: c for c in Channel.objects.filter(code__in=codes)})
    missing = [str(k) for k in keys if k not in found]
    if missing:
        raise ConfigInvalid(
            _("Unknown %(what)s: %(values)s."),
            code="unknown_" + ("user" if model is User else model._meta.model_name),
            field=name,
            what=model._meta.verbose_name_plural,
            values=", ".join(missing[:20]),
        )
    return list({found[k].pk: found[k] for k in keys}.values())


def rules_for_admin(user: User) -> QuerySet[NotificationRule]:
    """Every rule with what it filters on, who it tells and how many it has sent."""
    require(user, CAPABILITY)
    return NotificationRule.objects.annotate(
        notifications_sent=Count("notifications")
    ).prefetch_related(*RULE_RELATIONS)


def get_rule_for_admin(user: User, rule_id: int) -> NotificationRule:
    return get_object_or_404(rules_for_admin(user), pk=rule_id)


def webhooks_for_admin(user: User) -> QuerySet[Webhook]:
    require(user, CAPABILITY)
    return Webhook.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status="delivered")),
        failed=Count("deliveries", filter=Q(deliveries__status="failed")),
        pending=Count("deliveries", filter=Q(deliveries__status="pending")),
    )


def get_webhook_for_admin(user: User, webhook_id: int) -> Webhook:
    return get_object_or_404(webhooks_for_admin(user), pk=webhook_id)


def deliveries_of(hook: Webhook, *, status: str = "") -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first (the webhook_delivery_log index)."""
    qs = hook.deliveries.order_by("-created_at", "-id")
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    return qs


def get_delivery_for_admin(user: User, delivery_id: int) -> WebhookDelivery:
    require(user, CAPABILITY)
    return get_object_or_404(
        WebhookDelivery.objects.select_related("webhook"), pk=delivery_id
    )
