"""POST /api/intake/mail: a raw e-mail forwarded by a mail service becomes an inquiry.

The body is the message itself (``Content-Type: message/rfc822``), or a
``multipart/form-data`` form with the message in the field ``message`` (a file or a
text field) as some forwarding services send it. The same Message-ID twice registers
once: 201 the first time, 200 with the first answer (``created: false``) after.
"""

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from leadflow.accounts.permissions import require
from leadflow.api.schemas import ErrorOut
from leadflow.core.errors import DomainError
from leadflow.intake.mail import MailTooLarge, ingest_message, max_mail_bytes
from leadflow.intake.models import InboundMail, MailSource

router = Router(tags=["intake"])
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ErrorOut,
}
RAW_TYPE = "message/rfc822"
FORM_TYPE = "multipart/form-data"
MAIL_PATH = "/api/intake/mail"  # the API middleware leaves this body to this view


class UnsupportedMailType(DomainError):
    status = 415
    code = "unsupported_media_type"
    default_message = _(
        "Send the e-mail as Content-Type: message/rfc822 (or multipart/form-data "
        "with a field named message)."
    )


class MailOut(Schema):
    id: int
    inquiry_id: int | None
    status: str
    created: bool
    error: str = ""


def _too_large() -> MailTooLarge:
    return MailTooLarge(
        _("The message is larger than %(max)d bytes."), max=max_mail_bytes()
    )


def _raw_body(request) -> bytes:
    """The message bytes, read from the stream with the size limit (never whole
    into memory when the declared length is already too large)."""
    limit = max_mail_bytes()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    if request.content_type == FORM_TYPE:
        try:
            upload = request.FILES.get("message")
        except RequestDataTooBig:  # a text field over DATA_UPLOAD_MAX_MEMORY_SIZE
            raise _too_large() from None
        if upload is not None:
            if upload.size > limit:
                raise _too_large()
            return upload.read()
        return (request.POST.get("message") or "").encode("utf-8")
    data = request.read(limit + 1)
    if len(data) > limit:
        raise _too_large()
    return data


def _out(mail: InboundMail, created: bool) -> dict:
    return {
        "id": mail.pk,
        "inquiry_id": mail.inquiry_id,
        "status": mail.status,
        "created": created,
        "error": mail.error,
    }


@router.post(
    "/intake/mail",
    response={200: MailOut, 201: MailOut, **ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                RAW_TYPE: {"schema": {"type": "string", "format": "binary"}},
                FORM_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "message": {"type": "string", "format": "binary"}
                        },
                        "required": ["message"],
                    }
                },
            },
        }
    },
)
def receive_mail(request):
    """Register a forwarded e-mail (raw MIME) as an inquiry on channel e-mail, once per
    Message-ID; auto-replies and bounces are recorded as ignored, a mail that cannot
    become an inquiry as failed (with the reason in ``error``)."""
    require(request.auth, "inquiry.register")
    if request.content_type not in (RAW_TYPE, FORM_TYPE):
        raise UnsupportedMailType()
    mail, created = ingest_message(
        _raw_body(request), source=MailSource.HTTP, actor=request.auth
    )
    return Status(201 if created else 200, _out(mail, created))
