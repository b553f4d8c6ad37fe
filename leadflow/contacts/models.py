"""Companies and contacts: one record type for people, lifecycle kept as data."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.core.models import TimeStamped


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    EX_CUSTOMER = "ex_customer", _("Ex-customer")


class Consent(models.TextChoices):
    UNKNOWN = "unknown", _("Not asked")
    GRANTED = "granted", _("Granted")
    OPTED_OUT = "opted_out", _("Opted out")


class Company(TimeStamped):
    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(_("match key"), max_length=200, db_index=True)
    size = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="BE")
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=30, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    lifecycle = models.CharField(
        _("lifecycle"),
        max_length=20,
        choices=Lifecycle.choices,
        default=Lifecycle.PROSPECT,
    )
    is_key_prospect = models.BooleanField(_("key prospect"), default=False)
    last_sales_visit_at = models.DateTimeField(
        _("last sales visit"), null=True, blank=True
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifecycle__in=Lifecycle.values),
                name="company_lifecycle_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStamped):
    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(_("match key"), max_length=200, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email_key = models.CharField(
        _("e-mail key"), max_length=254, blank=True, db_index=True
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_key = models.CharField(
        _("phone key"), max_length=20, blank=True, db_index=True
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=5, default="nl")
    lifecycle = models.CharField(
        _("lifecycle"),
        max_length=20,
        choices=Lifecycle.choices,
        default=Lifecycle.PROSPECT,
    )
    in_marketing_database = models.BooleanField(
        _("in marketing database"), default=False
    )
    marketing_consent = models.CharField(
        _("marketing consent"),
        max_length=20,
        choices=Consent.choices,
        default=Consent.UNKNOWN,
    )
    consent_changed_at = models.DateTimeField(
        _("consent changed at"), null=True, blank=True
    )
    last_sales_visit_at = models.DateTimeField(
        _("last sales visit"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["company", "name_key"], name="contact_company_name")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifecycle__in=Lifecycle.values),
                name="contact_lifecycle_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(marketing_consent__in=Consent.values),
                name="contact_consent_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_lifecycle(self) -> str:
        """A person's lifecycle is their company's when they have one."""
        return self.company.lifecycle if self.company_id else self.lifecycle

    @property
    def opted_out(self) -> bool:
        return self.marketing_consent == Consent.OPTED_OUT


class ContactToken(models.Model):
    """One word of a contact's name, for word-prefix lookups ('jans' finds 'Piet Janssens')."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="tokens"
    )
    token = models.CharField(max_length=60, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "token"], name="contacttoken_unique"
            )
        ]

    def __str__(self) -> str:
        return self.token


class CompanyToken(models.Model):
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="tokens"
    )
    token = models.CharField(max_length=60, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "token"], name="companytoken_unique"
            )
        ]

    def __str__(self) -> str:
        return self.token


class VisitKind(models.TextChoices):
    WEBSITE = "website", _("Website visit")
    SALES = "sales", _("Sales visit")


class Visit(models.Model):
    """A recorded visit: a page view from web analytics or a salesperson's visit."""

    kind = models.CharField(_("kind"), max_length=10, choices=VisitKind.choices)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="visits"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="visits"
    )
    at = models.DateTimeField(_("at"))
    url = models.CharField(_("page"), max_length=500, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["contact", "-at"], name="visit_contact_at"),
            models.Index(fields=["company", "-at"], name="visit_company_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False)
                | models.Q(company__isnull=False),
                name="visit_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class Invoice(models.Model):
    """Customer context (entered or imported): an invoice, overdue when unpaid past due."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="invoices"
    )
    number = models.CharField(_("number"), max_length=50)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["due_on"]
        indexes = [
            models.Index(
                fields=["company", "due_on"],
                name="invoice_unpaid",
                condition=models.Q(paid_on__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.number


class Complaint(models.Model):
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="complaints"
    )
    opened_on = models.DateField(_("opened on"))
    subject = models.CharField(_("subject"), max_length=300)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-opened_on"]

    def __str__(self) -> str:
        return self.subject


class SalesRecord(models.Model):
    """Revenue with a customer per year (imported from the ERP, or entered)."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="sales_records"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("sales record")
        verbose_name_plural = _("sales history")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["company", "year"], name="sales_year_once")
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.year}"
