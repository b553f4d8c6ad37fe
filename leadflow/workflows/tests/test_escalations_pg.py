"""Escalations with two workers at once, on PostgreSQL (real concurrent transactions
and row locks; skipped on SQLite).

Each worker is a thread with its own database connection; a barrier starts them
together. The clock is the ``now=`` the sweeps accept (see test_escalations.py for
the hand-computed deadlines used here).
"""

import importlib
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.db import connection, transaction

from leadflow.accounts.models import Role, User
from leadflow.audit.models import AuditEvent
from leadflow.intake.actions import assign_inquiry
from leadflow.intake.models import Channel
from leadflow.intake.tests.factories import make_inquiry
from leadflow.opportunities.actions import add_activity, close_opportunity
from leadflow.opportunities.models import Activity, Opportunity, Stage
from leadflow.opportunities.tests.pipeline_factories import make_lead
from leadflow.workflows.escalations import (
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
)
from leadflow.workflows.outbox import process_outbox

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs real concurrent transactions and row locks (PostgreSQL)",
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Monday 16 Nov 2026 16:00 CET; + 4 working hours = Tuesday 11:00 CET (10:00 UTC);
# + 4 more = Tuesday 15:00 CET (14:00 UTC).
RECEIVED = utc(2026, 11, 16, 15)
FIRST_DUE = utc(2026, 11, 17, 10)
MANAGER_DUE = utc(2026, 11, 17, 14)


@pytest.fixture
def reference_data():
    """An earlier transactional test may have flushed the migrations' rows."""
    if not Channel.objects.exists():
        importlib.import_module("leadflow.intake.migrations.0003_default_channels").add(
            django_apps, None
        )
    if not Stage.objects.exists():
        importlib.import_module(
            "leadflow.opportunities.migrations.0002_default_stages"
        ).add(django_apps, None)
        importlib.import_module(
            "leadflow.opportunities.migrations.0006_workflow_fields"
        ).default_stale_limits(django_apps, None)


def run_together(job: Callable[[], object], workers: int = 2) -> list[object]:
    """Run ``job`` in ``workers`` threads started at the same moment."""
    barrier = threading.Barrier(workers)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(job())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == workers
    return results


def notifications_per_source() -> Counter:
    return Counter(
        Notification.objects.filter(event_type__startswith="escalation.").values_list(
            "source", "recipient__username"
        )
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_arm_each_inquiry_once_and_send_each_step_exactly_once(
    reference_data, personas, teams, settings
):
    settings.LEADFLOW_OUTBOX_TASK = ""  # no after-commit run: the workers do it
    inside = personas["inside"]
    north_lead = User.objects.create(
        username="north_lead",
        email="north_lead@leadflow.test",
        role=Role.SALES,
        team=teams["North"],
    )
    teams["North"].manager = north_lead
    teams["North"].save()
    EscalationSettings.objects.create(inquiry_after_hours=4, manager_after_hours=4)
    inquiries = [
        make_inquiry(inside, name=f"Person {n}", received_at=RECEIVED)
        for n in range(30)
    ]
    assigned = inquiries[:10]
    for inquiry in assigned:
        assign_inquiry(inquiry, actor=inside, assignee=inside)
    mail.outbox.clear()

    # Arming: both workers read the outbox at once.
    handled = run_together(process_outbox)
    assert sum(handled) == 30  # every registration row claimed by one worker
    assert Escalation.objects.count() == 30
    assert set(Escalation.objects.values_list("due_at", flat=True)) == {FIRST_DUE}

    # First step: both sweeps at the deadline.
    done = run_together(lambda: fire_due(now=FIRST_DUE))
    assert sum(done) == 30
    sent = Escalation.objects.filter(kind=EscalationKind.INQUIRY_OPEN)
    assert set(sent.values_list("status", flat=True)) == {EscalationStatus.SENT}
    # Every inquiry (assigned or not) reminds inside, the only one in inside sales.
    per_source = notifications_per_source()
    assert len(per_source) == 30
    assert set(per_source.values()) == {1}
    assert {who for _source, who in per_source} == {"inside"}
    # 30 manager steps armed, once each.
    steps = Escalation.objects.filter(kind=EscalationKind.INQUIRY_MANAGER)
    assert steps.count() == 30
    assert set(steps.values_list("due_at", flat=True)) == {MANAGER_DUE}

    # Second step: both sweeps again, a little apart.
    done = run_together(lambda: fire_due(now=MANAGER_DUE + timedelta(seconds=1)))
    assert sum(done) == 30
    per_source = notifications_per_source()
    assert len(per_source) == 60
    assert set(per_source.values()) == {1}
    managers = Counter(
        Notification.objects.filter(
            event_type="escalation.inquiry_manager"
        ).values_list("recipient__username", flat=True)
    )
    # Assigned to inside (team North): the team lead; unassigned: the director.
    assert managers == {"north_lead": 10, "director": 20}
    assert AuditEvent.objects.filter(event_type="escalation.sent").count() == 60
    # One e-mail per notification: the after-commit hooks ran once per send.
    assert len(mail.outbox) == 60
    assert Escalation.objects.filter(status=EscalationStatus.PENDING).count() == 0
    assert run_together(lambda: fire_due(now=MANAGER_DUE + timedelta(days=1))) == [
        0,
        0,
    ]


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_reminder_exactly_once(reference_data, personas):
    inside, rep = personas["inside"], personas["rep"]
    quiet_since = utc(2026, 10, 1, 10)
    due = utc(2026, 11, 20, 9)  # Friday 20 Nov, 10:00 CET
    for n in range(8):
        with transaction.atomic():
            quiet = make_lead(inside, owner=rep, title=f"Quiet lead {n}")
            busy = make_lead(inside, owner=rep, title=f"Busy lead {n}")
            activity = add_activity(
                busy,
                actor=rep,
                kind="call",
                subject=f"Call {n}",
                assignee=rep,
                due_at=due,
            )
            # Quiet since 1 Oct; the busy lead was last touched when its call was
            # planned, on 20 Nov.
            Opportunity.objects.filter(pk=quiet.pk).update(
                updated_at=quiet_since, stage_entered_at=quiet_since
            )
            Opportunity.objects.filter(pk=busy.pk).update(
                updated_at=due, stage_entered_at=due
            )
            Activity.objects.filter(pk=activity.pk).update(created_at=due)
            parked = make_lead(inside, owner=rep, title=f"Parked lead {n}")
            close_opportunity(
                parked,
                actor=rep,
                result="nurture",
                reason="Budget next year",
                follow_up_on=date(2026, 12, 7),
                follow_up_by="marketing",
            )

    # Five minutes after the calls were due: each call reminded once.
    sent = run_together(
        lambda: remind_overdue_activities(now=due + timedelta(minutes=5))
    )
    assert sum(sent) == 8
    # Monday 7 Dec 10:00 CET: the quiet leads (67 days) and the busy ones (17 days)
    # are past the 14 days of "qualification"; the parked leads are due today.
    now = utc(2026, 12, 7, 9)
    assert sum(run_together(lambda: remind_stale_leads(now=now))) == 16
    assert sum(run_together(lambda: nurture_follow_ups(now=now))) == 8

    kinds = Counter(Escalation.objects.values_list("kind", flat=True))
    assert kinds == {
        EscalationKind.ACTIVITY_OVERDUE: 8,
        EscalationKind.LEAD_STALE: 16,
        EscalationKind.NURTURE_FOLLOW_UP: 8,
    }
    assert set(Escalation.objects.values_list("status", flat=True)) == {
        EscalationStatus.SENT
    }
    per_source = notifications_per_source()
    assert set(per_source.values()) == {1}
    assert Counter(who for _source, who in per_source) == {"rep": 24, "marketer": 8}
    assert AuditEvent.objects.filter(event_type="escalation.sent").count() == 32


@pytest.mark.django_db(transaction=True)
def test_closing_a_lead_outside_a_transaction_works(reference_data, personas):
    """Regression: close_opportunity lost its @transaction.atomic; a view or API
    request (no ATOMIC_REQUESTS) then failed in select_for_update on PostgreSQL."""
    with transaction.atomic():
        lead = make_lead(personas["inside"], owner=personas["rep"])
    closed = close_opportunity(
        lead,
        actor=personas["rep"],
        result="nurture",
        reason="Budget next year",
        follow_up_on=date(2026, 12, 7),
        follow_up_by="sales",
        follow_up_user=personas["inside"],
    )
    assert closed.status == "nurture"
    assert Opportunity.objects.get(pk=lead.pk).follow_up_user == personas["inside"]
