"""Parsing imported cells: text, numbers, booleans, dates, headers and names."""

import random
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from leadflow.imports import values
from leadflow.imports.tests.messy import (
    AMBIGUOUS_DATES,
    DMY_DATES,
    MDY_DATES,
    MIXED_DATES,
    SPELLINGS,
)
from leadflow.imports.values import (
    DateEvidence,
    DateOrder,
    ValueProblem,
    clean_text,
    detect_date_order,
    detect_decimal_style,
    header_key,
    name_key,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    spelling_groups,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Acme \t\t BV \n", "Acme BV"),
        ("Müller\u00a0\u00a0GmbH", "Müller GmbH"),
        ("1\u202f234", "1 234"),
        ("zero\u200bwidth\ufeff soft\u00adhyphen", "zerowidth softhyphen"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text_strips_and_collapses_every_kind_of_whitespace(raw, clean):
    assert clean_text(raw) == clean


# --- numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1234.56", Decimal("1234.56")),
        ("1234,56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        ("1\u00a0234,56", Decimal("1234.56")),
        ("1'234.50", Decimal("1234.50")),
        ("12 345", Decimal("12345")),  # space-grouped: never ambiguous
        ("1 234.567", Decimal("1234.567")),  # space-grouped: the point is decimal
        ("1 234 567,89 €", Decimal("1234567.89")),
        ("1.234.567", Decimal("1234567")),
        ("1,234,567.8", Decimal("1234567.8")),
        ("€ 1.234,-", Decimal("1234")),
        ("EUR 12", Decimal("12")),
        ("12 EUR", Decimal("12")),
        ("$1,000.00", Decimal("1000.00")),
        ("-12,5", Decimal("-12.5")),
        ("\u22123", Decimal("-3")),
        ("12,50-", Decimal("-12.50")),
        ("(12.50)", Decimal("-12.50")),
        ("(€ 1.234,56)", Decimal("-1234.56")),
        ("+7", Decimal("7")),
        ("0,5", Decimal("0.5")),
        ("0.125", Decimal("0.125")),  # "0" before it: never thousands
        ("1234.567", Decimal("1234.567")),  # four digits before it: no grouping
        (",5", Decimal("0.5")),
        ("  42  ", Decimal("42")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_decimal_reads_the_ways_people_write_numbers(text, number):
    parsed = parse_decimal(text)
    assert parsed == number
    if number is not None:
        assert str(parsed) == str(number)  # the decimals written are kept


@pytest.mark.parametrize("text", ["12.345", "1,234", "-999.000"])
def test_a_single_separator_before_three_digits_is_ambiguous(text):
    with pytest.raises(ValueProblem) as caught:
        parse_decimal(text)

    sign = "," if "," in text else "."
    assert caught.value.code == "ambiguous"
    assert str(caught.value) == (
        f"“{text}” is ambiguous: “{sign}” can separate thousands or decimals. "
        "Choose the decimal sign the file uses."
    )


@pytest.mark.parametrize(
    ("text", "decimal", "number"),
    [
        ("12.345", ",", Decimal("12345")),  # Dutch/Belgian: twelve thousand …
        ("12.345", ".", Decimal("12.345")),  # … English: twelve
        ("1,234", ".", Decimal("1234")),
        ("1,234", ",", Decimal("1.234")),
        ("1.234,5", ",", Decimal("1234.5")),
        ("7", ",", Decimal("7")),
    ],
)
def test_the_files_decimal_sign_decides(text, decimal, number):
    assert parse_decimal(text, decimal) == number


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("1.23", ","), ("1,23,4", "."), ("1.234,56", "."), ("12,34.5", ".")],
)
def test_digits_grouped_wrongly_for_the_files_sign_are_refused(text, decimal):
    with pytest.raises(ValueProblem) as caught:
        parse_decimal(text, decimal)

    assert caught.value.code == "invalid"
    assert str(caught.value) == (
        f"“{text}” is not a number written with “{decimal}” as decimal sign."
    )


@pytest.mark.parametrize(
    "text", ["abc", "12%", "1e5", "12 34 x", "1 5", "--", "€", "1.2.3,4,5"]
)
def test_parse_decimal_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueProblem) as caught:
        parse_decimal(text)

    assert caught.value.value == text
    assert "is not a number" in str(caught.value)
    assert f"“{text}”" in str(caught.value)


@pytest.mark.parametrize(
    ("samples", "style"),
    [
        (["1.234,56", "12", "0,5"], ","),
        (["1,234.50", "7", ""], "."),
        (["€ 12,-"], ","),
        (["1 234,5"], ","),
        (["1.234.567"], ","),  # repeated dots group thousands
        (["12", "13", "12.345"], None),  # no evidence
        (["1,5", "2.5"], None),  # a tie
        (["1,5", "2,5", "2.5"], ","),  # the majority
        (["n/a", "", "x"], None),
        ([], None),
    ],
)
def test_detect_decimal_style_from_a_columns_values(samples, style):
    assert detect_decimal_style(samples) == style


@pytest.mark.parametrize(
    ("text", "decimal", "number"),
    [
        ("42", None, 42),
        (" 1 000 ", None, 1000),
        ("1.000", ",", 1000),
        ("12,0", None, 12),
        ("-3", None, -3),
        ("", None, None),
    ],
)
def test_parse_int(text, decimal, number):
    assert parse_int(text, decimal) == number


def test_parse_int_refuses_a_fraction():
    with pytest.raises(ValueProblem, match="^“12,5” is not a whole number.$"):
        parse_int("12,5")


# --- booleans ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes",
        "Y",
        "true",
        "TRUE",
        "1",
        "x",
        "X",
        "ja",
        "J",
        "waar",
        "oui",
        "vrai",
    ],
)
def test_parse_bool_reads_yes(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize(
    "text", ["no", "N", "false", "0", "nee", "Nee", "onwaar", "non", "faux"]
)
def test_parse_bool_reads_no(text):
    assert parse_bool(text) is False


def test_parse_bool_reads_an_empty_cell_as_not_given():
    assert parse_bool("") is None
    assert parse_bool("  ") is None
    assert parse_bool(None) is None


def test_parse_bool_refuses_anything_else():
    with pytest.raises(ValueProblem, match="^“misschien” is not yes or no.$"):
        parse_bool("misschien")


# --- dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "evidence"),
    [
        (
            AMBIGUOUS_DATES,
            DateEvidence(None, True, ["03/04/2024", "01/02/2024", "12/11/2023"]),
        ),
        (DMY_DATES, DateEvidence(DateOrder.DMY, False)),
        (MDY_DATES, DateEvidence(DateOrder.MDY, False)),
        (
            MIXED_DATES,
            DateEvidence(None, False, ["25/03/2024", "03/25/2024"], mixed=True),
        ),
        (
            ["2024-03-05", "2024-03-05 14:30", "2024-03-05T14:30:00Z", ""],
            DateEvidence(DateOrder.ISO, False),
        ),
        (["2024-03-05", "25.12.2023"], DateEvidence(DateOrder.DMY, False)),
        (["5 maart 2024", "March 5, 2024"], DateEvidence(None, False)),
        (["05/05/2024", "01/01/24"], DateEvidence(None, False)),  # one reading
        (["n/a", "", "31/02/2024x"], DateEvidence(None, False)),
    ],
)
def test_detect_date_order_from_a_columns_values(samples, evidence):
    assert detect_date_order(samples) == evidence


def test_detect_date_order_gives_at_most_five_distinct_examples():
    samples = [f"0{d}/0{d + 1}/2024" for d in range(1, 8)] * 3

    evidence = detect_date_order(samples)

    assert evidence.ambiguous is True
    assert evidence.examples == [
        "01/02/2024",
        "02/03/2024",
        "03/04/2024",
        "04/05/2024",
        "05/06/2024",
    ]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2024-3-5", date(2024, 3, 5)),
        ("2024/03/05", date(2024, 3, 5)),
        ("2024-03-05 14:30", date(2024, 3, 5)),
        ("2024-03-05T14:30:00Z", date(2024, 3, 5)),
        ("2024-03-05T14:30:00.123+02:00", date(2024, 3, 5)),
        ("5 maart 2024", date(2024, 3, 5)),
        ("5 mrt. 2024", date(2024, 3, 5)),
        ("maandag 5 maart 2024", date(2024, 3, 5)),
        ("March 5, 2024", date(2024, 3, 5)),
        ("Tuesday, March 5, 2024", date(2024, 3, 5)),
        ("5 March 2024", date(2024, 3, 5)),
        ("5-mrt-2024", date(2024, 3, 5)),
        ("05-Mar-2024", date(2024, 3, 5)),
        ("05-Mar-24", date(2024, 3, 5)),
        ("5 mei 2024", date(2024, 5, 5)),
        ("17 okt 2023", date(2023, 10, 17)),
        ("1 août 2024", date(2024, 8, 1)),
        ("2024 March 5", date(2024, 3, 5)),
        ("25/03/2024", date(2024, 3, 25)),  # one reading only
        ("03/25/2024", date(2024, 3, 25)),
        ("05/05/2024", date(2024, 5, 5)),  # both readings are the same day
        ("", None),
    ],
)
def test_parse_date_without_order_reads_every_unambiguous_form(text, day):
    assert parse_date(text, None) == day


@pytest.mark.parametrize(
    ("text", "order", "day"),
    [
        ("03/04/2024", DateOrder.DMY, date(2024, 4, 3)),
        ("03/04/2024", DateOrder.MDY, date(2024, 3, 4)),
        ("3-4-2024", DateOrder.DMY, date(2024, 4, 3)),
        ("03.04.2024", DateOrder.DMY, date(2024, 4, 3)),
        ("05/03/24", DateOrder.DMY, date(2024, 3, 5)),  # two-digit years: 2000+
        ("05/03/99", DateOrder.DMY, date(2099, 3, 5)),
        ("03/04/2024 14:30", DateOrder.DMY, date(2024, 4, 3)),
        ("2024-03-05", DateOrder.MDY, date(2024, 3, 5)),  # ISO in any column
        ("5 maart 2024", DateOrder.MDY, date(2024, 3, 5)),
    ],
)
def test_parse_date_with_the_columns_order(text, order, day):
    assert parse_date(text, order) == day


def test_an_ambiguous_date_without_order_names_both_readings():
    with pytest.raises(ValueProblem) as caught:
        parse_date("03/04/2024", None)

    assert caught.value.code == "ambiguous"
    assert str(caught.value) == (
        "“03/04/2024” is ambiguous: it could be 3 April or 4 March."
    )


def test_the_two_readings_are_named_in_the_users_language():
    with translation.override("nl"), pytest.raises(ValueProblem) as caught:
        parse_date("03/04/2024", None)

    assert "3 april" in str(caught.value)
    assert "4 maart" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "order", "message"),
    [
        ("31/02/2024", DateOrder.DMY, "“31/02/2024” is not a valid date."),
        ("03/25/2024", DateOrder.DMY, "“03/25/2024” is not a valid date."),
        ("25/03/2024", DateOrder.MDY, "“25/03/2024” is not a valid date."),
        ("2024-02-30", None, "“2024-02-30” is not a valid date."),
        ("31 februari 2024", None, "“31 februari 2024” is not a valid date."),
        ("25/13/2024", None, "“25/13/2024” is not a valid date."),
        ("yesterday", None, "“yesterday” is not a date."),
        ("05/03", DateOrder.DMY, "“05/03” is not a date."),
        ("20240305", None, "“20240305” is not a date."),
    ],
)
def test_parse_date_refuses_what_is_no_date(text, order, message):
    with pytest.raises(ValueProblem) as caught:
        parse_date(text, order)

    assert str(caught.value) == message
    assert caught.value.code == "invalid"


@pytest.mark.parametrize(
    ("text", "order", "moment"),
    [
        # A date alone: midnight, local time.
        ("2024-03-05", None, datetime(2024, 3, 5, 0, 0, tzinfo=BRUSSELS)),
        ("2024-03-05 14:30", None, datetime(2024, 3, 5, 14, 30, tzinfo=BRUSSELS)),
        ("2024-03-05T14:30:15", None, datetime(2024, 3, 5, 14, 30, 15, tzinfo=BRUSSELS)),
        ("05/03/2024 14:30", DateOrder.DMY, datetime(2024, 3, 5, 14, 30, tzinfo=BRUSSELS)),
        ("03/05/2024 2:30 PM", DateOrder.MDY, datetime(2024, 3, 5, 14, 30, tzinfo=BRUSSELS)),
        ("03/05/2024 12:05 am", DateOrder.MDY, datetime(2024, 3, 5, 0, 5, tzinfo=BRUSSELS)),
        ("5 maart 2024 14u30", None, datetime(2024, 3, 5, 14, 30, tzinfo=BRUSSELS)),
        ("5 mars 2024 9h05", None, datetime(2024, 3, 5, 9, 5, tzinfo=BRUSSELS)),
        # Offsets are honoured; the result is in the given zone.
        ("2024-03-05T14:30:00Z", None, datetime(2024, 3, 5, 15, 30, tzinfo=BRUSSELS)),
        ("2024-07-05 14:30 UTC", None, datetime(2024, 7, 5, 16, 30, tzinfo=BRUSSELS)),
        ("2024-03-05T14:30:00+05:30", None, datetime(2024, 3, 5, 10, 0, tzinfo=BRUSSELS)),
        ("2024-03-05T14:30-0100", None, datetime(2024, 3, 5, 16, 30, tzinfo=BRUSSELS)),
        ("", None, None),
    ],
)  # fmt: skip
def test_parse_datetime_gives_an_aware_local_time(text, order, moment):
    parsed = parse_datetime(text, order, BRUSSELS)

    assert parsed == moment
    if moment is not None:
        assert parsed.tzinfo is BRUSSELS
        assert parsed.utcoffset() == moment.utcoffset()


def test_a_time_skipped_by_summer_time_moves_forward():
    parsed = parse_datetime("2024-03-31 02:30", None, BRUSSELS)

    assert parsed.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert (parsed.hour, parsed.minute, parsed.utcoffset()) == (
        3,
        30,
        timedelta(hours=2),
    )


def test_a_time_repeated_by_winter_time_is_the_first_one():
    parsed = parse_datetime("2024-10-27 02:30", None, BRUSSELS)

    assert parsed.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_parse_datetime_in_another_zone():
    parsed = parse_datetime("2024-03-05 09:00", None, timezone(timedelta(hours=-5)))

    assert parsed.astimezone(UTC) == datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-03-05 25:00", "“2024-03-05 25:00” is not a valid time."),
        ("2024-03-05 13:00 PM", "“2024-03-05 13:00 PM” is not a valid time."),
        ("03/04/2024 10:00", "“03/04/2024 10:00” is ambiguous: it could be 3 April or 4 March."),
    ],
)  # fmt: skip
def test_parse_datetime_refuses_bad_times_and_ambiguous_dates(text, message):
    with pytest.raises(ValueProblem) as caught:
        parse_datetime(text, None, BRUSSELS)

    assert str(caught.value) == message


# --- headers and names ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("E-mail adres ", "e mail adres"),
        ("E_MAIL", "e mail"),
        ("Téléphone", "telephone"),
        ("  Bedrijfs-naam (officieel) ", "bedrijfs naam officieel"),
        ("Straße", "strasse"),
        ("Ørsted #", "orsted"),
        ("", ""),
    ],
)
def test_header_key(header, key):
    assert header_key(header) == key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme BV", "acme"),
        ("ACME B.V.", "acme"),
        ("Acme  bv", "acme"),
        ("B.V.B.A. Peeters", "peeters"),
        ("Janssens & Zonen N.V.", "janssens and zonen"),
        ("Janssens en Zonen", "janssens and zonen"),
        ("Dupont et Fils SPRL", "dupont and fils"),
        ("Müller GmbH", "muller"),
        ("Café Brûlé", "cafe brule"),
        ("Acme Ltd.", "acme"),
        ("BV", "bv"),  # only a legal form: kept
        ("J.Smith", "j smith"),
    ],
)
def test_name_key_drops_legal_forms_and_unifies_and(name, key):
    assert name_key(name) == key


def test_spelling_groups_offers_the_spellings_of_one_name():
    assert spelling_groups(SPELLINGS) == [
        ["Acme BV", "ACME B.V.", "Acme  bv", "Acmee BV"]
    ]


def test_spelling_groups_orders_by_frequency():
    names = ["Beta NV"] * 5 + ["BETA N.V."] * 2 + ["Acme"] + ["ACME"] * 3 + ["Solo"]

    assert spelling_groups(names) == [["Beta NV", "BETA N.V."], ["ACME", "Acme"]]


@pytest.mark.parametrize(
    ("a", "b", "together"),
    [
        ("Peeters Bouw", "Peters Bouw", True),  # a letter missing
        ("Peeters Bouw", "Peetres Bouw", True),  # two letters swapped
        ("Peeters Bouw", "Xeeters Bouw", True),  # the first letter changed
        ("Vandenbroucke Transport", "Vandenbrouke Transprt", True),  # ratio 0.95
        ("Unit 4", "Unit 5", False),  # different digits
        ("Acme", "Acne", True),
        ("Abc", "Abd", False),  # too short to call it a typo
        ("Peeters Bouw", "Maes Bouw", False),
    ],
)
def test_spelling_groups_joins_typos_but_not_different_names(a, b, together):
    groups = spelling_groups([a, b])

    assert groups == ([sorted([a, b])] if together else [])


def test_spelling_groups_leaves_out_single_values_and_keeps_the_limit():
    names = [f"Firm {i}" for i in range(25)]  # different digits: never joined
    names += [n.upper() for n in names]

    assert len(spelling_groups(names)) == 25
    assert len(spelling_groups(names, limit=3)) == 3
    assert spelling_groups(["Alone", "", "  "]) == []


def test_spelling_groups_compares_a_bounded_number_of_pairs():
    rng = random.Random(6)
    names = set()
    while len(names) < 50_000:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 12)))
        names.add(word.capitalize() + rng.choice(["", " BV", " Bouw", " & Zonen"]))
    keys = sorted({name_key(n) for n in names})

    typo_pairs = sum(1 for _pair in values._typo_candidates(keys))
    ratio_pairs = sum(len(near) for _key, near in values._neighbour_candidates(keys))

    # All pairs would be 1.25 billion; a few per key are compared.
    assert typo_pairs + ratio_pairs < 5 * len(keys)
