"""Imports (issue 6): one ``ImportJob`` per uploaded file, its row-level problems, and
the link from an id in the old system to the record it became.

An import is checked first (a dry run over the whole file), then written in batches.
Each batch is one transaction that also moves the job's counters, so the job always
says exactly which lines are in the database: an interrupted import resumes after the
last committed batch and never writes a line twice (ADR 0015)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("uploaded: choose the columns")
    CHECKING = "checking", _("checking the file")
    CHECKED = "checked", _("checked: ready to import")
    QUEUED = "queued", _("waiting for the worker")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("stopped: can be resumed")
    CANCELLED = "cancelled", _("cancelled")


class ImportJob(models.Model):
    kind = models.CharField(_("what"), max_length=30)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ImportStatus.choices,
        default=ImportStatus.UPLOADED,
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    file_format = models.CharField(_("format"), max_length=10, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    headers = models.JSONField(_("columns in the file"), default=list)
    # {header: field key}; options: date_order, decimal, update_existing,
    # skip_invalid, values {lookup: {raw: target}}, merges {field: {variant: name}}.
    mapping = models.JSONField(_("column mapping"), default=dict)
    options = models.JSONField(_("options"), default=dict)
    # The dry run's findings (counts, unknown values, spelling groups, dates).
    report = models.JSONField(_("check results"), default=dict)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    # The last file line whose batch is committed: a resume starts after it.
    last_line = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("already there"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.filename}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, round(100 * self.rows_done / self.total_rows))


class IssueLevel(models.TextChoices):
    ERROR = "error", _("error")
    WARNING = "warning", _("warning")


class ImportIssue(models.Model):
    """A problem in one line of the file (kept for the first ``MAX_ISSUES``)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    line = models.PositiveIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=255, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=IssueLevel.choices)
    message = models.TextField(_("message"))
    at_run = models.BooleanField(default=False)

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "level", "line"])]

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


class ImportedRecord(models.Model):
    """Which record an id from the old system became: importing the same file twice,
    or an update of it, finds the record instead of making a second one."""

    kind = models.CharField(max_length=30)
    external_id = models.CharField(max_length=100)
    object_id = models.PositiveBigIntegerField()
    job = models.ForeignKey(
        ImportJob, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "external_id"], name="imported_record_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} → {self.object_id}"
