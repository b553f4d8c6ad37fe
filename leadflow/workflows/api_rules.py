"""API for workflow settings: notification rules, webhooks and the delivery log.

Administrators only (``config.manage``): everyone else gets 403. Same shape as the
pages: parse → get_*_for_admin → one action from workflows.configuration →
serialize. People are named by username; companies, channels (or their code),
campaigns, departments and teams by id. A webhook's secret is in the answer only when
it is made: on create and on rotate-secret. ``version`` in an answer can be sent back
with a PATCH: when someone else changed the record in between, the answer is 409
``stale_version`` instead of overwriting their change.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from leadflow.accounts.permissions import require
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.core.errors import ValidationFailed
from leadflow.workflows import configuration as config
from leadflow.workflows.models import (
    DeliveryStatus,
    NotificationRule,
    Webhook,
    WebhookDelivery,
)

router = Router(tags=["workflow settings"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
MAX_LIST = config.MAX_CHOSEN


# --- schemas -----------------------------------------------------------------------------


class RuleIn(Schema):
    name: str = Field(..., max_length=1000)
    event: str = Field(..., max_length=100)
    is_active: bool = True
    outcome: str | None = Field(None, max_length=100)
    companies: list[int] | None = Field(None, max_length=MAX_LIST)
    min_company_size: int | None = None
    channels: list[int | str] | None = Field(
        None, max_length=MAX_LIST, description="ids or codes"
    )
    campaigns: list[int] | None = Field(None, max_length=MAX_LIST)
    departments: list[int] | None = Field(None, max_length=MAX_LIST)
    min_value: Decimal | None = None
    service_type: str | None = Field(None, max_length=1000)
    teams: list[int] | None = Field(None, max_length=MAX_LIST)
    recipient_users: list[str] | None = Field(
        None, max_length=MAX_LIST, description="usernames"
    )
    recipient_roles: list[str] | None = Field(
        None, max_length=50, description='role codes, e.g. ["sales_director"]'
    )
    notify_owner: bool = False
    notify_owner_manager: bool = False


class RulePatch(Schema):
    """Only the fields sent change; ``version`` (from a GET) guards against
    overwriting someone else's change."""

    version: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=1000)
    event: str | None = Field(None, max_length=100)
    is_active: bool | None = None
    outcome: str | None = Field(None, max_length=100)
    companies: list[int] | None = Field(None, max_length=MAX_LIST)
    min_company_size: int | None = None
    channels: list[int | str] | None = Field(None, max_length=MAX_LIST)
    campaigns: list[int] | None = Field(None, max_length=MAX_LIST)
    departments: list[int] | None = Field(None, max_length=MAX_LIST)
    min_value: Decimal | None = None
    service_type: str | None = Field(None, max_length=1000)
    teams: list[int] | None = Field(None, max_length=MAX_LIST)
    recipient_users: list[str] | None = Field(None, max_length=MAX_LIST)
    recipient_roles: list[str] | None = Field(None, max_length=50)
    notify_owner: bool | None = None
    notify_owner_manager: bool | None = None


class RuleOut(Schema):
    id: int
    name: str
    event: str
    event_name: str
    is_active: bool
    outcome: str
    companies: list[int]
    min_company_size: int | None
    channels: list[int]
    campaigns: list[int]
    departments: list[int]
    min_value: Decimal | None
    service_type: str
    teams: list[int]
    recipient_users: list[str]
    recipient_roles: list[str]
    notify_owner: bool
    notify_owner_manager: bool
    notifications_sent: int
    created_at: datetime
    version: str


class RulePage(Schema):
    items: list[RuleOut]
    count: int
    page: int
    page_size: int
    pages: int


class WebhookIn(Schema):
    name: str = Field(..., max_length=1000)
    url: str = Field(..., max_length=2000)
    events: list[str] | None = Field(
        None, max_length=50, description="event codes; empty or absent = every event"
    )
    is_active: bool = True
    secret: str | None = Field(
        None, max_length=1000, description="leave out to get a random one"
    )


class WebhookPatch(Schema):
    version: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=1000)
    url: str | None = Field(None, max_length=2000)
    events: list[str] | None = Field(None, max_length=50)
    is_active: bool | None = None


class RotateIn(Schema):
    version: str | None = Field(None, max_length=64)


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    created_at: datetime
    deliveries: dict[str, int]
    version: str


class WebhookSecretOut(WebhookOut):
    secret: str


class WebhookPage(Schema):
    items: list[WebhookOut]
    count: int
    page: int
    page_size: int
    pages: int


class DeliveryOut(Schema):
    id: int
    webhook_id: int
    event_type: str
    source: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: Any


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    count: int
    page: int
    page_size: int
    pages: int


class DeliveryFilters(PageParams):
    status: str = Field("", max_length=20, description="pending, delivered or failed")


# --- serializers -------------------------------------------------------------------------


def rule_out(rule: NotificationRule) -> dict:
    """A rule from ``rules_for_admin`` (relations prefetched, count annotated)."""
    return {
        "id": rule.pk,
        "name": rule.name,
        "event": rule.event,
        "event_name": str(rule.get_event_display()),
        "is_active": rule.is_active,
        "outcome": rule.outcome,
        "companies": sorted(c.pk for c in rule.companies.all()),
        "min_company_size": rule.min_company_size,
        "channels": sorted(c.pk for c in rule.channels.all()),
        "campaigns": sorted(c.pk for c in rule.campaigns.all()),
        "departments": sorted(d.pk for d in rule.departments.all()),
        "min_value": rule.min_value,
        "service_type": rule.service_type,
        "teams": sorted(t.pk for t in rule.teams.all()),
        "recipient_users": sorted(u.username for u in rule.recipient_users.all()),
        "recipient_roles": list(rule.recipient_roles or []),
        "notify_owner": rule.notify_owner,
        "notify_owner_manager": rule.notify_owner_manager,
        "notifications_sent": rule.notifications_sent,
        "created_at": rule.created_at,
        "version": config.rule_version(rule),
    }


def webhook_out(hook: Webhook) -> dict:
    counts = getattr(hook, "delivered", None)
    if counts is None:
        by_status = dict(
            hook.deliveries.values_list("status").annotate(n=Count("id")).order_by()
        )
        deliveries = {
            s: by_status.get(s, 0) for s in ("delivered", "failed", "pending")
        }
    else:
        deliveries = {
            "delivered": hook.delivered,
            "failed": hook.failed,
            "pending": hook.pending,
        }
    return {
        "id": hook.pk,
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events or []),
        "is_active": hook.is_active,
        "created_at": hook.created_at,
        "deliveries": deliveries,
        "version": config.webhook_version(hook),
    }


def delivery_out(d: WebhookDelivery) -> dict:
    return {
        "id": d.pk,
        "webhook_id": d.webhook_id,
        "event_type": d.event_type,
        "source": d.source,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
        "payload": d.payload,
    }


def _rule_values(payload: Schema, *, partial: bool) -> dict[str, Any]:
    """Schema values → action keyword arguments (ids and usernames resolved)."""
    values = payload.model_dump(exclude_unset=partial)
    values.pop("version", None)
    for name in config.RULE_RELATIONS:
        if name in values:
            values[name] = config.resolve_related(name, values[name])
    for name in ("outcome", "service_type"):
        if name in values and values[name] is None:
            values[name] = ""
    if "recipient_roles" in values and values["recipient_roles"] is None:
        values["recipient_roles"] = []
    return values


def _fresh_rule(rule_id: int, user) -> dict:
    return rule_out(config.get_rule_for_admin(user, rule_id))


# --- notification rules ------------------------------------------------------------------


@router.get("/notification-rules", response={200: RulePage, **ERRORS})
def list_rules(request, params: Query[PageParams]):
    """Every notification rule (admins only)."""
    return paginate(config.rules_for_admin(request.auth), params, rule_out)


@router.post("/notification-rules", response={201: RuleOut, **ERRORS})
def create_rule(request, payload: RuleIn):
    """A new rule; it applies to events from now on. At least one recipient."""
    require(request.auth, config.CAPABILITY)  # 403 before anything is resolved
    rule = config.create_rule(
        config.RuleData(**_rule_values(payload, partial=False)), actor=request.auth
    )
    return Status(201, _fresh_rule(rule.pk, request.auth))


@router.get("/notification-rules/{rule_id}", response={200: RuleOut, **ERRORS})
def get_rule(request, rule_id: int):
    return rule_out(config.get_rule_for_admin(request.auth, rule_id))


@router.patch("/notification-rules/{rule_id}", response={200: RuleOut, **ERRORS})
def update_rule(request, rule_id: int, payload: RulePatch):
    """Change the fields sent; the whole rule must still hold (e.g. a recipient)."""
    rule = config.get_rule_for_admin(request.auth, rule_id)
    config.update_rule(
        rule,
        actor=request.auth,
        version=payload.version,
        **_rule_values(payload, partial=True),
    )
    return _fresh_rule(rule.pk, request.auth)


@router.delete("/notification-rules/{rule_id}", response={204: None, **ERRORS})
def delete_rule(request, rule_id: int):
    """Remove a rule; the notifications it sent stay."""
    config.delete_rule(
        config.get_rule_for_admin(request.auth, rule_id), actor=request.auth
    )
    return Status(204, None)


# --- webhooks ----------------------------------------------------------------------------


@router.get("/webhooks", response={200: WebhookPage, **ERRORS})
def list_webhooks(request, params: Query[PageParams]):
    """Every webhook with its delivery counts (never the secret)."""
    return paginate(config.webhooks_for_admin(request.auth), params, webhook_out)


@router.post("/webhooks", response={201: WebhookSecretOut, **ERRORS})
def create_webhook(request, payload: WebhookIn):
    """A new webhook. The answer holds the signing secret: the only time it is shown."""
    require(request.auth, config.CAPABILITY)
    hook = config.create_webhook(
        actor=request.auth,
        name=payload.name,
        url=payload.url,
        events=payload.events or [],
        is_active=payload.is_active,
        secret=payload.secret or "",
    )
    return Status(201, {**webhook_out(hook), "secret": hook.secret})


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def get_webhook(request, webhook_id: int):
    return webhook_out(config.get_webhook_for_admin(request.auth, webhook_id))


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def update_webhook(request, webhook_id: int, payload: WebhookPatch):
    """Change name, url, events or is_active (the secret: rotate-secret)."""
    hook = config.get_webhook_for_admin(request.auth, webhook_id)
    changes = payload.model_dump(exclude_unset=True)
    changes.pop("version", None)
    if "events" in changes and changes["events"] is None:
        changes["events"] = []
    config.update_webhook(hook, actor=request.auth, version=payload.version, **changes)
    return webhook_out(config.get_webhook_for_admin(request.auth, webhook_id))


@router.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS})
def delete_webhook(request, webhook_id: int):
    """Remove a webhook and its delivery log."""
    config.delete_webhook(
        config.get_webhook_for_admin(request.auth, webhook_id), actor=request.auth
    )
    return Status(204, None)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret", response={200: WebhookSecretOut, **ERRORS}
)
def rotate_secret(request, webhook_id: int, payload: RotateIn | None = None):
    """A new random signing secret, in this answer only."""
    hook = config.get_webhook_for_admin(request.auth, webhook_id)
    hook = config.rotate_webhook_secret(
        hook, actor=request.auth, version=payload.version if payload else None
    )
    fresh = config.get_webhook_for_admin(request.auth, webhook_id)
    return {**webhook_out(fresh), "secret": hook.secret}


@router.get("/webhooks/{webhook_id}/deliveries", response={200: DeliveryPage, **ERRORS})
def list_deliveries(request, webhook_id: int, params: Query[DeliveryFilters]):
    """The delivery log, newest first; ``status`` filters."""
    hook = config.get_webhook_for_admin(request.auth, webhook_id)
    if params.status and params.status not in DeliveryStatus.values:
        raise ValidationFailed(
            _("Unknown status %(status)r. Known: %(known)s."),
            code="unknown_status",
            status=params.status,
            known=", ".join(DeliveryStatus.values),
        )
    return paginate(
        config.deliveries_of(hook, status=params.status), params, delivery_out
    )


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    response={200: DeliveryOut, **ERRORS},
)
def redeliver(request, delivery_id: int):
    """Send a failed or delivered event again; 409 while it is still being tried."""
    delivery = config.get_delivery_for_admin(request.auth, delivery_id)
    config.redeliver_delivery(delivery, actor=request.auth)
    delivery.refresh_from_db()  # the first attempt may already have run
    return delivery_out(delivery)
