"""Reading e-mails (leadflow/intake/mail.py, no database): the kinds of mail a sales
mailbox receives, built with email.message.EmailMessage. The builders are shared
with the other test_mail_* files."""

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from leadflow.intake.mail import (
    SUMMARY_LIMIT,
    NotAMail,
    html_to_text,
    message_id_of,
    normalise_message_id,
    parse_message,
    refusal_of,
    synthetic_message_id,
    trim_body,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def plain_mail(
    *,
    sender: str = "Jan Peeters <jan.peeters@example.be>",
    subject: str = "Offerte voor 20 bureaustoelen",
    body: str = "Goedemorgen,\n\nKunt u ons een offerte sturen voor 20 stoelen?\n",
    message_id: str | None = "<q1-2026@mail.example.be>",
    date: str | None = "Fri, 27 Nov 2026 09:15:00 +0100",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "sales@leadflow.test"
    message["Subject"] = subject
    if message_id is not None:
        message["Message-ID"] = message_id
    if date is not None:
        message["Date"] = date
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def html_mail(**kwargs) -> EmailMessage:
    message = plain_mail(**kwargs)
    message.set_content(
        "<html><head><title>T</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body><p>Hello &amp; welcome,</p>"
        "<div>We need <b>50</b> desks.</div><img src=x onerror=alert(1)></body></html>",
        subtype="html",
    )
    return message


def mail_with_attachments(**kwargs) -> EmailMessage:
    message = plain_mail(**kwargs)
    message.add_alternative("<p>Zie bijlage.</p>", subtype="html")
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="floor-plan.pdf"
    )
    message.add_attachment(
        b"MZ\x90\x00 program",
        maintype="application",
        subtype="octet-stream",
        filename="setup.exe",
    )
    return message


def latin1_mail(**kwargs) -> bytes:
    """A Latin-1, quoted-printable body and an encoded-word subject, as old mailers send."""
    kwargs.setdefault("message_id", "<latin@example.de>")
    return (
        "From: =?iso-8859-1?q?Zo=EB_M=FCller?= <zoe@example.de>\r\n"
        "To: sales@leadflow.test\r\n"
        "Subject: =?utf-8?q?Offerte_f=C3=BCr_St=C3=BChle_=E2=80=93_dringend?=\r\n"
        f"Message-ID: {kwargs['message_id']}\r\n"
        "Date: Thu, 26 Nov 2026 16:00:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="iso-8859-1"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Gr=FC=DFe, wir brauchen =E9=E9n Angebot f=FCr 12 St=FChle.\r\n"
    ).encode("ascii")


def auto_reply(**kwargs) -> EmailMessage:
    kwargs.setdefault("subject", "Out of office: Offerte")
    kwargs.setdefault("message_id", "<ooo-1@example.be>")
    return plain_mail(Auto_Submitted="auto-replied", **kwargs)


# --- Message-ID ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("<Abc.123@Mail.Example.COM>", "Abc.123@mail.example.com"),
        ("  <abc@example.com>  ", "abc@example.com"),
        ("abc@EXAMPLE.com", "abc@example.com"),
        ("<abc\r\n @example.com>", "abc@example.com"),
        ("", ""),
    ],
)
def test_message_ids_are_normalised(header, expected):
    assert normalise_message_id(header) == expected


def test_the_local_part_of_a_message_id_keeps_its_case():
    assert normalise_message_id("<AbC@x.org>") != normalise_message_id("<abc@x.org>")


def test_a_message_without_message_id_is_keyed_by_its_bytes():
    raw = bytes(plain_mail(message_id=None))
    parsed = parse_message(raw, now=NOW)
    assert parsed.message_id == synthetic_message_id(raw)
    assert parsed.message_id.startswith("sha256:")
    assert parse_message(raw, now=NOW).message_id == parsed.message_id


@pytest.mark.parametrize(
    "raw",
    [
        bytes(mail_with_attachments()),
        bytes(plain_mail(message_id=None)),
        bytes(plain_mail(message_id="<X@Y.Z>")).replace(b"\r\n", b"\n"),
        latin1_mail(),
    ],
)
def test_the_key_read_from_the_headers_alone_is_the_parsed_one(raw):
    assert message_id_of(raw) == parse_message(raw, now=NOW).message_id


# --- sender, subject, body -------------------------------------------------------------


def test_a_plain_mail_gives_sender_subject_body_and_date():
    parsed = parse_message(bytes(plain_mail()), now=NOW)
    assert parsed.from_address == "jan.peeters@example.be"
    assert parsed.from_name == "Jan Peeters"
    assert parsed.subject == "Offerte voor 20 bureaustoelen"
    assert parsed.body == (
        "Goedemorgen,\n\nKunt u ons een offerte sturen voor 20 stoelen?"
    )
    assert parsed.received_at == datetime(2026, 11, 27, 8, 15, tzinfo=UTC)
    assert parsed.summary.startswith("Offerte voor 20 bureaustoelen\n\nGoedemorgen,")
    assert parsed.message_id == "q1-2026@mail.example.be"
    assert parsed.automatic == ""


def test_latin1_quoted_printable_and_encoded_words_are_decoded():
    parsed = parse_message(latin1_mail(), now=NOW)
    assert parsed.from_name == "Zoë Müller"
    assert parsed.subject == "Offerte für Stühle – dringend"
    assert parsed.body == "Grüße, wir brauchen één Angebot für 12 Stühle."


def test_a_base64_utf8_body_is_decoded():
    message = plain_mail(body="Prijs in € voor één café?\n")
    message.set_content("Prijs in € voor één café?\n", cte="base64")
    assert b"Prijs" not in bytes(message)  # really base64 on the wire
    assert parse_message(bytes(message), now=NOW).body == "Prijs in € voor één café?"


def test_an_unknown_charset_falls_back_to_latin1_instead_of_failing():
    raw = bytes(plain_mail()).replace(b'charset="utf-8"', b'charset="x-unknown"')
    raw = raw.replace(b"charset=utf-8", b"charset=x-unknown")
    parsed = parse_message(raw, now=NOW)
    assert "offerte" in parsed.body


def test_an_html_only_mail_becomes_text_without_scripts_or_styles():
    parsed = parse_message(bytes(html_mail()), now=NOW)
    assert parsed.body == "Hello & welcome,\n\nWe need 50 desks."
    assert "alert" not in parsed.summary
    assert "color" not in parsed.summary
    assert "<" not in parsed.summary


def test_html_to_text_survives_broken_markup():
    assert "text" in html_to_text("<p>text<div <<>> </p")


def test_quoted_history_and_signature_are_trimmed():
    body = (
        "Graag ook een prijs voor 10 tafels.\n\n"
        "Op 3 november 2026 schreef Sales <sales@leadflow.test>:\n"
        "> Hier is de offerte\n"
        "> voor de stoelen\n"
    )
    assert trim_body(body) == "Graag ook een prijs voor 10 tafels."
    assert trim_body("Vraag\n> quoted\nmeer\n-- \nJan\n+32 470") == "Vraag\nmeer"
    assert trim_body("Hi\n-----Original Message-----\nFrom: x") == "Hi"


def test_the_summary_is_bounded_and_never_empty():
    long = parse_message(bytes(plain_mail(body="x" * 50_000)), now=NOW)
    assert len(long.summary) == SUMMARY_LIMIT
    assert long.summary.endswith("…")
    empty = parse_message(bytes(plain_mail(subject="", body="\n")), now=NOW)
    assert empty.summary == "(no subject)"


def test_a_date_in_the_future_or_missing_becomes_now():
    future = plain_mail(date="Mon, 01 Jan 2035 10:00:00 +0000")
    assert parse_message(bytes(future), now=NOW).received_at == NOW
    assert parse_message(bytes(plain_mail(date=None)), now=NOW).received_at == NOW
    garbage = plain_mail(date="yesterday-ish")
    assert parse_message(bytes(garbage), now=NOW).received_at == NOW


def test_bytes_without_a_from_are_not_a_mail():
    with pytest.raises(NotAMail) as exc:
        parse_message(b"just some text\r\nnot a message\r\n", now=NOW)
    assert exc.value.code == "not_a_mail"
    assert exc.value.status == 400
    with pytest.raises(NotAMail):
        parse_message(b"", now=NOW)


# --- auto-replies and bounces -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, None, "Auto-Submitted: auto-replied"),
        ({"Precedence": "bulk"}, None, "Precedence: bulk"),
        ({"Precedence": "auto_reply"}, None, "Precedence: auto_reply"),
        ({"X_Autoreply": "yes"}, None, "x-autoreply: yes"),
        ({}, "MAILER-DAEMON@mx.example.be", "bounce from MAILER-DAEMON@mx.example.be"),
        ({"Return_Path": "<>"}, None, "bounce (empty Return-Path)"),
    ],
)
def test_automatic_mails_are_recognised(headers, sender, reason):
    kwargs = {"sender": sender} if sender else {}
    parsed = parse_message(bytes(plain_mail(**kwargs, **headers)), now=NOW)
    assert parsed.automatic == reason


def test_auto_submitted_no_and_mailing_lists_are_real_mail():
    # Auto-Submitted: no is a person; Precedence: list is a group alias like sales@.
    assert (
        parse_message(bytes(plain_mail(Auto_Submitted="no")), now=NOW).automatic == ""
    )
    assert parse_message(bytes(plain_mail(Precedence="list")), now=NOW).automatic == ""


# --- attachments -----------------------------------------------------------------------


def test_attachments_are_found_and_the_body_is_not_one():
    parsed = parse_message(bytes(mail_with_attachments()), now=NOW)
    assert [(a.name, a.content_type) for a in parsed.attachments] == [
        ("floor-plan.pdf", "application/pdf"),
        ("setup.exe", "application/octet-stream"),
    ]
    assert parsed.attachments[0].data == PDF
    assert parsed.body.startswith("Goedemorgen")  # text/plain preferred over HTML


def test_attachment_names_cannot_climb_out_of_their_folder():
    message = plain_mail()
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="../../etc/passwd.pdf"
    )
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="..\\..\\win.pdf"
    )
    names = [a.name for a in parse_message(bytes(message), now=NOW).attachments]
    assert names == ["passwd.pdf", "win.pdf"]


def test_a_forwarded_mail_attached_is_kept_as_eml():
    message = plain_mail()
    message.add_attachment(plain_mail(subject="Inner question"))
    parsed = parse_message(bytes(message), now=NOW)
    assert len(parsed.attachments) == 1
    assert parsed.attachments[0].name.endswith(".eml")
    assert b"Inner question" in parsed.attachments[0].data


def test_the_documents_rules_decide_which_attachments_are_kept():
    parsed = parse_message(bytes(mail_with_attachments()), now=NOW)
    pdf, exe = parsed.attachments
    assert refusal_of(pdf, 0) == ""
    assert refusal_of(exe, 1) == "type:.exe"
    assert refusal_of(pdf, 20) == "too_many:20"
    pdf.data = b"0" * (20 * 1024 * 1024 + 1)
    assert refusal_of(pdf, 0) == "too_large:20"
    pdf.data = b""
    assert refusal_of(pdf, 0) == "empty:"
    assert refusal_of(exe.__class__("README", "text/plain", b"x"), 0) == "type:"
