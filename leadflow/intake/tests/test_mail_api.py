"""POST /api/intake/mail (raw MIME from a forwarding service) and the attachments on
the inquiry page."""

import pytest
from django.test import Client

from leadflow.intake.mail import ingest_message
from leadflow.intake.models import InboundMail, Inquiry
from leadflow.intake.tests.factories import make_inquiry
from leadflow.intake.tests.test_mail_parse import (
    PDF,
    auto_reply,
    mail_with_attachments,
    plain_mail,
)

pytestmark = pytest.mark.django_db
URL = "/api/intake/mail"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def post_mail(api, raw: bytes, content_type: str = "message/rfc822"):
    return api.client.post(URL, raw, content_type=content_type, **api._auth())


# --- the endpoint -----------------------------------------------------------------------


def test_a_forwarded_mail_answers_201_then_200_with_the_same_result(api_as):
    api = api_as("inside")
    raw = bytes(mail_with_attachments())
    first = post_mail(api, raw)
    assert first.status_code == 201, first.content
    mail = InboundMail.objects.get()
    assert first.json() == {
        "id": mail.pk,
        "inquiry_id": mail.inquiry_id,
        "status": "processed",
        "created": True,
        "error": "",
    }
    again = post_mail(api, raw)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False}
    assert Inquiry.objects.count() == 1
    assert mail.source == "http"
    assert mail.inquiry.created_by.username == "inside"


def test_an_auto_reply_is_answered_as_ignored(api_as):
    response = post_mail(api_as("inside"), bytes(auto_reply()))
    assert response.status_code == 201
    assert response.json()["status"] == "ignored"
    assert response.json()["inquiry_id"] is None
    assert response.json()["error"] == "Auto-Submitted: auto-replied"


def test_a_mail_that_cannot_be_registered_is_answered_as_failed(api_as):
    raw = bytes(plain_mail(sender="<jan..peeters@example.be>"))
    response = post_mail(api_as("inside"), raw)
    assert response.status_code == 201
    assert response.json()["status"] == "failed"
    assert "not valid" in response.json()["error"]


def test_every_role_that_may_register_may_forward_a_mail(api_as):
    # Colleagues register inquiries too (inquiry.register is every role).
    response = post_mail(api_as("colleague"), bytes(plain_mail()))
    assert response.status_code == 201
    assert post_mail(api_as("outsider"), bytes(plain_mail())).status_code == 200


def test_without_a_token_nothing_is_stored(anonymous_api):
    response = post_mail(anonymous_api, bytes(plain_mail()))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert InboundMail.objects.count() == 0


def test_a_body_that_is_not_a_mail_answers_400(api_as):
    response = post_mail(api_as("inside"), b"Dear sales, no headers here\r\n")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This is not an e-mail message: it has no From address.",
        "code": "not_a_mail",
    }
    empty = post_mail(api_as("inside"), b"\r\n")
    assert (empty.status_code, empty.json()["code"]) == (400, "not_a_mail")
    assert InboundMail.objects.count() == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json", "application/octet-stream"]
)
def test_another_content_type_answers_415(api_as, content_type):
    raw = b'{"a": 1}' if content_type == "application/json" else bytes(plain_mail())
    response = post_mail(api_as("inside"), raw, content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert InboundMail.objects.count() == 0


def test_a_mail_over_the_limit_answers_413(api_as, settings):
    settings.LEADFLOW_MAIL_MAX_BYTES = 2_000
    response = post_mail(api_as("inside"), bytes(plain_mail(body="x" * 5_000)))
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The message is larger than 2000 bytes.",
        "code": "too_large",
    }
    assert InboundMail.objects.count() == 0


def test_a_mail_larger_than_the_json_limit_passes_under_its_own_limit(api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    message = plain_mail()
    message.add_attachment(
        PDF + b"0" * 5_000, maintype="application", subtype="pdf", filename="big.pdf"
    )
    response = post_mail(api_as("inside"), bytes(message))
    assert response.status_code == 201, response.content
    assert InboundMail.objects.get().inquiry.attachments.get().size == len(PDF) + 5_000


def test_a_multipart_form_with_the_message_as_a_file_is_accepted(api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_as("inside")
    upload = SimpleUploadedFile("mail.eml", bytes(plain_mail()), "message/rfc822")
    response = api.client.post(URL, {"message": upload}, **api._auth())
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "processed"


def test_a_multipart_form_with_the_message_as_text_is_accepted(api_as):
    api = api_as("inside")
    raw = plain_mail().as_string()
    response = api.client.post(URL, {"message": raw}, **api._auth())
    assert response.status_code == 201, response.content
    assert InboundMail.objects.get().subject == "Offerte voor 20 bureaustoelen"


def test_a_message_text_field_over_the_form_limit_answers_413(api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    api = api_as("inside")
    raw = plain_mail(body="x" * 5_000).as_string()
    response = api.client.post(URL, {"message": raw}, **api._auth())
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert InboundMail.objects.count() == 0


def test_the_operation_is_in_the_openapi_document(api_as):
    schema = api_as("inside").get("/api/openapi.json").json()
    body = schema["paths"][URL]["post"]["requestBody"]["content"]
    assert set(body) == {"message/rfc822", "multipart/form-data"}


# --- the inquiry page and the download ---------------------------------------------------


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inquiry_page_shows_the_mail_and_its_attachments(inside):
    mail, _ = ingest_message(bytes(mail_with_attachments()), source="imap", actor=None)
    pdf = mail.inquiry.attachments.get(name="floor-plan.pdf")
    page = browser(inside).get(f"/inquiries/{mail.inquiry_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Jan Peeters &lt;jan.peeters@example.be&gt;" in html
    assert f'href="/inquiries/attachments/{pdf.pk}/">floor-plan.pdf</a>' in html
    assert "setup.exe <span" in html
    assert "not kept: files of type .exe are not accepted" in html


def test_an_inquiry_by_phone_has_no_mail_section(inside):
    inquiry = make_inquiry(inside)
    page = browser(inside).get(f"/inquiries/{inquiry.pk}/")
    assert 'data-testid="mail"' not in page.content.decode()


def test_an_attachment_downloads_as_a_file_that_is_never_rendered(inside):
    mail, _ = ingest_message(bytes(mail_with_attachments()), source="imap", actor=None)
    pdf = mail.inquiry.attachments.get(name="floor-plan.pdf")
    response = browser(inside).get(f"/inquiries/attachments/{pdf.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="floor-plan.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_an_attachment_is_visible_only_to_who_sees_the_inquiry(rep, outsider, inside):
    mail, _ = ingest_message(bytes(mail_with_attachments()), source="imap", actor=None)
    pdf, exe = mail.inquiry.attachments.order_by("id")
    # Salespeople see the inquiries they took in; a mailbox inquiry is nobody's.
    assert browser(rep).get(f"/inquiries/attachments/{pdf.pk}/").status_code == 404
    assert browser(outsider).get(f"/inquiries/attachments/{pdf.pk}/").status_code == 404
    # A refused attachment has no file to download.
    assert browser(inside).get(f"/inquiries/attachments/{exe.pk}/").status_code == 404
    anonymous = Client().get(f"/inquiries/attachments/{pdf.pk}/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
