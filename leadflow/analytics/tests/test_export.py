"""CSV and XLSX exports: formula neutralising, the BOM, the totals row, one sheet per
table (unit level and through the report page's ``?format=`` links)."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from leadflow.analytics.export import neutralise, table_csv, tables_xlsx
from leadflow.analytics.reports.base import Column, Kind, Table
from leadflow.intake.tests.factories import make_inquiry


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil","x")',
        "+31 6 1234",
        "-2+3",
        "@SUM(A1:A2)",
        "\tTabbed",
        "\rReturn",
    ],
)
def test_text_that_looks_like_a_formula_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["Plain", "", "a=b", "100", " =spaced", 0, -5, 3.5, Decimal("-12.50"), None],
)
def test_other_values_and_numbers_are_untouched(value):
    assert neutralise(value) == value


def _table(totals=True) -> Table:
    return Table(
        key="people",
        title="People / teams",
        columns=[
            Column("name", "Name"),
            Column("count", "Count", Kind.INT),
            Column("share", "Share", Kind.RATIO),
            Column("value", "Value", Kind.MONEY),
        ],
        rows=[
            {"name": "=cmd|' /C calc'!A0", "count": 3, "share": 0.75, "value": None},
            {"name": "Zoë", "count": -1, "share": None, "value": Decimal("1250.50")},
        ],
        totals={"count": 2, "share": 0.5, "value": Decimal("1250.50")}
        if totals
        else None,
    )


def test_table_csv_has_header_rows_and_totals():
    rows = list(csv.reader(io.StringIO(table_csv(_table()))))
    assert rows == [
        ["Name", "Count", "Share", "Value"],
        ["'=cmd|' /C calc'!A0", "3", "0.75", ""],
        ["Zoë", "-1", "", "1250.50"],
        ["", "2", "0.5", "1250.50"],
    ]


def test_table_csv_without_totals():
    rows = list(csv.reader(io.StringIO(table_csv(_table(totals=False)))))
    assert len(rows) == 3


def test_xlsx_has_one_sheet_per_table_with_safe_titles():
    second = _table()
    second.key = "again"
    third = Table(key="empty", title="", columns=[Column("name", "Name")])
    data = tables_xlsx([_table(), second, third])
    book = load_workbook(io.BytesIO(data))
    # "/" is not allowed in a sheet title; a repeated title gets a suffix; an empty
    # title falls back to the key.
    assert book.sheetnames == ["People  teams", "People  teams_", "empty"]
    sheet = book["People  teams"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Name", "Count", "Share", "Value"]
    assert values[1][:3] == ["'=cmd|' /C calc'!A0", 3, 0.75]
    assert values[2][1] == -1
    assert values[3][1:] == [2, 0.5, 1250.5]
    assert [list(r) for r in book["empty"].iter_rows(values_only=True)] == [["Name"]]


# --- through the report page (the sources report, which every install has) ----------


@pytest.fixture
def hostile_referrer(inside):
    make_inquiry(inside, referrer='=HYPERLINK("http://x")')
    make_inquiry(inside, referrer='=HYPERLINK("http://x")')
    make_inquiry(inside, referrer="Ann Peeters")


def test_page_csv_export_has_a_bom_the_rows_and_neutralised_text(
    client, director, hostile_referrer
):
    client.force_login(director)
    response = client.get("/analytics/sources/", {"format": "csv", "table": "referrer"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="leadflow-sources-'
    )
    assert response["Content-Disposition"].endswith('-referrer.csv"')
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Referred by", "Inquiries", "Qualified"]
    assert rows[1][:2] == ['\'=HYPERLINK("http://x")', "2"]
    assert rows[2][:2] == ["Ann Peeters", "1"]
    assert len(rows) == 3  # the referrer table has no totals row


def test_page_csv_export_default_table_has_the_totals_row(
    client, director, hostile_referrer
):
    client.force_login(director)
    response = client.get("/analytics/sources/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response["Content-Disposition"].endswith('-channel.csv"')
    assert rows[0][0] == "Channel"
    # One channel (phone) with 3 inquiries, then the totals row.
    assert rows[1][:2] == ["Phone", "3"]
    assert rows[-1][:2] == ["", "3"]
    assert len(rows) == 3


def test_page_xlsx_export_opens_with_one_sheet_per_table(
    client, director, hostile_referrer
):
    client.force_login(director)
    response = client.get("/analytics/sources/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(response.content))
    tables = client.get("/analytics/sources/").context["document"]["tables"]
    assert len(book.sheetnames) == len(tables) >= 4
    assert [name[:10] for name in book.sheetnames] == [t["title"][:10] for t in tables]
    assert book.sheetnames[0] == "By channel"
    assert "By referrer (top 20)" in book.sheetnames
    referrers = [
        r[:2] for r in book["By referrer (top 20)"].iter_rows(values_only=True)
    ]
    assert referrers == [
        ("Referred by", "Inquiries"),
        ('\'=HYPERLINK("http://x")', 2),
        ("Ann Peeters", 1),
    ]


def test_export_with_a_bad_filter_is_not_a_download(client, director):
    client.force_login(director)
    response = client.get("/analytics/sources/", {"format": "csv", "from": "nope"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
