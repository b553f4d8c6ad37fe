"""Qualified leads (opportunities): one owner, an admin-defined stage, audited moves."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadflow.core.models import TimeStamped, Transition
from leadflow.opportunities.states import (
    ActivityKind,
    DecisionType,
    FollowUpBy,
    OpportunityStatus,
    QuoteStatus,
    StakeholderRole,
)

PROBABILITY = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class ForecastCategory(models.TextChoices):
    """DOMAIN.md §6.4: a stage gives the default, a salesperson may override it."""

    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


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
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=20,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
        help_text=_(
            "The default for open leads in this stage; a lead may override it."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    stale_after_days = models.PositiveSmallIntegerField(
        _("stale after (days without activity)"),
        null=True,
        blank=True,
        help_text=_("The owner is reminded; empty: never."),
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=0) & models.Q(weight__lte=1),
                name="stage_weight_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(forecast_category__in=ForecastCategory.values),
                name="stage_forecast_category_valid",
            ),
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
    result_reason = models.TextField(_("reason for the result"), blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    follow_up_by = models.CharField(
        _("followed up by"), max_length=20, choices=FollowUpBy.choices, blank=True
    )
    follow_up_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("follow-up person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), null=True)
    forecast_category_override = models.CharField(
        _("forecast category (set on the lead)"),
        max_length=20,
        choices=ForecastCategory.choices,
        blank=True,
        help_text=_("Empty: the stage's forecast category."),
    )
    forecast_category_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("forecast category set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    forecast_category_set_at = models.DateTimeField(
        _("forecast category set at"), null=True, blank=True
    )
    # The learned chance of winning (analytics.winprob), written by the worker; shown
    # beside the manual P win only while the model beats the stage weights.
    predicted_win = models.DecimalField(
        _("learned win probability"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
    )
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
            # Lists sort by newest first, within a status or over all leads.
            models.Index(
                fields=["status", "-created_at", "-id"], name="opp_status_created"
            ),
            models.Index(fields=["-created_at", "-id"], name="opp_created"),
            # Covering the board's per-stage sums and its service-type filter choices.
            models.Index(
                fields=["status", "stage", "owner", "expected_value", "p_win", "p_go"],
                name="opp_board_sums",
            ),
            models.Index(fields=["status", "service_type"], name="opp_status_service"),
            # The analyses: leads closed in a period (win rates, cycle times,
            # performance), grouped by result and owner, summed by value.
            models.Index(
                fields=["closed_at", "status", "owner", "expected_value"],
                name="opp_closed_analytics",
            ),
            models.Index(
                fields=["follow_up_on"],
                name="opp_nurture_follow_up",
                condition=models.Q(status="nurture"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    forecast_category_override__in=["", *ForecastCategory.values]
                ),
                name="opp_forecast_category_valid",
            )
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


class Stakeholder(models.Model):
    """A person at the customer who takes part in the decision, and where they stand."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stakeholders"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="stakes"
    )
    role = models.CharField(_("role"), max_length=30, choices=StakeholderRole.choices)
    phase = models.ForeignKey(
        "qualification.BuyingPhase",
        verbose_name=_("buying-clock phase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    phase_since = models.DateTimeField(_("in this phase since"), null=True, blank=True)

    class Meta:
        verbose_name = _("stakeholder")
        verbose_name_plural = _("stakeholders")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "contact"], name="stakeholder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"


class StakeholderPhaseChange(models.Model):
    """Every move on the buying clock, forward or back (a regression needs a reason)."""

    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="phase_changes"
    )
    from_phase = models.ForeignKey(
        "qualification.BuyingPhase",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_phase = models.ForeignKey(
        "qualification.BuyingPhase", on_delete=models.PROTECT, related_name="+"
    )
    regression = models.BooleanField(_("moved back"), default=False)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # A move back is a workflow event: the worker reads unprocessed rows (the outbox).
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["id"],
                name="phase_change_outbox",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_phase_id} -> {self.to_phase_id}"


class TeamMember(models.Model):
    """One of our people on the deal, with their role (estimator, engineer, ...)."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "user"], name="member_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class Competitor(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="competitors"
    )
    name = models.CharField(_("competitor"), max_length=150)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "name"], name="competitor_once"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["done_at", "due_at", "id"]
        indexes = [
            models.Index(
                fields=["assignee", "due_at"],
                name="activity_open_due",
                condition=models.Q(done_at__isnull=True),
            ),
            models.Index(fields=["opportunity", "due_at"], name="activity_opp_due"),
        ]

    def __str__(self) -> str:
        return self.subject


class Document(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="documents"
    )
    file = models.FileField(_("file"), upload_to="documents/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=50, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.name


class Quote(models.Model):
    """A priced offer. Sent quotes never change: a new revision supersedes them."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, related_name="quotes"
    )
    number = models.PositiveIntegerField(_("number"))
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=QuoteStatus.choices,
        default=QuoteStatus.DRAFT,
    )
    language = models.CharField(_("language"), max_length=2, default="nl")
    vat_rate = models.DecimalField(
        _("VAT rate"), max_digits=4, decimal_places=3, default=Decimal("0.21")
    )
    discount = models.DecimalField(
        _("overall discount"), max_digits=4, decimal_places=3, default=Decimal("0")
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    gate_override = models.BooleanField(
        _("made through a gate override"), default=False
    )
    override_reason = models.TextField(_("override reason"), blank=True)
    scotsman_met = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-number", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "revision"], name="quote_number_revision_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(vat_rate__gte=0) & models.Q(vat_rate__lt=1),
                name="quote_vat_rate_range",
            ),
            models.CheckConstraint(
                condition=models.Q(discount__gte=0) & models.Q(discount__lte=1),
                name="quote_discount_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "sent_at"], name="quote_status_sent")]

    def __str__(self) -> str:
        return f"Q{self.number}-{self.revision}"

    @property
    def reference(self) -> str:
        return f"Q{self.number:05d}-{self.revision}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount = models.DecimalField(
        _("discount"), max_digits=4, decimal_places=3, default=Decimal("0")
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="quoteline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0),
                name="quoteline_price_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(discount__gte=0) & models.Q(discount__lte=1),
                name="quoteline_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class QuoteTransition(Transition):
    quote = models.ForeignKey(
        Quote, on_delete=models.PROTECT, related_name="transitions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(Transition.Meta):
        verbose_name = _("quote transition")
        indexes = [models.Index(fields=["quote", "at"], name="quotetrans_quote_at")]
