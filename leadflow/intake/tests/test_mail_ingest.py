"""ingest_message: a mail becomes one inquiry, once (leadflow/intake/mail.py)."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Contact
from leadflow.intake import mail as mail_module
from leadflow.intake.mail import MailTooLarge, NotAMail, ingest_message, retry_failed
from leadflow.intake.models import (
    Channel,
    InboundMail,
    Inquiry,
    InquiryAttachment,
    InquiryTransition,
)
from leadflow.intake.tests.factories import make_inquiry
from leadflow.intake.tests.test_mail_parse import (
    PDF,
    auto_reply,
    html_mail,
    latin1_mail,
    mail_with_attachments,
    plain_mail,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_mail_becomes_an_open_inquiry_on_the_email_channel():
    mail, created = ingest_message(bytes(plain_mail()), source="imap", actor=None)
    assert created is True
    assert mail.status == "processed"
    assert mail.source == "imap"
    assert mail.message_id == "q1-2026@mail.example.be"
    inquiry = mail.inquiry
    assert inquiry.status == "open"
    assert inquiry.channel.code == "email"
    assert inquiry.summary == (
        "Offerte voor 20 bureaustoelen\n\n"
        "Goedemorgen,\n\nKunt u ons een offerte sturen voor 20 stoelen?"
    )
    assert inquiry.received_at == mail.received_at
    assert inquiry.created_by is None and inquiry.received_by is None
    contact = inquiry.contact
    assert (contact.name, contact.email) == ("Jan Peeters", "jan.peeters@example.be")


def test_a_second_delivery_returns_the_first_result_and_creates_nothing():
    raw = bytes(mail_with_attachments())
    first, created = ingest_message(raw, source="imap", actor=None)
    again, created_again = ingest_message(raw, source="http", actor=None)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.source == "imap"
    assert Inquiry.objects.count() == 1
    assert InboundMail.objects.count() == 1
    assert InquiryAttachment.objects.count() == 2
    assert Contact.objects.count() == 1


def test_the_message_id_matches_whatever_its_brackets_and_domain_case():
    ingest_message(
        bytes(plain_mail(message_id="<A1@Example.BE>")), source="imap", actor=None
    )
    _mail, created = ingest_message(
        bytes(plain_mail(message_id=" A1@example.be ")),
        source="http",
        actor=None,
    )
    assert created is False
    assert Inquiry.objects.count() == 1


def test_a_mail_without_message_id_is_still_registered_once():
    raw = bytes(plain_mail(message_id=None))
    ingest_message(raw, source="http", actor=None)
    _mail, created = ingest_message(raw, source="http", actor=None)
    assert created is False
    assert Inquiry.objects.count() == 1


def test_a_known_sender_is_looked_up_not_created_again(inside):
    earlier = make_inquiry(inside, name="J. Peeters", email="Jan.Peeters@Example.be")
    mail, _created = ingest_message(bytes(plain_mail()), source="imap", actor=None)
    assert mail.inquiry.contact_id == earlier.contact_id
    assert Contact.objects.count() == 1


def test_a_sender_without_display_name_is_named_after_the_address():
    raw = bytes(plain_mail(sender="info@bakkerij-janssens.be"))
    mail, _created = ingest_message(raw, source="imap", actor=None)
    assert mail.inquiry.contact.name == "info"
    assert mail.inquiry.contact.email == "info@bakkerij-janssens.be"


def test_latin1_and_html_mails_are_stored_readable():
    latin, _ = ingest_message(latin1_mail(), source="imap", actor=None)
    assert latin.inquiry.summary == (
        "Offerte für Stühle – dringend\n\n"
        "Grüße, wir brauchen één Angebot für 12 Stühle."
    )
    assert latin.inquiry.contact.name == "Zoë Müller"
    html, _ = ingest_message(
        bytes(html_mail(message_id="<h@example.be>")), source="imap", actor=None
    )
    assert "We need 50 desks." in html.inquiry.summary
    assert "<" not in html.inquiry.summary


def test_allowed_attachments_are_kept_and_refused_ones_listed_with_the_reason():
    mail, _ = ingest_message(bytes(mail_with_attachments()), source="imap", actor=None)
    pdf, exe = mail.inquiry.attachments.order_by("id")
    assert (pdf.name, pdf.size, pdf.content_type) == (
        "floor-plan.pdf",
        len(PDF),
        "application/pdf",
    )
    assert pdf.kept and pdf.not_kept_reason == ""
    with pdf.file.open("rb") as handle:
        assert handle.read() == PDF
    assert not exe.kept
    assert exe.not_kept_reason == "type:.exe"
    assert exe.not_kept_text == "files of type .exe are not accepted"


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("type:.exe", "files of type .exe are not accepted"),
        ("type:", "files of type (none) are not accepted"),
        ("empty:", "the file is empty"),
        ("too_large:20", "larger than 20 MB"),
        ("too_many:20", "more than 20 attachments in one e-mail"),
    ],
)
def test_the_reason_an_attachment_was_not_kept_is_worded_for_the_reader(reason, text):
    assert InquiryAttachment(not_kept_reason=reason).not_kept_text == text


def test_the_registration_is_audited_with_the_mail():
    mail, _ = ingest_message(bytes(mail_with_attachments()), source="http", actor=None)
    transition = InquiryTransition.objects.get(inquiry=mail.inquiry)
    assert transition.data["inbound_mail"] == mail.pk
    assert transition.data["source"] == "http"
    event = AuditEvent.objects.get(event_type="inquiry.mail_received")
    assert (event.subject_type, event.subject_id) == ("intake.inquiry", mail.inquiry_id)
    assert event.new == {
        "inbound_mail": mail.pk,
        "message_id": "q1-2026@mail.example.be",
        "from": "jan.peeters@example.be",
        "attachments_kept": 1,
        "attachments_not_kept": 1,
    }


def test_the_actor_of_a_forwarded_mail_is_its_token_user(inside):
    mail, _ = ingest_message(bytes(plain_mail()), source="http", actor=inside)
    assert mail.inquiry.created_by == inside
    assert mail.inquiry.received_by == inside


def test_auto_replies_are_recorded_as_ignored_without_an_inquiry():
    mail, created = ingest_message(bytes(auto_reply()), source="imap", actor=None)
    assert created is True
    assert (mail.status, mail.inquiry, mail.error) == (
        "ignored",
        None,
        "Auto-Submitted: auto-replied",
    )
    assert Inquiry.objects.count() == 0
    assert Contact.objects.count() == 0
    assert AuditEvent.objects.filter(event_type="mail.ignored").count() == 1
    _again, created_again = ingest_message(
        bytes(auto_reply()), source="imap", actor=None
    )
    assert created_again is False


def test_a_mail_that_cannot_become_an_inquiry_is_kept_as_failed_with_its_bytes():
    raw = bytes(plain_mail(sender="Jan <jan..peeters@example.be>"))
    mail, created = ingest_message(raw, source="imap", actor=None)
    assert created is True
    assert mail.status == "failed"
    assert "jan..peeters@example.be" in mail.error
    assert mail.inquiry is None
    with mail.raw.open("rb") as handle:
        assert handle.read() == raw
    assert Inquiry.objects.count() == 0 and Contact.objects.count() == 0
    assert AuditEvent.objects.filter(event_type="mail.failed").count() == 1


def test_a_failed_mail_is_registered_when_retried_after_the_cause_is_fixed():
    Channel.objects.filter(code="email").update(is_active=False)
    mail, _ = ingest_message(bytes(plain_mail()), source="imap", actor=None)
    assert mail.status == "failed"
    assert "Unknown channel" in mail.error
    Channel.objects.filter(code="email").update(is_active=True)
    retried = retry_failed(mail, actor=None)
    assert retried.status == "processed"
    assert retried.inquiry.summary.startswith("Offerte voor 20 bureaustoelen")
    assert retried.error == ""


def test_poll_mailbox_retry_failed_reports_what_it_did(capsys):
    Channel.objects.filter(code="email").update(is_active=False)
    ingest_message(bytes(plain_mail()), source="imap", actor=None)
    Channel.objects.filter(code="email").update(is_active=True)
    call_command("poll_mailbox", "--retry-failed")
    assert capsys.readouterr().out.strip() == "1 registered or ignored, 0 still failed."
    assert InboundMail.objects.get().status == "processed"


def test_something_that_is_not_a_mail_writes_nothing():
    with pytest.raises(NotAMail):
        ingest_message(b"hello there\r\n", source="http", actor=None)
    assert InboundMail.objects.count() == 0


def test_a_mail_over_the_limit_is_refused(settings):
    settings.LEADFLOW_MAIL_MAX_BYTES = 1000
    with pytest.raises(MailTooLarge) as exc:
        ingest_message(bytes(plain_mail(body="x" * 2000)), source="http", actor=None)
    assert exc.value.status == 413
    assert InboundMail.objects.count() == 0


def test_a_delivery_that_loses_the_race_returns_the_winners_row(monkeypatch):
    """Both deliveries saw no row yet; the unique Message-ID lets one insert win."""
    raw = bytes(plain_mail())
    winner, _ = ingest_message(
        bytes(plain_mail(subject="winner")), source="http", actor=None
    )
    monkeypatch.setattr(mail_module, "_known", _unseen_once(mail_module._known))
    loser, created = ingest_message(raw, source="imap", actor=None)
    assert created is False
    assert loser.pk == winner.pk
    assert Inquiry.objects.count() == 1


def _unseen_once(known):
    calls = []

    def first_blind(message_id):
        calls.append(message_id)
        return None if len(calls) == 1 else known(message_id)

    return first_blind


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two connections waiting on one unique index (SQLite's shared-cache "
    "test database reports 'table is locked' instead of waiting)",
)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deliveries_register_one_inquiry(tmp_path):
    raw = bytes(mail_with_attachments())
    barrier = threading.Barrier(2, timeout=10)
    results: list[object] = []

    def deliver(source):
        try:
            barrier.wait()
            results.append(ingest_message(raw, source=source, actor=None)[1])
        except Exception as exc:  # any other error shows in the assertion below
            results.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(s,)) for s in ("imap", "http")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=str) == [False, True]
    assert Inquiry.objects.count() == 1
    assert InboundMail.objects.count() == 1
