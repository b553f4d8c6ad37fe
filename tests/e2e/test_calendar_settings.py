"""The working calendar and the worker's schedule, clicked through in a real browser.

An administrator opens Settings from the header, adds a holiday (HTMX: the holiday list
is swapped in place), changes the working hours and saves; the stored calendar and the
engine's calendar change. On the schedule page every job is listed, and "Run now"
runs one and shows its result in its row.
"""

from datetime import date, time

from playwright.sync_api import Page, expect

from leadflow.accounts.models import Role
from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.core.worktime import current_calendar, forget_calendar
from leadflow.workflows import scheduler
from leadflow.workflows.models import ScheduledJob
from tests.e2e.conftest import _user


def by_testid(page: Page, value: str):
    return page.locator(f"[data-testid='{value}']")


def test_admin_adds_a_holiday_changes_the_hours_and_sees_the_schedule(browser_at):
    forget_calendar()
    admin = _user("root", "Ada", "Admin", Role.ADMIN, is_superuser=True, is_staff=True)
    page = browser_at.login(admin.username)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # 1. Settings in the header leads to the hub, the hub to the calendar.
    by_testid(page, "nav-settings").click()
    expect(page).to_have_url(browser_at.url("/settings/"))
    by_testid(page, "link-calendar").click()
    expect(page).to_have_url(browser_at.url("/settings/calendar/"))

    # 2. A holiday: the list is answered in place (HTMX).
    holidays = by_testid(page, "holidays")
    holidays.locator("#id_day").fill("2026-12-24")
    holidays.locator("#id_name").fill("Christmas Eve")
    by_testid(page, "add-holiday").click()
    expect(by_testid(page, "holiday-notice")).to_contain_text(
        "Holiday “Christmas Eve” on 2026-12-24 added."
    )
    expect(by_testid(page, "holiday-2026-12-24")).to_contain_text("Christmas Eve")
    assert list(Holiday.objects.values_list("day", "name")) == [
        (date(2026, 12, 24), "Christmas Eve")
    ]

    # 3. Working hours 08:00–16:00 and Saturday as a working day.
    page.fill("#id_starts_at", "08:00")
    page.fill("#id_ends_at", "16:00")
    page.check("#id_saturday")
    by_testid(page, "save-calendar").click()
    expect(page.locator(".msg-success")).to_contain_text(
        "The working calendar is saved."
    )
    expect(page.locator("#id_starts_at")).to_have_value("08:00")
    row = WorkingCalendar.objects.get()
    assert (row.starts_at, row.ends_at, row.saturday) == (time(8), time(16), True)
    cal = current_calendar()
    assert (cal.start, cal.end) == (time(8), time(16))
    assert 5 in cal.workdays
    assert not cal.is_working_day(date(2026, 12, 24))

    # 4. A wrong change is refused next to its field and nothing is stored.
    page.fill("#id_ends_at", "07:00")
    by_testid(page, "save-calendar").click()
    expect(page.locator("#week")).to_contain_text(
        "The working day ends after it starts."
    )
    assert WorkingCalendar.objects.get().ends_at == time(16)

    # 5. The schedule lists every job; "Run now" shows the result in the row.
    by_testid(page, "settings-nav").get_by_role("link", name="Schedule").click()
    expect(page).to_have_url(browser_at.url("/settings/schedule/"))
    expect(by_testid(page, "scheduler-dead")).to_be_visible()
    for job in scheduler.JOBS:
        expect(by_testid(page, f"job-{job.name}")).to_be_visible()
    by_testid(page, "run-expire_quotes").click()
    expect(by_testid(page, "run-notice")).to_have_text("expire_quotes ran: 0")
    expect(by_testid(page, "result-expire_quotes")).to_have_text("0")
    assert ScheduledJob.objects.get(name="expire_quotes").last_result == "0"
    # Nothing was blocked by the Content Security Policy (no inline code); the one
    # error is the refused form's 422 of step 4.
    assert [e for e in errors if "422" not in e] == []
    forget_calendar()
