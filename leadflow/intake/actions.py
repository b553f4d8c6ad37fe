"""Registering, assessing and closing inquiries; booking re-orders; handing over questions.

These functions are the only writers of intake data: the pages, the API and the
commands all call them, so each rule below is enforced (and tested) once.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Department, User
from leadflow.accounts.permissions import has_capability
from leadflow.audit.actions import changed_fields, record_event
from leadflow.contacts.actions import (
    ContactData,
    attach_company,
    check_email,
    create_contact,
    find_or_create_company,
    put_in_marketing_database,
)
from leadflow.contacts.models import Company, Consent, Contact, Lifecycle
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.core.lifecycle import apply_transition, record_transition
from leadflow.core.phone import normalise_phone
from leadflow.core.text import name_key, normalise_email
from leadflow.intake.errors import InquiryClosed
from leadflow.intake.models import Campaign, Channel, Inquiry, InquiryTransition, Order
from leadflow.intake.states import InquiryStatus, Outcome, reason_required
from leadflow.marketing.actions import get_or_create_lists, subscribe_contact
from leadflow.opportunities.actions import (
    check_owner,
    historical_moment,
    history_fields,
    log_handover,
    open_opportunity,
)
from leadflow.opportunities.models import Opportunity

DEFAULT_NURTURE_LIST = "Nurture"
MAX_SUMMARY = 10_000


# --- resolving names sent by forms and the API --------------------------------------


def resolve_channel(value: str | Channel) -> Channel:
    if isinstance(value, Channel):
        return value
    text = (value or "").strip()
    channel = (
        Channel.objects.filter(is_active=True)
        .filter(Q(code__iexact=text) | Q(name__iexact=text) | Q(name_nl__iexact=text))
        .first()
        if text
        else None
    )
    if channel is None:
        known = ", ".join(
            Channel.objects.filter(is_active=True).values_list("code", flat=True)
        )
        raise ValidationFailed(
            _("Unknown channel %(value)r. Known channels: %(known)s."),
            code="unknown_channel",
            value=text,
            known=known,
        )
    return channel


def resolve_campaign(value: str | Campaign | None) -> Campaign | None:
    if value is None or isinstance(value, Campaign):
        return value
    text = value.strip()
    if not text:
        return None
    campaign = Campaign.objects.filter(name__iexact=text).first()
    if campaign is None:
        raise ValidationFailed(
            _("Unknown campaign %(value)r. An administrator can add it."),
            code="unknown_campaign",
            value=text,
        )
    return campaign


def resolve_user(username: str | User | None, *, label: str) -> User | None:
    if username is None or isinstance(username, User):
        return username
    text = username.strip()
    if not text:
        return None
    user = User.objects.filter(username=text, is_active=True).first()
    if user is None:
        raise ValidationFailed(
            _("Unknown user %(value)r for %(label)s."),
            code="unknown_user",
            value=text,
            label=label,
        )
    return user


def resolve_department(value: str | Department | None) -> Department | None:
    if value is None or isinstance(value, Department):
        return value
    text = value.strip()
    if not text:
        return None
    department = Department.objects.filter(name__iexact=text).first()
    if department is None:
        raise ValidationFailed(
            _("Unknown department %(value)r."), code="unknown_department", value=text
        )
    return department


# --- registering ------------------------------------------------------------------


@dataclass
class InquiryInput:
    summary: str
    channel: str | Channel
    contact: ContactData | None = None
    contact_id: int | None = None
    campaign: str | Campaign | None = None
    referrer: str = ""
    prompted: bool | None = None
    received_by: str | User | None = None
    department: str | Department | None = None
    received_at: datetime | None = None
    extra: dict = field(default_factory=dict)


def find_existing_contact(data: ContactData) -> Contact | None:
    """The same person registered before: same e-mail, or same phone and name."""
    email_key = normalise_email(data.email)
    if email_key:
        found = Contact.objects.filter(email_key=email_key).order_by("id").first()
        if found is not None:
            return found
    phone_key = normalise_phone(data.phone, data.country or None)
    if phone_key:
        return (
            Contact.objects.filter(phone_key=phone_key, name_key=name_key(data.name))
            .order_by("id")
            .first()
        )
    return None


@transaction.atomic
def register_inquiry(
    data: InquiryInput,
    *,
    actor: User | None,
    at: datetime | None = None,
    imported: int | None = None,
) -> Inquiry:
    """Register a new inquiry; an unknown requester becomes a new contact.

    ``at``: when it was registered, for history written later (default now; an
    import passes the reception time). The inquiry and its requester then date from
    that moment (a contact first seen on that inquiry was known from then on).
    ``imported``: the id of the import writing it (the transition row is written as
    already processed: no notifications or escalation for the past)."""
    summary = (data.summary or "").strip()
    if not summary:
        raise ValidationFailed(_("Summarise the question."), code="summary_required")
    if len(summary) > MAX_SUMMARY:
        raise ValidationFailed(_("The summary is too long."), code="summary_too_long")
    channel = resolve_channel(data.channel)
    campaign = resolve_campaign(data.campaign)
    received_by = resolve_user(data.received_by, label=_("received by")) or (
        actor if actor is not None and actor.is_authenticated else None
    )
    department = resolve_department(data.department) or (
        received_by.department if received_by is not None else None
    )
    now = timezone.now() if at is None else historical_moment(at)
    received_at = data.received_at or now
    if timezone.is_naive(received_at):
        # A time without an offset is local office time.
        received_at = timezone.make_aware(received_at)
    if received_at > now + timezone.timedelta(minutes=5):
        raise ValidationFailed(
            _("The inquiry cannot be received in the future."),
            code="received_in_future",
        )
    if at is not None and received_at > now:
        raise ValidationFailed(
            _("An inquiry cannot be registered before it was received."),
            code="registered_before_received",
        )
    if data.contact_id is not None:
        contact = (
            Contact.objects.select_related("company").filter(pk=data.contact_id).first()
        )
        if contact is None:
            raise ValidationFailed(_("Unknown contact."), code="unknown_contact")
    elif data.contact is not None:
        check_email(data.contact.email)
        contact = find_existing_contact(data.contact)
        if contact is None:
            contact = create_contact(data.contact, actor=actor)
        elif contact.company_id is None and data.contact.company_name:
            # A known person now named with a company: keep what was typed.
            contact = attach_company(
                contact,
                find_or_create_company(
                    data.contact.company_name,
                    actor=actor,
                    size=data.contact.company_size,
                    country=data.contact.country,
                ),
                actor=actor,
            )
    else:
        raise ValidationFailed(
            _("Say who asked the question."), code="contact_required"
        )
    prompted = data.prompted
    if prompted is None:
        prompted = bool(campaign) or channel.prompted_by_default
    inquiry = Inquiry.objects.create(
        contact=contact,
        company=contact.company,
        summary=summary,
        channel=channel,
        campaign=campaign,
        referrer=(data.referrer or "").strip()[:200],
        prompted=prompted,
        received_by=received_by,
        department=department,
        received_at=received_at,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if at is not None:
        # created_at is set on insert (auto_now_add): history keeps its own date.
        Inquiry.objects.filter(pk=inquiry.pk).update(created_at=now)
        inquiry.created_at = now
        Contact.objects.filter(pk=contact.pk, created_at__gt=received_at).update(
            created_at=received_at
        )
    record_transition(
        InquiryTransition,
        inquiry=inquiry,
        actor=inquiry.created_by,
        from_state="",
        to_state=InquiryStatus.OPEN,
        at=now,
        **history_fields(
            imported,
            {"event": "inquiry.registered", "channel": channel.code, **data.extra},
        ),
    )
    return inquiry


EDITABLE_INQUIRY_FIELDS = (
    "summary",
    "channel",
    "campaign",
    "referrer",
    "prompted",
    "department",
    "received_at",
)


@transaction.atomic
def update_inquiry(inquiry: Inquiry, *, actor: User, version: int, **values) -> Inquiry:
    """Correct an open inquiry's details; a closed one refuses, a stale version conflicts."""
    unknown = set(values) - set(EDITABLE_INQUIRY_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %(fields)s"),
            fields=", ".join(sorted(unknown)),
        )
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if locked.status != InquiryStatus.OPEN:
        raise InquiryClosed()
    if locked.version != version:
        raise Conflict(code="stale_version")
    if "channel" in values:
        values["channel"] = resolve_channel(values["channel"])
    if "campaign" in values:
        values["campaign"] = resolve_campaign(values["campaign"])
    if "department" in values:
        values["department"] = resolve_department(values["department"])
    if "summary" in values and not (values["summary"] or "").strip():
        raise ValidationFailed(_("Summarise the question."), code="summary_required")
    if "referrer" in values:
        values["referrer"] = (values["referrer"] or "").strip()[:200]
    if "prompted" in values and not isinstance(values["prompted"], bool):
        raise ValidationFailed(_("Prompted is true or false."), code="invalid_prompted")
    if "received_at" in values:
        if values["received_at"] is None:
            raise ValidationFailed(
                _("An inquiry keeps its reception time."), code="received_at_required"
            )
        if timezone.is_naive(values["received_at"]):
            values["received_at"] = timezone.make_aware(values["received_at"])
    old, new = changed_fields(locked, values)
    if not new:
        return locked
    for key, value in new.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save(update_fields=[*new, "version", "updated_at"])
    record_event(
        actor=actor, subject=locked, event_type="inquiry.updated", old=old, new=new
    )
    return locked


@transaction.atomic
def assign_inquiry(inquiry: Inquiry, *, actor: User, assignee: User | None) -> Inquiry:
    """Give an open inquiry to a colleague of inside sales to assess."""
    if assignee is not None and not has_capability(assignee, "inquiry.triage"):
        raise ValidationFailed(
            _("%(user)s cannot assess inquiries."),
            code="assignee_not_allowed",
            user=str(assignee),
        )
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if locked.status != InquiryStatus.OPEN:
        raise InquiryClosed()
    if locked.assignee_id == (assignee.pk if assignee else None):
        return locked
    old = str(locked.assignee) if locked.assignee_id else None
    locked.assignee = assignee
    locked.version += 1
    locked.save(update_fields=["assignee", "version", "updated_at"])
    record_event(
        actor=actor,
        subject=locked,
        event_type="inquiry.assigned",
        old={"assignee": old},
        new={"assignee": str(assignee) if assignee else None},
    )
    return locked


# --- closing ----------------------------------------------------------------------


@transaction.atomic
def close_inquiry(
    inquiry: Inquiry,
    *,
    actor: User | None,
    outcome: str,
    reason: str = "",
    owner: User | str | None = None,
    marketing_lists: list[str] | None = None,
    expected_value: Decimal | None = None,
    at: datetime | None = None,
    imported: int | None = None,
) -> Inquiry:
    """Close an open inquiry into exactly one outcome; closed inquiries never reopen.

    qualified: a qualified lead is created with one owner (default: the actor when
    their role may own leads); nurture: the requester goes on the chosen marketing
    lists; archived: a reason is required. Every requester lands in the marketing
    database unless they opted out. Two people closing at once: one wins, the other
    gets InquiryClosed.

    ``at``: when it was closed, for history written later (default now; not before
    its reception): the qualified lead is created at that moment too, so cycle times
    count from it. ``imported``: the id of the import writing it (see
    ``register_inquiry``).
    """
    if outcome not in Outcome.values:
        raise ValidationFailed(
            _("Choose an outcome: qualified, nurture or archived."),
            code="invalid_outcome",
        )
    reason = (reason or "").strip()
    if reason_required(outcome) and not reason:
        raise ValidationFailed(
            _("Say why the inquiry is archived."), code="reason_required"
        )
    owner_user = (
        resolve_user(owner, label=_("owner")) if isinstance(owner, str) else owner
    )
    if outcome == Outcome.QUALIFIED:
        if (
            owner_user is None
            and actor is not None
            and has_capability(actor, "opportunity.own")
        ):
            owner_user = actor
        owner_user = check_owner(owner_user)
    lists = []
    opted_out = Contact.objects.filter(
        pk=inquiry.contact_id, marketing_consent=Consent.OPTED_OUT
    ).exists()
    if outcome == Outcome.NURTURE and not opted_out:
        lists = get_or_create_lists(
            marketing_lists or [DEFAULT_NURTURE_LIST], actor=actor
        )
    if inquiry.status != InquiryStatus.OPEN:
        raise InquiryClosed()
    now = historical_moment(at, not_before=inquiry.received_at)
    actor_or_none = actor if actor is not None and actor.is_authenticated else None
    changes = {
        "outcome": outcome,
        "close_reason": reason,
        "closed_at": now,
        "closed_by": actor_or_none,
        "updated_at": now if at is None else timezone.now(),
    }
    transition_fields = {
        "inquiry": inquiry,
        "actor": actor_or_none,
        "reason": reason,
        **history_fields(
            imported,
            {
                "event": "inquiry.closed",
                "outcome": outcome,
                "owner": owner_user.username if owner_user else None,
                "marketing_lists": [m.name for m in lists],
            },
        ),
    }
    apply_transition(
        inquiry,
        field="status",
        allowed_from=[InquiryStatus.OPEN],
        to=InquiryStatus.CLOSED,
        changes=changes,
        transition_model=InquiryTransition,
        transition_fields=transition_fields,
        conflict=InquiryClosed(),
        at=now,
    )
    contact = inquiry.contact
    if outcome == Outcome.QUALIFIED:
        open_opportunity(
            actor=actor_or_none,
            contact=contact,
            owner=owner_user,
            title=_first_line(inquiry.summary),
            inquiry=inquiry,
            expected_value=expected_value,
            reason=reason,
            at=None if at is None else now,
            imported=imported,
        )
    elif outcome == Outcome.NURTURE:
        subscribe_contact(
            contact,
            actor=actor_or_none,
            lists=lists,
            source=f"inquiry #{inquiry.pk}",
            reason=reason,
        )
    put_in_marketing_database(
        contact, actor=actor_or_none, reason=f"inquiry #{inquiry.pk} closed ({outcome})"
    )
    return inquiry


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:120] or "—"


# --- the other two intake paths -----------------------------------------------------


@transaction.atomic
def book_order(
    *,
    actor: User | None,
    description: str,
    contact: Contact | None = None,
    company: Company | None = None,
    amount: Decimal | None = None,
    reference: str = "",
    ordered_at: datetime | None = None,
    channel: str | Channel | None = None,
) -> Order:
    """Book a re-order or repeat purchase of a known customer (not an inquiry)."""
    description = (description or "").strip()
    if not description:
        raise ValidationFailed(_("Say what was ordered."), code="description_required")
    if contact is None and company is None:
        raise ValidationFailed(
            _("A re-order needs a known contact or company."), code="customer_required"
        )
    if amount is not None and amount < 0:
        raise ValidationFailed(
            _("The amount cannot be negative."), code="negative_amount"
        )
    if (
        contact is not None
        and company is not None
        and contact.company_id
        and contact.company_id != company.pk
    ):
        raise ValidationFailed(
            _("The contact does not work at that company."),
            code="contact_company_mismatch",
        )
    if company is None and contact is not None:
        company = contact.company
    order = Order.objects.create(
        contact=contact,
        company=company,
        description=description,
        amount=amount,
        reference=reference.strip()[:100],
        ordered_at=ordered_at or timezone.now(),
        channel=resolve_channel(channel) if channel else None,
        booked_by=actor if actor is not None and actor.is_authenticated else None,
    )
    customer = company or contact
    record_event(
        actor=actor,
        subject=customer,
        event_type="order.booked",
        new={
            "order": order.pk,
            "description": description[:200],
            "amount": str(amount) if amount is not None else None,
        },
    )
    if customer.lifecycle != Lifecycle.CUSTOMER:
        old = customer.lifecycle
        type(customer).objects.filter(pk=customer.pk).update(
            lifecycle=Lifecycle.CUSTOMER
        )
        customer.lifecycle = Lifecycle.CUSTOMER
        record_event(
            actor=actor,
            subject=customer,
            event_type="lifecycle.changed",
            old={"lifecycle": old},
            new={"lifecycle": Lifecycle.CUSTOMER},
            reason=f"order #{order.pk}",
        )
    return order


@transaction.atomic
def hand_over_question(
    opportunity: Opportunity,
    *,
    actor: User | None,
    question: str,
    channel: str | Channel | None = None,
) -> Opportunity:
    """The requester is in a running sales process: log the question there, tell its owner."""
    if opportunity.status != "open":
        raise Conflict(
            _("This qualified lead is closed; register a new inquiry instead."),
            code="opportunity_closed",
        )
    channel_obj = resolve_channel(channel) if channel else None
    return log_handover(
        opportunity,
        actor=actor,
        question=question,
        channel=channel_obj.code if channel_obj else "",
    )
