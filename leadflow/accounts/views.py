"""The home page: 'my day' for the logged-in user, shaped by their role."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from leadflow.accounts.permissions import has_capability
from leadflow.intake.models import Inquiry
from leadflow.intake.queries import QueueFilters, age_in_working_hours, triage_queue
from leadflow.opportunities.queries import (
    decisions_due_for,
    overdue_activities_for,
    stale_for,
    visible_opportunities,
)
from leadflow.workflows.queries import notifications_for

HOME_ROWS = 8
DECISION_DAYS = 14
STALE_DAYS = 14


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
    return render(request, "accounts/home.html", context)
