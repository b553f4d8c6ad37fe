"""Background tasks of the analyses (run by the worker: ``manage.py db_worker``)."""

from django.tasks import task


@task()
def refresh_report_task(name: str, language: str) -> str:
    from leadflow.analytics.cache import refresh_report

    return refresh_report(name, language)
