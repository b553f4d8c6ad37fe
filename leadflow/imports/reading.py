"""Reading uploaded CSV and XLSX files as a header and a stream of rows.

``open_table`` looks at the file's bytes (not only its name) to tell CSV from XLSX,
works out a CSV file's encoding and delimiter, reads the header row and returns a
``TableFile`` whose ``rows()`` streams the data rows as stripped strings: the file is
never held in memory whole, so a 1,000,000-row file costs no more memory than a
10-row one.

Rules, in the order they are applied:

* Format: a zip with ``[Content_Types].xml`` is XLSX; the OLE2 signature is a legacy
  ``.xls`` (or a password-protected workbook) and refused with a message telling to
  save as XLSX or CSV; an OpenDocument spreadsheet, a PDF or an image is refused;
  anything else is read as CSV text.
* Encoding (CSV), when not given: a BOM decides (UTF-8 → ``utf-8-sig``, UTF-16 →
  ``utf-16``); otherwise the whole file is checked as UTF-8 in 1 MB chunks with an
  incremental decoder (a multi-byte character cut by a chunk boundary is carried
  over), so a single accented name at row 900,000 is not misread; if it is not
  UTF-8 it is ``cp1252`` (Windows' superset of Latin-1), or ``latin-1`` when the file
  holds a byte ``cp1252`` leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), or
  ``utf-8-cp1252`` (``MIXED``: UTF-8 with stray Windows-1252 bytes read as such) when
  it has a UTF-8 BOM or more UTF-8 characters than other non-ASCII bytes. A given
  encoding is checked the same way, so a wrong choice fails here with the line
  number, not half-way through an import.
* NUL bytes (in a file that is not UTF-16) refuse the file: a text file never holds
  them, they come from a binary file or a UTF-16 file without a BOM.
* Delimiter (CSV), when not given: Excel's ``sep=;`` first line is honoured (and
  not taken as the header); otherwise the first 64 KB are parsed with each of
  ``,`` ``;`` tab ``|`` (the csv module, so quoted delimiters do not count) and the
  one that splits the header into more than one field and gives that same number
  of fields on most of the first 50 rows wins (ties: more fields, then the order
  above). A file nothing splits is one column, delimiter ``,``.
* Header: the first non-empty row. Cells are stripped and inner whitespace runs
  (line breaks of wrapped header cells included) collapsed; trailing empty header
  cells are dropped; other empty ones become "column 3"; repeated names (compared
  case-insensitively) become "Email (2)". A first row made only of values (numbers,
  dates, e-mail addresses) is refused as "No header row".
* Row numbers are the ones a spreadsheet shows: the header row's number (1 unless
  empty rows precede it), every record counted once even when a quoted cell spans
  several lines, empty rows counted, Excel's ``sep=`` line not counted. For CSV
  files without multi-line cells or ``sep=`` line this is the line number.
* Rows: cells stripped, padded with "" or cut to the header's width; fully empty
  rows skipped. A row with a different number of cells than the header is noted in
  ``ragged_lines`` (the first 100) so the preview can warn; cells beyond the header
  are dropped. An unclosed quote (it swallows the rest of the file) and a cell over
  ``FIELD_LIMIT`` characters raise ``ImportFileError`` with the row number.
* XLSX: ``openpyxl`` in read-only mode with cached formula values; dates become ISO
  strings (``2024-03-05``, ``2024-03-05T14:30:00``), numbers plain strings with at
  most 15 significant digits (Excel's own precision: ``1234.5``, ``1234`` not
  ``1234.0``, no ``1e+20``), booleans ``true``/``false``.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

CHUNK = 1024 * 1024  # bytes per read when checking the encoding
SNIFF_BYTES = 64 * 1024  # bytes looked at to choose the delimiter
SNIFF_ROWS = 50  # rows compared to choose the delimiter
FIELD_LIMIT = 1024 * 1024  # characters in one cell; more means a broken quote
RAGGED_KEEP = 100  # line numbers of ragged rows kept for the preview
DELIMITERS = (",", ";", "\t", "|")

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_BINARY_MAGICS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")
_SEP_LINE = re.compile(r'^"?sep=([^\r\n"])"?[ \t]*(?:\r\n|\r|\n|$)', re.IGNORECASE)
# Unclosed quotes swallow the rest of the file: a sentinel line after the last real
# line ends up inside the last cell exactly when a quote is still open at the end.
_EOF = "\ue000leadflow-eof\ue000"
_VALUE_CELL = re.compile(
    r"""^(?:
        [-+]?[€$£]?\s?\d[\d\s.,']*          # a number (years 1900-2099 are let through below)
      | \d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*   # a date
      | [^@\s]+@[^@\s]+\.[^@\s]+            # an e-mail address
    )$""",
    re.VERBOSE,
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


class ImportFileError(Exception):
    """The file cannot be read as a table; the message says why, for the user."""


# --- UTF-8 with Windows-1252 bytes mixed in --------------------------------------
# Files glued together from two exports, or UTF-8 files edited by an old program,
# hold UTF-8 text with a few Windows-1252 bytes in it. Read as either encoding a
# part comes out garbled ("CafÃ©" or an error), so such a file gets its own codec:
# UTF-8, where a byte that is not valid UTF-8 is read as Windows-1252 (or Latin-1
# for the five bytes Windows-1252 leaves undefined). A leading BOM is skipped.
MIXED = "utf-8-cp1252"
_CP1252_CHARS = "".join(
    bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)
)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_CP1252_CHARS[b] for b in bad), error.end


codecs.register_error("leadflow-cp1252", _cp1252_fallback)


class _MixedDecoder(codecs.BufferedIncrementalDecoder):
    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._at_start = True

    def _buffer_decode(self, data, errors, final):  # errors: always the fallback
        skipped = 0
        if self._at_start:
            if not final and len(data) < 3 and codecs.BOM_UTF8.startswith(data):
                return "", 0  # wait: this may be the start of a BOM
            self._at_start = False
            if data.startswith(codecs.BOM_UTF8):
                skipped = 3
        text, used = codecs.utf_8_decode(data[skipped:], "leadflow-cp1252", final)
        return text, used + skipped

    def reset(self) -> None:
        super().reset()
        self._at_start = True


def _find_mixed(name: str) -> codecs.CodecInfo | None:
    if name != MIXED.replace("-", "_"):
        return None

    def decode(data, errors="strict"):
        return _MixedDecoder().decode(bytes(data), final=True), len(data)

    utf_8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=MIXED,
        encode=utf_8.encode,
        decode=decode,
        incrementalencoder=utf_8.incrementalencoder,
        incrementaldecoder=_MixedDecoder,
        streamreader=utf_8.streamreader,
        streamwriter=utf_8.streamwriter,
    )


codecs.register(_find_mixed)


@dataclass
class TableFile:
    """An opened CSV or XLSX file: its format, header and a way to stream its rows."""

    format: str  # "csv" | "xlsx"
    encoding: str | None  # "utf-8-sig" | "utf-8" | "utf-16" | "cp1252" | "latin-1"
    delimiter: str | None  # "," ";" "\t" "|" for csv
    headers: list[str]
    path: Path = field(repr=False, default=Path())
    sheet: str | None = None  # xlsx: the sheet read
    sheets: list[str] = field(default_factory=list)  # xlsx: every worksheet's name
    header_line: int = 1  # row number of the header row
    ragged_lines: list[int] = field(default_factory=list)
    ragged_count: int = 0  # all ragged rows (ragged_lines keeps the first 100)
    sep_line: bool = False  # csv: an Excel "sep=" line precedes the header
    _width: int = field(default=0, repr=False)  # header cells before trimming

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) for every non-empty data row, streamed.

        Cells are stripped strings, exactly ``len(headers)`` of them. May be called
        more than once (each call re-opens the file). ``ragged_lines`` and
        ``ragged_count`` are complete once a call has run to the end.
        """
        width = len(self.headers)
        csv_file = self.format == "csv"
        ragged: list[int] = []
        ragged_count = 0
        for number, cells in self._records():
            row = list(map(str.strip, cells))
            if not any(row):
                continue
            if len(row) != width:
                # A CSV row is ragged when its cell count differs from the
                # header's (trailing empty cells aside); an XLSX row when it has
                # values right of the header (its rows are as wide as the sheet).
                extra = any(row[width:])
                if extra or (csv_file and len(row) < width):
                    ragged_count += 1
                    if len(ragged) < RAGGED_KEEP:
                        ragged.append(number)
                if len(row) > width:
                    del row[width:]
                else:
                    row.extend([""] * (width - len(row)))
            yield number, row
        self.ragged_lines = ragged
        self.ragged_count = ragged_count

    def count_rows(self) -> int:
        """How many data rows ``rows()`` yields (streams through the file)."""
        count = 0
        for _row in self.rows():
            count += 1
        return count

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, raw cells) of every row after the header, empty ones too."""
        if self.format == "xlsx":
            records = _xlsx_records(self.path, self.sheet)
        else:
            records = _csv_records(
                self.path, self.encoding, self.delimiter, self.sep_line
            )
        header_line = self.header_line
        for number, cells in records:
            if number > header_line:
                yield number, cells


def open_table(
    path: Path,
    *,
    filename: str = "",
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> TableFile:
    """Open an uploaded CSV or XLSX file and read its header row.

    ``filename`` is the name the user uploaded (for messages and the ``.xlsx``
    check); ``encoding``, ``delimiter`` and ``sheet`` override what is detected.
    Raises ``ImportFileError`` with a message for the user.
    """
    path = Path(path)
    name = (filename or path.name).lower()
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ImportFileError(_("The file cannot be opened.")) from exc
    if not head:
        raise ImportFileError(_("The file is empty."))
    if head.startswith(_OLE_MAGIC):
        raise ImportFileError(
            _(
                "This is an old Excel file (.xls) or a password-protected workbook. "
                "Open it in Excel and save it as .xlsx (without a password) or as CSV."
            )
        )
    if head.startswith(_XLSX_MAGIC):
        return _open_xlsx(path, sheet=sheet)
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(
            _(
                "This file is named like an Excel workbook but is not one: it may be damaged."
            )
        )
    if head.startswith(_BINARY_MAGICS):
        raise ImportFileError(_("This file is not CSV or XLSX."))
    return _open_csv(path, encoding=encoding, delimiter=delimiter)


# --- CSV -----------------------------------------------------------------------


def _open_csv(path: Path, *, encoding: str | None, delimiter: str | None) -> TableFile:
    if encoding is None:
        encoding = _detect_encoding(path)
    else:
        encoding = _known_encoding(encoding)
        if encoding == "utf-8":
            with path.open("rb") as handle:
                if handle.read(3) == codecs.BOM_UTF8:
                    encoding = "utf-8-sig"  # else the BOM sticks to the first header
        _check_decodes(path, encoding)
    sample = _text_sample(path, encoding)
    if not sample.strip():
        raise ImportFileError(_("The file is empty."))
    sep_line = False
    match = _SEP_LINE.match(sample)
    if match:
        sep_line = True
        if delimiter is None:
            delimiter = match.group(1)
        sample = sample[match.end() :]
    if delimiter is None:
        delimiter = _sniff_delimiter(sample)
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise ImportFileError(_("The delimiter must be one character."))
    table = TableFile(
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        headers=[],
        path=path,
        sep_line=sep_line,
    )
    for number, cells in _csv_records(path, encoding, delimiter, sep_line):
        if any(cell.strip() for cell in cells):
            _set_header(table, number, cells)
            return table
    raise ImportFileError(_("The file is empty."))


def _known_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ImportFileError(
            _("Unknown encoding: %(encoding)s.") % {"encoding": encoding}
        ) from exc
    return {"iso8859-1": "latin-1"}.get(name, name)


def _detect_encoding(path: Path) -> str:
    """The encoding a CSV file is read with (see the module docstring)."""
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif start.startswith(_UTF16_BOMS):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    if _decodes(path, encoding):
        return encoding
    if encoding == "utf-16":
        _check_decodes(path, encoding)  # raises with the line number
    # Not UTF-8: Windows-1252, or Latin-1 when a byte is undefined in Windows-1252,
    # unless most non-ASCII bytes form UTF-8 characters: then UTF-8 with a few
    # Windows-1252 bytes mixed in.
    undefined = False
    utf8_sequences = other_bytes = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                raise _nul_bytes()
            undefined = undefined or any(b in chunk for b in _CP1252_UNDEFINED)
            # Decoded with replacement, each byte that is not UTF-8 becomes one
            # U+FFFD; the other non-ASCII characters were UTF-8 sequences.
            text = chunk.decode("utf-8", errors="replace")
            bad = text.count("\ufffd")
            other_bytes += bad
            utf8_sequences += len(text) - len(text.encode("ascii", "ignore")) - bad
    if utf8_sequences > other_bytes or encoding == "utf-8-sig":
        return MIXED
    return "latin-1" if undefined else "cp1252"


def _decodes(path: Path, encoding: str) -> bool:
    try:
        _check_decodes(path, encoding)
    except _NotDecodable:
        return False
    return True


class _NotDecodable(ImportFileError):
    pass


def _check_decodes(path: Path, encoding: str) -> None:
    """Decode the whole file in chunks; raise with the line of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    utf16 = encoding.startswith("utf-16")
    lines = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                line = lines + chunk[: max(exc.start, 0)].count(b"\n") + 1
                raise _NotDecodable(
                    _(
                        "The file cannot be read as %(encoding)s text (line %(line)s). "
                        "Choose another encoding."
                    )
                    % {"encoding": encoding, "line": line}
                ) from exc
            if (not utf16 and b"\x00" in chunk) or (utf16 and "\x00" in text):
                raise _nul_bytes()
            lines += chunk.count(b"\n")
            if final:
                return


def _text_sample(path: Path, encoding: str) -> str:
    """The first ~64 KB of the file as text, without a partial last character."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        raw = handle.read(SNIFF_BYTES)
        more = bool(handle.read(1))
    text = decoder.decode(raw, final=not more)
    if text.startswith("\ufeff"):
        text = text.lstrip("\ufeff")
    if more:
        # Drop the last, possibly cut, line (unless the sample is one line).
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[: cut + 1]
    return text


def _nul_bytes() -> ImportFileError:
    return ImportFileError(
        _(
            "The file contains NUL bytes: it is not a CSV text file "
            "(or it is UTF-16 without a byte order mark)."
        )
    )


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first rows most consistently (module docstring)."""
    best: tuple[int, int, int] | None = None
    chosen = ","
    for preference, candidate in enumerate(DELIMITERS):
        reader = csv.reader(
            io.StringIO(sample, newline=""),
            delimiter=candidate,
            skipinitialspace=candidate != "\t",
        )
        widths = []
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    widths.append(len(cells))
                    if len(widths) >= SNIFF_ROWS:
                        break
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for w in widths if w == widths[0]), widths[0], -preference)
        if best is None or score > best:
            best, chosen = score, candidate
    return chosen


def _csv_records(
    path: Path, encoding: str | None, delimiter: str | None, sep_line: bool
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every CSV record, empty ones included, streamed.

    Line breaks inside quoted cells come out as "\n" whatever the file uses.
    """
    check_length = csv.field_size_limit() > FIELD_LIMIT
    if not check_length:  # the csv module enforces the limit (a global setting)
        csv.field_size_limit(FIELD_LIMIT)
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        if sep_line:
            text.readline()
        reader = csv.reader(
            itertools.chain(text, [_EOF]),
            delimiter=delimiter or ",",
            skipinitialspace=delimiter != "\t",
        )
        number = line = 0
        try:
            for cells in reader:
                number += 1
                if reader.line_num - line > 1:  # quoted line breaks in this record
                    if cells[-1].endswith(_EOF):
                        raise _unclosed(number)
                    cells = [_one_newline(cell) for cell in cells]
                elif len(cells) == 1 and cells[0] == _EOF:
                    return
                line = reader.line_num
                if check_length and any(len(cell) > FIELD_LIMIT for cell in cells):
                    raise _too_long(number)
                yield number, cells
        except csv.Error as exc:
            raise _too_long(number + 1) from exc


def _one_newline(cell: str) -> str:
    if "\r" in cell:
        return cell.replace("\r\n", "\n").replace("\r", "\n")
    return cell


def _unclosed(row: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Row %(row)s: a quote is opened but never closed, "
            "so the rest of the file would be one cell."
        )
        % {"row": row}
    )


def _too_long(row: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Row %(row)s: a cell is longer than %(limit)s characters "
            "(is a quote left open?)."
        )
        % {"row": row, "limit": FIELD_LIMIT}
    )


# --- XLSX ----------------------------------------------------------------------


def _open_xlsx(path: Path, *, sheet: str | None) -> TableFile:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and b"opendocument" in archive.read("mimetype"):
                raise ImportFileError(
                    _(
                        "OpenDocument spreadsheets (.ods) cannot be imported. "
                        "Save the file as .xlsx or CSV."
                    )
                )
    except zipfile.BadZipFile as exc:
        raise ImportFileError(
            _("The workbook cannot be read: it may be damaged.")
        ) from exc
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportFileError(_("This file is not CSV or XLSX."))
    with _workbook(path) as workbook:
        sheets = [ws.title for ws in workbook.worksheets]
        if not sheets:
            raise ImportFileError(_("The workbook has no worksheet."))
        if sheet is None:
            sheet = sheets[0]
        elif sheet not in sheets:
            raise ImportFileError(
                _("The workbook has no sheet named “%(sheet)s”.") % {"sheet": sheet}
            )
        table = TableFile(
            format="xlsx",
            encoding=None,
            delimiter=None,
            headers=[],
            path=path,
            sheet=sheet,
            sheets=sheets,
        )
        for number, cells in _sheet_records(workbook[sheet]):
            if any(cell.strip() for cell in cells):
                _set_header(table, number, cells)
                return table
    raise ImportFileError(_("The sheet “%(sheet)s” is empty.") % {"sheet": sheet})


@contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    """The workbook in read-only mode, closed (with its file) afterwards.

    It is opened from a file object: openpyxl refuses a path whose name does not
    end in .xlsx, and uploads are stored under other names.
    """
    from openpyxl import load_workbook

    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ImportFileError(
                _("The workbook cannot be read: it may be damaged.")
            ) from exc
        try:
            yield workbook
        finally:
            workbook.close()


def _xlsx_records(path: Path, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
    """(sheet row number, cells as text) of every row, empty ones included."""
    with _workbook(path) as workbook:
        yield from _sheet_records(workbook[sheet] if sheet else workbook.worksheets[0])


def _sheet_records(worksheet) -> Iterator[tuple[int, list[str]]]:
    # Files written by other tools often carry wrong dimensions; without this
    # read-only mode would silently stop at the declared last row or column.
    worksheet.reset_dimensions()
    number = 0
    for values in worksheet.iter_rows(values_only=True):
        number += 1
        yield number, [_cell_text(value) for value in values]


def _cell_text(value: object) -> str:
    """One XLSX cell value as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        value = _round_to_second(value)
        if value.time() == time(0):
            return value.date().isoformat()
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return number_text(value)
    return str(value)


def number_text(value: float | Decimal) -> str:
    """A number as plain text with Excel's 15 significant digits: 1234.5, 12, 0.3."""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    number = Decimal(format(value, ".15g"))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _round_to_second(value: datetime) -> datetime:
    """Excel stores times as fractions of a day: 14:29:59.999987 means 14:30:00."""
    if value.microsecond >= 500_000:
        return value.replace(microsecond=0) + timedelta(seconds=1)
    return value.replace(microsecond=0)


# --- header --------------------------------------------------------------------


def _set_header(table: TableFile, number: int, cells: list[str]) -> None:
    """Fill in the header of ``table`` from its first non-empty row."""
    table._width = len(cells) if table.format == "csv" else _used_width(cells)
    cleaned = [" ".join(cell.split()) for cell in cells]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    filled = [c for c in cleaned if c]
    if all(_VALUE_CELL.match(c) and not _YEAR.match(c) for c in filled):
        raise ImportFileError(
            _(
                "No header row: the first row (row %(row)s) holds values such as "
                "“%(example)s”, not column names. Add a row with the column names."
            )
            % {"row": number, "example": filled[0]}
        )
    table.header_line = number
    table.headers = _unique_headers(cleaned)


def _unique_headers(cells: list[str]) -> list[str]:
    """Empty names become "column N", repeats "Name (2)", "Name (3)"."""
    named = [
        cell or _("column %(number)s") % {"number": i}
        for i, cell in enumerate(cells, 1)
    ]
    originals = {name.casefold() for name in named}
    used: set[str] = set()
    result = []
    for name in named:
        candidate, counter = name, 1
        while candidate.casefold() in used:
            counter += 1
            candidate = f"{name} ({counter})"
            if candidate.casefold() in originals:
                candidate = name  # a real column has this name: try the next number
        used.add(candidate.casefold())
        result.append(candidate)
    return result


def _used_width(cells: list[str]) -> int:
    """Number of cells up to the last non-empty one."""
    width = len(cells)
    while width and not cells[width - 1].strip():
        width -= 1
    return width
