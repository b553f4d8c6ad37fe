"""Users, their role, team and department, and hashed API tokens."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INSIDE_SALES = "inside_sales", _("Inside sales")
    SALES = "sales", _("Salesperson")
    SALES_DIRECTOR = "sales_director", _("Sales director")
    MARKETING = "marketing", _("Marketing")
    ADMIN = "admin", _("Administrator")
    COLLEAGUE = "colleague", _("Colleague")


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.COLLEAGUE
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    email_notifications = models.BooleanField(
        _("e-mail me my notifications"), default=True
    )
    email_digest = models.BooleanField(
        _("one daily digest instead of an e-mail per notification"), default=False
    )
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=[("en", "English"), ("nl", "Nederlands")],
        default="en",
    )
    # How many open qualified leads and open quotes this person can carry at once
    # (the capacity analysis, DOMAIN.md §8 KPI 17); empty: not set.
    capacity = models.PositiveSmallIntegerField(
        _("capacity (open leads + quotes)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def effective_role(self) -> str:
        """Superusers act as administrators whatever their stored role."""
        return Role.ADMIN if self.is_superuser else self.role


class ApiToken(models.Model):
    """A bearer token: only its SHA-256 is stored; the clear text is shown once."""

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class CalendarFeed(models.Model):
    """A user's private calendar subscription (iCalendar) of their activities.

    Only the SHA-256 of the secret in the URL is stored (like API tokens): the link
    is shown once, when it is made; "reset" revokes it and makes a new one (ADR 0013).
    """

    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token_hash = models.CharField(_("secret hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last fetched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
