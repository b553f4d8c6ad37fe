"""find_matches: the requester is found again by e-mail, phone, name or company."""

import pytest

from leadflow.contacts.queries import find_companies, find_matches
from leadflow.contacts.tests.factories import make_contact

pytestmark = pytest.mark.django_db


def ids(matches) -> list[int]:
    return [m.contact.pk for m in matches]


def test_email_matches_case_insensitively_and_trimmed():
    piet = make_contact("Piet Janssens", email="Piet.Janssens@Example.be")
    make_contact("Other Person", email="other@example.be")
    matches, _companies = find_matches(email="  PIET.JANSSENS@example.BE ")
    assert ids(matches) == [piet.pk]
    assert matches[0].reasons == ["email"]
    assert matches[0].score == 100


@pytest.mark.parametrize(
    "typed", ["+32 9 300 11 22", "0032 9 300 11 22", "09/300.11.22", "093001122"]
)
def test_phone_matches_whatever_format_was_stored_and_typed(typed):
    piet = make_contact("Piet Janssens", phone="09 300 11 22")
    make_contact("Someone Else", phone="09 300 11 23")
    matches, _ = find_matches(phone=typed)
    assert ids(matches) == [piet.pk]
    assert matches[0].reasons == ["phone"]


def test_dutch_phone_stored_in_international_form_matches_local_typing_with_country():
    anke = make_contact("Anke de Vries", phone="+31 20 123 4567")
    matches, _ = find_matches(phone="020 123 4567", country="NL")
    assert ids(matches) == [anke.pk]


def test_an_invalid_phone_matches_nobody():
    make_contact("Piet Janssens", phone="")
    matches, _ = find_matches(phone="not a number")
    assert matches == []


@pytest.mark.parametrize("typed", ["piet janssens", "PIET JANSSENS", "Piet  Janssens"])
def test_whole_name_matches_case_insensitively(typed):
    piet = make_contact("Piet Janssens")
    matches, _ = find_matches(name=typed)
    assert ids(matches) == [piet.pk]
    assert matches[0].score == 60


def test_name_matches_accent_insensitively():
    emile = make_contact("Émile Dupré")
    assert ids(find_matches(name="emile dupre")[0]) == [emile.pk]
    assert ids(find_matches(name="EMILE DUPRE")[0]) == [emile.pk]


def test_a_word_prefix_finds_the_person():
    piet = make_contact("Piet Janssens")
    make_contact("Jan Peeters")
    matches, _ = find_matches(name="jans")
    assert ids(matches) == [piet.pk]
    assert matches[0].reasons == ["name"]
    assert matches[0].score == 30


def test_several_word_prefixes_must_all_match():
    piet = make_contact("Piet Janssens")
    make_contact("Piet Peeters")
    make_contact("Marie Janssens")
    matches, _ = find_matches(name="pi jans")
    assert ids(matches) == [piet.pk]


def test_exact_name_ranks_above_prefix_matches():
    exact = make_contact("Jan Peeters")
    prefix = make_contact("Jan Peetersen")
    matches, _ = find_matches(name="jan peeters")
    assert ids(matches) == [exact.pk, prefix.pk]


def test_company_legal_form_is_ignored_when_matching():
    piet = make_contact("Piet Janssens", company="Janssens BVBA")
    matches, companies = find_matches(company="janssens bv")
    assert [c.name for c in companies] == ["Janssens BVBA"]
    assert ids(matches) == [piet.pk]
    assert matches[0].reasons == ["company"]


def test_company_word_prefix_finds_the_company():
    make_contact("Piet Janssens", company="Bouwbedrijf Janssens NV")
    companies = find_companies("bouwbed")
    assert [c.name for c in companies] == ["Bouwbedrijf Janssens NV"]


@pytest.mark.parametrize("typed", ["A & B", "X Y", "0:0"])
def test_a_company_of_one_letter_words_is_looked_up_without_error(typed):
    make_contact("Piet Janssens", company="A & B")
    matches, companies = find_matches(company=typed)
    assert isinstance(companies, list)


def test_e_mail_and_name_together_score_highest():
    piet = make_contact("Piet Janssens", email="piet@janssens.be")
    namesake = make_contact("Piet Janssens", email="other@example.be")
    matches, _ = find_matches(email="piet@janssens.be", name="Piet Janssens")
    assert ids(matches) == [piet.pk, namesake.pk]
    assert matches[0].score == 160
    assert sorted(matches[0].reasons) == ["email", "name"]


def test_nothing_typed_or_too_short_matches_nothing():
    make_contact("Piet Janssens", company="Janssens BV")
    assert find_matches() == ([], [])
    assert find_matches(name="p", company="j") == ([], [])
    assert find_matches(email="not-an-email") == ([], [])


def test_the_number_of_matches_is_limited():
    for i in range(12):
        make_contact(f"Janssens {i:02d}")
    matches, _ = find_matches(name="janssens", limit=10)
    assert len(matches) == 10
