"""Background tasks of the analyses (run by the worker: ``manage.py db_worker``)."""

from django.tasks import task


@task()
def refresh_report_task(name: str, language: str) -> str:
    from leadflow.analytics.cache import refresh_report

    return refresh_report(name, language)


@task()
def train_win_model_task(now: str) -> str:
    """The Sunday training run (queued by the 04:00 job, winprob.run_scheduled)."""
    from datetime import datetime

    from leadflow.analytics.winprob import describe, train_win_model

    return describe(train_win_model(now=datetime.fromisoformat(now)))
