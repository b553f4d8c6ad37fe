"""The import pages: the log with a new upload, one import's columns, check results,
progress (HTMX polling) and outcome. Thin callers of ``imports.actions``."""

from __future__ import annotations

import csv
from itertools import islice

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadflow.accounts.permissions import has_capability
from leadflow.core.errors import DomainError
from leadflow.core.pagination import IdPaginator
from leadflow.imports import actions, engine
from leadflow.imports.fields import all_kinds, kind_named
from leadflow.imports.lookups import LOOKUPS
from leadflow.imports.models import ImportStatus
from leadflow.imports.queries import get_job_for_user, jobs_for
from leadflow.imports.reading import ImportFileError

PAGE_SIZE = 25
SAMPLES = 3
ISSUES_SHOWN = 100


def _kinds_for(user):
    return [k for k in all_kinds() if has_capability(user, k.capability)]


@login_required
def import_list(request):
    kinds = _kinds_for(request.user)
    if not kinds:
        raise PermissionDenied("data.import")
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file.")
        else:
            try:
                job = actions.upload(
                    actor=request.user,
                    kind_key=request.POST.get("kind", ""),
                    uploaded=upload,
                    filename=upload.name,
                )
            except DomainError as exc:
                error = str(exc)
            else:
                return redirect("import_detail", job_id=job.pk)
    page = IdPaginator(jobs_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "imports/list.html",
        {"kinds": kinds, "page": page, "error": error},
        status=422 if error else 200,
    )


def _samples(job) -> list[list[str]]:
    try:
        return [cells for _line, cells in islice(engine.table_of(job).rows(), SAMPLES)]
    except ImportFileError:
        return []


def _columns(job, kind):
    samples = _samples(job)
    return [
        {
            "index": i,
            "header": header,
            "field": job.mapping.get(header, ""),
            "samples": [row[i] for row in samples if i < len(row) and row[i]],
        }
        for i, header in enumerate(job.headers)
    ]


def _unknown(job):
    """The check's unknown reference values, with the choices to map each to."""
    values = (job.options or {}).get("values", {})
    out = []
    for key, rows in (job.report.get("unknown") or {}).items():
        lookup = LOOKUPS[key]
        choices = lookup.choices()
        out.append(
            {
                "key": key,
                "label": lookup.label,
                "creatable": lookup.create is not None,
                "choices": choices,
                "rows": [
                    {
                        "raw": raw,
                        "count": count,
                        "target": values.get(key, {}).get(raw, ""),
                        "index": n,
                    }
                    for n, (raw, count) in enumerate(rows[:200])
                ],
            }
        )
    return out


def _groups(job, kind):
    merges = (job.options or {}).get("merges", {})
    out = []
    for key, groups in (job.report.get("spelling_groups") or {}).items():
        chosen = merges.get(key, {})
        out.append(
            {
                "key": key,
                "label": kind.field(key).label,
                "groups": [
                    {
                        "index": n,
                        "values": group,
                        "merged": any(v in chosen for v in group),
                        "target": next(
                            (chosen[v] for v in group if v in chosen), group[0]
                        ),
                    }
                    for n, group in enumerate(groups)
                ],
            }
        )
    return out


def _context(request, job, *, error=None):
    kind = kind_named(job.kind)
    editable = actions.is_editable(job)
    ok, why = actions.can_start(job)
    issues = job.issues.all()[:ISSUES_SHOWN]
    return {
        "job": job,
        "kind": kind,
        "editable": editable,
        "columns": _columns(job, kind) if editable else [],
        "fields": kind.fields,
        "unknown": _unknown(job) if editable else [],
        "groups": _groups(job, kind) if editable else [],
        "report": job.report or {},
        "can_start": ok,
        "why_not": why,
        "can_resume": actions.can_resume(job),
        "stale": actions.is_stale(job),
        "issues": issues,
        "more_issues": job.issues.count() > ISSUES_SHOWN,
        "error": error,
        "running": job.status
        in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.CHECKING)
        and not actions.is_stale(job),
        "ImportStatus": ImportStatus,
        "help": actions.STATUS_HELP.get(job.status, ""),
    }


@login_required
@require_GET
def import_detail(request, job_id: int):
    job = get_job_for_user(request.user, job_id)
    return render(request, "imports/detail.html", _context(request, job))


def _form_values(post, job) -> tuple[dict, dict]:
    """Mapping and options from the page's one form."""
    mapping = {}
    for i, header in enumerate(job.headers):
        field = post.get(f"col-{i}", "")
        if field:
            mapping[header] = field
    options = {
        "date_order": post.get("date_order", ""),
        "decimal": post.get("decimal", ""),
        "update_existing": post.get("update_existing") == "on",
        "skip_invalid": post.get("skip_invalid") == "on",
    }
    values: dict[str, dict[str, str]] = dict((job.options or {}).get("values", {}))
    for key, rows in (job.report.get("unknown") or {}).items():
        for n, (raw, _count) in enumerate(rows[:200]):
            target = post.get(f"value-{key}-{n}")
            if target is not None:
                values.setdefault(key, {})[raw] = target
                if target == "?":  # not decided yet
                    values[key].pop(raw)
    options["values"] = {k: v for k, v in values.items() if v}
    merges: dict[str, dict[str, str]] = {}
    for key, groups in (job.report.get("spelling_groups") or {}).items():
        for n, group in enumerate(groups):
            if post.get(f"merge-{key}-{n}") == "on":
                target = post.get(f"merge-{key}-{n}-target") or group[0]
                if target not in group:
                    target = group[0]
                for variant in group:
                    if variant != target:
                        merges.setdefault(key, {})[variant] = target
    if merges:
        options["merges"] = merges
    return mapping, options


@login_required
@require_POST
def import_check(request, job_id: int):
    """Save the columns and options, then check the whole file (dry run)."""
    job = get_job_for_user(request.user, job_id)
    mapping, options = _form_values(request.POST, job)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        job = actions.set_mapping(
            job, actor=request.user, mapping=mapping, options=options, version=version
        )
        job = actions.request_check(job, actor=request.user)
    except DomainError as exc:
        job.refresh_from_db()
        return render(
            request,
            "imports/detail.html",
            _context(request, job, error=str(exc)),
            status=exc.status,
        )
    return redirect(reverse("import_detail", args=[job.pk]) + "#results")


def _act(request, job_id: int, action, *, success: str = "", **kwargs):
    job = get_job_for_user(request.user, job_id)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        action(job, actor=request.user, version=version, **kwargs)
    except DomainError as exc:
        job.refresh_from_db()
        return render(
            request,
            "imports/detail.html",
            _context(request, job, error=str(exc)),
            status=exc.status,
        )
    if success:
        messages.success(request, success)
    return redirect("import_detail", job_id=job.pk)


@login_required
@require_POST
def import_start(request, job_id: int):
    return _act(request, job_id, actions.start)


@login_required
@require_POST
def import_resume(request, job_id: int):
    return _act(
        request,
        job_id,
        actions.resume,
        skip_invalid=request.POST.get("skip_invalid") == "on",
    )


@login_required
@require_POST
def import_cancel(request, job_id: int):
    return _act(request, job_id, actions.cancel, success=_("The import was cancelled."))


@login_required
@require_GET
def import_progress(request, job_id: int):
    """The progress bar (HTMX polls it); when the import ends the page reloads."""
    job = get_job_for_user(request.user, job_id)
    context = _context(request, job)
    response = render(request, "imports/_progress.html", context)
    if not context["running"] and request.htmx:
        response["HX-Refresh"] = "true"
    return response


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def import_issues_csv(request, job_id: int):
    """Every problem the check or the run found, as CSV (to correct the file)."""
    job = get_job_for_user(request.user, job_id)
    writer = csv.writer(_Echo())
    header = [_("line"), _("column"), _("level"), _("message")]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for issue in job.issues.order_by("line", "id").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    issue.line,
                    _neutral(issue.column),
                    issue.get_level_display(),
                    _neutral(issue.message),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="import-{job.pk}-problems.csv"'
    )
    return response


def _neutral(text: str) -> str:
    from leadflow.analytics.export import neutralise

    return neutralise(text)
