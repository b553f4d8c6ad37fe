"""The append-only audit log: every change that is not a lifecycle transition.

Examples of rows:
  actor=anna, subject=contact#12, event_type="contact.updated",
      old={"email": "a@x.be"}, new={"email": "anna@x.be"}
  actor=None (system), subject=contact#12, event_type="marketing.added_to_database"
  actor=ben, subject=opportunity#4, event_type="opportunity.question_handed_over",
      new={"inquiry_summary": "..."}, reason="asks about delivery date"
Rows are never updated or deleted: the model refuses it and, on PostgreSQL and
SQLite, a database trigger refuses UPDATE (and DELETE on PostgreSQL).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit events are append-only.")

    def delete(self):
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject_type = models.CharField(_("subject type"), max_length=50)
    subject_id = models.BigIntegerField(_("subject id"))
    event_type = models.CharField(_("event"), max_length=60)
    old = models.JSONField(_("old values"), default=dict, blank=True)
    new = models.JSONField(_("new values"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "at"], name="audit_subject_at"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.subject_type}#{self.subject_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only.")
