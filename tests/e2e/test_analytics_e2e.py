"""The analysis pages in a real browser: every registered report opens, shows its
title, a table or the empty message, and every chart is drawn by Chart.js (served by
the live server itself: no CDN, no other host); the filter form swaps the report body
through HTMX and updates the URL; hostile names render as text (in tables, filter
lists and chart labels) and are neutralised in the CSV; one page in Dutch.

One login for the whole tour (keep it quick); the reports are read from the registry,
so a report added later is covered at once.
"""

import csv
import io
import re

from django.utils import translation
from playwright.sync_api import Page, expect

from leadflow.accounts.models import Role, Team, User
from leadflow.analytics.reports import REPORTS, ordered_reports
from leadflow.analytics.tests.factories import make_leads
from leadflow.contacts.models import Company
from leadflow.intake.actions import close_inquiry
from leadflow.intake.models import Channel
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import close_opportunity
from tests.e2e.conftest import _user

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = "=cmd|' /C calc'!A0"

CHARTS_DRAWN = """() => {
  const canvases = [...document.querySelectorAll('canvas[data-chart]')];
  return canvases.every(c => typeof Chart !== 'undefined' && Chart.getChart(c));
}"""

CHART_TEXTS = """() => [...document.querySelectorAll('canvas[data-chart]')].flatMap(c => {
  const chart = Chart.getChart(c);
  return chart ? [...chart.data.labels, ...chart.data.datasets.map(d => d.label)] : [];
})"""


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def hostile_data(inside, rep) -> User:
    """A director, the forecast leads, and inquiries whose channel, referrer and
    company carry markup and a formula."""
    director = _user("dirk", "Dirk", "Director", Role.SALES_DIRECTOR)
    south = Team.objects.create(name="South")
    outsider = _user("olga", "Olga", "Outsider", Role.SALES, team=south)
    make_leads(
        {"rep": rep, "inside": inside, "outsider": outsider, "director": director}
    )
    Channel.objects.create(code="hostile", name=SCRIPT, name_nl=SCRIPT, order=99)
    first = make_inquiry(
        inside, channel="hostile", referrer=IMG, company=f"{SCRIPT} NV"
    )
    Company.objects.filter(pk=first.company_id).update(industry=IMG)
    make_inquiry(inside, channel="hostile", referrer=FORMULA, company=f"{IMG} BV")
    won = make_inquiry(inside, channel="phone", referrer=SCRIPT)
    close_inquiry(won, actor=inside, outcome="qualified", owner=rep)
    close_opportunity(won.opportunity, actor=rep, result="won", reason="signed")
    archived = make_inquiry(inside, channel="email")
    close_inquiry(archived, actor=inside, outcome="archived", reason="spam")
    return director


def watch(page: Page, base_url: str):
    """Console errors, page errors, dialogs and requests to any other host."""
    seen = {"errors": [], "dialogs": [], "foreign": []}
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))

    def dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", dialog)

    def request(r):
        if not (r.url.startswith(base_url) or r.url.startswith(("data:", "blob:"))):
            seen["foreign"].append(r.url)

    page.on("request", request)
    return seen


def test_every_report_page_draws_safely(browser_at, inside, rep):
    director = hostile_data(inside, rep)
    page = browser_at.login(director.username)
    seen = watch(page, browser_at.base_url)

    with translation.override("en"):
        titles = {r.name: f"{r.number}. {r.title}" for r in ordered_reports()}
    assert "sources" in REPORTS
    page.goto(browser_at.url("/analytics/"))
    for name in titles:
        expect(by_testid(page, f"report-link-{name}")).to_be_visible()

    canvases = 0
    for name, title in titles.items():
        page.goto(browser_at.url(f"/analytics/{name}/"))
        expect(by_testid(page, "report-title")).to_have_text(title)
        body = by_testid(page, "report-body")
        shown = body.locator("table[data-testid^='table-'], [data-testid^='empty-']")
        assert shown.count() >= 1, f"{name}: no table and no empty message"
        page.wait_for_function(CHARTS_DRAWN, timeout=5_000)
        canvases += page.locator("canvas[data-chart]").count()
        assert page.locator("img[src='x']").count() == 0, name
        assert not seen["dialogs"], (name, seen["dialogs"])
        assert not seen["errors"], (name, seen["errors"])
    assert not seen["foreign"], seen["foreign"]
    assert canvases >= len(titles)  # the check above was not vacuous

    # --- the hostile values on the sources page: text, never markup ----------------
    page.goto(browser_at.url("/analytics/sources/"))
    expect(by_testid(page, "table-channel")).to_contain_text(SCRIPT)
    expect(by_testid(page, "table-referrer")).to_contain_text(IMG)
    expect(by_testid(page, "table-referrer")).to_contain_text(FORMULA)
    expect(page.locator("#f-channel")).to_contain_text(SCRIPT)
    expect(page.locator("#f-industry option", has_text=IMG)).to_have_count(1)
    page.wait_for_function(CHARTS_DRAWN)
    chart_texts = page.evaluate(CHART_TEXTS)
    assert SCRIPT in chart_texts
    assert page.locator("img[src='x']").count() == 0
    assert not seen["dialogs"]

    # --- the CSV export of a formula-like value starts with an apostrophe ------------
    export = page.request.get(
        browser_at.url("/analytics/sources/?format=csv&table=referrer")
    )
    assert export.ok
    assert export.body().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.body().decode("utf-8-sig"))))
    first_cells = [r[0] for r in rows[1:]]
    assert "'" + FORMULA in first_cells
    assert IMG in first_cells and SCRIPT in first_cells

    # --- the filter form swaps the body through HTMX and updates the URL -------------
    page.evaluate("window.__stayed = true")
    phone = Channel.objects.get(code="phone").pk
    page.select_option("#f-channel", str(phone))
    expect(page).to_have_url(re.compile(rf"[?&]channel={phone}(&|$)"))
    expect(by_testid(page, "table-channel")).not_to_contain_text(SCRIPT)
    expect(by_testid(page, "table-channel")).to_contain_text("Phone")
    assert page.evaluate("window.__stayed") is True  # no full page load
    page.wait_for_function(CHARTS_DRAWN)
    assert SCRIPT not in page.evaluate(CHART_TEXTS)
    page.fill("#f-from", "2026-01-01")
    by_testid(page, "report-filters").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"[?&]from=2026-01-01(&|$)"))
    assert page.evaluate("window.__stayed") is True
    assert not seen["errors"], seen["errors"]
    assert not seen["foreign"], seen["foreign"]

    # --- Dutch (the user's language) --------------------------------------------------
    User.objects.filter(pk=director.pk).update(language="nl")
    if "forecast" in REPORTS:
        page.goto(browser_at.url("/analytics/forecast/"))
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        expect(by_testid(page, "report-title")).to_have_text("5. Prognose")
        page.wait_for_function(CHARTS_DRAWN)
    page.goto(browser_at.url("/analytics/"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("main h1")).to_have_text("Analyse")
    assert not seen["errors"], seen["errors"]
    assert not seen["dialogs"]


def test_a_bad_filter_in_the_htmx_form_shows_its_message(browser_at, inside, rep):
    director = _user("dirk", "Dirk", "Director", Role.SALES_DIRECTOR)
    page = browser_at.login(director.username)
    page.goto(browser_at.url("/analytics/sources/"))
    page.fill("#f-from", "2026-05-01")
    page.fill("#f-to", "2026-04-01")
    with page.expect_response(lambda r: "/analytics/sources/?" in r.url) as answer:
        by_testid(page, "report-filters").get_by_role("button").click()
    assert answer.value.status == 422  # htmx swaps 422 (base.html htmx-config)
    assert "The period ends before it starts." in answer.value.text()
    expect(by_testid(page, "filter-error")).to_have_text(
        "The period ends before it starts.", timeout=3_000
    )
