"""Demo workflows: the calendar, escalation settings, two notification rules, and the
clock started on the demo's open inquiries (its history is not news: the transition
rows of the generated past are marked processed, so the worker does not replay them)."""

from datetime import datetime

from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.core.models import WorkingCalendar
from leadflow.core.worktime import forget_calendar
from leadflow.intake.models import Inquiry, InquiryTransition
from leadflow.opportunities.models import (
    OpportunityTransition,
    QuoteTransition,
    StakeholderPhaseChange,
)
from leadflow.workflows.escalations import arm_inquiry
from leadflow.workflows.models import EscalationSettings, NotificationRule, RuleEvent


def load_demo_workflows(*, now: datetime | None = None) -> str:
    now = now or timezone.now()
    WorkingCalendar.objects.get_or_create(pk=1)
    forget_calendar()
    EscalationSettings.objects.get_or_create(
        pk=1, defaults={"inquiry_after_hours": 4, "manager_after_hours": 4}
    )
    for model in (InquiryTransition, OpportunityTransition, QuoteTransition):
        model.objects.filter(processed_at__isnull=True).update(processed_at=now)
    StakeholderPhaseChange.objects.filter(processed_at__isnull=True).update(
        processed_at=now
    )
    big = NotificationRule.objects.create(
        name="Director: new inquiries from companies of 200+ employees",
        event=RuleEvent.INQUIRY_REGISTERED,
        min_company_size=200,
        recipient_roles=[Role.SALES_DIRECTOR],
    )
    lost = NotificationRule.objects.create(
        name="Manager: a lead above € 50,000 lost",
        event=RuleEvent.OPPORTUNITY_LOST,
        min_value=50000,
        notify_owner_manager=True,
    )
    moved_back = NotificationRule.objects.create(
        name="Owner: a stakeholder moved back on the buying clock",
        event=RuleEvent.STAKEHOLDER_MOVED_BACK,
        notify_owner=True,
    )
    # Rules apply to what happens from now on (the demo's past is older than them).
    NotificationRule.objects.filter(pk__in=[big.pk, lost.pk, moved_back.pk]).update(
        created_at=now
    )
    armed = sum(
        arm_inquiry(inquiry) is not None
        for inquiry in Inquiry.objects.open().order_by("received_at")
    )
    # One director reads a digest in the morning instead of separate e-mails.
    User.objects.filter(role=Role.SALES_DIRECTOR).update(email_digest=True)
    return (
        f"workflows: 3 notification rules, escalation clock on {armed} open inquiries"
    )
