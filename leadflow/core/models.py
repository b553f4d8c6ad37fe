"""Abstract bases shared by the domain apps."""

from datetime import time

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Transition(models.Model):
    """Append-only base for ``<Model>Transition`` rows (history, outbox, analytics)."""

    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32)
    at = models.DateTimeField(_("at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("Transition rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Transition rows are append-only.")


class WorkingCalendar(models.Model):
    """The company's working week (one row): which days, from when to when, in which
    time zone. Escalation deadlines and inquiry ages count only these hours."""

    monday = models.BooleanField(_("Monday"), default=True)
    tuesday = models.BooleanField(_("Tuesday"), default=True)
    wednesday = models.BooleanField(_("Wednesday"), default=True)
    thursday = models.BooleanField(_("Thursday"), default=True)
    friday = models.BooleanField(_("Friday"), default=True)
    saturday = models.BooleanField(_("Saturday"), default=False)
    sunday = models.BooleanField(_("Sunday"), default=False)
    starts_at = models.TimeField(_("working day starts"), default=time(8, 30))
    ends_at = models.TimeField(_("working day ends"), default=time(17, 30))
    time_zone = models.CharField(
        _("time zone"),
        max_length=60,
        blank=True,
        help_text=_("Empty: the server's time zone (TIME_ZONE)."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    DAYS = (
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendar")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="calendar_day_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return str(_("Working calendar"))

    def clean(self):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from django.core.exceptions import ValidationError

        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The working day ends after it starts.")
        if not any(getattr(self, day) for day in self.DAYS):
            errors["monday"] = _("Choose at least one working day.")
        if self.time_zone:
            try:
                ZoneInfo(self.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                errors["time_zone"] = _("Unknown time zone %(zone)r.") % {
                    "zone": self.time_zone
                }
        if errors:
            raise ValidationError(errors)


class Holiday(models.Model):
    """A day off for the whole company: no working hours count on it."""

    day = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}"


class SubmittedForm(models.Model):
    """A page form posted once (``core.once``): a second post of the same rendered form
    — a double click, a browser retry — finds this row and lands on the first result
    instead of creating the record twice. Kept a week (pruned with the API's
    idempotency keys)."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    result_url = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "token"], name="submitted_form_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.token[:8]}"
