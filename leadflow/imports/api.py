"""Imports over the API: the same steps as the page (upload, columns, check, start,
resume, cancel) for integrations and scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from leadflow.accounts.permissions import require
from leadflow.api.pagination import PageParams, paginate
from leadflow.api.schemas import ErrorOut
from leadflow.core.errors import ValidationFailed
from leadflow.imports import actions
from leadflow.imports.models import ImportJob
from leadflow.imports.queries import get_job_for_user, jobs_for

router = Router(tags=["imports"])
ERRORS = {
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class ImportOut(Schema):
    id: int
    kind: str
    status: str
    filename: str
    size: int
    format: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str]
    options: dict[str, Any]
    report: dict[str, Any]
    total_rows: int
    rows_done: int
    last_line: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    error: str
    can_start: bool
    can_resume: bool
    version: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportPage(Schema):
    items: list[ImportOut]
    count: int
    page: int
    page_size: int
    pages: int


class MappingIn(Schema):
    mapping: dict[str, str]
    options: dict[str, Any] = {}
    encoding: str | None = None
    delimiter: str | None = None
    version: int | None = None


class VersionIn(Schema):
    version: int | None = None


class ResumeIn(Schema):
    skip_invalid: bool = False
    version: int | None = None


class IssueOut(Schema):
    line: int
    column: str
    level: str
    message: str


class IssuePage(Schema):
    items: list[IssueOut]
    count: int
    page: int
    page_size: int
    pages: int


def import_out(job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "filename": job.filename,
        "size": job.size,
        "format": job.file_format,
        "encoding": job.encoding,
        "delimiter": job.delimiter,
        "headers": job.headers,
        "mapping": job.mapping,
        "options": job.options,
        "report": job.report,
        "total_rows": job.total_rows,
        "rows_done": job.rows_done,
        "last_line": job.last_line,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
        "error": job.error,
        "can_start": actions.can_start(job)[0],
        "can_resume": actions.can_resume(job),
        "version": job.version,
        "created_by": job.created_by.username,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@router.get("/imports", response={200: ImportPage, **ERRORS})
def list_imports(request, params: Query[PageParams]):
    """The import log: your own imports (sales management and admins: everyone's)."""
    return paginate(jobs_for(request.auth), params, import_out)


@router.post("/imports", response={201: ImportOut, **ERRORS})
def upload_import(
    request, kind: Form[str] = "", file: File[UploadedFile | None] = None
):
    """Upload a CSV or XLSX file (multipart: ``kind``, ``file``); columns are matched
    to fields automatically. Nothing is imported until ``check`` and ``start``."""
    require(request.auth, "data.import")
    if file is None or not kind:
        raise ValidationFailed(
            _("Send multipart/form-data with a kind and a file."), code="file_required"
        )
    job = actions.upload(
        actor=request.auth, kind_key=kind, uploaded=file, filename=file.name or ""
    )
    return Status(201, import_out(job))


@router.get("/imports/{job_id}", response={200: ImportOut, **ERRORS})
def get_import(request, job_id: int):
    return import_out(get_job_for_user(request.auth, job_id))


@router.put("/imports/{job_id}/mapping", response={200: ImportOut, **ERRORS})
def set_mapping(request, job_id: int, payload: MappingIn):
    """Columns (``{header: field}``) and options (``date_order`` dmy/mdy/iso,
    ``decimal`` , or ., ``update_existing``, ``skip_invalid``, ``values``
    ``{lookup: {raw: target}}`` with target ``+new`` or empty, ``merges``)."""
    job = get_job_for_user(request.auth, job_id)
    job = actions.set_mapping(
        job,
        actor=request.auth,
        mapping=payload.mapping,
        options=payload.options,
        version=payload.version,
        encoding=payload.encoding,
        delimiter=payload.delimiter,
    )
    return import_out(job)


@router.post("/imports/{job_id}/check", response={200: ImportOut, **ERRORS})
def check_import(request, job_id: int, payload: VersionIn):
    """The dry run: row-level errors and warnings, unknown values, duplicates. A big
    file is checked by the worker: the answer then says ``checking``; poll it."""
    job = get_job_for_user(request.auth, job_id)
    return import_out(
        actions.request_check(job, actor=request.auth, version=payload.version)
    )


@router.post("/imports/{job_id}/start", response={202: ImportOut, **ERRORS})
def start_import(request, job_id: int, payload: VersionIn):
    """Queue the import for the worker; poll ``GET /api/imports/{id}`` for progress."""
    job = get_job_for_user(request.auth, job_id)
    job = actions.start(job, actor=request.auth, version=payload.version)
    job.refresh_from_db()
    return Status(202, import_out(job))


@router.post("/imports/{job_id}/resume", response={202: ImportOut, **ERRORS})
def resume_import(request, job_id: int, payload: ResumeIn):
    """Go on after the last committed batch of a stopped or interrupted import."""
    job = get_job_for_user(request.auth, job_id)
    job = actions.resume(
        job,
        actor=request.auth,
        skip_invalid=payload.skip_invalid,
        version=payload.version,
    )
    job.refresh_from_db()
    return Status(202, import_out(job))


@router.post("/imports/{job_id}/cancel", response={200: ImportOut, **ERRORS})
def cancel_import(request, job_id: int, payload: VersionIn):
    job = get_job_for_user(request.auth, job_id)
    return import_out(actions.cancel(job, actor=request.auth, version=payload.version))


@router.get("/imports/{job_id}/issues", response={200: IssuePage, **ERRORS})
def list_issues(request, job_id: int, params: Query[PageParams], level: str = ""):
    """The problems by line (``level=error`` or ``warning`` to filter)."""
    job = get_job_for_user(request.auth, job_id)
    issues = job.issues.order_by("line", "id")
    if level:
        if level not in ("error", "warning"):
            raise ValidationFailed(
                _("level is error or warning."), code="invalid_level"
            )
        issues = issues.filter(level=level)
    return paginate(
        issues,
        params,
        lambda i: {
            "line": i.line,
            "column": i.column,
            "level": i.level,
            "message": i.message,
        },
    )
