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


class WebForm(models.Model):
    """A public inquiry form for one campaign, at ``/forms/<slug>/`` (ADR 0011)."""

    campaign = models.ForeignKey(
        "intake.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="web_forms",
    )
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    consent_text = models.TextField(_("consent text"), blank=True)
    allowed_origins = models.TextField(_("sites that may embed the form"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["-is_active", "title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def origins(self) -> list[str]:
        return [
            line.strip() for line in self.allowed_origins.splitlines() if line.strip()
        ]


class WebFormAttempt(models.Model):
    """One POST to a public web form: the rate limit counts these (hashed IP, no raw IP).

    Kept for a day (pruned on the next submissions), so spam can be looked at in the
    admin and every app process counts the same rows.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        DUPLICATE = "duplicate", _("duplicate")
        HONEYPOT = "honeypot", _("honeypot filled")
        TOO_FAST = "too_fast", _("sent too fast")
        BAD_TOKEN = "bad_token", _("missing, forged or expired token")
        INVALID = "invalid", _("invalid input")

    web_form = models.ForeignKey(
        WebForm, on_delete=models.CASCADE, related_name="attempts"
    )
    ip_hash = models.CharField(_("address hash"), max_length=64)
    at = models.DateTimeField(_("at"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    fingerprint = models.CharField(_("submission hash"), max_length=64, blank=True)
    inquiry = models.ForeignKey(
        "intake.Inquiry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("web form attempt")
        verbose_name_plural = _("web form attempts")
        indexes = [
            models.Index(fields=["ip_hash", "at"], name="webform_attempt_ip"),
            models.Index(fields=["web_form", "fingerprint", "at"], name="webform_dup"),
            models.Index(fields=["at"], name="webform_attempt_at"),
        ]

    def __str__(self) -> str:
        return f"{self.web_form_id} {self.outcome} {self.at:%Y-%m-%d %H:%M}"
