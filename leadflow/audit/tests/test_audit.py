"""The audit log is append-only: model, queryset and database refuse changes."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from leadflow.audit.actions import changed_fields, record_event
from leadflow.audit.models import AuditEvent
from leadflow.audit.queries import timeline_for
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.tests.factories import make_inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(inside):
    return record_event(
        actor=inside,
        subject=make_contact(),
        event_type="contact.updated",
        old={"email": "a@x.be"},
        new={"email": "anna@x.be"},
        reason="typo",
    )


def test_record_event_stores_actor_subject_and_old_new_values(inside):
    contact = make_contact()
    event = record_event(
        actor=inside,
        subject=contact,
        event_type="contact.updated",
        old={"job_title": ""},
        new={"job_title": "CEO"},
        reason="called",
    )
    event.refresh_from_db()
    assert event.actor == inside
    assert (event.subject_type, event.subject_id) == ("contacts.contact", contact.pk)
    assert event.old == {"job_title": ""}
    assert event.new == {"job_title": "CEO"}
    assert event.reason == "called"


def test_record_event_by_the_system_has_no_actor():
    event = record_event(actor=None, subject=make_contact(), event_type="x.y")
    assert event.actor is None


def test_record_event_makes_values_json_safe(inside):
    company = make_contact(company="Acme NV").company
    event = record_event(
        actor=inside,
        subject=company,
        event_type="x",
        new={
            "amount": Decimal("12.50"),
            "on": date(2026, 1, 2),
            "who": inside,
            "n": None,
        },
    )
    event.refresh_from_db()
    assert event.new == {
        "amount": "12.50",
        "on": "2026-01-02",
        "who": "Inside Persona",
        "n": None,
    }


def test_saving_an_existing_event_is_refused(event):
    event.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        event.save()


def test_deleting_an_event_is_refused(event):
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_and_delete_are_refused(event):
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.reason == "typo"


def test_the_database_refuses_a_raw_update(event):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["x", event.pk]
            )
    event.refresh_from_db()
    assert event.reason == "typo"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no DELETE trigger (the test flush deletes rows)",
)
def test_the_database_refuses_a_raw_delete_on_postgresql(event):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_changed_fields_reports_only_real_changes():
    contact = make_contact("Piet", email="p@x.be")
    old, new = changed_fields(contact, {"name": "Piet", "email": "piet@x.be"})
    assert old == {"email": "p@x.be"}
    assert new == {"email": "piet@x.be"}


def test_timeline_merges_events_and_transitions_newest_first(inside):
    inquiry = make_inquiry(inside)
    record_event(actor=inside, subject=inquiry, event_type="inquiry.updated")
    entries = timeline_for(inquiry, inquiry.transitions.all())
    assert [e.kind for e in entries] == ["event", "transition"]
    assert entries[1].event_type == "inquiry.registered"
    assert entries[1].to_state == "open"
    assert entries[1].actor == inside
