"""Correcting and assigning open inquiries: versioned, audited, closed ones refuse."""

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.intake.actions import assign_inquiry, close_inquiry, update_inquiry
from leadflow.intake.errors import InquiryClosed
from leadflow.intake.models import Inquiry
from leadflow.intake.tests.factories import make_campaign, make_inquiry

pytestmark = pytest.mark.django_db


def events(inquiry, event_type):
    return AuditEvent.objects.filter(
        subject_type="intake.inquiry", subject_id=inquiry.pk, event_type=event_type
    )


@pytest.fixture
def inquiry(inside):
    return make_inquiry(inside, summary="Chairs", channel="phone")


def test_update_inquiry_corrects_details_and_bumps_the_version(inquiry, inside):
    make_campaign("Spring mailing")
    updated = update_inquiry(
        inquiry,
        actor=inside,
        version=1,
        summary="Chairs and desks",
        channel="e-mail",
        campaign="spring mailing",
        referrer="Acme",
        prompted=True,
        department="Marketing",
    )
    assert updated.version == 2
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.summary == "Chairs and desks"
    assert stored.channel.code == "email"
    assert stored.campaign.name == "Spring mailing"
    assert stored.referrer == "Acme"
    assert stored.prompted is True
    assert stored.department.name == "Marketing"
    event = events(inquiry, "inquiry.updated").get()
    assert event.actor == inside
    assert event.old["summary"] == "Chairs"
    assert event.new["summary"] == "Chairs and desks"
    assert event.new["channel"] == "E-mail"


def test_update_inquiry_with_a_stale_version_conflicts(inquiry, inside, director):
    update_inquiry(inquiry, actor=director, version=1, summary="Director's version")
    with pytest.raises(Conflict) as exc:
        update_inquiry(inquiry, actor=inside, version=1, summary="Mine")
    assert exc.value.code == "stale_version"
    assert exc.value.status == 409
    assert str(exc.value) == (
        "The record was changed by someone else. Reload and try again."
    )
    assert Inquiry.objects.get(pk=inquiry.pk).summary == "Director's version"


def test_update_inquiry_refuses_a_closed_inquiry(inquiry, inside):
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="spam")
    with pytest.raises(InquiryClosed) as exc:
        update_inquiry(inquiry, actor=inside, version=2, summary="x")
    assert exc.value.code == "inquiry_closed"


def test_update_inquiry_refuses_fields_that_are_not_corrections(inquiry, inside):
    with pytest.raises(ValidationFailed) as exc:
        update_inquiry(inquiry, actor=inside, version=1, status="closed", contact=None)
    assert exc.value.code == "invalid"
    assert str(exc.value) == "These fields cannot be changed: contact, status"


def test_update_inquiry_refuses_an_empty_summary_and_unknown_channel(inquiry, inside):
    with pytest.raises(ValidationFailed) as exc:
        update_inquiry(inquiry, actor=inside, version=1, summary="  ")
    assert exc.value.code == "summary_required"
    with pytest.raises(ValidationFailed) as exc:
        update_inquiry(inquiry, actor=inside, version=1, channel="fax")
    assert exc.value.code == "unknown_channel"


def test_update_inquiry_without_changes_keeps_the_version(inquiry, inside):
    same = update_inquiry(inquiry, actor=inside, version=1, summary="Chairs")
    assert same.version == 1
    assert not events(inquiry, "inquiry.updated").exists()


def test_assign_gives_the_inquiry_to_a_colleague_who_assesses(
    inquiry, inside, director
):
    assigned = assign_inquiry(inquiry, actor=director, assignee=inside)
    assert assigned.assignee == inside
    assert assigned.version == 2
    event = events(inquiry, "inquiry.assigned").get()
    assert event.actor == director
    assert event.old == {"assignee": None}
    assert event.new == {"assignee": "Inside Persona"}


def test_assign_to_someone_who_cannot_assess_is_refused(inquiry, director, rep):
    with pytest.raises(ValidationFailed) as exc:
        assign_inquiry(inquiry, actor=director, assignee=rep)
    assert exc.value.code == "assignee_not_allowed"
    assert str(exc.value) == "Rep Persona cannot assess inquiries."


def test_assign_nobody_takes_the_inquiry_back(inquiry, inside, director):
    assign_inquiry(inquiry, actor=director, assignee=inside)
    unassigned = assign_inquiry(inquiry, actor=director, assignee=None)
    assert unassigned.assignee is None
    assert events(inquiry, "inquiry.assigned").count() == 2


def test_assign_the_same_person_again_changes_nothing(inquiry, inside, director):
    assign_inquiry(inquiry, actor=director, assignee=inside)
    again = assign_inquiry(inquiry, actor=director, assignee=inside)
    assert again.version == 2
    assert events(inquiry, "inquiry.assigned").count() == 1


def test_assign_refuses_a_closed_inquiry(inquiry, inside, director):
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="spam")
    with pytest.raises(InquiryClosed):
        assign_inquiry(inquiry, actor=director, assignee=director)
