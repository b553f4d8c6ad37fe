"""Workflow settings clicked through in a real browser, on Leadflow's own pages (not
the Django admin).

1. An administrator opens Settings → Notification rules → New rule, finds a key
   account with the company search, sends its new inquiries to the sales director and
   saves. Inside sales registers one inquiry from another company and one from the key
   account; the director finds exactly one notification, and the rule list counts it.
2. An administrator registers a webhook pointing at a receiver on 127.0.0.1, copies
   the secret shown once, and after an inquiry opens the delivery log: delivered,
   HTTP 200, the payload on expand; "Send again" posts it a second time. The receiver
   checks both signatures with the secret from the page.
"""

import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from leadflow.accounts.models import Role
from leadflow.contacts.actions import find_or_create_company
from leadflow.intake.models import Inquiry
from leadflow.workflows.models import (
    Notification,
    NotificationRule,
    RuleEvent,
    Webhook,
    WebhookDelivery,
)
from tests.e2e.conftest import _user


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def register_inquiry(page: Page, name: str, email: str, company: str) -> None:
    by_testid(page, "nav-new-inquiry").click()
    page.fill("#id_email", email)
    page.fill("#id_name", name)
    page.fill("#id_company", company)
    page.fill("#id_summary", "Quote for 40 ergonomic desks")
    page.select_option("#id_channel", label="E-mail")
    by_testid(page, "register").click()
    expect(page).to_have_url(re.compile(r"/inquiries/\d+/$"))


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each POST and answers 200."""

    def __init__(self):
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/leadflow-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def admin(reference_data):
    return _user("root", "Ada", "Admin", Role.ADMIN, is_superuser=True, is_staff=True)


def test_an_admin_rule_on_the_settings_page_tells_the_director(
    browser_at, inside, admin
):
    director = _user("dora", "Dora", "Director", Role.SALES_DIRECTOR)
    key_account = find_or_create_company("Brightwave BV", actor=None, size=80)
    find_or_create_company("Brightline Logistics", actor=None)

    # 1. The administrator makes the rule on Leadflow's own settings page.
    page = browser_at.login(admin.username)
    by_testid(page, "nav-settings").click()
    by_testid(page, "link-rules").click()
    expect(by_testid(page, "no-rules")).to_be_visible()
    by_testid(page, "rule-new").click()
    page.fill("#id_name", "Brightwave inquiries to the director")
    page.select_option("#id_event", label="New inquiry registered")
    by_testid(page, "company-search").fill("brightw")
    results = by_testid(page, "company-results")
    expect(results.get_by_role("checkbox")).to_have_count(1)  # not Brightline
    expect(results).to_contain_text("Brightwave BV")
    by_testid(page, f"company-{key_account.pk}").check()
    page.select_option("#id_recipient_users", label="Dora Director")
    by_testid(page, "rule-save").click()

    expect(page).to_have_url(browser_at.url("/settings/rules/"))
    expect(page.locator(".messages")).to_contain_text(
        "Rule “Brightwave inquiries to the director” saved."
    )
    rule = NotificationRule.objects.get()
    row = by_testid(page, f"rule-{rule.pk}")
    expect(row).to_contain_text("New inquiry registered")
    expect(row).to_contain_text("companies: Brightwave BV")
    expect(row).to_contain_text("Dora Director")
    expect(by_testid(page, "rule-state")).to_have_text("on")
    expect(by_testid(page, "rule-sent")).to_have_text("0")
    assert rule.event == RuleEvent.INQUIRY_REGISTERED and rule.is_active
    assert list(rule.companies.all()) == [key_account]
    assert list(rule.recipient_users.all()) == [director]

    # 2. Inside sales registers an inquiry from another company, then one that matches.
    page = browser_at.login(inside.username)
    register_inquiry(page, "Piet Peeters", "piet@brightline.be", "Brightline Logistics")
    register_inquiry(page, "Sofie Claes", "sofie.claes@brightwave.be", "Brightwave BV")
    matching = Inquiry.objects.get(company=key_account)

    # 3. The director is told of the matching one only.
    page = browser_at.login(director.username)
    expect(by_testid(page, "unread-count")).to_have_text("1")
    by_testid(page, "bell").click()
    item = by_testid(page, "notification")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("New inquiry from Sofie Claes (Brightwave BV)")
    expect(item.get_by_role("link")).to_have_attribute(
        "href", f"/inquiries/{matching.pk}/"
    )
    note = Notification.objects.get()
    assert (note.recipient, note.rule, note.subject_id) == (
        director,
        rule,
        matching.pk,
    )

    # 4. The rule list counts what the rule sent; the admin switches it off.
    page = browser_at.login(admin.username)
    browser_at.goto("/settings/rules/")
    expect(by_testid(page, "rule-sent")).to_have_text("1")
    by_testid(page, "rule-deactivate").click()
    expect(by_testid(page, "rule-state")).to_have_text("off")
    rule.refresh_from_db()
    assert rule.is_active is False


def test_an_admin_registers_a_webhook_and_reads_its_delivery_log(
    browser_at, inside, admin, receiver
):
    # 1. The administrator registers the webhook; the secret is shown once.
    page = browser_at.login(admin.username)
    by_testid(page, "nav-settings").click()
    by_testid(page, "link-webhooks").click()
    by_testid(page, "webhook-new").click()
    page.fill("#id_name", "ERP")
    page.fill("#id_url", receiver.url)
    by_testid(page, "events").get_by_label("New inquiry registered").check()
    by_testid(page, "webhook-save").click()

    hook = Webhook.objects.get()
    expect(page).to_have_url(browser_at.url(f"/settings/webhooks/{hook.pk}/"))
    expect(by_testid(page, "secret-panel")).to_contain_text("shown only this once")
    secret = by_testid(page, "webhook-secret").inner_text().strip()
    assert secret == hook.secret
    assert (hook.url, hook.events) == (receiver.url, ["inquiry.registered"])
    page.reload()
    expect(by_testid(page, "webhook-secret")).to_have_count(0)

    # 2. An inquiry is registered: the event goes to the receiver, signed.
    page = browser_at.login(inside.username)
    register_inquiry(page, "Sofie Claes", "sofie.claes@brightwave.be", "Brightwave BV")
    inquiry = Inquiry.objects.get()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)

    # 3. The administrator reads the delivery log and sends the event again.
    page = browser_at.login(admin.username)
    browser_at.goto("/settings/webhooks/")
    expect(by_testid(page, "webhook-counts")).to_have_text(
        "1 delivered · 0 failed · 0 pending"
    )
    by_testid(page, "webhook-log").click()
    expect(page).to_have_url(
        browser_at.url(f"/settings/webhooks/{hook.pk}/deliveries/")
    )
    row = by_testid(page, f"delivery-{delivery.pk}")
    expect(row.locator("[data-testid=delivery-status]")).to_have_text("Delivered")
    expect(row.locator("[data-testid=delivery-attempts]")).to_have_text("1 of 6")
    expect(row.locator("[data-testid=delivery-http]")).to_have_text("200")
    expect(row).to_contain_text("New inquiry registered")
    payload = row.locator("[data-testid=payload]")
    expect(payload).to_be_hidden()
    row.get_by_text("Payload").click()
    expect(payload).to_be_visible()
    expect(payload).to_contain_text("Sofie Claes (Brightwave BV)")
    expect(payload).to_contain_text(f"/inquiries/{inquiry.pk}/")

    row.locator("[data-testid=redeliver]").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Delivery #{delivery.pk} is being sent again"
    )
    expect(
        by_testid(page, f"delivery-{delivery.pk}").locator(
            "[data-testid=delivery-status]"
        )
    ).to_have_text("Delivered")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)

    # The receiver got the event twice, both signed with the secret from the page.
    assert len(receiver.requests) == 2
    for headers, body in receiver.requests:
        timestamp = headers["X-Leadflow-Timestamp"]
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-Leadflow-Signature"] == f"sha256={expected}"
        assert headers["X-Leadflow-Delivery"] == str(delivery.pk)
        assert json.loads(body)["subject"]["id"] == inquiry.pk
