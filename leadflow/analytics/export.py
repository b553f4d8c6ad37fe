"""A report table as CSV or XLSX, with the page's filters (SPEC step 5: every report
can be exported). Cells that a spreadsheet would read as a formula (``=``, ``+``,
``-``, ``@``, tab, carriage return) get a leading apostrophe: a contact called
``=HYPERLINK(...)`` stays text (OWASP "CSV injection")."""

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from leadflow.analytics.reports.base import Kind, Table

# The formula rule is the one of every list export (core/export.py); kept importable
# from here under the same names.
from leadflow.core.export import FORMULA_PREFIXES, neutralise

__all__ = ["FORMULA_PREFIXES", "neutralise", "table_csv", "tables_xlsx"]

SHEET_TITLE_LIMIT = 31


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return value
    if kind == Kind.TEXT:
        return neutralise(str(value))
    if isinstance(value, str):
        return neutralise(value)
    return value


def _rows(table: Table):
    yield [str(c.label) for c in table.columns]
    for row in table.rows:
        yield [_cell(row.get(c.key), c.kind) for c in table.columns]
    if table.totals:
        yield [_cell(table.totals.get(c.key), c.kind) for c in table.columns]


def table_csv(table: Table) -> str:
    """UTF-8 CSV (the caller adds a BOM so Excel reads the accents)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _rows(table):
        writer.writerow(row)
    return out.getvalue()


def tables_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table (write-only workbook: memory stays flat)."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        title = "".join(ch for ch in str(table.title) if ch not in "[]:*?/\\")
        title = (title or table.key)[:SHEET_TITLE_LIMIT]
        while title in used:
            title = title[: SHEET_TITLE_LIMIT - 1] + "_"
        used.add(title)
        sheet = book.create_sheet(title=title)
        for row in _rows(table):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
