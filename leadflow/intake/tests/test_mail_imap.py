"""Polling a real IMAP server (a private dovecot on 127.0.0.1, see dovecot.py)."""

import pytest
from django.core.management import CommandError, call_command

from leadflow.intake.imap import ImapConfig, imap_config, poll_mailbox, run_scheduled
from leadflow.intake.mail import ingest_message
from leadflow.intake.models import InboundMail, Inquiry
from leadflow.intake.tests.dovecot import dovecot  # noqa: F401 (the fixture)
from leadflow.intake.tests.test_mail_parse import (
    auto_reply,
    latin1_mail,
    mail_with_attachments,
    plain_mail,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mailbox(dovecot, settings):  # noqa: F811
    """The dovecot mailbox, configured as Leadflow's sales mailbox."""
    settings.LEADFLOW_IMAP_HOST = dovecot.host
    settings.LEADFLOW_IMAP_PORT = dovecot.port
    settings.LEADFLOW_IMAP_USER = dovecot.user
    settings.LEADFLOW_IMAP_PASSWORD = dovecot.password
    settings.LEADFLOW_IMAP_SSL = False
    settings.LEADFLOW_IMAP_FOLDER = "INBOX"
    settings.LEADFLOW_IMAP_PROCESSED_FOLDER = ""
    return dovecot


def three_mails() -> list[bytes]:
    return [
        bytes(mail_with_attachments()),
        latin1_mail(),
        bytes(plain_mail(sender="Els <els@example.nl>", message_id="<els@x.nl>")),
    ]


def test_poll_mailbox_registers_each_unseen_mail_once_and_flags_it(mailbox, capsys):
    for raw in three_mails():
        mailbox.append(raw)
    call_command("poll_mailbox")
    assert capsys.readouterr().out.strip() == (
        "3 fetched: 3 new inquiries, 0 already registered, 0 ignored "
        "(auto-replies, bounces), 0 failed, 0 left unseen."
    )
    assert Inquiry.objects.filter(channel__code="email").count() == 3
    assert set(InboundMail.objects.values_list("source", "status")) == {
        ("imap", "processed")
    }
    assert [r"\Seen" in flags for flags in mailbox.flags()] == [True, True, True]
    pdf = Inquiry.objects.get(contact__email="jan.peeters@example.be").attachments
    assert sorted(pdf.values_list("name", flat=True)) == ["floor-plan.pdf", "setup.exe"]

    call_command("poll_mailbox")
    assert capsys.readouterr().out.startswith("0 fetched: 0 new inquiries")
    assert Inquiry.objects.count() == 3


def test_a_crash_between_registering_and_flagging_does_not_register_twice(mailbox):
    raw = bytes(plain_mail())
    mailbox.append(raw)
    # The mail was registered, then the poller died before flagging it \Seen.
    ingest_message(raw, source="imap", actor=None)
    result = poll_mailbox()
    assert (result.fetched, result.created, result.known) == (1, 0, 1)
    assert Inquiry.objects.count() == 1
    assert r"\Seen" in mailbox.flags()[0]


def test_one_bad_mail_does_not_stop_the_others(mailbox):
    mailbox.append(b"Subject: no sender at all\r\n\r\nwho sent this?\r\n")
    mailbox.append(bytes(auto_reply()))
    mailbox.append(bytes(plain_mail()))
    result = poll_mailbox()
    assert (result.fetched, result.created, result.ignored, result.failed) == (
        3,
        1,
        1,
        1,
    )
    failed = InboundMail.objects.get(status="failed")
    assert failed.error == "This is not an e-mail message: it has no From address."
    with failed.raw.open("rb") as handle:
        assert b"who sent this?" in handle.read()
    # All three are flagged: the failed one is kept in the database, not re-read.
    assert [r"\Seen" in flags for flags in mailbox.flags()] == [True, True, True]
    assert poll_mailbox().fetched == 0


def test_processed_mails_move_to_the_processed_folder(mailbox, settings):
    mailbox.create_folder("Leadflow")
    settings.LEADFLOW_IMAP_PROCESSED_FOLDER = "Leadflow"
    mailbox.append(bytes(plain_mail()))
    assert poll_mailbox().created == 1
    assert mailbox.flags() == []
    assert [r"\Seen" in flags for flags in mailbox.flags("Leadflow")] == [True]


def test_a_mail_read_by_a_person_is_not_fetched(mailbox):
    mailbox.append(bytes(plain_mail()))
    client = mailbox.connect()
    client.uid("STORE", "1", "+FLAGS", r"(\Seen)")
    client.logout()
    assert poll_mailbox().fetched == 0
    assert Inquiry.objects.count() == 0


def test_a_wrong_password_is_a_clear_command_error(mailbox, settings):
    settings.LEADFLOW_IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="Cannot read the mailbox sales@127.0.0.1"):
        call_command("poll_mailbox")


def test_without_a_host_the_command_says_what_to_set_and_the_job_does_nothing(
    settings,
):
    settings.LEADFLOW_IMAP_HOST = ""
    assert imap_config() is None
    assert run_scheduled() == "off"
    with pytest.raises(CommandError, match="Set LEADFLOW_IMAP_HOST"):
        call_command("poll_mailbox")


def test_the_job_polls_when_a_host_is_set(mailbox):
    mailbox.append(bytes(plain_mail()))
    assert run_scheduled() == (
        "fetched=1 created=1 known=0 ignored=0 failed=0 left_unseen=0"
    )


def test_the_settings_default_to_ssl_on_993_and_inbox(settings):
    settings.LEADFLOW_IMAP_HOST = "imap.example.be"
    settings.LEADFLOW_IMAP_USER = "sales@example.be"
    settings.LEADFLOW_IMAP_PASSWORD = "secret"
    for name in ("PORT", "SSL", "FOLDER", "PROCESSED_FOLDER"):
        if hasattr(settings, f"LEADFLOW_IMAP_{name}"):
            delattr(settings, f"LEADFLOW_IMAP_{name}")
    config = imap_config()
    assert config == ImapConfig(
        host="imap.example.be",
        user="sales@example.be",
        password="secret",
        port=993,
        folder="INBOX",
        use_ssl=True,
        processed_folder="",
    )
    assert "secret" not in repr(config)


def test_an_unreachable_server_is_an_error_not_a_hang(settings):
    config = ImapConfig(host="127.0.0.1", user="x", password="y", port=1, use_ssl=False)
    with pytest.raises(OSError):
        poll_mailbox(config)


def test_a_crash_while_registering_keeps_the_mail_under_its_message_id(
    mailbox, monkeypatch
):
    """A fault that is no domain rule (here: the disk is full) rolls the mail's
    transaction back; the poller keeps it as failed, flags it and goes on."""
    from leadflow.intake import mail as mail_module

    def disk_full(inquiry, parsed):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mail_module, "_store_attachments", disk_full)
    mailbox.append(bytes(mail_with_attachments()))
    mailbox.append(bytes(plain_mail(message_id="<second@example.be>")))
    result = poll_mailbox()
    assert (result.fetched, result.created, result.failed) == (2, 0, 2)
    assert Inquiry.objects.count() == 0
    failed = InboundMail.objects.get(message_id="q1-2026@mail.example.be")
    assert failed.error == "[Errno 28] No space left on device"
    monkeypatch.undo()
    call_command("poll_mailbox", "--retry-failed")
    assert Inquiry.objects.count() == 2
    failed.refresh_from_db()
    assert failed.status == "processed"
    assert failed.inquiry.attachments.count() == 2
    # The same mail delivered again (say, forwarded over HTTP) is known.
    again, created = ingest_message(
        bytes(mail_with_attachments()), source="http", actor=None
    )
    assert (again.pk, created) == (failed.pk, False)
