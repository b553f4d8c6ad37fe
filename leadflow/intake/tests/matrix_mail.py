"""Permission-matrix rows of e-mail intake (merged by core/tests/test_permission_matrix).

An inquiry that came in by e-mail (nobody took it in: no salesperson or colleague
sees it) with a kept PDF attachment. Forwarding a mail is registering an inquiry:
every role may (``inquiry.register``); the minimal JSON body answers 415.
"""

from leadflow.intake.mail import ingest_message
from leadflow.intake.tests.test_mail_parse import mail_with_attachments

PAGES = {
    "inquiry_attachment_download": (
        "GET",
        "/inquiries/attachments/{mail_attachment}/",
    ),
}

# Columns: admin inside rep outsider director marketer colleague anonymous.
PAGE_MATRIX = {
    "inquiry_attachment_download": "ok    ok    404   404   ok    ok    404   login",
}

API_MATRIX = {
    "POST /api/intake/mail": "ok    ok    ok    ok    ok    ok    ok    401",
}


def build(users) -> dict:
    raw = bytes(mail_with_attachments(message_id="<matrix@example.be>"))
    mail, _created = ingest_message(raw, source="imap", actor=None)
    attachment = mail.inquiry.attachments.get(name="floor-plan.pdf")
    return {"mail_attachment": attachment.pk}
