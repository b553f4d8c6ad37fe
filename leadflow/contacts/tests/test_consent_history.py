"""Consent and opt-out history: every consent change from the audit log, newest first,
with who (or which way) and why, on the contact page and over the API."""

import pytest
from django.utils import translation

from leadflow.contacts.actions import set_consent
from leadflow.contacts.models import Consent
from leadflow.contacts.queries import consent_history
from leadflow.contacts.tests.factories import make_contact
from leadflow.marketing import unsubscribe
from leadflow.marketing.actions import record_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    return make_contact("Anna Peeters", email="anna@peeters.be")


@pytest.fixture
def changed(contact, marketer, inside):
    """granted by marketing, opted out through the link, granted again by a web form
    (no user), and a change to the same value (not a change: not recorded)."""
    record_consent(contact, actor=marketer, consent=Consent.GRANTED, reason="fair")
    unsubscribe.unsubscribe(contact)
    set_consent(contact, actor=None, consent=Consent.GRANTED, reason="web form: demo")
    set_consent(contact, actor=inside, consent=Consent.GRANTED, reason="same")
    return contact


def test_history_lists_every_change_newest_first_with_who_and_why(changed, marketer):
    history = consent_history(changed)
    assert history.total == 3
    assert history.more == 0
    rows = [(c.old, c.new, c.source, c.actor, c.reason_label) for c in history.changes]
    assert rows == [
        ("opted_out", "granted", "web_form", None, "web form: demo"),
        ("granted", "opted_out", "unsubscribe_link", None, "unsubscribe link"),
        ("unknown", "granted", "user", marketer, "fair"),
    ]
    assert [c.by_label for c in history.changes] == [
        "the contact, via the web form",
        "the contact, via the unsubscribe link",
        "Marketer Persona",
    ]


def test_history_shows_consent_values_in_words(changed):
    with translation.override("en"):
        labels = [(c.old_label, c.new_label) for c in consent_history(changed).changes]
    assert labels == [
        ("opted out", "granted"),
        ("granted", "opted out"),
        ("not asked", "granted"),
    ]


def test_history_without_a_user_or_known_way_is_automatic(contact):
    set_consent(contact, actor=None, consent=Consent.GRANTED, reason="import")
    change = consent_history(contact).changes[0]
    assert change.source == "system"
    assert change.by_label == "Leadflow (automatic)"


def test_history_is_bounded_with_a_count_of_the_rest(contact, marketer):
    values = [Consent.GRANTED, Consent.UNKNOWN] * 3  # six changes
    for value in values:
        set_consent(contact, actor=marketer, consent=value)
    history = consent_history(contact, limit=4)
    assert len(history.changes) == 4
    assert history.total == 6
    assert history.more == 2
    assert history.changes[0].new == Consent.UNKNOWN


def test_the_unsubscribe_reason_is_the_one_the_history_recognises():
    assert unsubscribe.REASON == "unsubscribe link"


def test_the_contact_page_shows_the_history(client, changed, rep):
    client.force_login(rep)
    response = client.get(f"/contacts/{changed.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="consent-history"' in page
    assert page.count('data-testid="consent-change"') == 3
    assert "the contact, via the unsubscribe link" in page
    assert page.index("the contact, via the web form") < page.index(
        "the contact, via the unsubscribe link"
    )
    assert "Marketer Persona" in page


def test_the_contact_page_says_when_consent_never_changed(client, contact, rep):
    client.force_login(rep)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Marketing consent was never changed." in page


def test_the_api_answers_the_history(api_as, changed):
    response = api_as("colleague").get(f"/api/contacts/{changed.pk}/consent-history")
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 3
    assert [(i["old"], i["new"], i["source"], i["actor"]) for i in data["items"]] == [
        ("opted_out", "granted", "web_form", None),
        ("granted", "opted_out", "unsubscribe_link", None),
        ("unknown", "granted", "user", "marketer"),
    ]
    assert data["items"][1]["by"] == "the contact, via the unsubscribe link"
    assert data["items"][2]["reason"] == "fair"
    limited = api_as("rep").get(
        f"/api/contacts/{changed.pk}/consent-history", {"limit": 1}
    )
    assert len(limited.json()["items"]) == 1
    assert limited.json()["total"] == 3


def test_the_api_history_refuses_strangers_and_unknown_contacts(
    api_as, anonymous_api, contact
):
    assert (
        anonymous_api.get(f"/api/contacts/{contact.pk}/consent-history").status_code
        == 401
    )
    missing = api_as("outsider").get("/api/contacts/999999/consent-history")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_the_contact_page_shows_the_last_50_and_counts_the_rest(
    client, contact, marketer
):
    for n in range(52):
        value = Consent.GRANTED if n % 2 == 0 else Consent.UNKNOWN
        set_consent(contact, actor=marketer, consent=value)
    client.force_login(marketer)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert page.count('data-testid="consent-change"') == 50
    assert "2 earlier changes are not shown." in page
