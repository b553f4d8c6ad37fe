"""Public inquiry forms per campaign: their rules, the spam checks and the rate limit.

A submission becomes an inquiry through ``intake.actions.register_inquiry`` (channel
"web form", the form's campaign and department, prompted, received by nobody), and a
ticked consent box through ``marketing.actions.record_consent``. The page code in
``views_webforms.py`` only parses, calls ``submit`` and renders. Why the POST is
CSRF-exempt and guarded by a signed token instead: docs/adr/0011-public-web-form.md.
"""

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department, User
from leadflow.accounts.permissions import require
from leadflow.audit.actions import changed_fields, record_event
from leadflow.contacts.actions import ContactData
from leadflow.contacts.models import Consent
from leadflow.core.errors import Conflict, DomainError, ValidationFailed
from leadflow.core.text import fold, normalise_email
from leadflow.core.visitors import client_ip, hash_ip  # noqa: F401
from leadflow.intake.actions import InquiryInput, register_inquiry
from leadflow.intake.models import Campaign, Channel, Inquiry
from leadflow.marketing.actions import record_consent
from leadflow.marketing.models import WebForm, WebFormAttempt

logger = logging.getLogger(__name__)

CAPABILITY = "marketing.manage"
CHANNEL = "web_form"
TOKEN_SALT = "leadflow.marketing.webform"
# A person needs more than a couple of seconds to fill in a form; a bot does not.
DEFAULT_MIN_SECONDS = 2
MAX_TOKEN_AGE = timedelta(hours=24)
DUPLICATE_WINDOW = timedelta(minutes=10)
RATE_WINDOW = timedelta(hours=1)
ATTEMPTS_KEPT = timedelta(days=1)
DEFAULT_RATE_PER_HOUR = 5
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
MAX_ORIGINS = 20

# One origin per line: scheme, host (optionally "*." for any subdomain) and port;
# nothing that could add a second directive to the CSP header.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
ORIGIN_RE = re.compile(rf"^https?://(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- errors ----------------------------------------------------------------------------


class TokenRejected(ValidationFailed):
    """The form's signed token is missing, forged, expired or too young (HTTP 400)."""

    status = 400
    code = "token_invalid"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _(
        "We received several forms from your address in the last hour. "
        "Please try again later, or phone us."
    )


def _on_field(error: DomainError, name: str) -> DomainError:
    """Name the form field an error belongs to (shown next to it on the page)."""
    error.field = name
    return error


# --- settings ----------------------------------------------------------------------------


def rate_per_hour() -> int:
    """Submissions per hour from one address to one form."""
    return int(
        getattr(settings, "LEADFLOW_WEBFORM_RATE_PER_HOUR", DEFAULT_RATE_PER_HOUR)
    )


def rate_per_hour_all_forms() -> int:
    """Submissions per hour from one address to all forms together."""
    return int(
        getattr(
            settings, "LEADFLOW_WEBFORM_RATE_PER_HOUR_ALL_FORMS", 4 * rate_per_hour()
        )
    )


def min_seconds() -> float:
    return float(getattr(settings, "LEADFLOW_WEBFORM_MIN_SECONDS", DEFAULT_MIN_SECONDS))


# --- the signed form token ----------------------------------------------------------------


def issue_token(web_form: WebForm, *, now: float | None = None) -> str:
    """A token naming the form and the time the page was rendered, signed."""
    stamp = round(time.time() if now is None else now, 3)
    return signing.dumps({"f": web_form.slug, "t": stamp}, salt=TOKEN_SALT)


def check_token(web_form: WebForm, token: str, *, now: float | None = None) -> float:
    """The token's age in seconds; TokenRejected unless it is this form's, signed by
    us, at least ``min_seconds()`` and at most 24 hours old."""
    if not token:
        raise TokenRejected(
            _("This form could not be checked. Please send it again."),
            code="token_missing",
        )
    try:
        data = signing.loads(token[:500], salt=TOKEN_SALT)
        slug, stamp = data["f"], float(data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise TokenRejected(
            _("This form could not be checked. Please send it again."),
            code="token_forged",
        ) from None
    if slug != web_form.slug:
        raise TokenRejected(
            _("This form could not be checked. Please send it again."),
            code="token_forged",
        )
    age = (time.time() if now is None else now) - stamp
    if age > MAX_TOKEN_AGE.total_seconds():
        raise TokenRejected(
            _("This page was open for more than a day. Please check and send again."),
            code="token_expired",
        )
    if age < min_seconds():
        raise TokenRejected(
            _("That was very quick. Please check your details and send again."),
            code="token_too_fast",
        )
    return age


# --- who is sending ----------------------------------------------------------------------


# ``client_ip`` and ``hash_ip`` live in ``leadflow.core.visitors`` (shared with the
# unsubscribe page and the calendar feed); imported here for this module's callers.


# --- cleaning what the visitor sent --------------------------------------------------------


def clean_short(value: str | None, *, limit: int = 100) -> str:
    """One line of text from a hidden field: no control characters, cut to ``limit``."""
    return " ".join(_CONTROL.sub(" ", value or "").split())[:limit]


def clean_referrer(value: str | None) -> str:
    """Only an http(s) address is a referring page; anything else is dropped."""
    text = clean_short(value, limit=200)
    return text if re.match(r"^https?://[^\s/]+", text, re.IGNORECASE) else ""


def compose_summary(question: str, web_form: WebForm, utm: dict[str, str]) -> str:
    """The question, then a labelled block with the campaign parameters (ADR 0011)."""
    question = (question or "").strip()
    lines = [f"{name}: {value}" for name, value in utm.items() if value]
    if not lines:
        return question
    return "\n".join([question, "", f"-- web form {web_form.slug} --", *lines])


def fingerprint(web_form: WebForm, email: str, question: str) -> str:
    text = f"{web_form.pk}|{normalise_email(email)}|{fold(question)}"
    return hashlib.sha256(text.encode()).hexdigest()


# --- managing forms (marketing, admin) ----------------------------------------------------


def clean_origins(text: str | None) -> str:
    """One origin per line (``https://www.example.be``); a wrong line is refused."""
    origins: list[str] = []
    for raw in (text or "").splitlines():
        line = raw.strip().rstrip("/").lower()
        if not line:
            continue
        if not ORIGIN_RE.match(line):
            raise _on_field(
                ValidationFailed(
                    _(
                        "%(value)r is not a site address. Write one per line, like "
                        "https://www.example.be (no path)."
                    ),
                    code="invalid_origin",
                    value=raw.strip()[:100],
                ),
                "allowed_origins",
            )
        if line not in origins:
            origins.append(line)
    if len(origins) > MAX_ORIGINS:
        raise _on_field(
            ValidationFailed(
                _("At most %(n)s sites may embed one form."),
                code="too_many_origins",
                n=MAX_ORIGINS,
            ),
            "allowed_origins",
        )
    return "\n".join(origins)


def frame_ancestors(web_form: WebForm) -> list[str]:
    """The origins allowed to frame the form (checked again: it goes into a header)."""
    return [o for o in web_form.origins if ORIGIN_RE.match(o)]


EDITABLE = (
    "campaign",
    "slug",
    "title",
    "intro",
    "thank_you",
    "department",
    "consent_text",
    "allowed_origins",
)


def _clean_values(values: dict) -> dict:
    out = dict(values)
    if "slug" in out:
        slug = (out["slug"] or "").strip().lower()
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) or len(slug) > 60:
            raise _on_field(
                ValidationFailed(
                    _("The address uses lower-case letters, digits and dashes only."),
                    code="invalid_slug",
                ),
                "slug",
            )
        out["slug"] = slug
    if "title" in out:
        out["title"] = " ".join((out["title"] or "").split())[:200]
        if not out["title"]:
            raise _on_field(
                ValidationFailed(_("Give the form a title."), code="title_required"),
                "title",
            )
    for name in ("intro", "thank_you", "consent_text"):
        if name in out:
            out[name] = (out[name] or "").strip()[:5000]
    if "allowed_origins" in out:
        out["allowed_origins"] = clean_origins(out["allowed_origins"])
    if "campaign" in out and not isinstance(out["campaign"], Campaign):
        raise _on_field(
            ValidationFailed(_("Choose the campaign."), code="campaign_required"),
            "campaign",
        )
    if out.get("department") is not None and not isinstance(
        out["department"], Department
    ):
        raise ValidationFailed(_("Unknown department."), code="unknown_department")
    return out


def _slug_taken(slug: str, *, exclude: int | None = None) -> bool:
    return WebForm.objects.filter(slug=slug).exclude(pk=exclude).exists()


def _slug_error() -> ValidationFailed:
    return _on_field(
        ValidationFailed(
            _("Another form already uses this address."), code="slug_taken"
        ),
        "slug",
    )


def _audit_values(values: dict) -> dict:
    return {k: (v.pk if hasattr(v, "pk") else v) for k, v in values.items()}


@transaction.atomic
def create_webform(*, actor: User | None, **values) -> WebForm:
    """A new public form for a campaign; audited."""
    unknown = set(values) - set(EDITABLE) - {"is_active"}
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be set: %(fields)s"),
            fields=", ".join(sorted(unknown)),
        )
    values.setdefault("department", None)
    values = _clean_values({"intro": "", "thank_you": "", **values})
    if _slug_taken(values["slug"]):
        raise _slug_error()
    web_form = WebForm.objects.create(
        **values, created_by=actor if actor and actor.is_authenticated else None
    )
    record_event(
        actor=actor,
        subject=web_form,
        event_type="web_form.created",
        new=_audit_values(values),
    )
    return web_form


@transaction.atomic
def update_webform(
    web_form: WebForm, *, actor: User | None, version: int, **changes
) -> WebForm:
    """Change a form; someone else's save in between is a conflict (stale version)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %(fields)s"),
            fields=", ".join(sorted(unknown)),
        )
    locked = WebForm.objects.select_for_update().get(pk=web_form.pk)
    if locked.version != version:
        raise Conflict(code="stale_version")
    changes = _clean_values(changes)
    if "slug" in changes and _slug_taken(changes["slug"], exclude=locked.pk):
        raise _slug_error()
    old, new = changed_fields(locked, changes)
    if not new:
        return locked
    for key, value in new.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save(update_fields=[*new, "version", "updated_at"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="web_form.updated",
        old=_audit_values(old),
        new=_audit_values(new),
    )
    return locked


@transaction.atomic
def set_webform_active(
    web_form: WebForm, *, actor: User | None, active: bool
) -> WebForm:
    """Switch a form off (its page answers 404) or on again; audited."""
    locked = WebForm.objects.select_for_update().get(pk=web_form.pk)
    if locked.is_active == active:
        return locked
    locked.is_active = active
    locked.version += 1
    locked.save(update_fields=["is_active", "version", "updated_at"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="web_form.activated" if active else "web_form.deactivated",
        old={"is_active": not active},
        new={"is_active": active},
    )
    return locked


# --- reading -----------------------------------------------------------------------------


def webforms_for_user(user: User) -> QuerySet[WebForm]:
    require(user, CAPABILITY)
    return WebForm.objects.select_related("campaign", "department").order_by(
        "-is_active", "title", "id"
    )


def get_webform_for_user(user: User, form_id: int) -> WebForm:
    return get_object_or_404(webforms_for_user(user), pk=form_id)


def get_public_webform(slug: str) -> WebForm:
    """An active form by its address; anything else is a 404 for the public."""
    return get_object_or_404(
        WebForm.objects.select_related("campaign"), slug=slug, is_active=True
    )


def embed_url(web_form: WebForm) -> str:
    base = str(getattr(settings, "LEADFLOW_BASE_URL", "")).rstrip("/")
    return f"{base}/forms/{web_form.slug}/"


# --- a submission ------------------------------------------------------------------------


@dataclass
class Submission:
    """What the public form sent (already parsed by the Django form)."""

    name: str
    email: str
    question: str
    token: str
    phone: str = ""
    company: str = ""
    consent: bool = False
    honeypot: str = ""
    referrer: str = ""
    utm: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    outcome: str
    inquiry: Inquiry | None = None


def submit(
    web_form: WebForm, data: Submission, *, ip: str, now: datetime | None = None
) -> Result:
    """Turn one POST into at most one inquiry.

    Order of the checks: rate limit (429, nothing stored), honeypot (pretend
    success, nothing registered), token (400), duplicate within 10 minutes (the
    earlier inquiry), then register the inquiry and, when ticked, the consent. Every
    attempt that passes the rate limit leaves a WebFormAttempt row, which is what the
    limit counts, so it holds across app processes.
    """
    now = now or timezone.now()
    ip_key = hash_ip(ip)
    error: DomainError | None = None
    with transaction.atomic():
        # Serialise the submissions of one form: the count and the insert below
        # cannot interleave with another process's.
        web_form = WebForm.objects.select_for_update().get(pk=web_form.pk)
        WebFormAttempt.objects.filter(at__lt=now - ATTEMPTS_KEPT).delete()
        _check_rate(web_form, ip_key, now)

        def attempt(outcome: str, **extra) -> WebFormAttempt:
            return WebFormAttempt.objects.create(
                web_form=web_form, ip_hash=ip_key, at=now, outcome=outcome, **extra
            )

        if data.honeypot.strip():
            attempt(WebFormAttempt.Outcome.HONEYPOT)
            logger.warning(
                "web form %s: honeypot filled, nothing registered", web_form.slug
            )
            return Result(WebFormAttempt.Outcome.HONEYPOT)
        try:
            check_token(web_form, data.token, now=now.timestamp())
        except TokenRejected as exc:
            outcome = (
                WebFormAttempt.Outcome.TOO_FAST
                if exc.code == "token_too_fast"
                else WebFormAttempt.Outcome.BAD_TOKEN
            )
            attempt(outcome)
            logger.info("web form %s: %s", web_form.slug, exc.code)
            error = exc
        else:
            result = _register(web_form, data, now=now, attempt=attempt)
            if isinstance(result, DomainError):
                error = result
            else:
                return result
    raise error


def _check_rate(web_form: WebForm, ip_key: str, now: datetime) -> None:
    recent = WebFormAttempt.objects.filter(ip_hash=ip_key, at__gte=now - RATE_WINDOW)
    if recent.filter(web_form=web_form).count() >= rate_per_hour():
        logger.warning("web form %s: rate limit reached", web_form.slug)
        raise RateLimited()
    if recent.count() >= rate_per_hour_all_forms():
        logger.warning("web forms: rate limit over all forms reached")
        raise RateLimited()


def _register(web_form: WebForm, data: Submission, *, now: datetime, attempt):
    print_ = fingerprint(web_form, data.email, data.question)
    earlier = (
        WebFormAttempt.objects.filter(
            web_form=web_form,
            fingerprint=print_,
            outcome=WebFormAttempt.Outcome.ACCEPTED,
            at__gte=now - DUPLICATE_WINDOW,
        )
        .filter(~Q(inquiry=None))
        .select_related("inquiry")
        .order_by("-at", "-id")
        .first()
    )
    if earlier is not None:
        attempt(
            WebFormAttempt.Outcome.DUPLICATE,
            fingerprint=print_,
            inquiry=earlier.inquiry,
        )
        return Result(WebFormAttempt.Outcome.DUPLICATE, earlier.inquiry)
    utm = {name: clean_short(data.utm.get(name)) for name in UTM_FIELDS}
    try:
        with transaction.atomic():
            inquiry = register_inquiry(
                InquiryInput(
                    summary=compose_summary(data.question, web_form, utm),
                    channel=_web_form_channel(),
                    contact=ContactData(
                        name=data.name.strip(),
                        email=data.email.strip(),
                        phone=data.phone.strip(),
                        company_name=data.company.strip(),
                    ),
                    campaign=web_form.campaign,
                    referrer=clean_referrer(data.referrer),
                    prompted=True,
                    received_by=None,
                    department=web_form.department,
                    extra={
                        "web_form": web_form.slug,
                        "web_form_version": web_form.version,
                        **{k: v for k, v in utm.items() if v},
                        "consent_ticked": data.consent,
                    },
                ),
                actor=None,
            )
            if data.consent:
                _grant_consent(inquiry, web_form)
    except DomainError as exc:
        attempt(WebFormAttempt.Outcome.INVALID)
        return exc
    attempt(WebFormAttempt.Outcome.ACCEPTED, fingerprint=print_, inquiry=inquiry)
    return Result(WebFormAttempt.Outcome.ACCEPTED, inquiry)


def _web_form_channel() -> Channel | str:
    """The "web form" channel, also when an admin switched it off for the manual
    register form: an inquiry from a public form is never lost over it."""
    return Channel.objects.filter(code=CHANNEL).first() or CHANNEL


def _grant_consent(inquiry: Inquiry, web_form: WebForm) -> None:
    """A ticked box grants marketing consent, except over an earlier opt-out: anyone
    can type anyone's address, so only the person's own unsubscribe decides that."""
    contact = inquiry.contact
    if contact.marketing_consent == Consent.OPTED_OUT:
        logger.info(
            "web form %s: consent ticked for an opted-out contact, kept opted out",
            web_form.slug,
        )
        return
    record_consent(
        contact,
        actor=None,
        consent=Consent.GRANTED,
        reason=f"web form {web_form.slug}",
    )
