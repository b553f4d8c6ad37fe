"""Any list as CSV or XLSX, with the page's filters (issue 6: every list exports).

A list view builds its queryset once (the same function for the page and the
export) and hands it here with its columns. Rows are read with
``.iterator(chunk_size=2000)``: CSV is streamed as it is read (with a UTF-8 BOM so
Excel reads accents), XLSX is written by a write-only workbook to a temporary file,
so memory stays flat at a million rows. Cells a spreadsheet would read as a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return) get a leading apostrophe (OWASP
"CSV injection"); numbers stay numbers; dates are dates in XLSX and ISO 8601 in CSV;
datetimes are shown in the company's time zone. Every export is audited: who, which
list, the filters, the format and the row count (ADR 0013).
"""

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from leadflow.audit.actions import record_event
from leadflow.core.worktime import current_calendar

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
CHUNK_SIZE = 2000
BOM = "\ufeff"
# Excel refuses longer cells; text beyond is cut (an export is not an archive).
XLSX_CELL_LIMIT = 32767
# Above this an XLSX is spooled to disk rather than kept in memory.
SPOOL_BYTES = 8 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Query parameters that are not filters (not in the audit row, not in the links).
NOT_FILTERS = ("page", "format")


def neutralise(value: Any) -> Any:
    """Text that starts like a formula, prefixed with ``'``; numbers unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    """One exported column: an attribute path (``"contact.company.name"``, ``None``
    anywhere gives an empty cell) or a callable of the row, and its label."""

    value: str | Callable[[Any], Any]
    label: str | Promise

    def get(self, row: Any) -> Any:
        if callable(self.value):
            return self.value(row)
        current = row
        for part in self.value.split("."):
            if current is None:
                return None
            current = getattr(current, part)
        return current


def choice_label(attr: str, choices) -> Callable[[Any], str]:
    """A column value: the label of a choice field, looked up in a table made once per
    language (``get_FOO_display`` hashes lazy labels on every call: measured as a
    quarter of an export's time)."""
    tables: dict[str, dict] = {}

    def label(row: Any) -> str:
        language = translation.get_language() or ""
        table = tables.get(language)
        if table is None:
            table = tables[language] = {key: str(text) for key, text in choices}
        value = getattr(row, attr)
        return table.get(value, value or "")

    return label


def cell(value: Any, *, fmt: str, tz: dt.tzinfo) -> Any:
    """A value as the given format should hold it (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value if fmt == "xlsx" else ("true" if value else "false")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(tz)
        if fmt == "xlsx":
            return value.replace(tzinfo=None)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value if fmt == "xlsx" else value.isoformat()
    text = neutralise(str(value))
    if fmt == "xlsx":
        text = ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_CELL_LIMIT]
    return text


def is_export(request: HttpRequest) -> bool:
    """The list was asked as a file (``?format=…``) rather than as a page."""
    return bool(request.GET.get("format"))


def filter_query(request: HttpRequest) -> str:
    """The page's filters as a query string (for the export links)."""
    query = request.GET.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    return query.urlencode()


def filename_for(stem: str, fmt: str) -> str:
    today = timezone.localdate(timezone.now(), current_calendar().tz)
    return f"{stem}-{today.isoformat()}.{fmt}"


def bad_request(message: str) -> HttpResponse:
    """A 400 that says what is wrong (plain text: it answers a download link)."""
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def bad_format() -> HttpResponse:
    return bad_request(_("Unknown export format: choose csv or xlsx."))


def bad_filters(form) -> HttpResponse:
    """A filter that does not parse: the export says which, instead of exporting
    everything (the page shows all rows then, an export must not)."""
    problems = "; ".join(
        f"{form.fields[name].label if name in form.fields else name}: "
        f"{' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )
    return bad_request(
        _("The filters are not valid: %(problems)s") % {"problems": problems}
    )


def _iterate(rows: Iterable) -> Iterator:
    if isinstance(rows, QuerySet):
        return rows.iterator(chunk_size=CHUNK_SIZE)
    return iter(rows)


class _Echo:
    """A file-like object whose write returns the line (csv.writer to a stream)."""

    def write(self, value: str) -> str:
        return value


def export_response(
    request: HttpRequest,
    *,
    rows: Iterable,
    columns: list[Column],
    filename_stem: str,
    format: str,
    audit_subject: Model | None = None,
) -> HttpResponse:
    """The list as a CSV (streamed) or XLSX file download; 400 for another format.

    ``rows`` is the page's own filtered, permission-scoped and ordered queryset
    (with the select_related its columns need); all of it is exported, not a page.
    The audit row is about ``audit_subject`` (default: the exporting user).
    """
    if format not in FORMATS:
        return bad_format()
    tz = current_calendar().tz
    language = translation.get_language()
    labels = [str(c.label) for c in columns]
    filename = filename_for(filename_stem, format)
    audit = _Audit(request, filename_stem, format, audit_subject)
    if format == "xlsx":
        return _xlsx(rows, columns, labels, tz, filename, filename_stem, audit)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        count = 0
        complete = False
        try:
            with translation.override(language):
                yield BOM + writer.writerow(labels)
                for row in _iterate(rows):
                    yield writer.writerow(
                        [cell(c.get(row), fmt="csv", tz=tz) for c in columns]
                    )
                    count += 1
            complete = True
        finally:
            # Written when the download ends, also when it was broken off.
            audit.record(count, complete=complete)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _xlsx(rows, columns, labels, tz, filename, stem, audit) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=stem[:31] or "export")
    sheet.append(labels)
    count = 0
    for row in _iterate(rows):
        sheet.append([cell(c.get(row), fmt="xlsx", tz=tz) for c in columns])
        count += 1
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    book.save(out)
    size = out.tell()
    out.seek(0)
    audit.record(count, complete=True)
    response = FileResponse(
        out, as_attachment=True, filename=filename, content_type=XLSX_TYPE
    )
    response["Content-Length"] = str(size)
    response["Cache-Control"] = "no-store"
    return response


class _Audit:
    """The audit row of one export: who, which list, the filters, the row count."""

    def __init__(self, request, stem: str, fmt: str, subject: Model | None):
        self.user = request.user
        self.subject = subject or request.user
        self.values = {
            "list": stem,
            "format": fmt,
            "filters": {
                k: request.GET.getlist(k)[0]
                if len(request.GET.getlist(k)) == 1
                else request.GET.getlist(k)
                for k in request.GET
                if k not in NOT_FILTERS
            },
        }

    def record(self, count: int, *, complete: bool) -> None:
        record_event(
            actor=self.user,
            subject=self.subject,
            event_type="list.exported",
            new={**self.values, "rows": count, "complete": complete},
        )
