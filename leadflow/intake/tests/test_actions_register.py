"""register_inquiry: every inquiry is registered, with where it came from and who took it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.contacts.actions import ContactData
from leadflow.contacts.models import Company, Contact
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import ValidationFailed
from leadflow.intake.actions import InquiryInput, register_inquiry
from leadflow.intake.models import Channel, Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_campaign, make_inquiry

pytestmark = pytest.mark.django_db


def register(actor, **kwargs) -> Inquiry:
    kwargs.setdefault("summary", "Quote for 20 office chairs")
    kwargs.setdefault("channel", "phone")
    if "contact" not in kwargs and "contact_id" not in kwargs:
        kwargs["contact"] = ContactData(name="Piet Janssens", email="piet@janssens.be")
    return register_inquiry(InquiryInput(**kwargs), actor=actor)


def test_an_unknown_requester_becomes_a_new_contact_with_company(inside):
    inquiry = register(
        inside,
        contact=ContactData(
            name="Piet Janssens",
            email="piet@janssens.be",
            phone="09 300 11 22",
            company_name="Janssens BVBA",
            company_size=25,
        ),
    )
    contact = inquiry.contact
    assert contact.name == "Piet Janssens"
    assert contact.email_key == "piet@janssens.be"
    assert contact.phone_key == "+3293001122"
    assert contact.company.name == "Janssens BVBA"
    assert contact.company.size == 25
    assert inquiry.company == contact.company
    assert contact.created_by == inside


def test_the_new_inquiry_is_open_and_records_source_and_receiver(inside, department):
    inquiry = register(inside, referrer="  Jan from Acme  ")
    inquiry.refresh_from_db()
    assert inquiry.status == "open"
    assert inquiry.outcome == ""
    assert inquiry.summary == "Quote for 20 office chairs"
    assert inquiry.channel.code == "phone"
    assert inquiry.referrer == "Jan from Acme"
    assert inquiry.received_by == inside
    assert inquiry.department == department
    assert inquiry.created_by == inside
    assert inquiry.version == 1
    assert abs(inquiry.received_at - timezone.now()) < timedelta(seconds=10)


def test_registering_writes_the_first_transition_row(inside):
    inquiry = register(inside, extra={"source": "api"})
    row = InquiryTransition.objects.get(inquiry=inquiry)
    assert (row.from_state, row.to_state) == ("", "open")
    assert row.actor == inside
    assert row.data == {
        "event": "inquiry.registered",
        "channel": "phone",
        "source": "api",
    }
    assert row.processed_at is None


def test_an_existing_contact_is_reused_by_e_mail_whatever_the_case(inside):
    known = make_contact(
        "Piet Janssens", email="piet@janssens.be", company="Janssens BV"
    )
    inquiry = register(
        inside, contact=ContactData(name="P. Janssens", email=" PIET@Janssens.BE ")
    )
    assert inquiry.contact == known
    assert inquiry.company == known.company
    assert Contact.objects.count() == 1


def test_a_known_contact_without_company_gets_the_company_typed_at_intake(inside):
    make_contact("Piet Janssens", email="piet@janssens.be")
    inquiry = register(
        inside,
        contact=ContactData(
            name="Piet Janssens", email="piet@janssens.be", company_name="Janssens BV"
        ),
    )
    assert inquiry.company is not None
    assert inquiry.company.name == "Janssens BV"


def test_an_existing_contact_is_reused_by_phone_and_name(inside):
    known = make_contact("Piet Janssens", email="", phone="+32 9 300 11 22")
    inquiry = register(
        inside, contact=ContactData(name="piet janssens", phone="09/300.11.22")
    )
    assert inquiry.contact == known


def test_same_phone_with_another_name_is_a_new_contact(inside):
    make_contact("Piet Janssens", email="", phone="09 300 11 22")
    inquiry = register(
        inside, contact=ContactData(name="Marie Janssens", phone="093001122")
    )
    assert inquiry.contact.name == "Marie Janssens"
    assert Contact.objects.count() == 2


def test_a_known_contact_can_be_given_by_id(inside):
    known = make_contact()
    inquiry = register(inside, contact_id=known.pk)
    assert inquiry.contact == known


def test_the_company_is_created_once_for_colleagues_of_the_same_company(inside):
    first = register(
        inside,
        contact=ContactData(name="Piet", email="p@j.be", company_name="Janssens BVBA"),
    )
    second = register(
        inside,
        contact=ContactData(name="Els", email="e@j.be", company_name="janssens bv"),
    )
    assert first.company == second.company
    assert Company.objects.count() == 1


@pytest.mark.parametrize(
    ("channel", "prompted"),
    [("phone", False), ("web_form", False), ("telemarketing", True), ("event", True)],
)
def test_prompted_defaults_from_the_channel(inside, channel, prompted):
    assert register(inside, channel=channel).prompted is prompted


def test_a_campaign_makes_the_inquiry_prompted(inside):
    make_campaign("Spring mailing")
    inquiry = register(inside, channel="email", campaign="spring MAILING")
    assert inquiry.campaign.name == "Spring mailing"
    assert inquiry.prompted is True


def test_an_explicit_prompted_flag_wins_over_the_default(inside):
    make_campaign("Spring mailing")
    assert register(inside, channel="telemarketing", prompted=False).prompted is False
    assert register(inside, channel="phone", prompted=True).prompted is True
    assert register(inside, campaign="Spring mailing", prompted=False).prompted is False


@pytest.mark.parametrize("typed", ["phone", "PHONE", "Phone", "telefoon"])
def test_the_channel_is_found_by_code_or_english_or_dutch_name(inside, typed):
    assert register(inside, channel=typed).channel.code == "phone"


def test_unknown_channel_is_refused_and_lists_the_known_ones(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, channel="pigeon")
    assert exc.value.code == "unknown_channel"
    assert exc.value.status == 422
    assert str(exc.value).startswith(
        "Unknown channel 'pigeon'. Known channels: phone, email"
    )
    assert not Inquiry.objects.exists()
    assert not Contact.objects.exists()


def test_an_inactive_channel_is_refused(inside):
    Channel.objects.filter(code="event").update(is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        register(inside, channel="event")
    assert exc.value.code == "unknown_channel"


def test_unknown_campaign_is_refused(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, campaign="Nope")
    assert exc.value.code == "unknown_campaign"
    assert str(exc.value) == "Unknown campaign 'Nope'. An administrator can add it."


def test_unknown_receiving_user_is_refused(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, received_by="ghost")
    assert exc.value.code == "unknown_user"
    assert str(exc.value) == "Unknown user 'ghost' for received by."


def test_an_inactive_receiving_user_is_refused(inside, rep):
    rep.is_active = False
    rep.save()
    with pytest.raises(ValidationFailed) as exc:
        register(inside, received_by="rep")
    assert exc.value.code == "unknown_user"


def test_unknown_department_is_refused(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, department="Finance")
    assert exc.value.code == "unknown_department"
    assert str(exc.value) == "Unknown department 'Finance'."


def test_unknown_contact_id_is_refused(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, contact_id=999_999)
    assert exc.value.code == "unknown_contact"


def test_someone_must_have_asked_the_question(inside):
    with pytest.raises(ValidationFailed) as exc:
        register_inquiry(InquiryInput(summary="x", channel="phone"), actor=inside)
    assert exc.value.code == "contact_required"


@pytest.mark.parametrize(
    ("summary", "code"), [("", "summary_required"), ("   \n", "summary_required")]
)
def test_a_summary_is_required(inside, summary, code):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, summary=summary)
    assert exc.value.code == code
    assert str(exc.value) == "Summarise the question."


def test_a_huge_summary_is_refused(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, summary="x" * 10_001)
    assert exc.value.code == "summary_too_long"


def test_received_in_the_future_is_refused(inside):
    with pytest.raises(ValidationFailed) as exc:
        register(inside, received_at=timezone.now() + timedelta(hours=1))
    assert exc.value.code == "received_in_future"
    assert str(exc.value) == "The inquiry cannot be received in the future."
    assert not Inquiry.objects.exists()


def test_a_little_clock_skew_and_past_dates_are_accepted(inside):
    soon = timezone.now() + timedelta(minutes=4)
    assert register(inside, received_at=soon).received_at == soon
    last_week = timezone.now() - timedelta(days=7)
    assert register(inside, received_at=last_week).received_at == last_week


def test_received_by_another_colleague_takes_their_department(inside, colleague):
    inquiry = register(inside, received_by="colleague")
    assert inquiry.received_by == colleague
    assert inquiry.department.name == "Service"
    assert inquiry.created_by == inside


def test_an_explicit_department_wins_case_insensitively(inside):
    inquiry = register(inside, department="marketing")
    assert inquiry.department.name == "Marketing"


def test_any_colleague_can_register(colleague):
    inquiry = make_inquiry(colleague)
    assert inquiry.received_by == colleague
    assert inquiry.department.name == "Service"


def test_the_system_registers_without_a_receiver():
    inquiry = make_inquiry(None)
    assert inquiry.received_by is None
    assert inquiry.created_by is None
    assert inquiry.department is None
    assert inquiry.transitions.get().actor is None


def test_every_inquiry_is_registered_even_from_existing_customers(inside):
    known = make_contact()
    make_inquiry(inside, contact=known)
    make_inquiry(inside, contact=known)
    assert Inquiry.objects.filter(contact=known).count() == 2
