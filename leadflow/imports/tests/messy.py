"""Generators of messy import files, for the tests of every import feature.

Write them into pytest's ``tmp_path``::

    path = write_csv(tmp_path / "c.csv", CONTACTS, encoding="cp1252", delimiter=";")
    path = write_xlsx(tmp_path / "c.xlsx", typed_contacts())

``CONTACTS`` (a header and five people) holds what real files hold: accents outside
ASCII ("Café Brûlé", "Müller", "Ørsted"), stray and non-breaking spaces, a quoted
cell with a line break and with the delimiter, decimal commas and d/m/Y dates, and an
empty row. Every text in it fits Latin-1, so the same rows can be written in every
encoding and read back identically (``CONTACTS_ROWS`` is what ``rows()`` yields).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

Row = Sequence[object]

CONTACTS_HEADER = ["Naam", "Bedrijf", "E-mail", "Omzet", "Datum", "Opmerking"]
CONTACTS: list[list[str]] = [
    CONTACTS_HEADER,
    [
        "Émile Dupré",
        "Café Brûlé BV",
        "emile@cafe-brule.be",
        "1.234,56",
        "05/03/2024",
        "",
    ],
    [
        "  Jürgen Müller ",
        "Müller\u00a0GmbH",
        "j.muller@example.de",
        "12,5",
        "25/12/2023",
        "a; b, c",
    ],
    [],  # an empty row: skipped, but still counted in the row numbers
    [
        "Søren Ørsted",
        "Ørsted A/S",
        "soren@orsted.dk",
        "-7,00",
        "31/01/2024",
        "line one\nline two",
    ],
    ["Zoë Çelik", "", "zoe@example.com", "", "", 'said "hi"'],
    [
        "Piet Janssens",
        "Janssens & Zonen",
        " piet@janssens.be ",
        "0,5",
        "01/02/2024",
        "",
    ],
]
"""A header and five people in Dutch/Belgian style (see the module docstring)."""

CONTACTS_ROWS: list[tuple[int, list[str]]] = [
    (
        2,
        [
            "Émile Dupré",
            "Café Brûlé BV",
            "emile@cafe-brule.be",
            "1.234,56",
            "05/03/2024",
            "",
        ],
    ),
    (
        3,
        [
            "Jürgen Müller",
            "Müller\u00a0GmbH",
            "j.muller@example.de",
            "12,5",
            "25/12/2023",
            "a; b, c",
        ],
    ),
    (
        5,
        [
            "Søren Ørsted",
            "Ørsted A/S",
            "soren@orsted.dk",
            "-7,00",
            "31/01/2024",
            "line one\nline two",
        ],
    ),
    (6, ["Zoë Çelik", "", "zoe@example.com", "", "", 'said "hi"']),
    (
        7,
        [
            "Piet Janssens",
            "Janssens & Zonen",
            "piet@janssens.be",
            "0,5",
            "01/02/2024",
            "",
        ],
    ),
]
"""What ``open_table(...).rows()`` yields for ``CONTACTS`` written in any CSV form."""

AMBIGUOUS_DATES = ["03/04/2024", "01/02/2024", "12/11/2023", "05/05/2024", ""]
"""d/m/Y or m/d/Y? Every value has both parts <= 12: the user has to say."""

DMY_DATES = ["03/04/2024", "25/12/2023", "1-2-2024", "31.01.2024", "05/03/24"]
"""One value (25/12, 31.01) proves day-first; the others follow it."""

MDY_DATES = ["03/04/2024", "12/25/2023", "1/31/2024"]
"""One value (12/25, 1/31) proves month-first."""

MIXED_DATES = ["25/03/2024", "03/25/2024", "01/02/2024"]
"""Both orders proven in one column: the caller reports the column as mixed."""

SPELLINGS = ["Acme BV", "ACME B.V.", "Acme  bv", "Acmee BV", "Acme BV", "Other NV"]
"""Five spellings of one company (one of them twice) and a different company."""


def write_csv(
    path: Path,
    rows: Iterable[Row],
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    delimiter: str = ",",
    line_end: str = "\r\n",
    sep_line: bool = False,
) -> Path:
    """Write ``rows`` as a CSV file the way spreadsheet programs do; return ``path``.

    Cells are quoted only when needed (delimiter, quote or line break inside).
    ``bom`` writes a UTF-8 byte order mark (``encoding="utf-8"`` only; Python's
    ``utf-16`` always writes one, as Excel's "Unicode text" does). ``line_end`` is
    "\\r\\n", "\\n" or "\\r", also inside quoted cells, as a Mac or Windows editor
    would. ``sep_line`` writes Excel's ``sep=<delimiter>`` first line.
    """
    if bom and encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    with open(path, "w", encoding=encoding, newline="") as handle:
        if sep_line:
            handle.write(f"sep={delimiter}{line_end}")
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=line_end)
        for row in rows:
            writer.writerow(
                [str(c).replace("\r\n", "\n").replace("\n", line_end) for c in row]
            )
    return path


def write_xlsx(
    path: Path, rows: Iterable[Row], *, sheet: str = "Sheet1", more_sheets=None
) -> Path:
    """Write ``rows`` as an XLSX workbook with real typed cells; return ``path``.

    ``date``/``datetime`` values become date cells (formatted like Excel does),
    ints, floats and ``Decimal`` number cells, ``bool`` boolean cells, strings
    starting with "=" formulas (their cached value is empty: openpyxl does not
    calculate). ``more_sheets`` ({name: rows}) adds further sheets after the first.
    Uses write-only mode, so large generated workbooks stay cheap, and then adds
    the ``<dimension>`` element Excel writes (openpyxl's write-only mode leaves it
    out, and without it openpyxl's reader scans a whole sheet on every open).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheets = {sheet: rows, **(more_sheets or {})}
    used: list[tuple[int, int]] = []
    for name, sheet_rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        height = width = 0
        for row in sheet_rows:
            cells = []
            for value in row:
                if isinstance(value, Decimal):
                    value = float(value)
                cell = WriteOnlyCell(worksheet, value=value)
                if isinstance(value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(value, date):
                    cell.number_format = "dd/mm/yyyy"
                cells.append(cell)
            worksheet.append(cells)
            height, width = height + 1, max(width, len(cells))
        used.append((height, width))
    workbook.save(path)
    dimensions = {
        f"xl/worksheets/sheet{i}.xml": (
            f"A1:{get_column_letter(w)}{h}" if h and w else "A1"
        ).encode()
        for i, (h, w) in enumerate(used, 1)
    }
    _rewrite_sheets(
        path,
        lambda name, data: (
            data.replace(
                b"</sheetPr>",
                b'</sheetPr><dimension ref="' + dimensions[name] + b'" />',
                1,
            )
            if name in dimensions
            else data
        ),
    )
    return path


def _rewrite_sheets(path: Path, change) -> None:
    """Rewrite every worksheet XML of the workbook at ``path`` with ``change``."""
    import shutil
    import zipfile

    source = path.with_name(path.name + ".tmp")
    shutil.move(path, source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = change(item.filename, data)
            new.writestr(item, data)
    source.unlink()


def typed_contacts() -> list[list[object]]:
    """``CONTACTS``-like rows with real dates, numbers and booleans, for XLSX."""
    return [
        ["Name", "Company", "Founded", "Last call", "Revenue", "Employees", "Customer"],
        [
            "Émile Dupré",
            "Café Brûlé BV",
            date(2024, 3, 5),
            datetime(2024, 3, 5, 14, 30),
            1234.5,
            12,
            True,
        ],
        [
            "Jürgen Müller",
            " Müller GmbH ",
            date(1999, 12, 31),
            None,
            0.1 + 0.2,
            1000000,
            False,
        ],
        [None, None, None, None, None, None, None],
        [
            "Søren Ørsted",
            "Ørsted A/S",
            None,
            datetime(2024, 1, 31, 9, 5, 7),
            -7.0,
            3,
            None,
        ],
    ]


def big_rows(count: int, *, columns: int = 12, seed: int = 6) -> Iterator[list[str]]:
    """A header and ``count`` generated contact-like rows, lazily (for big files).

    The first columns are name, company, e-mail, phone, city, value (decimal comma),
    date (d/m/Y); further columns are filled with short notes.
    """
    rng = random.Random(seed)
    header = ["Name", "Company", "Email", "Phone", "City", "Value", "Date"]
    header += [f"Note {i}" for i in range(1, columns - len(header) + 1)]
    yield header[:columns]
    firsts = ["Anna", "Bram", "Chloé", "Daan", "Eline", "Jürgen", "Søren", "Zoë"]
    lasts = ["Peeters", "Janssens", "Maes", "Müller", "De Smet", "Dupré", "Ørsted"]
    cities = ["Gent", "Antwerpen", "Brussel", "Leuven", "Utrecht", "Liège"]
    for i in range(count):
        first, last = rng.choice(firsts), rng.choice(lasts)
        row = [
            f"{first} {last}",
            f"{last} & Co {i % 997} BV",
            f"{first.lower()}.{i}@example.com",
            f"+32 9 {i % 1000:03d} {i % 100:02d} {i % 97:02d}",
            rng.choice(cities),
            f"{rng.randint(0, 99999)},{rng.randint(0, 99):02d}",
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/20{rng.randint(10, 25)}",
        ]
        row += [f"note {i}-{j}" for j in range(columns - len(row))]
        yield row[:columns]


def write_big_csv(path: Path, count: int, *, columns: int = 12, **options) -> Path:
    """A CSV file of ``big_rows(count, columns=...)``, written streaming."""
    return write_csv(path, big_rows(count, columns=columns), **options)


def write_plain_csv(path: Path, count: int, *, columns: int = 6, pad: int = 0) -> Path:
    """A quick, plain UTF-8 CSV: a header "c1..cN" and ``count`` rows "r{i}c{j}".

    ``pad`` appends that many "x" to every cell (a bigger file, as many rows).
    Written line by line without the csv module, so 200,000 rows take about a
    second (for memory and speed measurements, not for messiness).
    """
    filler = "x" * pad
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(f"c{j}" for j in range(1, columns + 1)) + "\r\n")
        for i in range(count):
            cells = (f"r{i}c{j}{filler}" for j in range(1, columns + 1))
            handle.write(",".join(cells) + "\r\n")
    return path


def set_cached_formula_value(path: Path, formula: str, value: str) -> Path:
    """Give a formula written by ``write_xlsx`` (openpyxl stores no result) the
    cached value Excel would have stored, as when a user saves in Excel."""
    _rewrite_sheets(
        path,
        lambda _name, data: data.replace(
            f"<f>{formula}</f><v />".encode(),
            f"<f>{formula}</f><v>{value}</v>".encode(),
        ),
    )
    return path
