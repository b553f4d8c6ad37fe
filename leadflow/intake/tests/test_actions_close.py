"""close_inquiry: exactly one outcome, documented, and the inquiry is closed for good."""

from decimal import Decimal

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Consent, Contact
from leadflow.core.errors import ValidationFailed
from leadflow.intake.actions import close_inquiry
from leadflow.intake.errors import InquiryClosed
from leadflow.intake.models import Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_inquiry
from leadflow.marketing.actions import record_consent
from leadflow.marketing.models import MarketingList
from leadflow.marketing.queries import list_names_for
from leadflow.opportunities.models import Opportunity, OpportunityTransition, Stage
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def inquiry(inside):
    return make_inquiry(
        inside,
        name="Piet Janssens",
        company="Janssens BV",
        summary="Quote for 20 office chairs\nDelivery before March",
    )


def close_row(inquiry) -> InquiryTransition:
    return InquiryTransition.objects.get(inquiry=inquiry, to_state="closed")


# --- qualified ---------------------------------------------------------------------


def test_qualified_creates_one_opportunity_with_the_owner_in_the_first_stage(
    inquiry, inside, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        closed = close_inquiry(
            inquiry,
            actor=inside,
            outcome="qualified",
            owner=rep,
            reason="budget approved",
            expected_value=Decimal("12500.00"),
        )
    assert closed.status == "closed"
    assert closed.outcome == "qualified"
    opportunity = Opportunity.objects.get()
    assert opportunity.inquiry == inquiry
    assert opportunity.owner == rep
    assert opportunity.stage.code == "qualification"
    assert opportunity.status == "open"
    assert opportunity.title == "Quote for 20 office chairs"
    assert opportunity.contact == inquiry.contact
    assert opportunity.company == inquiry.company
    assert opportunity.expected_value == Decimal("12500.00")
    row = OpportunityTransition.objects.get(opportunity=opportunity)
    assert (row.from_state, row.to_state, row.actor) == ("", "open", inside)
    assert row.reason == "budget approved"
    assert row.data == {
        "event": "opportunity.created",
        "stage": "qualification",
        "owner": "rep",
        "inquiry_id": inquiry.pk,
    }


def test_qualified_notifies_the_owner(inquiry, inside, rep):
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    opportunity = Opportunity.objects.get()
    notification = Notification.objects.get(recipient=rep)
    assert notification.event_type == "opportunity.assigned"
    assert (
        notification.message == "New qualified lead for you: Quote for 20 office chairs"
    )
    assert notification.actor == inside
    assert notification.url == f"/opportunities/{opportunity.pk}/"
    assert (notification.subject_type, notification.subject_id) == (
        "opportunities.opportunity",
        opportunity.pk,
    )
    assert AuditEvent.objects.filter(
        subject_type="opportunities.opportunity",
        subject_id=opportunity.pk,
        event_type="notification.sent",
    ).exists()


def test_qualified_owner_may_be_given_by_username(inquiry, inside, rep):
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner="rep")
    assert Opportunity.objects.get().owner == rep


def test_qualified_without_owner_goes_to_the_actor_who_may_own_leads(inquiry, inside):
    close_inquiry(inquiry, actor=inside, outcome="qualified")
    assert Opportunity.objects.get().owner == inside
    assert not Notification.objects.exists()  # nobody to tell: the actor owns it


def test_qualified_without_owner_by_someone_who_cannot_own_is_refused(inquiry, admin):
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=admin, outcome="qualified")
    assert exc.value.code == "owner_required"
    assert str(exc.value) == "A qualified lead needs an owner."
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


@pytest.mark.parametrize("persona", ["marketer", "colleague", "admin"])
def test_qualified_owner_must_have_a_role_that_owns_leads(
    inquiry, inside, personas, persona
):
    owner = personas[persona]
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=inside, outcome="qualified", owner=owner)
    assert exc.value.code == "owner_not_allowed"
    role = owner.get_role_display()
    assert str(exc.value) == f"{owner} cannot own qualified leads (role: {role})."
    assert not Opportunity.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


def test_qualified_owner_must_be_active(inquiry, inside, rep):
    rep.is_active = False
    rep.save()
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    assert exc.value.code == "owner_not_allowed"


def test_qualified_owner_given_by_an_unknown_username_is_refused(inquiry, inside):
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=inside, outcome="qualified", owner="ghost")
    assert exc.value.code == "unknown_user"


def test_qualified_uses_the_first_active_stage_in_the_configured_order(
    inquiry, inside, rep
):
    Stage.objects.create(code="discovery", name="Discovery", order=5, weight="0.1")
    Stage.objects.create(
        code="intro", name="Intro", order=1, weight="0.1", is_active=False
    )
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    assert Opportunity.objects.get().stage.code == "discovery"


def test_qualified_without_any_active_stage_is_refused(inquiry, inside, rep):
    Stage.objects.update(is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    assert exc.value.code == "no_stage"
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


# --- nurture -----------------------------------------------------------------------


def test_nurture_puts_the_contact_on_the_named_lists(inquiry, inside, marketer):
    MarketingList.objects.create(name="Newsletter")
    close_inquiry(
        inquiry,
        actor=inside,
        outcome="nurture",
        marketing_lists=["newsletter", "Workshop invites"],
        reason="not before next year",
    )
    assert list_names_for(inquiry.contact) == ["Newsletter", "Workshop invites"]
    assert MarketingList.objects.count() == 2  # 'newsletter' matched the existing list
    assert not Opportunity.objects.exists()
    membership = inquiry.contact.list_memberships.first()
    assert membership.source == f"inquiry #{inquiry.pk}"
    assert membership.added_by == inside


def test_nurture_without_lists_uses_the_default_list(inquiry, inside):
    close_inquiry(inquiry, actor=inside, outcome="nurture")
    assert list_names_for(inquiry.contact) == ["Nurture"]


def test_nurture_with_an_empty_list_of_names_uses_the_default_list(inquiry, inside):
    close_inquiry(inquiry, actor=inside, outcome="nurture", marketing_lists=[])
    assert list_names_for(inquiry.contact) == ["Nurture"]


def test_nurture_adjusts_the_lists_of_an_existing_contact(inside):
    first = make_inquiry(inside, email="piet@janssens.be")
    close_inquiry(
        first, actor=inside, outcome="nurture", marketing_lists=["Newsletter"]
    )
    second = make_inquiry(inside, email="piet@janssens.be")
    assert second.contact == first.contact
    close_inquiry(
        second, actor=inside, outcome="nurture", marketing_lists=["Workshops"]
    )
    assert list_names_for(first.contact) == ["Newsletter", "Workshops"]


def test_nurture_of_an_opted_out_requester_puts_them_on_no_list(
    inquiry, inside, marketer
):
    record_consent(inquiry.contact, actor=marketer, consent=Consent.OPTED_OUT)
    close_inquiry(inquiry, actor=inside, outcome="nurture", marketing_lists=["News"])
    assert list_names_for(inquiry.contact) == []


# --- archived ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_archived_without_a_reason_is_refused(inquiry, inside, reason):
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=inside, outcome="archived", reason=reason)
    assert exc.value.code == "reason_required"
    assert str(exc.value) == "Say why the inquiry is archived."
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


def test_archived_with_a_reason_closes_without_further_action(inquiry, inside):
    closed = close_inquiry(inquiry, actor=inside, outcome="archived", reason=" spam ")
    assert closed.outcome == "archived"
    assert closed.close_reason == "spam"
    assert not Opportunity.objects.exists()
    assert list_names_for(inquiry.contact) == []


# --- every outcome -------------------------------------------------------------------


def test_an_unknown_outcome_is_refused(inquiry, inside):
    with pytest.raises(ValidationFailed) as exc:
        close_inquiry(inquiry, actor=inside, outcome="won")
    assert exc.value.code == "invalid_outcome"
    assert str(exc.value) == "Choose an outcome: qualified, nurture or archived."


@pytest.mark.parametrize("outcome", ["qualified", "nurture", "archived"])
def test_every_outcome_puts_the_requester_in_the_marketing_database(
    inquiry, inside, outcome
):
    close_inquiry(inquiry, actor=inside, outcome=outcome, reason="because")
    contact = Contact.objects.get(pk=inquiry.contact_id)
    assert contact.in_marketing_database is True
    assert AuditEvent.objects.filter(
        subject_type="contacts.contact",
        subject_id=contact.pk,
        event_type="contact.added_to_marketing_database",
    ).exists()


@pytest.mark.parametrize("outcome", ["qualified", "nurture", "archived"])
def test_an_opted_out_requester_stays_out_of_the_marketing_database(
    inquiry, inside, marketer, outcome
):
    record_consent(inquiry.contact, actor=marketer, consent=Consent.OPTED_OUT)
    close_inquiry(inquiry, actor=inside, outcome=outcome, reason="because")
    assert Contact.objects.get(pk=inquiry.contact_id).in_marketing_database is False


@pytest.mark.parametrize(
    ("outcome", "kwargs", "data"),
    [
        ("qualified", {"owner": "rep"}, {"owner": "rep", "marketing_lists": []}),
        (
            "nurture",
            {"marketing_lists": ["News"]},
            {"owner": None, "marketing_lists": ["News"]},
        ),
        ("archived", {}, {"owner": None, "marketing_lists": []}),
    ],
)
def test_closing_writes_the_transition_row_and_closes_the_inquiry(
    inquiry, inside, outcome, kwargs, data
):
    closed = close_inquiry(
        inquiry, actor=inside, outcome=outcome, reason="why", **kwargs
    )
    row = close_row(inquiry)
    assert row.actor == inside
    assert (row.from_state, row.to_state) == ("open", "closed")
    assert row.reason == "why"
    assert row.data == {"event": "inquiry.closed", "outcome": outcome, **data}
    assert row.processed_at is None
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.status == "closed"
    assert stored.outcome == outcome
    assert stored.close_reason == "why"
    assert stored.closed_by == inside
    assert abs(stored.closed_at - row.at).total_seconds() < 1
    assert stored.version == 2
    assert closed.status == "closed"


def test_closing_a_closed_inquiry_is_refused(inquiry, inside):
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="spam")
    again = Inquiry.objects.get(pk=inquiry.pk)
    with pytest.raises(InquiryClosed) as exc:
        close_inquiry(again, actor=inside, outcome="qualified", owner="rep")
    assert exc.value.code == "inquiry_closed"
    assert exc.value.status == 409
    assert str(exc.value).startswith("This inquiry is already closed")
    assert not Opportunity.objects.exists()
    assert (
        InquiryTransition.objects.filter(inquiry=inquiry, to_state="closed").count()
        == 1
    )


def test_the_system_can_close_without_an_actor(inquiry):
    closed = close_inquiry(inquiry, actor=None, outcome="archived", reason="duplicate")
    assert closed.closed_by is None
    assert close_row(inquiry).actor is None
