"""A marketing list as a file for a mailing tool (Mailchimp, Brevo, …): only the members
who may be mailed today, one signed unsubscribe link each.

Who is left out, in this order (each member counted once): erased on request, opted
out, consent not granted (never asked), no e-mail address. The rows are read with
``values_list`` and ``iterator``: one query, flat memory at any list size.
See docs/adr/0014-marketing-export-unsubscribe.md.
"""

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from leadflow.accounts.permissions import require
from leadflow.audit.actions import record_event
from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact
from leadflow.core.export import neutralise
from leadflow.marketing.models import MarketingList
from leadflow.marketing.queries import get_list_for_user
from leadflow.marketing.unsubscribe import list_unsubscribe_header, url_maker

# contacts.privacy.ERASED_EVENT (privacy sits above marketing: not imported here).
ERASED_EVENT = "contact.erased"
FORMATS = ("csv", "xlsx")
CHUNK = 2000
# From this many rows the page advises CSV: an XLSX file is built whole before its
# first byte is sent (openpyxl), a CSV streams from the first row.
LARGE_EXPORT_ROWS = 50_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The header row: the names mailing tools map automatically (kept in English in
# every language, like the tools' own field names).
COLUMNS = (
    "Email",
    "First name",
    "Last name",
    "Company",
    "Language",
    "Consent since",
    "Unsubscribe URL",
    "List-Unsubscribe",
)

LEFT_OUT_LABELS = {
    "erased": _("erased on request"),
    "opted_out": _("opted out"),
    "no_consent": _("no consent given"),
    "no_email": _("no e-mail address"),
}


@dataclass(frozen=True)
class ExportSummary:
    """How many members a list has, how many are exported and why the rest are not."""

    members: int
    rows: int
    left_out: dict[str, int]

    @property
    def large(self) -> bool:
        return self.rows >= LARGE_EXPORT_ROWS

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())

    def left_out_rows(self) -> list[tuple[str, str, int]]:
        """(code, translated reason, count) for the page, in the fixed order."""
        return [(k, str(LEFT_OUT_LABELS[k]), v) for k, v in self.left_out.items()]


def _erased() -> Exists:
    return Exists(
        AuditEvent.objects.filter(
            subject_type=Contact._meta.label_lower,
            subject_id=OuterRef("pk"),
            event_type=ERASED_EVENT,
        )
    )


def _members(marketing_list: MarketingList) -> QuerySet[Contact]:
    return Contact.objects.filter(
        list_memberships__marketing_list=marketing_list
    ).annotate(is_erased=_erased())


# Conditions in the left-out order; a member is counted under the first that holds.
_ERASED = Q(is_erased=True)
_OPTED_OUT = ~_ERASED & Q(marketing_consent=Consent.OPTED_OUT)
_NO_CONSENT = (
    ~_ERASED
    & ~Q(marketing_consent=Consent.OPTED_OUT)
    & ~Q(marketing_consent=Consent.GRANTED)
)
_NO_EMAIL = ~_ERASED & Q(marketing_consent=Consent.GRANTED) & Q(email="")
_EXPORTED = ~_ERASED & Q(marketing_consent=Consent.GRANTED) & ~Q(email="")


def export_summary(marketing_list: MarketingList) -> ExportSummary:
    """The counts shown before the download (one aggregate query)."""
    counts = _members(marketing_list).aggregate(
        members=Count("pk"),
        rows=Count("pk", filter=_EXPORTED),
        erased=Count("pk", filter=_ERASED),
        opted_out=Count("pk", filter=_OPTED_OUT),
        no_consent=Count("pk", filter=_NO_CONSENT),
        no_email=Count("pk", filter=_NO_EMAIL),
    )
    return ExportSummary(
        members=counts["members"],
        rows=counts["rows"],
        left_out={k: counts[k] for k in LEFT_OUT_LABELS},
    )


def exportable_members(marketing_list: MarketingList) -> QuerySet[Contact]:
    """The members who may be mailed: consent granted, an address, not erased."""
    return _members(marketing_list).filter(_EXPORTED)


def split_name(name: str) -> tuple[str, str]:
    """First word and the rest: 'Jan van der Berg' -> ('Jan', 'van der Berg')."""
    words = (name or "").split()
    if not words:
        return "", ""
    return words[0], " ".join(words[1:])


def _since(value: datetime | None, tz: tzinfo) -> str:
    if value is None:
        return ""
    return value.astimezone(tz).isoformat(timespec="seconds")


def rows(marketing_list: MarketingList) -> Iterator[list[Any]]:
    """The header, then one row per exportable member, every text cell neutralised."""
    yield list(COLUMNS)
    members = (
        exportable_members(marketing_list)
        .order_by("email_key", "id")
        .values_list(
            "pk",
            "name",
            "email",
            "email_key",
            "company__name",
            "language",
            "consent_changed_at",
        )
    )
    unsubscribe_url = url_maker()
    tz = timezone.get_current_timezone()
    for pk, name, email, email_key, company, language, since in members.iterator(
        chunk_size=CHUNK
    ):
        first, last = split_name(name)
        url = unsubscribe_url(pk, email_key)
        yield [
            neutralise(value)
            for value in (
                email,
                first,
                last,
                company or "",
                language,
                _since(since, tz),
                url,
                list_unsubscribe_header(url),
            )
        ]


class _Echo:
    """A file-like object whose write() returns the line (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def csv_stream(marketing_list: MarketingList) -> Iterator[str]:
    """UTF-8 CSV with a BOM (Excel reads the accents), produced row by row."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows(marketing_list):
        yield writer.writerow(row)


def xlsx_file(marketing_list: MarketingList):
    """A write-only workbook in a temporary file (memory stays flat), rewound."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="Contacts")
    for row in rows(marketing_list):
        sheet.append(row)
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book.save(handle)
    handle.seek(0)
    return handle


def file_name(marketing_list: MarketingList, fmt: str) -> str:
    slug = "".join(
        ch if ch.isalnum() else "-" for ch in marketing_list.name.lower()
    ).strip("-")
    stamp = timezone.localdate().isoformat()
    return f"leadflow-list-{slug or marketing_list.pk}-{stamp}.{fmt}"


def record_export(
    marketing_list: MarketingList, *, actor, fmt: str, summary: ExportSummary
) -> AuditEvent:
    """Who exported which list, in what format, how many rows (and left out why)."""
    return record_event(
        actor=actor,
        subject=marketing_list,
        event_type="marketing_list.exported",
        new={"format": fmt, "rows": summary.rows, "left_out": summary.left_out},
    )


# Exporting personal data for a mailing is marketing's job (and the admin's).
CAPABILITY = "marketing.manage"


def get_exportable_list(user, list_id: int) -> MarketingList:
    """The list, for a user who may export it (403 first, then 404)."""
    require(user, CAPABILITY)
    return get_list_for_user(user, list_id)


def export_response(marketing_list: MarketingList, fmt: str, *, actor):
    """The file, streamed; the export is audited before the first byte is sent."""
    summary = export_summary(marketing_list)
    record_export(marketing_list, actor=actor, fmt=fmt, summary=summary)
    name = file_name(marketing_list, fmt)
    if fmt == "xlsx":
        response = FileResponse(
            xlsx_file(marketing_list),
            content_type=XLSX_TYPE,
            as_attachment=True,
            filename=name,
        )
    else:
        response = StreamingHttpResponse(
            csv_stream(marketing_list), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Leadflow-Rows"] = str(summary.rows)
    response["X-Leadflow-Left-Out"] = str(summary.left_out_total)
    response["Cache-Control"] = "no-store"
    return response
