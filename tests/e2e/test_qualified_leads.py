"""The qualified-lead journeys (SPEC step 3 onwards), clicked through in a real browser.

A salesperson works a lead from its record page: SCOTSMAN scoring and the quote gate,
the quote with its PDF, sending and winning; closing as lost; moving cards on the
pipeline board; and the buying clock. Each lead is made through the real intake
actions (an inquiry registered and closed as qualified); what the pages did is then
checked through the ORM.
"""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from leadflow.contacts.models import Contact, Lifecycle
from leadflow.contacts.tests.factories import make_contact
from leadflow.intake.tests.factories import make_opportunity
from leadflow.opportunities import actions
from leadflow.opportunities.models import (
    OpportunityTransition,
    Quote,
    Stakeholder,
    StakeholderPhaseChange,
)
from leadflow.qualification.actions import score_qualification

# The gate, its settings row and the buying-clock phases come from a data migration
# that the flush of the transactional tests removes: put them back for every journey.
pytestmark = pytest.mark.usefixtures("qualification_data")

GATE_MESSAGE = "No quote yet: SCOTSMAN has 4 of 8 criteria met, 5 are needed."


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def messages(page: Page):
    return page.locator("main .messages")


def lead_for(inside, rep, **inquiry):
    """An open qualified lead owned by ``rep``: an inquiry registered and qualified."""
    return make_opportunity(inside, owner=rep, **inquiry)


def score_scotsman(page: Page, **statuses: str) -> None:
    """Set criteria on the (already visible) SCOTSMAN form and save it."""
    form = by_testid(page, "scotsman-form")
    expect(form).to_be_visible()
    for criterion, status in statuses.items():
        form.locator(f"select[name=c_{criterion}]").select_option(status)
    by_testid(page, "score-submit").click()
    expect(messages(page)).to_contain_text("Scorecard saved.")


def fill_quote_line(form, index: int, description, quantity, price, discount=""):
    form.locator(f"[name='lines-{index}-description']").fill(description)
    form.locator(f"[name='lines-{index}-quantity']").fill(quantity)
    form.locator(f"[name='lines-{index}-unit_price']").fill(price)
    form.locator(f"[name='lines-{index}-discount']").fill(discount)


def section_details(page: Page, section: str, summary: str):
    """The <details> of a record section whose <summary> reads ``summary``."""
    return page.locator(f"section#{section} details").filter(
        has=page.locator("summary", has_text=summary)
    )


def test_qualify_quote_and_win(browser_at, inside, rep):
    opportunity = lead_for(
        inside,
        rep,
        name="Sofie Claes",
        email="sofie.claes@brightwave.be",
        company="Brightwave BV",
        summary="Quote for 40 ergonomic desks",
    )
    company = opportunity.company
    assert company.lifecycle != Lifecycle.CUSTOMER

    page = browser_at.login(rep.username)
    browser_at.goto(f"/opportunities/{opportunity.pk}/")
    expect(page.locator("h1")).to_contain_text("Quote for 40 ergonomic desks")
    expect(by_testid(page, "opp-status")).to_have_text("Open")
    gate = by_testid(page, "gate")
    expect(gate).to_contain_text("Not scored yet. A quote needs 5 of the 8")

    # Score SCOTSMAN: the form is open while the lead is not scored yet.
    scoring = section_details(page, "qualification", "Score SCOTSMAN")
    expect(scoring).to_have_attribute("open", "")
    by_testid(page, "scotsman-form").locator("[name=e_need]").fill(
        "Back complaints in the office; the works council asked for new desks"
    )
    score_scotsman(
        page, solution="met", competition="met", originality="met", need="met"
    )
    expect(page).to_have_url(re.compile(r"#qualification$"))
    expect(gate).to_contain_text("SCOTSMAN: 4 / 8 met")
    expect(gate).to_contain_text("below the gate (5 needed)")

    # A quote below the gate is refused, with a message saying so; nothing is stored.
    quoting = section_details(page, "quotes", "Make a quote")
    expect(quoting).not_to_have_attribute("open", "")
    quoting.locator("summary").click()
    expect(quoting.locator(".alert")).to_contain_text(
        "Only a qualified lead gets a quote"
    )
    form = by_testid(page, "quote-form")
    fill_quote_line(form, 0, "Ergonomic desk", "40", "450")
    by_testid(page, "quote-create").click()
    expect(messages(page)).to_contain_text(GATE_MESSAGE)
    expect(page.locator("section#quotes .quote")).to_have_count(0)
    expect(page.locator("section#quotes")).to_contain_text("No quotes yet.")
    assert not Quote.objects.exists()

    # A fifth criterion met: the gate passes; earlier answers are kept on the form.
    section_details(page, "qualification", "Score SCOTSMAN").locator("summary").click()
    expect(by_testid(page, "scotsman-form").locator("[name=c_need]")).to_have_value(
        "met"
    )
    score_scotsman(page, authority="met")
    expect(gate).to_contain_text("SCOTSMAN: 5 / 8 met")
    expect(gate.locator(".tag")).to_have_text("passes the quote gate")

    # The quote: 2 × 1000 at 10% + 1 × 500, 5% overall, 21% VAT.
    quoting = section_details(page, "quotes", "Make a quote")
    expect(quoting).to_have_attribute("open", "")
    expect(quoting.locator(".alert")).to_have_count(0)
    form = by_testid(page, "quote-form")
    fill_quote_line(form, 0, "Ergonomic desk, electric", "2", "1000", "10")
    fill_quote_line(form, 1, "Delivery and assembly", "1", "500")
    form.locator("[name=discount]").fill("5")
    expect(form.locator("[name=vat_rate]")).to_have_value("21")
    form.locator("[name=language]").select_option("en")
    by_testid(page, "quote-create").click()
    expect(messages(page)).to_contain_text("Draft quote made.")

    quote = Quote.objects.get()
    assert quote.opportunity_id == opportunity.pk
    assert (quote.status, quote.gate_override, quote.scotsman_met) == (
        "draft",
        False,
        5,
    )
    assert (quote.discount, quote.vat_rate) == (Decimal("0.05"), Decimal("0.21"))
    assert list(
        quote.lines.order_by("position").values_list(
            "description", "quantity", "unit_price", "discount"
        )
    ) == [
        ("Ergonomic desk, electric", Decimal("2"), Decimal("1000"), Decimal("0.1")),
        ("Delivery and assembly", Decimal("1"), Decimal("500"), Decimal("0")),
    ]
    card = by_testid(page, f"quote-{quote.pk}")
    expect(card).to_contain_text(quote.reference)
    expect(card).to_contain_text("Draft")
    # 1800 + 500 = 2300; − 5% = 2185; + 21% VAT (458.85) = 2643.85.
    expect(card.locator("[data-testid=quote-total]")).to_have_text("2,643.85")
    expect(card).to_contain_text("net € 2,185.00")

    # The PDF link downloads the quote as a PDF document.
    with page.expect_download() as download_info:
        by_testid(page, f"quote-pdf-{quote.pk}").click()
    download = download_info.value
    assert download.suggested_filename == f"{quote.reference}.pdf"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert quote.reference in text
    assert "Ergonomic desk, electric" in text
    assert "2,643.85" in text

    by_testid(page, f"quote-send-{quote.pk}").click()
    expect(messages(page)).to_contain_text("Quote marked as sent")
    expect(card.locator("h3 .tag")).to_have_text("Sent")
    expect(by_testid(page, f"quote-send-{quote.pk}")).to_have_count(0)

    close_as_won = card.locator("input[name=close_as_won]")
    expect(close_as_won).to_be_checked()
    by_testid(page, f"quote-accept-{quote.pk}").click()
    expect(messages(page)).to_contain_text("Quote decision saved.")
    expect(by_testid(page, "opp-status")).to_have_text("Won")
    expect(card.locator("h3 .tag")).to_have_text("Accepted")
    # A won lead is closed: no more forms on its record.
    expect(by_testid(page, "opp-close-form")).to_have_count(0)
    expect(by_testid(page, "quote-form")).to_have_count(0)

    opportunity.refresh_from_db()
    quote.refresh_from_db()
    company.refresh_from_db()
    assert opportunity.status == "won"
    assert opportunity.result_reason == f"Quote {quote.reference} accepted"
    assert quote.status == "accepted"
    assert quote.sent_at is not None and quote.decided_at is not None
    assert company.lifecycle == Lifecycle.CUSTOMER


def test_lost_lead_contact_goes_to_marketing_database(browser_at, inside, rep):
    opportunity = lead_for(
        inside,
        rep,
        name="Marc Maes",
        email="marc.maes@maes-bouw.be",
        company="Maes Bouw",
        summary="New warehouse roof",
    )
    other = lead_for(inside, rep, summary="Solar panels on the office roof")
    contact = opportunity.contact
    # Closing the inquiry already put the requester in the marketing database; take
    # them out again (as for a contact known before that rule) so that closing the
    # lead has something to show.
    Contact.objects.filter(pk=contact.pk).update(in_marketing_database=False)
    # A colleague on the buying team, never in the marketing database.
    colleague = make_contact(
        "Lotte Maes", email="lotte@maes-bouw.be", company=opportunity.company
    )
    assert not colleague.in_marketing_database
    actions.set_stakeholder(
        opportunity, actor=rep, contact=colleague, role="budget_holder"
    )

    page = browser_at.login(rep.username)
    browser_at.goto("/opportunities/")
    expect(page.get_by_role("link", name="New warehouse roof")).to_be_visible()
    expect(
        page.get_by_role("link", name="Solar panels on the office roof")
    ).to_be_visible()
    browser_at.goto(f"/contacts/{contact.pk}/")
    expect(by_testid(page, "in-marketing-db")).to_have_text("no")

    browser_at.goto(f"/opportunities/{opportunity.pk}/")
    form = by_testid(page, "opp-close-form")
    by_testid(page, "result-lost").click()
    expect(form.locator("input[name=result][value=lost]")).to_be_checked()
    form.locator("[name=reason]").fill("Went with a cheaper roofer")
    by_testid(page, "opp-close-submit").click()
    expect(messages(page)).to_contain_text("Qualified lead closed.")
    expect(by_testid(page, "opp-status")).to_have_text("Lost")
    expect(page.locator("section#details")).to_contain_text(
        "Went with a cheaper roofer"
    )
    expect(by_testid(page, "opp-close-form")).to_have_count(0)

    # The primary contact (and the colleague) are now in the marketing database.
    page.locator("section#details dd a", has_text="Marc Maes").click()
    expect(page).to_have_url(browser_at.url(f"/contacts/{contact.pk}/"))
    expect(by_testid(page, "in-marketing-db")).to_have_text("yes")
    browser_at.goto(f"/contacts/{colleague.pk}/")
    expect(by_testid(page, "in-marketing-db")).to_have_text("yes")

    # Off the sales lists: the open list and the board show only the other lead...
    browser_at.goto("/opportunities/")
    expect(
        page.get_by_role("link", name="Solar panels on the office roof")
    ).to_be_visible()
    expect(page.get_by_role("link", name="New warehouse roof")).to_have_count(0)
    browser_at.goto("/pipeline/")
    expect(by_testid(page, f"card-{other.pk}")).to_be_visible()
    expect(by_testid(page, f"card-{opportunity.pk}")).to_have_count(0)
    expect(by_testid(page, "board-summary")).to_contain_text("1 open qualified lead")
    # ...but nothing is deleted: the lost lead is listed under "Lost".
    browser_at.goto("/opportunities/?status=lost")
    expect(page.get_by_role("link", name="New warehouse roof")).to_be_visible()

    opportunity.refresh_from_db()
    contact.refresh_from_db()
    colleague.refresh_from_db()
    assert (opportunity.status, opportunity.result_reason) == (
        "lost",
        "Went with a cheaper roofer",
    )
    assert opportunity.closed_at is not None
    assert contact.in_marketing_database and colleague.in_marketing_database


def test_board_drag_asks_for_a_reason(browser_at, inside, rep):
    dragged = lead_for(inside, rep, summary="Forklift maintenance contract")
    stays = lead_for(inside, rep, summary="Racking for the new hall")
    assert dragged.stage.code == stays.stage.code == "qualification"

    page = browser_at.login(rep.username)
    browser_at.goto("/pipeline/")
    qualification = by_testid(page, "column-qualification")
    proposal = by_testid(page, "column-proposal")
    card = by_testid(page, f"card-{dragged.pk}")
    expect(qualification.locator("[data-card]")).to_have_count(2)
    expect(by_testid(page, "count-qualification")).to_have_text("2")
    expect(by_testid(page, "count-proposal")).to_have_text("0")

    card.drag_to(proposal)
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        "Move Forklift maintenance contract to Proposal / quote."
    )
    reason = dialog.locator("textarea[name=reason]")
    expect(reason).to_be_focused()

    # Empty: the browser refuses to submit the required field; the dialog stays.
    submit = by_testid(page, "move-submit")
    submit.click()
    assert reason.evaluate("el => el.validity.valueMissing")
    assert reason.evaluate("el => el.validationMessage")
    expect(dialog).to_be_visible()
    # Only blanks: the server refuses and the dialog shows why.
    reason.fill("   ")
    with page.expect_response(re.compile(r"/pipeline/move/\d+/")) as answer:
        submit.click()
    assert answer.value.status == 422
    error = dialog.locator("[data-testid=move-error]")
    expect(error).to_have_text("Say why the stage changes.")
    expect(dialog).to_be_visible()
    dragged.refresh_from_db()
    assert dragged.stage.code == "qualification"

    reason.fill("Site visit done; they asked for a proposal")
    submit.click()
    expect(dialog).to_be_hidden()
    expect(by_testid(page, "moved-note")).to_have_text(
        "“Forklift maintenance contract” moved to Proposal / quote."
    )
    expect(proposal.locator(f"[data-testid=card-{dragged.pk}]")).to_be_visible()
    expect(qualification.locator(f"[data-testid=card-{dragged.pk}]")).to_have_count(0)
    expect(qualification.locator(f"[data-testid=card-{stays.pk}]")).to_be_visible()
    expect(by_testid(page, "count-qualification")).to_have_text("1")
    expect(by_testid(page, "count-proposal")).to_have_text("1")

    dragged.refresh_from_db()
    stays.refresh_from_db()
    assert dragged.stage.code == "proposal"
    assert stays.stage.code == "qualification"
    move = OpportunityTransition.objects.get(
        opportunity=dragged, from_state="qualification"
    )
    assert (move.to_state, move.reason, move.actor) == (
        "proposal",
        "Site visit done; they asked for a proposal",
        rep,
    )
    assert move.data["direction"] == "forward"
    assert not OpportunityTransition.objects.filter(
        opportunity=stays, from_state="qualification"
    ).exists()


def test_buying_clock_regression_needs_a_reason(browser_at, inside, rep):
    opportunity = lead_for(
        inside,
        rep,
        name="Els Peeters",
        email="els.peeters@acme-logistics.be",
        company="Acme Logistics NV",
        summary="Warehouse management software",
    )
    contact = opportunity.contact
    # Qualified (Authority met) and a quote already sent, before the clock is known.
    score_qualification(
        opportunity,
        actor=rep,
        framework="scotsman",
        criteria=dict.fromkeys(
            ["solution", "competition", "originality", "authority", "need"], "met"
        ),
    )
    quote = actions.create_quote(
        opportunity,
        actor=rep,
        lines=[actions.LineInput("Licences", Decimal("10"), Decimal("300"))],
    )
    actions.send_quote(quote, actor=rep)

    page = browser_at.login(rep.username)
    browser_at.goto(f"/opportunities/{opportunity.pk}/")
    clock = page.locator("section#clock")
    strip = clock.locator("ol.phase-strip > li")
    expect(strip).to_have_count(8)
    expect(clock).to_contain_text("No stakeholders recorded yet.")
    expect(by_testid(page, "clock-warning")).to_have_text(
        "SCOTSMAN Authority is marked met, but no decision-maker is recorded."
    )

    form = by_testid(page, "stakeholder-form")

    def save_stakeholder(phase: str, note: str = "") -> None:
        form.locator("[name=contact]").select_option(str(contact.pk))
        form.locator("[name=role]").select_option("decision_maker")
        form.locator("[name=phase]").select_option(phase)
        form.locator("[name=note]").fill(note)
        form.get_by_role("button", name="Save stakeholder").click()

    save_stakeholder("5")
    expect(messages(page)).to_contain_text("Stakeholder saved.")
    expect(strip.nth(4)).to_contain_text("Els Peeters")
    expect(strip.nth(4)).to_have_class(re.compile(r"\bphase-occupied\b"))
    expect(clock.locator("li.phase-occupied")).to_have_count(1)
    expect(by_testid(page, "deal-phase")).to_have_text("5. Supplier selection")
    expect(by_testid(page, "clock-warning")).to_have_count(0)

    # Back to phase 2 without a note: refused, nothing moves.
    save_stakeholder("2")
    expect(messages(page)).to_contain_text(
        "Moving back on the buying clock needs a short reason."
    )
    expect(strip.nth(4)).to_contain_text("Els Peeters")
    expect(by_testid(page, "deal-phase")).to_have_text("5. Supplier selection")
    assert Stakeholder.objects.get(opportunity=opportunity).phase.position == 5

    # With a note it moves; the clock warns that the quote went out too early.
    save_stakeholder("2", "CFO questions whether the problem is worth solving")
    expect(messages(page)).to_contain_text("Stakeholder saved.")
    expect(by_testid(page, "deal-phase")).to_have_text("2. Problem recognised")
    expect(strip.nth(1)).to_contain_text("Els Peeters")
    expect(strip.nth(4)).not_to_contain_text("Els Peeters")
    expect(by_testid(page, "clock-warning")).to_have_text(
        "A quote was sent while the decision-maker is still in phase 3 or earlier."
    )

    stakeholder = Stakeholder.objects.get(opportunity=opportunity)
    assert (stakeholder.role, stakeholder.phase.position) == ("decision_maker", 2)
    changes = list(
        StakeholderPhaseChange.objects.filter(stakeholder=stakeholder).order_by("id")
    )
    assert [(c.to_phase.position, c.regression) for c in changes] == [
        (5, False),
        (2, True),
    ]
    assert changes[-1].note == "CFO questions whether the problem is worth solving"
    assert changes[-1].from_phase.position == 5
