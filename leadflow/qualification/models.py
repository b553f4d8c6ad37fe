"""Qualification settings, scorecards with history, and the buying-clock phases."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from leadflow.qualification.frameworks import CriterionStatus, Framework


class QualificationSettings(models.Model):
    """One row: the SCOTSMAN gate as the administrator configured it."""

    scotsman_threshold = models.PositiveSmallIntegerField(
        _("SCOTSMAN criteria that must be met before a quote"),
        default=5,
        validators=[MinValueValidator(0), MaxValueValidator(8)],
    )
    block_on_showstopper = models.BooleanField(
        _("a showstopper blocks the gate, whatever the count"), default=False
    )
    allow_override = models.BooleanField(
        _("directors and administrators may override the gate with a reason"),
        default=True,
    )

    class Meta:
        verbose_name = _("qualification settings")
        verbose_name_plural = _("qualification settings")

    def __str__(self) -> str:
        return str(_("Qualification settings"))


class Scorecard(models.Model):
    """One scoring of a qualified lead; a re-score adds a new version (history)."""

    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.PROTECT, related_name="scorecards"
    )
    framework = models.CharField(
        _("framework"), max_length=10, choices=Framework.choices
    )
    version = models.PositiveIntegerField(_("version"))
    met = models.PositiveSmallIntegerField(_("met"))
    total = models.PositiveSmallIntegerField(_("criteria"))
    work_remaining = models.PositiveSmallIntegerField(_("work remaining"))
    passes_gate = models.BooleanField(_("passes the gate"))
    threshold = models.PositiveSmallIntegerField(_("threshold"))
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    scored_at = models.DateTimeField(_("scored at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["-scored_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "framework", "version"],
                name="scorecard_version_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.framework} v{self.version}: {self.met}/{self.total}"


class CriterionScore(models.Model):
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.CASCADE, related_name="criteria"
    )
    criterion = models.CharField(_("criterion"), max_length=20)
    status = models.CharField(
        _("status"), max_length=12, choices=CriterionStatus.choices
    )
    evidence = models.TextField(_("evidence"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "criterion"], name="criterion_once_per_card"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.status}"


class BuyingPhase(models.Model):
    """A phase of the buying clock (DOMAIN.md §5.3); names and order are admin-editable."""

    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_nl = models.CharField(_("name (Dutch)"), max_length=100, blank=True)
    buyer_activity = models.TextField(_("what the buyer does"), blank=True)
    sales_actions = models.TextField(_("fitting sales actions (English)"), blank=True)
    sales_actions_nl = models.TextField(_("fitting sales actions (Dutch)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("buying-clock phase")
        verbose_name_plural = _("buying-clock phases")
        ordering = ["position"]

    def __str__(self) -> str:
        if translation.get_language() == "nl" and self.name_nl:
            return self.name_nl
        return self.name

    @property
    def actions(self) -> str:
        if translation.get_language() == "nl" and self.sales_actions_nl:
            return self.sales_actions_nl
        return self.sales_actions
