"""The two other intake paths: a re-order is booked, a question on a running lead
is handed to its owner. Neither registers an inquiry."""

from decimal import Decimal

import pytest
from django.utils import timezone

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Lifecycle
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.intake.actions import book_order, hand_over_question
from leadflow.intake.models import Inquiry
from leadflow.intake.tests.factories import make_opportunity
from leadflow.opportunities.models import Opportunity
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db


def events(obj, event_type):
    return AuditEvent.objects.filter(
        subject_type=obj._meta.label_lower, subject_id=obj.pk, event_type=event_type
    )


# --- book_order ----------------------------------------------------------------------


def test_book_order_for_a_contact_books_it_on_their_company(inside):
    contact = make_contact(company="Acme NV")
    order = book_order(
        actor=inside,
        contact=contact,
        description="  20 more chairs ",
        amount=Decimal("2400.00"),
        reference=" PO-77 ",
        channel="email",
    )
    assert order.company == contact.company
    assert order.contact == contact
    assert order.description == "20 more chairs"
    assert order.reference == "PO-77"
    assert order.channel.code == "email"
    assert order.booked_by == inside
    booked = events(contact.company, "order.booked").get()
    assert booked.new == {
        "order": order.pk,
        "description": "20 more chairs",
        "amount": "2400.00",
    }
    assert not Inquiry.objects.exists()


def test_book_order_makes_the_company_a_customer_with_an_audit_row(inside):
    contact = make_contact(company="Acme NV")
    order = book_order(actor=inside, contact=contact, description="chairs")
    contact.company.refresh_from_db()
    assert contact.company.lifecycle == Lifecycle.CUSTOMER
    contact.refresh_from_db()
    assert contact.effective_lifecycle == Lifecycle.CUSTOMER
    changed = events(contact.company, "lifecycle.changed").get()
    assert changed.old == {"lifecycle": "prospect"}
    assert changed.new == {"lifecycle": "customer"}
    assert changed.reason == f"order #{order.pk}"


def test_book_order_for_a_person_without_company_makes_the_person_a_customer(inside):
    contact = make_contact()
    book_order(actor=inside, contact=contact, description="chairs")
    contact.refresh_from_db()
    assert contact.lifecycle == Lifecycle.CUSTOMER
    assert events(contact, "order.booked").exists()


def test_a_second_order_of_a_customer_does_not_change_the_lifecycle_again(inside):
    contact = make_contact(company="Acme NV")
    book_order(actor=inside, contact=contact, description="chairs")
    book_order(actor=inside, company=contact.company, description="desks")
    assert events(contact.company, "lifecycle.changed").count() == 1
    assert events(contact.company, "order.booked").count() == 2


def test_book_order_keeps_the_given_order_date(inside):
    ordered_at = timezone.now() - timezone.timedelta(days=3)
    order = book_order(
        actor=inside, contact=make_contact(), description="x", ordered_at=ordered_at
    )
    assert order.ordered_at == ordered_at


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"description": " "}, "description_required"),
        ({"contact": None}, "customer_required"),
        ({"amount": Decimal("-1")}, "negative_amount"),
        ({"channel": "pigeon"}, "unknown_channel"),
    ],
)
def test_book_order_refuses_incomplete_orders(inside, kwargs, code):
    values = {"description": "chairs", "contact": make_contact(), **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        book_order(actor=inside, **values)
    assert exc.value.code == code


# --- hand_over_question ----------------------------------------------------------------


def test_hand_over_logs_the_question_on_the_lead_and_notifies_its_owner(inside, rep):
    opportunity = make_opportunity(inside, owner=rep, summary="Chairs")
    Notification.objects.all().delete()
    inquiries = Inquiry.objects.count()
    returned = hand_over_question(
        opportunity, actor=inside, question="When is delivery?", channel="phone"
    )
    assert returned == opportunity
    event = events(opportunity, "opportunity.question_handed_over").get()
    assert event.actor == inside
    assert event.new == {"question": "When is delivery?", "channel": "phone"}
    notification = Notification.objects.get(recipient=rep)
    assert notification.event_type == "opportunity.question_handed_over"
    assert notification.message == (
        "Inside Persona handed you a question on Chairs: When is delivery?"
    )
    assert Inquiry.objects.count() == inquiries


def test_hand_over_to_a_closed_lead_is_a_conflict(inside, rep):
    opportunity = make_opportunity(inside, owner=rep)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status="lost", closed_at=timezone.now()
    )
    opportunity.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        hand_over_question(opportunity, actor=inside, question="Still interested?")
    assert exc.value.code == "opportunity_closed"
    assert exc.value.status == 409
    assert str(exc.value) == (
        "This qualified lead is closed; register a new inquiry instead."
    )
    assert not events(opportunity, "opportunity.question_handed_over").exists()


def test_hand_over_needs_a_question_and_a_known_channel(inside, rep):
    opportunity = make_opportunity(inside, owner=rep)
    with pytest.raises(ValidationFailed) as exc:
        hand_over_question(opportunity, actor=inside, question="  ")
    assert exc.value.code == "question_required"
    with pytest.raises(ValidationFailed) as exc:
        hand_over_question(opportunity, actor=inside, question="q", channel="fax")
    assert exc.value.code == "unknown_channel"
