"""The per-user iCalendar feed: the secret link (made, reset, stopped) and what the
feed holds, read back with the icalendar package."""

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from leadflow.accounts.models import CalendarFeed, Team
from leadflow.audit.models import AuditEvent
from leadflow.opportunities import views_ical
from leadflow.opportunities.actions import add_activity, set_activity_done
from leadflow.opportunities.ical import (
    build_calendar,
    feed_activities,
    feed_for_secret,
    issue_calendar_feed,
    stop_calendar_feed,
)
from leadflow.opportunities.models import Activity
from leadflow.opportunities.tests.pipeline_factories import make_lead

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def activity(lead, user, subject="Call back", **kw) -> Activity:
    kw.setdefault("due_at", timezone.now() + timedelta(days=1))
    return add_activity(
        lead,
        actor=user,
        kind=kw.pop("kind", "call"),
        subject=subject,
        assignee=user,
        **kw,
    )


def fetch(secret: str, client: Client | None = None):
    return (client or Client()).get(f"/calendar/{secret}.ics")


def events_of(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def lead(rep):
    return make_lead(rep, owner=rep, title="Northwind tender")


# --- the link -----------------------------------------------------------------------


def test_only_the_hash_of_the_secret_is_stored_and_the_issue_is_audited(rep):
    feed, secret = issue_calendar_feed(rep, actor=rep)
    assert secret not in feed.token_hash
    assert len(feed.token_hash) == 64
    assert feed_for_secret(secret) == feed
    assert AuditEvent.objects.filter(
        event_type="calendar_feed.issued", subject_id=rep.pk
    ).exists()


def test_reset_revokes_the_old_link(rep, lead):
    activity(lead, rep)
    _feed, old = issue_calendar_feed(rep, actor=rep)
    assert fetch(old).status_code == 200
    _feed, new = issue_calendar_feed(rep, actor=rep)
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    assert CalendarFeed.objects.filter(user=rep, revoked_at__isnull=True).count() == 1


def test_a_stopped_feed_and_an_unknown_secret_are_404(rep):
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    assert stop_calendar_feed(rep, actor=rep) is True
    assert fetch(secret).status_code == 404
    assert fetch("x" * 43).status_code == 404
    assert stop_calendar_feed(rep, actor=rep) is False


def test_an_inactive_users_feed_is_404(rep):
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert fetch(secret).status_code == 404


def test_the_page_shows_the_link_once_then_resets_and_stops(rep):
    client = client_for(rep)
    page = client.get("/account/calendar/")
    assert page.status_code == 200
    assert b'data-testid="calendar-feed-create"' in page.content
    made = client.post("/account/calendar/", {"action": "create"})
    html = made.content.decode()
    assert made["Cache-Control"] == "no-store"
    url = re.search(r'data-testid="calendar-feed-url"', html) and re.search(
        r'value="(http://testserver/calendar/([A-Za-z0-9_-]+)\.ics)"', html
    )
    assert url is not None
    secret = url.group(2)
    assert f"webcal://testserver/calendar/{secret}.ics" in html
    assert fetch(secret).status_code == 200
    # Shown once: the page afterwards has no secret.
    again = client.get("/account/calendar/").content.decode()
    assert secret not in again
    assert 'data-testid="calendar-feed-reset"' in again
    reset = client.post("/account/calendar/", {"action": "reset"}).content.decode()
    assert fetch(secret).status_code == 404
    new_secret = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", reset).group(1)
    assert new_secret != secret
    stopped = client.post("/account/calendar/", {"action": "stop"})
    assert stopped.status_code == 302
    assert fetch(new_secret).status_code == 404


def test_the_page_needs_a_login_and_csrf(rep):
    assert Client().get("/account/calendar/").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep)
    assert strict.post("/account/calendar/", {"action": "create"}).status_code == 403
    assert not CalendarFeed.objects.exists()


# --- what the feed holds --------------------------------------------------------------


def test_one_event_per_dated_activity_with_stable_uid_and_link(rep, lead):
    a = activity(
        lead,
        rep,
        "Site visit",
        kind="appointment",
        duration_minutes=90,
        notes="Bring the samples",
    )
    short = activity(lead, rep, "Phone")
    activity(lead, rep, "Undated", due_at=None)
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    events = events_of(fetch(secret))
    assert set(events) == {
        f"activity-{a.pk}@testserver",
        f"activity-{short.pk}@testserver",
    }
    event = events[f"activity-{a.pk}@testserver"]
    assert str(event["SUMMARY"]) == "Site visit — Northwind tender"
    assert event.decoded("DURATION") == timedelta(minutes=90)
    link = f"http://testserver/opportunities/{lead.pk}/"
    assert str(event["URL"]) == link
    assert str(event["DESCRIPTION"]) == f"Bring the samples\n\n{link}"
    assert str(event["TRANSP"]) == "OPAQUE"
    assert events[f"activity-{short.pk}@testserver"].decoded("DURATION") == timedelta(
        minutes=30
    )
    # The same UIDs on the next fetch (calendar apps update, not duplicate).
    assert set(events_of(fetch(secret))) == set(events)


def test_times_are_the_right_instants_across_dst(rep, lead):
    before = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # Sat 10:00 in Brussels (CET)
    after = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Mon 10:00 in Brussels (CEST)
    a = activity(lead, rep, "Before", due_at=before)
    b = activity(lead, rep, "After", due_at=after)
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    response = fetch(secret)
    events = events_of(response)
    start_a = events[f"activity-{a.pk}@testserver"].decoded("DTSTART")
    start_b = events[f"activity-{b.pk}@testserver"].decoded("DTSTART")
    assert start_a == before and start_b == after
    assert start_a.utcoffset() == timedelta(0)
    assert b"DTSTART:20260330T080000Z" in response.content


def test_commas_semicolons_newlines_and_script_survive(rep, lead):
    nasty = "Quote; call, then\nsign <script>alert(1)</script>"
    a = activity(lead, rep, nasty[:200], notes="line 1\nline 2; a, b")
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    response = fetch(secret)
    assert b"\\;" in response.content and b"\\," in response.content
    event = events_of(response)[f"activity-{a.pk}@testserver"]
    assert str(event["SUMMARY"]) == f"{nasty} — Northwind tender"
    assert str(event["DESCRIPTION"]).startswith("line 1\nline 2; a, b\n\n")


def test_done_ones_are_marked_and_old_done_ones_left_out(rep, lead):
    recent = set_activity_done(activity(lead, rep, "Recent"), actor=rep, done=True)
    old = set_activity_done(activity(lead, rep, "Old"), actor=rep, done=True)
    Activity.objects.filter(pk=old.pk).update(
        done_at=timezone.now() - timedelta(days=91)
    )
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    events = events_of(fetch(secret))
    assert set(events) == {f"activity-{recent.pk}@testserver"}
    event = events[f"activity-{recent.pk}@testserver"]
    assert str(event["SUMMARY"]).startswith("✓ Recent")
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_another_users_secret_gives_only_their_activities(rep, outsider, lead):
    mine = activity(lead, rep, "Rep's call")
    other_lead = make_lead(outsider, owner=outsider, title="Southbay cranes")
    theirs = activity(other_lead, outsider, "Outsider's call")
    _f, rep_secret = issue_calendar_feed(rep, actor=rep)
    _f, out_secret = issue_calendar_feed(outsider, actor=outsider)
    assert set(events_of(fetch(rep_secret))) == {f"activity-{mine.pk}@testserver"}
    out = fetch(out_secret)
    assert set(events_of(out)) == {f"activity-{theirs.pk}@testserver"}
    assert b"Northwind" not in out.content


def test_a_lead_the_user_may_no_longer_see_is_left_out(rep, lead, inside):
    # rep's activity on a lead owned by a teammate; rep then moves to another team.
    teammate_lead = make_lead(inside, owner=inside, title="Teammate's lead")
    kept = activity(lead, rep, "On my own lead")
    gone = activity(teammate_lead, rep, "On the teammate's lead")
    assert set(feed_activities(rep)) == {kept, gone}
    rep.team = Team.objects.get(name="South")
    rep.save(update_fields=["team"])
    assert list(feed_activities(rep)) == [kept]


def test_the_feed_costs_the_same_queries_for_3_or_30_activities(
    rep, lead, django_assert_max_num_queries
):
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    for n in range(3):
        activity(lead, rep, f"A{n}")
    fetch(secret)  # notes the first fetch
    with django_assert_max_num_queries(3):
        assert len(events_of(fetch(secret))) == 3
    for n in range(27):
        activity(lead, rep, f"B{n}")
    with django_assert_max_num_queries(3):
        assert len(events_of(fetch(secret))) == 30


def test_the_calendar_names_itself_and_each_kind(rep, lead):
    activity(lead, rep, "Visit", kind="appointment")
    text = build_calendar(
        rep, feed_activities(rep), base_url="https://crm.example", host="crm.example"
    )
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["X-WR-CALNAME"]) == "Leadflow activities of Rep Persona"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in text
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    event = cal.walk("VEVENT")[0]
    assert event["CATEGORIES"].cats == ["Appointment"]
    assert str(event["UID"]).endswith("@crm.example")
    assert str(event["URL"]) == f"https://crm.example/opportunities/{lead.pk}/"


def test_a_flood_of_fetches_is_refused_with_429(rep, monkeypatch):
    monkeypatch.setattr(views_ical, "FEED_LIMIT", 3)
    monkeypatch.setattr(views_ical, "MISS_LIMIT", 2)
    _feed, secret = issue_calendar_feed(rep, actor=rep)
    client = Client()
    answers = [fetch(secret, client).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert fetch(secret, client)["Retry-After"] == str(views_ical.WINDOW)
    misses = [fetch(f"unknown{n:020d}", client).status_code for n in range(3)]
    assert misses == [404, 404, 429]
