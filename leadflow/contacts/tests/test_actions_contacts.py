"""Contact and company actions: keys for lookups, versioned edits, audit rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.actions import (
    ContactData,
    create_contact,
    find_or_create_company,
    put_in_marketing_database,
    record_visit,
    set_consent,
    update_contact,
)
from leadflow.contacts.models import Company, Consent, Contact, ContactToken
from leadflow.contacts.queries import find_matches
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


def events(obj, event_type):
    return AuditEvent.objects.filter(
        subject_type=obj._meta.label_lower, subject_id=obj.pk, event_type=event_type
    )


def test_create_contact_stores_match_keys_and_an_audit_row(inside):
    contact = create_contact(
        ContactData(
            name="  Émile Dupré ",
            email=" Emile@Dupre.BE ",
            phone="09 300 11 22",
            company_name="Dupré NV",
            company_size=12,
        ),
        actor=inside,
    )
    assert contact.name == "Émile Dupré"
    assert contact.name_key == "emile dupre"
    assert contact.email == "Emile@Dupre.BE"
    assert contact.email_key == "emile@dupre.be"
    assert contact.phone_key == "+3293001122"
    assert contact.company.name == "Dupré NV"
    assert contact.company.name_key == "dupre"
    assert contact.company.size == 12
    assert contact.created_by == inside
    assert set(
        ContactToken.objects.filter(contact=contact).values_list("token", flat=True)
    ) == {
        "emile",
        "dupre",
    }
    event = events(contact, "contact.created").get()
    assert event.actor == inside
    assert event.new["company"] == "Dupré NV"


def test_create_contact_requires_a_name(inside):
    with pytest.raises(ValidationFailed) as exc:
        create_contact(ContactData(name="   "), actor=inside)
    assert exc.value.code == "contact_name_required"
    assert str(exc.value) == "A contact needs a name."
    assert not Contact.objects.exists()


def test_company_is_created_once_whatever_the_legal_form_or_case(inside):
    first = find_or_create_company("Janssens BVBA", actor=inside)
    again = find_or_create_company("JANSSENS bv", actor=inside)
    assert again.pk == first.pk
    assert Company.objects.count() == 1
    assert events(first, "company.created").count() == 1


def test_company_size_is_filled_in_later_but_never_overwritten(inside):
    company = find_or_create_company("Acme NV", actor=inside)
    assert company.size is None
    find_or_create_company("Acme", actor=inside, size=40)
    find_or_create_company("Acme", actor=inside, size=99)
    company.refresh_from_db()
    assert company.size == 40
    assert events(company, "company.updated").get().new == {"size": 40}


def test_no_company_name_means_no_company(inside):
    assert find_or_create_company("  ", actor=inside) is None


def test_update_contact_changes_fields_keys_and_version(inside):
    contact = make_contact("Piet Janssens", email="piet@example.be")
    updated = update_contact(
        contact, actor=inside, version=1, name="Pieter Janssen", phone="0470 12 34 56"
    )
    assert updated.version == 2
    assert updated.name_key == "pieter janssen"
    assert updated.phone_key == "+32470123456"
    assert [m.contact.pk for m in find_matches(name="pieter")[0]] == [contact.pk]
    assert find_matches(name="piet janssens")[0] == []
    event = events(contact, "contact.updated").get()
    assert event.old == {"name": "Piet Janssens", "phone": ""}
    assert event.new == {"name": "Pieter Janssen", "phone": "0470 12 34 56"}


def test_update_contact_with_a_stale_version_conflicts(inside):
    contact = make_contact("Piet Janssens")
    update_contact(contact, actor=inside, version=1, job_title="CEO")
    with pytest.raises(Conflict) as exc:
        update_contact(contact, actor=inside, version=1, job_title="CFO")
    assert exc.value.code == "stale_version"
    assert exc.value.status == 409
    contact.refresh_from_db()
    assert contact.job_title == "CEO"


def test_update_contact_refuses_fields_it_does_not_own(inside):
    contact = make_contact()
    with pytest.raises(ValidationFailed) as exc:
        update_contact(contact, actor=inside, version=1, in_marketing_database=True)
    assert exc.value.code == "invalid"
    assert "in_marketing_database" in str(exc.value)


def test_update_contact_refuses_an_empty_name(inside):
    contact = make_contact()
    with pytest.raises(ValidationFailed) as exc:
        update_contact(contact, actor=inside, version=1, name=" ")
    assert exc.value.code == "contact_name_required"


def test_update_contact_without_changes_keeps_the_version(inside):
    contact = make_contact("Piet Janssens")
    same = update_contact(contact, actor=inside, version=1, name="Piet Janssens")
    assert same.version == 1
    assert not events(contact, "contact.updated").exists()


def test_update_contact_refuses_an_unknown_lifecycle(inside):
    contact = make_contact()
    with pytest.raises(ValidationFailed) as exc:
        update_contact(contact, actor=inside, version=1, lifecycle="bogus")
    assert exc.value.code == "invalid_lifecycle"
    assert str(exc.value) == "Unknown lifecycle 'bogus'."


def test_set_consent_records_the_change_and_bumps_the_version(marketer):
    contact = make_contact()
    updated = set_consent(
        contact, actor=marketer, consent=Consent.GRANTED, reason="form"
    )
    assert updated.marketing_consent == Consent.GRANTED
    assert updated.consent_changed_at is not None
    assert updated.version == 2
    event = events(contact, "contact.consent_changed").get()
    assert event.old == {"marketing_consent": "unknown"}
    assert event.new == {"marketing_consent": "granted"}
    assert event.reason == "form"


def test_set_consent_refuses_unknown_values(marketer):
    with pytest.raises(ValidationFailed) as exc:
        set_consent(make_contact(), actor=marketer, consent="maybe")
    assert exc.value.code == "invalid_consent"


def test_put_in_marketing_database_once_with_an_audit_row(inside):
    contact = make_contact()
    assert put_in_marketing_database(contact, actor=inside, reason="inquiry") is True
    assert put_in_marketing_database(contact, actor=inside, reason="again") is False
    contact.refresh_from_db()
    assert contact.in_marketing_database is True
    assert events(contact, "contact.added_to_marketing_database").count() == 1


def test_put_in_marketing_database_skips_opted_out_contacts(inside, marketer):
    contact = make_contact()
    set_consent(contact, actor=marketer, consent=Consent.OPTED_OUT)
    stale = Contact.objects.get(pk=contact.pk)
    stale.marketing_consent = (
        Consent.UNKNOWN
    )  # an in-memory copy read before the opt-out
    assert put_in_marketing_database(stale, actor=inside, reason="inquiry") is False
    contact.refresh_from_db()
    assert contact.in_marketing_database is False


def test_record_a_sales_visit_moves_last_sales_visit_forward_only(rep):
    contact = make_contact(company="Acme NV")
    now = timezone.now()
    record_visit(actor=rep, kind="sales", at=now - timedelta(days=2), contact=contact)
    record_visit(actor=rep, kind="sales", at=now - timedelta(days=5), contact=contact)
    contact.refresh_from_db()
    contact.company.refresh_from_db()
    assert contact.last_sales_visit_at == now - timedelta(days=2)
    assert contact.company.last_sales_visit_at == now - timedelta(days=2)


def test_a_website_visit_is_attached_to_the_company_too(marketer):
    contact = make_contact(company="Acme NV")
    visit = record_visit(
        actor=marketer,
        kind="website",
        at=timezone.now(),
        contact=contact,
        url="/pricing",
    )
    assert visit.company == contact.company
    assert visit.recorded_by == marketer
    contact.refresh_from_db()
    assert contact.last_sales_visit_at is None


def test_record_visit_refuses_unknown_kinds_and_missing_subjects(rep):
    with pytest.raises(ValidationFailed) as exc:
        record_visit(actor=rep, kind="phone", at=timezone.now(), contact=make_contact())
    assert exc.value.code == "invalid_visit_kind"
    with pytest.raises(ValidationFailed) as exc:
        record_visit(actor=rep, kind="sales", at=timezone.now())
    assert exc.value.code == "visit_subject"
