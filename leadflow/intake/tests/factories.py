"""Inquiries, qualified leads and orders made through the real actions."""

from itertools import count

from leadflow.contacts.actions import ContactData
from leadflow.contacts.models import Contact
from leadflow.intake.actions import InquiryInput, close_inquiry, register_inquiry
from leadflow.intake.models import Campaign, Channel, Inquiry
from leadflow.opportunities.models import Opportunity

_seq = count(1)


def make_inquiry(
    actor,
    *,
    contact: Contact | None = None,
    name: str | None = None,
    email: str | None = None,
    phone: str = "",
    company: str = "",
    summary: str = "Asks for a quote for 20 office chairs",
    channel: str = "phone",
    **extra,
) -> Inquiry:
    """An open inquiry registered by ``actor`` (a new requester unless ``contact``)."""
    n = next(_seq)
    data = None
    if contact is None:
        data = ContactData(
            name=name or f"Requester {n}",
            email=f"requester{n}@example.be" if email is None else email,
            phone=phone,
            company_name=company,
        )
    return register_inquiry(
        InquiryInput(
            summary=summary,
            channel=channel,
            contact=data,
            contact_id=contact.pk if contact is not None else None,
            **extra,
        ),
        actor=actor,
    )


def make_opportunity(actor, *, owner, **inquiry_kwargs) -> Opportunity:
    """A running qualified lead: an inquiry registered and closed as qualified."""
    inquiry = make_inquiry(actor, **inquiry_kwargs)
    close_inquiry(inquiry, actor=actor, outcome="qualified", owner=owner)
    return Opportunity.objects.select_related("owner", "stage").get(inquiry=inquiry)


def make_campaign(name: str = "Spring mailing", channel: str | None = None) -> Campaign:
    return Campaign.objects.create(
        name=name, channel=Channel.objects.get(code=channel) if channel else None
    )
