"""Frozen forecasts: what the open pipeline looked like at a moment (DOMAIN.md §6.5).

A snapshot copies every open qualified lead's value, probabilities, weight, category,
decision date, owner and stage, so "then and now" can be compared after CRMs (and we)
have overwritten them. Snapshots are written once and never changed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.opportunities.models import ForecastCategory


class SnapshotKind(models.TextChoices):
    AUTO = "auto", _("Automatic")
    MANUAL = "manual", _("Manual")


class ForecastSnapshot(models.Model):
    taken_at = models.DateTimeField(_("taken at"))
    # The company's local date of taken_at: at most one automatic snapshot per day.
    taken_on = models.DateField(_("taken on"))
    kind = models.CharField(_("kind"), max_length=10, choices=SnapshotKind.choices)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Totals over all lines, so listing snapshots needs no pass over their lines.
    line_count = models.PositiveIntegerField(_("open leads"), default=0)
    unweighted = models.DecimalField(
        _("unweighted total"), max_digits=18, decimal_places=2, default=0
    )
    weighted = models.DecimalField(
        _("weighted total"), max_digits=18, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        ordering = ["-taken_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["taken_on"],
                condition=models.Q(kind="auto"),
                name="forecast_snapshot_one_auto_per_day",
            )
        ]
        indexes = [models.Index(fields=["-taken_at", "-id"], name="snapshot_taken")]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M} ({self.get_kind_display()})"


class ForecastSnapshotLine(models.Model):
    """One open qualified lead as it stood when the snapshot was taken."""

    # Lines are read per snapshot (the unique constraint's index leads with it) and per
    # lead; no further indexes, so 300,000 lines are written without upkeep.
    snapshot = models.ForeignKey(
        ForecastSnapshot,
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # The owner's team then (people change teams; the forecast by team should not).
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    stage = models.ForeignKey(
        "opportunities.Stage",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    p_win = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    p_go = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    # The probability used: P win × P go, or the stage weight (DOMAIN.md §6.1/§6.3).
    weight = models.DecimalField(max_digits=8, decimal_places=6)
    category = models.CharField(
        max_length=20, choices=ForecastCategory.choices, blank=True
    )
    decision_date = models.DateField(null=True, blank=True)
    service_type = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("forecast snapshot line")
        verbose_name_plural = _("forecast snapshot lines")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "opportunity"], name="snapshot_line_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}/{self.opportunity_id}"


class Benchmark(models.Model):
    """A published ratio our own figures are compared with (DOMAIN.md §7): editable
    reference data, always shown with its source and year, as a range where known."""

    metric = models.CharField(_("metric"), max_length=50, db_index=True)
    label = models.CharField(_("label"), max_length=200)
    low = models.DecimalField(
        _("low"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    high = models.DecimalField(
        _("high"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    unit = models.CharField(
        _("unit"),
        max_length=10,
        choices=[
            ("ratio", _("ratio (0–1)")),
            ("days", _("days")),
            ("hours", _("hours")),
        ],
        default="ratio",
    )
    segment = models.CharField(_("segment"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=300)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    definition = models.TextField(_("definition"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("benchmark")
        verbose_name_plural = _("benchmarks")
        ordering = ["metric", "segment", "id"]

    def __str__(self) -> str:
        return self.label


class WinModel(models.Model):
    """One training run of the learned win probability (analytics.winprob): its
    parameters and how it scored on a later period it did not see (the backtest)."""

    trained_at = models.DateTimeField(_("trained at"))
    # Leads closed before this moment trained it; later ones scored it.
    split_at = models.DateTimeField(_("train/test split"))
    train_count = models.PositiveIntegerField(_("leads trained on"), default=0)
    test_count = models.PositiveIntegerField(_("leads tested on"), default=0)
    params = models.JSONField(_("parameters"), default=dict)
    # Brier scores on the test period (lower is better) and calibration bins.
    brier = models.FloatField(_("Brier score"), null=True)
    brier_stage = models.FloatField(_("Brier score, stage weights"), null=True)
    brier_naive_bayes = models.FloatField(_("Brier score, naive Bayes"), null=True)
    calibration = models.JSONField(_("calibration"), default=list)
    # Shown to users only when it beats the stage weights on the test period.
    is_shown = models.BooleanField(_("shown to users"), default=False)

    class Meta:
        verbose_name = _("win-probability model")
        verbose_name_plural = _("win-probability models")
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"{self.trained_at:%Y-%m-%d %H:%M}"


class ReportCache(models.Model):
    """A slow analysis, kept as computed (``analytics.cache``): the page, its export
    and the API serve it for up to ``LEADFLOW_ANALYTICS_MAX_AGE`` and the worker
    refreshes the default views in the background. Results are per language and per
    reach (all records, with or without lead links, or one salesperson)."""

    report = models.CharField(max_length=50)
    key = models.CharField(max_length=64)
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)
    result = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "key"], name="report_cache_once")
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.computed_at:%Y-%m-%d %H:%M}"
