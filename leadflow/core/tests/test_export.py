"""The generic list export: cell rules, CSV and XLSX files, the 400 and the audit row."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from leadflow.audit.models import AuditEvent
from leadflow.core.export import (
    Column,
    cell,
    choice_label,
    export_response,
    filter_query,
    is_export,
    neutralise,
)
from leadflow.core.models import WorkingCalendar

BRUSSELS = ZoneInfo("Europe/Brussels")


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


# --- cells -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=1+2", "+32 2 555", "-5 cm", "@SUM(A1)", "\tx", "\rx"]
)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text
    assert cell(text, fmt="csv", tz=BRUSSELS) == "'" + text
    assert cell(text, fmt="xlsx", tz=BRUSSELS) == "'" + text


def test_numbers_stay_numbers_even_negative_ones():
    assert cell(-5, fmt="csv", tz=BRUSSELS) == -5
    assert cell(Decimal("-12.50"), fmt="xlsx", tz=BRUSSELS) == Decimal("-12.50")
    assert cell(0.25, fmt="xlsx", tz=BRUSSELS) == 0.25


def test_plain_text_and_none():
    assert cell("Café Müller", fmt="csv", tz=BRUSSELS) == "Café Müller"
    assert cell(None, fmt="xlsx", tz=BRUSSELS) == ""


def test_datetimes_are_shown_in_the_company_time_zone_across_dst():
    winter = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 9, 30, tzinfo=dt.UTC)
    assert cell(winter, fmt="csv", tz=BRUSSELS) == "2026-01-15T10:30:00+01:00"
    assert cell(summer, fmt="csv", tz=BRUSSELS) == "2026-07-15T11:30:00+02:00"
    assert cell(summer, fmt="xlsx", tz=BRUSSELS) == dt.datetime(2026, 7, 15, 11, 30)


def test_dates_are_iso_in_csv_and_dates_in_xlsx():
    day = dt.date(2026, 2, 3)
    assert cell(day, fmt="csv", tz=BRUSSELS) == "2026-02-03"
    assert cell(day, fmt="xlsx", tz=BRUSSELS) == day


def test_booleans_and_control_characters():
    assert cell(True, fmt="csv", tz=BRUSSELS) == "true"
    assert cell(False, fmt="xlsx", tz=BRUSSELS) is False
    # openpyxl refuses control characters: they are dropped, not a 500.
    assert cell("a\x01b\x0bc", fmt="xlsx", tz=BRUSSELS) == "abc"


def test_a_column_follows_a_path_and_stops_at_none():
    class Obj:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    row = Obj(contact=Obj(company=None, name="An"))
    assert Column("contact.name", "Name").get(row) == "An"
    assert Column("contact.company.name", "Company").get(row) is None
    assert Column(lambda r: r.contact.name.upper(), "Upper").get(row) == "AN"


def test_filter_query_drops_page_and_format():
    request = RequestFactory().get(
        "/x/", {"status": "closed", "page": "3", "format": "csv"}
    )
    assert filter_query(request) == "status=closed"
    assert is_export(request)
    assert not is_export(RequestFactory().get("/x/", {"format": ""}))


# --- files -------------------------------------------------------------------------

COLUMNS = [
    Column("name", gettext_lazy("Name")),
    Column("amount", gettext_lazy("Amount")),
    Column("at", gettext_lazy("Created at")),
]


class Row:
    def __init__(self, name, amount, at):
        self.name, self.amount, self.at = name, amount, at


ROWS = [
    Row("Zoë Ébène", Decimal("12.50"), dt.datetime(2026, 3, 29, 8, 0, tzinfo=dt.UTC)),
    Row('=HYPERLINK("http://evil")', 3, None),
]


@pytest.fixture
def get(rep):
    def make(**params):
        request = RequestFactory().get("/things/", params)
        request.user = rep
        return request

    return make


@pytest.mark.django_db
def test_csv_has_a_bom_the_labels_and_neutralised_cells(get, rep):
    response = export_response(
        get(format="csv", q="x"),
        rows=ROWS,
        columns=COLUMNS,
        filename_stem="things",
        format="csv",
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="things-')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = read_csv(response)
    assert rows == [
        ["Name", "Amount", "Created at"],
        ["Zoë Ébène", "12.50", "2026-03-29T10:00:00+02:00"],
        ['\'=HYPERLINK("http://evil")', "3", ""],
    ]
    event = AuditEvent.objects.get(event_type="list.exported")
    assert event.actor == rep
    assert event.new == {
        "list": "things",
        "format": "csv",
        "filters": {"q": "x"},
        "rows": 2,
        "complete": True,
    }


@pytest.mark.django_db
def test_xlsx_keeps_numbers_and_datetimes_typed(get):
    response = export_response(
        get(format="xlsx"),
        rows=ROWS,
        columns=COLUMNS,
        filename_stem="things",
        format="xlsx",
    )
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="things-' in response["Content-Disposition"]
    rows = read_xlsx(response)
    assert rows[0] == ("Name", "Amount", "Created at")
    assert rows[1] == ("Zoë Ébène", 12.5, dt.datetime(2026, 3, 29, 10, 0))
    assert rows[2][0] == '\'=HYPERLINK("http://evil")'
    assert rows[2][1] == 3
    assert AuditEvent.objects.get(event_type="list.exported").new["rows"] == 2


@pytest.mark.django_db
def test_an_unknown_format_is_a_400_with_a_message(get):
    response = export_response(
        get(format="pdf"), rows=ROWS, columns=COLUMNS, filename_stem="x", format="pdf"
    )
    assert response.status_code == 400
    assert b"csv or xlsx" in response.content
    assert not AuditEvent.objects.filter(event_type="list.exported").exists()


@pytest.mark.django_db
def test_labels_follow_the_users_language(get):
    with translation.override("nl"):
        response = export_response(
            get(format="csv"),
            rows=[],
            columns=COLUMNS,
            filename_stem="x",
            format="csv",
        )
        header = read_csv(response)[0]
    assert header[0] == "Naam"
    assert len(header) == 3


@pytest.mark.django_db
def test_the_file_name_carries_the_date_in_the_company_time_zone(get, settings):
    # 23:30 UTC on 31 March is already 1 April in Brussels (summer time).
    WorkingCalendar.objects.create(time_zone="Europe/Brussels")
    from unittest import mock

    moment = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        response = export_response(
            get(format="csv"),
            rows=[],
            columns=COLUMNS,
            filename_stem="x",
            format="csv",
        )
    assert 'filename="x-2026-04-01.csv"' in response["Content-Disposition"]


@pytest.mark.django_db
def test_a_download_broken_off_is_still_audited_as_incomplete(get):
    response = export_response(
        get(format="csv"), rows=ROWS, columns=COLUMNS, filename_stem="x", format="csv"
    )
    stream = iter(response.streaming_content)
    next(stream)  # the header line only
    # As Django's test client does: the end of the request must not close the test's
    # database connection (PostgreSQL).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    event = AuditEvent.objects.get(event_type="list.exported")
    assert event.new["complete"] is False
    assert event.new["rows"] == 0


def test_choice_labels_follow_the_active_language():
    from leadflow.intake.states import InquiryStatus

    label = choice_label("status", InquiryStatus.choices)

    class Row:
        status = "closed"

    with translation.override("en"):
        english = label(Row())
    with translation.override("nl"):
        dutch = label(Row())
    assert english == "Closed"
    with translation.override("nl"):
        assert dutch == str(InquiryStatus.CLOSED.label)
    assert label(type("R", (), {"status": "unknown"})()) == "unknown"
