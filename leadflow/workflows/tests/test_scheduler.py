"""The worker's clock: recurring jobs, the self-renewing tick chain, the commands, and
a real ``db_worker`` (django-tasks-db, batch mode) running the whole flow.

Times are written out by hand in UTC: the company's time zone is Europe/Brussels
(CET, +01:00; CEST, +02:00 from 29 March 2026 01:00 UTC to 25 October 2026 01:00 UTC).
"""

import importlib
import signal
import threading
import time as _time
from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadflow.core.models import WorkingCalendar
from leadflow.core.worktime import forget_calendar
from leadflow.intake.models import Channel
from leadflow.workflows import escalations, scheduler
from leadflow.workflows.actions import notify
from leadflow.workflows.models import (
    DeliveryStatus,
    Notification,
    NotificationRule,
    RuleEvent,
    ScheduledJob,
    SchedulerState,
    Webhook,
    WebhookDelivery,
)
from leadflow.workflows.scheduler import Job, job_named, run_due_jobs, start, tick
from leadflow.workflows.tasks import deliver_webhook
from leadflow.workflows.tests.test_webhooks import (
    SECRET,
    Receiver,
    make_delivery,
    register,
    signature_valid,
)

pytestmark = pytest.mark.django_db

WORKFLOW_JOBS = [
    "process_outbox",
    "fire_due_escalations",
    "retry_webhooks",
    "remind_overdue_activities",
    "remind_stale_leads",
    "nurture_follow_ups",
    "send_digests",
    "expire_quotes",
]
# Daily jobs wait for their time of day on a fresh install; the others run at once.
FIRST_RUN = [
    name for name in WORKFLOW_JOBS if name not in ("send_digests", "expire_quotes")
]
EVERY_MINUTE = ["process_outbox", "fire_due_escalations", "retry_webhooks"]
# What the workflow requirements schedule (other apps may add jobs of their own).
SCHEDULES = {
    "process_outbox": timedelta(minutes=1),
    "fire_due_escalations": timedelta(minutes=1),
    "retry_webhooks": timedelta(minutes=1),
    "remind_overdue_activities": timedelta(minutes=15),
    "remind_stale_leads": timedelta(hours=1),
    "nurture_follow_ups": timedelta(hours=1),
    "send_digests": time(7, 30),
    "expire_quotes": time(0, 30),
}
REAL_JOBS = list(scheduler.JOBS)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Friday 27 March 2026, 10:00 in Brussels (CET).
FRIDAY_10 = utc(2026, 3, 27, 9, 0)


@pytest.fixture(autouse=True)
def brussels(settings):
    """The company's calendar is Brussels time; nothing cached from other tests."""
    settings.TIME_ZONE = "Europe/Brussels"
    forget_calendar()
    yield
    forget_calendar()


@pytest.fixture(autouse=True)
def workflow_jobs(monkeypatch):
    """Only the workflow's own jobs (as configured), so the expected results and
    output do not change when another app schedules a job."""
    jobs = {job.name: job for job in REAL_JOBS}
    monkeypatch.setattr(scheduler, "JOBS", [jobs[name] for name in WORKFLOW_JOBS])


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def rows() -> dict[str, ScheduledJob]:
    return {row.name: row for row in ScheduledJob.objects.all()}


def set_next_run(name: str, when: datetime) -> None:
    ScheduledJob.objects.filter(name=name).update(next_run_at=when)


# --- when a job runs next ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "after", "expected"),
    [
        # every N: simply N later
        ("process_outbox", FRIDAY_10, utc(2026, 3, 27, 9, 1)),
        ("remind_overdue_activities", FRIDAY_10, utc(2026, 3, 27, 9, 15)),
        ("remind_stale_leads", FRIDAY_10, utc(2026, 3, 27, 10, 0)),
        # daily at 07:30 Brussels, the spring change weekend (Sun 29 March)
        ("send_digests", utc(2026, 3, 27, 6, 0), utc(2026, 3, 27, 6, 30)),
        ("send_digests", FRIDAY_10, utc(2026, 3, 28, 6, 30)),
        ("send_digests", utc(2026, 3, 28, 6, 30), utc(2026, 3, 29, 5, 30)),
        ("send_digests", utc(2026, 3, 28, 23, 59), utc(2026, 3, 29, 5, 30)),
        ("send_digests", utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 5, 30)),
        ("send_digests", utc(2026, 3, 29, 5, 30), utc(2026, 3, 30, 5, 30)),
        ("send_digests", utc(2026, 3, 29, 5, 29), utc(2026, 3, 29, 5, 30)),
        # the autumn change weekend (Sun 25 October), 02:00-03:00 happens twice
        ("send_digests", utc(2026, 10, 24, 5, 30), utc(2026, 10, 25, 6, 30)),
        ("send_digests", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 6, 30)),
        ("send_digests", utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 6, 30)),
        ("send_digests", utc(2026, 10, 25, 6, 30), utc(2026, 10, 26, 6, 30)),
        # daily at 00:30 Brussels
        ("expire_quotes", FRIDAY_10, utc(2026, 3, 27, 23, 30)),
        ("expire_quotes", utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 22, 30)),
        ("expire_quotes", utc(2026, 10, 24, 22, 30), utc(2026, 10, 25, 23, 30)),
    ],
)
def test_next_run(job, after, expected):
    assert job_named(job).next_run(after) == expected


def test_daily_jobs_follow_the_company_calendars_time_zone():
    WorkingCalendar.objects.create(time_zone="Europe/London")
    forget_calendar()
    digest = job_named("send_digests")
    # London: GMT until 29 March 01:00 UTC, then BST (+01:00).
    assert digest.next_run(utc(2026, 3, 27, 9, 0)) == utc(2026, 3, 28, 7, 30)
    assert digest.next_run(utc(2026, 3, 28, 7, 30)) == utc(2026, 3, 29, 6, 30)


def test_the_workflow_jobs_are_scheduled_as_required():
    jobs = {job.name: job for job in REAL_JOBS}
    assert set(SCHEDULES) <= set(jobs)
    for name, schedule in SCHEDULES.items():
        if isinstance(schedule, time):
            assert (jobs[name].every, jobs[name].daily_at) == (None, schedule), name
        else:
            assert (jobs[name].every, jobs[name].daily_at) == (schedule, None), name
    assert len(jobs) == len(REAL_JOBS)  # names are unique
    with pytest.raises(KeyError):
        job_named("nope")


def test_every_configured_job_runs_cleanly_on_an_empty_database(monkeypatch):
    """All jobs, other apps' included: none fails on a fresh install."""
    monkeypatch.setattr(scheduler, "JOBS", REAL_JOBS)
    results = run_due_jobs(now=timezone.now(), force=True)
    assert sorted(results) == sorted(job.name for job in REAL_JOBS)
    assert {row.name: row.last_error for row in ScheduledJob.objects.all()} == {
        job.name: "" for job in REAL_JOBS
    }


# --- run_due_jobs -----------------------------------------------------------------------


def test_the_first_run_runs_every_job_once_and_sets_each_next_run():
    assert run_due_jobs(now=FRIDAY_10) == {name: "0" for name in FIRST_RUN}
    jobs = rows()
    assert sorted(jobs) == sorted(WORKFLOW_JOBS)
    assert {name: row.next_run_at for name, row in jobs.items()} == {
        "process_outbox": utc(2026, 3, 27, 9, 1),
        "fire_due_escalations": utc(2026, 3, 27, 9, 1),
        "retry_webhooks": utc(2026, 3, 27, 9, 1),
        "remind_overdue_activities": utc(2026, 3, 27, 9, 15),
        "remind_stale_leads": utc(2026, 3, 27, 10, 0),
        "nurture_follow_ups": utc(2026, 3, 27, 10, 0),
        "send_digests": utc(2026, 3, 28, 6, 30),  # Saturday 07:30 CET
        "expire_quotes": utc(2026, 3, 27, 23, 30),  # Saturday 00:30 CET
    }
    for name in ("send_digests", "expire_quotes"):
        assert jobs[name].last_started_at is None  # waits for its time of day
    for row in (jobs[name] for name in FIRST_RUN):
        assert row.last_started_at == FRIDAY_10
        assert row.last_finished_at is not None
        assert row.last_result == "0"
        assert row.last_error == ""


def test_a_job_runs_once_per_slot():
    run_due_jobs(now=FRIDAY_10)
    assert run_due_jobs(now=FRIDAY_10) == {}
    assert run_due_jobs(now=FRIDAY_10 + timedelta(seconds=59)) == {}
    one_minute = FRIDAY_10 + timedelta(minutes=1)
    assert sorted(run_due_jobs(now=one_minute)) == sorted(EVERY_MINUTE)
    assert rows()["process_outbox"].next_run_at == utc(2026, 3, 27, 9, 2)
    assert rows()["remind_overdue_activities"].last_started_at == FRIDAY_10
    quarter = FRIDAY_10 + timedelta(minutes=15)
    assert sorted(run_due_jobs(now=quarter)) == sorted(
        [*EVERY_MINUTE, "remind_overdue_activities"]
    )


def test_a_late_worker_catches_up_with_one_run_not_one_per_missed_slot():
    run_due_jobs(now=FRIDAY_10)
    three_hours_later = FRIDAY_10 + timedelta(hours=3)
    results = run_due_jobs(now=three_hours_later)
    assert sorted(results) == sorted(
        [
            *EVERY_MINUTE,
            "remind_overdue_activities",
            "remind_stale_leads",
            "nurture_follow_ups",
        ]
    )
    assert run_due_jobs(now=three_hours_later) == {}
    assert rows()["process_outbox"].next_run_at == utc(2026, 3, 27, 12, 1)


def test_the_digest_runs_at_0730_brussels_time_over_the_spring_change():
    run_due_jobs(now=FRIDAY_10)
    saturday = utc(2026, 3, 28, 6, 30)  # 07:30 CET
    assert "send_digests" not in run_due_jobs(
        now=saturday - timedelta(seconds=1), only="send_digests"
    )
    assert run_due_jobs(now=saturday, only="send_digests") == {"send_digests": "0"}
    sunday = utc(2026, 3, 29, 5, 30)  # 07:30 CEST: 23 hours later
    assert rows()["send_digests"].next_run_at == sunday
    assert run_due_jobs(now=sunday - timedelta(minutes=1), only="send_digests") == {}
    assert run_due_jobs(now=sunday, only="send_digests") == {"send_digests": "0"}
    assert rows()["send_digests"].next_run_at == utc(2026, 3, 30, 5, 30)


def test_the_digest_runs_at_0730_brussels_time_over_the_autumn_change():
    run_due_jobs(now=utc(2026, 10, 24, 5, 30), only="send_digests")  # Sat 07:30 CEST
    sunday = utc(2026, 10, 25, 6, 30)  # 07:30 CET: 25 hours later
    assert rows()["send_digests"].next_run_at == sunday
    # 05:30 UTC on Sunday is 06:30 local: not yet.
    assert run_due_jobs(now=utc(2026, 10, 25, 5, 30), only="send_digests") == {}
    # A tick that comes a little late still runs it, and keeps the 07:30 rhythm.
    late = sunday + timedelta(seconds=20)
    assert run_due_jobs(now=late, only="send_digests") == {"send_digests": "0"}
    assert rows()["send_digests"].next_run_at == utc(2026, 10, 26, 6, 30)


def test_a_failing_job_records_its_error_and_the_others_still_run(monkeypatch):
    def fire_due(*, now=None):
        raise RuntimeError("calendar on fire")

    monkeypatch.setattr(escalations, "fire_due", fire_due)
    results = run_due_jobs(now=FRIDAY_10)
    assert results == {
        name: "error" if name == "fire_due_escalations" else "0" for name in FIRST_RUN
    }
    failed = rows()["fire_due_escalations"]
    assert failed.last_error == "RuntimeError: calendar on fire"
    assert failed.last_result == "error"
    assert failed.next_run_at == utc(2026, 3, 27, 9, 1)  # tried again next minute
    for name, row in rows().items():
        if name in FIRST_RUN and name != "fire_due_escalations":
            assert row.last_error == ""
            assert row.last_finished_at is not None

    monkeypatch.setattr(escalations, "fire_due", lambda *, now=None: 3)
    assert run_due_jobs(now=utc(2026, 3, 27, 9, 1))["fire_due_escalations"] == "3"
    fixed = rows()["fire_due_escalations"]
    assert (fixed.last_error, fixed.last_result) == ("", "3")


def test_force_runs_a_job_that_is_not_due(monkeypatch):
    run_due_jobs(now=FRIDAY_10)
    soon = FRIDAY_10 + timedelta(seconds=10)
    assert run_due_jobs(now=soon, only="send_digests") == {}
    assert run_due_jobs(now=soon, only="send_digests", force=True) == {
        "send_digests": "0"
    }
    assert rows()["send_digests"].last_started_at == soon
    assert rows()["send_digests"].next_run_at == utc(2026, 3, 28, 6, 30)


# Two workers at once (PostgreSQL): counted jobs, so each run is visible.
CALLS: list[str] = []
_calls_lock = threading.Lock()


def count_minutely(*, now=None) -> int:
    with _calls_lock:
        CALLS.append("minutely")
    _time.sleep(0.2)  # the other worker comes by while this one runs
    return 1


def count_daily(*, now=None) -> int:
    with _calls_lock:
        CALLS.append("daily")
    _time.sleep(0.2)
    return 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_run_each_slot_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")
    monkeypatch.setattr(
        scheduler,
        "JOBS",
        [
            Job("minutely", f"{__name__}.count_minutely", every=timedelta(minutes=1)),
            Job("daily", f"{__name__}.count_daily", daily_at=time(7, 30)),
        ],
    )
    CALLS.clear()
    errors: list[BaseException] = []

    def run_both(nows: list[datetime]) -> list[dict]:
        barrier = threading.Barrier(len(nows))
        results: list[dict] = []

        def worker(now):
            try:
                barrier.wait(timeout=10)
                results.append(run_due_jobs(now=now))
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in nows]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        return results

    # The very first run (rows created by both) and then a later slot, each worker
    # with its own clock.
    # The daily job waits for its time of day.
    run_both([FRIDAY_10, FRIDAY_10 + timedelta(milliseconds=300)])
    assert errors == []
    assert sorted(CALLS) == ["minutely"]
    assert ScheduledJob.objects.count() == 2
    CALLS.clear()
    saturday = utc(2026, 3, 28, 6, 30)
    run_both([saturday, saturday + timedelta(seconds=1)])
    assert errors == []
    assert sorted(CALLS) == ["daily", "minutely"]
    assert ScheduledJob.objects.get(name="daily").next_run_at == utc(2026, 3, 29, 5, 30)


# --- the tick chain -----------------------------------------------------------------------


def test_start_writes_a_token_and_the_first_tick_runs_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        token = start()
        assert not ScheduledJob.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1
    state = SchedulerState.objects.get()
    assert state.token == token
    assert timezone.now() - state.heartbeat_at < timedelta(seconds=5)
    # The tests' immediate backend ran the tick: every job ran once.
    assert sorted(rows()) == sorted(WORKFLOW_JOBS)
    assert all(rows()[name].last_finished_at is not None for name in FIRST_RUN)


def test_a_tick_of_a_superseded_chain_stops():
    old = start()
    new = start()
    assert old != new
    assert SchedulerState.objects.count() == 1
    beat = SchedulerState.objects.get().heartbeat_at

    assert tick(old) == "superseded"
    assert not ScheduledJob.objects.exists()  # it ran nothing
    assert SchedulerState.objects.get().heartbeat_at == beat

    assert tick(new) == ", ".join(f"{name}=0" for name in FIRST_RUN)
    assert SchedulerState.objects.get().heartbeat_at > beat
    assert tick(new) == "nothing due"


def test_start_if_stale_leaves_a_live_chain_alone():
    first = start(if_stale=True)  # nothing yet: it starts
    assert first is not None
    assert start(if_stale=True) is None
    SchedulerState.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=4))
    assert start(if_stale=True) is None
    assert SchedulerState.objects.get().token == first
    SchedulerState.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    second = start(if_stale=True)
    assert second not in (None, first)
    state = SchedulerState.objects.get()
    assert state.token == second
    assert timezone.now() - state.heartbeat_at < timedelta(seconds=5)
    assert start() not in (None, second)  # without if_stale it always starts


def test_status_tells_whether_the_chain_is_alive():
    assert scheduler.status()["alive"] is False
    start()
    assert scheduler.status()["alive"] is True
    SchedulerState.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    assert scheduler.status()["alive"] is False


# --- the commands -------------------------------------------------------------------------


def command(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_start_scheduler_starts_a_chain_and_says_so():
    output = command("start_scheduler")
    token = SchedulerState.objects.get().token
    assert output == f"Scheduler started ({token[:8]}); db_worker runs it.\n"


def test_start_scheduler_if_stale_does_nothing_while_the_heartbeat_is_fresh():
    command("start_scheduler")
    token = SchedulerState.objects.get().token
    output = command("start_scheduler", "--if-stale")
    assert output == "The scheduler is alive; nothing to do.\n"
    assert SchedulerState.objects.get().token == token
    SchedulerState.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    output = command("start_scheduler", "--if-stale")
    new = SchedulerState.objects.get().token
    assert new != token
    assert output == f"Scheduler started ({new[:8]}); db_worker runs it.\n"


def test_run_jobs_runs_what_is_due_and_says_what_it_did():
    output = command("run_jobs")
    assert output == "".join(f"{name}: 0\n" for name in FIRST_RUN)
    assert command("run_jobs") == "Nothing was due.\n"


def test_run_jobs_one_job(inside, director):
    rule = NotificationRule.objects.create(
        name="Every inquiry", event=RuleEvent.INQUIRY_REGISTERED
    )
    rule.recipient_users.set([director])
    register(inside)
    assert command("run_jobs", "--job", "process_outbox") == "process_outbox: 1\n"
    assert Notification.objects.filter(recipient=director).count() == 1
    assert sorted(rows()) == sorted(WORKFLOW_JOBS)
    ran = [name for name, row in rows().items() if row.last_started_at is not None]
    assert ran == ["process_outbox"]
    # Not due again yet; --force runs it anyway.
    assert command("run_jobs", "--job", "process_outbox") == "Nothing was due.\n"
    assert command("run_jobs", "--job", "process_outbox", "--force") == (
        "process_outbox: 0\n"
    )


def test_run_jobs_delivers_due_webhooks(receiver):
    hook = Webhook.objects.create(name="ERP", url=receiver.url, secret=SECRET)
    delivery = make_delivery(hook)
    assert command("run_jobs", "--job", "retry_webhooks") == "retry_webhooks: 1\n"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.posts) == 1


def test_run_jobs_rejects_an_unknown_job():
    with pytest.raises(CommandError) as caught:
        call_command("run_jobs", "--job", "make_coffee", stdout=StringIO())
    assert str(caught.value) == (
        "Unknown job 'make_coffee'. Known: " + ", ".join(WORKFLOW_JOBS)
    )
    assert not ScheduledJob.objects.exists()


def test_run_jobs_lists_the_jobs():
    lines = command("run_jobs", "--list").splitlines()
    assert [line.split()[0] for line in lines] == WORKFLOW_JOBS
    by_name = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines}
    assert by_name["send_digests"] == "daily at 07:30"
    assert by_name["expire_quotes"] == "daily at 00:30"
    assert not ScheduledJob.objects.exists()  # listing runs nothing


# --- a real worker: django-tasks-db, db_worker in batch mode --------------------------------

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def db_tasks(transactional_db):
    """The production task backend, with committed data the worker can read."""
    if not Channel.objects.exists():  # flushed by an earlier transactional test
        importlib.import_module("leadflow.intake.migrations.0003_default_channels").add(
            django_apps, None
        )
    with override_settings(TASKS=DB_TASKS):
        yield


def run_worker() -> None:
    """Run what is due, then stop (the worker installs signal handlers: put pytest's
    back afterwards)."""
    handlers = {
        s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    }
    try:
        call_command(
            "db_worker",
            batch=True,
            startup_delay=False,
            reload=False,
            verbosity=0,
            stdout=StringIO(),
        )
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)


def tasks(name: str, status: str | None = None):
    qs = DBTaskResult.objects.filter(task_path=f"leadflow.workflows.tasks.{name}")
    return qs.filter(status=status) if status else qs


def test_the_worker_delivers_a_registered_inquirys_notification_and_webhook(
    db_tasks, receiver, personas
):
    inside, director = personas["inside"], personas["director"]
    rule = NotificationRule.objects.create(
        name="Every inquiry", event=RuleEvent.INQUIRY_REGISTERED
    )
    rule.recipient_users.set([director])
    Webhook.objects.create(name="ERP", url=receiver.url, secret=SECRET)

    inquiry = register(inside, "Sofie Claes", "Acme NV")  # commits: wakes the outbox
    assert tasks("process_outbox", "READY").count() == 1
    assert not Notification.objects.exists()
    assert receiver.requests == []

    run_worker()

    n = Notification.objects.get()
    assert (n.recipient, n.rule, n.subject_id) == (director, rule, inquiry.pk)
    assert n.message == "New inquiry from Sofie Claes (Acme NV)"
    assert n.emailed_at is not None
    [message] = mail.outbox
    assert message.to == ["director@leadflow.test"]
    assert message.subject == "Leadflow: New inquiry from Sofie Claes (Acme NV)"
    [post] = receiver.posts
    assert signature_valid(post)
    assert post.json["type"] == "inquiry.registered"
    assert post.json["subject"]["id"] == inquiry.pk
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    for name in ("process_outbox", "email_notification", "deliver_webhook"):
        assert tasks(name, "SUCCESSFUL").count() == 1, name
    # The open-inquiry escalation waits for its deadline (a delayed task).
    [escalation] = tasks("fire_escalation")
    assert escalation.status == "READY"
    assert escalation.run_after > timezone.now()

    # The worker running again (a restart, a second worker) sends nothing twice.
    run_worker()
    assert len(mail.outbox) == 1
    assert len(receiver.posts) == 1
    assert Notification.objects.count() == 1


def test_a_delayed_task_runs_only_when_due(db_tasks, receiver):
    receiver.script(500, 200)
    hook = Webhook.objects.create(name="ERP", url=receiver.url, secret=SECRET)
    delivery = make_delivery(hook)
    deliver_webhook.enqueue(delivery.pk)
    run_worker()
    # The first attempt failed; the retry is a task delayed by the back-off.
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    [retry] = tasks("deliver_webhook", "READY")
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    assert retry.run_after == delivery.next_attempt_at
    assert (
        timedelta(seconds=50) < retry.run_after - timezone.now() <= timedelta(minutes=1)
    )

    run_worker()  # not due: nothing happens
    assert len(receiver.posts) == 1
    assert tasks("deliver_webhook", "READY").count() == 1

    # A minute passes.
    past = timezone.now() - timedelta(seconds=1)
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=past)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=past)
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [p.headers["x-leadflow-attempt"] for p in receiver.posts] == ["1", "2"]
    assert not tasks("deliver_webhook", "READY").exists()


def test_a_task_delayed_into_the_past_runs_at_once(db_tasks, receiver):
    hook = Webhook.objects.create(name="ERP", url=receiver.url, secret=SECRET)
    due = make_delivery(hook, 1)
    later = make_delivery(hook, 2)
    deliver_webhook.using(run_after=timezone.now() - timedelta(minutes=1)).enqueue(
        due.pk
    )
    deliver_webhook.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(
        later.pk
    )
    run_worker()
    assert [int(p.headers["x-leadflow-delivery"]) for p in receiver.posts] == [due.pk]
    assert tasks("deliver_webhook", "READY").count() == 1


def test_the_scheduler_chain_runs_jobs_and_renews_itself(db_tasks, receiver):
    output = StringIO()
    call_command("start_scheduler", stdout=output)
    token = SchedulerState.objects.get().token
    [first] = tasks("scheduler_tick")
    assert first.status == "READY"
    assert first.args_kwargs == {"args": [token], "kwargs": {}}

    started = timezone.now()
    run_worker()
    first.refresh_from_db()
    assert first.status == "SUCCESSFUL"
    assert first.return_value == ", ".join(f"{name}=0" for name in FIRST_RUN)
    assert sorted(rows()) == sorted(WORKFLOW_JOBS)
    assert all(rows()[name].last_finished_at is not None for name in FIRST_RUN)
    # The next tick is queued 30 seconds on, with the same token.
    [following] = tasks("scheduler_tick", "READY")
    assert following.args_kwargs == {"args": [token], "kwargs": {}}
    assert (
        started + timedelta(seconds=30)
        <= following.run_after
        <= timezone.now() + timedelta(seconds=30)
    )
    run_worker()  # not due yet
    assert tasks("scheduler_tick", "READY").get() == following

    # 30 seconds on, a webhook delivery is waiting and its sweep is due.
    hook = Webhook.objects.create(name="ERP", url=receiver.url, secret=SECRET)
    delivery = make_delivery(hook)
    past = timezone.now() - timedelta(seconds=1)
    DBTaskResult.objects.filter(pk=following.pk).update(run_after=past)
    set_next_run("retry_webhooks", past)
    run_worker()
    following.refresh_from_db()
    assert following.return_value == "retry_webhooks=1"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.posts) == 1
    [third] = tasks("scheduler_tick", "READY")
    assert third.args_kwargs == {"args": [token], "kwargs": {}}

    # A restart starts a new chain: the old one stops at its next tick.
    call_command("start_scheduler", stdout=output)
    new_token = SchedulerState.objects.get().token
    DBTaskResult.objects.filter(pk=third.pk).update(
        run_after=timezone.now() - timedelta(seconds=1)
    )
    run_worker()
    third.refresh_from_db()
    assert third.return_value == "superseded"
    [alive] = tasks("scheduler_tick", "READY")
    assert alive.args_kwargs == {"args": [new_token], "kwargs": {}}
    assert SchedulerState.objects.count() == 1


def test_the_worker_runs_the_digest_job_when_its_time_comes(db_tasks, personas):
    director = personas["director"]
    director.email_digest = True
    director.save(update_fields=["email_digest"])
    start()
    run_worker()  # the first tick: nothing to digest yet
    [tick_task] = tasks("scheduler_tick", "READY")
    notify(director, actor=None, event_type="test", message="Call Acme back")
    run_worker()  # the next tick is not due: no mail
    assert mail.outbox == []

    # 07:30 has come, and so has the next tick.
    past = timezone.now() - timedelta(seconds=1)
    DBTaskResult.objects.filter(pk=tick_task.pk).update(run_after=past)
    set_next_run("send_digests", past)
    run_worker()
    [message] = mail.outbox
    assert message.to == ["director@leadflow.test"]
    assert message.subject == "Leadflow: 1 notification"
    assert "Call Acme back" in message.body
    assert rows()["send_digests"].last_result == "1"
    run_worker()
    assert len(mail.outbox) == 1


# --- pruning finished task results ---------------------------------------------------------


def _task_row(status: str, finished_at):
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.create(
        status=status,
        finished_at=finished_at,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="leadflow.workflows.tasks.process_outbox",
        queue_name="default",
        backend_name="default",
        priority=0,
    )


def test_finished_task_results_older_than_a_week_are_pruned():
    from django_tasks_db.models import DBTaskResult

    now = FRIDAY_10
    old = _task_row("SUCCESSFUL", now - timedelta(days=7, seconds=1))
    failed_old = _task_row("FAILED", now - timedelta(days=8))
    recent = _task_row("SUCCESSFUL", now - timedelta(days=6, hours=23))
    waiting = _task_row("READY", None)
    assert scheduler.run_prune_task_results(now=now) == 2
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {recent.pk, waiting.pk}
    assert old.pk not in left and failed_old.pk not in left
