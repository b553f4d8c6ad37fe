"""A notification rule end to end, clicked through in a real browser.

An administrator adds a rule in the Django admin ("New inquiry registered" → the sales
director); inside sales registers an inquiry through "+ New inquiry"; the director logs
in and finds the unread badge on the bell and the notification on the notifications
page. The live server runs the after-commit wake-up for real and the test settings use
the ImmediateBackend, so the outbox runs right after the registration commits.
"""

import re

from django.core import mail
from playwright.sync_api import Page, expect

from leadflow.accounts.models import Role
from leadflow.intake.models import Inquiry, InquiryTransition
from leadflow.workflows.models import Notification, NotificationRule, RuleEvent
from tests.e2e.conftest import _user


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def test_admin_rule_tells_the_director_of_a_new_inquiry(browser_at, inside):
    admin = _user("root", "Ada", "Admin", Role.ADMIN, is_superuser=True, is_staff=True)
    director = _user("dora", "Dora", "Director", Role.SALES_DIRECTOR)

    # 1. The administrator adds the rule in the Django admin.
    page = browser_at.login(admin.username)
    browser_at.goto("/admin/workflows/notificationrule/add/")
    page.fill("#id_name", "Every new inquiry to the director")
    page.select_option("#id_event", label="New inquiry registered")
    page.select_option("#id_recipient_users_from", label="Dora Director")
    page.click("#id_recipient_users_add")
    expect(page.locator("#id_recipient_users_to option")).to_have_text(
        ["Dora Director"]
    )
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    rule = NotificationRule.objects.get()
    assert rule.event == RuleEvent.INQUIRY_REGISTERED
    assert rule.is_active
    assert list(rule.recipient_users.all()) == [director]

    # 2. Inside sales registers an inquiry through "+ New inquiry".
    page = browser_at.login(inside.username)
    by_testid(page, "nav-new-inquiry").click()
    page.fill("#id_email", "sofie.claes@brightwave.be")
    page.fill("#id_name", "Sofie Claes")
    page.fill("#id_company", "Brightwave BV")
    page.fill("#id_summary", "Quote for 40 ergonomic desks")
    page.select_option("#id_channel", label="E-mail")
    by_testid(page, "register").click()
    expect(page).to_have_url(re.compile(r"/inquiries/\d+/$"))
    inquiry = Inquiry.objects.get()
    # The outbox ran right after the commit (no worker needed in tests).
    assert InquiryTransition.objects.get(inquiry=inquiry).processed_at is not None
    assert not by_testid(page, "unread-count").count()  # inside is told nothing

    # 3. The director sees the badge on the bell and the notification.
    page = browser_at.login(director.username)
    expect(by_testid(page, "unread-count")).to_have_text("1")
    by_testid(page, "bell").click()
    expect(page).to_have_url(browser_at.url("/notifications/"))
    item = by_testid(page, "notification")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("New inquiry from Sofie Claes (Brightwave BV)")
    expect(item).to_contain_text("new")
    expect(item.get_by_role("link")).to_have_attribute(
        "href", f"/inquiries/{inquiry.pk}/"
    )

    notification = Notification.objects.get()
    assert (notification.recipient, notification.rule) == (director, rule)
    # The e-mail went out once, after the delivery committed.
    assert notification.emailed_at is not None
    assert [m.to for m in mail.outbox] == [["dora@leadflow.test"]]

    # Marking it read clears the badge.
    item.get_by_role("button", name="Mark read").click()
    expect(by_testid(page, "notification")).to_have_count(1)
    expect(by_testid(page, "unread-count")).to_have_count(0)
