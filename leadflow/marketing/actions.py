"""Putting contacts on marketing lists and taking them off, with an audit row each."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from leadflow.audit.actions import record_event
from leadflow.contacts.actions import put_in_marketing_database
from leadflow.contacts.models import Contact
from leadflow.core.errors import ValidationFailed
from leadflow.marketing.models import ListMembership, MarketingList


def clean_list_names(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in names:
        name = " ".join((raw or "").split())
        if not name:
            continue
        if len(name) > 100:
            raise ValidationFailed(
                _("A marketing list name is at most 100 characters."),
                code="list_name_too_long",
            )
        if name.casefold() not in {n.casefold() for n in cleaned}:
            cleaned.append(name)
    return cleaned


def get_or_create_lists(names: Iterable[str], *, actor) -> list[MarketingList]:
    """The named lists, matched case-insensitively; an unknown name creates the list."""
    result = []
    for name in clean_list_names(names):
        existing = MarketingList.objects.filter(name__iexact=name).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = MarketingList.objects.create(
                        name=name,
                        created_by=actor if actor and actor.is_authenticated else None,
                    )
            except IntegrityError:
                existing = MarketingList.objects.get(name__iexact=name)
            else:
                record_event(
                    actor=actor,
                    subject=existing,
                    event_type="marketing_list.created",
                    new={"name": name},
                )
        result.append(existing)
    return result


def subscribe_contact(
    contact: Contact,
    *,
    actor,
    lists: Iterable[MarketingList],
    source: str,
    reason: str = "",
) -> list[MarketingList]:
    """Put a contact on lists (opted-out contacts stay off every list); returns new lists."""
    # Re-read consent under a row lock: a stale copy must not undo an opt-out.
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    put_in_marketing_database(contact, actor=actor, reason=reason or source)
    if contact.opted_out:
        return []
    added = []
    for marketing_list in lists:
        _membership, created = ListMembership.objects.get_or_create(
            marketing_list=marketing_list,
            contact=contact,
            defaults={
                "added_by": actor if actor and actor.is_authenticated else None,
                "source": source[:100],
            },
        )
        if created:
            added.append(marketing_list)
    if added:
        record_event(
            actor=actor,
            subject=contact,
            event_type="contact.lists_added",
            new={"marketing_lists": [m.name for m in added]},
            reason=reason,
        )
    return added


def unsubscribe_contact(
    contact: Contact, *, actor, lists: Iterable[MarketingList], reason: str = ""
) -> None:
    lists = list(lists)
    deleted, _ = ListMembership.objects.filter(
        contact=contact, marketing_list__in=lists
    ).delete()
    if deleted:
        record_event(
            actor=actor,
            subject=contact,
            event_type="contact.lists_removed",
            old={"marketing_lists": [m.name for m in lists]},
            reason=reason,
        )


def remove_from_all_lists(contact: Contact, *, actor, reason: str) -> None:
    names = list(
        ListMembership.objects.filter(contact=contact).values_list(
            "marketing_list__name", flat=True
        )
    )
    if names:
        ListMembership.objects.filter(contact=contact).delete()
        record_event(
            actor=actor,
            subject=contact,
            event_type="contact.lists_removed",
            old={"marketing_lists": names},
            reason=reason,
        )


@transaction.atomic
def record_consent(
    contact: Contact, *, actor, consent: str, reason: str = ""
) -> Contact:
    """Change marketing consent; opting out takes the contact off every list."""
    from leadflow.contacts.actions import set_consent
    from leadflow.contacts.models import Consent

    contact = set_consent(contact, actor=actor, consent=consent, reason=reason)
    if consent == Consent.OPTED_OUT:
        remove_from_all_lists(contact, actor=actor, reason=reason or "opt-out")
    return contact
