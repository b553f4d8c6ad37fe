"""Opening a qualified lead: one owner who may own leads, the first stage, a history."""

from decimal import Decimal

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import ValidationFailed
from leadflow.intake.tests.factories import make_opportunity
from leadflow.opportunities.actions import (
    check_owner,
    first_stage,
    log_handover,
    open_opportunity,
)
from leadflow.opportunities.models import OpportunityTransition, Stage
from leadflow.opportunities.queries import (
    get_opportunity_for_handover,
    open_for_contacts,
    visible_opportunities,
)
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db


def test_default_stages_are_qualification_proposal_negotiation():
    assert list(Stage.objects.values_list("code", "weight")) == [
        ("qualification", Decimal("0.250")),
        ("proposal", Decimal("0.500")),
        ("negotiation", Decimal("0.750")),
    ]
    assert first_stage().code == "qualification"


def test_first_stage_skips_inactive_stages():
    Stage.objects.filter(code="qualification").update(is_active=False)
    assert first_stage().code == "proposal"


@pytest.mark.parametrize("persona", ["inside", "rep", "outsider", "director"])
def test_sales_roles_may_own_leads(personas, persona):
    assert check_owner(personas[persona]) == personas[persona]


@pytest.mark.parametrize("persona", ["admin", "marketer", "colleague"])
def test_other_roles_may_not_own_leads(personas, persona):
    with pytest.raises(ValidationFailed) as exc:
        check_owner(personas[persona])
    assert exc.value.code == "owner_not_allowed"


def test_a_lead_needs_an_owner():
    with pytest.raises(ValidationFailed) as exc:
        check_owner(None)
    assert exc.value.code == "owner_required"


def test_open_opportunity_writes_the_lead_its_first_transition_and_tells_the_owner(
    inside, rep
):
    contact = make_contact(company="Acme NV")
    opportunity = open_opportunity(
        actor=inside, contact=contact, owner=rep, title="x" * 300, reason="hot"
    )
    assert len(opportunity.title) == 200
    assert opportunity.company == contact.company
    assert opportunity.inquiry is None
    row = OpportunityTransition.objects.get(opportunity=opportunity)
    assert row.data["inquiry_id"] is None
    assert row.reason == "hot"
    assert Notification.objects.get().recipient == rep


def test_an_owner_who_opens_their_own_lead_is_not_notified(rep):
    open_opportunity(actor=rep, contact=make_contact(), owner=rep, title="Mine")
    assert not Notification.objects.exists()


def test_transition_rows_are_append_only(inside, rep):
    opportunity = make_opportunity(inside, owner=rep)
    row = OpportunityTransition.objects.get(opportunity=opportunity)
    row.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        row.save()
    with pytest.raises(TypeError, match="append-only"):
        row.delete()


def test_log_handover_records_the_question_and_notifies(inside, rep):
    opportunity = make_opportunity(inside, owner=rep, summary="Chairs")
    log_handover(opportunity, actor=None, question="  Delivery?  ", channel="email")
    event = AuditEvent.objects.get(event_type="opportunity.question_handed_over")
    assert event.new == {"question": "Delivery?", "channel": "email"}
    notification = Notification.objects.filter(
        event_type="opportunity.question_handed_over"
    ).get()
    assert notification.message == "Leadflow handed you a question on Chairs: Delivery?"


def test_salespeople_see_their_own_and_their_teams_leads(inside, rep, outsider, teams):
    teammate = rep.__class__.objects.create(
        username="teammate", role="sales", team=teams["North"]
    )
    mine = make_opportunity(inside, owner=rep)
    team = make_opportunity(inside, owner=teammate)
    other = make_opportunity(inside, owner=outsider)
    by_inside = make_opportunity(inside, owner=inside)
    assert set(visible_opportunities(rep)) == {mine, team, by_inside}
    assert set(visible_opportunities(outsider)) == {other}
    assert set(visible_opportunities(inside)) == {mine, team, other, by_inside}


def test_marketing_and_colleagues_see_no_leads(inside, rep, marketer, colleague):
    make_opportunity(inside, owner=rep)
    assert not visible_opportunities(marketer).exists()
    assert not visible_opportunities(colleague).exists()


def test_open_for_contacts_finds_running_leads_of_the_person_or_company(inside, rep):
    colleague_contact = make_contact(company="Acme NV")
    lead = make_opportunity(inside, owner=rep, contact=colleague_contact)
    other_person = make_contact(company=colleague_contact.company)
    assert list(open_for_contacts([other_person.pk], [other_person.company_id])) == [
        lead
    ]
    assert list(open_for_contacts([other_person.pk], [])) == []


def test_handover_to_a_closed_lead_is_found_and_refused_as_closed(
    inside, rep, colleague
):
    from leadflow.core.errors import Conflict
    from leadflow.intake.actions import hand_over_question

    lead = make_opportunity(inside, owner=rep)
    assert get_opportunity_for_handover(colleague, lead.pk) == lead
    lead.__class__.objects.filter(pk=lead.pk).update(status="won")
    closed = get_opportunity_for_handover(colleague, lead.pk)
    with pytest.raises(Conflict) as error:
        hand_over_question(closed, actor=colleague, question="Any news?")
    assert error.value.code == "opportunity_closed"
