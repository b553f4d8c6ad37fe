"""Working a qualified lead: details, owner, stage moves, results, the buying clock per
stakeholder, activities and documents."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Contact, Lifecycle
from leadflow.contacts.tests.factories import make_contact
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.opportunities import actions
from leadflow.opportunities.actions import (
    add_activity,
    add_document,
    close_opportunity,
    move_stage,
    reassign_owner,
    set_activity_done,
    set_stakeholder,
    update_opportunity,
)
from leadflow.opportunities.models import (
    Activity,
    Document,
    Opportunity,
    OpportunityTransition,
    Stage,
    Stakeholder,
    StakeholderPhaseChange,
)
from leadflow.opportunities.tests.pipeline_factories import (
    make_lead,
    make_person,
    make_sent_quote,
    qualified_lead,
)
from leadflow.qualification.models import BuyingPhase
from leadflow.workflows.models import Notification

pytestmark = pytest.mark.django_db

FOLLOW_UP = datetime.date(2031, 3, 1)


@pytest.fixture
def lead(rep):
    return make_lead(rep, owner=rep)


def events(subject, event_type: str):
    return AuditEvent.objects.filter(
        subject_type=subject._meta.label_lower,
        subject_id=subject.pk,
        event_type=event_type,
    ).order_by("id")


def stage_moves(opportunity):
    return OpportunityTransition.objects.filter(
        opportunity=opportunity, data__event="opportunity.stage_changed"
    ).order_by("id")


def close_lost(opportunity, actor):
    return close_opportunity(
        opportunity, actor=actor, result="lost", reason="Price too high"
    )


# --- update_opportunity --------------------------------------------------------------


def test_update_opportunity_saves_the_details_bumps_the_version_and_audits(lead, rep):
    title_before = lead.title
    updated = update_opportunity(
        lead,
        actor=rep,
        version=1,
        title="40 office chairs",
        expected_value=Decimal("12500.00"),
        p_win=Decimal("0.4"),
        decision_type="tender",
    )
    assert updated.version == 2
    lead.refresh_from_db()
    assert lead.title == "40 office chairs"
    assert lead.expected_value == Decimal("12500.00")
    assert lead.p_win == Decimal("0.400")
    assert lead.decision_type == "tender"
    row = events(lead, "opportunity.updated").get()
    assert row.actor == rep
    assert row.old == {
        "title": title_before,
        "expected_value": None,
        "p_win": None,
        "decision_type": "",
    }
    assert row.new == {
        "title": "40 office chairs",
        "expected_value": "12500.00",
        "p_win": "0.4",
        "decision_type": "tender",
    }


def test_update_opportunity_without_a_real_change_writes_nothing(lead, rep):
    unchanged = update_opportunity(lead, actor=rep, title=lead.title)
    assert unchanged.version == 1
    assert not events(lead, "opportunity.updated").exists()


@pytest.mark.parametrize("field", ["p_win", "p_go"])
@pytest.mark.parametrize("value", ["1.001", "-0.01", "2", "-1"])
def test_a_probability_outside_0_to_1_is_refused(lead, rep, field, value):
    with pytest.raises(ValidationFailed) as exc:
        update_opportunity(lead, actor=rep, **{field: Decimal(value)})
    assert exc.value.code == "invalid_probability"
    assert str(exc.value) == f"{field} is a probability between 0 and 1."
    lead.refresh_from_db()
    assert getattr(lead, field) is None
    assert lead.version == 1


@pytest.mark.parametrize("value", ["0", "1", "0.5"])
def test_a_probability_of_0_to_1_inclusive_is_accepted(lead, rep, value):
    update_opportunity(lead, actor=rep, p_win=Decimal(value), p_go=Decimal(value))
    lead.refresh_from_db()
    assert (lead.p_win, lead.p_go) == (Decimal(value), Decimal(value))


def test_a_probability_may_be_cleared(lead, rep):
    update_opportunity(lead, actor=rep, p_win=Decimal("0.3"))
    update_opportunity(lead, actor=rep, p_win=None)
    lead.refresh_from_db()
    assert lead.p_win is None


def test_a_negative_expected_value_is_refused(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        update_opportunity(lead, actor=rep, expected_value=Decimal("-0.01"))
    assert exc.value.code == "negative_value"
    assert str(exc.value) == "The expected value cannot be negative."


def test_an_expected_value_of_zero_is_accepted(lead, rep):
    update_opportunity(lead, actor=rep, expected_value=Decimal("0"))
    lead.refresh_from_db()
    assert lead.expected_value == Decimal("0.00")


def test_a_stale_version_is_a_conflict(lead, rep):
    update_opportunity(lead, actor=rep, version=1, title="First edit")
    with pytest.raises(Conflict) as exc:
        update_opportunity(lead, actor=rep, version=1, title="Second edit")
    assert exc.value.code == "stale_version"
    assert exc.value.status == 409
    lead.refresh_from_db()
    assert (lead.title, lead.version) == ("First edit", 2)


def test_a_closed_lead_cannot_be_updated(lead, rep):
    close_lost(lead, rep)
    with pytest.raises(Conflict) as exc:
        update_opportunity(lead, actor=rep, title="Too late")
    assert exc.value.code == "opportunity_closed"
    assert str(exc.value) == (
        "This qualified lead is closed (Lost); it can no longer change."
    )


def test_fields_that_are_not_editable_are_refused(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        update_opportunity(lead, actor=rep, status="won", owner=rep)
    assert exc.value.code == "invalid_field"
    assert str(exc.value) == "These fields cannot be changed here: owner, status"


def test_an_unknown_decision_type_and_an_empty_title_are_refused(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        update_opportunity(lead, actor=rep, decision_type="auction")
    assert exc.value.code == "invalid_decision_type"
    with pytest.raises(ValidationFailed) as exc:
        update_opportunity(lead, actor=rep, title="   ")
    assert exc.value.code == "title_required"


def test_changing_the_primary_contact_follows_their_company(lead, rep):
    other = make_contact(company="Other Company NV")
    update_opportunity(lead, actor=rep, contact=other)
    lead.refresh_from_db()
    assert lead.contact == other
    assert lead.company == other.company


# --- reassign_owner --------------------------------------------------------------------


def test_reassigning_tells_the_new_and_the_previous_owner(
    lead, rep, inside, director, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reassign_owner(lead, actor=director, owner=inside, reason="Small deal")
    lead.refresh_from_db()
    assert lead.owner == inside
    assert lead.version == 2
    told = {
        n.recipient.username: n
        for n in Notification.objects.filter(subject_id=lead.pk).select_related(
            "recipient"
        )
    }
    assert set(told) == {"inside", "rep"}
    assert told["inside"].event_type == "opportunity.assigned"
    assert told["inside"].actor == director
    assert told["inside"].url == f"/opportunities/{lead.pk}/"
    assert told["rep"].event_type == "opportunity.reassigned"
    row = events(lead, "opportunity.owner_changed").get()
    assert (row.actor, row.old, row.new, row.reason) == (
        director,
        {"owner": "rep"},
        {"owner": "inside"},
        "Small deal",
    )


def test_nobody_is_told_about_their_own_reassignment(rep, inside, director):
    lead = make_lead(rep, owner=rep)
    reassign_owner(lead, actor=rep, owner=inside)
    assert list(
        Notification.objects.values_list("recipient__username", "event_type")
    ) == [("inside", "opportunity.assigned")]
    Notification.objects.all().delete()
    reassign_owner(lead, actor=director, owner=director)
    assert list(
        Notification.objects.values_list("recipient__username", "event_type")
    ) == [("inside", "opportunity.reassigned")]


@pytest.mark.parametrize("persona", ["admin", "marketer", "colleague"])
def test_only_sales_roles_can_become_owner(personas, lead, director, persona):
    with pytest.raises(ValidationFailed) as exc:
        reassign_owner(lead, actor=director, owner=personas[persona])
    assert exc.value.code == "owner_not_allowed"
    lead.refresh_from_db()
    assert lead.owner.username == "rep"
    assert not Notification.objects.exists()


def test_an_inactive_user_cannot_become_owner(lead, director, inside):
    inside.is_active = False
    inside.save(update_fields=["is_active"])
    with pytest.raises(ValidationFailed) as exc:
        reassign_owner(lead, actor=director, owner=inside)
    assert exc.value.code == "owner_not_allowed"


def test_reassigning_to_the_current_owner_changes_nothing(lead, rep, director):
    reassign_owner(lead, actor=director, owner=rep)
    lead.refresh_from_db()
    assert lead.version == 1
    assert not Notification.objects.exists()
    assert not events(lead, "opportunity.owner_changed").exists()


def test_a_closed_lead_cannot_be_reassigned(lead, rep, director, inside):
    close_lost(lead, rep)
    with pytest.raises(Conflict) as exc:
        reassign_owner(lead, actor=director, owner=inside)
    assert exc.value.code == "opportunity_closed"


# --- move_stage ---------------------------------------------------------------------


def test_a_forward_move_records_from_to_direction_and_reason(lead, rep):
    before = lead.stage_entered_at
    moved = move_stage(lead, actor=rep, stage="proposal", reason="Spec agreed")
    assert moved.stage.code == "proposal"
    lead.refresh_from_db()
    assert lead.stage.code == "proposal"
    assert lead.stage_entered_at > before
    assert lead.version == 2
    row = stage_moves(lead).get()
    assert (row.from_state, row.to_state, row.reason, row.actor) == (
        "qualification",
        "proposal",
        "Spec agreed",
        rep,
    )
    assert row.data == {
        "event": "opportunity.stage_changed",
        "direction": "forward",
        "skipped": 0,
    }
    assert row.at == lead.stage_entered_at
    assert row.processed_at is None


def test_a_forward_move_may_skip_stages_and_counts_them(lead, rep):
    move_stage(lead, actor=rep, stage="negotiation", reason="Verbal yes")
    row = stage_moves(lead).get()
    assert (row.from_state, row.to_state) == ("qualification", "negotiation")
    assert row.data["direction"] == "forward"
    assert row.data["skipped"] == 1


def test_a_move_back_is_allowed_and_recorded_as_back(lead, rep):
    move_stage(lead, actor=rep, stage="negotiation", reason="Verbal yes")
    move_stage(lead, actor=rep, stage="qualification", reason="New decision-maker")
    move_stage(lead, actor=rep, stage="proposal", reason="Re-qualified")
    back, forward = stage_moves(lead)[1:]
    assert (back.from_state, back.to_state) == ("negotiation", "qualification")
    assert back.data["direction"] == "back"
    assert back.data["skipped"] == 1
    assert back.reason == "New decision-maker"
    assert (forward.data["direction"], forward.data["skipped"]) == ("forward", 0)


def test_a_stage_object_is_accepted_as_the_target(lead, rep):
    move_stage(lead, actor=rep, stage=Stage.objects.get(code="proposal"), reason="x")
    lead.refresh_from_db()
    assert lead.stage.code == "proposal"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_stage_move_needs_a_reason(lead, rep, reason):
    with pytest.raises(ValidationFailed) as exc:
        move_stage(lead, actor=rep, stage="proposal", reason=reason)
    assert exc.value.code == "reason_required"
    assert str(exc.value) == "Say why the stage changes."
    lead.refresh_from_db()
    assert lead.stage.code == "qualification"
    assert not stage_moves(lead).exists()


def test_an_unknown_stage_is_refused_and_the_known_ones_listed(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        move_stage(lead, actor=rep, stage="contract", reason="Signed")
    assert exc.value.code == "unknown_stage"
    assert str(exc.value) == (
        "Unknown stage 'contract'. Stages: qualification, proposal, negotiation."
    )


def test_an_inactive_stage_counts_as_unknown(lead, rep):
    Stage.objects.filter(code="proposal").update(is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        move_stage(lead, actor=rep, stage="proposal", reason="x")
    assert exc.value.code == "unknown_stage"


def test_moving_to_the_current_stage_writes_no_row(lead, rep):
    same = move_stage(lead, actor=rep, stage="qualification", reason="Still here")
    assert same.version == 1
    assert not stage_moves(lead).exists()


def test_a_closed_lead_refuses_stage_moves(lead, rep):
    close_lost(lead, rep)
    with pytest.raises(Conflict) as exc:
        move_stage(lead, actor=rep, stage="proposal", reason="Try again")
    assert exc.value.code == "opportunity_closed"
    assert not stage_moves(lead).exists()


def test_moving_out_of_a_deactivated_stage_keeps_the_right_direction(lead, rep):
    move_stage(lead, actor=rep, stage="negotiation", reason="Verbal yes")
    Stage.objects.filter(code="negotiation").update(is_active=False)
    move_stage(lead, actor=rep, stage="proposal", reason="Needs a new quote")
    row = stage_moves(lead).last()
    assert (row.from_state, row.to_state) == ("negotiation", "proposal")
    assert row.data["direction"] == "back"


# --- close_opportunity -------------------------------------------------------------------


@pytest.mark.parametrize("result", ["won", "lost", "not_going_ahead", "nurture"])
def test_each_result_closes_the_lead_with_a_transition_row(lead, rep, result):
    extra = (
        {"follow_up_on": FOLLOW_UP, "follow_up_by": "telemarketing"}
        if result == "nurture"
        else {}
    )
    closed = close_opportunity(lead, actor=rep, result=result, reason="Why", **extra)
    assert closed.status == result
    lead.refresh_from_db()
    assert lead.status == result
    assert lead.closed_at is not None
    assert lead.result_reason == "Why"
    assert lead.version == 2
    row = OpportunityTransition.objects.filter(opportunity=lead).last()
    assert (row.from_state, row.to_state, row.reason, row.actor) == (
        "open",
        result,
        "Why",
        rep,
    )
    assert row.data["event"] == f"opportunity.{result}"
    assert row.data["stage"] == "qualification"


def test_nurture_stores_who_follows_up_and_when(lead, rep):
    close_opportunity(
        lead,
        actor=rep,
        result="nurture",
        reason="Budget next year",
        follow_up_on=FOLLOW_UP,
        follow_up_by="sales",
    )
    lead.refresh_from_db()
    assert (lead.follow_up_on, lead.follow_up_by) == (FOLLOW_UP, "sales")
    row = OpportunityTransition.objects.filter(opportunity=lead).last()
    assert row.data["follow_up_on"] == "2031-03-01"
    assert row.data["follow_up_by"] == "sales"


def test_nurture_needs_a_follow_up_date(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        close_opportunity(
            lead, actor=rep, result="nurture", reason="Later", follow_up_by="sales"
        )
    assert exc.value.code == "follow_up_required"
    lead.refresh_from_db()
    assert lead.status == "open"


@pytest.mark.parametrize("by", ["", "director", None])
def test_nurture_needs_who_follows_up(lead, rep, by):
    with pytest.raises(ValidationFailed) as exc:
        close_opportunity(
            lead,
            actor=rep,
            result="nurture",
            reason="Later",
            follow_up_on=FOLLOW_UP,
            follow_up_by=by,
        )
    assert exc.value.code == "follow_up_by_required"


def test_a_result_other_than_nurture_keeps_no_follow_up(lead, rep):
    close_opportunity(
        lead,
        actor=rep,
        result="lost",
        reason="Price",
        follow_up_on=FOLLOW_UP,
        follow_up_by="sales",
    )
    lead.refresh_from_db()
    assert (lead.follow_up_on, lead.follow_up_by) == (None, "")


def test_a_result_other_than_nurture_records_no_follow_up_in_the_transition(lead, rep):
    close_opportunity(
        lead,
        actor=rep,
        result="lost",
        reason="Price",
        follow_up_on=FOLLOW_UP,
        follow_up_by="sales",
    )
    row = OpportunityTransition.objects.filter(opportunity=lead).last()
    assert (row.data["follow_up_on"], row.data["follow_up_by"]) == (None, None)


@pytest.mark.parametrize("result", ["won", "lost", "not_going_ahead", "nurture"])
@pytest.mark.parametrize("reason", ["", "  "])
def test_every_result_needs_a_reason(lead, rep, result, reason):
    with pytest.raises(ValidationFailed) as exc:
        close_opportunity(
            lead,
            actor=rep,
            result=result,
            reason=reason,
            follow_up_on=FOLLOW_UP,
            follow_up_by="sales",
        )
    assert exc.value.code == "reason_required"
    assert str(exc.value) == "Say why the qualified lead is closed."


@pytest.mark.parametrize("result", ["open", "disqualified", ""])
def test_an_unknown_result_is_refused(lead, rep, result):
    with pytest.raises(ValidationFailed) as exc:
        close_opportunity(lead, actor=rep, result=result, reason="x")
    assert exc.value.code == "invalid_result"


@pytest.mark.parametrize(
    ("result", "extra"),
    [
        ("lost", {}),
        ("not_going_ahead", {}),
        ("nurture", {"follow_up_on": FOLLOW_UP, "follow_up_by": "marketing"}),
    ],
)
def test_leaving_sales_puts_contact_and_stakeholders_in_the_marketing_database(
    lead, rep, result, extra
):
    buyer = make_person(company=lead.company)
    user = make_person(company=lead.company)
    refuser = make_person(company=lead.company, opted_out=True)
    for person, role in [(buyer, "decision_maker"), (user, "user")]:
        set_stakeholder(lead, actor=rep, contact=person, role=role)
    set_stakeholder(lead, actor=rep, contact=refuser, role="purchaser")
    set_stakeholder(lead, actor=rep, contact=lead.contact, role="champion")
    assert not Contact.objects.filter(in_marketing_database=True).exists()

    close_opportunity(lead, actor=rep, result=result, reason="Gone quiet", **extra)

    in_database = set(
        Contact.objects.filter(in_marketing_database=True).values_list("pk", flat=True)
    )
    assert in_database == {lead.contact.pk, buyer.pk, user.pk}
    row = events(buyer, "contact.added_to_marketing_database").get()
    assert row.actor == rep
    assert row.reason == f"qualified lead #{lead.pk} closed ({result})"
    assert events(lead.contact, "contact.added_to_marketing_database").count() == 1
    assert not events(refuser, "contact.added_to_marketing_database").exists()


def test_an_opted_out_primary_contact_stays_out_of_the_marketing_database(rep):
    person = make_person(opted_out=True)
    lead = make_lead(rep, owner=rep, contact=person)
    close_lost(lead, rep)
    person.refresh_from_db()
    assert person.in_marketing_database is False


def test_won_makes_the_company_a_customer_and_keeps_contacts_out_of_marketing(
    lead, rep
):
    stakeholder = make_person(company=lead.company)
    set_stakeholder(lead, actor=rep, contact=stakeholder, role="decision_maker")
    close_opportunity(lead, actor=rep, result="won", reason="Signed")
    company = lead.company
    company.refresh_from_db()
    assert company.lifecycle == Lifecycle.CUSTOMER
    row = events(company, "lifecycle.changed").get()
    assert (row.old, row.new, row.actor) == (
        {"lifecycle": "prospect"},
        {"lifecycle": "customer"},
        rep,
    )
    assert row.reason == f"qualified lead #{lead.pk} won"
    assert not Contact.objects.filter(in_marketing_database=True).exists()


def test_won_without_a_company_makes_the_contact_a_customer(rep):
    person = make_contact()
    lead = make_lead(rep, owner=rep, contact=person)
    assert lead.company is None
    close_opportunity(lead, actor=rep, result="won", reason="Signed")
    person.refresh_from_db()
    assert person.lifecycle == Lifecycle.CUSTOMER


def test_won_for_a_company_that_is_already_a_customer_writes_no_lifecycle_event(
    lead, rep
):
    type(lead.company).objects.filter(pk=lead.company.pk).update(
        lifecycle=Lifecycle.CUSTOMER
    )
    lead.refresh_from_db()
    close_opportunity(lead, actor=rep, result="won", reason="Repeat order")
    assert not events(lead.company, "lifecycle.changed").exists()


@pytest.mark.parametrize("result", ["won", "lost", "not_going_ahead", "nurture"])
def test_a_closed_lead_refuses_a_second_result(lead, rep, result):
    close_lost(lead, rep)
    with pytest.raises(Conflict) as exc:
        close_opportunity(
            lead,
            actor=rep,
            result=result,
            reason="Again",
            follow_up_on=FOLLOW_UP,
            follow_up_by="sales",
        )
    assert exc.value.code == "opportunity_closed"
    lead.refresh_from_db()
    assert lead.status == "lost"
    assert lead.result_reason == "Price too high"


def test_a_closed_lead_refuses_stakeholder_changes(lead, rep):
    close_opportunity(lead, actor=rep, result="won", reason="Signed")
    with pytest.raises(Conflict) as exc:
        set_stakeholder(lead, actor=rep, contact=make_person(), role="user")
    assert exc.value.code == "opportunity_closed"


def test_closing_deletes_nothing(rep, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    lead = qualified_lead(rep, owner=rep)
    set_stakeholder(
        lead, actor=rep, contact=make_person(), role="decision_maker", phase_number=5
    )
    add_activity(lead, actor=rep, kind="call", subject="Call back", assignee=rep)
    add_document(lead, actor=rep, upload=SimpleUploadedFile("n.txt", b"notes"))
    quote = make_sent_quote(lead, rep)
    move_stage(lead, actor=rep, stage="proposal", reason="Quote sent")

    close_lost(lead, rep)

    lead = Opportunity.objects.get(pk=lead.pk)
    assert lead.stakeholders.count() == 1
    changes = StakeholderPhaseChange.objects.filter(stakeholder__opportunity=lead)
    assert changes.count() == 1
    assert lead.activities.count() == 1
    assert lead.documents.count() == 1
    assert list(lead.quotes.all()) == [quote]
    assert lead.quotes.get().lines.count() == 2
    assert lead.scorecards.count() == 1
    assert OpportunityTransition.objects.filter(opportunity=lead).count() == 3


# --- stakeholders and the buying clock ------------------------------------------------


def phase(number: int) -> BuyingPhase:
    return BuyingPhase.objects.order_by("position")[number - 1]


def test_the_default_clock_has_the_eight_phases_of_domain_5_3():
    assert list(BuyingPhase.objects.values_list("position", "name")) == [
        (1, "Satisfied / status quo"),
        (2, "Problem recognised"),
        (3, "Exploring solutions"),
        (4, "Requirements & budget"),
        (5, "Supplier selection"),
        (6, "Validation & consensus"),
        (7, "Decision & purchase"),
        (8, "Implement & evaluate"),
    ]


def test_adding_a_stakeholder_places_them_and_records_the_first_phase(lead, rep):
    person = make_person(company=lead.company)
    stakeholder = set_stakeholder(
        lead, actor=rep, contact=person, role="decision_maker", phase_number=3
    )
    stakeholder.refresh_from_db()
    assert (stakeholder.role, stakeholder.phase) == ("decision_maker", phase(3))
    assert stakeholder.phase_since is not None
    change = stakeholder.phase_changes.get()
    assert (change.from_phase, change.to_phase, change.regression) == (
        None,
        phase(3),
        False,
    )
    assert change.actor == rep
    row = events(lead, "stakeholder.changed").get()
    assert row.new == {"contact": str(person), "role": "decision_maker", "phase": 3}


def test_a_stakeholder_without_a_phase_is_not_placed(lead, rep):
    stakeholder = set_stakeholder(
        lead, actor=rep, contact=make_person(), role="influencer"
    )
    assert stakeholder.phase is None
    assert not stakeholder.phase_changes.exists()
    assert events(lead, "stakeholder.changed").count() == 1


def test_moving_forward_needs_no_note(lead, rep):
    person = make_person()
    set_stakeholder(lead, actor=rep, contact=person, role="user", phase_number=2)
    stakeholder = set_stakeholder(
        lead, actor=rep, contact=person, role="user", phase_number=5
    )
    assert stakeholder.phase == phase(5)
    latest = stakeholder.phase_changes.first()
    assert (latest.from_phase, latest.to_phase, latest.regression) == (
        phase(2),
        phase(5),
        False,
    )
    assert Stakeholder.objects.filter(opportunity=lead).count() == 1


def test_moving_back_without_a_note_is_refused(lead, rep):
    person = make_person()
    set_stakeholder(lead, actor=rep, contact=person, role="user", phase_number=5)
    with pytest.raises(ValidationFailed) as exc:
        set_stakeholder(
            lead, actor=rep, contact=person, role="user", phase_number=3, note="  "
        )
    assert exc.value.code == "reason_required"
    assert str(exc.value) == "Moving back on the buying clock needs a short reason."
    stakeholder = Stakeholder.objects.get(opportunity=lead, contact=person)
    assert stakeholder.phase == phase(5)
    assert stakeholder.phase_changes.count() == 1


def test_moving_back_with_a_note_is_flagged_as_a_regression(lead, rep, director):
    person = make_person()
    set_stakeholder(
        lead, actor=rep, contact=person, role="budget_holder", phase_number=6
    )
    stakeholder = set_stakeholder(
        lead,
        actor=director,
        contact=person,
        role="budget_holder",
        phase_number=4,
        note="New stakeholder",
    )
    assert stakeholder.phase == phase(4)
    latest = stakeholder.phase_changes.first()
    assert (latest.from_phase, latest.to_phase) == (phase(6), phase(4))
    assert latest.regression is True
    assert latest.note == "New stakeholder"
    assert latest.actor == director
    row = events(lead, "stakeholder.moved_back").get()
    assert row.actor == director
    assert row.old == {"contact": str(person), "phase": 6}
    assert row.new == {"contact": str(person), "role": "budget_holder", "phase": 4}
    assert row.reason == "New stakeholder"


def test_the_same_phase_again_writes_nothing(lead, rep):
    person = make_person()
    set_stakeholder(lead, actor=rep, contact=person, role="user", phase_number=4)
    set_stakeholder(lead, actor=rep, contact=person, role="user", phase_number=4)
    assert StakeholderPhaseChange.objects.count() == 1
    assert events(lead, "stakeholder.changed").count() == 1


def test_changing_only_the_role_is_audited_without_a_phase_change(lead, rep):
    person = make_person()
    set_stakeholder(lead, actor=rep, contact=person, role="user", phase_number=4)
    stakeholder = set_stakeholder(
        lead, actor=rep, contact=person, role="decision_maker"
    )
    assert (stakeholder.role, stakeholder.phase) == ("decision_maker", phase(4))
    assert StakeholderPhaseChange.objects.count() == 1
    row = events(lead, "stakeholder.changed").last()
    assert row.old == {"contact": str(person), "role": "user"}


@pytest.mark.parametrize("role", ["boss", "", "Decision_maker"])
def test_an_unknown_role_is_refused(lead, rep, role):
    with pytest.raises(ValidationFailed) as exc:
        set_stakeholder(lead, actor=rep, contact=make_person(), role=role)
    assert exc.value.code == "invalid_role"
    assert not Stakeholder.objects.exists()


@pytest.mark.parametrize("number", [0, -1, 9, 12])
def test_a_phase_outside_1_to_8_is_refused(lead, rep, number):
    with pytest.raises(ValidationFailed) as exc:
        set_stakeholder(
            lead, actor=rep, contact=make_person(), role="user", phase_number=number
        )
    assert exc.value.code == "invalid_phase"
    assert str(exc.value) == "The buying clock has phases 1 to 8."
    assert not Stakeholder.objects.exists()


def test_phase_numbers_follow_the_active_phases(lead, rep):
    BuyingPhase.objects.filter(position=2).update(is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        set_stakeholder(
            lead, actor=rep, contact=make_person(), role="user", phase_number=8
        )
    assert exc.value.code == "invalid_phase"
    assert str(exc.value) == "The buying clock has phases 1 to 7."
    stakeholder = set_stakeholder(
        lead, actor=rep, contact=make_person(), role="user", phase_number=2
    )
    assert stakeholder.phase.position == 3


# --- activities --------------------------------------------------------------------------


def test_an_activity_assigned_by_someone_else_notifies_the_assignee(
    lead, rep, inside, django_capture_on_commit_callbacks
):
    due = datetime.datetime(2031, 1, 5, 10, 0, tzinfo=datetime.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        activity = add_activity(
            lead,
            actor=inside,
            kind="appointment",
            subject="Site visit",
            assignee=rep,
            due_at=due,
            duration_minutes=90,
        )
    assert (activity.kind, activity.assignee, activity.created_by) == (
        "appointment",
        rep,
        inside,
    )
    assert activity.done_at is None
    note = Notification.objects.get()
    assert (note.recipient, note.actor, note.event_type) == (
        rep,
        inside,
        "activity.assigned",
    )
    assert note.message == "New activity for you: Site visit"
    row = events(lead, "activity.added").get()
    assert row.new == {
        "kind": "appointment",
        "subject": "Site visit",
        "assigned_to": "rep",
        "due_at": "2031-01-05T10:00:00+00:00",
    }


def test_an_activity_for_yourself_notifies_nobody(lead, rep):
    add_activity(lead, actor=rep, kind="task", subject="Prepare demo", assignee=rep)
    assert not Notification.objects.exists()


def test_an_activity_needs_a_known_kind_and_a_subject(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        add_activity(lead, actor=rep, kind="lunch", subject="Lunch", assignee=rep)
    assert exc.value.code == "invalid_kind"
    with pytest.raises(ValidationFailed) as exc:
        add_activity(lead, actor=rep, kind="call", subject="  ", assignee=rep)
    assert exc.value.code == "subject_required"
    assert not Activity.objects.exists()


def test_a_closed_lead_gets_no_new_activities(lead, rep, inside):
    close_lost(lead, rep)
    with pytest.raises(Conflict) as exc:
        add_activity(lead, actor=inside, kind="call", subject="Call", assignee=rep)
    assert exc.value.code == "opportunity_closed"
    assert not Activity.objects.exists()
    assert not Notification.objects.exists()


def test_marking_an_activity_done_and_reopening_it(lead, rep):
    activity = add_activity(lead, actor=rep, kind="call", subject="Call", assignee=rep)
    done = set_activity_done(activity, actor=rep, done=True)
    assert done.done_at is not None
    again = set_activity_done(activity, actor=rep, done=True)
    assert again.done_at == done.done_at
    assert events(lead, "activity.done").count() == 1
    reopened = set_activity_done(activity, actor=rep, done=False)
    assert reopened.done_at is None
    activity.refresh_from_db()
    assert activity.done_at is None
    assert events(lead, "activity.reopened").get().new == {"subject": "Call"}


# --- documents -----------------------------------------------------------------------


def test_a_document_is_stored_under_media_with_its_name_and_size(
    lead, rep, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(
        "../../Meeting notes.txt", b"We met on Monday.", content_type="text/plain"
    )
    document = add_document(lead, actor=rep, upload=upload, kind="meeting notes")
    assert (document.name, document.size, document.content_type) == (
        "Meeting notes.txt",
        17,
        "text/plain",
    )
    assert (document.kind, document.uploaded_by) == ("meeting notes", rep)
    stored = tmp_path / document.file.name
    assert stored.read_bytes() == b"We met on Monday."
    assert document.file.name.startswith("documents/")
    assert events(lead, "document.added").get().new == {
        "name": "Meeting notes.txt",
        "size": 17,
    }


def test_a_file_over_20_mb_is_refused(lead, rep, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("huge.pdf", b"\0" * (20 * 1024 * 1024 + 1))
    with pytest.raises(ValidationFailed) as exc:
        add_document(lead, actor=rep, upload=upload)
    assert exc.value.code == "file_too_large"
    assert str(exc.value) == "Files are at most 20 MB."
    assert not Document.objects.exists()
    assert not list(tmp_path.rglob("*.bin"))


def test_a_file_of_exactly_the_limit_is_accepted(
    lead, rep, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(actions, "MAX_DOCUMENT_BYTES", 10)
    add_document(lead, actor=rep, upload=SimpleUploadedFile("ok.txt", b"0123456789"))
    with pytest.raises(ValidationFailed) as exc:
        add_document(
            lead, actor=rep, upload=SimpleUploadedFile("no.txt", b"0123456789A")
        )
    assert exc.value.code == "file_too_large"
    assert Document.objects.get().name == "ok.txt"
