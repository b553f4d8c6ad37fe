"""The public web form's rules (marketing.webforms): a submission becomes one inquiry
with channel "web form", consent only when ticked, and spam is kept out (honeypot,
signed token, rate limit, duplicates)."""

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory, override_settings
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.intake.models import Channel, Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_campaign
from leadflow.marketing import webforms
from leadflow.marketing.actions import record_consent
from leadflow.marketing.models import WebForm, WebFormAttempt
from leadflow.marketing.webforms import RateLimited, Submission, TokenRejected

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def make_webform(actor=None, *, slug="spring", department=None, **values) -> WebForm:
    return webforms.create_webform(
        actor=actor,
        campaign=values.pop("campaign", None) or make_campaign(f"Campaign {slug}"),
        slug=slug,
        title=values.pop("title", "Ask us for a quote"),
        department=department,
        thank_you=values.pop("thank_you", "Thanks, we will call you."),
        consent_text=values.pop("consent_text", "Keep me informed."),
        allowed_origins=values.pop("allowed_origins", "https://www.example.be"),
        **values,
    )


def old_token(web_form: WebForm, seconds: float = 30) -> str:
    """A token of a page rendered ``seconds`` ago (people take a while to type)."""
    return webforms.issue_token(web_form, now=time.time() - seconds)


def submission(web_form: WebForm, **values) -> Submission:
    return Submission(
        name=values.pop("name", "Hanne Peeters"),
        email=values.pop("email", "hanne@peeters.be"),
        question=values.pop("question", "Can you quote 12 standing desks?"),
        token=values.pop("token", None) or old_token(web_form),
        **values,
    )


@pytest.fixture
def web_form(marketer, department) -> WebForm:
    return make_webform(marketer, department=department)


# --- a submission becomes an inquiry ------------------------------------------------------


def test_a_submission_registers_a_web_form_inquiry_for_the_campaign(web_form):
    result = webforms.submit(
        web_form,
        submission(
            web_form,
            phone="+32 470 12 34 56",
            company="Peeters Bouw",
            referrer="https://www.example.be/offerte?x=1",
            utm={"utm_source": "newsletter", "utm_campaign": "spring"},
        ),
        ip=IP,
    )
    assert result.outcome == "accepted"
    inquiry = Inquiry.objects.select_related("channel", "contact", "company").get()
    assert result.inquiry == inquiry
    assert inquiry.channel.code == "web_form"
    assert inquiry.campaign == web_form.campaign
    assert inquiry.department == web_form.department
    assert inquiry.received_by is None and inquiry.created_by is None
    assert inquiry.prompted is True
    assert inquiry.status == "open"
    assert inquiry.referrer == "https://www.example.be/offerte?x=1"
    assert inquiry.summary == (
        "Can you quote 12 standing desks?\n\n"
        "-- web form spring --\nutm_source: newsletter\nutm_campaign: spring"
    )
    assert inquiry.contact.name == "Hanne Peeters"
    assert inquiry.contact.email == "hanne@peeters.be"
    assert inquiry.company.name == "Peeters Bouw"
    registered = InquiryTransition.objects.get(inquiry=inquiry)
    assert registered.data["web_form"] == "spring"
    assert registered.data["utm_source"] == "newsletter"
    assert registered.data["utm_campaign"] == "spring"
    assert "utm_medium" not in registered.data
    assert registered.data["consent_ticked"] is False
    attempt = WebFormAttempt.objects.get()
    assert (attempt.outcome, attempt.inquiry) == ("accepted", inquiry)
    assert IP not in attempt.ip_hash and len(attempt.ip_hash) == 64


def test_without_campaign_parameters_the_question_is_stored_as_typed(web_form):
    webforms.submit(web_form, submission(web_form), ip=IP)
    assert Inquiry.objects.get().summary == "Can you quote 12 standing desks?"


def test_a_referrer_that_is_not_a_web_address_is_dropped(web_form):
    webforms.submit(
        web_form, submission(web_form, referrer="javascript:alert(1)"), ip=IP
    )
    assert Inquiry.objects.get().referrer == ""


def test_the_same_person_twice_is_one_contact_with_two_inquiries(web_form):
    known = make_contact("Hanne Peeters", email="Hanne@Peeters.be")
    webforms.submit(web_form, submission(web_form, email="hanne@peeters.be"), ip=IP)
    webforms.submit(
        web_form,
        submission(web_form, email="HANNE@peeters.be", question="And 12 chairs?"),
        ip=IP,
    )
    assert Contact.objects.count() == 1
    assert list(
        Inquiry.objects.order_by("id").values_list("contact_id", flat=True)
    ) == [known.pk, known.pk]


def test_the_same_question_again_within_ten_minutes_is_one_inquiry(web_form):
    first = webforms.submit(web_form, submission(web_form), ip=IP)
    again = webforms.submit(
        web_form,
        submission(web_form, question="  can you quote 12 standing  desks? "),
        ip=IP,
        now=timezone.now() + timedelta(minutes=9),
    )
    assert again.outcome == "duplicate"
    assert again.inquiry == first.inquiry
    assert Inquiry.objects.count() == 1
    later = webforms.submit(
        web_form,
        submission(web_form),
        ip=IP,
        now=timezone.now() + timedelta(minutes=21),
    )
    assert later.outcome == "accepted"
    assert Inquiry.objects.count() == 2


def test_a_register_error_is_refused_and_nothing_is_stored(web_form):
    with pytest.raises(ValidationFailed) as refused:
        webforms.submit(web_form, submission(web_form, email="not an address"), ip=IP)
    assert refused.value.code == "invalid_email"
    assert not Inquiry.objects.exists() and not Contact.objects.exists()
    assert WebFormAttempt.objects.get().outcome == "invalid"


# --- consent ------------------------------------------------------------------------------


def test_a_ticked_box_grants_consent_with_an_audit_row(web_form):
    webforms.submit(web_form, submission(web_form, consent=True), ip=IP)
    contact = Contact.objects.get()
    assert contact.marketing_consent == Consent.GRANTED
    event = AuditEvent.objects.get(
        event_type="contact.consent_changed", subject_id=contact.pk
    )
    assert event.new == {"marketing_consent": "granted"}
    assert event.reason == "web form spring"
    assert event.actor is None
    registered = InquiryTransition.objects.get()
    assert registered.data["consent_ticked"] is True


def test_an_unticked_box_records_no_consent(web_form):
    webforms.submit(web_form, submission(web_form, consent=False), ip=IP)
    assert Contact.objects.get().marketing_consent == Consent.UNKNOWN
    assert not AuditEvent.objects.filter(event_type="contact.consent_changed").exists()


def test_a_ticked_box_does_not_undo_an_opt_out(web_form):
    """Anyone can type anyone's address: an opt-out is undone only by the person."""
    contact = make_contact("Hanne Peeters", email="hanne@peeters.be")
    record_consent(contact, actor=None, consent=Consent.OPTED_OUT, reason="asked")
    webforms.submit(web_form, submission(web_form, consent=True), ip=IP)
    contact.refresh_from_db()
    assert contact.marketing_consent == Consent.OPTED_OUT
    assert Inquiry.objects.get().contact == contact


# --- spam -------------------------------------------------------------------------------


def test_a_filled_honeypot_pretends_success_stores_nothing_and_logs(web_form, caplog):
    with caplog.at_level(logging.WARNING, logger="leadflow.marketing.webforms"):
        result = webforms.submit(
            web_form, submission(web_form, honeypot="http://spam.example"), ip=IP
        )
    assert result.outcome == "honeypot" and result.inquiry is None
    assert not Inquiry.objects.exists() and not Contact.objects.exists()
    assert WebFormAttempt.objects.get().outcome == "honeypot"
    assert "honeypot filled" in caplog.text


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "token_missing"),
        ("garbage", "token_forged"),
        ("other-form", "token_forged"),
        ("tampered", "token_forged"),
        ("expired", "token_expired"),
        ("fresh", "token_too_fast"),
    ],
)
def test_a_bad_token_is_refused_and_nothing_is_registered(web_form, token, code):
    other = make_webform(slug="autumn")
    tokens = {
        "": "",
        "garbage": "garbage",
        "other-form": old_token(other),
        "tampered": old_token(web_form)[:-2] + "xx",
        "expired": old_token(web_form, seconds=25 * 3600),
        "fresh": webforms.issue_token(web_form),
    }
    with pytest.raises(TokenRejected) as refused:
        webforms.submit(
            web_form,
            Submission(
                name="Bot", email="bot@example.com", question="Buy", token=tokens[token]
            ),
            ip=IP,
        )
    assert refused.value.code == code
    assert refused.value.status == 400
    assert not Inquiry.objects.exists()
    wanted = "too_fast" if code == "token_too_fast" else "bad_token"
    assert WebFormAttempt.objects.get().outcome == wanted


def test_a_token_is_accepted_between_the_minimum_age_and_a_day(web_form):
    now = time.time()
    token = webforms.issue_token(web_form, now=now)
    assert webforms.check_token(web_form, token, now=now + 2.5) == pytest.approx(
        2.5, abs=0.01
    )
    assert webforms.check_token(web_form, token, now=now + 23 * 3600) > 0
    with override_settings(LEADFLOW_WEBFORM_MIN_SECONDS=10):
        with pytest.raises(TokenRejected):
            webforms.check_token(web_form, token, now=now + 5)


@override_settings(LEADFLOW_WEBFORM_RATE_PER_HOUR=3)
def test_the_rate_limit_counts_every_attempt_per_address_and_form(web_form):
    for n in range(3):
        webforms.submit(web_form, submission(web_form, question=f"Question {n}"), ip=IP)
    with pytest.raises(RateLimited) as limited:
        webforms.submit(web_form, submission(web_form, question="One more"), ip=IP)
    assert limited.value.status == 429
    assert Inquiry.objects.count() == 3
    assert WebFormAttempt.objects.count() == 3  # the refused one is not stored
    # Another address is not affected; an hour later the address may send again.
    webforms.submit(web_form, submission(web_form, question="Other"), ip="198.51.100.1")
    later = timezone.now() + timedelta(minutes=61)
    webforms.submit(web_form, submission(web_form, question="Later"), ip=IP, now=later)
    assert Inquiry.objects.count() == 5


@override_settings(LEADFLOW_WEBFORM_RATE_PER_HOUR=5)
def test_spam_attempts_count_towards_the_rate_limit_too(web_form):
    for _n in range(5):
        webforms.submit(web_form, submission(web_form, honeypot="x"), ip=IP)
    with pytest.raises(RateLimited):
        webforms.submit(web_form, submission(web_form), ip=IP)
    assert not Inquiry.objects.exists()


@override_settings(
    LEADFLOW_WEBFORM_RATE_PER_HOUR=5, LEADFLOW_WEBFORM_RATE_PER_HOUR_ALL_FORMS=4
)
def test_the_rate_limit_over_all_forms_holds_per_address(web_form):
    forms = [web_form, *(make_webform(slug=f"form-{n}") for n in range(3))]
    for n, each in enumerate(forms):
        webforms.submit(each, submission(each, question=f"Q {n}"), ip=IP)
    extra = make_webform(slug="extra")
    with pytest.raises(RateLimited):
        webforms.submit(extra, submission(extra), ip=IP)


def test_attempts_older_than_a_day_are_pruned(web_form):
    WebFormAttempt.objects.create(
        web_form=web_form,
        ip_hash="x" * 64,
        at=timezone.now() - timedelta(days=2),
        outcome="honeypot",
    )
    webforms.submit(web_form, submission(web_form), ip=IP)
    assert list(WebFormAttempt.objects.values_list("outcome", flat=True)) == [
        "accepted"
    ]


def test_the_visitor_address_behind_the_local_proxy_is_the_last_forwarded_one():
    factory = RequestFactory()
    direct = factory.post(
        "/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert webforms.client_ip(direct) == "198.51.100.9"  # a visitor's header: ignored
    proxied = factory.post(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.9"
    )
    assert webforms.client_ip(proxied) == "198.51.100.9"
    with override_settings(LEADFLOW_TRUSTED_PROXIES=["10.0.0.2"]):
        remote_proxy = factory.post(
            "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10"
        )
        assert webforms.client_ip(remote_proxy) == "198.51.100.10"


# --- managing forms -----------------------------------------------------------------------


def test_origins_are_one_per_line_and_nothing_else_gets_into_the_header():
    assert (
        webforms.clean_origins(
            " https://www.Example.be/ \n\nhttps://*.example.nl\nhttp://localhost:8080"
        )
        == "https://www.example.be\nhttps://*.example.nl\nhttp://localhost:8080"
    )
    for bad in (
        "*",
        "'none'",
        "https://www.example.be/contact",
        "www.example.be",
        "https://a.be; script-src *",
        "https://a.be https://b.be",
        "ftp://example.be",
    ):
        with pytest.raises(ValidationFailed) as refused:
            webforms.clean_origins(bad)
        assert refused.value.code == "invalid_origin"
        assert refused.value.field == "allowed_origins"


def test_a_form_is_created_changed_and_switched_off_with_audit_rows(marketer):
    web_form = make_webform(marketer, slug="Spring-Offer")
    assert web_form.slug == "spring-offer" and web_form.created_by == marketer
    created = AuditEvent.objects.get(event_type="web_form.created")
    assert created.actor == marketer and created.new["slug"] == "spring-offer"

    changed = webforms.update_webform(
        web_form, actor=marketer, version=1, title="Ask for an offer"
    )
    assert (changed.title, changed.version) == ("Ask for an offer", 2)
    updated = AuditEvent.objects.get(event_type="web_form.updated")
    assert updated.old == {"title": "Ask us for a quote"}
    assert updated.new == {"title": "Ask for an offer"}
    with pytest.raises(Conflict):
        webforms.update_webform(web_form, actor=marketer, version=1, title="Stale")

    off = webforms.set_webform_active(changed, actor=marketer, active=False)
    assert off.is_active is False
    assert AuditEvent.objects.filter(event_type="web_form.deactivated").count() == 1


def test_two_forms_cannot_share_an_address(marketer):
    first = make_webform(marketer, slug="spring")
    with pytest.raises(ValidationFailed) as refused:
        make_webform(marketer, slug="spring", campaign=first.campaign)
    assert refused.value.code == "slug_taken"


def test_a_switched_off_web_form_channel_does_not_lose_the_inquiry(web_form):
    """An admin may hide the channel from the manual register form; the public form
    keeps registering with it."""
    Channel.objects.filter(code="web_form").update(is_active=False)
    webforms.submit(web_form, submission(web_form), ip=IP)
    assert Inquiry.objects.get().channel.code == "web_form"


# --- several app processes at once ---------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs connections that wait for each other's locks",
)
@pytest.mark.django_db(transaction=True)
@override_settings(LEADFLOW_WEBFORM_RATE_PER_HOUR=3)
def test_the_rate_limit_holds_for_simultaneous_submissions(marketer):
    """Eight workers (own database connections, like gunicorn processes) send at the
    same moment from one address: three inquiries, five refusals."""
    web_form = make_webform(marketer)
    barrier = threading.Barrier(8, timeout=10)
    results: list[str] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            webforms.submit(
                web_form, submission(web_form, question=f"Question {n}"), ip=IP
            )
            results.append("accepted")
        except RateLimited:
            results.append("limited")
        except Exception as exc:  # shows in the assertion below
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["accepted"] * 3 + ["limited"] * 5
    assert Inquiry.objects.count() == 3
