"""The intake and triage journeys of SPEC steps 1-2, clicked through in a real browser.

Each journey starts from committed data made through the real actions (the live
server reads it from another thread), drives the pages as a person would, and then
checks what was stored through the ORM.
"""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from leadflow.contacts.models import Lifecycle
from leadflow.contacts.tests.factories import make_company, make_contact
from leadflow.intake.actions import book_order
from leadflow.intake.models import Inquiry, Order
from leadflow.intake.tests.factories import make_inquiry, make_opportunity
from leadflow.marketing.models import ListMembership
from leadflow.opportunities.models import Opportunity
from leadflow.workflows.models import Notification

DUTCH_CATALOGUE = (
    Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES" / "django.mo"
)


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def nav_link(page: Page, name: str):
    """A link in the main navigation of the header."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def inquiry_id_from(page: Page) -> int:
    expect(page).to_have_url(re.compile(r"/inquiries/\d+/$"))
    return int(re.search(r"/inquiries/(\d+)/$", page.url).group(1))


def close_inquiry_in_browser(page: Page, outcome: str, **fields: str) -> None:
    """Pick an outcome on the inquiry page, fill the fields shown for it, submit."""
    by_testid(page, f"outcome-{outcome}").click()
    expect(page.locator(f"input[name=outcome][value={outcome}]")).to_be_checked()
    for selector, value in fields.items():
        field = page.locator(selector)
        expect(field).to_be_visible()
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    by_testid(page, "close-submit").click()


def test_unknown_person_to_qualified_lead(browser_at, inside, rep):
    page = browser_at.login(inside.username)

    # Step 1: register. Nobody with these details is known yet.
    by_testid(page, "nav-new-inquiry").click()
    expect(page.locator("h1")).to_have_text("New inquiry")
    page.fill("#id_email", "sofie.claes@brightwave.be")
    page.fill("#id_name", "Sofie Claes")
    page.fill("#id_company", "Brightwave BV")
    expect(by_testid(page, "no-match")).to_contain_text("Nobody found")
    page.fill(
        "#id_summary", "Quote for 40 ergonomic desks\nDelivery before the summer."
    )
    page.select_option("#id_channel", label="E-mail")
    by_testid(page, "register").click()

    inquiry_id = inquiry_id_from(page)
    expect(by_testid(page, "status")).to_have_text("Open")
    expect(page.locator(".messages")).to_contain_text(
        f"Inquiry #{inquiry_id} registered."
    )

    # Step 2: assess it from the triage inbox.
    nav_link(page, "Triage").click()
    expect(page).to_have_url(browser_at.url("/inquiries/"))
    row = by_testid(page, f"row-{inquiry_id}")
    expect(row).to_contain_text("Sofie Claes")
    expect(row).to_contain_text("Quote for 40 ergonomic desks")
    row.get_by_role("link", name=f"#{inquiry_id}").click()
    expect(page).to_have_url(browser_at.url(f"/inquiries/{inquiry_id}/"))

    close_inquiry_in_browser(
        page,
        "qualified",
        **{"#id_owner": "Rik Rep", "#id_expected_value": "12500"},
    )
    expect(by_testid(page, "status")).to_have_text("Closed: Qualified")
    link = by_testid(page, "opportunity-link")
    expect(link).to_have_text("Quote for 40 ergonomic desks")

    inquiry = Inquiry.objects.get(pk=inquiry_id)
    assert (inquiry.status, inquiry.outcome) == ("closed", "qualified")
    assert inquiry.closed_by == inside
    assert inquiry.channel.code == "email"
    assert inquiry.contact.email == "sofie.claes@brightwave.be"
    assert inquiry.company.name == "Brightwave BV"
    opportunity = Opportunity.objects.get(inquiry=inquiry)
    assert opportunity.owner == rep
    assert opportunity.expected_value == Decimal("12500")
    assert opportunity.stage.code == "qualification"
    assert link.get_attribute("href") == f"/opportunities/{opportunity.pk}/"

    # The owner hears about it and finds the lead in "Qualified leads".
    page = browser_at.login(rep.username)
    expect(by_testid(page, "unread-count")).to_have_text("1")
    nav_link(page, "Qualified leads").click()
    lead = page.get_by_role("link", name="Quote for 40 ergonomic desks")
    expect(lead).to_have_attribute("href", f"/opportunities/{opportunity.pk}/")
    lead.click()
    expect(by_testid(page, "owner")).to_have_text("Rik Rep")


def test_existing_customer_reorder(browser_at, inside):
    company = make_company("Acme Logistics NV")
    contact = make_contact(
        "Els Peeters", email="els.peeters@acme-logistics.be", company=company
    )
    earlier = book_order(
        actor=inside,
        contact=contact,
        description="200 boxes of A4 paper",
        amount=Decimal("1480.00"),
    )
    company.refresh_from_db()
    assert company.lifecycle == Lifecycle.CUSTOMER

    page = browser_at.login(inside.username)
    by_testid(page, "nav-new-inquiry").click()
    # Typed as it was read out on the phone: the lookup ignores the case.
    page.locator("#id_email").press_sequentially("Els.Peeters@Acme-Logistics.be")
    match = by_testid(page, f"match-{contact.pk}")
    expect(match).to_contain_text("Els Peeters")
    expect(match).to_contain_text("Acme Logistics NV")
    history = by_testid(page, f"history-{contact.pk}")
    expect(history).to_contain_text("Customer")
    expect(history).to_contain_text("200 boxes of A4 paper")
    expect(history).to_contain_text("1480")

    question = "Same as last time: 200 boxes of A4 paper, delivery next week."
    page.fill("#id_summary", question)
    by_testid(page, f"reorder-{contact.pk}").click()

    expect(page).to_have_url(browser_at.url("/orders/new/"))
    expect(page.locator("h1")).to_have_text("Book a re-order")
    expect(page.locator("main")).to_contain_text("Els Peeters")
    expect(page.locator("#id_description")).to_have_value(question)
    page.fill("#id_amount", "1520.50")
    page.fill("#id_reference", "PO-2231")
    by_testid(page, "book-order").click()

    expect(page).to_have_url(browser_at.url("/orders/"))
    table = by_testid(page, "order-table")
    expect(table).to_contain_text(question[:40])
    expect(table).to_contain_text("1520.50")
    expect(table).to_contain_text("Ines Inside")

    order = Order.objects.exclude(pk=earlier.pk).get()
    assert order.contact == contact
    assert order.company == company
    assert order.booked_by == inside
    assert order.amount == Decimal("1520.50")
    assert order.description == question
    assert order.reference == "PO-2231"
    # A re-order is booked as an order, not as an inquiry.
    assert not Inquiry.objects.exists()


def test_close_as_nurture(browser_at, inside):
    inquiry = make_inquiry(
        inside,
        name="Jan Janssens",
        email="jan@bakkerij-janssens.be",
        company="Bakkerij Janssens",
        summary="Maybe new ovens next year, send info",
    )

    page = browser_at.login(inside.username)
    browser_at.goto(f"/inquiries/{inquiry.pk}/")
    expect(by_testid(page, "status")).to_have_text("Open")
    close_inquiry_in_browser(
        page, "nurture", **{"#id_new_lists": "Bakery equipment 2027"}
    )
    expect(by_testid(page, "status")).to_have_text("Closed: Nurture")

    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.outcome) == ("closed", "nurture")
    assert list(
        ListMembership.objects.filter(contact=inquiry.contact).values_list(
            "marketing_list__name", flat=True
        )
    ) == ["Bakery equipment 2027"]

    # The contact page shows they are in the marketing database, on that list.
    page.locator("main dd a", has_text="Jan Janssens").click()
    expect(page).to_have_url(browser_at.url(f"/contacts/{inquiry.contact_id}/"))
    expect(by_testid(page, "in-marketing-db")).to_have_text("yes")
    expect(by_testid(page, f"history-{inquiry.contact_id}")).to_contain_text(
        "Bakery equipment 2027"
    )

    # And the list itself has the contact.
    nav_link(page, "Marketing lists").click()
    page.get_by_role("link", name="Bakery equipment 2027").click()
    expect(page.locator("h1")).to_have_text("Bakery equipment 2027")
    expect(page.locator("main table")).to_contain_text("Jan Janssens")
    expect(page.locator("main table")).to_contain_text("jan@bakkerij-janssens.be")


def test_archive_requires_reason(browser_at, inside):
    # Fails until the app lets HTMX swap the 422 answer of the close form: htmx 2
    # swaps no 4xx response by default, so the inline error is never shown.
    inquiry = make_inquiry(
        inside, name="Spam Bot", email="win@prizes.example", summary="You have won!"
    )

    page = browser_at.login(inside.username)
    browser_at.goto(f"/inquiries/{inquiry.pk}/")
    url = page.url
    with page.expect_response(re.compile(r"/close/$")) as answer:
        close_inquiry_in_browser(page, "archived")
    # The server refuses and answers with the close form and its error...
    assert answer.value.status == 422
    assert "Say why the inquiry is archived." in answer.value.text()
    # ...which HTMX must show in place, without leaving the page.
    error = by_testid(page, "close-error")
    expect(error).to_contain_text("Say why the inquiry is archived.")
    # The error came back inline (HTMX swap), not as a new page.
    expect(page).to_have_url(url)
    expect(by_testid(page, "status")).to_have_text("Open")
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.outcome) == ("open", "")

    # The swapped-in form still works: give the reason and close.
    expect(page.locator("input[name=outcome][value=archived]")).to_be_checked()
    expect(page.locator("#id_reason")).to_be_visible()
    page.fill("#id_reason", "Spam, not a real question")
    by_testid(page, "close-submit").click()
    expect(by_testid(page, "status")).to_have_text("Closed: Archived")
    expect(page.locator("main")).to_contain_text("Spam, not a real question")
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.outcome) == ("closed", "archived")
    assert inquiry.close_reason == "Spam, not a real question"


def test_question_on_running_lead_goes_to_owner(browser_at, inside, rep):
    opportunity = make_opportunity(
        inside,
        owner=rep,
        name="Marc Maes",
        email="marc.maes@maes-bouw.be",
        company="Maes Bouw",
        summary="Quote for a new warehouse roof",
    )
    contact = opportunity.contact
    inquiries_before = Inquiry.objects.count()
    assert Notification.objects.filter(recipient=rep).count() == 1  # "new lead for you"

    page = browser_at.login(inside.username)
    by_testid(page, "nav-new-inquiry").click()
    page.fill("#id_name", "marc maes")
    match = by_testid(page, f"match-{contact.pk}")
    expect(match).to_contain_text("Maes Bouw")
    running = by_testid(page, f"running-{opportunity.pk}")
    expect(running).to_contain_text("Quote for a new warehouse roof")
    expect(running).to_contain_text("Rik Rep")

    question = "Can the roof quote include solar panels?"
    page.fill("#id_summary", question)
    handover = by_testid(page, f"handover-{opportunity.pk}")
    expect(handover).to_have_text("Hand the question to Rik Rep")
    handover.click()

    expect(page).to_have_url(browser_at.url("/"))
    expect(page.locator(".messages")).to_contain_text(
        "The question was logged on “Quote for a new warehouse roof” and Rik Rep was notified."
    )
    # Not a new inquiry: the question lives on the running lead.
    assert Inquiry.objects.count() == inquiries_before
    note = Notification.objects.get(
        recipient=rep, event_type="opportunity.question_handed_over"
    )
    assert question in note.message
    assert note.url == f"/opportunities/{opportunity.pk}/"

    page = browser_at.login(rep.username)
    expect(by_testid(page, "unread-count")).to_have_text("2")
    by_testid(page, "bell").click()
    handed = by_testid(page, "notification").filter(has_text=question)
    expect(handed).to_contain_text("Ines Inside")
    handed.get_by_role("link").click()
    expect(page).to_have_url(browser_at.url(f"/opportunities/{opportunity.pk}/"))
    timeline = by_testid(page, "timeline")
    expect(timeline).to_contain_text("Question handed over")
    expect(timeline).to_contain_text(question)


def test_dutch_interface(browser_at, inside, request):
    if not DUTCH_CATALOGUE.exists():
        request.applymarker(
            pytest.mark.xfail(
                reason=f"{DUTCH_CATALOGUE} is not compiled yet (run compilemessages)",
                strict=False,
            )
        )
    page = browser_at.login(inside.username)
    nav = page.get_by_role("navigation")
    expect(by_testid(page, "nav-new-inquiry")).to_have_text("+ New inquiry")

    by_testid(page, "lang-nl").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(by_testid(page, "lang-nl")).to_have_class(re.compile(r"\bactive\b"))
    expect(by_testid(page, "nav-new-inquiry")).to_have_text("+ Nieuwe aanvraag")
    expect(nav).not_to_contain_text("New inquiry")

    # The choice sticks on the next page, and EN switches back.
    by_testid(page, "nav-new-inquiry").click()
    expect(page.locator("h1")).to_have_text("Nieuwe aanvraag")
    by_testid(page, "lang-en").click()
    expect(by_testid(page, "nav-new-inquiry")).to_have_text("+ New inquiry")
