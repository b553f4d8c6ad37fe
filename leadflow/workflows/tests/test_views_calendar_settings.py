"""The settings pages: the hub, the working calendar and holidays, escalations and the
schedule. Who may open and change them (every persona), what they show, what a
POST stores, and the HTMX answers."""

import re
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.audit.models import AuditEvent
from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.core.worktime import current_calendar, forget_calendar
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.models import Stage
from leadflow.workflows import calendar_settings as cs
from leadflow.workflows import scheduler
from leadflow.workflows.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    ScheduledJob,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["admin", "inside", "rep", "outsider", "director", "marketer", "colleague"]
NOT_ADMINS = [p for p in PERSONAS if p != "admin"]
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def fresh_calendar():
    forget_calendar()
    yield
    forget_calendar()


@pytest.fixture
def client_as(personas):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(personas[name])
        return client

    return client_for


def text(response) -> str:
    return response.content.decode()


def assert_no_inline_code(html: str) -> None:
    """CSP allows no inline script or style."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert "<style" not in html
    assert " on" + "click=" not in html


def week_post(**overrides) -> dict:
    data = {
        "monday": "on",
        "tuesday": "on",
        "wednesday": "on",
        "thursday": "on",
        "friday": "on",
        "starts_at": "08:30",
        "ends_at": "17:30",
        "time_zone": "",
        "updated_at": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- who may open what ---------------------------------------------------------------------

PAGES = ["/settings/calendar/", "/settings/schedule/"]


@pytest.mark.parametrize("path", ["/settings/", *PAGES, "/settings/escalations/"])
def test_nobody_logged_in_is_sent_to_the_login_page(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("path", ["/settings/", *PAGES, "/settings/escalations/"])
def test_admin_opens_every_settings_page(client_as, path):
    response = client_as("admin").get(path)
    assert response.status_code == 200
    assert_no_inline_code(text(response))


@pytest.mark.parametrize("name", NOT_ADMINS)
@pytest.mark.parametrize("path", PAGES)
def test_other_roles_may_not_open_the_calendar_or_the_schedule(client_as, name, path):
    response = client_as(name).get(path)
    assert response.status_code == 403
    assert "Not allowed" in text(response)


@pytest.mark.parametrize("name", ["inside", "rep", "outsider", "marketer", "colleague"])
def test_only_admins_and_directors_open_the_hub_and_the_escalations(client_as, name):
    assert client_as(name).get("/settings/").status_code == 403
    assert client_as(name).get("/settings/escalations/").status_code == 403


def test_the_director_reads_the_escalations_without_the_forms(client_as, admin):
    cs.set_stale_limit(Stage.objects.get(code="proposal"), actor=admin, days=12)
    response = client_as("director").get("/settings/escalations/")
    assert response.status_code == 200
    html = text(response)
    assert 'data-testid="escalation-form"' not in html
    assert 'data-testid="save-stage-proposal"' not in html
    assert 'data-testid="escalation-facts"' in html
    assert "4 working hours" in html
    assert re.search(r'data-testid="stage-proposal">.*?<td>12</td>', html, re.DOTALL)
    hub = text(client_as("director").get("/settings/"))
    assert 'data-testid="link-escalations"' in hub
    assert 'data-testid="link-calendar"' not in hub
    assert 'data-testid="link-admin"' not in hub


@pytest.mark.parametrize("name", NOT_ADMINS)
def test_other_roles_change_nothing(client_as, name, admin):
    holiday = cs.add_holiday(actor=admin, day=date(2026, 12, 24), name="Eve")
    stage = Stage.objects.get(code="proposal")
    client = client_as(name)
    posts = {
        "/settings/calendar/": week_post(starts_at="06:00"),
        "/settings/calendar/holidays/": {"day": "2026-12-31", "name": "NYE"},
        "/settings/calendar/holidays/public/": {"year": 2026, "country": "BE"},
        f"/settings/calendar/holidays/{holiday.pk}/remove/": {},
        "/settings/escalations/": {"inquiry_after_hours": "1"},
        f"/settings/escalations/stages/{stage.pk}/": {"stale_after_days": "2"},
        "/settings/schedule/process_outbox/run/": {},
    }
    for path, data in posts.items():
        assert client.post(path, data).status_code == 403, path
    assert not WorkingCalendar.objects.exists()
    assert list(Holiday.objects.values_list("name", flat=True)) == ["Eve"]
    assert not EscalationSettings.objects.exists()
    assert Stage.objects.get(pk=stage.pk).stale_after_days == 10
    assert not ScheduledJob.objects.exists()


def test_the_settings_link_in_the_header(client_as):
    link = '<a href="/settings/" data-testid="nav-settings">Settings</a>'
    assert link in text(client_as("admin").get("/notifications/"))
    for name in NOT_ADMINS:
        assert 'data-testid="nav-settings"' not in text(
            client_as(name).get("/notifications/")
        )


def test_the_hub_links_every_settings_page_and_the_django_admin(client_as):
    html = text(client_as("admin").get("/settings/"))
    for href in (
        "/settings/calendar/",
        "/settings/escalations/",
        "/settings/schedule/",
        "/settings/rules/",
        "/settings/webhooks/",
        "/admin/",
    ):
        assert f'href="{href}"' in html


def _user(username: str, role: str, *, staff: bool = False) -> User:
    return User.objects.create(
        username=username,
        password=make_password("x"),
        role=role,
        is_staff=staff,
    )


def test_an_admin_by_role_without_django_admin_access_sees_no_admin_link():
    client = Client()
    client.force_login(_user("adminrole", Role.ADMIN))
    html = text(client.get("/settings/"))
    assert 'href="/settings/calendar/"' in html
    assert 'data-testid="link-admin"' not in html
    assert 'data-testid="nav-settings"' in html
    assert client.get("/settings/calendar/").status_code == 200


def test_staff_without_the_admin_role_sees_only_the_django_admin_link():
    client = Client()
    client.force_login(_user("staffrep", Role.SALES, staff=True))
    html = text(client.get("/settings/"))
    assert 'data-testid="link-admin"' in html
    assert 'href="/settings/calendar/"' not in html
    assert client.get("/settings/calendar/").status_code == 403


# --- the working calendar -----------------------------------------------------------------


def test_the_calendar_page_shows_the_defaults(client_as):
    html = text(client_as("admin").get("/settings/calendar/"))
    assert re.search(r'name="monday"[^>]*checked', html)
    assert not re.search(r'name="saturday"[^>]*checked', html)
    assert 'value="08:30"' in html and 'value="17:30"' in html
    assert "Times are local times in Europe/Brussels." in html
    assert 'data-testid="no-holidays"' in html


def test_saving_the_calendar_stores_it_and_the_engine_uses_it(client_as, admin):
    client = client_as("admin")
    response = client.post(
        "/settings/calendar/",
        week_post(
            saturday="on", friday=None, ends_at="16:00", time_zone="Europe/London"
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/calendar/"
    row = WorkingCalendar.objects.get()
    assert (row.saturday, row.friday) == (True, False)
    assert row.ends_at == time(16, 0)
    assert row.time_zone == "Europe/London"
    cal = current_calendar()
    assert cal.workdays == frozenset({0, 1, 2, 3, 5})
    assert cal.tz_name == "Europe/London"
    event = AuditEvent.objects.get(event_type="working_calendar.updated")
    assert event.actor == admin
    page = text(client.get("/settings/calendar/"))
    assert "The working calendar is saved." in page
    assert 'data-testid="calendar-history"' in page
    assert "Times are local times in Europe/London." in page


def test_a_calendar_that_ends_before_it_starts_is_refused_inline(client_as):
    response = client_as("admin").post(
        "/settings/calendar/", week_post(starts_at="18:00", ends_at="09:00")
    )
    assert response.status_code == 422
    html = text(response)
    assert "The working day ends after it starts." in html
    assert 'value="18:00"' in html  # the input is kept
    assert not WorkingCalendar.objects.exists()


def test_a_calendar_without_working_days_is_refused_inline(client_as):
    data = week_post()
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        data.pop(day)
    response = client_as("admin").post("/settings/calendar/", data)
    assert response.status_code == 422
    assert "Choose at least one working day." in text(response)


def test_a_calendar_with_an_unknown_time_zone_is_refused(client_as):
    response = client_as("admin").post(
        "/settings/calendar/", week_post(time_zone="Mars/Olympus")
    )
    assert response.status_code == 422
    assert "Select a valid choice." in text(response)
    assert not WorkingCalendar.objects.exists()


def test_a_calendar_saved_by_someone_else_meanwhile_is_a_conflict(client_as, admin):
    page = text(client_as("admin").get("/settings/calendar/"))
    cs.save_working_calendar(actor=admin, starts_at=time(7, 0))
    read = WorkingCalendar.objects.get().updated_at.isoformat()
    assert read not in page  # the first reader saw the defaults
    cs.save_working_calendar(actor=admin, starts_at=time(7, 30))
    response = client_as("admin").post(
        "/settings/calendar/", week_post(starts_at="06:00", updated_at=read)
    )
    assert response.status_code == 409
    assert "Someone else saved these settings in the meantime." in text(response)
    assert WorkingCalendar.objects.get().starts_at == time(7, 30)


def test_the_form_carries_the_version_it_was_read_at(client_as, admin):
    row = cs.save_working_calendar(actor=admin, starts_at=time(7, 0))
    html = text(client_as("admin").get("/settings/calendar/"))
    assert f'name="updated_at" value="{row.updated_at.isoformat()}"' in html
    response = client_as("admin").post(
        "/settings/calendar/",
        week_post(starts_at="07:15", updated_at=row.updated_at.isoformat()),
    )
    assert response.status_code == 302
    assert WorkingCalendar.objects.get().starts_at == time(7, 15)


def test_a_mangled_version_is_refused(client_as):
    response = client_as("admin").post(
        "/settings/calendar/", week_post(updated_at="yesterday")
    )
    assert response.status_code == 422
    assert "Reload the page and try again." in text(response)


# --- holidays --------------------------------------------------------------------------------


def test_adding_a_holiday_without_htmx_redirects_with_a_message(client_as, admin):
    client = client_as("admin")
    day = timezone.localdate() + timedelta(days=30)
    response = client.post(
        "/settings/calendar/holidays/", {"day": day.isoformat(), "name": "Company day"}
    )
    assert response.status_code == 302
    holiday = Holiday.objects.get()
    assert (holiday.day, holiday.name) == (day, "Company day")
    assert AuditEvent.objects.get(event_type="holiday.added").actor == admin
    html = text(client.get("/settings/calendar/"))
    assert "Holiday “Company day” on" in html
    assert f'data-testid="holiday-{day.isoformat()}"' in html
    assert not current_calendar().is_working_day(day)


def test_adding_a_holiday_with_htmx_answers_the_holiday_section(client_as):
    day = timezone.localdate() + timedelta(days=3)
    response = client_as("admin").post(
        "/settings/calendar/holidays/", {"day": day.isoformat(), "name": "Bridge"}, **HX
    )
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<section class="card" id="holidays"')
    assert "<html" not in html
    assert 'data-testid="holiday-notice"' in html
    assert "Bridge" in html


def test_adding_a_holiday_twice_shows_the_conflict_in_the_section(client_as, admin):
    cs.add_holiday(actor=admin, day=date(2026, 12, 24), name="Eve")
    response = client_as("admin").post(
        "/settings/calendar/holidays/", {"day": "2026-12-24", "name": "Again"}, **HX
    )
    assert response.status_code == 409
    assert "2026-12-24 is a holiday already." in text(response)
    assert Holiday.objects.get().name == "Eve"


def test_a_holiday_without_a_date_is_refused(client_as):
    response = client_as("admin").post(
        "/settings/calendar/holidays/", {"day": "", "name": "No date"}
    )
    assert response.status_code == 422
    assert "This field is required." in text(response)
    assert not Holiday.objects.exists()


def test_removing_a_holiday(client_as, admin):
    day = timezone.localdate() + timedelta(days=5)
    holiday = cs.add_holiday(actor=admin, day=day, name="Eve")
    response = client_as("admin").post(
        f"/settings/calendar/holidays/{holiday.pk}/remove/", **HX
    )
    assert response.status_code == 200
    assert "Holiday “Eve” on" in text(response)
    assert not Holiday.objects.exists()
    assert AuditEvent.objects.filter(event_type="holiday.removed").count() == 1


def test_removing_a_holiday_that_is_gone_is_404(client_as):
    assert (
        client_as("admin").post("/settings/calendar/holidays/999/remove/").status_code
        == 404
    )


def test_removing_needs_a_post(client_as, admin):
    holiday = cs.add_holiday(actor=admin, day=date(2026, 12, 24), name="Eve")
    response = client_as("admin").get(
        f"/settings/calendar/holidays/{holiday.pk}/remove/"
    )
    assert response.status_code == 405
    assert Holiday.objects.exists()


def test_adding_the_public_holidays_of_a_year(client_as):
    year = timezone.localdate().year
    response = client_as("admin").post(
        "/settings/calendar/holidays/public/", {"year": year, "country": "NL"}, **HX
    )
    assert response.status_code == 200
    html = text(response)
    assert (
        f"10 public holidays of {year} added; 0 dates were on the list already." in html
    )
    assert Holiday.objects.filter(day__year=year).count() == 10
    assert "King&#x27;s Day" in html


def test_public_holidays_of_an_unknown_country_or_year_are_refused(client_as):
    client = client_as("admin")
    response = client.post(
        "/settings/calendar/holidays/public/", {"year": 2026, "country": "FR"}
    )
    assert response.status_code == 422
    assert "Select a valid choice." in text(response)
    response = client.post(
        "/settings/calendar/holidays/public/", {"year": 3000, "country": "BE"}
    )
    assert response.status_code == 422
    assert not Holiday.objects.exists()


def test_old_holidays_are_counted_not_listed(client_as, admin):
    year = timezone.localdate().year
    cs.add_holiday(actor=admin, day=date(year - 3, 1, 2), name="Long ago")
    cs.add_holiday(actor=admin, day=date(year, 1, 2), name="This year")
    html = text(client_as("admin").get("/settings/calendar/"))
    assert "This year" in html
    assert "Long ago" not in html
    assert "1 older holiday is not shown." in html


# --- escalations -----------------------------------------------------------------------------


def test_saving_the_escalation_settings(client_as, admin):
    client = client_as("admin")
    response = client.post(
        "/settings/escalations/",
        {
            "inquiry_after_hours": "2.5",
            "manager_after_hours": "",
            "remind_stale_leads": "on",
            "updated_at": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/escalations/"
    row = EscalationSettings.objects.get()
    assert row.inquiry_after_hours == Decimal("2.50")
    assert row.manager_after_hours is None
    assert row.remind_overdue_activities is False
    assert row.remind_stale_leads is True
    event = AuditEvent.objects.get(event_type="escalation_settings.updated")
    assert event.actor == admin
    html = text(client.get("/settings/escalations/"))
    assert "The escalation settings are saved." in html
    assert 'value="2.50"' in html
    assert 'data-testid="escalation-history"' in html


def test_escalation_settings_errors_are_shown_at_their_field(client_as):
    response = client_as("admin").post(
        "/settings/escalations/",
        {"inquiry_after_hours": "", "manager_after_hours": "3"},
    )
    assert response.status_code == 422
    assert "A manager is told only after the assignee&#x27;s reminder" in text(response)
    assert not EscalationSettings.objects.exists()


def test_negative_hours_are_refused(client_as):
    response = client_as("admin").post(
        "/settings/escalations/", {"inquiry_after_hours": "-2"}
    )
    assert response.status_code == 422
    assert "Give a number of working hours from 0.01 to 9999.99" in text(response)


def test_the_director_cannot_post_the_escalation_settings(client_as):
    response = client_as("director").post(
        "/settings/escalations/", {"inquiry_after_hours": "1"}
    )
    assert response.status_code == 403
    assert not EscalationSettings.objects.exists()


def test_every_stage_has_a_stale_limit_row(client_as):
    html = text(client_as("admin").get("/settings/escalations/"))
    for stage in Stage.objects.all():
        assert f'data-testid="stage-{stage.code}"' in html
    proposal = re.search(r'data-testid="stage-proposal">(.*?)</tr>', html, re.DOTALL)
    assert 'name="stale_after_days" value="10"' in proposal.group(1)


def test_setting_a_stale_limit_with_htmx_answers_the_row(client_as, admin):
    stage = Stage.objects.get(code="negotiation")
    response = client_as("admin").post(
        f"/settings/escalations/stages/{stage.pk}/", {"stale_after_days": "3"}, **HX
    )
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith(f'<tr id="stage-{stage.pk}"')
    assert 'data-testid="stage-notice">Saved.' in html
    assert 'value="3"' in html
    assert Stage.objects.get(pk=stage.pk).stale_after_days == 3
    event = AuditEvent.objects.get(event_type="stage.updated")
    assert (event.old, event.new) == ({"stale_after_days": 7}, {"stale_after_days": 3})


def test_clearing_a_stale_limit_without_htmx(client_as):
    stage = Stage.objects.get(code="negotiation")
    response = client_as("admin").post(
        f"/settings/escalations/stages/{stage.pk}/", {"stale_after_days": ""}
    )
    assert response.status_code == 302
    assert Stage.objects.get(pk=stage.pk).stale_after_days is None


def test_a_stale_limit_of_zero_days_is_refused(client_as):
    stage = Stage.objects.get(code="negotiation")
    response = client_as("admin").post(
        f"/settings/escalations/stages/{stage.pk}/", {"stale_after_days": "0"}, **HX
    )
    assert response.status_code == 422
    assert 'data-testid="stage-error"' in text(response)
    assert Stage.objects.get(pk=stage.pk).stale_after_days == 7


def test_a_stale_limit_of_an_unknown_stage_is_404(client_as):
    response = client_as("admin").post(
        "/settings/escalations/stages/9999/", {"stale_after_days": "3"}
    )
    assert response.status_code == 404


def _escalations(inquiry, n: int, **extra) -> list[Escalation]:
    now = timezone.now()
    return [
        Escalation.objects.create(
            kind=extra.get("kind", EscalationKind.INQUIRY_OPEN),
            status=extra.get("status", EscalationStatus.SENT),
            inquiry=inquiry,
            target=f"inquiry:{inquiry.pk}",
            key=f"k{i}-{extra.get('status', 'sent')}",
            due_at=now - timedelta(minutes=i),
            sent_at=now - timedelta(minutes=i),
            recipients=["inside"],
            note=extra.get("note", ""),
        )
        for i in range(n)
    ]


def test_the_escalation_log_shows_kind_status_record_due_sent_recipients_note(
    client_as, inside
):
    inquiry = make_inquiry(inside)
    (e,) = _escalations(inquiry, 1, note="first reminder")
    html = text(client_as("admin").get("/settings/escalations/"))
    row = re.search(
        rf'<tr data-testid="escalation-{e.pk}">(.*?)</tr>', html, re.DOTALL
    ).group(1)
    assert "Inquiry still open" in row
    assert "Sent" in row
    assert f'<a href="/inquiries/{inquiry.pk}/">Inquiry #{inquiry.pk}</a>' in row
    assert "inside" in row
    assert "first reminder" in row
    assert "1 escalation" in html


def test_the_escalation_log_filters_by_status_and_kind(client_as, inside):
    inquiry = make_inquiry(inside)
    sent = _escalations(inquiry, 2)
    (pending,) = _escalations(
        inquiry, 1, status=EscalationStatus.PENDING, kind=EscalationKind.INQUIRY_MANAGER
    )
    client = client_as("admin")
    html = text(client.get("/settings/escalations/", {"status": "pending"}))
    assert f'data-testid="escalation-{pending.pk}"' in html
    assert f'data-testid="escalation-{sent[0].pk}"' not in html
    html = text(client.get("/settings/escalations/", {"kind": "inquiry_open"}))
    assert "2 escalations" in html
    html = text(
        client.get(
            "/settings/escalations/", {"kind": "inquiry_open", "status": "cancelled"}
        )
    )
    assert 'data-testid="no-escalations"' in html


def test_an_unknown_filter_shows_everything_instead_of_failing(client_as, inside):
    _escalations(make_inquiry(inside), 1)
    response = client_as("admin").get("/settings/escalations/", {"status": "lost"})
    assert response.status_code == 200
    assert "1 escalation" in text(response)


def test_the_escalation_log_is_paginated_and_keeps_the_filter(client_as, inside):
    inquiry = make_inquiry(inside)
    made = _escalations(inquiry, 27)
    client = client_as("admin")
    first = text(client.get("/settings/escalations/", {"status": "sent"}))
    assert "Page 1 of 2" in first
    assert 'href="?status=sent&amp;page=2"' in first
    second = text(client.get("/settings/escalations/", {"status": "sent", "page": 2}))
    shown = re.findall(r'data-testid="escalation-(\d+)"', second)
    assert [int(pk) for pk in shown] == [made[25].pk, made[26].pk]


# --- the schedule --------------------------------------------------------------------------


def test_the_schedule_page_shows_every_job_and_a_dead_scheduler(client_as):
    html = text(client_as("admin").get("/settings/schedule/"))
    assert 'data-testid="scheduler-dead"' in html
    assert "No heartbeat yet." in html
    for job in scheduler.JOBS:
        assert f'data-testid="job-{job.name}"' in html
        assert f'data-testid="run-{job.name}"' in html
    assert "daily at 07:30" in html


def test_the_schedule_page_shows_a_running_scheduler_and_last_errors(client_as):
    scheduler.start()
    ScheduledJob.objects.create(
        name="send_digests",
        next_run_at=timezone.now(),
        last_started_at=timezone.now(),
        last_finished_at=timezone.now(),
        last_result="error",
        last_error="SMTPException: connection refused",
    )
    html = text(client_as("admin").get("/settings/schedule/"))
    assert 'data-testid="scheduler-alive"' in html
    assert "Last heartbeat" in html
    assert re.search(
        r'data-testid="error-send_digests">SMTPException: connection refused<', html
    )
    assert (
        '<tr id="job-send_digests" data-testid="job-send_digests" class="overdue">'
        in html
    )


def test_run_now_with_htmx_answers_the_job_row(client_as, admin):
    response = client_as("admin").post("/settings/schedule/process_outbox/run/", **HX)
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<tr id="job-process_outbox"')
    assert 'data-testid="run-notice">process_outbox ran: 0<' in html
    assert ScheduledJob.objects.get(name="process_outbox").last_result == "0"
    assert AuditEvent.objects.get(event_type="scheduled_job.run").actor == admin


def test_run_now_without_htmx_redirects_with_the_result(client_as):
    client = client_as("admin")
    response = client.post("/settings/schedule/expire_quotes/run/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/schedule/"
    assert "expire_quotes ran: 0" in text(client.get("/settings/schedule/"))


def test_run_now_of_a_failing_job_shows_its_error(client_as, monkeypatch):
    monkeypatch.setattr(
        scheduler,
        "JOBS",
        [
            scheduler.Job(
                "broken",
                "leadflow.workflows.tests.test_calendar_settings.broken_job",
                every=timedelta(hours=1),
            )
        ],
    )
    response = client_as("admin").post("/settings/schedule/broken/run/", **HX)
    assert response.status_code == 200
    assert "broken failed: RuntimeError: mail server down" in text(response)


def test_run_now_of_an_unknown_job_is_404(client_as):
    response = client_as("admin").post("/settings/schedule/make_coffee/run/")
    assert response.status_code == 404
    assert not ScheduledJob.objects.exists()


def test_run_now_needs_a_post(client_as):
    assert (
        client_as("admin").get("/settings/schedule/process_outbox/run/").status_code
        == 405
    )
