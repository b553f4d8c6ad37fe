"""Stored answers to API calls sent with an ``Idempotency-Key`` header."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotentRequest(models.Model):
    """One creating API call made with an ``Idempotency-Key``, and its answer.

    The row is written (``status`` NULL) before the view runs, which makes the key
    taken while the call is in progress, and completed with the status and body once
    the view answered 2xx or 4xx. A retry with the same key and body gets the stored
    answer; a 5xx or an exception deletes the row so the client may try again. Rows
    expire after 24 hours (``leadflow.api.idempotency.prune``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.TextField(_("path"))
    fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        help_text=_("SHA-256 of the request body."),
    )
    status = models.PositiveSmallIntegerField(
        _("status"), null=True, blank=True, help_text=_("Empty while in progress.")
    )
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="api_idempotency_user_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__isnull=True)
                | Q(status__gte=200, status__lt=300)
                | Q(status__gte=400, status__lt=500),
                name="api_idempotency_status_2xx_4xx",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="api_idempotency_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
