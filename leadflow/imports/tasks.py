"""The worker's side of an import (``manage.py db_worker``)."""

from django.tasks import task


@task()
def run_import_task(job_id: int) -> str:
    from leadflow.imports.actions import run_job

    return run_job(job_id)


@task()
def check_import_task(job_id: int) -> str:
    from leadflow.imports.actions import check_job
    from leadflow.imports.models import ImportJob, ImportStatus

    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.CHECKING:
        return f"import {job_id}: {job.status}, not checked"
    job = check_job(job, actor=job.created_by)
    return f"import {job_id}: checked {job.total_rows} rows"
