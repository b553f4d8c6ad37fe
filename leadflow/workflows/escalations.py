"""Escalations and reminders: armed with a deadline, then sent or cancelled, once.

- An open inquiry reminds its assignee after N working hours (the company calendar:
  working days, hours, time zone, holidays) and, M working hours later, a manager.
  Armed when the worker reads the ``inquiry.registered`` row; cancelled when the
  ``inquiry.closed`` row arrives; a change of the inquiry before the deadline (its
  version moved on) cancels the pending step and starts the clock again from the change.
- A qualified lead without activity for its stage's limit (``Stage.stale_after_days``)
  reminds its owner, once per period of silence.
- An overdue activity reminds its assignee, once per due date.
- A lead parked in nurture comes back on its follow-up date to the follow-up person.

Each is one ``Escalation`` row, unique per (kind, target, key): two workers, a restart
or a repeated sweep cannot send anything twice. Deadlines fire from a delayed task
(``run_after``) when the task backend can delay, and from the once-a-minute sweep in
any case, so a lost task only makes a reminder late by a minute, never lost.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, User
from leadflow.audit.actions import record_event
from leadflow.core.worktime import add_working_hours, current_calendar
from leadflow.intake.models import Inquiry
from leadflow.intake.states import InquiryStatus
from leadflow.opportunities.models import Activity, Opportunity, Stage
from leadflow.opportunities.states import FollowUpBy, OpportunityStatus
from leadflow.workflows.actions import notify
from leadflow.workflows.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
)

logger = logging.getLogger(__name__)

# Reminders about the distant past are noise: what fell due before this window (e.g.
# while the worker was switched off for a long time, or in imported history) is left.
OVERDUE_LOOKBACK = timedelta(days=7)
FOLLOW_UP_LOOKBACK = timedelta(days=31)
# One sweep handles at most this many per kind; the next sweep takes the rest.
SWEEP_LIMIT = 2000

TEXT = {
    EscalationKind.INQUIRY_OPEN: _(
        "Inquiry still open after %(hours)s working hours: %(subject)s"
    ),
    EscalationKind.INQUIRY_MANAGER: _(
        "Escalated: inquiry still open after %(hours)s working hours: %(subject)s"
    ),
    EscalationKind.LEAD_STALE: _(
        "No activity for %(days)s days in stage %(stage)s: %(subject)s"
    ),
    EscalationKind.ACTIVITY_OVERDUE: _("Activity overdue: %(subject)s"),
    EscalationKind.NURTURE_FOLLOW_UP: _(
        "Follow-up due today for a lead in nurture: %(subject)s"
    ),
}


def settings_row() -> EscalationSettings:
    row = EscalationSettings.objects.first()
    return row if row is not None else EscalationSettings()


def _target(obj: models.Model) -> str:
    return f"{obj._meta.model_name}:{obj.pk}"


# --- arming --------------------------------------------------------------------------


def arm(
    kind: str,
    *,
    key: str,
    due_at: datetime,
    inquiry: Inquiry | None = None,
    opportunity: Opportunity | None = None,
    activity: Activity | None = None,
    schedule: bool = True,
    after_hours=None,
) -> Escalation | None:
    """Create the pending escalation (None when it exists already) and schedule its
    deadline after the commit."""
    target = _target(inquiry or opportunity or activity)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                kind=kind,
                target=target,
                key=key,
                due_at=due_at,
                inquiry=inquiry,
                opportunity=opportunity,
                activity=activity,
                after_hours=after_hours,
            )
    except IntegrityError:
        return None
    if schedule:
        transaction.on_commit(lambda: _schedule(escalation.pk, due_at))
    return escalation


def _schedule(escalation_id: int, due_at: datetime) -> None:
    from leadflow.workflows.tasks import fire_escalation

    if fire_escalation.get_backend().supports_defer:
        fire_escalation.using(run_after=due_at).enqueue(escalation_id)
    # Without a delaying backend the sweep (every minute) fires it.


def arm_inquiry(
    inquiry: Inquiry, *, since: datetime | None = None
) -> Escalation | None:
    """Start the open-inquiry clock: from reception, or from the last change."""
    hours = settings_row().inquiry_after_hours
    if not hours or inquiry.status != InquiryStatus.OPEN:
        return None
    start = since or inquiry.received_at
    return arm(
        EscalationKind.INQUIRY_OPEN,
        key=f"v{inquiry.version}",
        due_at=add_working_hours(start, float(hours), current_calendar()),
        inquiry=inquiry,
        after_hours=hours,
    )


def cancel_for_inquiry(inquiry: Inquiry, *, note: str) -> int:
    return Escalation.objects.filter(
        inquiry=inquiry, status=EscalationStatus.PENDING
    ).update(
        status=EscalationStatus.CANCELLED, cancelled_at=timezone.now(), note=note[:200]
    )


def on_event(event) -> None:
    """Called by the outbox worker for every event (inside the row's transaction)."""
    if event.type == "inquiry.registered":
        arm_inquiry(event.subject)
    elif event.type == "inquiry.closed":
        cancel_for_inquiry(event.subject, note="closed")


# --- firing ----------------------------------------------------------------------------


def fire(escalation_id: int, *, now: datetime | None = None) -> str:
    """Send or cancel one pending escalation whose deadline has come. Returns what
    happened: "sent", "cancelled", "not_due" or "gone" (handled already)."""
    now = now or timezone.now()
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update()
            .filter(pk=escalation_id, status=EscalationStatus.PENDING)
            .first()
        )
        if escalation is None:
            return "gone"
        if escalation.due_at > now:
            return "not_due"
        if escalation.inquiry_id is not None:
            return _fire_inquiry(escalation, now)
        # Other kinds are sent when they are found (see the sweeps below).
        return _finish(escalation, now, [], EscalationStatus.CANCELLED, "unknown kind")


def fire_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """The sweep: fire every pending escalation whose deadline has passed."""
    now = now or timezone.now()
    ids = list(
        Escalation.objects.filter(status=EscalationStatus.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        try:
            if fire(pk, now=now) in ("sent", "cancelled"):
                done += 1
        except Exception:
            logger.exception("escalation %s failed", pk)
    return done


def _finish(escalation, now, people, status, note="") -> str:
    escalation.status = status
    escalation.note = note[:200]
    if status == EscalationStatus.SENT:
        escalation.sent_at = now
        escalation.recipients = [p.username for p in people]
    else:
        escalation.cancelled_at = now
    escalation.save(
        update_fields=["status", "note", "sent_at", "cancelled_at", "recipients"]
    )
    return str(status)


def _fire_inquiry(escalation: Escalation, now: datetime) -> str:
    inquiry = Inquiry.objects.select_related(
        "contact", "company", "assignee__team__manager"
    ).get(pk=escalation.inquiry_id)
    if inquiry.status != InquiryStatus.OPEN:
        return _finish(escalation, now, [], EscalationStatus.CANCELLED, "closed")
    version = f"v{inquiry.version}"
    if escalation.key != version and inquiry.updated_at <= escalation.due_at:
        # Changed before the deadline: this step is void; the clock starts again.
        # (A change after the deadline does not undo a reminder that was due.)
        _finish(escalation, now, [], EscalationStatus.CANCELLED, "changed")
        arm_inquiry(inquiry, since=inquiry.updated_at)
        return "cancelled"
    row = settings_row()
    if escalation.kind == EscalationKind.INQUIRY_OPEN:
        people = inquiry_assignees(inquiry)
    else:
        people = inquiry_managers(inquiry)
    label = f"{inquiry.contact}" + (f" ({inquiry.company})" if inquiry.company else "")
    _tell(
        people,
        escalation,
        subject=inquiry,
        url=f"/inquiries/{inquiry.pk}/",
        values={"subject": label, "hours": _hours_text(escalation.after_hours)},
    )
    _finish(escalation, now, people, EscalationStatus.SENT)
    if escalation.kind == EscalationKind.INQUIRY_OPEN and row.manager_after_hours:
        arm(
            EscalationKind.INQUIRY_MANAGER,
            key=version,
            due_at=add_working_hours(
                escalation.due_at, float(row.manager_after_hours), current_calendar()
            ),
            inquiry=inquiry,
            after_hours=(escalation.after_hours or 0) + row.manager_after_hours,
        )
    return "sent"


def _hours_text(hours) -> str:
    value = float(hours or 0)
    return f"{value:g}"


def inquiry_assignees(inquiry: Inquiry) -> list[User]:
    """The assignee; an unassigned inquiry (or one whose assignee has left) belongs to
    the whole of inside sales, and with nobody there to the stand-ins."""
    if inquiry.assignee_id and inquiry.assignee.is_active:
        return [inquiry.assignee]
    return list(
        User.objects.filter(is_active=True, role=Role.INSIDE_SALES)
    ) or stand_ins(None)


def stand_ins(person: User | None) -> list[User]:
    """Who hears a reminder meant for someone who has left (or for nobody): their
    team's manager, else the sales directors, else the administrators. A reminder is
    never sent to no one."""
    team = person.team if person is not None and person.team_id else None
    if team is not None and team.manager_id and team.manager.is_active:
        return [team.manager]
    return list(User.objects.filter(is_active=True, role=Role.SALES_DIRECTOR)) or list(
        User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
    )


def _reachable(person: User) -> list[User]:
    return [person] if person.is_active else stand_ins(person)


def inquiry_managers(inquiry: Inquiry) -> list[User]:
    """The assignee's team manager; without one, the sales directors."""
    assignee = inquiry.assignee if inquiry.assignee_id else None
    manager = assignee.team.manager if assignee and assignee.team_id else None
    if manager is not None and manager.is_active:
        return [manager]
    return list(User.objects.filter(is_active=True, role=Role.SALES_DIRECTOR))


def _tell(people, escalation: Escalation, *, subject, url: str, values: dict) -> None:
    for person in people:
        with translation.override(person.language or "en"):
            message = str(TEXT[escalation.kind]) % values
        notify(
            person,
            actor=None,
            event_type=f"escalation.{escalation.kind}",
            message=message,
            subject=subject,
            url=url,
            source=f"escalation:{escalation.pk}",
            why=str(EscalationKind(escalation.kind).label),
        )
    record_event(
        actor=None,
        subject=subject,
        event_type="escalation.sent",
        new={
            "kind": escalation.kind,
            "to": ", ".join(p.username for p in people) or "-",
        },
    )


def _send_now(
    *, kind: str, now, key: str, due_at, people, subject, url, values, **target
):
    """Create an escalation and send it at once (reminders found by a sweep); nothing
    when the same (kind, target, key) was handled before."""
    with transaction.atomic():
        escalation = arm(kind, key=key, due_at=due_at, schedule=False, **target)
        if escalation is None:
            return False
        _tell(people, escalation, subject=subject, url=url, values=values)
        _finish(escalation, now, people, EscalationStatus.SENT)
    return True


# --- sweeps for reminders ----------------------------------------------------------------


def remind_overdue_activities(*, now: datetime | None = None) -> int:
    """Tell each assignee once per due date that an open activity is overdue."""
    if not settings_row().remind_overdue_activities:
        return 0
    now = now or timezone.now()
    already = Escalation.objects.filter(
        kind=EscalationKind.ACTIVITY_OVERDUE,
        activity=OuterRef("pk"),
        due_at=OuterRef("due_at"),
    )
    overdue = (
        Activity.objects.filter(
            done_at__isnull=True,
            due_at__lt=now,
            due_at__gte=now - OVERDUE_LOOKBACK,
            opportunity__status=OpportunityStatus.OPEN,
        )
        .exclude(Exists(already))
        .select_related("assignee__team__manager", "opportunity")
        .order_by("due_at")
    )
    sent = 0
    for activity in list(overdue[:SWEEP_LIMIT]):
        o = activity.opportunity
        sent += _send_now(
            now=now,
            kind=EscalationKind.ACTIVITY_OVERDUE,
            key=activity.due_at.isoformat(),
            due_at=activity.due_at,
            people=_reachable(activity.assignee),
            subject=o,
            url=f"/opportunities/{o.pk}/#activities",
            values={"subject": f"{activity.subject} · {o.title}"},
            activity=activity,
        )
    return sent


def remind_stale_leads(*, now: datetime | None = None) -> int:
    """Tell the owner of an open lead that nothing happened for its stage's limit:
    no stage move, no change, no activity logged or done. Once per silence."""
    if not settings_row().remind_stale_leads:
        return 0
    now = now or timezone.now()
    last_activity = (
        Activity.objects.filter(opportunity=OuterRef("pk"))
        .annotate(touched=Greatest("created_at", Coalesce("done_at", "created_at")))
        .values("opportunity")
        .annotate(last=Max("touched"))
        .values("last")
    )
    sent = 0
    for stage in Stage.objects.filter(stale_after_days__isnull=False):
        days = stage.stale_after_days
        cutoff = now - timedelta(days=days)
        candidates = (
            Opportunity.objects.filter(
                status=OpportunityStatus.OPEN,
                stage=stage,
                updated_at__lt=cutoff,
            )
            .filter(Q(stage_entered_at__isnull=True) | Q(stage_entered_at__lt=cutoff))
            .annotate(last_activity=models.Subquery(last_activity))
            .filter(Q(last_activity__isnull=True) | Q(last_activity__lt=cutoff))
            .select_related("owner__team__manager")
            .order_by("pk")
        )
        for o in list(candidates[:SWEEP_LIMIT]):
            touched = max(
                t
                for t in (o.updated_at, o.stage_entered_at, o.last_activity)
                if t is not None
            )
            with translation.override(o.owner.language or "en"):
                stage_name = str(stage)
            sent += _send_now(
                now=now,
                kind=EscalationKind.LEAD_STALE,
                key=touched.isoformat(),
                due_at=touched + timedelta(days=days),
                people=_reachable(o.owner),
                subject=o,
                url=f"/opportunities/{o.pk}/",
                values={"subject": o.title, "days": days, "stage": stage_name},
                opportunity=o,
            )
    return sent


def follow_up_people(o: Opportunity) -> list[User]:
    """The chosen follow-up person; else the team the follow-up was given to:
    sales → the owner, marketing → marketing, telemarketing → inside sales (also when
    the named person has left). An empty team or an owner who has left hands it to
    the stand-ins (see ``stand_ins``)."""
    if o.follow_up_user_id and o.follow_up_user.is_active:
        return [o.follow_up_user]
    if o.follow_up_by == FollowUpBy.MARKETING:
        team = list(User.objects.filter(is_active=True, role=Role.MARKETING))
    elif o.follow_up_by == FollowUpBy.TELEMARKETING:
        team = list(User.objects.filter(is_active=True, role=Role.INSIDE_SALES))
    else:
        return _reachable(o.owner)
    return team or stand_ins(None)


def nurture_follow_ups(*, now: datetime | None = None) -> int:
    """Bring leads parked in nurture back to their follow-up person on the date."""
    now = now or timezone.now()
    today = timezone.localdate(now, current_calendar().tz)
    due = (
        Opportunity.objects.filter(
            status=OpportunityStatus.NURTURE,
            follow_up_on__lte=today,
            follow_up_on__gte=today - FOLLOW_UP_LOOKBACK,
        )
        .select_related("owner__team__manager", "follow_up_user__team__manager")
        .order_by("follow_up_on", "pk")
    )
    sent = 0
    for o in list(due[:SWEEP_LIMIT]):
        sent += _send_now(
            now=now,
            kind=EscalationKind.NURTURE_FOLLOW_UP,
            key=o.follow_up_on.isoformat(),
            due_at=now,
            people=follow_up_people(o),
            subject=o,
            url=f"/opportunities/{o.pk}/",
            values={"subject": o.title},
            opportunity=o,
        )
    return sent
