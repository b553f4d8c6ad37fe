"""Qualified leads (opportunities): one owner, an admin-defined stage, audited moves."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadflow.core.models import TimeStamped, Transition
from leadflow.opportunities.states import DecisionType, OpportunityStatus

PROBABILITY = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class Stage(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(
        pgettext_lazy("sort position", "order"), default=0
    )
    weight = models.DecimalField(
        _("forecast weight"), max_digits=4, decimal_places=3, validators=PROBABILITY
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=0) & models.Q(weight__lte=1),
                name="stage_weight_0_1",
            )
        ]

    def __str__(self) -> str:
        if translation.get_language() == "nl" and self.name_nl:
            return self.name_nl
        return self.name


class Opportunity(TimeStamped):
    title = models.CharField(_("title"), max_length=200)
    inquiry = models.OneToOneField(
        "intake.Inquiry",
        verbose_name=_("inquiry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunity",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("primary contact"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_opportunities",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
    )
    expected_value = models.DecimalField(
        _("expected value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    start_date = models.DateField(_("project start"), null=True, blank=True)
    p_win = models.DecimalField(
        _("P win"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=PROBABILITY,
    )
    p_go = models.DecimalField(
        _("P go"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=PROBABILITY,
    )
    decision_type = models.CharField(
        _("purchase decision"), max_length=20, choices=DecisionType.choices, blank=True
    )
    service_type = models.CharField(
        _("service/product type"), max_length=100, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("qualified lead")
        verbose_name_plural = _("qualified leads")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["owner", "status", "created_at"], name="opp_owner_status"
            ),
            models.Index(fields=["contact", "status"], name="opp_contact_status"),
            models.Index(fields=["company", "status"], name="opp_company_status"),
            models.Index(
                fields=["status", "decision_date"], name="opp_status_decision"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OpportunityTransition(Transition):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, related_name="transitions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(Transition.Meta):
        verbose_name = _("qualified lead transition")
        indexes = [
            models.Index(fields=["opportunity", "at"], name="opptrans_opp_at"),
            models.Index(
                fields=["id"],
                name="opptrans_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            ),
        ]
