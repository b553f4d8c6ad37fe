"""GDPR requests about one person: export everything held on them, or erase them.

This module orchestrates across apps (intake, opportunities, marketing, audit), so it
sits at the top of the dependency graph like analytics: only the privacy views and API
import it. Decisions per field are in docs/adr/0009-privacy-export-and-erasure.md.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.audit.actions import record_event, subject_key
from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact, ContactToken, Visit
from leadflow.core.errors import ValidationFailed
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.states import InquiryStatus
from leadflow.marketing.actions import record_consent
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.models import (
    Activity,
    Document,
    Opportunity,
    Quote,
    Stakeholder,
)

EXPORT_FORMAT = "leadflow.contact-export/1"
ERASED_EVENT = "contact.erased"
# Audit events that make up the consent and opt-out history.
CONSENT_EVENTS = (
    "contact.consent_changed",
    "contact.added_to_marketing_database",
    "contact.lists_added",
    "contact.lists_removed",
)
# Stored data, not interface text: the same in every language (not translated).
ERASED_NAME = "Erased contact #%(id)s"
# What an open inquiry's question becomes (closed inquiries cannot change: ADR 0009).
REDACTED_TEXT = "[erased on request]"
CONSENT_REASON = "erasure request"


def _value(value: Any) -> Any:
    """A JSON-friendly scalar: ISO dates, decimals as exact strings, users by name."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _user(user) -> str | None:
    return user.get_username() if user is not None else None


def _contact_fields(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "job_title": contact.job_title,
        "language": contact.language,
        "lifecycle": contact.lifecycle,
        "in_marketing_database": contact.in_marketing_database,
        "marketing_consent": contact.marketing_consent,
        "consent_changed_at": _value(contact.consent_changed_at),
        "last_sales_visit_at": _value(contact.last_sales_visit_at),
        "created_at": _value(contact.created_at),
        "updated_at": _value(contact.updated_at),
        "created_by": _user(contact.created_by),
    }


def _company_fields(contact: Contact) -> dict[str, Any] | None:
    company = contact.company
    if company is None:
        return None
    return {
        "id": company.pk,
        "name": company.name,
        "country": company.country,
        "city": company.city,
        "website": company.website,
        "lifecycle": company.lifecycle,
    }


def _inquiries(contact: Contact) -> list[dict[str, Any]]:
    rows = (
        Inquiry.objects.filter(contact=contact)
        .select_related("channel", "campaign", "received_by", "closed_by")
        .order_by("received_at", "id")
    )
    return [
        {
            "id": i.pk,
            "received_at": _value(i.received_at),
            "summary": i.summary,
            "channel": i.channel.code,
            "campaign": i.campaign.name if i.campaign_id else None,
            "referrer": i.referrer,
            "prompted": i.prompted,
            "company_id": i.company_id,
            "received_by": _user(i.received_by),
            "status": i.status,
            "outcome": i.outcome,
            "close_reason": i.close_reason,
            "closed_at": _value(i.closed_at),
            "closed_by": _user(i.closed_by),
        }
        for i in rows
    ]


def _lead(opp: Opportunity, roles: list[str]) -> dict[str, Any]:
    return {
        "id": opp.pk,
        "title": opp.title,
        "involvement": roles,
        "inquiry_id": opp.inquiry_id,
        "company_id": opp.company_id,
        "owner": _user(opp.owner),
        "stage": opp.stage.code,
        "status": opp.status,
        "expected_value": _value(opp.expected_value),
        "decision_date": _value(opp.decision_date),
        "start_date": _value(opp.start_date),
        "service_type": opp.service_type,
        "created_at": _value(opp.created_at),
        "closed_at": _value(opp.closed_at),
        "result_reason": opp.result_reason,
        "activities": [
            {
                "id": a.pk,
                "kind": a.kind,
                "subject": a.subject,
                "notes": a.notes,
                "due_at": _value(a.due_at),
                "done_at": _value(a.done_at),
            }
            for a in Activity.objects.filter(opportunity=opp).order_by("id")
        ],
        "documents": [
            {
                "id": d.pk,
                "name": d.name,
                "kind": d.kind,
                "size": d.size,
                "content_type": d.content_type,
                "uploaded_at": _value(d.uploaded_at),
            }
            for d in Document.objects.filter(opportunity=opp).order_by("id")
        ],
        "quotes": [
            {
                "id": q.pk,
                "number": q.number,
                "revision": q.revision,
                "status": q.status,
                "valid_until": _value(q.valid_until),
                "sent_at": _value(q.sent_at),
                "decided_at": _value(q.decided_at),
            }
            for q in Quote.objects.filter(opportunity=opp).order_by("number", "id")
        ],
    }


def _leads(contact: Contact) -> list[dict[str, Any]]:
    roles: dict[int, list[str]] = {}
    for opp_id in Opportunity.objects.filter(contact=contact).values_list(
        "pk", flat=True
    ):
        roles.setdefault(opp_id, []).append("primary_contact")
    for opp_id, role in Stakeholder.objects.filter(contact=contact).values_list(
        "opportunity_id", "role"
    ):
        roles.setdefault(opp_id, []).append(f"stakeholder:{role}")
    opps = (
        Opportunity.objects.filter(pk__in=roles)
        .select_related("owner", "stage")
        .order_by("created_at", "id")
    )
    return [_lead(opp, roles[opp.pk]) for opp in opps]


def _orders(contact: Contact) -> list[dict[str, Any]]:
    return [
        {
            "id": o.pk,
            "ordered_at": _value(o.ordered_at),
            "description": o.description,
            "amount": _value(o.amount),
            "reference": o.reference,
            "company_id": o.company_id,
        }
        for o in Order.objects.filter(contact=contact).order_by("ordered_at", "id")
    ]


def _visits(contact: Contact) -> list[dict[str, Any]]:
    return [
        {
            "id": v.pk,
            "kind": v.kind,
            "at": _value(v.at),
            "url": v.url,
            "note": v.note,
            "source": v.source,
        }
        for v in Visit.objects.filter(contact=contact).order_by("at", "id")
    ]


def _audit_rows(contact: Contact) -> list[dict[str, Any]]:
    rows = (
        AuditEvent.objects.filter(
            subject_type=subject_key(contact), subject_id=contact.pk
        )
        .select_related("actor")
        .order_by("at", "id")
    )
    return [
        {
            "at": _value(e.at),
            "actor": _user(e.actor),
            "event_type": e.event_type,
            "old": e.old,
            "new": e.new,
            "reason": e.reason,
        }
        for e in rows
    ]


def export_contact(contact: Contact) -> dict[str, Any]:
    """Everything held on one person, as JSON-serialisable data (GDPR art. 15/20)."""
    contact = Contact.objects.select_related("company", "created_by").get(pk=contact.pk)
    audit = _audit_rows(contact)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _value(timezone.now()),
        "contact": _contact_fields(contact),
        "company": _company_fields(contact),
        "inquiries": _inquiries(contact),
        "qualified_leads": _leads(contact),
        "orders": _orders(contact),
        "visits": _visits(contact),
        "marketing": {
            "in_marketing_database": contact.in_marketing_database,
            "marketing_consent": contact.marketing_consent,
            "consent_changed_at": _value(contact.consent_changed_at),
            "lists": [
                {
                    "name": m.marketing_list.name,
                    "added_at": _value(m.added_at),
                    "source": m.source,
                }
                for m in ListMembership.objects.filter(contact=contact)
                .select_related("marketing_list")
                .order_by("added_at", "id")
            ],
            "consent_history": [e for e in audit if e["event_type"] in CONSENT_EVENTS],
        },
        "audit_events": audit,
    }


def is_erased(contact: Contact) -> bool:
    return AuditEvent.objects.filter(
        subject_type=subject_key(contact),
        subject_id=contact.pk,
        event_type=ERASED_EVENT,
    ).exists()


@transaction.atomic
def erase_contact(contact: Contact, *, actor, reason: str) -> None:
    """Anonymise a person in place; rows that analytics count keep their facts.

    Erasing an erased contact does nothing (the ``contact.erased`` audit row marks it).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why this contact is erased."), code="reason_required"
        )
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if is_erased(locked):
        return
    # Opted out and off every list (audited by marketing), so never re-added.
    record_consent(
        locked, actor=actor, consent=Consent.OPTED_OUT, reason=CONSENT_REASON
    )
    # Sales visits stay in the company's history without the person; the rest go.
    detached = Visit.objects.filter(contact=locked, company__isnull=False).update(
        contact=None, note=""
    )
    deleted, _by_model = Visit.objects.filter(contact=locked).delete()
    # The trigger refuses any change to a closed inquiry's text: only open ones.
    redacted = Inquiry.objects.filter(contact=locked, status=InquiryStatus.OPEN).update(
        summary=REDACTED_TEXT, referrer="", version=F("version") + 1
    )
    ContactToken.objects.filter(contact=locked).delete()
    Contact.objects.filter(pk=locked.pk).update(
        name=ERASED_NAME % {"id": locked.pk},
        name_key="",
        email="",
        email_key="",
        phone="",
        phone_key="",
        job_title="",
        in_marketing_database=False,
        last_sales_visit_at=None,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    record_event(
        actor=actor,
        subject=locked,
        event_type=ERASED_EVENT,
        new={
            "visits_deleted": deleted,
            "visits_detached": detached,
            "open_inquiries_redacted": redacted,
        },
        reason=reason,
    )
