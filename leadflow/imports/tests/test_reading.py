"""Reading uploaded CSV and XLSX files: formats, encodings, delimiters, mess."""

import codecs
import tracemalloc
import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from leadflow.imports import reading
from leadflow.imports.reading import ImportFileError, number_text, open_table
from leadflow.imports.tests.messy import (
    CONTACTS,
    CONTACTS_HEADER,
    CONTACTS_ROWS,
    set_cached_formula_value,
    typed_contacts,
    write_csv,
    write_plain_csv,
    write_xlsx,
)

ENCODINGS = {  # how the file is written: (encoding, bom) → the encoding detected
    "utf-8": (("utf-8", False), "utf-8"),
    "utf-8 with BOM": (("utf-8", True), "utf-8-sig"),
    "windows-1252": (("cp1252", False), "cp1252"),
    # Every Latin-1 text byte means the same in Windows-1252, its superset.
    "latin-1": (("latin-1", False), "cp1252"),
    "utf-16 (Excel Unicode text)": (("utf-16", False), "utf-16"),
}


@pytest.mark.parametrize("written", ENCODINGS)
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_the_same_rows_come_out_of_every_encoding_delimiter_and_line_end(
    tmp_path, written, delimiter, line_end
):
    (encoding, bom), detected = ENCODINGS[written]
    path = write_csv(
        tmp_path / "contacts.csv",
        CONTACTS,
        encoding=encoding,
        bom=bom,
        delimiter=delimiter,
        line_end=line_end,
    )

    table = open_table(path)

    assert (table.format, table.encoding, table.delimiter) == (
        "csv",
        detected,
        delimiter,
    )
    assert table.headers == CONTACTS_HEADER
    assert list(table.rows()) == CONTACTS_ROWS
    assert table.ragged_lines == []


def test_windows_1252_letters_outside_latin_1_are_read(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_bytes("Naam;Notitie\r\nŒuvre;“€ 5” – ok\r\n".encode("cp1252"))

    table = open_table(path)

    assert table.encoding == "cp1252"
    assert list(table.rows()) == [(2, ["Œuvre", "“€ 5” – ok"])]


def test_a_byte_windows_1252_leaves_undefined_falls_back_to_latin_1(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"name,code\r\nM\xfcller,A\x81B\r\n")

    table = open_table(path)

    assert table.encoding == "latin-1"
    assert list(table.rows()) == [(2, ["Müller", "A\x81B"])]


def test_a_utf_8_character_cut_by_the_chunk_boundary_stays_utf_8(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "CHUNK", 16)
    path = tmp_path / "cut.csv"
    text = "name,city\r\nxy" + "é" * 40 + ",Liège\r\n"
    path.write_bytes(text.encode("utf-8"))
    assert len(b"name,city\r\nxy") == 13  # the second "é" is bytes 15 and 16

    table = open_table(path)

    assert table.encoding == "utf-8"
    assert list(table.rows()) == [(2, ["xy" + "é" * 40, "Liège"])]


def test_a_latin_1_name_far_down_the_file_is_not_misread_as_utf_8(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(reading, "CHUNK", 1024)
    path = tmp_path / "late.csv"
    lines = ["name,city"] + [f"person {i},Gent" for i in range(500)] + ["Müller,Liège"]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))

    table = open_table(path)

    assert table.encoding == "cp1252"
    assert list(table.rows())[-1] == (502, ["Müller", "Liège"])


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8], ids=["no BOM", "BOM"])
def test_utf_8_with_a_few_windows_1252_bytes_reads_both(tmp_path, bom):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        bom
        + "Naam;Stad\r\nÉmile Dupré;Liège\r\nSøren;Århus\r\n".encode()
        + "Müller;Köln\r\n".encode("cp1252")
    )

    table = open_table(path)

    assert table.encoding == reading.MIXED == "utf-8-cp1252"
    assert table.headers == ["Naam", "Stad"]
    assert list(table.rows()) == [
        (2, ["Émile Dupré", "Liège"]),
        (3, ["Søren", "Århus"]),
        (4, ["Müller", "Köln"]),
    ]
    # The lead stores the encoding and opens the file with it again.
    again = open_table(path, encoding=table.encoding)
    assert list(again.rows()) == list(table.rows())


def test_mixed_utf_8_characters_cut_by_read_buffers_stay_whole(tmp_path):
    path = tmp_path / "mixed.csv"
    cell = "é€ø" * 3000  # 2-, 3- and 2-byte characters across many 8 KB reads
    path.write_bytes(f"a,b\r\n{cell},x\r\n".encode() + b"M\xfcller,y\r\n")

    table = open_table(path)

    assert table.encoding == "utf-8-cp1252"
    assert list(table.rows()) == [(2, [cell, "x"]), (3, ["Müller", "y"])]


def test_a_wrong_encoding_given_by_the_user_fails_at_open_with_the_line(tmp_path):
    path = write_csv(tmp_path / "c.csv", CONTACTS, encoding="cp1252", delimiter=";")

    with pytest.raises(ImportFileError) as caught:
        open_table(path, encoding="utf-8")

    assert str(caught.value) == (
        "The file cannot be read as utf-8 text (line 2). Choose another encoding."
    )


def test_an_unknown_encoding_is_refused(tmp_path):
    path = write_csv(tmp_path / "c.csv", CONTACTS)

    with pytest.raises(ImportFileError, match="Unknown encoding: klingon"):
        open_table(path, encoding="klingon")


def test_a_given_encoding_and_delimiter_are_used(tmp_path):
    path = write_csv(tmp_path / "c.csv", CONTACTS, encoding="latin-1", delimiter="|")

    table = open_table(path, encoding="latin-1", delimiter="|")

    assert (table.encoding, table.delimiter) == ("latin-1", "|")
    assert list(table.rows()) == CONTACTS_ROWS


@pytest.mark.parametrize("given", ["UTF8", "utf-8", "utf_8_sig"])
def test_a_given_utf_8_reads_a_file_with_a_bom_without_the_bom(tmp_path, given):
    path = write_csv(tmp_path / "c.csv", CONTACTS, bom=True)

    table = open_table(path, encoding=given)

    assert table.encoding == "utf-8-sig"
    assert table.headers == CONTACTS_HEADER


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_excel_sep_line_is_honoured_and_not_taken_as_the_header(tmp_path, delimiter):
    path = write_csv(tmp_path / "c.csv", CONTACTS, delimiter=delimiter, sep_line=True)

    table = open_table(path)

    assert table.delimiter == delimiter
    assert table.sep_line is True
    assert table.headers == CONTACTS_HEADER
    # Excel hides the sep= line: the header is row 1 as the user sees it.
    assert table.header_line == 1
    assert list(table.rows()) == CONTACTS_ROWS


def test_a_sep_line_without_a_character_is_an_ordinary_first_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("sep=\r\nName;City\r\nA;Gent\r\n", newline="")

    table = open_table(path)

    assert (table.sep_line, table.delimiter) == (False, ",")
    assert table.headers == ["sep="]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Decimal commas in every row: the comma splits each row the same way too,
        # but not the header.
        ("Name;Value;City\r\nA;1,5;Gent\r\nB;2,75;Luik\r\n", ";"),
        # Semicolons and commas inside quoted cells do not count.
        ('Name,Note\r\nA,"x; y; z"\r\nB,"p;q, r"\r\n', ","),
        ("Name\tNote\tCity\r\nA\ta, b, c\tGent\r\n", "\t"),
        ("Name|Note\r\nA|a, b; c\r\n", "|"),
        # One column: nothing splits it.
        ("Email\r\na@example.com\r\nb@example.com\r\n", ","),
        # Most rows agree even when one is ragged.
        ("a;b;c\r\n1;2;3\r\n4;5\r\n6;7;8\r\n", ";"),
    ],
)
def test_the_delimiter_is_sniffed_respecting_quotes(tmp_path, text, expected):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8", newline="")

    assert open_table(path).delimiter == expected


def test_the_delimiter_sample_stops_at_a_line_end(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "SNIFF_BYTES", 40)
    path = tmp_path / "d.csv"
    path.write_text("a;b;c\r\n" + "1;2,5;3\r\n" * 20, encoding="utf-8", newline="")

    assert open_table(path).delimiter == ";"


def test_quoted_cells_keep_their_line_breaks_delimiters_and_quotes(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(
        b'name,note,city\r\n"Acme, Inc.","first line\r\nsecond ""quoted"" line",Gent\r\n'
        b"Beta,plain,Luik\r\n"
    )

    table = open_table(path)

    assert list(table.rows()) == [
        (2, ["Acme, Inc.", 'first line\nsecond "quoted" line', "Gent"]),
        (3, ["Beta", "plain", "Luik"]),  # a record counts once: row 3, line 4
    ]


def test_empty_and_blank_rows_are_skipped_but_counted(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("\r\n\r\nname;city\r\n;\r\n  ;  \r\nA;Gent\r\n\r\n", newline="")

    table = open_table(path)

    assert table.header_line == 3
    assert list(table.rows()) == [(6, ["A", "Gent"])]
    assert table.count_rows() == 1


def test_rows_can_be_read_again(tmp_path):
    table = open_table(write_csv(tmp_path / "c.csv", CONTACTS, delimiter=";"))

    assert list(table.rows()) == list(table.rows()) == CONTACTS_ROWS
    assert table.count_rows() == 5


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \r\n", codecs.BOM_UTF16_LE],
    ids=["nothing", "only a BOM", "blank lines", "only a UTF-16 BOM"],
)
def test_an_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    with pytest.raises(ImportFileError, match=r"^The file is empty\.$"):
        open_table(path)


def test_a_file_with_only_a_header_has_no_rows_and_no_error(tmp_path):
    path = write_csv(tmp_path / "h.csv", [CONTACTS_HEADER], delimiter=";")

    table = open_table(path)

    assert table.headers == CONTACTS_HEADER
    assert list(table.rows()) == []
    assert table.count_rows() == 0


def test_a_first_row_of_values_is_refused_as_no_header(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a@example.com;12,50;05/03/2024\r\nb@example.com;3;06/03/2024\r\n")

    with pytest.raises(ImportFileError) as caught:
        open_table(path)

    assert str(caught.value) == (
        "No header row: the first row (row 1) holds values such as "
        "“a@example.com”, not column names. Add a row with the column names."
    )


def test_years_are_accepted_as_column_names(tmp_path):
    path = tmp_path / "y.csv"
    path.write_text("2023;2024\r\n10;12\r\n")

    assert open_table(path).headers == ["2023", "2024"]


def test_headers_are_stripped_named_and_made_unique(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        ' Name ;;"E-mail\r\n adres";Email;email;Email (2);;\r\n'
        "A;x;a@example.com;b;c;d;;\r\n",
        newline="",
    )

    table = open_table(path)

    assert table.headers == [
        "Name",
        "column 2",
        "E-mail adres",
        "Email",
        "email (3)",  # "Email (2)" is a real column further on
        "Email (2)",
    ]
    assert list(table.rows()) == [(2, ["A", "x", "a@example.com", "b", "c", "d"])]
    assert table.ragged_lines == []  # the trailing empty cells are not extra


def test_ragged_rows_are_padded_cut_and_reported(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b,c\r\n1,2,3\r\n4,5\r\n6,7,8,9\r\n10,11,12,,\r\n", newline="")

    table = open_table(path)
    rows = list(table.rows())

    assert rows == [
        (2, ["1", "2", "3"]),
        (3, ["4", "5", ""]),
        (4, ["6", "7", "8"]),
        (5, ["10", "11", "12"]),
    ]
    assert table.ragged_lines == [3, 4]
    assert table.ragged_count == 2


def test_only_the_first_hundred_ragged_rows_are_listed(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b\r\n" + "1,2,3\r\n" * 150, newline="")

    table = open_table(path)
    assert table.count_rows() == 150

    assert table.ragged_lines == list(range(2, 102))
    assert table.ragged_count == 150


def test_an_unclosed_quote_is_reported_with_its_row(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text('name,note\r\nA,ok\r\nB,"never closed\r\nC,x\r\n', newline="")
    table = open_table(path)

    with pytest.raises(ImportFileError) as caught:
        list(table.rows())

    assert str(caught.value) == (
        "Row 3: a quote is opened but never closed, so the rest of the file "
        "would be one cell."
    )


def test_a_long_cell_is_read_and_a_huge_one_refused(tmp_path, monkeypatch):
    long = "x" * 200_000  # over the csv module's default limit of 131,072
    path = tmp_path / "l.csv"
    path.write_text(f"name,note\r\nA,{long}\r\n", newline="")
    assert list(open_table(path).rows()) == [(2, ["A", long])]

    monkeypatch.setattr(reading, "FIELD_LIMIT", 100_000)
    with pytest.raises(ImportFileError) as caught:
        list(open_table(path).rows())
    assert str(caught.value) == (
        "Row 2: a cell is longer than 100000 characters (is a quote left open?)."
    )


@pytest.mark.parametrize(
    "content",
    [
        b"name,city\r\nA\x00B,Gent\r\n",
        b"name,city\r\nM\xfcller,Li\xe8ge\r\nA\x00B,Gent\r\n",  # not UTF-8 either
        "name\tcity\r\nA\x00B\tGent\r\n".encode("utf-16"),
    ],
    ids=["utf-8", "windows-1252", "utf-16"],
)
def test_nul_bytes_refuse_the_file(tmp_path, content):
    path = tmp_path / "nul.csv"
    path.write_bytes(content)

    with pytest.raises(ImportFileError, match="contains NUL bytes"):
        open_table(path)


def test_rows_stream_in_bounded_memory(tmp_path):
    # Few, long cells: as many bytes as a real file, fewer objects to trace.
    path = write_plain_csv(tmp_path / "big.csv", 200_000, columns=2, pad=40)
    table = open_table(path)
    size = path.stat().st_size
    assert size > 10_000_000

    tracemalloc.start()
    try:
        count = 0
        for _number, _cells in table.rows():
            count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert peak < 2_000_000, f"peak {peak} bytes for a {size}-byte file"


# --- format by content ---------------------------------------------------------


def test_legacy_xls_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)

    with pytest.raises(ImportFileError) as caught:
        open_table(path)

    assert str(caught.value) == (
        "This is an old Excel file (.xls) or a password-protected workbook. "
        "Open it in Excel and save it as .xlsx (without a password) or as CSV."
    )


def test_an_xlsx_is_recognised_by_its_content_not_its_name(tmp_path):
    path = write_xlsx(tmp_path / "export.csv", typed_contacts())

    table = open_table(path, filename="export.csv")

    assert table.format == "xlsx"
    assert table.headers[0] == "Name"


def test_a_text_file_named_xlsx_is_refused(tmp_path):
    path = write_csv(tmp_path / "upload.bin", CONTACTS)

    with pytest.raises(ImportFileError, match="named like an Excel workbook"):
        open_table(path, filename="Contacts.XLSX")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7\n...", "This file is not CSV or XLSX."),
        (b"\x89PNG\r\n\x1a\n....", "This file is not CSV or XLSX."),
        (b"PK\x03\x04 broken zip", "The workbook cannot be read: it may be damaged."),
    ],
    ids=["pdf", "png", "broken zip"],
)
def test_other_binary_files_are_refused(tmp_path, content, message):
    path = tmp_path / "upload"
    path.write_bytes(content)

    with pytest.raises(ImportFileError) as caught:
        open_table(path)

    assert str(caught.value) == message


def test_a_zip_that_is_no_workbook_is_refused(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(ImportFileError, match=r"^This file is not CSV or XLSX\.$"):
        open_table(path)


def test_an_opendocument_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "a.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")

    with pytest.raises(ImportFileError, match="OpenDocument spreadsheets"):
        open_table(path)


# --- XLSX ----------------------------------------------------------------------


def test_xlsx_dates_numbers_and_booleans_become_plain_text(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", typed_contacts())

    table = open_table(path)

    assert (table.format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert (table.sheet, table.sheets) == ("Sheet1", ["Sheet1"])
    assert table.headers == typed_contacts()[0]
    assert list(table.rows()) == [
        (2, ["Émile Dupré", "Café Brûlé BV", "2024-03-05", "2024-03-05T14:30:00", "1234.5", "12", "true"]),
        (3, ["Jürgen Müller", "Müller GmbH", "1999-12-31", "", "0.3", "1000000", "false"]),
        (5, ["Søren Ørsted", "Ørsted A/S", "", "2024-01-31T09:05:07", "-7", "3", ""]),
    ]  # fmt: skip
    assert table.count_rows() == 3


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "1234.5"),
        (1234.0, "1234"),
        (0.1 + 0.2, "0.3"),
        (1234.5 + 1e-12, "1234.5"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "0.00000015"),
        (-0.0, "0"),
        (-12.25, "-12.25"),
        (Decimal("12.50"), "12.5"),
        (float("nan"), ""),
    ],
)
def test_numbers_are_written_without_float_noise(value, text):
    assert number_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 3, 5, 14, 29, 59, 999_987), "2024-03-05T14:30:00"),
        (datetime(2024, 3, 5, 0, 0), "2024-03-05"),
        (date(2024, 3, 5), "2024-03-05"),
        (time(9, 5, 7, 300), "09:05:07"),
        (timedelta(hours=26, minutes=3), "26:03:00"),
        (True, "true"),
        (7, "7"),
        ("  kept as is  ", "  kept as is  "),  # rows() strips
        (None, ""),
    ],
)
def test_xlsx_cell_values_as_text(value, text):
    assert reading._cell_text(value) == text


def test_xlsx_formulas_give_their_cached_value(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["name", "total"], ["A", "=1+1"]])
    set_cached_formula_value(path, "1+1", "2")

    assert list(open_table(path).rows()) == [(2, ["A", "2"])]


def test_xlsx_sheet_can_be_chosen_and_rows_keep_sheet_numbers(tmp_path):
    path = write_xlsx(
        tmp_path / "s.xlsx",
        [["notes"]],
        more_sheets={
            "Contacts": [[], [None], ["Name", None, "City"], ["A", 1, "Gent"]]
        },
    )

    table = open_table(path, sheet="Contacts")

    assert table.sheets == ["Sheet1", "Contacts"]
    assert table.header_line == 3
    assert table.headers == ["Name", "column 2", "City"]
    assert list(table.rows()) == [(4, ["A", "1", "Gent"])]


def test_xlsx_values_right_of_the_header_are_ragged(tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", [["a", "b", None], ["1", None, None], ["2", "3", "x"]]
    )

    table = open_table(path)

    assert list(table.rows()) == [(2, ["1", ""]), (3, ["2", "3"])]
    assert table.ragged_lines == [3]


def test_an_unknown_or_empty_sheet_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [], more_sheets={"Data": [["a"], ["1"]]})

    with pytest.raises(ImportFileError) as caught:
        open_table(path, sheet="Nope")
    assert str(caught.value) == "The workbook has no sheet named “Nope”."

    with pytest.raises(ImportFileError) as caught:
        open_table(path)
    assert str(caught.value) == "The sheet “Sheet1” is empty."

    assert open_table(path, sheet="Data").headers == ["a"]
