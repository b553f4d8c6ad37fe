"""A user's activities as an iCalendar feed (issue 6), subscribed to by a private URL.

The URL carries a random secret; only its SHA-256 is stored (``CalendarFeed``), so it
is shown once, when it is made, and "reset" revokes it and makes a new one. The feed
holds one VEVENT per activity assigned to the user on a qualified lead the user may
still see (``visibility_q``): open ones, and those done in the last 90 days (their
summary starts with "✓"). Activities without a due date are left out. Times are in
UTC: every event is a single instance, so there is no DST arithmetic left to a
client, and Outlook and Google read ``…Z`` alike and show it in the user's own zone
(ADR 0013).
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, timedelta

import icalendar
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadflow.accounts.models import CalendarFeed, User
from leadflow.audit.actions import record_event
from leadflow.opportunities.models import Activity
from leadflow.opportunities.queries import visibility_q
from leadflow.opportunities.states import ActivityKind

DONE_DAYS = 90
DEFAULT_MINUTES = 30
DONE_MARK = "✓ "
SECRET_BYTES = 32
PREFIX_CHARS = 6
# The feed says how often a calendar app should fetch it again.
REFRESH = timedelta(hours=1)
TOUCH_EVERY = timedelta(minutes=5)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- the feed's secret: make, reset, stop --------------------------------------------


def active_feed(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


@transaction.atomic
def issue_calendar_feed(user: User, *, actor: User | None) -> tuple[CalendarFeed, str]:
    """A new private feed URL secret for ``user`` (any earlier one stops working);
    returns the feed and the clear secret, which is never stored."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    old = active_feed(user)
    if old is not None:
        _revoke(old, actor=actor)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    feed = CalendarFeed.objects.create(
        user=user, token_hash=_hash(secret), prefix=secret[:PREFIX_CHARS]
    )
    record_event(
        actor=actor,
        subject=user,
        event_type="calendar_feed.issued",
        old={"feed": old.prefix} if old else None,
        new={"feed": feed.prefix},
    )
    return feed, secret


@transaction.atomic
def stop_calendar_feed(user: User, *, actor: User | None) -> bool:
    """Stop the user's feed; False when there was none."""
    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(user=user, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return False
    _revoke(feed, actor=actor)
    return True


def _revoke(feed: CalendarFeed, *, actor: User | None) -> None:
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record_event(
        actor=actor,
        subject=feed.user,
        event_type="calendar_feed.revoked",
        old={"feed": feed.prefix},
    )


def feed_for_secret(secret: str) -> CalendarFeed | None:
    """The live feed of an active user for this secret, else None (one indexed query;
    the last fetch is noted at most every few minutes)."""
    if not secret:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > TOUCH_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed


# --- what it holds -----------------------------------------------------------------


def feed_activities(user: User, *, now=None) -> QuerySet[Activity]:
    """The user's activities with a due date on leads they may see: open ones and
    those done in the last DONE_DAYS days, by due date."""
    now = now or timezone.now()
    qs = (
        Activity.objects.filter(assignee=user, due_at__isnull=False)
        .filter(
            Q(done_at__isnull=True) | Q(done_at__gte=now - timedelta(days=DONE_DAYS))
        )
        .select_related("opportunity")
        .order_by("due_at", "id")
    )
    scope = visibility_q(user, prefix="opportunity__")
    return qs if scope is None else qs.filter(scope)


def build_calendar(
    user: User, activities: Iterable[Activity], *, base_url: str, host: str, now=None
) -> bytes:
    """The iCalendar text (RFC 5545) of these activities, in the user's language."""
    now = (now or timezone.now()).astimezone(UTC)
    with translation.override(user.language or None):
        cal = icalendar.Calendar()
        cal.add("prodid", "-//Leadflow//Activities//EN")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        name = _("Leadflow activities of %(user)s") % {"user": user}
        cal.add("name", name)
        cal.add("x-wr-calname", name)
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        # An X- property is text to the library: its value written out as a duration.
        cal.add("x-published-ttl", icalendar.vDuration(REFRESH).to_ical().decode())
        kinds = dict(ActivityKind.choices)
        for activity in activities:
            cal.add_component(
                _event(activity, base_url=base_url, host=host, now=now, kinds=kinds)
            )
    return cal.to_ical()


def _event(activity: Activity, *, base_url, host, now, kinds) -> icalendar.Event:
    lead = activity.opportunity
    link = base_url + reverse("opportunity_detail", args=[lead.pk])
    done = activity.done_at is not None
    event = icalendar.Event()
    event.add("uid", f"activity-{activity.pk}@{host}")
    event.add("dtstamp", now)
    event.add("created", activity.created_at.astimezone(UTC))
    event.add("dtstart", activity.due_at.astimezone(UTC))
    event.add(
        "duration", timedelta(minutes=activity.duration_minutes or DEFAULT_MINUTES)
    )
    event.add(
        "summary", f"{DONE_MARK if done else ''}{activity.subject} — {lead.title}"
    )
    notes = activity.notes.strip()
    event.add("description", f"{notes}\n\n{link}" if notes else link)
    event.add("url", link)
    event.add("categories", [str(kinds.get(activity.kind, activity.kind))])
    event.add("status", "CONFIRMED")
    # Only an open appointment makes the user busy; calls, tasks and what is done
    # are shown without blocking the time.
    busy = not done and activity.kind == ActivityKind.APPOINTMENT
    event.add("transp", "OPAQUE" if busy else "TRANSPARENT")
    return event
