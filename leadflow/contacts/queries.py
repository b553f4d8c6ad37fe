"""Finding people and companies again: index-only lookups, fast at a million contacts."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import User
from leadflow.accounts.permissions import require
from leadflow.audit.labels import value_label
from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Company, CompanyToken, Contact, ContactToken
from leadflow.core.phone import normalise_phone
from leadflow.core.text import (
    company_key,
    name_key,
    normalise_email,
    prefix_filter,
    tokens,
)

MAX_MATCHES = 10
_CANDIDATES = 50


@dataclass
class Match:
    contact: Contact
    score: int = 0
    reasons: list[str] = field(default_factory=list)


def _token_prefix_ids(model, fk: str, words: list[str], limit: int) -> list[int]:
    """Ids whose name has a word starting with every typed word.

    Driven by the longest typed word's index range; every other word is an EXISTS
    probe on the (owner, token) unique index, so a common surname never hides the
    person whose first name was typed too."""
    vendor = connection.vendor
    words = sorted(words, key=len, reverse=True)[:3]
    if not words:
        return []
    qs = model.objects.filter(**prefix_filter("token", words[0], vendor))
    for word in words[1:]:
        qs = qs.filter(
            Exists(
                model.objects.filter(
                    **{fk: OuterRef(fk)}, **prefix_filter("token", word, vendor)
                )
            )
        )
    return list(qs.values_list(fk, flat=True).distinct()[:limit])


def find_companies(company: str, *, limit: int = 5) -> list[Company]:
    key = company_key(company) or name_key(company)
    if len(key) < 2:
        return []
    exact = list(Company.objects.filter(name_key=key)[:limit])
    ids = _token_prefix_ids(CompanyToken, "company_id", sorted(tokens(company)), limit)
    seen = {c.pk for c in exact}
    rest = [c for c in Company.objects.filter(pk__in=ids) if c.pk not in seen]
    return (exact + rest)[:limit]


def find_matches(
    *,
    email: str = "",
    phone: str = "",
    name: str = "",
    company: str = "",
    country: str = "",
    limit: int = MAX_MATCHES,
) -> tuple[list[Match], list[Company]]:
    """Contacts (ranked) and companies that the typed details point to.

    E-mail and phone are compared normalised (E.164 for phones), names and company
    names case- and accent-insensitively, by whole key or by word prefix.
    """
    matches: dict[int, Match] = {}

    def add(contact_ids, score: int, reason: str) -> None:
        for cid in contact_ids:
            m = matches.setdefault(cid, Match(contact=None))  # type: ignore[arg-type]
            m.score += score
            m.reasons.append(reason)

    email_key = normalise_email(email)
    exact_email = (
        list(
            Contact.objects.filter(email_key=email_key).values_list("pk", flat=True)[
                :_CANDIDATES
            ]
        )
        if "@" in email_key
        else []
    )
    add(exact_email, 100, "email")
    if not exact_email and len(email_key) >= 4:
        # Still typing: the addresses that start with what is there so far.
        add(
            Contact.objects.filter(
                **prefix_filter("email_key", email_key, connection.vendor)
            ).values_list("pk", flat=True)[:_CANDIDATES],
            50,
            "email",
        )
    phone_key = normalise_phone(phone, country or None)
    if phone_key:
        add(
            Contact.objects.filter(phone_key=phone_key).values_list("pk", flat=True)[
                :_CANDIDATES
            ],
            90,
            "phone",
        )
    key = name_key(name)
    if len(key) >= 2:
        exact = list(
            Contact.objects.filter(name_key=key).values_list("pk", flat=True)[
                :_CANDIDATES
            ]
        )
        add(exact, 60, "name")
        words = sorted(tokens(name))
        if words:
            partial = [
                i
                for i in _token_prefix_ids(
                    ContactToken, "contact_id", words, _CANDIDATES
                )
                if i not in exact
            ]
            add(partial, 30, "name")
    companies: list[Company] = []
    if company and len(company.strip()) >= 2:
        companies = find_companies(company)
        if companies:
            add(
                Contact.objects.filter(company__in=companies).values_list(
                    "pk", flat=True
                )[:_CANDIDATES],
                20,
                "company",
            )
    if not matches:
        return [], companies
    ranked = sorted(matches.items(), key=lambda kv: (-kv[1].score, kv[0]))[:limit]
    contacts = Contact.objects.select_related("company").in_bulk(
        [cid for cid, _ in ranked]
    )
    result = []
    for cid, m in ranked:
        if cid in contacts:
            m.contact = contacts[cid]
            result.append(m)
    return result, companies


def get_contact_for_user(user: User, contact_id: int) -> Contact:
    """Every colleague may look a contact up (registering needs it)."""
    require(user, "contact.view")
    return get_object_or_404(Contact.objects.select_related("company"), pk=contact_id)


def get_company_for_user(user: User, company_id: int) -> Company:
    require(user, "contact.view")
    return get_object_or_404(Company, pk=company_id)


def list_contacts(user: User, *, search: str = "") -> QuerySet[Contact]:
    require(user, "contact.view")
    qs = Contact.objects.select_related("company").order_by("name_key", "id")
    if search:
        key = name_key(search)
        email_key = normalise_email(search)
        if "@" in email_key:
            return qs.filter(email_key=email_key)
        words = sorted(tokens(search))
        if words:
            ids = _token_prefix_ids(ContactToken, "contact_id", words, 200)
            return qs.filter(pk__in=ids)
        if key:
            return qs.filter(name_key=key)
    return qs


# --- consent and opt-out history (GDPR) -------------------------------------------------

CONSENT_EVENT = "contact.consent_changed"
CONSENT_HISTORY_LIMIT = 50
# Who changed consent when no user did: the reason the system stored names the way in
# (marketing.unsubscribe.REASON; the public web form stores a reason with "web form").
SOURCE_UNSUBSCRIBE = "unsubscribe_link"
SOURCE_WEB_FORM = "web_form"
SOURCE_USER = "user"
SOURCE_SYSTEM = "system"
SOURCE_LABELS = {
    SOURCE_UNSUBSCRIBE: _("the contact, via the unsubscribe link"),
    SOURCE_WEB_FORM: _("the contact, via the web form"),
    SOURCE_SYSTEM: _("Leadflow (automatic)"),
}
# Reasons stored by the system, shown in the reader's language.
REASON_LABELS = {
    "unsubscribe link": _("unsubscribe link"),
    "erasure request": _("erasure request"),
    "opt-out": _("opt-out"),
}


def _consent_source(actor_id: int | None, reason: str) -> str:
    if actor_id is not None:
        return SOURCE_USER
    folded = (reason or "").casefold()
    if folded == "unsubscribe link":
        return SOURCE_UNSUBSCRIBE
    if "web form" in folded or "web_form" in folded:
        return SOURCE_WEB_FORM
    return SOURCE_SYSTEM


@dataclass(frozen=True)
class ConsentChange:
    """One consent change: when, from what to what, by whom (or which way), why."""

    at: datetime
    old: str
    new: str
    actor: User | None
    source: str
    reason: str

    @property
    def old_label(self) -> str:
        return str(value_label(self.old)) if self.old else "—"

    @property
    def new_label(self) -> str:
        return str(value_label(self.new)) if self.new else "—"

    @property
    def by_label(self) -> str:
        if self.actor is not None:
            return self.actor.get_full_name() or self.actor.get_username()
        return str(SOURCE_LABELS[self.source])

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, self.reason))


@dataclass(frozen=True)
class ConsentHistory:
    changes: list[ConsentChange]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.changes)


def consent_history(
    contact: Contact, *, limit: int = CONSENT_HISTORY_LIMIT
) -> ConsentHistory:
    """Every marketing-consent change from the audit log, newest first (two queries)."""
    events = AuditEvent.objects.filter(
        subject_type=Contact._meta.label_lower,
        subject_id=contact.pk,
        event_type=CONSENT_EVENT,
    )
    rows = list(events.select_related("actor").order_by("-at", "-id")[:limit])
    total = len(rows) if len(rows) < limit else events.count()
    return ConsentHistory(
        changes=[
            ConsentChange(
                at=e.at,
                old=str((e.old or {}).get("marketing_consent") or ""),
                new=str((e.new or {}).get("marketing_consent") or ""),
                actor=e.actor,
                source=_consent_source(e.actor_id, e.reason),
                reason=e.reason,
            )
            for e in rows
        ],
        total=total,
    )
