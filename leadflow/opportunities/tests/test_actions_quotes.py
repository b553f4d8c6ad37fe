"""Quotes: the SCOTSMAN gate and its override, drafts, sending, revisions, decisions."""

import datetime
from decimal import Decimal

import pytest

from leadflow.audit.models import AuditEvent
from leadflow.contacts.models import Lifecycle
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.opportunities.actions import (
    GateNotPassed,
    LineInput,
    close_opportunity,
    create_quote,
    decide_quote,
    expire_quote,
    revise_quote,
    send_quote,
    update_draft_quote,
)
from leadflow.opportunities.models import Quote, QuoteTransition
from leadflow.opportunities.tests.pipeline_factories import (
    gate,
    lines,
    make_draft_quote,
    make_lead,
    make_sent_quote,
    qualified_lead,
    score_scotsman,
)
from leadflow.qualification.actions import score_qualification

pytestmark = pytest.mark.django_db

LINES = lines(("2", "1000", "0.10"), ("1", "500"))


@pytest.fixture
def lead(rep):
    """A lead that passes the default gate (5 of 8 met)."""
    return qualified_lead(rep, owner=rep)


@pytest.fixture
def unqualified(rep):
    """A lead scored 4 of 8: one short of the default gate."""
    opportunity = make_lead(rep, owner=rep)
    score_scotsman(opportunity, rep, 4)
    return opportunity


def events(opportunity, event_type: str):
    return AuditEvent.objects.filter(
        subject_type="opportunities.opportunity",
        subject_id=opportunity.pk,
        event_type=event_type,
    ).order_by("id")


def transitions(quote):
    return list(
        QuoteTransition.objects.filter(quote=quote)
        .order_by("id")
        .values_list("from_state", "to_state")
    )


def line_values(quote):
    return list(
        quote.lines.order_by("position").values_list(
            "position", "description", "quantity", "unit_price", "discount"
        )
    )


# --- create_quote and the gate -------------------------------------------------------


def test_without_a_scorecard_no_quote_can_be_made(rep):
    lead = make_lead(rep, owner=rep)
    with pytest.raises(GateNotPassed) as exc:
        create_quote(lead, actor=rep, lines=LINES)
    assert exc.value.code == "gate_not_passed"
    assert exc.value.status == 409
    assert isinstance(exc.value, Conflict)
    assert str(exc.value) == (
        "No quote yet: SCOTSMAN has 0 of 8 criteria met, 5 are needed."
    )
    assert not Quote.objects.exists()


def test_four_of_eight_met_is_refused(unqualified, rep):
    with pytest.raises(GateNotPassed) as exc:
        create_quote(unqualified, actor=rep, lines=LINES)
    assert exc.value.code == "gate_not_passed"
    assert str(exc.value) == (
        "No quote yet: SCOTSMAN has 4 of 8 criteria met, 5 are needed."
    )
    assert not Quote.objects.exists()


def test_five_of_eight_met_makes_a_draft(lead, rep):
    quote = create_quote(
        lead,
        actor=rep,
        lines=LINES,
        discount=Decimal("0.05"),
        notes="Delivery in June",
    )
    quote.refresh_from_db()
    assert quote.status == "draft"
    assert (quote.number, quote.revision, quote.reference) == (1, 1, "Q00001-1")
    assert quote.supersedes is None
    assert quote.vat_rate == Decimal("0.210")
    assert quote.discount == Decimal("0.050")
    assert quote.language == "nl"
    assert quote.notes == "Delivery in June"
    assert (quote.gate_override, quote.override_reason) == (False, "")
    assert quote.scotsman_met == 5
    assert quote.created_by == rep
    assert line_values(quote) == [
        (1, "Line 1", Decimal("2.000"), Decimal("1000.00"), Decimal("0.100")),
        (2, "Line 2", Decimal("1.000"), Decimal("500.00"), Decimal("0.000")),
    ]
    row = QuoteTransition.objects.get(quote=quote)
    assert (row.from_state, row.to_state, row.actor, row.reason) == (
        "",
        "draft",
        rep,
        "",
    )
    assert row.data == {
        "event": "quote.created",
        "gate_override": False,
        "scotsman_met": 5,
    }
    assert events(lead, "quote.created").get().new == {
        "quote": "Q00001-1",
        "gate_override": False,
    }


def test_quote_numbers_count_up(lead, rep):
    first = make_draft_quote(lead, rep)
    second = make_draft_quote(lead, rep, vat_rate=Decimal("0.06"), language="en")
    assert (first.number, second.number) == (1, 2)
    assert second.vat_rate == Decimal("0.06")
    assert second.language == "en"


def test_the_gate_follows_the_latest_scorecard(lead, rep):
    score_scotsman(lead, rep, 4)
    with pytest.raises(GateNotPassed):
        create_quote(lead, actor=rep, lines=LINES)


def test_a_passing_bant_card_does_not_open_the_gate(rep):
    lead = make_lead(rep, owner=rep)
    score_qualification(
        lead,
        actor=rep,
        framework="bant",
        criteria={"budget": True, "authority": True, "need": True, "timeline": True},
    )
    with pytest.raises(GateNotPassed):
        create_quote(lead, actor=rep, lines=LINES)


def test_a_sales_director_may_override_the_gate_with_a_reason(unqualified, director):
    quote = create_quote(
        unqualified,
        actor=director,
        lines=LINES,
        override_reason="  Framework contract customer  ",
    )
    assert quote.gate_override is True
    assert quote.override_reason == "Framework contract customer"
    assert quote.scotsman_met == 4
    row = QuoteTransition.objects.get(quote=quote)
    assert row.reason == "Framework contract customer"
    assert row.data["gate_override"] is True
    audit = events(unqualified, "quote.created").get()
    assert audit.new == {"quote": quote.reference, "gate_override": True}
    assert audit.reason == "Framework contract customer"


def test_an_administrator_may_override_an_unscored_lead_with_a_reason(rep, admin):
    lead = make_lead(rep, owner=rep)
    quote = create_quote(lead, actor=admin, lines=LINES, override_reason="Tender")
    assert (quote.gate_override, quote.scotsman_met) == (True, 0)


@pytest.mark.parametrize("persona", ["rep", "inside", "outsider", "marketer"])
def test_other_roles_cannot_override_even_with_a_reason(unqualified, personas, persona):
    with pytest.raises(GateNotPassed) as exc:
        create_quote(
            unqualified,
            actor=personas[persona],
            lines=LINES,
            override_reason="The customer is in a hurry",
        )
    assert exc.value.code == "gate_not_passed"
    assert not Quote.objects.exists()


@pytest.mark.parametrize("persona", ["admin", "director"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_needs_a_reason(unqualified, personas, persona, reason):
    with pytest.raises(GateNotPassed) as exc:
        create_quote(
            unqualified, actor=personas[persona], lines=LINES, override_reason=reason
        )
    assert exc.value.code == "gate_not_passed"


def test_the_system_cannot_override(unqualified):
    with pytest.raises(GateNotPassed):
        create_quote(unqualified, actor=None, lines=LINES, override_reason="Batch")


def test_no_override_when_the_administrator_switched_it_off(unqualified, director):
    gate(allow_override=False)
    with pytest.raises(GateNotPassed):
        create_quote(
            unqualified, actor=director, lines=LINES, override_reason="Important"
        )


def test_a_reason_on_a_passing_lead_is_no_override(lead, director):
    quote = create_quote(
        lead, actor=director, lines=LINES, override_reason="Just in case"
    )
    assert (quote.gate_override, quote.override_reason) == (False, "")


def test_with_the_showstopper_rule_a_showstopper_blocks_the_quote(rep):
    gate(block_on_showstopper=True)
    lead = make_lead(rep, owner=rep)
    score_scotsman(lead, rep, 6, showstoppers=1)
    with pytest.raises(GateNotPassed) as exc:
        create_quote(lead, actor=rep, lines=LINES)
    assert str(exc.value) == (
        "No quote yet: SCOTSMAN has 6 of 8 criteria met, 5 are needed "
        "(and no showstopper)."
    )


def test_without_the_showstopper_rule_a_showstopper_does_not_block(rep):
    lead = make_lead(rep, owner=rep)
    score_scotsman(lead, rep, 6, showstoppers=1)
    assert create_quote(lead, actor=rep, lines=LINES).status == "draft"


def test_switching_the_showstopper_rule_on_blocks_an_earlier_card(rep):
    lead = make_lead(rep, owner=rep)
    score_scotsman(lead, rep, 6, showstoppers=1)
    gate(block_on_showstopper=True)
    with pytest.raises(GateNotPassed):
        create_quote(lead, actor=rep, lines=LINES)


def test_a_lowered_threshold_applies_to_an_earlier_card(unqualified, rep):
    gate(scotsman_threshold=4)
    assert create_quote(unqualified, actor=rep, lines=LINES).status == "draft"


def test_a_raised_threshold_applies_to_an_earlier_card(lead, rep):
    gate(scotsman_threshold=6)
    with pytest.raises(GateNotPassed) as exc:
        create_quote(lead, actor=rep, lines=LINES)
    assert str(exc.value) == (
        "No quote yet: SCOTSMAN has 5 of 8 criteria met, 6 are needed."
    )


def test_a_quote_needs_lines(lead, rep):
    with pytest.raises(ValidationFailed) as exc:
        create_quote(lead, actor=rep, lines=[])
    assert exc.value.code == "lines_required"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            LineInput(" ", Decimal("1"), Decimal("1")),
            "Line 2 needs a description.",
        ),
        (
            LineInput("Chair", Decimal("0"), Decimal("1")),
            "Line 2: the quantity must be above 0.",
        ),
        (
            LineInput("Chair", Decimal("-1"), Decimal("1")),
            "Line 2: the quantity must be above 0.",
        ),
        (
            LineInput("Chair", Decimal("1"), Decimal("-0.01")),
            "Line 2: the price cannot be negative.",
        ),
        (
            LineInput("Chair", Decimal("1"), Decimal("1"), Decimal("1.01")),
            "Line 2: the discount is between 0 and 1.",
        ),
        (
            LineInput("Chair", Decimal("1"), Decimal("1"), Decimal("-0.1")),
            "Line 2: the discount is between 0 and 1.",
        ),
    ],
)
def test_an_invalid_line_is_refused_and_numbered(lead, rep, line, message):
    good = LineInput("Desk", Decimal("1"), Decimal("100"))
    with pytest.raises(ValidationFailed) as exc:
        create_quote(lead, actor=rep, lines=[good, line])
    assert exc.value.code == "invalid_line"
    assert str(exc.value) == message
    assert not Quote.objects.exists()


def test_a_free_line_is_allowed(lead, rep):
    quote = create_quote(
        lead, actor=rep, lines=[LineInput("Installation", Decimal("1"), Decimal("0"))]
    )
    assert quote.lines.get().unit_price == Decimal("0.00")


@pytest.mark.parametrize("discount", ["-0.01", "1.5"])
def test_an_overall_discount_outside_0_to_1_is_refused(lead, rep, discount):
    with pytest.raises(ValidationFailed) as exc:
        create_quote(lead, actor=rep, lines=LINES, discount=Decimal(discount))
    assert exc.value.code == "invalid_discount"


def test_a_closed_lead_gets_no_new_quote(lead, rep):
    close_opportunity(lead, actor=rep, result="lost", reason="Price")
    with pytest.raises(Conflict) as exc:
        create_quote(lead, actor=rep, lines=LINES)
    assert exc.value.code == "opportunity_closed"


# --- update_draft_quote -------------------------------------------------------------------


def test_a_draft_can_be_changed(lead, rep):
    quote = make_draft_quote(lead, rep)
    updated = update_draft_quote(
        quote,
        actor=rep,
        version=1,
        lines=lines(("3", "250", "0.2")),
        discount=Decimal("0.1"),
        vat_rate=Decimal("0.06"),
        notes="Revised spec",
    )
    assert updated.version == 2
    quote.refresh_from_db()
    assert (quote.discount, quote.vat_rate, quote.notes) == (
        Decimal("0.100"),
        Decimal("0.060"),
        "Revised spec",
    )
    assert line_values(quote) == [
        (1, "Line 1", Decimal("3.000"), Decimal("250.00"), Decimal("0.200"))
    ]
    assert events(lead, "quote.updated").get().new == {
        "quote": "Q00001-1",
        "lines": 1,
    }


def test_a_sent_quote_is_never_edited(lead, rep):
    quote = make_sent_quote(lead, rep)
    with pytest.raises(Conflict) as exc:
        update_draft_quote(quote, actor=rep, lines=lines(("1", "1")))
    assert exc.value.code == "quote_not_draft"
    assert str(exc.value) == "A sent quote is never edited: make a new revision."
    assert quote.lines.count() == 2


def test_a_stale_draft_version_is_a_conflict(lead, rep):
    quote = make_draft_quote(lead, rep)
    update_draft_quote(quote, actor=rep, version=1, lines=LINES)
    with pytest.raises(Conflict) as exc:
        update_draft_quote(quote, actor=rep, version=1, lines=lines(("1", "1")))
    assert exc.value.code == "stale_version"


def test_a_draft_on_a_closed_lead_is_not_edited(lead, rep):
    quote = make_draft_quote(lead, rep)
    close_opportunity(lead, actor=rep, result="lost", reason="Competitor")
    with pytest.raises(Conflict) as exc:
        update_draft_quote(quote, actor=rep, lines=lines(("1", "1")))
    assert exc.value.code == "opportunity_closed"
    assert quote.lines.count() == 2


def test_a_draft_update_with_invalid_lines_changes_nothing(lead, rep):
    quote = make_draft_quote(lead, rep)
    with pytest.raises(ValidationFailed) as exc:
        update_draft_quote(quote, actor=rep, lines=[], notes="Lost lines")
    assert exc.value.code == "lines_required"
    quote.refresh_from_db()
    assert (quote.version, quote.notes, quote.lines.count()) == (1, "", 2)


def test_a_draft_update_refuses_an_overall_discount_outside_0_to_1(lead, rep):
    quote = make_draft_quote(lead, rep)
    with pytest.raises(ValidationFailed) as exc:
        update_draft_quote(quote, actor=rep, lines=LINES, discount=Decimal("1.5"))
    assert exc.value.code == "invalid_discount"
    quote.refresh_from_db()
    assert (quote.discount, quote.version) == (Decimal("0.000"), 1)


@pytest.mark.parametrize("vat_rate", ["1.21", "1", "-0.06"])
def test_a_vat_rate_outside_0_to_1_is_refused(lead, rep, vat_rate):
    with pytest.raises(ValidationFailed) as exc:
        create_quote(lead, actor=rep, lines=LINES, vat_rate=Decimal(vat_rate))
    assert exc.value.code == "invalid_vat_rate"
    assert str(exc.value) == "The VAT rate is between 0 and 1 (0.21 for 21%)."
    quote = make_draft_quote(lead, rep)
    with pytest.raises(ValidationFailed) as exc:
        update_draft_quote(quote, actor=rep, lines=LINES, vat_rate=Decimal(vat_rate))
    assert exc.value.code == "invalid_vat_rate"
    quote.refresh_from_db()
    assert quote.vat_rate == Decimal("0.210")


# --- send_quote ------------------------------------------------------------------------


def test_sending_freezes_the_draft(lead, rep):
    quote = make_draft_quote(lead, rep)
    sent = send_quote(quote, actor=rep)
    assert sent.status == "sent"
    assert sent.sent_at is not None
    assert sent.version == 2
    assert transitions(quote) == [("", "draft"), ("draft", "sent")]
    row = QuoteTransition.objects.filter(quote=quote).last()
    assert (row.actor, row.data) == (rep, {"event": "quote.sent"})
    assert events(lead, "quote.sent").get().new == {"quote": "Q00001-1"}


def test_a_sent_quote_cannot_be_sent_again(lead, rep):
    quote = make_sent_quote(lead, rep)
    with pytest.raises(Conflict) as exc:
        send_quote(quote, actor=rep)
    assert exc.value.code == "quote_state"
    assert str(exc.value) == "A Sent quote cannot become Sent."


def test_a_draft_on_a_closed_lead_cannot_be_sent(lead, rep):
    quote = make_draft_quote(lead, rep)
    close_opportunity(lead, actor=rep, result="not_going_ahead", reason="Cancelled")
    with pytest.raises(Conflict) as exc:
        send_quote(quote, actor=rep)
    assert exc.value.code == "opportunity_closed"
    quote.refresh_from_db()
    assert quote.status == "draft"


def test_sending_a_revision_supersedes_the_sent_one(lead, rep, director):
    original = make_sent_quote(lead, rep)
    revision = revise_quote(original, actor=rep)
    original.refresh_from_db()
    assert original.status == "sent"
    send_quote(revision, actor=director)
    original.refresh_from_db()
    revision.refresh_from_db()
    assert (original.status, revision.status) == ("superseded", "sent")
    assert transitions(original) == [
        ("", "draft"),
        ("draft", "sent"),
        ("sent", "superseded"),
    ]
    row = QuoteTransition.objects.filter(quote=original).last()
    assert (row.actor, row.reason) == (director, "revision 2")
    assert events(lead, "quote.superseded").get().new == {"quote": "Q00001-1"}


# --- revise_quote --------------------------------------------------------------------


def test_a_revision_copies_the_sent_quote_as_a_new_draft(unqualified, director, rep):
    original = make_sent_quote(
        unqualified,
        director,
        discount=Decimal("0.05"),
        vat_rate=Decimal("0.06"),
        notes="Incl. delivery",
        override_reason="Key account",
    )
    revision = revise_quote(original, actor=rep)
    revision.refresh_from_db()
    assert revision.status == "draft"
    assert (revision.number, revision.revision) == (original.number, 2)
    assert revision.reference == "Q00001-2"
    assert revision.supersedes == original
    assert revision.opportunity == unqualified
    assert (revision.discount, revision.vat_rate, revision.notes) == (
        Decimal("0.050"),
        Decimal("0.060"),
        "Incl. delivery",
    )
    assert (revision.gate_override, revision.override_reason) == (True, "Key account")
    assert revision.created_by == rep
    assert line_values(revision) == line_values(original)
    assert revision.lines.count() == 2
    row = QuoteTransition.objects.get(quote=revision)
    assert (row.from_state, row.to_state) == ("", "draft")
    assert row.data == {"event": "quote.revised", "supersedes": "Q00001-1"}


def test_a_revision_appears_on_the_leads_timeline(lead, rep):
    original = make_sent_quote(lead, rep)
    revise_quote(original, actor=rep)
    row = events(lead, "quote.revised").get()
    assert row.actor == rep
    assert row.new["quote"] == "Q00001-2"


def test_a_revision_is_edited_without_touching_the_sent_quote(lead, rep):
    original = make_sent_quote(lead, rep)
    revision = revise_quote(original, actor=rep)
    update_draft_quote(revision, actor=rep, lines=lines(("1", "99")))
    assert original.lines.count() == 2
    assert revision.lines.count() == 1


def test_only_a_sent_quote_is_revised(lead, rep):
    with pytest.raises(Conflict) as exc:
        revise_quote(make_draft_quote(lead, rep), actor=rep)
    assert exc.value.code == "quote_state"
    assert str(exc.value) == "Only a sent quote is revised; edit the draft instead."
    accepted = decide_quote(make_sent_quote(lead, rep), actor=rep, accepted=True)
    with pytest.raises(Conflict) as exc:
        revise_quote(accepted, actor=rep)
    assert exc.value.code == "quote_state"


def test_a_sent_quote_is_revised_only_once(lead, rep):
    original = make_sent_quote(lead, rep)
    revise_quote(original, actor=rep)
    with pytest.raises(Conflict) as exc:
        revise_quote(original, actor=rep)
    assert exc.value.code == "quote_revised"
    assert str(exc.value) == "This quote already has a newer revision."
    assert Quote.objects.filter(number=original.number).count() == 2


def test_a_superseded_quote_is_not_revised_again(lead, rep):
    original = make_sent_quote(lead, rep)
    send_quote(revise_quote(original, actor=rep), actor=rep)
    with pytest.raises(Conflict) as exc:
        revise_quote(original, actor=rep)
    assert exc.value.code == "quote_state"


def test_a_quote_on_a_closed_lead_is_not_revised(lead, rep):
    original = make_sent_quote(lead, rep)
    close_opportunity(lead, actor=rep, result="lost", reason="Competitor")
    with pytest.raises(Conflict) as exc:
        revise_quote(original, actor=rep)
    assert exc.value.code == "opportunity_closed"
    assert Quote.objects.count() == 1


# --- decide_quote and expire_quote ------------------------------------------------------


def test_accepting_a_sent_quote(lead, rep):
    quote = decide_quote(
        make_sent_quote(lead, rep), actor=rep, accepted=True, reason="PO received"
    )
    quote.refresh_from_db()
    assert quote.status == "accepted"
    assert quote.decided_at is not None
    assert transitions(quote)[-1] == ("sent", "accepted")
    assert QuoteTransition.objects.filter(quote=quote).last().reason == "PO received"
    lead.refresh_from_db()
    assert lead.status == "open"


def test_declining_a_sent_quote(lead, rep):
    quote = decide_quote(
        make_sent_quote(lead, rep), actor=rep, accepted=False, reason="Too expensive"
    )
    assert quote.status == "declined"
    assert quote.decided_at is not None
    assert transitions(quote)[-1] == ("sent", "declined")
    assert events(lead, "quote.declined").get().reason == "Too expensive"


def test_accepting_with_close_as_won_closes_the_lead_as_won(lead, rep):
    quote = decide_quote(
        make_sent_quote(lead, rep), actor=rep, accepted=True, close_as_won=True
    )
    assert quote.status == "accepted"
    lead.refresh_from_db()
    assert lead.status == "won"
    assert lead.result_reason == "Quote Q00001-1 accepted"
    assert lead.closed_at is not None
    lead.company.refresh_from_db()
    assert lead.company.lifecycle == Lifecycle.CUSTOMER


def test_declining_with_close_as_won_leaves_the_lead_open(lead, rep):
    decide_quote(
        make_sent_quote(lead, rep), actor=rep, accepted=False, close_as_won=True
    )
    lead.refresh_from_db()
    assert lead.status == "open"


@pytest.mark.parametrize("accepted", [True, False])
def test_a_quote_on_a_closed_lead_cannot_be_decided(lead, rep, accepted):
    quote = make_sent_quote(lead, rep)
    close_opportunity(lead, actor=rep, result="not_going_ahead", reason="Cancelled")
    with pytest.raises(Conflict) as exc:
        decide_quote(quote, actor=rep, accepted=accepted)
    assert exc.value.code == "opportunity_closed"
    quote.refresh_from_db()
    # Closing the lead already answered the quote; deciding it again changes nothing.
    assert quote.status == "declined"
    assert transitions(quote)[-1] == ("sent", "declined")


def test_accepting_as_won_on_a_closed_lead_changes_nothing(lead, rep):
    quote = make_sent_quote(lead, rep)
    close_opportunity(lead, actor=rep, result="lost", reason="Competitor")
    with pytest.raises(Conflict) as exc:
        decide_quote(quote, actor=rep, accepted=True, close_as_won=True)
    assert exc.value.code == "opportunity_closed"
    quote.refresh_from_db()
    assert quote.status == "declined"
    lead.refresh_from_db()
    assert lead.status == "lost"


@pytest.mark.parametrize("result", ["lost", "not_going_ahead", "nurture"])
def test_closing_a_lead_declines_its_sent_quotes_but_keeps_drafts(lead, rep, result):
    sent = make_sent_quote(lead, rep)
    draft = make_draft_quote(lead, rep)
    close_opportunity(
        lead,
        actor=rep,
        result=result,
        reason="Decided",
        follow_up_on=datetime.date(2027, 3, 1) if result == "nurture" else None,
        follow_up_by="marketing" if result == "nurture" else "",
    )
    sent.refresh_from_db()
    draft.refresh_from_db()
    assert sent.status == "declined"
    assert sent.decided_at is not None
    assert QuoteTransition.objects.filter(quote=sent).last().reason == (
        f"qualified lead closed ({result})"
    )
    assert draft.status == "draft"


@pytest.mark.parametrize("accepted", [True, False])
def test_a_draft_cannot_be_decided(lead, rep, accepted):
    quote = make_draft_quote(lead, rep)
    with pytest.raises(Conflict) as exc:
        decide_quote(quote, actor=rep, accepted=accepted)
    assert exc.value.code == "quote_state"
    target = "Accepted" if accepted else "Declined"
    assert str(exc.value) == f"A Draft quote cannot become {target}."
    quote.refresh_from_db()
    assert quote.status == "draft"


def test_a_decided_quote_cannot_be_decided_again(lead, rep):
    quote = decide_quote(make_sent_quote(lead, rep), actor=rep, accepted=False)
    with pytest.raises(Conflict) as exc:
        decide_quote(quote, actor=rep, accepted=True)
    assert exc.value.code == "quote_state"


def test_a_sent_quote_expires(lead, rep):
    quote = expire_quote(make_sent_quote(lead, rep))
    assert quote.status == "expired"
    row = QuoteTransition.objects.filter(quote=quote).last()
    assert (row.from_state, row.to_state, row.actor, row.reason) == (
        "sent",
        "expired",
        None,
        "valid_until passed",
    )


@pytest.mark.parametrize("state", ["draft", "accepted", "expired"])
def test_only_a_sent_quote_expires(lead, rep, state):
    quote = make_draft_quote(lead, rep)
    if state != "draft":
        send_quote(quote, actor=rep)
    if state == "accepted":
        decide_quote(quote, actor=rep, accepted=True)
    if state == "expired":
        expire_quote(quote)
    with pytest.raises(Conflict) as exc:
        expire_quote(quote)
    assert exc.value.code == "quote_state"
