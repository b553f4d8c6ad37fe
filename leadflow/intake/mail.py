"""E-mail intake: a message to the sales mailbox becomes an inquiry, once.

``ingest_message`` is the one entry point for the IMAP poller (``imap.py``) and the
HTTP endpoint (``api_mail.py``). It parses the raw MIME with the standard library,
claims the message's Message-ID (unique in ``InboundMail``, so a second delivery, or
two at once, finds the first and creates nothing), and registers the inquiry through
``register_inquiry`` on channel ``email``: sender → contact (looked up by e-mail, a
new sender becomes a contact), subject and body → summary, attachments → files on
the inquiry (the documents' type allowlist and size limit; a refused file is listed
as not kept). Auto-replies and bounces are recorded as ignored; a mail that cannot
become an inquiry is recorded as failed with its raw bytes and the reason.
"""

import hashlib
import html
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.audit.actions import record_event
from leadflow.contacts.actions import ContactData
from leadflow.core.errors import DomainError, ValidationFailed
from leadflow.intake.actions import InquiryInput, register_inquiry
from leadflow.intake.models import (
    InboundMail,
    InquiryAttachment,
    MailSource,
    MailStatus,
)
from leadflow.opportunities.actions import DOCUMENT_EXTENSIONS, MAX_DOCUMENT_BYTES

logger = logging.getLogger(__name__)

EMAIL_CHANNEL = "email"  # intake migration 0003
# A mail larger than this is refused (HTTP 413; the poller records it as failed).
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
SUMMARY_LIMIT = 4_000  # characters of subject + body kept as the inquiry's summary
MAX_ATTACHMENTS = 20  # more files than this in one mail are listed as not kept
MAX_BODY_CHARS = 200_000  # of a body read before trimming (HTML markup included)
NO_SUBJECT = _("(no subject)")
AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk"}
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}


def max_mail_bytes() -> int:
    return int(getattr(settings, "LEADFLOW_MAIL_MAX_BYTES", DEFAULT_MAX_BYTES))


class NotAMail(ValidationFailed):
    """The bytes are not an e-mail message we can read (no usable From)."""

    status = 400
    code = "not_a_mail"


class MailTooLarge(ValidationFailed):
    status = 413
    code = "too_large"


# --- parsing (pure: no database) ----------------------------------------------------


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    received_at: datetime
    from_address: str
    from_name: str
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    automatic: str = ""  # why it is an auto-reply or bounce ("" for a real mail)
    size: int = 0

    @property
    def summary(self) -> str:
        return summary_of(self.subject, self.body)


def normalise_message_id(value: str | None) -> str:
    """``<Abc@Example.COM>`` → ``Abc@example.com`` (the domain part is case-insensitive)."""
    text = re.sub(r"\s+", "", str(value or ""))
    match = re.search(r"<([^<>]+)>", text)
    text = (match.group(1) if match else text).strip("<>")
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    text = f"{local}@{domain.lower()}" if at else text
    if len(text) > 200:
        # Keeps the column bounded; the same long id always gives the same key.
        text = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def message_id_of(raw: bytes) -> str:
    """The key of a raw message from its headers only (cheap: a re-delivery of a big
    mail is recognised without decoding its body and attachments)."""
    blank = _END_OF_HEADERS.search(raw)
    head = raw[: blank.end()] if blank else raw
    headers = BytesHeaderParser(policy=policy.default).parsebytes(head)
    return normalise_message_id(_header(headers, "message-id")) or (
        synthetic_message_id(raw)
    )


def synthetic_message_id(raw: bytes) -> str:
    """A message without Message-ID: the same bytes delivered again give the same key."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class _TextExtractor(HTMLParser):
    """Text of an HTML body: tags dropped, script/style skipped, blocks on new lines.

    Python's HTMLParser only tokenises; nothing in the HTML is fetched or executed.
    """

    BLOCKS = {
        "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "ul", "ol", "blockquote", "hr", "section", "article",
    }  # fmt: skip
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # a broken document: fall back to dropping anything tag-like
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (
        re.sub(r"[ \t\xa0]+", " ", line).strip()
        for line in "".join(parser.parts).splitlines()
    )
    return "\n".join(lines)


_REPLY_HEADER = re.compile(
    r"^(-{2,}\s*(original message|oorspronkelijk bericht)\s*-{2,}"
    r"|on .{1,200} wrote:|op .{1,200} schreef .{0,100}:)\s*$",
    re.IGNORECASE,
)


def trim_body(text: str) -> str:
    """The new part of a message: quoted lines, reply history and signature removed."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line in ("-- ", "--") or _REPLY_HEADER.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    body = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", body)


def summary_of(subject: str, body: str) -> str:
    text = subject.strip() or str(NO_SUBJECT)
    if body.strip():
        text = f"{text}\n\n{body.strip()}"
    if len(text) > SUMMARY_LIMIT:
        text = text[: SUMMARY_LIMIT - 1].rstrip() + "…"
    return text


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        # Unknown or wrong charset: Latin-1 never fails and keeps every byte.
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("latin-1", errors="replace")
    return content if isinstance(content, str) else ""


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError, TypeError):  # a malformed header
        value = None
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def _sender(message: EmailMessage) -> tuple[str, str]:
    try:
        header = message.get("from")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except (IndexError, ValueError, TypeError):
        addresses = ()
    for address in addresses:
        if address.addr_spec and "@" in address.addr_spec:
            return address.addr_spec.strip(), (address.display_name or "").strip()
    name, addr = parseaddr(_header(message, "from"))
    return addr.strip(), name.strip()


def _date(message: EmailMessage, now: datetime) -> datetime:
    try:
        header = message.get("date")
        when = getattr(header, "datetime", None) if header is not None else None
    except (IndexError, ValueError, TypeError, OverflowError):
        when = None
    if when is None:
        return now
    if timezone.is_naive(when):
        when = when.replace(tzinfo=UTC)  # "-0000": the sender's zone is unknown
    return min(when, now)  # a sender's clock ahead of ours is not "the future"


def _automatic(message: EmailMessage, from_address: str) -> str:
    auto = _header(message, "auto-submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "precedence").lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if _header(message, name):
            return f"{name}: {_header(message, name)}"
    if from_address.partition("@")[0].lower() in BOUNCE_SENDERS:
        return f"bounce from {from_address}"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if _header(message, "return-path") == "<>":
        return "bounce (empty Return-Path)"
    return ""


def _safe_name(name: str, fallback: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".") or fallback
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name


def _attachments(message: EmailMessage, body_part) -> list[Attachment]:
    found: list[Attachment] = []

    def visit(part: EmailMessage) -> None:
        if part is body_part:
            return
        content_type = part.get_content_type()
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if content_type == "message/rfc822" and (filename or disposition):
            # A forwarded mail attached as a file: kept as an .eml.
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
            found.append(
                Attachment(
                    _safe_name(filename or "", "forwarded.eml"), content_type, data
                )
            )
            return
        if part.is_multipart():
            for sub in part.iter_parts():
                visit(sub)
            return
        if not filename and disposition != "attachment":
            return  # an alternative body or an inline part without a name
        data = part.get_payload(decode=True) or b""
        found.append(
            Attachment(_safe_name(filename or "", "attachment"), content_type, data)
        )

    visit(message)
    return found


def parse_message(raw: bytes, *, now: datetime | None = None) -> ParsedMail:
    """Read a raw RFC 5322 message; NotAMail when there is no usable sender."""
    now = now or timezone.now()
    if not raw or not raw.strip():
        raise NotAMail(_("The message is empty."))
    message = message_from_bytes(raw, policy=policy.default)
    from_address, from_name = _sender(message)
    if not from_address or "@" not in from_address:
        raise NotAMail(_("This is not an e-mail message: it has no From address."))
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        # The summary keeps 4,000 characters: no need to read a huge body whole.
        text = _text_of(body_part)[:MAX_BODY_CHARS]
        if body_part.get_content_type() == "text/html":
            text = html_to_text(text)
        body = trim_body(text)
    return ParsedMail(
        message_id=message_id_of(raw),
        received_at=_date(message, now),
        from_address=from_address[:254],
        from_name=from_name[:200],
        subject=_header(message, "subject")[:300],
        body=body,
        attachments=_attachments(message, body_part),
        automatic=_automatic(message, from_address),
        size=len(raw),
    )


def refusal_of(attachment: Attachment, index: int) -> str:
    """Why an attachment is not kept, as ``code:value`` ("" when it is kept), by the
    documents' rules; ``InquiryAttachment.not_kept_text`` words it in the reader's
    language."""
    if index >= MAX_ATTACHMENTS:
        return f"too_many:{MAX_ATTACHMENTS}"
    if not attachment.data:
        return "empty:"
    if len(attachment.data) > MAX_DOCUMENT_BYTES:
        return f"too_large:{MAX_DOCUMENT_BYTES // (1024 * 1024)}"
    extension = os.path.splitext(attachment.name)[1].lower()
    if extension not in DOCUMENT_EXTENSIONS:
        return f"type:{extension}"
    return ""


# --- ingesting (one transaction) -----------------------------------------------------


def _contact_data(parsed: ParsedMail) -> ContactData:
    name = parsed.from_name or parsed.from_address.partition("@")[0]
    return ContactData(name=name[:200], email=parsed.from_address)


def _valid_sender(address: str) -> bool:
    try:
        validate_email(address)
    except Exception:
        return False
    return True


def _store_attachments(inquiry, parsed: ParsedMail) -> tuple[int, int]:
    kept = refused = 0
    for index, attachment in enumerate(parsed.attachments):
        reason = refusal_of(attachment, index)
        row = InquiryAttachment(
            inquiry=inquiry,
            name=attachment.name,
            size=len(attachment.data),
            content_type=attachment.content_type[:100],
            not_kept_reason=reason[:300],
        )
        if reason:
            refused += 1
        else:
            row.file.save(attachment.name, ContentFile(attachment.data), save=False)
            kept += 1
        row.save()
    return kept, refused


def _process(mail: InboundMail, parsed: ParsedMail, raw: bytes, actor) -> None:
    """Turn a claimed mail into an inquiry, or record why not (in ``mail``)."""
    if parsed.automatic:
        mail.status = MailStatus.IGNORED
        mail.error = parsed.automatic[:500]
        mail.save(update_fields=["status", "error"])
        record_event(
            actor=actor,
            subject=mail,
            event_type="mail.ignored",
            new={"message_id": mail.message_id, "reason": mail.error},
        )
        return
    try:
        with transaction.atomic():
            if not _valid_sender(parsed.from_address):
                raise ValidationFailed(
                    _("The sender's address %(address)s is not valid."),
                    code="invalid_email",
                    address=parsed.from_address,
                )
            inquiry = register_inquiry(
                InquiryInput(
                    summary=parsed.summary,
                    channel=EMAIL_CHANNEL,
                    contact=_contact_data(parsed),
                    received_at=parsed.received_at,
                    extra={"inbound_mail": mail.pk, "source": mail.source},
                ),
                actor=actor,
            )
            kept, refused = _store_attachments(inquiry, parsed)
            mail.inquiry = inquiry
            mail.status = MailStatus.PROCESSED
            mail.error = ""
            mail.save(update_fields=["inquiry", "status", "error"])
            record_event(
                actor=actor,
                subject=inquiry,
                event_type="inquiry.mail_received",
                new={
                    "inbound_mail": mail.pk,
                    "message_id": mail.message_id,
                    "from": parsed.from_address,
                    "attachments_kept": kept,
                    "attachments_not_kept": refused,
                },
            )
    except DomainError as exc:
        _record_failure(mail, raw, str(exc), actor)


def _record_failure(mail: InboundMail, raw: bytes, error: str, actor) -> None:
    mail.status = MailStatus.FAILED
    mail.error = error[:2000]
    if not mail.raw:
        mail.raw.save(f"{mail.pk}.eml", ContentFile(raw), save=False)
    mail.save(update_fields=["status", "error", "raw"])
    record_event(
        actor=actor,
        subject=mail,
        event_type="mail.failed",
        new={"message_id": mail.message_id, "error": mail.error},
    )
    logger.warning("mail %s not registered: %s", mail.message_id, error)


def _known(message_id: str) -> InboundMail | None:
    return InboundMail.objects.filter(message_id=message_id).first()


def ingest_message(
    raw: bytes, *, source: str, actor: User | None
) -> tuple[InboundMail, bool]:
    """Register the mail as an inquiry once; a known Message-ID returns the first result.

    Returns ``(mail, created)``. Raises NotAMail (no From) or MailTooLarge without
    writing anything. Two deliveries at once: the unique Message-ID lets one insert
    win; the other rolls back and returns the winner's row.
    """
    if source not in MailSource.values:
        raise ValueError(f"unknown mail source {source!r}")
    if len(raw) > max_mail_bytes():
        raise MailTooLarge(
            _("The message is larger than %(max)d bytes."), max=max_mail_bytes()
        )
    existing = _known(message_id_of(raw))
    if existing is not None:
        return existing, False
    parsed = parse_message(raw)
    actor = actor if actor is not None and actor.is_authenticated else None
    try:
        with transaction.atomic():
            # Claim the Message-ID first: a concurrent delivery waits on (PostgreSQL)
            # or is serialised behind (SQLite) this insert and then fails it.
            mail = InboundMail.objects.create(
                message_id=parsed.message_id,
                received_at=parsed.received_at,
                from_address=parsed.from_address,
                from_name=parsed.from_name,
                subject=parsed.subject,
                status=MailStatus.FAILED,
                error="processing",
                source=source,
                raw_size=parsed.size,
            )
            _process(mail, parsed, raw, actor)
    except IntegrityError:
        existing = _known(parsed.message_id)
        if existing is None:
            raise
        return existing, False
    return mail, True


def record_unreadable(
    raw: bytes, *, source: str, error: str, actor: User | None = None
) -> InboundMail:
    """Keep a message that could not be registered (no From, too large, a crash) as
    failed, under its Message-ID when it has a readable one (else its bytes' hash), so
    the poller can flag it, a re-delivery finds it, and nothing is lost."""
    try:
        message_id = message_id_of(raw)
    except Exception:  # not even headers: the hash of its bytes is all there is
        message_id = synthetic_message_id(raw)
    existing = _known(message_id)
    if existing is not None:
        return existing
    with transaction.atomic():
        mail = InboundMail.objects.create(
            message_id=message_id,
            received_at=timezone.now(),
            status=MailStatus.FAILED,
            error=error[:2000],
            source=source,
            raw_size=len(raw),
        )
        _record_failure(mail, raw, error, actor)
    return mail


def retry_failed(mail: InboundMail, *, actor: User | None) -> InboundMail:
    """Try a failed mail again from its kept raw bytes (e.g. after a fix)."""
    if mail.status != MailStatus.FAILED or not mail.raw:
        return mail
    with mail.raw.open("rb") as handle:
        raw = handle.read()
    parsed = parse_message(raw)
    with transaction.atomic():
        locked = InboundMail.objects.select_for_update().get(pk=mail.pk)
        if locked.status != MailStatus.FAILED:
            return locked
        _process(locked, parsed, raw, actor)
    return locked
