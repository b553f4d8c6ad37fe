"""Workflows: notifications, the rules that send them, escalations and reminders,
webhooks, and the worker's schedule."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    event_type = models.CharField(_("event"), max_length=60)
    message = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    subject_type = models.CharField(max_length=50, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    rule = models.ForeignKey(
        "workflows.NotificationRule",
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    # The outbox row that caused it ("intake.inquirytransition:42"): with the rule and
    # the recipient it makes delivery idempotent when a worker runs twice.
    source = models.CharField(max_length=80, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient"),
            models.Index(
                fields=["recipient"],
                name="notif_unread",
                condition=models.Q(read_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "source", "recipient"],
                condition=models.Q(rule__isnull=False),
                name="notif_once_per_rule_event_recipient",
            )
        ]

    def __str__(self) -> str:
        return self.message[:60]


class RuleEvent(models.TextChoices):
    INQUIRY_REGISTERED = "inquiry.registered", _("New inquiry registered")
    INQUIRY_CLOSED = "inquiry.closed", _("Inquiry closed")
    OPPORTUNITY_CREATED = "opportunity.created", _("Qualified lead created")
    OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed", _("Stage changed")
    OPPORTUNITY_WON = "opportunity.won", _("Qualified lead won")
    OPPORTUNITY_LOST = "opportunity.lost", _("Qualified lead lost")
    QUOTE_SENT = "quote.sent", _("Quote sent")
    QUOTE_ACCEPTED = "quote.accepted", _("Quote accepted")
    STAKEHOLDER_MOVED_BACK = (
        "stakeholder.moved_back",
        _("Stakeholder moved back on the buying clock"),
    )


class NotificationRule(models.Model):
    """Who is told of which events. Empty filters match everything; filters combine
    with AND, the values inside one filter with OR.

    Example (SPEC): the sales director gets every new inquiry from a list of key
    accounts or from companies above 200 employees → two rules on
    "New inquiry registered": one with the companies, one with minimum size 200.
    """

    name = models.CharField(_("name"), max_length=150)
    event = models.CharField(_("event"), max_length=40, choices=RuleEvent.choices)
    is_active = models.BooleanField(_("active"), default=True)
    outcome = models.CharField(
        _("only this inquiry outcome"),
        max_length=10,
        blank=True,
        choices=[
            ("qualified", _("Qualified")),
            ("nurture", _("Nurture")),
            ("archived", _("Archived")),
        ],
    )
    companies = models.ManyToManyField(
        "contacts.Company",
        verbose_name=_("only these companies"),
        blank=True,
        related_name="+",
    )
    min_company_size = models.PositiveIntegerField(
        _("only companies with at least this many employees"), null=True, blank=True
    )
    channels = models.ManyToManyField(
        "intake.Channel",
        verbose_name=_("only these channels"),
        blank=True,
        related_name="+",
    )
    campaigns = models.ManyToManyField(
        "intake.Campaign",
        verbose_name=_("only these campaigns"),
        blank=True,
        related_name="+",
    )
    departments = models.ManyToManyField(
        "accounts.Department",
        verbose_name=_("only these departments"),
        blank=True,
        related_name="+",
    )
    min_value = models.DecimalField(
        _("only an expected value above"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    service_type = models.CharField(
        _("only this service type"), max_length=100, blank=True
    )
    teams = models.ManyToManyField(
        "accounts.Team",
        verbose_name=_("only owners in these teams"),
        blank=True,
        related_name="+",
    )
    recipient_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tell these people"),
        blank=True,
        related_name="+",
    )
    recipient_roles = models.JSONField(
        _("tell everyone with these roles"),
        default=list,
        blank=True,
        help_text=_('Role codes, e.g. ["sales_director"].'),
    )
    notify_owner = models.BooleanField(_("tell the owner"), default=False)
    notify_owner_manager = models.BooleanField(
        _("tell the owner's manager"), default=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["event", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from leadflow.accounts.models import Role

        roles = self.recipient_roles
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValidationError(
                {
                    "recipient_roles": _(
                        'Give a list of role codes, e.g. ["sales_director"].'
                    )
                }
            )
        unknown = sorted(set(roles) - set(Role.values))
        if unknown:
            raise ValidationError(
                {
                    "recipient_roles": _("Unknown roles: %(roles)s. Known: %(known)s.")
                    % {"roles": ", ".join(unknown), "known": ", ".join(Role.values)}
                }
            )


# --- escalations and reminders ------------------------------------------------------------


class EscalationSettings(models.Model):
    """When open inquiries escalate (one row, edited on the settings page)."""

    inquiry_after_hours = models.DecimalField(
        _("remind the assignee after (working hours)"),
        max_digits=6,
        decimal_places=2,
        default=4,
        null=True,
        blank=True,
        help_text=_("Empty: inquiries do not escalate."),
    )
    manager_after_hours = models.DecimalField(
        _("then tell a manager after (more working hours)"),
        max_digits=6,
        decimal_places=2,
        default=4,
        null=True,
        blank=True,
        help_text=_("Empty: only the assignee is reminded."),
    )
    remind_overdue_activities = models.BooleanField(
        _("remind assignees of overdue activities"), default=True
    )
    remind_stale_leads = models.BooleanField(
        _("remind owners of stale qualified leads"), default=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("escalation settings")
        verbose_name_plural = _("escalation settings")

    def __str__(self) -> str:
        return str(_("Escalation settings"))


class EscalationKind(models.TextChoices):
    INQUIRY_OPEN = "inquiry_open", _("Inquiry still open")
    INQUIRY_MANAGER = "inquiry_manager", _("Inquiry still open (manager)")
    LEAD_STALE = "lead_stale", _("Qualified lead without activity")
    ACTIVITY_OVERDUE = "activity_overdue", _("Activity overdue")
    NURTURE_FOLLOW_UP = "nurture_follow_up", _("Nurture follow-up due")


class EscalationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Escalation(models.Model):
    """A timed reminder: armed with a deadline, then sent or cancelled, exactly once.

    ``target`` names the record and ``key`` identifies the state of the record it was armed for (the inquiry version,
    the activity's due date, the lead's last touch, the follow-up date): one escalation
    per (kind, target, key), so a worker that runs twice cannot send it twice."""

    kind = models.CharField(_("kind"), max_length=20, choices=EscalationKind.choices)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EscalationStatus.choices,
        default=EscalationStatus.PENDING,
    )
    inquiry = models.ForeignKey(
        "intake.Inquiry",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    activity = models.ForeignKey(
        "opportunities.Activity",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalations",
    )
    # "inquiry:42", "opportunity:7", "activity:9": the record, for the unique key.
    target = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    # The working hours it waits for, as configured when it was armed (the message
    # names them even if the settings change before it fires).
    after_hours = models.DecimalField(
        _("after working hours"), max_digits=7, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-due_at", "-id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="escalation_pending_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["inquiry", "status"], name="escalation_inquiry"),
            models.Index(fields=["opportunity", "kind"], name="escalation_opportunity"),
            models.Index(fields=["activity", "kind"], name="escalation_activity"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target", "key"], name="escalation_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


# --- webhooks ---------------------------------------------------------------------------


class Webhook(models.Model):
    """POST a signed JSON event to a URL. The body is signed with HMAC-SHA256 over
    ``<timestamp>.<body>`` with the secret; the receiver checks
    ``X-Leadflow-Signature: sha256=<hex>`` and the timestamp's age."""

    name = models.CharField(_("name"), max_length=150)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=128,
        help_text=_("Shared with the receiver to check the signature."),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("Event codes; empty = every event."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events

    def clean(self):
        from urllib.parse import urlsplit

        from django.core.exceptions import ValidationError

        errors = {}
        if self.url and urlsplit(self.url).scheme.lower() not in ("http", "https"):
            errors["url"] = _("Webhooks are posted over http or https.")
        events = self.events
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            errors["events"] = _('Give a list of event codes, e.g. ["quote.accepted"].')
        else:
            unknown = sorted(set(events) - set(RuleEvent.values))
            if unknown:
                errors["events"] = _("Unknown events: %(events)s.") % {
                    "events": ", ".join(unknown)
                }
        if errors:
            raise ValidationError(errors)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one webhook, with every attempt's outcome (the delivery log)."""

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(_("event"), max_length=60)
    source = models.CharField(max_length=80)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["webhook", "-created_at"], name="webhook_delivery_log"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "source"], name="webhook_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.webhook}"


# --- the worker's schedule -----------------------------------------------------------------


class ScheduledJob(models.Model):
    """A recurring job the scheduler tick runs when due (claimed by conditional UPDATE
    of ``next_run_at``, so two workers never run it twice for one slot)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_result = models.CharField(_("last result"), max_length=300, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SchedulerState(models.Model):
    """One row: the token of the live scheduler chain and its heartbeat. A tick whose
    token is no longer current stops instead of scheduling the next one, so restarting
    the scheduler never leaves two chains running."""

    token = models.CharField(max_length=36)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scheduler")
        verbose_name_plural = _("scheduler")

    def __str__(self) -> str:
        return f"scheduler {self.token[:8]}"
