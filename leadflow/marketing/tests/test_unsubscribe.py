"""The signed unsubscribe link: GET changes nothing, POST opts out (audited, off every
list), RFC 8058 one-click works without a cookie, bad links are a 404 page."""

import pytest
from django.core import signing
from django.test import Client

from leadflow.audit.models import AuditEvent
from leadflow.contacts import privacy
from leadflow.contacts.actions import update_contact
from leadflow.contacts.models import Consent, Contact
from leadflow.contacts.queries import consent_history
from leadflow.contacts.tests.factories import make_contact
from leadflow.marketing import unsubscribe
from leadflow.marketing.actions import (
    get_or_create_lists,
    record_consent,
    subscribe_contact,
)
from leadflow.marketing.models import ListMembership

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def subscriber(marketer):
    contact = make_contact("Piet Janssens", email="piet@janssens.be")
    lists = get_or_create_lists(["Newsletter", "Workshops"], actor=marketer)
    subscribe_contact(contact, actor=marketer, lists=lists, source="test")
    return record_consent(
        contact, actor=marketer, consent=Consent.GRANTED, reason="signed up"
    )


@pytest.fixture
def browser():
    """A mail recipient's browser: CSRF enforced, as in production."""
    return Client(enforce_csrf_checks=True)


def _path(contact) -> str:
    return f"/unsubscribe/{unsubscribe.token_for(contact)}/"


def _opt_outs(contact):
    return AuditEvent.objects.filter(
        subject_type="contacts.contact",
        subject_id=contact.pk,
        event_type="contact.consent_changed",
        new={"marketing_consent": Consent.OPTED_OUT},
    )


def test_the_token_is_short_url_safe_and_names_its_contact(subscriber):
    token = unsubscribe.token_for(subscriber)
    assert len(token) <= 40
    assert all(ch.isalnum() or ch in "-_." for ch in token)
    assert unsubscribe.contact_for_token(token) == subscriber


def test_the_link_is_absolute_on_the_configured_address(subscriber, settings):
    settings.LEADFLOW_BASE_URL = "https://crm.example.be"
    url = unsubscribe.unsubscribe_url(subscriber.pk, subscriber.email_key)
    assert url == f"https://crm.example.be{_path(subscriber)}"
    assert unsubscribe.list_unsubscribe_header(url) == f"<{url}>"


def test_get_shows_the_masked_address_and_a_button_and_changes_nothing(
    browser, subscriber
):
    response = browser.get(_path(subscriber))
    assert response.status_code == 200
    page = response.content.decode()
    assert "p***@j***.be" in page
    assert "piet@janssens.be" not in page
    assert 'data-testid="unsubscribe"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == Consent.GRANTED
    assert ListMembership.objects.filter(contact=subscriber).count() == 2


def test_posting_the_form_opts_out_audits_and_leaves_every_list(browser, subscriber):
    path = _path(subscriber)
    page = browser.get(path)
    csrf = page.cookies["csrftoken"].value
    response = browser.post(path, {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == Consent.OPTED_OUT
    assert not ListMembership.objects.filter(contact=subscriber).exists()
    event = _opt_outs(subscriber).get()
    assert event.actor is None
    assert event.reason == "unsubscribe link"
    assert event.old == {"marketing_consent": Consent.GRANTED}
    removed = AuditEvent.objects.get(
        subject_id=subscriber.pk, event_type="contact.lists_removed"
    )
    assert sorted(removed.old["marketing_lists"]) == ["Newsletter", "Workshops"]
    latest = consent_history(subscriber).changes[0]
    assert (latest.old, latest.new, latest.source) == (
        Consent.GRANTED,
        Consent.OPTED_OUT,
        "unsubscribe_link",
    )
    assert latest.by_label == "the contact, via the unsubscribe link"


def test_a_form_post_without_the_csrf_token_is_refused(browser, subscriber):
    response = browser.post(_path(subscriber), {})
    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == Consent.GRANTED


def test_one_click_post_without_cookie_opts_out(browser, subscriber):
    response = browser.post(
        _path(subscriber), ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == Consent.OPTED_OUT
    assert _opt_outs(subscriber).count() == 1


def test_one_click_also_comes_as_multipart(browser, subscriber):
    response = browser.post(_path(subscriber), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.opted_out


@pytest.mark.parametrize(
    "body",
    [
        "List-Unsubscribe=One-Click&extra=1",
        "List-Unsubscribe=Yes",
        "List-Unsubscribe=One-Click&List-Unsubscribe=One-Click",
    ],
)
def test_anything_but_the_exact_one_click_body_needs_the_csrf_token(
    browser, subscriber, body
):
    response = browser.post(
        _path(subscriber), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 403
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == Consent.GRANTED


def test_an_opted_out_contact_is_told_so_and_nothing_is_recorded_again(
    browser, subscriber
):
    path = _path(subscriber)
    browser.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    page = browser.get(path)
    assert page.status_code == 200
    assert "You are already unsubscribed" in page.content.decode()
    again = browser.post(
        path, ONE_CLICK, content_type="application/x-www-form-urlencoded"
    )
    assert again.status_code == 200
    assert "You are already unsubscribed" in again.content.decode()
    assert _opt_outs(subscriber).count() == 1


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.split(".")[0],  # no signature
        lambda t: "zzzzzzzzzzzzzzzzzzzzzzzz." + t.split(".")[1],  # id out of range
        lambda t: "not a token",
        lambda t: t + "x",
    ],
)
def test_a_tampered_token_is_a_404_page(browser, subscriber, mangle):
    response = browser.get(f"/unsubscribe/{mangle(unsubscribe.token_for(subscriber))}/")
    assert response.status_code == 404
    assert "This unsubscribe link is not valid." in response.content.decode()


def test_a_link_for_contact_a_cannot_be_turned_into_one_for_contact_b(
    browser, subscriber
):
    other = make_contact("Other Person", email="other@example.be")
    record_consent(other, actor=None, consent=Consent.GRANTED)
    signature = unsubscribe.token_for(subscriber).split(".")[1]
    forged = f"{unsubscribe._b62(other.pk)}.{signature}"
    response = browser.post(
        f"/unsubscribe/{forged}/",
        ONE_CLICK,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.marketing_consent == Consent.GRANTED


def test_a_token_signed_with_another_salt_is_refused(subscriber):
    value = f"{subscriber.pk}:{subscriber.email_key}"
    other = signing.Signer(salt="leadflow.something.else").signature(value)
    token = f"{unsubscribe._b62(subscriber.pk)}.{other[:22]}"
    assert unsubscribe.contact_for_token(token) is None


def test_a_changed_address_makes_old_links_invalid(browser, subscriber, marketer):
    old_path = _path(subscriber)
    update_contact(
        subscriber,
        actor=marketer,
        version=subscriber.version,
        email="piet@newjob.be",
    )
    assert browser.get(old_path).status_code == 404
    fresh = Contact.objects.get(pk=subscriber.pk)
    assert browser.get(_path(fresh)).status_code == 200


def test_an_erased_contact_is_a_404(browser, subscriber, admin):
    path = _path(subscriber)
    privacy.erase_contact(subscriber, actor=admin, reason="asked to be forgotten")
    assert browser.get(path).status_code == 404
    # Even with a token made for the erased row (empty address) nothing is found.
    erased = Contact.objects.get(pk=subscriber.pk)
    assert unsubscribe.contact_for_token(unsubscribe.token_for(erased)) is None


def test_the_public_page_is_rate_limited(browser, subscriber, settings, monkeypatch):
    monkeypatch.setattr(unsubscribe, "RATE_LIMIT", 3)
    path = _path(subscriber)
    answers = [browser.get(path).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent == Consent.GRANTED


def test_the_rate_limit_counts_each_visitor_behind_the_proxy(subscriber, monkeypatch):
    monkeypatch.setattr(unsubscribe, "RATE_LIMIT", 1)
    path = _path(subscriber)
    first = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    second = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert [first.get(path).status_code for _ in range(2)] == [200, 429]
    assert second.get(path).status_code == 200


def test_the_unsubscribe_page_has_no_inline_script_or_style(browser, subscriber):
    page = browser.get(_path(subscriber)).content.decode()
    assert "<script>" not in page
    assert " style=" not in page
    assert "onclick" not in page


def test_mask_email_keeps_only_first_letters():
    assert unsubscribe.mask_email("piet@janssens.be") == "p***@j***.be"
    assert unsubscribe.mask_email("a@localhost") == "a***@l***"
    assert unsubscribe.mask_email("") == "***"


def test_links_survive_a_secret_key_rotation_kept_in_the_fallbacks(
    subscriber, settings
):
    token = unsubscribe.token_for(subscriber)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert unsubscribe.contact_for_token(token) == subscriber
    settings.SECRET_KEY_FALLBACKS = []
    assert unsubscribe.contact_for_token(token) is None


def test_the_token_is_djangos_signature_with_the_unsubscribe_salt(subscriber):
    value = f"{subscriber.pk}:{subscriber.email_key}"
    expected = signing.Signer(salt="leadflow.marketing.unsubscribe").signature(value)
    assert unsubscribe.token_for(subscriber).split(".")[1] == expected[:22]
