"""In-app notifications (the rules engine of the workflows issue builds on these)."""

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
