"""A closed inquiry never changes: the model and a database trigger refuse it."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.actions import close_inquiry
from leadflow.intake.errors import InquiryClosed
from leadflow.intake.models import Inquiry
from leadflow.intake.tests.factories import make_inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(inside):
    inquiry = make_inquiry(inside, summary="Original question")
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="spam")
    return Inquiry.objects.get(pk=inquiry.pk)


def test_saving_a_closed_inquiry_is_refused(closed):
    closed.summary = "Rewritten"
    with pytest.raises(InquiryClosed) as exc:
        closed.save()
    assert exc.value.code == "inquiry_closed"
    assert Inquiry.objects.get(pk=closed.pk).summary == "Original question"


def test_saving_the_instance_returned_by_close_is_refused_as_closed(inside):
    inquiry = make_inquiry(inside)
    returned = close_inquiry(inquiry, actor=inside, outcome="archived", reason="spam")
    returned.summary = "Rewritten"
    with pytest.raises(InquiryClosed), transaction.atomic():
        returned.save()


def test_reopening_by_save_is_refused(closed):
    closed.status = "open"
    closed.outcome = ""
    closed.closed_at = None
    with pytest.raises(InquiryClosed):
        closed.save()


@pytest.mark.parametrize(
    "values",
    [
        {"summary": "Rewritten"},
        {"status": "open", "outcome": "", "closed_at": None},
        {"outcome": "nurture"},
        {"close_reason": "other reason"},
        {"referrer": "someone"},
        {"prompted": True},
        {"received_at": timezone.now() - timedelta(days=3)},
    ],
    ids=[
        "summary",
        "reopen",
        "outcome",
        "reason",
        "referrer",
        "prompted",
        "received_at",
    ],
)
def test_the_database_refuses_a_raw_update_of_a_closed_inquiry(closed, values):
    with pytest.raises(IntegrityError, match="closed"), transaction.atomic():
        Inquiry.objects.filter(pk=closed.pk).update(**values)
    assert Inquiry.objects.get(pk=closed.pk).summary == "Original question"


def test_the_database_refuses_changing_the_assessor_of_a_closed_inquiry(closed, rep):
    with pytest.raises(IntegrityError), transaction.atomic():
        Inquiry.objects.filter(pk=closed.pk).update(assignee=rep)


def test_the_contact_of_a_closed_inquiry_may_still_move_for_a_merge(closed):
    survivor = make_contact("Survivor", company="Survivor NV")
    Inquiry.objects.filter(pk=closed.pk).update(
        contact=survivor, company=survivor.company
    )
    moved = Inquiry.objects.get(pk=closed.pk)
    assert moved.contact == survivor
    assert moved.company == survivor.company


def test_an_open_inquiry_may_be_updated(inside):
    inquiry = make_inquiry(inside)
    Inquiry.objects.filter(pk=inquiry.pk).update(summary="Corrected")
    assert Inquiry.objects.get(pk=inquiry.pk).summary == "Corrected"


def test_inquiries_are_never_deleted(closed):
    with pytest.raises(TypeError, match="never deleted"):
        closed.delete()
    with pytest.raises(ProtectedError):
        Inquiry.objects.filter(pk=closed.pk).delete()
    assert Inquiry.objects.filter(pk=closed.pk).exists()
