"""The public web form of a campaign, filled in by a visitor in a real browser.

A visitor opens the form from a newsletter link (utm parameters) coming from the
company's site, fills it in, ticks the consent box and sends it after a few seconds;
the thank-you page appears, the inquiry is stored with channel "web form", the
campaign, the department, the referrer and the utm values, and inside sales finds it
in the triage queue. A second journey embeds the form in another site's page: framed
where the form allows it, refused everywhere else.
"""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import Page, expect

from leadflow.contacts.models import Consent
from leadflow.intake.models import Campaign, Inquiry
from leadflow.marketing.webforms import create_webform

QUESTION = "Can you quote 12 standing desks for our new office?"


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def make_form(department=None, origins: str = "http://www.example.be"):
    return create_webform(
        actor=None,
        campaign=Campaign.objects.create(name="Spring 2027"),
        slug="spring",
        title="Ask us for a quote",
        intro="Tell us what you need.",
        thank_you="Thank you! We will call you within one working day.",
        consent_text="Keep me informed about offers.",
        department=department,
        allowed_origins=origins,
    )


def test_a_visitor_sends_the_form_and_inside_sales_sees_the_inquiry(
    browser_at, inside, department, settings
):
    # The visitor waits a little over the minimum before sending (the real minimum
    # is 2 s; a shorter one keeps the test quick).
    settings.LEADFLOW_WEBFORM_MIN_SECONDS = 1
    web_form = make_form(department)
    page = browser_at.page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(
        browser_at.url("/forms/spring/?utm_source=newsletter&utm_campaign=spring"),
        referer="https://www.example.be/offerte",
    )
    expect(page.locator("h1")).to_have_text("Ask us for a quote")
    expect(page.locator("#id_utm_source")).to_have_value("newsletter")
    expect(page.locator("#id_utm_campaign")).to_have_value("spring")
    expect(page.locator("#id_utm_medium")).to_have_value("")
    expect(page.locator("#id_referrer")).to_have_value("https://www.example.be/offerte")
    expect(page.locator("#id_consent")).not_to_be_checked()
    # The honeypot is in the page but out of sight.
    expect(page.locator("#id_website")).not_to_be_in_viewport()

    page.fill("#id_name", "Hanne Peeters")
    page.fill("#id_email", "hanne@peeters.be")
    page.fill("#id_company", "Peeters Bouw")
    page.fill("#id_question", QUESTION)
    page.check("#id_consent")
    page.wait_for_timeout(1_500)  # a person takes a while; a bot does not
    by_testid(page, "webform-send").click()

    expect(page).to_have_url(browser_at.url("/forms/spring/thanks/"))
    expect(by_testid(page, "webform-thanks")).to_contain_text(
        "We will call you within one working day."
    )
    assert errors == []

    inquiry = Inquiry.objects.select_related("channel", "contact", "company").get()
    assert inquiry.channel.code == "web_form"
    assert inquiry.campaign == web_form.campaign
    assert inquiry.department == department
    assert inquiry.prompted is True and inquiry.received_by is None
    assert inquiry.referrer == "https://www.example.be/offerte"
    assert inquiry.summary.startswith(QUESTION)
    assert "utm_source: newsletter" in inquiry.summary
    assert "utm_campaign: spring" in inquiry.summary
    assert inquiry.company.name == "Peeters Bouw"
    assert inquiry.contact.marketing_consent == Consent.GRANTED

    page = browser_at.login(inside.username)
    browser_at.goto("/inquiries/")
    row = by_testid(page, f"row-{inquiry.pk}")
    expect(row).to_contain_text("Hanne Peeters")
    expect(row).to_contain_text("Can you quote 12 standing desks")
    expect(row).to_contain_text("Web form")
    expect(row).to_contain_text("Spring 2027")


class _SitePage(BaseHTTPRequestHandler):
    """Another company's web page with the embed snippet in it."""

    html = b""

    def do_GET(self):  # noqa: N802 (the http.server API)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):
        pass


@contextmanager
def other_site(html: str):
    """A site on loopback of its own (another origin than Leadflow's live server)."""
    handler = type("Handler", (_SitePage,), {"html": html.encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_form_is_framed_by_its_own_site_only(browser_at):
    page = browser_at.page
    html = (
        '<!doctype html><title>Site</title><h1>Our site</h1><iframe id="lf" src="'
        + browser_at.url("/forms/spring/?embed=1")
        + '" width="600" height="700"></iframe>'
    )
    with other_site(html) as own, other_site(html) as stranger:
        web_form = make_form(origins=own)
        assert web_form.origins == [own]

        page.goto(own + "/contact")
        framed = page.frame_locator("#lf")
        expect(framed.locator("h1")).to_have_text("Ask us for a quote")
        expect(framed.locator("[data-testid=webform-send]")).to_be_visible()

        # Chromium refuses the frame and says why on the framing page's console.
        with page.expect_console_message(
            lambda m: "frame-ancestors" in m.text
        ) as refused:
            page.goto(stranger + "/contact")
        assert own in refused.value.text
        expect(page.locator("h1")).to_have_text("Our site")
        blocked = page.frame_locator("#lf").locator("[data-testid=webform]")
        expect(blocked).to_have_count(0)
