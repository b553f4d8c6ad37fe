"""Marketing lists and who is on them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MarketingList(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("marketing list")
        verbose_name_plural = _("marketing lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListMembership(models.Model):
    marketing_list = models.ForeignKey(
        MarketingList, on_delete=models.CASCADE, related_name="memberships"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="list_memberships"
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("list membership")
        verbose_name_plural = _("list memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["marketing_list", "contact"], name="membership_unique"
            )
        ]
        indexes = [models.Index(fields=["contact"], name="membership_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.marketing_list_id}"
