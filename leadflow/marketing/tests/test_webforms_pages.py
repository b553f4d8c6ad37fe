"""The public web form pages (/forms/<slug>/) and marketing's page to manage them
(/marketing/forms/): what the visitor and the marketer see, and what is stored."""

import re

import pytest
from django.test import Client, override_settings

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact
from leadflow.intake.models import Inquiry
from leadflow.intake.tests.factories import make_campaign
from leadflow.marketing.models import WebForm, WebFormAttempt
from leadflow.marketing.tests.test_webforms import make_webform, old_token

pytestmark = pytest.mark.django_db

URL = "/forms/spring/"


@pytest.fixture
def web_form(marketer, department) -> WebForm:
    return make_webform(
        marketer,
        department=department,
        allowed_origins="https://www.example.be\nhttps://shop.example.be",
    )


@pytest.fixture
def visitor() -> Client:
    # The real CSRF check is on: the public POST must not need a CSRF cookie.
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")


@pytest.fixture
def client_for(personas):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return client_for


def form_data(web_form: WebForm, **values) -> dict:
    return {
        "name": "Hanne Peeters",
        "email": "hanne@peeters.be",
        "phone": "",
        "company": "Peeters Bouw",
        "question": "Can you quote 12 standing desks?",
        "website": "",
        "token": old_token(web_form),
        "referrer": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        **values,
    }


def csp(response) -> dict[str, str]:
    return dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in response["Content-Security-Policy"].split(";")
    )


# --- the public page ----------------------------------------------------------------------


def test_the_form_page_carries_the_campaign_parameters_and_a_token(web_form, visitor):
    response = visitor.get(
        URL + "?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        HTTP_REFERER="https://www.example.be/offerte",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ask us for a quote" in body
    assert "Keep me informed." in body
    for name, value in [
        ("utm_source", "newsletter"),
        ("utm_medium", "email"),
        ("utm_campaign", "spring"),
        ("referrer", "https://www.example.be/offerte"),
    ]:
        assert f'name="{name}" id="id_{name}" value="{value}"' in body
    assert re.search(r'name="token" value="[^"]+"', body)
    consent = re.search(r'<input type="checkbox" name="consent"[^>]*>', body).group()
    assert "checked" not in consent
    assert 'class="wf-hp"' in body and 'name="website"' in body
    assert 'src="/static/marketing/webform.js"' in body
    assert not re.search(r"\sstyle=\"|\son[a-z]+=\"", body)
    assert "csrftoken" not in response.cookies and "sessionid" not in response.cookies


def test_the_form_page_cannot_be_framed_without_embed(web_form, visitor):
    response = visitor.get(URL)
    assert response["X-Frame-Options"] == "DENY"
    assert csp(response)["frame-ancestors"] == "'none'"
    assert csp(response)["script-src"] == "'self'"


def test_the_embed_page_may_be_framed_by_the_forms_sites_only(web_form, visitor):
    response = visitor.get(URL + "?embed=1")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = csp(response)
    assert policy["frame-ancestors"] == "https://www.example.be https://shop.example.be"
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert 'class="wf-body wf-embed"' in response.content.decode()


def test_a_form_without_sites_is_not_framed_even_with_embed(marketer, visitor):
    make_webform(marketer, slug="closed", allowed_origins="")
    response = visitor.get("/forms/closed/?embed=1")
    assert response["X-Frame-Options"] == "DENY"
    assert csp(response)["frame-ancestors"] == "'none'"


def test_an_unknown_or_switched_off_form_is_not_found(web_form, marketer, visitor):
    assert visitor.get("/forms/nope/").status_code == 404
    web_form.is_active = False
    web_form.save(update_fields=["is_active"])
    assert visitor.get(URL).status_code == 404
    assert visitor.post(URL, form_data(web_form)).status_code == 404
    assert visitor.get(URL + "thanks/").status_code == 404
    assert not Inquiry.objects.exists()


def test_sending_the_form_registers_the_inquiry_and_thanks(web_form, visitor):
    response = visitor.post(
        URL + "?utm_source=ignored",
        form_data(
            web_form,
            consent="on",
            referrer="https://www.example.be/offerte",
            utm_source="newsletter",
            utm_campaign="spring",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/forms/spring/thanks/"
    inquiry = Inquiry.objects.select_related("channel", "contact").get()
    assert inquiry.channel.code == "web_form"
    assert inquiry.campaign == web_form.campaign
    assert inquiry.department == web_form.department
    assert inquiry.referrer == "https://www.example.be/offerte"
    assert "utm_source: newsletter\nutm_campaign: spring" in inquiry.summary
    assert inquiry.contact.marketing_consent == Consent.GRANTED
    thanks = visitor.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thanks, we will call you." in thanks.content.decode()
    assert thanks["X-Frame-Options"] == "DENY"


def test_the_embedded_form_thanks_inside_the_frame(web_form, visitor):
    response = visitor.post(URL + "?embed=1", form_data(web_form))
    assert response["Location"] == "/forms/spring/thanks/?embed=1"
    thanks = visitor.get(response["Location"])
    assert "X-Frame-Options" not in thanks
    assert "https://www.example.be" in csp(thanks)["frame-ancestors"]


@pytest.mark.parametrize("token", ["", "forged", "expired"])
def test_a_bad_token_answers_400_and_keeps_what_was_typed(web_form, visitor, token):
    value = {
        "": "",
        "forged": "abc:def",
        "expired": old_token(web_form, seconds=25 * 3600),
    }[token]
    response = visitor.post(
        URL, form_data(web_form, token=value, utm_source="newsletter")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="form-error"' in body
    assert "Please send it again." in body or "open for more than a day" in body, body
    assert 'value="Hanne Peeters"' in body
    assert 'value="hanne@peeters.be"' in body
    assert "Can you quote 12 standing desks?" in body
    assert 'name="utm_source" id="id_utm_source" value="newsletter"' in body
    new_token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    assert new_token != value
    assert not Inquiry.objects.exists()


def test_a_form_sent_too_fast_is_refused_with_a_message(web_form, visitor):
    response = visitor.post(
        URL, form_data(web_form, token=old_token(web_form, seconds=0.5))
    )
    assert response.status_code == 400
    assert "That was very quick." in response.content.decode()
    assert not Inquiry.objects.exists()


def test_a_wrong_e_mail_address_is_shown_next_to_the_field(web_form, visitor):
    response = visitor.post(URL, form_data(web_form, email="hanne-at-peeters"))
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Inquiry.objects.exists() and not Contact.objects.exists()


def test_a_filled_honeypot_is_thanked_but_nothing_is_stored(web_form, visitor):
    response = visitor.post(
        URL, form_data(web_form, website="http://cheap-pills.example", email="x")
    )
    assert response.status_code == 302
    assert response["Location"] == "/forms/spring/thanks/"
    assert not Inquiry.objects.exists() and not Contact.objects.exists()
    assert WebFormAttempt.objects.get().outcome == "honeypot"


@override_settings(LEADFLOW_WEBFORM_RATE_PER_HOUR=2)
def test_over_the_rate_limit_the_visitor_gets_a_friendly_429(web_form, visitor):
    for n in range(2):
        sent = visitor.post(URL, form_data(web_form, question=f"Question {n}"))
        assert sent.status_code == 302
    response = visitor.post(URL, form_data(web_form, question="Question 3"))
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "Please try again later" in response.content.decode()
    assert Inquiry.objects.count() == 2
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert other.post(URL, form_data(web_form, question="Q")).status_code == 302


def test_sending_the_same_question_twice_makes_one_inquiry(web_form, visitor):
    visitor.post(URL, form_data(web_form))
    again = visitor.post(URL, form_data(web_form))
    assert again.status_code == 302
    assert Inquiry.objects.count() == 1


# --- marketing's page ---------------------------------------------------------------------


def test_marketing_creates_a_form_and_sees_the_snippet(client_for, department):
    campaign = make_campaign("Spring 2027")
    client = client_for("marketer")
    assert client.get("/marketing/forms/new/").status_code == 200
    response = client.post(
        "/marketing/forms/new/",
        {
            "title": "Spring offer",
            "slug": "spring-offer",
            "campaign": campaign.pk,
            "department": department.pk,
            "intro": "Tell us what you need.",
            "consent_text": "Send me the newsletter.",
            "thank_you": "Thank you!",
            "allowed_origins": "https://www.example.be/",
        },
    )
    web_form = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/marketing/forms/{web_form.pk}/"
    assert web_form.allowed_origins == "https://www.example.be"
    assert web_form.department == department
    assert AuditEvent.objects.filter(
        event_type="web_form.created", subject_id=web_form.pk
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert (
        "&lt;iframe src=&quot;http://127.0.0.1:8000/forms/spring-offer/?embed=1&quot;"
        in page
        or '&lt;iframe src="http://127.0.0.1:8000/forms/spring-offer/?embed=1"' in page
    ), page
    assert "Copy" in page
    listing = client.get("/marketing/forms/").content.decode()
    assert "Spring offer" in listing and "/forms/spring-offer/" in listing


def test_a_wrong_site_address_is_shown_next_to_its_field(client_for):
    campaign = make_campaign("Spring 2027")
    response = client_for("admin").post(
        "/marketing/forms/new/",
        {
            "title": "Spring",
            "slug": "spring",
            "campaign": campaign.pk,
            "allowed_origins": "https://a.be; script-src *",
        },
    )
    assert response.status_code == 200
    assert "is not a site address" in response.content.decode()
    assert not WebForm.objects.exists()


def test_marketing_edits_and_switches_a_form_off(web_form, client_for, visitor):
    client = client_for("marketer")
    data = {
        "version": web_form.version,
        "title": "New title",
        "slug": "spring",
        "campaign": web_form.campaign_id,
        "department": "",
        "intro": "",
        "consent_text": "",
        "thank_you": "",
        "allowed_origins": "",
    }
    assert client.post(f"/marketing/forms/{web_form.pk}/", data).status_code == 302
    web_form.refresh_from_db()
    assert (web_form.title, web_form.department, web_form.version) == (
        "New title",
        None,
        2,
    )
    stale = client.post(f"/marketing/forms/{web_form.pk}/", {**data, "title": "X"})
    assert "Someone else saved a change" in stale.content.decode()
    off = client.post(f"/marketing/forms/{web_form.pk}/active/", {"active": "0"})
    assert off.status_code == 302
    assert visitor.get(URL).status_code == 404
    client.post(f"/marketing/forms/{web_form.pk}/active/", {"active": "1"})
    assert visitor.get(URL).status_code == 200
    kinds = set(
        AuditEvent.objects.filter(subject_id=web_form.pk).values_list(
            "event_type", flat=True
        )
    )
    assert {"web_form.updated", "web_form.deactivated", "web_form.activated"} <= kinds


@pytest.mark.parametrize("who", ["inside", "rep", "outsider", "director", "colleague"])
def test_only_marketing_and_the_admin_manage_forms(web_form, client_for, who):
    client = client_for(who)
    assert client.get("/marketing/forms/").status_code == 403
    assert client.get(f"/marketing/forms/{web_form.pk}/").status_code == 403
    assert client.get("/marketing/forms/new/").status_code == 403
    response = client.post(f"/marketing/forms/{web_form.pk}/active/", {"active": "0"})
    assert response.status_code == 403
    web_form.refresh_from_db()
    assert web_form.is_active is True


def test_the_anonymous_visitor_is_sent_to_log_in_for_the_management_page(web_form):
    response = Client().get("/marketing/forms/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_snippet_copies_a_title_with_quotes_as_valid_html(marketer, client_for):
    web_form = make_webform(marketer, slug="desks", title='Desks & "chairs" <now>')
    page = client_for("marketer").get(f"/marketing/forms/{web_form.pk}/")
    body = page.content.decode()
    # The textarea shows (and copies) the escaped title: &amp; &quot; &lt; in the text.
    shown = 'title="Desks &amp;amp; &amp;quot;chairs&amp;quot; &amp;lt;now&amp;gt;"'
    assert shown in body
    assert "<now>" not in body
