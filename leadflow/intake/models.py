"""Inquiries (aanvragen), re-orders, and the admin-editable channel and campaign lists."""

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadflow.core.models import TimeStamped, Transition
from leadflow.intake.states import InquiryStatus, Outcome


class Channel(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100, blank=True)
    prompted_by_default = models.BooleanField(
        _("prompted by us by default"),
        default=False,
        help_text=_("Campaigns, telemarketing and visits are prompted; a call is not."),
    )
    order = models.PositiveSmallIntegerField(
        pgettext_lazy("sort position", "order"), default=0
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        if translation.get_language() == "nl" and self.name_nl:
            return self.name_nl
        return self.name


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-is_active", "name"]

    def __str__(self) -> str:
        return self.name


class InquiryQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=InquiryStatus.OPEN)


class Inquiry(TimeStamped):
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="inquiries",
    )
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
    )
    summary = models.TextField(_("question"))
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
    )
    referrer = models.CharField(_("referred by"), max_length=200, blank=True)
    prompted = models.BooleanField(
        _("prompted by us"),
        default=False,
        help_text=_("Yes when a campaign, telemarketing or a visit caused it."),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_inquiries",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InquiryStatus.choices,
        default=InquiryStatus.OPEN,
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, blank=True
    )
    close_reason = models.TextField(_("reason"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["received_at", "id"]
        indexes = [
            # The analyses: inquiries received in a period, counted per channel,
            # department, campaign, outcome and assessor without reading the rows.
            models.Index(
                fields=[
                    "received_at",
                    "channel",
                    "department",
                    "campaign",
                    "outcome",
                    "status",
                    "assignee",
                ],
                name="inquiry_analytics",
            ),
            models.Index(
                fields=["received_at", "id"],
                name="inquiry_open_queue",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["channel", "received_at"],
                name="inquiry_open_channel",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["department", "received_at"],
                name="inquiry_open_department",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["assignee", "received_at"],
                name="inquiry_open_assignee",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["status", "received_at"], name="inquiry_status_received"
            ),
            models.Index(fields=["contact", "-received_at"], name="inquiry_contact"),
            models.Index(fields=["company", "-received_at"], name="inquiry_company"),
            models.Index(
                fields=["received_by", "-received_at"], name="inquiry_received_by"
            ),
            models.Index(
                fields=["created_by", "-received_at"], name="inquiry_created_by"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="open", outcome="", closed_at__isnull=True)
                    | models.Q(
                        status="closed",
                        outcome__in=["qualified", "nurture", "archived"],
                        closed_at__isnull=False,
                    )
                ),
                name="inquiry_closed_has_one_outcome",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="archived") | ~models.Q(close_reason=""),
                name="inquiry_archived_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary[:60]}"

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._loaded_status = self.__dict__.get("status")

    def save(self, *args, **kwargs):
        # Closed inquiries are immutable (a database trigger enforces it too).
        if getattr(self, "_loaded_status", None) == InquiryStatus.CLOSED:
            from leadflow.intake.errors import InquiryClosed

            raise InquiryClosed()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Inquiries are never deleted.")

    @property
    def is_open(self) -> bool:
        return self.status == InquiryStatus.OPEN


class InquiryTransition(Transition):
    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.PROTECT, related_name="transitions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(Transition.Meta):
        verbose_name = _("inquiry transition")
        indexes = [
            models.Index(fields=["inquiry", "at"], name="inqtrans_inquiry_at"),
            models.Index(fields=["to_state", "at"], name="inqtrans_to_at"),
            models.Index(
                fields=["id"],
                name="inqtrans_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            ),
        ]


class Order(TimeStamped):
    """A re-order or repeat purchase, booked directly instead of as an inquiry."""

    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    description = models.TextField(_("what was ordered"))
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    ordered_at = models.DateTimeField(_("ordered at"))
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-ordered_at"], name="order_contact"),
            models.Index(fields=["company", "-ordered_at"], name="order_company"),
            models.Index(fields=["-ordered_at"], name="order_ordered_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False)
                | models.Q(company__isnull=False),
                name="order_has_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="order_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description[:60]}"


# --- e-mail intake (issue 6) --------------------------------------------------------


class MailStatus(models.TextChoices):
    PROCESSED = "processed", _("processed")
    IGNORED = "ignored", _("ignored")
    FAILED = "failed", _("failed")


class MailSource(models.TextChoices):
    IMAP = "imap", _("mailbox (IMAP)")
    HTTP = "http", _("forwarded (HTTP)")


class InboundMail(models.Model):
    """One message that reached the sales mailbox, kept once per Message-ID.

    The unique ``message_id`` makes intake idempotent: a message delivered twice (an
    IMAP poll that crashed before flagging it, a forwarding service that retries)
    finds its row and creates nothing. A processed mail points at its inquiry; an
    ignored one (auto-reply, bounce) has none; a failed one keeps its raw bytes and
    the error, so nothing is lost and ``poll_mailbox --retry-failed`` can try again.
    """

    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    received_at = models.DateTimeField(_("received at"))
    from_address = models.CharField(_("from (address)"), max_length=254, blank=True)
    from_name = models.CharField(_("from (name)"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    inquiry = models.ForeignKey(
        Inquiry,
        verbose_name=_("inquiry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_mails",
    )
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices)
    error = models.TextField(_("error"), blank=True)
    source = models.CharField(_("source"), max_length=4, choices=MailSource.choices)
    raw_size = models.PositiveIntegerField(_("size (bytes)"))
    raw = models.FileField(
        _("raw message"), upload_to="inbound_mail/%Y/%m/", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="inboundmail_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="processed")
                | models.Q(inquiry__isnull=False),
                name="inboundmail_processed_has_inquiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"


class InquiryAttachment(models.Model):
    """A file that came with an inquiry (an e-mail attachment).

    A refused file (type not allowed, too large, empty) is kept as a row without a
    file and with ``not_kept_reason``, so the inquiry shows what was left out.
    """

    inquiry = models.ForeignKey(
        Inquiry,
        verbose_name=_("inquiry"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField(
        _("file"), upload_to="inquiry_attachments/%Y/%m/", blank=True
    )
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    not_kept_reason = models.CharField(
        _("not kept because"), max_length=300, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inquiry attachment")
        verbose_name_plural = _("inquiry attachments")
        ordering = ["id"]
        indexes = [models.Index(fields=["inquiry", "id"], name="inqattach_inquiry")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(file="") ^ models.Q(not_kept_reason=""),
                name="inqattach_file_or_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kept(self) -> bool:
        return bool(self.file)

    @property
    def not_kept_text(self) -> str:
        """The stored ``code:value`` reason, worded in the reader's language."""
        code, _sep, value = self.not_kept_reason.partition(":")
        if code == "type":
            return _("files of type %(type)s are not accepted") % {
                "type": value or _("(none)")
            }
        if code == "empty":
            return str(_("the file is empty"))
        if code == "too_large":
            return _("larger than %(max)s MB") % {"max": value}
        if code == "too_many":
            return _("more than %(max)s attachments in one e-mail") % {"max": value}
        return self.not_kept_reason
