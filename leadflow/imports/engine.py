"""Reading a file through a kind: the check (a dry run over every line) and the run
(batches, each one transaction together with the job's counters).

Both walk the file as a stream, so memory stays flat whatever its size; the check
keeps only counters, the first ``MAX_ISSUES`` problems, and the distinct values of
reference and name columns (bounded by their number of distinct values)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.contacts.actions import check_email
from leadflow.core.errors import DomainError
from leadflow.core.worktime import current_calendar
from leadflow.imports import values as V
from leadflow.imports.fields import Field, FieldType, Kind, Outcome, RowProblem
from leadflow.imports.lookups import LOOKUPS
from leadflow.imports.models import ImportIssue, ImportJob, ImportStatus, IssueLevel
from leadflow.imports.reading import open_table

MAX_ISSUES = 1000
MAX_EXAMPLES = 5
# Distinct raw values kept per reference column for the mapping table.
MAX_DISTINCT = 2000
DATE_TYPES = (FieldType.DATE, FieldType.DATETIME)
# A check tells it is alive every so many lines (a killed one is then noticed).
HEARTBEAT_ROWS = 5000
NEW = "+new"  # value map target: create the raw value
EMPTY = ""  # value map target: leave the cell empty


def table_of(job: ImportJob):
    return open_table(
        _path(job),
        filename=job.filename,
        encoding=job.encoding or None,
        delimiter=job.delimiter or None,
    )


def _path(job: ImportJob):
    from pathlib import Path

    return Path(job.file.path)


@dataclass
class Context:
    """What a kind needs to turn cells into values and values into records."""

    job: ImportJob
    kind: Kind
    actor: Any
    columns: list[tuple[int, Field]]
    date_order: V.DateOrder | None
    decimal: str | None
    values: dict[str, dict[str, str]]
    merges: dict[str, dict[str, str]]
    update_existing: bool
    tz: Any = None
    dry_run: bool = True
    cache: dict = field(default_factory=dict)
    unknown: dict[str, Counter] = field(default_factory=dict)

    # --- reference values -----------------------------------------------------------

    def lookup_value(self, lookup_key: str, raw: str) -> str | None:
        """The mapped value of a raw cell; raises RowProblem when unknown and unmapped."""
        mapped = self.values.get(lookup_key, {})
        if raw in mapped:
            target = mapped[raw]
            if target == EMPTY:
                return None
            if target == NEW:
                return self._created(lookup_key, raw)
            return target
        key = (lookup_key, raw)
        if key not in self.cache:
            self.cache[key] = LOOKUPS[lookup_key].match(raw)
        value = self.cache[key]
        if value is None:
            self.unknown.setdefault(lookup_key, Counter())[raw] += 1
            raise RowProblem(
                _("%(value)s is not known as one of the %(what)s: map it above."),
                value=raw,
                what=LOOKUPS[lookup_key].label,
            )
        return value

    def _created(self, lookup_key: str, raw: str) -> str | None:
        key = ("+new", lookup_key, raw)
        if key not in self.cache:
            lookup = LOOKUPS[lookup_key]
            if lookup.create is None:
                raise RowProblem(
                    _("New %(what)s cannot be made by an import."), what=lookup.label
                )
            # The check only counts; the run makes it (inside the batch's transaction,
            # and found again by ``match`` on a resume).
            if self.dry_run:
                self.cache[key] = raw
            else:
                self.cache[key] = lookup.match(raw) or lookup.create(raw, self.actor)
        return self.cache[key]

    def resolve(self, lookup_key: str, value: str | None):
        if value is None:
            return None
        key = ("obj", lookup_key, value)
        if key not in self.cache:
            self.cache[key] = LOOKUPS[lookup_key].resolve(value)
        return self.cache[key]


def context_for(job: ImportJob, kind: Kind, *, actor=None, dry_run: bool) -> Context:
    options = job.options or {}
    by_field = {f.key: f for f in kind.fields}
    header_index = {h: i for i, h in enumerate(job.headers)}
    columns = [
        (header_index[header], by_field[key])
        for header, key in (job.mapping or {}).items()
        if key in by_field and header in header_index
    ]
    order = options.get("date_order") or (job.report or {}).get("date_order")
    return Context(
        job=job,
        kind=kind,
        actor=actor if actor is not None else job.created_by,
        columns=columns,
        date_order=V.DateOrder(order) if order else None,
        decimal=options.get("decimal") or (job.report or {}).get("decimal"),
        values=options.get("values") or {},
        merges=options.get("merges") or {},
        update_existing=bool(options.get("update_existing")),
        tz=current_calendar().tz,
        dry_run=dry_run,
    )


# --- one line ------------------------------------------------------------------------------


def parse_cell(ctx: Context, f: Field, text: str) -> Any:
    text = V.clean_text(text)
    if f.spelling and text:
        text = ctx.merges.get(f.key, {}).get(text, text)
    if not text:
        return None
    kind = f.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE):
        if f.max_length and len(text) > f.max_length:
            raise RowProblem(_("Longer than %(limit)s characters."), limit=f.max_length)
        return text
    if kind == FieldType.EMAIL:
        try:
            check_email(text)
        except DomainError as exc:
            raise RowProblem(
                _("%(value)s is not an e-mail address."), value=text
            ) from exc
        return text
    try:
        if kind == FieldType.DECIMAL:
            return V.parse_decimal(text, decimal=ctx.decimal)
        if kind == FieldType.INT:
            return V.parse_int(text, decimal=ctx.decimal)
        if kind == FieldType.BOOL:
            return V.parse_bool(text)
        if kind == FieldType.DATE:
            return V.parse_date(text, ctx.date_order)
        if kind == FieldType.DATETIME:
            return V.parse_datetime(text, ctx.date_order, ctx.tz)
    except V.ValueProblem as exc:
        raise RowProblem(str(exc)) from exc
    if kind == FieldType.LOOKUP:
        return ctx.lookup_value(f.lookup, text)
    if kind == FieldType.NAMES:
        parts = [p.strip() for p in text.replace(";", ",").split(",")]
        return [p for p in parts if p]
    raise AssertionError(kind)


def parse_row(ctx: Context, cells: list[str]) -> tuple[dict, list[tuple[str, str]]]:
    """Clean values by field key, and the (column, message) problems of the line."""
    row: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for index, f in ctx.columns:
        text = cells[index] if index < len(cells) else ""
        try:
            value = parse_cell(ctx, f, text)
        except RowProblem as exc:
            problems.append((ctx.job.headers[index], str(exc)))
            continue
        if value is None and f.required:
            problems.append((ctx.job.headers[index], _("This column must be filled.")))
        row[f.key] = value
    if ctx.kind.one_of and not any(row.get(k) for k in ctx.kind.one_of):
        labels = ", ".join(str(ctx.kind.field(k).label) for k in ctx.kind.one_of)
        problems.append(
            ("", _("Fill at least one of: %(fields)s.") % {"fields": labels})
        )
    return row, problems


# --- the check ---------------------------------------------------------------------------


@dataclass
class _Findings:
    rows: int = 0
    errors: int = 0
    warnings: int = 0
    error_lines: int = 0
    duplicates_in_file: int = 0
    existing: int = 0
    stored: int = 0

    def add(self, job, line, column, level, message):
        if level == IssueLevel.ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        if self.stored < MAX_ISSUES:
            ImportIssue.objects.create(
                job=job, line=line, column=column[:255], level=level, message=message
            )
            self.stored += 1


def _evidence(job: ImportJob, kind: Kind) -> dict:
    """First pass: the file's date order and decimal style, the distinct values of
    reference columns and of name columns (for spelling groups)."""
    by_field = {f.key: f for f in kind.fields}
    header_index = {h: i for i, h in enumerate(job.headers)}
    mapped = [
        (header_index[h], by_field[k])
        for h, k in (job.mapping or {}).items()
        if k in by_field and h in header_index
    ]
    orders: Counter = Counter()
    ambiguous: list[str] = []
    decimals: Counter = Counter()
    names: dict[str, Counter] = {}
    for _line, cells in table_of(job).rows():
        for index, f in mapped:
            text = V.clean_text(cells[index]) if index < len(cells) else ""
            if not text:
                continue
            if f.type in DATE_TYPES:
                evidence = V.detect_date_order([text])
                if evidence.ambiguous:
                    if len(ambiguous) < MAX_EXAMPLES and text not in ambiguous:
                        ambiguous.append(text)
                elif evidence.order is not None:
                    orders[evidence.order.value] += 1
            elif f.type == FieldType.DECIMAL:
                style = V.detect_decimal_style([text])
                if style:
                    decimals[style] += 1
            if f.spelling:
                counter = names.setdefault(f.key, Counter())
                if text in counter or len(counter) < 100_000:
                    counter[text] += 1
    proven = [o for o in orders if o != V.DateOrder.ISO.value]
    report: dict[str, Any] = {"date_orders": dict(orders), "ambiguous_dates": ambiguous}
    if len(proven) > 1:
        report["date_problem"] = "mixed"
    elif proven:
        report["date_order"] = proven[0]
    elif ambiguous:
        report["date_problem"] = "ambiguous"
    if len(decimals) == 1:
        report["decimal"] = next(iter(decimals))
    elif decimals:
        report["decimal"] = decimals.most_common(1)[0][0]
        report["decimal_mixed"] = dict(decimals)
    groups = {}
    for key, counter in names.items():
        found = V.spelling_groups(counter.elements())
        if found:
            groups[key] = found[:100]
    report["spelling_groups"] = groups
    return report


def check(job: ImportJob, kind: Kind) -> dict:
    """The dry run: every line parsed and checked, nothing written but the findings."""
    ImportIssue.objects.filter(job=job).delete()
    report = _evidence(job, kind)
    job.report = report
    ctx = context_for(job, kind, dry_run=True)
    findings = _Findings()
    blocking: list[str] = []
    mapped_keys = {f.key for _i, f in ctx.columns}
    for f in kind.fields:
        if f.required and f.key not in mapped_keys:
            blocking.append(
                _("The column “%(field)s” is required: map a column to it.")
                % {"field": f.label}
            )
    if kind.one_of and not mapped_keys & set(kind.one_of):
        labels = ", ".join(str(kind.field(k).label) for k in kind.one_of)
        blocking.append(_("Map at least one of: %(fields)s.") % {"fields": labels})
    date_columns = [f for _i, f in ctx.columns if f.type in DATE_TYPES]
    problem = report.get("date_problem")
    if date_columns and problem and not (job.options or {}).get("date_order"):
        examples = ", ".join(report.get("ambiguous_dates") or [])
        if problem == "mixed":
            blocking.append(
                _("The dates mix day/month and month/day: choose the order below.")
            )
        else:
            blocking.append(
                _(
                    "The dates are ambiguous (for example %(examples)s): choose "
                    "day/month or month/day below."
                )
                % {"examples": examples}
            )
    seen: dict[str, int] = {}
    if not blocking:
        for line, cells in table_of(job).rows():
            findings.rows += 1
            if findings.rows % HEARTBEAT_ROWS == 0:
                ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
            row, problems = parse_row(ctx, cells)
            if not problems:
                try:
                    for warning in kind.check(row, ctx):
                        findings.add(job, line, "", IssueLevel.WARNING, warning)
                except RowProblem as exc:
                    problems.append((exc.column, str(exc)))
            if problems:
                findings.error_lines += 1
                for column, message in problems:
                    findings.add(job, line, column, IssueLevel.ERROR, message)
                continue
            identity = kind.identity(row)
            if identity:
                if identity in seen:
                    findings.duplicates_in_file += 1
                    findings.add(
                        job,
                        line,
                        "",
                        IssueLevel.WARNING,
                        _("The same as line %(line)s: both go into one record.")
                        % {"line": seen[identity]},
                    )
                    continue
                seen[identity] = line
            if kind.existing(row, ctx) is not None:
                findings.existing += 1
    unknown = {
        key: [[raw, count] for raw, count in counter.most_common(MAX_DISTINCT)]
        for key, counter in ctx.unknown.items()
    }
    report.update(
        {
            "rows": findings.rows,
            "errors": findings.errors,
            "error_lines": findings.error_lines,
            "warnings": findings.warnings,
            "duplicates_in_file": findings.duplicates_in_file,
            "existing": findings.existing,
            "unknown": unknown,
            "blocking": blocking,
            "checked_at": timezone.now().isoformat(),
        }
    )
    return report


# --- the run -----------------------------------------------------------------------------


def run(job: ImportJob, kind: Kind, *, progress=None) -> ImportJob:
    """Write the lines after ``job.last_line`` in batches; each batch is one transaction
    with the job's counters. A line that fails stops the import (or, with
    ``skip_invalid``, is skipped and listed); what was committed stays, and a resume
    goes on after it."""
    ctx = context_for(job, kind, dry_run=False)
    skip_invalid = bool((job.options or {}).get("skip_invalid"))
    batch: list[tuple[int, list[str]]] = []

    def flush():
        nonlocal batch
        if batch:
            _write_batch(job, ctx, batch, skip_invalid=skip_invalid)
            batch = []
            if progress is not None:
                progress(job)

    for line, cells in table_of(job).rows():
        if line <= job.last_line:
            continue
        batch.append((line, cells))
        if len(batch) >= kind.batch_size:
            flush()
            if _cancelled(job):
                return job
    flush()
    return job


def _cancelled(job: ImportJob) -> bool:
    status = ImportJob.objects.filter(pk=job.pk).values_list("status", flat=True).get()
    return status == ImportStatus.CANCELLED


class LineFailed(Exception):
    def __init__(self, line: int, column: str, message: str):
        self.line, self.column, self.message = line, column, message
        super().__init__(f"line {line}: {message}")


@transaction.atomic
def _write_batch(job: ImportJob, ctx: Context, batch, *, skip_invalid: bool) -> None:
    counts = Counter()
    issues: list[ImportIssue] = []
    last_line = job.last_line
    for line, cells in batch:
        row, problems = parse_row(ctx, cells)
        if not problems:
            try:
                ctx.kind.check(row, ctx)
                with transaction.atomic():
                    outcome = ctx.kind.write(row, ctx)
            except RowProblem as exc:
                problems.append((exc.column, str(exc)))
            except DomainError as exc:
                problems.append(("", str(exc)))
        if problems:
            if not skip_invalid:
                raise LineFailed(line, problems[0][0], problems[0][1])
            counts["skipped"] += 1
            issues.extend(
                ImportIssue(
                    job=job,
                    line=line,
                    column=column[:255],
                    level=IssueLevel.ERROR,
                    message=message,
                    at_run=True,
                )
                for column, message in problems
            )
        else:
            counts[outcome] += 1
        counts["rows"] += 1
        last_line = line
    ImportIssue.objects.bulk_create(issues[:MAX_ISSUES])
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        last_line=last_line,
        rows_done=F("rows_done") + counts["rows"],
        created=F("created") + counts[Outcome.CREATED],
        updated=F("updated") + counts[Outcome.UPDATED],
        unchanged=F("unchanged") + counts[Outcome.UNCHANGED],
        skipped=F("skipped") + counts["skipped"],
        heartbeat_at=now,
    )
    job.refresh_from_db()
