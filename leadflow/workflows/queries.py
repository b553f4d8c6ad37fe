from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from leadflow.accounts.models import Role
from leadflow.core.worktime import current_calendar
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.states import FollowUpBy, OpportunityStatus
from leadflow.workflows.escalations import FOLLOW_UP_LOOKBACK
from leadflow.workflows.models import (
    Escalation,
    EscalationKind,
    EscalationStatus,
    Notification,
)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("actor")


# --- e-mail preference ---------------------------------------------------------------

# The three ways a user can get their notifications by e-mail, as stored on the user:
# (email_notifications, email_digest).
EMAIL_MODES: dict[str, tuple[bool, bool]] = {
    "off": (False, False),
    "each": (True, False),
    "digest": (True, True),
}


def email_preference(user) -> str:
    """ "off", "each" (one e-mail per notification) or "digest" (one a day)."""
    if not user.email_notifications:
        return "off"
    return "digest" if user.email_digest else "each"


# --- escalations on the inquiry record -----------------------------------------------


def inquiry_escalations(inquiry) -> list[Escalation]:
    """The inquiry's escalations, latest deadline first, in one query. A pending one
    carries ``reminds``: who it will go to if nothing changes (the rule of
    ``escalations.inquiry_assignees`` / ``inquiry_managers``, named, not listed)."""
    rows = list(
        Escalation.objects.filter(inquiry_id=inquiry.pk)
        .select_related("inquiry__assignee__team__manager")
        .order_by("-due_at", "-id")
    )
    for row in rows:
        row.reminds = _reminds(row) if row.status == EscalationStatus.PENDING else ""
    return rows


def _reminds(escalation: Escalation) -> str:
    assignee = escalation.inquiry.assignee
    if escalation.kind == EscalationKind.INQUIRY_OPEN:
        if assignee is not None and assignee.is_active:
            return str(assignee)
        return gettext("inside sales")
    manager = assignee.team.manager if assignee and assignee.team else None
    if manager is not None and manager.is_active:
        return str(manager)
    return gettext("the sales directors")


# --- nurture follow-ups due ----------------------------------------------------------


def follow_ups_due_for(user, *, today: date | None = None) -> QuerySet[Opportunity]:
    """Leads parked in nurture whose follow-up date has come (within the reminder's
    look-back) and that come back to this user, oldest date first: as the named
    follow-up person, or, with no (active) person named, as the owner when sales
    follows up, as a marketer for marketing, as inside sales for telemarketing
    (the rule of ``escalations.follow_up_people``)."""
    if today is None:
        today = timezone.localdate(timezone.now(), current_calendar().tz)
    team = Q(follow_up_by=FollowUpBy.SALES, owner=user)
    if user.role == Role.MARKETING:
        team |= Q(follow_up_by=FollowUpBy.MARKETING)
    if user.role == Role.INSIDE_SALES:
        team |= Q(follow_up_by=FollowUpBy.TELEMARKETING)
    nobody_named = Q(follow_up_user__isnull=True) | Q(follow_up_user__is_active=False)
    return (
        Opportunity.objects.filter(
            status=OpportunityStatus.NURTURE,
            follow_up_on__lte=today,
            follow_up_on__gte=today - FOLLOW_UP_LOOKBACK,
        )
        .filter(Q(follow_up_user=user) | (nobody_named & team))
        .select_related("contact", "company", "owner", "follow_up_user")
        .order_by("follow_up_on", "pk")
    )
