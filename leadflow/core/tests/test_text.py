"""Match keys for people and companies: case, accents, punctuation, legal forms."""

import pytest

from leadflow.core.text import (
    company_key,
    fold,
    name_key,
    normalise_email,
    prefix_filter,
    tokens,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Émile  Dupré", "emile dupre"),
        ("  JANSSENS\tPiet \n", "janssens piet"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Søren", "soren"),
        ("æble", "aeble"),
        ("Çağlar Öztürk", "caglar ozturk"),
        ("ﬁne", "fine"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold_lowercases_strips_accents_and_collapses_whitespace(raw, folded):
    assert fold(raw) == folded


@pytest.mark.parametrize(("upper", "lower"), [("Ørsted", "ørsted"), ("Ærø", "ærø")])
def test_fold_treats_capital_nordic_letters_like_lower_case(upper, lower):
    assert fold(upper) == fold(lower)
    assert name_key(upper) == name_key(lower)


def test_name_key_drops_punctuation_so_spellings_compare_equal():
    assert name_key("O'Brien-Smith, Jr.") == "o brien smith jr"
    assert name_key("o brien  smith jr") == "o brien smith jr"
    assert name_key("Van der Berg") == name_key("van-der-Berg")


def test_name_key_of_nothing_is_empty():
    assert name_key(None) == ""
    assert name_key("  ...  ") == ""


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Janssens BVBA", "janssens"),
        ("janssens bv", "janssens"),
        ("NV Bekaert", "bekaert"),
        ("Société Générale SA", "societe generale"),
        ("Müller GmbH", "muller"),
        ("Acme Ltd.", "acme"),
        ("Bouw & Co CommV", "bouw co"),
    ],
)
def test_company_key_ignores_legal_forms_case_and_accents(name, key):
    assert company_key(name) == key


@pytest.mark.parametrize("name", ["JANSSENS B.V.", "Janssens N.V.", "Janssens Comm.V."])
def test_company_key_ignores_dotted_legal_forms(name):
    assert company_key(name) == "janssens"


def test_company_key_of_a_bare_legal_form_is_empty_so_callers_fall_back():
    assert company_key("BV") == ""
    assert name_key("BV") == "bv"


def test_tokens_are_distinct_words_of_two_or_more_characters():
    assert tokens("Piet J. Janssens") == {"piet", "janssens"}
    assert tokens("Anna anna ANNA") == {"anna"}
    assert tokens("") == set()
    assert tokens(None) == set()


def test_normalise_email_trims_and_lowercases():
    assert normalise_email("  Piet.Janssens@Example.BE ") == "piet.janssens@example.be"
    assert normalise_email(None) == ""


def test_prefix_filter_uses_a_range_on_sqlite_and_startswith_elsewhere():
    assert prefix_filter("token", "jan", "sqlite") == {
        "token__gte": "jan",
        "token__lt": "jan\uffff",
    }
    assert prefix_filter("token", "jan", "postgresql") == {"token__startswith": "jan"}
