"""The home page: 'my day' for the logged-in user, shaped by their role; and the
user's own calendar feed (the private iCalendar link of their activities)."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadflow.accounts.models import Role
from leadflow.accounts.permissions import has_capability
from leadflow.analytics.dashboard import dashboard_for
from leadflow.core.worktime import current_calendar
from leadflow.intake.models import Inquiry
from leadflow.intake.queries import QueueFilters, age_in_working_hours, triage_queue
from leadflow.opportunities.ical import (
    active_feed,
    issue_calendar_feed,
    stop_calendar_feed,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.queries import (
    decisions_due_for,
    follow_up_scope,
    overdue_activities_for,
    stale_for,
    visible_opportunities,
)
from leadflow.workflows.queries import follow_ups_due_for, notifications_for

HOME_ROWS = 8
DECISION_DAYS = 14
STALE_DAYS = 14
FOLLOW_UP_ROWS = 20


@login_required
def home(request):
    user = request.user
    context: dict = {
        "recent_registered": Inquiry.objects.filter(created_by=user)
        .select_related("contact", "channel")
        .order_by("-received_at")[:HOME_ROWS],
        "notifications": notifications_for(user).filter(read_at__isnull=True)[
            :HOME_ROWS
        ],
    }
    if has_capability(user, "inquiry.view_all"):
        queue = triage_queue(user, QueueFilters())
        oldest = list(queue[:HOME_ROWS])
        for inquiry in oldest:
            inquiry.age = age_in_working_hours(inquiry)
            inquiry.overdue = inquiry.age > settings.LEADFLOW_TRIAGE_TARGET_HOURS
        context.update(
            open_count=queue.count(),
            mine_count=queue.filter(assignee=user).count(),
            oldest=oldest,
        )
    if has_capability(user, "opportunity.own") or has_capability(
        user, "opportunity.view_all"
    ):
        mine = visible_opportunities(user).filter(owner=user, status="open")
        context.update(
            my_opportunities=mine.order_by("-created_at")[:HOME_ROWS],
            my_opportunity_count=mine.count(),
        )
    if has_capability(user, "opportunity.own"):
        # My day for whoever owns leads: what is late, what is due, what has stalled.
        context.update(
            overdue_activities=overdue_activities_for(user)[:HOME_ROWS],
            decisions_due=decisions_due_for(user, days=DECISION_DAYS)[:HOME_ROWS],
            stale_leads=stale_for(user, days=STALE_DAYS)[:HOME_ROWS],
            decision_days=DECISION_DAYS,
            stale_days=STALE_DAYS,
            today=timezone.localdate(),
        )
    context.update(_follow_ups(user))
    # The role's headline figures, each linked to the analysis behind it.
    context["dashboard"] = dashboard_for(user)
    return render(request, "accounts/home.html", context)


def _follow_ups(user) -> dict:
    """Leads parked in nurture that come back to this user today or came back lately,
    oldest first: at most FOLLOW_UP_ROWS, with the full count."""
    # Follow-up dates are days in the company's time zone, as the reminder has them.
    today = timezone.localdate(timezone.now(), current_calendar().tz)
    due = follow_ups_due_for(user, today=today)
    rows = list(due[:FOLLOW_UP_ROWS])
    if rows:
        # Who a lead comes back to may open it (read only); where the rules of the
        # two apps differ (a named person no longer active), the link goes to its
        # contact rather than to a page that answers 404.
        reachable = Q(pk__in=visible_opportunities(user).values("pk"))
        openable = set(
            Opportunity.objects.filter(
                reachable | follow_up_scope(user), pk__in=[o.pk for o in rows]
            ).values_list("pk", flat=True)
        )
        for o in rows:
            o.can_open = o.pk in openable
    return {
        # Whoever may be handed a follow-up sees the block, even when it is empty.
        "show_follow_ups": bool(rows)
        or has_capability(user, "opportunity.own")
        or user.role == Role.MARKETING,
        "follow_ups": rows,
        "follow_up_count": len(rows) if len(rows) < FOLLOW_UP_ROWS else due.count(),
        "follow_up_today": today,
    }


CALENDAR_TEMPLATE = "accounts/calendar.html"


@login_required
@require_http_methods(["GET", "POST"])
def account_calendar(request):
    """The user's own calendar feed: make the private link (shown once), reset it
    (the old one stops working) or stop the feed."""
    user = request.user
    context: dict = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in ("create", "reset"):
            _feed, secret = issue_calendar_feed(user, actor=user)
            url = request.build_absolute_uri(
                reverse("calendar_feed", kwargs={"secret": secret})
            )
            webcal = "webcal://" + url.split("://", 1)[1]
            context.update(
                feed_url=url,
                webcal_url=webcal,
                google_url="https://calendar.google.com/calendar/r?cid="
                + quote(webcal, safe=""),
            )
        elif action == "stop":
            if stop_calendar_feed(user, actor=user):
                messages.success(request, _("Your calendar feed is stopped."))
            return redirect("account_calendar")
        else:
            messages.error(request, _("Choose what to do with your calendar feed."))
            return redirect("account_calendar")
    context["feed"] = active_feed(user)
    response = render(request, CALENDAR_TEMPLATE, context)
    # The page may hold the secret link: never kept by a cache or the browser.
    response["Cache-Control"] = "no-store"
    return response
