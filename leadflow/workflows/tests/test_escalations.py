"""Escalations and reminders: armed with a deadline, then sent once or cancelled.

Neither time-machine nor freezegun is installed: the clock is the ``now=`` every sweep
accepts, and the moments the code reads from ``timezone.now()`` (a lead's
``updated_at``, an activity's ``created_at``) are set with a queryset update to the
instant the story needs. Inquiries are received in the past (Monday 16 November 2026)
so their deadlines are hand-computable.

The calendar is the default one (no row): Monday to Friday 08:30-17:30 in the
server's time zone, Europe/Brussels, UTC+1 in November and December 2026.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from leadflow.accounts.models import Role, User
from leadflow.audit.queries import timeline_for
from leadflow.core.models import Holiday, WorkingCalendar
from leadflow.intake.actions import assign_inquiry, close_inquiry, update_inquiry
from leadflow.intake.models import Inquiry, InquiryTransition
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import (
    add_activity,
    close_opportunity,
    move_stage,
    set_activity_done,
    set_stakeholder,
)
from leadflow.opportunities.models import (
    Activity,
    Opportunity,
    Stage,
    StakeholderPhaseChange,
)
from leadflow.opportunities.tests.pipeline_factories import make_lead, make_person
from leadflow.workflows import escalations
from leadflow.workflows.escalations import (
    fire,
    fire_due,
    nurture_follow_ups,
    remind_overdue_activities,
    remind_stale_leads,
)
from leadflow.workflows.models import (
    Escalation,
    EscalationKind,
    EscalationSettings,
    EscalationStatus,
    Notification,
    NotificationRule,
    RuleEvent,
)
from leadflow.workflows.outbox import process_outbox
from leadflow.workflows.tasks import fire_escalation

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Received Monday 16 November 2026, 16:00 in Brussels (15:00 UTC).
RECEIVED = utc(2026, 11, 16, 15)
# 4 working hours: 16:00-17:30 on Monday (1.5 h), 08:30-11:00 on Tuesday (2.5 h)
# → Tuesday 17 November 11:00 CET = 10:00 UTC.
FIRST_DUE = utc(2026, 11, 17, 10)
# 4 more working hours after the first deadline: Tuesday 11:00 + 4 h = 15:00 CET.
MANAGER_DUE = utc(2026, 11, 17, 14)


# --- helpers -----------------------------------------------------------------------------


def escalation_settings(**values) -> EscalationSettings:
    row, _created = EscalationSettings.objects.get_or_create(pk=1)
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    return row


def register(actor, **kwargs) -> Inquiry:
    kwargs.setdefault("name", "Sofie Claes")
    kwargs.setdefault("company", "Acme NV")
    kwargs.setdefault("received_at", RECEIVED)
    return make_inquiry(actor, **kwargs)


def escalations_of(obj=None, **filters) -> list[Escalation]:
    if obj is not None:
        filters[obj._meta.model_name] = obj
    return list(Escalation.objects.filter(**filters).order_by("id"))


def told(kind: str | None = None) -> list[tuple[str, str]]:
    """(recipient, message) of the escalation notifications, sorted."""
    qs = Notification.objects.filter(event_type__startswith="escalation.")
    if kind is not None:
        qs = qs.filter(event_type=f"escalation.{kind}")
    return sorted(qs.values_list("recipient__username", "message"))


def timeline_events(obj, event_type: str) -> list[dict]:
    return [e.new for e in timeline_for(obj) if e.event_type == event_type]


def make_user(username: str, role: str, *, team=None, active: bool = True) -> User:
    return User.objects.create(
        username=username,
        email=f"{username}@leadflow.test",
        role=role,
        team=team,
        is_active=active,
    )


@pytest.fixture
def north_lead(teams):
    """Team North (inside and rep) is managed by its own team lead."""
    lead = make_user("north_lead", Role.SALES, team=teams["North"])
    teams["North"].manager = lead
    teams["North"].save()
    return lead


def set_updated_at(inquiry: Inquiry, at: datetime) -> Inquiry:
    """The change happened at ``at`` (the real clock is days later)."""
    Inquiry.objects.filter(pk=inquiry.pk).update(updated_at=at)
    inquiry.refresh_from_db()
    return inquiry


# --- arming ---------------------------------------------------------------------------------


def test_a_registered_inquiry_arms_one_reminder_four_working_hours_after_reception(
    personas, inside
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    assert escalations_of(inquiry) == []  # the worker arms it, not the action
    process_outbox()
    [armed] = escalations_of(inquiry)
    assert armed.kind == EscalationKind.INQUIRY_OPEN
    assert armed.status == EscalationStatus.PENDING
    assert armed.due_at == FIRST_DUE
    assert armed.key == "v1"
    assert armed.target == f"inquiry:{inquiry.pk}"
    assert armed.after_hours == Decimal("4")


def test_without_a_settings_row_inquiries_escalate_after_four_and_four_hours(
    personas, inside
):
    assert not EscalationSettings.objects.exists()
    inquiry = register(inside)
    process_outbox()
    [armed] = escalations_of(inquiry)
    assert armed.due_at == FIRST_DUE
    fire_due(now=FIRST_DUE)
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert step.due_at == MANAGER_DUE


def test_fractional_hours_count_in_minutes(personas, inside):
    # 1.25 h from Monday 16:00 CET: 17:15 CET = 16:15 UTC, the same day
    escalation_settings(inquiry_after_hours=Decimal("1.25"))
    inquiry = register(inside)
    process_outbox()
    assert escalations_of(inquiry)[0].due_at == utc(2026, 11, 16, 16, 15)


def test_empty_inquiry_hours_arm_nothing(personas, inside):
    escalation_settings(inquiry_after_hours=None, manager_after_hours=4)
    register(inside)
    process_outbox()
    assert Escalation.objects.count() == 0


def test_the_deadline_skips_the_weekend_and_a_holiday_of_the_company(personas, inside):
    escalation_settings(inquiry_after_hours=4)
    Holiday.objects.create(day=date(2026, 11, 23), name="Company day off")
    # Friday 20 Nov 16:00 CET (15:00 UTC): 1.5 h on Friday; Saturday, Sunday and the
    # Monday holiday off; Tuesday 24 Nov 08:30 + 2.5 h = 11:00 CET = 10:00 UTC.
    inquiry = register(inside, received_at=utc(2026, 11, 20, 15))
    process_outbox()
    assert escalations_of(inquiry)[0].due_at == utc(2026, 11, 24, 10)


def test_the_deadline_follows_the_configured_working_week_and_time_zone(
    personas, inside
):
    escalation_settings(inquiry_after_hours=4)
    WorkingCalendar.objects.create(
        starts_at=time(9), ends_at=time(17), time_zone="America/New_York"
    )
    # Monday 16 Nov 15:00 UTC = 10:00 EST; + 4 h = 14:00 EST = 19:00 UTC.
    inquiry = register(inside)
    process_outbox()
    assert escalations_of(inquiry)[0].due_at == utc(2026, 11, 16, 19)


def test_an_inquiry_closed_before_the_worker_ran_is_never_armed(personas, inside):
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="Spam")
    process_outbox()  # reads "registered" and "closed" in one run
    assert escalations_of(inquiry) == []


def test_with_a_backend_that_cannot_delay_the_sweep_fires_the_deadline(
    personas, inside, django_capture_on_commit_callbacks
):
    """ImmediateBackend cannot run a task later: nothing fires at commit time (it
    would be early); the pending row waits for ``fire_due``."""
    escalation_settings(inquiry_after_hours=4)
    assert not fire_escalation.get_backend().supports_defer
    inquiry = register(inside)
    with django_capture_on_commit_callbacks(execute=True):
        process_outbox()
    [armed] = escalations_of(inquiry)
    assert armed.status == EscalationStatus.PENDING
    assert told() == []


def test_with_a_backend_that_can_delay_the_deadline_is_a_task_run_after_it(
    personas, inside, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    with django_capture_on_commit_callbacks(execute=True):
        process_outbox()
    [armed] = escalations_of(inquiry)
    queued = DBTaskResult.objects.filter(
        task_path="leadflow.workflows.tasks.fire_escalation"
    )
    assert [(t.run_after, t.args_kwargs["args"]) for t in queued] == [
        (FIRST_DUE, [armed.pk])
    ]


def test_a_deadline_over_the_dst_weekend_keeps_local_office_time(personas, inside):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    # Friday 23 Oct 2026 15:00 CEST (13:00 UTC): 2.5 h on Friday; the clocks go back
    # on Sunday; Monday 26 Oct 08:30 CET + 1.5 h = 10:00 CET = 09:00 UTC. The manager
    # step: Monday 10:00 + 4 h = 14:00 CET = 13:00 UTC.
    inquiry = register(inside, received_at=utc(2026, 10, 23, 13))
    process_outbox()
    assert escalations_of(inquiry)[0].due_at == utc(2026, 10, 26, 9)
    fire_due(now=utc(2026, 10, 26, 9))
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert step.due_at == utc(2026, 10, 26, 13)


def test_processing_the_registration_again_arms_nothing_twice(personas, inside):
    """A worker that restarts and reads the same outbox row again."""
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    InquiryTransition.objects.filter(inquiry=inquiry).update(processed_at=None)
    process_outbox()
    process_outbox()
    assert len(escalations_of(inquiry)) == 1


# --- firing: the assignee, then a manager ---------------------------------------------------------


def test_nothing_is_sent_before_the_deadline(personas, inside):
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    assign_inquiry(inquiry, actor=inside, assignee=inside)
    process_outbox()
    assert fire_due(now=FIRST_DUE - SECOND) == 0
    assert told() == []
    [armed] = escalations_of(inquiry)
    assert armed.status == EscalationStatus.PENDING
    assert fire(armed.pk, now=FIRST_DUE - SECOND) == "not_due"


def test_at_the_deadline_the_assignee_is_told_in_the_app_by_email_and_on_the_timeline(
    personas, inside, rep, director, django_capture_on_commit_callbacks
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    # Assigned before the worker read the registration: armed for version 2, the
    # clock still counting from reception.
    assign_inquiry(inquiry, actor=inside, assignee=inside)
    process_outbox()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert fire_due(now=FIRST_DUE) == 1  # exactly at the deadline

    message = "Inquiry still open after 4 working hours: Sofie Claes (Acme NV)"
    assert told() == [("inside", message)]
    note = Notification.objects.get(event_type="escalation.inquiry_open")
    [sent] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_OPEN)
    assert note.url == f"/inquiries/{inquiry.pk}/"
    assert note.source == f"escalation:{sent.pk}"
    assert note.rule is None
    assert (note.subject_type, note.subject_id) == ("intake.inquiry", inquiry.pk)
    assert note.emailed_at is not None
    # One e-mail, to the assignee only.
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["inside@leadflow.test"], f"Leadflow: {message}")
    ]
    # The escalation row: who, when.
    assert sent.status == EscalationStatus.SENT
    assert sent.key == "v2"
    assert sent.sent_at == FIRST_DUE
    assert sent.recipients == ["inside"]
    # The inquiry's timeline: who was told, why, by which rule.
    assert timeline_events(inquiry, "escalation.sent") == [
        {"kind": "inquiry_open", "to": "inside"}
    ]
    assert timeline_events(inquiry, "notification.sent") == [
        {"to": "inside", "why": "Inquiry still open"}
    ]
    # The manager step is armed for four more working hours.
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert (step.status, step.due_at, step.key) == (
        EscalationStatus.PENDING,
        MANAGER_DUE,
        "v2",
    )


def test_an_assignee_who_chose_the_daily_digest_gets_no_separate_email(
    personas, inside, django_capture_on_commit_callbacks
):
    escalation_settings(inquiry_after_hours=4)
    User.objects.filter(pk=inside.pk).update(email_digest=True)
    inquiry = register(inside)
    assign_inquiry(inquiry, actor=inside, assignee=inside)
    process_outbox()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fire_due(now=FIRST_DUE)
    assert [name for name, _message in told()] == ["inside"]
    assert mail.outbox == []


def test_an_unassigned_inquiry_reminds_everyone_in_inside_sales(
    personas, inside, django_capture_on_commit_callbacks
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=None)
    make_user("inside2", Role.INSIDE_SALES)
    make_user("inside_gone", Role.INSIDE_SALES, active=False)
    inquiry = register(inside)
    process_outbox()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fire_due(now=FIRST_DUE)
    message = "Inquiry still open after 4 working hours: Sofie Claes (Acme NV)"
    assert told() == [("inside", message), ("inside2", message)]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "inside2@leadflow.test",
        "inside@leadflow.test",
    ]
    [sent] = escalations_of(inquiry)
    assert sorted(sent.recipients) == ["inside", "inside2"]
    [audit] = timeline_events(inquiry, "escalation.sent")
    assert audit["kind"] == "inquiry_open"
    assert sorted(audit["to"].split(", ")) == ["inside", "inside2"]


def test_an_inactive_assignee_is_replaced_by_inside_sales(personas, inside, director):
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    assign_inquiry(inquiry, actor=inside, assignee=director)
    process_outbox()
    User.objects.filter(pk=director.pk).update(is_active=False)
    fire_due(now=FIRST_DUE)
    assert [name for name, _message in told()] == ["inside"]


def test_m_more_hours_later_the_team_manager_is_told(
    personas, inside, director, north_lead, django_capture_on_commit_callbacks
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    assign_inquiry(inquiry, actor=inside, assignee=inside)  # inside is in North
    process_outbox()
    fire_due(now=FIRST_DUE)
    assert fire_due(now=MANAGER_DUE - SECOND) == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert fire_due(now=MANAGER_DUE) == 1
    assert told(EscalationKind.INQUIRY_MANAGER) == [
        (
            "north_lead",
            "Escalated: inquiry still open after 8 working hours: Sofie Claes (Acme NV)",
        )
    ]
    assert [m.to for m in mail.outbox] == [["north_lead@leadflow.test"]]
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert (step.status, step.sent_at, step.recipients) == (
        EscalationStatus.SENT,
        MANAGER_DUE,
        ["north_lead"],
    )
    assert timeline_events(inquiry, "escalation.sent") == [
        {"kind": "inquiry_manager", "to": "north_lead"},
        {"kind": "inquiry_open", "to": "inside"},
    ]
    # Two steps, nothing more is armed.
    assert Escalation.objects.filter(status=EscalationStatus.PENDING).count() == 0
    assert fire_due(now=MANAGER_DUE + timedelta(days=30)) == 0


def test_without_an_assignee_or_team_manager_the_sales_directors_are_told(
    personas, inside, director
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    make_user("director2", Role.SALES_DIRECTOR)
    make_user("director_gone", Role.SALES_DIRECTOR, active=False)
    register(inside)  # nobody assigned
    process_outbox()
    fire_due(now=FIRST_DUE)
    fire_due(now=MANAGER_DUE)
    text = "Escalated: inquiry still open after 8 working hours: Sofie Claes (Acme NV)"
    assert told(EscalationKind.INQUIRY_MANAGER) == [
        ("director", text),
        ("director2", text),
    ]


def test_an_inactive_team_manager_is_replaced_by_the_sales_directors(
    personas, inside, director, north_lead
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    assign_inquiry(inquiry, actor=inside, assignee=inside)
    process_outbox()
    User.objects.filter(pk=north_lead.pk).update(is_active=False)
    fire_due(now=FIRST_DUE)
    fire_due(now=MANAGER_DUE)
    assert [n for n, _m in told(EscalationKind.INQUIRY_MANAGER)] == ["director"]


def test_the_message_names_the_hours_in_force_when_each_step_was_armed(
    personas, inside, director
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    # The admin changes the settings while the first step is pending.
    escalation_settings(inquiry_after_hours=6, manager_after_hours=6)
    fire_due(now=FIRST_DUE)
    # The manager step is armed with the new 6 hours: Tuesday 11:00 + 6 h = 17:00
    # CET = 16:00 UTC, 4 + 6 = 10 working hours after reception.
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert step.due_at == utc(2026, 11, 17, 16)
    fire_due(now=utc(2026, 11, 17, 16))
    assert told() == [
        (
            "director",
            "Escalated: inquiry still open after 10 working hours: Sofie Claes (Acme NV)",
        ),
        ("inside", "Inquiry still open after 4 working hours: Sofie Claes (Acme NV)"),
    ]


def test_empty_manager_hours_stop_after_the_assignee(personas, inside):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=None)
    inquiry = register(inside)
    process_outbox()
    fire_due(now=FIRST_DUE)
    assert [e.kind for e in escalations_of(inquiry)] == [EscalationKind.INQUIRY_OPEN]
    assert fire_due(now=FIRST_DUE + timedelta(days=30)) == 0


def test_the_manager_step_skips_the_night_and_the_weekend(personas, inside, director):
    # Received Friday 20 Nov 13:00 CET (12:00 UTC); 4 h → Friday 17:00 CET (16:00
    # UTC); 4 h more: 0.5 h on Friday, Monday 08:30 + 3.5 h = 12:00 CET = 11:00 UTC.
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside, received_at=utc(2026, 11, 20, 12))
    process_outbox()
    assert escalations_of(inquiry)[0].due_at == utc(2026, 11, 20, 16)
    fire_due(now=utc(2026, 11, 20, 16))
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert step.due_at == utc(2026, 11, 23, 11)


# --- cancelling ------------------------------------------------------------------------------


def test_closing_the_inquiry_cancels_the_pending_reminder(personas, inside):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="Spam")
    process_outbox()
    [cancelled] = escalations_of(inquiry)
    assert cancelled.status == EscalationStatus.CANCELLED
    assert cancelled.note == "closed"
    assert cancelled.cancelled_at is not None
    assert fire_due(now=MANAGER_DUE + timedelta(days=30)) == 0
    assert told() == []
    assert timeline_events(inquiry, "escalation.sent") == []


def test_closing_after_the_first_reminder_cancels_the_manager_step(
    personas, inside, rep
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    fire_due(now=FIRST_DUE)
    close_inquiry(inquiry, actor=inside, outcome="qualified", owner=rep)
    process_outbox()
    assert fire_due(now=MANAGER_DUE) == 0
    [step] = escalations_of(inquiry, kind=EscalationKind.INQUIRY_MANAGER)
    assert (step.status, step.note) == (EscalationStatus.CANCELLED, "closed")
    assert told(EscalationKind.INQUIRY_MANAGER) == []


def test_a_reminder_due_while_the_close_waits_in_the_outbox_is_cancelled(
    personas, inside
):
    """Closed, but the worker has not read the "closed" row yet when the sweep runs:
    the fire itself sees the closed inquiry."""
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    close_inquiry(inquiry, actor=inside, outcome="archived", reason="Spam")
    assert fire_due(now=FIRST_DUE) == 1
    [cancelled] = escalations_of(inquiry)
    assert (cancelled.status, cancelled.note) == (EscalationStatus.CANCELLED, "closed")
    assert told() == []


def _assign(inquiry: Inquiry, inside: User) -> None:
    assign_inquiry(inquiry, actor=inside, assignee=inside)


def _update(inquiry: Inquiry, inside: User) -> None:
    update_inquiry(
        inquiry,
        actor=inside,
        version=inquiry.version,
        summary="Asks for a quote for 40 office chairs",
    )


@pytest.mark.parametrize("change", [_assign, _update], ids=["assign", "update"])
def test_a_change_before_the_deadline_cancels_and_restarts_the_clock_from_it(
    personas, inside, change
):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    change(inquiry, inside)
    # The change was made on Tuesday at 10:00 CET (09:00 UTC), an hour before the
    # deadline; the new clock ends Tuesday 10:00 + 4 h = 14:00 CET = 13:00 UTC.
    set_updated_at(inquiry, utc(2026, 11, 17, 9))
    assert fire_due(now=FIRST_DUE) == 1
    first, again = escalations_of(inquiry)
    assert (first.status, first.note, first.key) == (
        EscalationStatus.CANCELLED,
        "changed",
        "v1",
    )
    assert (again.kind, again.status, again.key, again.due_at) == (
        EscalationKind.INQUIRY_OPEN,
        EscalationStatus.PENDING,
        "v2",
        utc(2026, 11, 17, 13),
    )
    assert told() == []
    assert fire_due(now=utc(2026, 11, 17, 13) - SECOND) == 0
    assert fire_due(now=utc(2026, 11, 17, 13)) == 1
    assert [name for name, _message in told()] == ["inside"]


def test_a_change_after_the_first_reminder_restarts_instead_of_escalating(
    personas, inside, north_lead
):
    """The assignee reacted to the reminder (edited the inquiry) before the manager
    step: the manager is not told; the clock starts again from the edit."""
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    assign_inquiry(inquiry, actor=inside, assignee=inside)
    process_outbox()
    fire_due(now=FIRST_DUE)
    inquiry.refresh_from_db()
    _update(inquiry, inside)
    # Edited Tuesday 12:00 CET (11:00 UTC): Tuesday 12:00 + 4 h = 16:00 CET.
    set_updated_at(inquiry, utc(2026, 11, 17, 11))
    fire_due(now=MANAGER_DUE)
    assert told(EscalationKind.INQUIRY_MANAGER) == []
    pending = escalations_of(inquiry, status=EscalationStatus.PENDING)
    assert [(e.kind, e.key, e.due_at) for e in pending] == [
        (EscalationKind.INQUIRY_OPEN, "v3", utc(2026, 11, 17, 15))
    ]


def test_a_change_after_the_deadline_does_not_cancel_the_reminder_already_due(
    personas, inside
):
    """Regression: any version change used to cancel the step, even one made after
    the deadline while the worker was down; the reminder already due was lost."""
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    assign_inquiry(inquiry, actor=inside, assignee=inside)
    # Assigned Tuesday 12:00 CET (11:00 UTC), an hour after the deadline, while the
    # worker was down; it catches up at 11:05 UTC.
    set_updated_at(inquiry, utc(2026, 11, 17, 11))
    fire_due(now=utc(2026, 11, 17, 11, 5))
    [first, *_rest] = escalations_of(inquiry)
    assert first.status == EscalationStatus.SENT
    assert [name for name, _message in told()] == ["inside"]


# --- exactly once -----------------------------------------------------------------------------


def test_running_the_sweep_twice_sends_nothing_twice(personas, inside, director):
    escalation_settings(inquiry_after_hours=4, manager_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    process_outbox()
    assert fire_due(now=FIRST_DUE) == 1
    assert fire_due(now=FIRST_DUE) == 0
    assert fire_due(now=MANAGER_DUE) == 1
    assert fire_due(now=MANAGER_DUE) == 0
    assert [name for name, _m in told()] == ["director", "inside"]
    for escalation in escalations_of(inquiry):
        assert fire(escalation.pk, now=MANAGER_DUE) == "gone"
    assert len(timeline_events(inquiry, "escalation.sent")) == 2


def test_a_failing_send_is_retried_by_the_next_sweep_and_sent_once(
    personas, inside, monkeypatch
):
    """The worker dies half-way through a send: nothing of it is kept, and the next
    run sends it once."""
    escalation_settings(inquiry_after_hours=4, manager_after_hours=None)
    make_user("inside2", Role.INSIDE_SALES)
    inquiry = register(inside)
    process_outbox()
    real_notify = escalations.notify
    calls = []

    def notify_then_crash(person, **kwargs):
        calls.append(person.username)
        if len(calls) == 2:
            raise ConnectionError("worker killed")
        return real_notify(person, **kwargs)

    monkeypatch.setattr(escalations, "notify", notify_then_crash)
    assert fire_due(now=FIRST_DUE) == 0
    assert told() == []  # the first notification was rolled back with the rest
    [armed] = escalations_of(inquiry)
    assert armed.status == EscalationStatus.PENDING
    monkeypatch.setattr(escalations, "notify", real_notify)
    assert fire_due(now=FIRST_DUE + timedelta(minutes=1)) == 1
    assert [name for name, _m in told()] == ["inside", "inside2"]
    assert len(timeline_events(inquiry, "escalation.sent")) == 1


def test_the_task_fires_a_due_escalation_once(personas, inside):
    escalation_settings(inquiry_after_hours=4)
    inquiry = register(inside)
    process_outbox()
    [armed] = escalations_of(inquiry)
    # The task uses the real clock, which is past the November 2026 deadline.
    assert timezone.now() > FIRST_DUE
    assert fire_escalation.enqueue(armed.pk).return_value == "sent"
    assert fire_escalation.enqueue(armed.pk).return_value == "gone"
    assert [name for name, _m in told()] == ["inside"]


# --- stale qualified leads ----------------------------------------------------------------------

QUIET_SINCE = utc(2026, 10, 1, 10)


def quiet_lead(
    actor, owner, *, since: datetime = QUIET_SINCE, stage: str = ""
) -> Opportunity:
    """An open lead nobody touched since ``since`` (in stage ``stage``)."""
    lead = make_lead(actor, owner=owner, title="Chairs for the new office")
    if stage:
        move_stage(lead, actor=actor, stage=stage, reason="Customer asked for a quote")
    Opportunity.objects.filter(pk=lead.pk).update(
        updated_at=since, stage_entered_at=since
    )
    return lead


def log_activity(lead, actor, *, at: datetime, done_at: datetime | None = None):
    activity = add_activity(
        lead, actor=actor, kind="call", subject="Called the buyer", assignee=actor
    )
    Activity.objects.filter(pk=activity.pk).update(created_at=at, done_at=done_at)
    return activity


def test_a_lead_quiet_for_its_stage_limit_reminds_the_owner_once(personas, inside, rep):
    lead = quiet_lead(inside, rep)  # stage "qualification": 14 days
    assert lead.stage.stale_after_days == 14
    # Exactly 14 days of silence is not yet "more than 14 days".
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=14)) == 0
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=14, minutes=1)) == 1
    assert told() == [
        (
            "rep",
            "No activity for 14 days in stage Qualification: Chairs for the new office",
        )
    ]
    note = Notification.objects.get(event_type="escalation.lead_stale")
    assert note.url == f"/opportunities/{lead.pk}/"
    [sent] = escalations_of(lead)
    assert (sent.kind, sent.status, sent.key, sent.due_at, sent.recipients) == (
        EscalationKind.LEAD_STALE,
        EscalationStatus.SENT,
        "2026-10-01T10:00:00+00:00",
        utc(2026, 10, 15, 10),
        ["rep"],
    )
    assert timeline_events(lead, "escalation.sent") == [
        {"kind": "lead_stale", "to": "rep"}
    ]
    # The same silence goes on: no second reminder.
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=15)) == 0
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=40)) == 0
    assert len(told()) == 1


def test_a_sweep_reminder_is_sent_at_the_sweeps_clock(personas, inside, rep):
    """Regression: sweep reminders were stamped with the real clock, not ``now=``."""
    quiet_lead(inside, rep)
    remind_stale_leads(now=utc(2026, 10, 15, 10, 1))
    [sent] = escalations_of()
    assert sent.sent_at == utc(2026, 10, 15, 10, 1)


def test_each_stage_has_its_own_limit(personas, inside, rep):
    early = quiet_lead(inside, rep)  # qualification: 14 days
    late = quiet_lead(inside, rep, stage="negotiation")  # negotiation: 7 days
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=8)) == 1
    assert [e.opportunity_id for e in escalations_of()] == [late.pk]
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=15)) == 1
    assert [e.opportunity_id for e in escalations_of()] == [late.pk, early.pk]
    assert told() == [
        (
            "rep",
            "No activity for 14 days in stage Qualification: Chairs for the new office",
        ),
        (
            "rep",
            "No activity for 7 days in stage Negotiation: Chairs for the new office",
        ),
    ]


def test_a_stage_without_a_limit_never_goes_stale(personas, inside, rep):
    Stage.objects.filter(code="qualification").update(stale_after_days=None)
    quiet_lead(inside, rep)
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=365)) == 0


def test_an_activity_restarts_the_silence(personas, inside, rep):
    lead = quiet_lead(inside, rep)
    log_activity(lead, rep, at=QUIET_SINCE + timedelta(days=5))
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=14, minutes=1)) == 0
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=19)) == 0
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=19, minutes=1)) == 1
    [sent] = escalations_of(lead)
    assert sent.due_at == utc(2026, 10, 20, 10)  # 6 Oct 10:00 + 14 days


def test_an_activity_done_later_counts_from_when_it_was_done(personas, inside, rep):
    lead = quiet_lead(inside, rep)
    log_activity(
        lead,
        rep,
        at=QUIET_SINCE + timedelta(days=1),
        done_at=QUIET_SINCE + timedelta(days=10),
    )
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=23)) == 0
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=24, minutes=1)) == 1
    assert escalations_of(lead)[0].due_at == utc(2026, 10, 25, 10)


def test_a_new_silence_after_activity_reminds_again(personas, inside, rep):
    lead = quiet_lead(inside, rep)
    remind_stale_leads(now=QUIET_SINCE + timedelta(days=15))
    log_activity(lead, rep, at=QUIET_SINCE + timedelta(days=20))
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=30)) == 0
    assert remind_stale_leads(now=QUIET_SINCE + timedelta(days=35)) == 1
    assert [e.due_at for e in escalations_of(lead)] == [
        utc(2026, 10, 15, 10),
        utc(2026, 11, 4, 10),  # 21 Oct + 14 days
    ]
    assert len(told()) == 2


def test_stale_reminders_skip_closed_leads_reach_a_stand_in_and_can_be_off(
    personas, inside, rep, outsider
):
    later = QUIET_SINCE + timedelta(days=15)
    quiet_lead(inside, outsider)
    # The owner has left and team South has no manager: the sales director hears it.
    User.objects.filter(pk=outsider.pk).update(is_active=False)
    won = quiet_lead(inside, rep)
    close_opportunity(won, actor=rep, result="won", reason="Signed")
    Opportunity.objects.filter(pk=won.pk).update(updated_at=QUIET_SINCE)
    assert remind_stale_leads(now=later) == 1
    assert [who for who, _message in told()] == ["director"]
    quiet_lead(inside, rep)
    escalation_settings(remind_stale_leads=False)
    assert remind_stale_leads(now=later) == 0
    escalation_settings(remind_stale_leads=True)
    assert remind_stale_leads(now=later) == 1


# --- overdue activities --------------------------------------------------------------------------

DUE = utc(2026, 11, 20, 9)  # Friday 20 November, 10:00 in Brussels


def call_due(lead, assignee, *, due_at: datetime = DUE) -> Activity:
    return add_activity(
        lead,
        actor=assignee,
        kind="call",
        subject="Call back about the chairs",
        assignee=assignee,
        due_at=due_at,
    )


def test_an_overdue_activity_reminds_its_assignee_once(personas, inside, rep):
    lead = make_lead(inside, owner=rep, title="Chairs for the new office")
    activity = call_due(lead, rep)
    assert remind_overdue_activities(now=DUE) == 0  # due now is not overdue yet
    assert remind_overdue_activities(now=DUE + timedelta(minutes=1)) == 1
    assert remind_overdue_activities(now=DUE + timedelta(hours=5)) == 0
    assert told() == [
        (
            "rep",
            "Activity overdue: Call back about the chairs · Chairs for the new office",
        )
    ]
    note = Notification.objects.get(event_type="escalation.activity_overdue")
    assert note.url == f"/opportunities/{lead.pk}/#activities"
    assert (note.subject_type, note.subject_id) == (
        "opportunities.opportunity",
        lead.pk,
    )
    [sent] = escalations_of(activity)
    assert (sent.kind, sent.target, sent.key, sent.due_at) == (
        EscalationKind.ACTIVITY_OVERDUE,
        f"activity:{activity.pk}",
        "2026-11-20T09:00:00+00:00",
        DUE,
    )
    assert timeline_events(lead, "escalation.sent") == [
        {"kind": "activity_overdue", "to": "rep"}
    ]


def test_a_new_due_date_arms_a_new_reminder(personas, inside, rep):
    lead = make_lead(inside, owner=rep)
    activity = call_due(lead, rep)
    remind_overdue_activities(now=DUE + timedelta(minutes=1))
    # Postponed to Monday 23 November 10:00 CET (there is no action for it yet: the
    # admin changes the row).
    Activity.objects.filter(pk=activity.pk).update(due_at=utc(2026, 11, 23, 9))
    assert remind_overdue_activities(now=utc(2026, 11, 23, 8)) == 0
    assert remind_overdue_activities(now=utc(2026, 11, 23, 9, 1)) == 1
    assert [e.due_at for e in escalations_of(activity)] == [
        DUE,
        utc(2026, 11, 23, 9),
    ]
    assert len(told()) == 2


def test_done_activities_and_closed_leads_are_left_alone_a_leaver_has_a_stand_in(
    personas, inside, rep, outsider
):
    after = DUE + timedelta(minutes=1)
    done = call_due(make_lead(inside, owner=rep), rep)
    set_activity_done(done, actor=rep, done=True)
    lost = make_lead(inside, owner=rep)
    call_due(lost, rep)
    close_opportunity(lost, actor=rep, result="lost", reason="Too expensive")
    call_due(make_lead(inside, owner=outsider), outsider)
    User.objects.filter(pk=outsider.pk).update(is_active=False)
    undated = make_lead(inside, owner=rep)
    add_activity(undated, actor=rep, kind="task", subject="Some day", assignee=rep)
    # Only the leaver's call: team South has no manager, so the director is told.
    assert remind_overdue_activities(now=after) == 1
    assert [who for who, _message in told()] == ["director"]


def test_only_the_last_seven_days_are_reminded(personas, inside, rep):
    lead = make_lead(inside, owner=rep)
    call_due(lead, rep)
    assert remind_overdue_activities(now=DUE + timedelta(days=7, seconds=1)) == 0
    assert remind_overdue_activities(now=DUE + timedelta(days=7)) == 1


def test_overdue_reminders_can_be_switched_off(personas, inside, rep):
    call_due(make_lead(inside, owner=rep), rep)
    escalation_settings(remind_overdue_activities=False)
    assert remind_overdue_activities(now=DUE + timedelta(minutes=1)) == 0


# --- leads parked in nurture --------------------------------------------------------------------

FOLLOW_UP_ON = date(2026, 12, 7)  # a Monday
# Midnight in Brussels (CET) at the start of 7 December is 23:00 UTC on the 6th.
FOLLOW_UP_DAY_STARTS = utc(2026, 12, 6, 23)


def parked_lead(actor, owner, **follow_up) -> Opportunity:
    lead = make_lead(actor, owner=owner, title="Chairs for the new office")
    follow_up.setdefault("follow_up_by", "sales")
    return close_opportunity(
        lead,
        actor=owner,
        result="nurture",
        reason="Budget next year",
        follow_up_on=follow_up.pop("follow_up_on", FOLLOW_UP_ON),
        **follow_up,
    )


def test_a_parked_lead_comes_back_to_the_named_person_on_its_date(
    personas, inside, rep
):
    make_user("inside2", Role.INSIDE_SALES)
    lead = parked_lead(inside, rep, follow_up_by="telemarketing", follow_up_user=inside)
    assert nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS - SECOND) == 0  # 23:59:59 CET
    assert nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS) == 1
    assert told() == [
        (
            "inside",
            "Follow-up due today for a lead in nurture: Chairs for the new office",
        )
    ]
    [sent] = escalations_of(lead)
    assert (sent.kind, sent.key, sent.recipients) == (
        EscalationKind.NURTURE_FOLLOW_UP,
        "2026-12-07",
        ["inside"],
    )
    assert timeline_events(lead, "escalation.sent") == [
        {"kind": "nurture_follow_up", "to": "inside"}
    ]
    # Hourly sweeps the rest of the day and the days after: once.
    assert nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS + timedelta(hours=1)) == 0
    assert nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS + timedelta(days=3)) == 0
    assert len(told()) == 1


@pytest.mark.parametrize(
    ("follow_up_by", "expected"),
    [
        ("marketing", ["marketer", "marketer2"]),
        ("telemarketing", ["inside", "inside2"]),
        ("sales", ["rep"]),
    ],
)
def test_without_a_named_person_the_team_follows_up(
    personas, inside, rep, follow_up_by, expected
):
    make_user("inside2", Role.INSIDE_SALES)
    make_user("marketer2", Role.MARKETING)
    make_user("marketer_gone", Role.MARKETING, active=False)
    parked_lead(inside, rep, follow_up_by=follow_up_by)
    assert nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS + timedelta(hours=9)) == 1
    assert [name for name, _m in told()] == expected


def test_the_follow_up_date_is_a_date_of_the_company_calendar(personas, inside, rep):
    WorkingCalendar.objects.create(time_zone="America/New_York")
    parked_lead(inside, rep)
    # 7 December starts at 00:00 EST = 05:00 UTC (in Brussels it began 6 hours
    # earlier).
    assert nurture_follow_ups(now=utc(2026, 12, 7, 4, 59)) == 0
    assert nurture_follow_ups(now=utc(2026, 12, 7, 5)) == 1


def test_a_named_person_who_left_is_replaced_by_the_team(
    personas, inside, rep, marketer
):
    parked_lead(inside, rep, follow_up_by="marketing", follow_up_user=inside)
    User.objects.filter(pk=inside.pk).update(is_active=False)
    nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS)
    assert [name for name, _m in told()] == ["marketer"]


def test_a_follow_up_date_more_than_a_month_ago_is_not_brought_back(
    personas, inside, rep
):
    parked_lead(inside, rep)
    # 7 Jan 2027 is 31 days after 7 Dec: still brought back; 8 Jan is not.
    assert nurture_follow_ups(now=utc(2027, 1, 8, 9)) == 0
    assert nurture_follow_ups(now=utc(2027, 1, 7, 9)) == 1


def test_a_lead_that_left_nurture_is_not_brought_back(personas, inside, rep):
    lead = parked_lead(inside, rep)
    Opportunity.objects.filter(pk=lead.pk).update(status="lost")
    assert nurture_follow_ups(now=FOLLOW_UP_DAY_STARTS) == 0


def test_closing_a_lead_is_all_or_nothing(personas, inside, rep, monkeypatch):
    """Regression: @transaction.atomic once decorated _follow_up_person instead of
    close_opportunity, so a failure after the save left a half-closed lead."""
    from leadflow.contacts import actions as contact_actions

    lead = make_lead(inside, owner=rep)

    def broken(*args, **kwargs):
        raise ConnectionError("marketing database unreachable")

    monkeypatch.setattr(contact_actions, "put_in_marketing_database", broken)
    with pytest.raises(ConnectionError):
        close_opportunity(
            lead,
            actor=rep,
            result="nurture",
            reason="Budget next year",
            follow_up_on=FOLLOW_UP_ON,
            follow_up_by="sales",
        )
    lead.refresh_from_db()
    assert lead.status == "open"
    assert lead.follow_up_on is None


# --- a stakeholder moved back on the buying clock ---------------------------------------------------


@pytest.fixture
def moved_back_rule(db):
    return NotificationRule.objects.create(
        name="Owner: a stakeholder moved back",
        event=RuleEvent.STAKEHOLDER_MOVED_BACK,
        notify_owner=True,
    )


def test_a_stakeholder_moved_back_notifies_the_owner_once(
    personas, inside, rep, moved_back_rule
):
    lead = make_lead(inside, owner=rep, title="Chairs for the new office")
    buyer = make_person()
    set_stakeholder(
        lead, actor=inside, contact=buyer, role="decision_maker", phase_number=3
    )
    process_outbox()
    assert not Notification.objects.filter(rule=moved_back_rule).exists()

    set_stakeholder(
        lead,
        actor=inside,
        contact=buyer,
        role="decision_maker",
        phase_number=1,
        note="New CFO restarts the evaluation",
    )
    process_outbox()
    process_outbox()
    [note] = Notification.objects.filter(rule=moved_back_rule)
    assert note.recipient == rep
    assert note.event_type == "stakeholder.moved_back"
    assert note.message == (
        f"Moved back on the buying clock ({buyer.name}: Exploring solutions → "
        "Satisfied / status quo): Chairs for the new office"
    )
    assert note.url == f"/opportunities/{lead.pk}/"
    # A worker that reads the row again sends nothing twice.
    StakeholderPhaseChange.objects.update(processed_at=None)
    process_outbox()
    assert Notification.objects.filter(rule=moved_back_rule).count() == 1
    # On the lead's timeline: the move back, and whom it was told to and why.
    assert {"to": "rep", "why": "Owner: a stakeholder moved back"} in timeline_events(
        lead, "notification.sent"
    )
    assert len(timeline_events(lead, "stakeholder.moved_back")) == 1


def test_the_owner_who_moved_the_stakeholder_back_is_not_told(
    personas, inside, rep, moved_back_rule
):
    lead = make_lead(inside, owner=rep)
    buyer = make_person()
    set_stakeholder(lead, actor=rep, contact=buyer, role="champion", phase_number=4)
    set_stakeholder(
        lead,
        actor=rep,
        contact=buyer,
        role="champion",
        phase_number=2,
        note="Budget frozen",
    )
    process_outbox()
    assert not Notification.objects.filter(rule=moved_back_rule).exists()
    assert StakeholderPhaseChange.objects.filter(processed_at__isnull=True).count() == 0
