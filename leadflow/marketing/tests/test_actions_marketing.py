"""Marketing lists: unknown names create lists, opt-outs leave every list for good."""

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import ValidationFailed
from leadflow.intake.actions import close_inquiry
from leadflow.intake.tests.factories import make_inquiry
from leadflow.marketing.actions import (
    get_or_create_lists,
    record_consent,
    subscribe_contact,
    unsubscribe_contact,
)
from leadflow.marketing.models import ListMembership, MarketingList
from leadflow.marketing.queries import list_names_for

pytestmark = pytest.mark.django_db


def events(obj, event_type):
    return AuditEvent.objects.filter(
        subject_type=obj._meta.label_lower, subject_id=obj.pk, event_type=event_type
    )


def test_unknown_list_names_create_the_list_once_with_an_audit_row(marketer):
    lists = get_or_create_lists(["Newsletter", " workshop  invites "], actor=marketer)
    assert [m.name for m in lists] == ["Newsletter", "workshop invites"]
    again = get_or_create_lists(["NEWSLETTER"], actor=marketer)
    assert again[0].pk == lists[0].pk
    assert MarketingList.objects.count() == 2
    created = AuditEvent.objects.filter(event_type="marketing_list.created")
    assert created.count() == 2
    assert lists[0].created_by == marketer


def test_list_names_are_deduplicated_and_blank_names_ignored(marketer):
    lists = get_or_create_lists(["News", "news", "", "  ", "NEWS "], actor=marketer)
    assert [m.name for m in lists] == ["News"]


def test_a_list_name_longer_than_100_characters_is_refused(marketer):
    with pytest.raises(ValidationFailed) as exc:
        get_or_create_lists(["x" * 101], actor=marketer)
    assert exc.value.code == "list_name_too_long"
    assert not MarketingList.objects.exists()


def test_subscribe_puts_the_contact_in_the_database_and_on_the_lists(marketer):
    contact = make_contact()
    lists = get_or_create_lists(["Newsletter", "New Year card"], actor=marketer)
    added = subscribe_contact(contact, actor=marketer, lists=lists, source="import")
    assert added == lists
    assert list_names_for(contact) == ["New Year card", "Newsletter"]
    contact.refresh_from_db()
    assert contact.in_marketing_database is True
    assert events(contact, "contact.lists_added").get().new == {
        "marketing_lists": ["Newsletter", "New Year card"]
    }
    membership = ListMembership.objects.filter(contact=contact).first()
    assert membership.source == "import"
    assert membership.added_by == marketer


def test_subscribing_twice_adds_nothing(marketer):
    contact = make_contact()
    lists = get_or_create_lists(["Newsletter"], actor=marketer)
    subscribe_contact(contact, actor=marketer, lists=lists, source="a")
    assert subscribe_contact(contact, actor=marketer, lists=lists, source="b") == []
    assert ListMembership.objects.filter(contact=contact).count() == 1
    assert events(contact, "contact.lists_added").count() == 1


def test_unsubscribe_takes_the_contact_off_the_named_lists_only(marketer):
    contact = make_contact()
    news, card = get_or_create_lists(["Newsletter", "New Year card"], actor=marketer)
    subscribe_contact(contact, actor=marketer, lists=[news, card], source="x")
    unsubscribe_contact(contact, actor=marketer, lists=[news], reason="asked")
    assert list_names_for(contact) == ["New Year card"]
    assert events(contact, "contact.lists_removed").get().reason == "asked"


def test_opt_out_removes_the_contact_from_every_list(marketer):
    contact = make_contact()
    lists = get_or_create_lists(["Newsletter", "Workshops"], actor=marketer)
    subscribe_contact(contact, actor=marketer, lists=lists, source="x")
    updated = record_consent(
        contact, actor=marketer, consent=Consent.OPTED_OUT, reason="unsubscribe link"
    )
    assert updated.opted_out
    assert list_names_for(contact) == []
    removed = events(contact, "contact.lists_removed").get()
    assert sorted(removed.old["marketing_lists"]) == ["Newsletter", "Workshops"]
    assert removed.reason == "unsubscribe link"
    assert events(contact, "contact.consent_changed").get().new == {
        "marketing_consent": "opted_out"
    }


def test_an_opted_out_contact_is_kept_off_lists_later(marketer):
    contact = make_contact()
    contact = record_consent(contact, actor=marketer, consent=Consent.OPTED_OUT)
    lists = get_or_create_lists(["Newsletter"], actor=marketer)
    assert subscribe_contact(contact, actor=marketer, lists=lists, source="x") == []
    assert list_names_for(contact) == []
    contact.refresh_from_db()
    assert contact.in_marketing_database is False


def test_subscribe_rechecks_consent_in_the_database(marketer):
    contact = make_contact()
    record_consent(
        Contact.objects.get(pk=contact.pk), actor=marketer, consent=Consent.OPTED_OUT
    )
    lists = get_or_create_lists(["Newsletter"], actor=marketer)
    subscribe_contact(contact, actor=marketer, lists=lists, source="x")
    assert list_names_for(contact) == []


def test_an_opted_out_requester_stays_off_lists_when_an_inquiry_is_nurtured(
    inside, marketer
):
    inquiry = make_inquiry(inside)  # loaded (with its contact) before the opt-out
    record_consent(
        Contact.objects.get(pk=inquiry.contact_id),
        actor=marketer,
        consent=Consent.OPTED_OUT,
    )
    close_inquiry(
        inquiry, actor=inside, outcome="nurture", marketing_lists=["Workshops"]
    )
    contact = inquiry.contact
    contact.refresh_from_db()
    assert list_names_for(contact) == []
    assert contact.in_marketing_database is False


def test_granting_consent_again_does_not_put_the_contact_back_on_lists(marketer):
    contact = make_contact()
    lists = get_or_create_lists(["Newsletter"], actor=marketer)
    subscribe_contact(contact, actor=marketer, lists=lists, source="x")
    record_consent(contact, actor=marketer, consent=Consent.OPTED_OUT)
    record_consent(contact, actor=marketer, consent=Consent.GRANTED)
    assert list_names_for(contact) == []
