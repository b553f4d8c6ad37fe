"""Phone numbers are compared in E.164, whatever way they were typed."""

import pytest

from leadflow.core.phone import normalise_phone

GHENT = "+3293001122"
BE_MOBILE = "+32470123456"
AMSTERDAM = "+31201234567"
NL_MOBILE = "+31612345678"


@pytest.mark.parametrize(
    "raw",
    [
        "09 300 11 22",
        "09/300.11.22",
        "093001122",
        "+32 9 300 11 22",
        "+32 (0)9 300 11 22",
        "0032 9 300 11 22",
        "0032 (0)9 300 11 22",
    ],
)
def test_belgian_landline_in_any_format_normalises_to_e164(raw):
    assert normalise_phone(raw) == GHENT


@pytest.mark.parametrize("raw", ["0470 12 34 56", "0470/12.34.56", "+32 470 12 34 56"])
def test_belgian_mobile_normalises_to_e164(raw):
    assert normalise_phone(raw) == BE_MOBILE


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("020 123 4567", "NL", AMSTERDAM),
        ("+31 20 123 4567", None, AMSTERDAM),
        ("0031 20 123 4567", None, AMSTERDAM),
        ("06-12345678", "NL", NL_MOBILE),
        ("06 1234 5678", "nl", NL_MOBILE),
        ("0031 6 12345678", "BE", NL_MOBILE),
    ],
)
def test_dutch_numbers_normalise_with_country_or_international_prefix(
    raw, country, expected
):
    assert normalise_phone(raw, country) == expected


def test_an_international_number_keeps_its_own_country_whatever_the_default():
    assert normalise_phone("+32 9 300 11 22", "NL") == GHENT


def test_default_country_comes_from_settings(settings):
    settings.LEADFLOW_DEFAULT_COUNTRY = "NL"
    assert normalise_phone("020 123 4567") == AMSTERDAM


@pytest.mark.parametrize("raw", ["", "   ", None, "abc", "12", "++32", "call me"])
def test_invalid_or_empty_numbers_normalise_to_empty(raw):
    assert normalise_phone(raw) == ""
