"""The worker's side of an import (``manage.py db_worker``)."""

from django.tasks import task


@task()
def run_import_task(job_id: int) -> str:
    from leadflow.imports.actions import run_job

    return run_job(job_id)
