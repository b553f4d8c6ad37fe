"""The worker's clock: recurring jobs run by a self-renewing ``scheduler_tick`` task.

``manage.py start_scheduler`` writes a fresh token and enqueues the first tick; each
tick beats the heartbeat only while its token is current, runs the jobs that are due
(each claimed by a conditional UPDATE of ``next_run_at``, so several workers never run
one slot twice) and enqueues the next tick ``TICK`` later with ``run_after``. A restart
of the scheduler makes older chains stop at their next tick. Deployments without a
long-running worker can call ``manage.py run_jobs`` from cron instead.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from leadflow.workflows.models import ScheduledJob, SchedulerState

logger = logging.getLogger(__name__)

TICK = timedelta(seconds=30)
# A heartbeat older than this means the chain died (e.g. the worker was killed
# mid-tick): ``start_scheduler --if-stale`` then starts a new one.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    name: str
    func: str  # dotted path of a function taking ``now=``
    every: timedelta | None = None
    daily_at: time | None = None  # local time of the company calendar

    def next_run(self, after: datetime) -> datetime:
        if self.every is not None:
            return after + self.every
        from leadflow.core.worktime import current_calendar

        tz = current_calendar().tz
        local = timezone.localtime(after, tz)
        candidate = timezone.make_aware(
            datetime.combine(local.date(), self.daily_at), tz
        )
        if candidate <= after:
            candidate = timezone.make_aware(
                datetime.combine(local.date() + timedelta(days=1), self.daily_at), tz
            )
        return candidate


JOBS: list[Job] = [
    # Safety nets: the outbox is woken on every commit and deadlines have their own
    # delayed task; the sweeps catch whatever a lost wake-up or task left behind.
    Job(
        "process_outbox",
        "leadflow.workflows.scheduler.run_outbox",
        every=timedelta(minutes=1),
    ),
    Job(
        "fire_due_escalations",
        "leadflow.workflows.escalations.fire_due",
        every=timedelta(minutes=1),
    ),
    Job(
        "retry_webhooks",
        "leadflow.workflows.webhooks.retry_due",
        every=timedelta(minutes=1),
    ),
    Job(
        "resend_unsent_emails",
        "leadflow.workflows.digest.resend_unsent",
        every=timedelta(minutes=5),
    ),
    Job(
        "remind_overdue_activities",
        "leadflow.workflows.escalations.remind_overdue_activities",
        every=timedelta(minutes=15),
    ),
    Job(
        "remind_stale_leads",
        "leadflow.workflows.escalations.remind_stale_leads",
        every=timedelta(hours=1),
    ),
    Job(
        "nurture_follow_ups",
        "leadflow.workflows.escalations.nurture_follow_ups",
        every=timedelta(hours=1),
    ),
    # E-mail intake (issue 6): the sales mailbox over IMAP; off without LEADFLOW_IMAP_HOST.
    Job(
        "poll_mailbox",
        "leadflow.intake.imap.run_scheduled",
        every=timedelta(minutes=2),
    ),
    Job("send_digests", "leadflow.workflows.digest.send_digests", daily_at=time(7, 30)),
    Job(
        "expire_quotes",
        "leadflow.workflows.scheduler.run_expire_quotes",
        daily_at=time(0, 30),
    ),
    Job(
        "prune_task_results",
        "leadflow.workflows.scheduler.run_prune_task_results",
        daily_at=time(3, 0),
    ),
    Job(
        "prune_idempotency_keys", "leadflow.api.idempotency.prune", daily_at=time(3, 30)
    ),
    Job(
        "forecast_snapshot",
        "leadflow.analytics.actions.take_scheduled_snapshot",
        daily_at=time(6, 0),
    ),
    # Slow analyses: the default view of each report recomputed in the background.
    Job(
        "refresh_analytics",
        "leadflow.analytics.cache.refresh_defaults",
        every=timedelta(minutes=10),
    ),
    # Retrains the learned win probability on Sundays, rescores open leads daily.
    Job(
        "train_win_model",
        "leadflow.analytics.winprob.run_scheduled",
        daily_at=time(4, 0),
    ),
]


def run_outbox(*, now: datetime | None = None) -> int:
    from leadflow.workflows.outbox import process_outbox

    return process_outbox()


def run_expire_quotes(*, now: datetime | None = None) -> int:
    from leadflow.opportunities.actions import expire_due_quotes

    today = timezone.localdate(now) if now else None
    return expire_due_quotes(today=today)


# Finished task rows are kept this long (the tick alone finishes ~2,900 a day).
TASK_RESULTS_KEPT = timedelta(days=7)


def run_prune_task_results(*, now: datetime | None = None) -> int:
    """Delete finished task results older than a week (what ``prune_db_task_results``
    does, without its backend check so it also runs where tasks run immediately)."""
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - TASK_RESULTS_KEPT
    deleted, _by_model = (
        DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    )
    return deleted


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)


def _rows(now: datetime) -> dict[str, ScheduledJob]:
    rows = {row.name: row for row in ScheduledJob.objects.all()}
    for job in JOBS:
        if job.name not in rows:
            # A recurring job starts now; a daily one waits for its time of day
            # (no digest at three in the afternoon because the scheduler started then).
            first = now if job.every is not None else job.next_run(now)
            row, _created = ScheduledJob.objects.get_or_create(
                name=job.name, defaults={"next_run_at": first}
            )
            rows[job.name] = row
    return rows


def run_job(job: Job, row: ScheduledJob, now: datetime, *, force: bool = False) -> str:
    """Claim the job's slot and run it; returns its result text ("" when not run)."""
    if not force and row.next_run_at > now:
        return ""
    claimed = ScheduledJob.objects.filter(
        pk=row.pk, next_run_at=row.next_run_at
    ).update(next_run_at=job.next_run(now), last_started_at=now)
    if not claimed:
        return ""  # another worker took this slot
    try:
        result = import_string(job.func)(now=now)
        text, error = f"{result}", ""
    except Exception as exc:  # one failing job must not stop the others
        logger.exception("scheduled job %s failed", job.name)
        text, error = "error", f"{exc.__class__.__name__}: {exc}"[:2000]
    ScheduledJob.objects.filter(pk=row.pk).update(
        last_finished_at=timezone.now(), last_result=text[:300], last_error=error
    )
    return text


def run_due_jobs(
    *, now: datetime | None = None, only: str | None = None, force: bool = False
) -> dict[str, str]:
    now = now or timezone.now()
    results: dict[str, str] = {}
    rows = _rows(now)
    for job in JOBS:
        if only and job.name != only:
            continue
        text = run_job(job, rows[job.name], now, force=force)
        if text:
            results[job.name] = text
    return results


# --- the self-renewing chain ----------------------------------------------------------------


def start(*, if_stale: bool = False) -> str | None:
    """Start a scheduler chain (a new token; older chains stop). With ``if_stale``,
    only when no chain has beaten for STALE_AFTER. Returns the token, or None."""
    now = timezone.now()
    # One row (pk 1), created race-free before it is locked.
    SchedulerState.objects.get_or_create(pk=1, defaults={"token": ""})
    with transaction.atomic():
        state = SchedulerState.objects.select_for_update().get(pk=1)
        if (
            if_stale
            and state.token
            and state.heartbeat_at is not None
            and now - state.heartbeat_at < STALE_AFTER
        ):
            return None
        token = str(uuid.uuid4())
        SchedulerState.objects.filter(pk=1).update(token=token, heartbeat_at=now)
    from leadflow.workflows.tasks import scheduler_tick

    transaction.on_commit(lambda: scheduler_tick.enqueue(token))
    return token


def tick(token: str) -> str:
    now = timezone.now()
    beat = SchedulerState.objects.filter(token=token).update(heartbeat_at=now)
    if not beat:
        return "superseded"
    results = run_due_jobs(now=now)
    from leadflow.workflows.tasks import scheduler_tick

    if scheduler_tick.get_backend().supports_defer:
        scheduler_tick.using(run_after=timezone.now() + TICK).enqueue(token)
    return ", ".join(f"{k}={v}" for k, v in results.items()) or "nothing due"


def status() -> dict:
    state = SchedulerState.objects.first()
    return {
        "heartbeat_at": state.heartbeat_at if state else None,
        "alive": bool(
            state
            and state.heartbeat_at
            and timezone.now() - state.heartbeat_at < STALE_AFTER
        ),
        "jobs": list(ScheduledJob.objects.order_by("name")),
    }
