"""Signed unsubscribe links: one per contact, valid without expiry, bound to the
address the mailing went to.

The token is ``<contact id in base 62>.<signature>``: an HMAC (``django.core.signing``,
a salt of its own) over the id and the contact's normalised e-mail address. Changing
the id breaks the signature, so a link for contact A never opts out contact B; a
changed or erased address makes old links invalid (the mail went to someone else).
No table is needed. See docs/adr/0014-marketing-export-unsubscribe.md.
"""

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact
from leadflow.core.visitors import client_ip, hash_ip
from leadflow.marketing.actions import record_consent

SALT = "leadflow.marketing.unsubscribe"
# 22 characters of URL-safe base64: 132 bits of the HMAC-SHA256 (short links).
SIGNATURE_LENGTH = 22
# Stored on the consent audit row; contacts.queries.consent_history names it.
REASON = "unsubscribe link"
# RFC 8058: what a mail client posts for one-click unsubscribe.
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
# contacts.privacy.ERASED_EVENT (privacy sits above marketing: not imported here).
ERASED_EVENT = "contact.erased"
# Requests per client address per minute on the public pages (a light brake).
RATE_LIMIT = 60
RATE_WINDOW = 60

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _b62(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 62)
        out = _DIGITS[rest] + out
        if not number:
            return out


def _from_b62(text: str) -> int | None:
    if not text or len(text) > 12:
        return None
    number = 0
    for ch in text:
        index = _DIGITS.find(ch)
        if index < 0:
            return None
        number = number * 62 + index
    return number


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def _signature(
    contact_id: int, email_key: str, *, signer: signing.Signer | None = None, key=None
) -> str:
    value = f"{contact_id}:{email_key}"
    return (signer or _signer()).signature(value, key=key)[:SIGNATURE_LENGTH]


def make_token(
    contact_id: int, email_key: str, *, signer: signing.Signer | None = None
) -> str:
    signature = _signature(contact_id, email_key, signer=signer)
    return f"{_b62(contact_id)}.{signature}"


def token_for(contact: Contact) -> str:
    return make_token(contact.pk, contact.email_key)


def url_maker() -> Callable[[int, str], str]:
    """A function making absolute links (LEADFLOW_BASE_URL: the address people open
    Leadflow at); the URL is resolved once, not once per row of an export."""
    placeholder = "TOKEN"
    template = settings.LEADFLOW_BASE_URL.rstrip("/") + reverse(
        "marketing_unsubscribe", args=[placeholder]
    )
    prefix, suffix = template.split(placeholder)
    signer = _signer()
    return lambda contact_id, email_key: (
        f"{prefix}{make_token(contact_id, email_key, signer=signer)}{suffix}"
    )


def unsubscribe_url(contact_id: int, email_key: str) -> str:
    return url_maker()(contact_id, email_key)


def list_unsubscribe_header(url: str) -> str:
    """The List-Unsubscribe header value (send List-Unsubscribe-Post: One-Click too)."""
    return f"<{url}>"


def is_erased(contact: Contact) -> bool:
    return AuditEvent.objects.filter(
        subject_type=Contact._meta.label_lower,
        subject_id=contact.pk,
        event_type=ERASED_EVENT,
    ).exists()


def contact_for_token(token: str) -> Contact | None:
    """The contact a token was made for, or None (tampered, unknown, stale, erased)."""
    id_part, dot, signature = (token or "").partition(".")
    contact_id = _from_b62(id_part)
    if not dot or contact_id is None or len(signature) != SIGNATURE_LENGTH:
        return None
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None or not contact.email_key:
        return None
    # SECRET_KEY_FALLBACKS too: a rotated key keeps the links already mailed working.
    signer = _signer()
    if not any(
        constant_time_compare(
            signature, _signature(contact.pk, contact.email_key, signer=signer, key=key)
        )
        for key in [signer.key, *signer.fallback_keys]
    ):
        return None
    if is_erased(contact):
        return None
    return contact


def is_one_click(request) -> bool:
    """A POST whose body is exactly ``List-Unsubscribe=One-Click`` (RFC 8058)."""
    return (
        request.method == "POST"
        and list(request.POST.keys()) == [ONE_CLICK_FIELD]
        and request.POST.getlist(ONE_CLICK_FIELD) == [ONE_CLICK_VALUE]
        and not request.FILES
    )


def unsubscribe(contact: Contact) -> tuple[Contact, bool]:
    """Opt the contact out (off every list, audited); False when already opted out."""
    with transaction.atomic():
        # Under the row lock: two clicks at once record one opt-out, told apart.
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.marketing_consent == Consent.OPTED_OUT:
            return locked, False
        updated = record_consent(
            locked, actor=None, consent=Consent.OPTED_OUT, reason=REASON
        )
    return updated, True


def mask_email(email: str) -> str:
    """Enough to recognise one's own address, not enough to harvest it: p***@j***.be."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "***"
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    masked_host = (host[:1] + "***") if host else "***"
    return f"{local[:1]}***@{masked_host}" + (f".{tld}" if tld else "")


def over_rate_limit(request) -> bool:
    """True when this client address made more than RATE_LIMIT requests this minute."""
    # The visitor behind the proxy (not the proxy: one address for everybody).
    key = f"unsubscribe-rate:{hash_ip(client_ip(request))}"
    if cache.add(key, 1, RATE_WINDOW):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, RATE_WINDOW)
        return False
    return count > RATE_LIMIT
