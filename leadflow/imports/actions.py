"""Import rules, one place for the pages, the API and ``manage.py import_data``:
upload → map the columns (matched automatically first) → check (dry run) → import in
batches (worker task or command line) → resume after an interruption."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.accounts.permissions import has_capability
from leadflow.audit.actions import record_event
from leadflow.core.errors import Conflict, Forbidden, ValidationFailed
from leadflow.imports import engine
from leadflow.imports import values as V
from leadflow.imports.fields import Kind, kind_named
from leadflow.imports.models import ImportJob, ImportStatus
from leadflow.imports.reading import ImportFileError, open_table

# A running import whose worker has not reported for this long was interrupted.
STALE_AFTER = timedelta(minutes=3)
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
OPTION_KEYS = {
    "date_order",
    "decimal",
    "update_existing",
    "skip_invalid",
    "values",
    "merges",
}


def max_bytes() -> int:
    return int(getattr(settings, "LEADFLOW_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_kind(user, key: str) -> Kind:
    kind = kind_named(key)
    if not has_capability(user, kind.capability):
        raise Forbidden(_("You may not import %(what)s.") % {"what": kind.label})
    return kind


def auto_map(headers: list[str], kind: Kind) -> dict[str, str]:
    """Each header to the field whose key, label or synonym (English or Dutch) it
    matches, ignoring case, accents and punctuation; every field at most once."""
    names: dict[str, str] = {}
    for f in kind.fields:
        for name in (f.key, f.key.replace("_", " "), str(f.label), *f.synonyms):
            names.setdefault(V.header_key(name), f.key)
    with_dutch_labels = _dutch_labels(kind)
    for label, key in with_dutch_labels:
        names.setdefault(V.header_key(label), key)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = names.get(V.header_key(header))
        if key and key not in used:
            mapping[header] = key
            used.add(key)
    return mapping


def _dutch_labels(kind: Kind):
    from django.utils import translation

    with translation.override("nl"):
        return [(str(f.label), f.key) for f in kind.fields]


@transaction.atomic
def upload(*, actor, kind_key: str, uploaded, filename: str = "") -> ImportJob:
    """Store the file and read its header row; columns are matched automatically."""
    kind = allowed_kind(actor, kind_key)
    size = uploaded.size
    if not size:
        raise ValidationFailed(_("The file is empty."), code="empty_file")
    if size > max_bytes():
        raise ValidationFailed(
            _("The file is larger than %(mb)s MB."),
            code="file_too_large",
            mb=max_bytes() // (1024 * 1024),
        )
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    name = (filename or getattr(uploaded, "name", "") or "import").rsplit("/", 1)[-1]
    job = ImportJob(
        kind=kind.key,
        filename=name[:255],
        size=size,
        sha256=digest.hexdigest(),
        created_by=actor,
    )
    job.file.save(f"{digest.hexdigest()[:16]}-{name[-80:]}", File(uploaded), save=False)
    try:
        table = open_table(engine._path(job), filename=name)
    except ImportFileError as exc:
        job.file.delete(save=False)
        raise ValidationFailed(str(exc), code="unreadable_file") from exc
    job.file_format = table.format
    job.encoding = table.encoding or ""
    job.delimiter = table.delimiter or ""
    job.headers = table.headers
    job.mapping = auto_map(table.headers, kind)
    job.save()
    record_event(
        actor=actor,
        subject=job,
        event_type="import.uploaded",
        new={"kind": kind.key, "file": job.filename, "size": size},
    )
    return job


def _locked(job: ImportJob, version: int | None) -> ImportJob:
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if version is not None and locked.version != version:
        raise Conflict()
    return locked


def is_editable(job: ImportJob, *, now=None) -> bool:
    """Columns and options may change before the import starts (and while a check
    runs no more: unless the worker checking it stopped reporting)."""
    return job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED) or (
        job.status == ImportStatus.CHECKING and is_stale(job, now=now)
    )


def _editable(job: ImportJob) -> None:
    if not is_editable(job):
        raise Conflict(
            _("This import has started: its columns and options cannot change."),
            code="import_started",
        )


@transaction.atomic
def set_mapping(
    job: ImportJob,
    *,
    actor,
    mapping: dict[str, str],
    options: dict | None = None,
    version: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ImportJob:
    """Change which column feeds which field, and the options; the check must run
    again afterwards."""
    job = _locked(job, version)
    _editable(job)
    kind = kind_named(job.kind)
    keys = {f.key for f in kind.fields}
    unknown_headers = set(mapping) - set(job.headers)
    if unknown_headers:
        raise ValidationFailed(
            _("The file has no column %(columns)s."),
            columns=", ".join(sorted(unknown_headers)),
        )
    chosen = [key for key in mapping.values() if key]
    bad = set(chosen) - keys
    if bad:
        raise ValidationFailed(
            _("Unknown fields: %(fields)s."), fields=", ".join(sorted(bad))
        )
    doubled = {key for key in chosen if chosen.count(key) > 1}
    if doubled:
        raise ValidationFailed(
            _("Two columns go to the same field: %(fields)s."),
            fields=", ".join(str(kind.field(k).label) for k in sorted(doubled)),
        )
    options = dict(options or {})
    if set(options) - OPTION_KEYS:
        raise ValidationFailed(
            _("Unknown options: %(options)s."),
            options=", ".join(sorted(set(options) - OPTION_KEYS)),
        )
    if options.get("date_order") not in (None, "", "dmy", "mdy", "iso"):
        raise ValidationFailed(_("The date order is dmy, mdy or iso."))
    if options.get("decimal") not in (None, "", ",", "."):
        raise ValidationFailed(_("The decimal separator is a comma or a full stop."))
    if encoding is not None or delimiter is not None:
        job.encoding = encoding if encoding is not None else job.encoding
        job.delimiter = delimiter if delimiter is not None else job.delimiter
        try:
            job.headers = engine.table_of(job).headers
        except ImportFileError as exc:
            raise ValidationFailed(str(exc), code="unreadable_file") from exc
        mapping = {h: k for h, k in mapping.items() if h in job.headers} or auto_map(
            job.headers, kind
        )
    job.mapping = {h: k for h, k in mapping.items() if k}
    job.options = {k: v for k, v in options.items() if v not in (None, "")}
    job.status = ImportStatus.UPLOADED
    job.report = {}
    job.version += 1
    job.save()
    return job


def check_job(job: ImportJob, *, actor, version: int | None = None) -> ImportJob:
    """The dry run over the whole file (nothing but the findings is written). It runs
    outside one long transaction so that a big file does not hold the database's
    write lock; the job's version guards against a change made meanwhile."""
    with transaction.atomic():
        job = _locked(job, version)
        if job.status != ImportStatus.CHECKING:
            _editable(job)
    kind = kind_named(job.kind)
    try:
        report = engine.check(job, kind)
    except ImportFileError as exc:
        # Found part-way through (an unclosed quote, a huge cell): the file must be
        # corrected; the page and the API say where.
        report = {"blocking": [str(exc)], "rows": 0, "errors": 0, "error_lines": 0}
        report["checked_at"] = timezone.now().isoformat()
    with transaction.atomic():
        job = _locked(job, job.version)
        job.report = report
        job.total_rows = report.get("rows", 0)
        job.status = (
            ImportStatus.UPLOADED if report.get("blocking") else ImportStatus.CHECKED
        )
        job.version += 1
        job.save()
    return job


def inline_check_bytes() -> int:
    """Files up to this size are checked while the page waits; bigger ones by the
    worker (a check reads the whole file, which outlasts a web request's timeout)."""
    return int(getattr(settings, "LEADFLOW_IMPORT_INLINE_CHECK_BYTES", 2 * 1024 * 1024))


def request_check(job: ImportJob, *, actor, version: int | None = None) -> ImportJob:
    """Check now (a small file) or hand the check to the worker (a big one)."""
    if job.size <= inline_check_bytes():
        return check_job(job, actor=actor, version=version)
    with transaction.atomic():
        job = _locked(job, version)
        _editable(job)
        job.status = ImportStatus.CHECKING
        job.heartbeat_at = timezone.now()
        job.version += 1
        job.save()
        from leadflow.imports.tasks import check_import_task

        job_id = job.pk
        transaction.on_commit(lambda: check_import_task.enqueue(job_id))
    return job


def can_start(job: ImportJob) -> tuple[bool, str]:
    report = job.report or {}
    if job.status != ImportStatus.CHECKED:
        return False, _("Check the file first.")
    if report.get("blocking"):
        return False, _("Solve the problems listed first.")
    if report.get("errors") and not (job.options or {}).get("skip_invalid"):
        return False, _(
            "%(lines)s lines have errors: correct the file, map the unknown values, "
            "or choose to skip those lines."
        ) % {"lines": report.get("error_lines", 0)}
    if not report.get("rows"):
        return False, _("The file has no rows to import.")
    return True, ""


def start(
    job: ImportJob,
    *,
    actor,
    version: int | None = None,
    background: bool = True,
    progress=None,
):
    """Queue the import for the worker (or run it here: the command line)."""
    with transaction.atomic():
        job = _locked(job, version)
        allowed_kind(actor, job.kind)
        ok, why = can_start(job)
        if not ok:
            raise Conflict(why, code="import_not_ready")
        job.status = ImportStatus.QUEUED
        job.version += 1
        job.save()
        record_event(
            actor=actor,
            subject=job,
            event_type="import.started",
            new={"rows": job.total_rows, "file": job.filename},
        )
        if background:
            from leadflow.imports.tasks import run_import_task

            transaction.on_commit(lambda: run_import_task.enqueue(job.pk))
    if not background:
        run_job(job.pk, progress=progress)
        job.refresh_from_db()
    return job


def run_job(job_id: int, *, progress=None) -> str:
    """The worker's part: claim the job, write its batches, record the end."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return f"import {job_id}: {job.status}, nothing to do"
        now = timezone.now()
        if job.status == ImportStatus.RUNNING and not is_stale(job, now=now):
            return f"import {job_id}: already running"
        job.status = ImportStatus.RUNNING
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error = ""
        job.save()
    kind = kind_named(job.kind)
    try:
        engine.run(job, kind, progress=progress)
    except engine.LineFailed as exc:
        return _stop(
            job,
            _("Line %(line)s: %(message)s")
            % {"line": exc.line, "message": exc.message},
        )
    except Exception as exc:  # the batch rolled back; the job says where it stopped
        _stop(job, _("Stopped by an error: %(error)s") % {"error": exc})
        raise
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status == ImportStatus.CANCELLED:
            return f"import {job_id}: cancelled after {job.rows_done} rows"
        job.status = ImportStatus.DONE
        job.finished_at = timezone.now()
        job.save()
        record_event(
            actor=job.created_by,
            subject=job,
            event_type="import.finished",
            new=counts(job),
        )
    return f"import {job_id}: {counts(job)}"


def _stop(job: ImportJob, message: str) -> str:
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        locked.status = ImportStatus.FAILED
        locked.error = message[:2000]
        locked.save()
        record_event(
            actor=locked.created_by,
            subject=locked,
            event_type="import.stopped",
            new={**counts(locked), "error": locked.error},
        )
    return f"import {job.pk}: stopped: {message}"


def counts(job: ImportJob) -> dict:
    return {
        "rows": job.rows_done,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
    }


def is_stale(job: ImportJob, *, now=None) -> bool:
    """Running or checking, but its worker has not reported for ``STALE_AFTER``
    (killed)."""
    now = now or timezone.now()
    return job.status in (ImportStatus.RUNNING, ImportStatus.CHECKING) and (
        job.heartbeat_at is None or now - job.heartbeat_at > STALE_AFTER
    )


def can_resume(job: ImportJob) -> bool:
    return job.status == ImportStatus.FAILED or (
        job.status == ImportStatus.RUNNING and is_stale(job)
    )


def resume(
    job: ImportJob,
    *,
    actor,
    skip_invalid: bool = False,
    version: int | None = None,
    background: bool = True,
    progress=None,
):
    """Go on after the last committed batch (after a failure or a killed worker)."""
    with transaction.atomic():
        job = _locked(job, version)
        allowed_kind(actor, job.kind)
        if not can_resume(job):
            raise Conflict(_("This import cannot be resumed."), code="not_resumable")
        if skip_invalid:
            job.options = {**(job.options or {}), "skip_invalid": True}
        job.status = ImportStatus.QUEUED
        job.version += 1
        job.save()
        record_event(
            actor=actor,
            subject=job,
            event_type="import.resumed",
            new={"after_line": job.last_line, "skip_invalid": skip_invalid},
        )
        if background:
            from leadflow.imports.tasks import run_import_task

            transaction.on_commit(lambda: run_import_task.enqueue(job.pk))
    if not background:
        run_job(job.pk, progress=progress)
        job.refresh_from_db()
    return job


@transaction.atomic
def cancel(job: ImportJob, *, actor, version: int | None = None) -> ImportJob:
    """Stop an import that has not finished; committed batches stay (and are listed)."""
    job = _locked(job, version)
    if job.status in (ImportStatus.DONE, ImportStatus.CANCELLED):
        raise Conflict(_("This import has ended."), code="import_ended")
    job.status = ImportStatus.CANCELLED
    job.finished_at = timezone.now()
    job.version += 1
    job.save()
    record_event(
        actor=actor, subject=job, event_type="import.cancelled", new=counts(job)
    )
    return job


STATUS_HELP = {
    ImportStatus.FAILED: gettext_lazy(
        "Every line up to the last committed batch is in Leadflow; nothing after it. "
        "Resume goes on from there."
    ),
}
