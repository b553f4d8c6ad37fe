"""Who sees which imports: your own; the sales management and the admin see all of
them (the import log)."""

from django.http import Http404

from leadflow.accounts.permissions import has_capability, require
from leadflow.imports.models import ImportJob


def jobs_for(user):
    """403 for roles that import nothing; 404 (below) for someone else's import."""
    require(user, "data.import")
    jobs = ImportJob.objects.select_related("created_by").order_by("-id")
    if has_capability(user, "data.import_history"):
        return jobs
    return jobs.filter(created_by=user)


def get_job_for_user(user, job_id: int) -> ImportJob:
    try:
        return jobs_for(user).get(pk=job_id)
    except ImportJob.DoesNotExist:
        raise Http404 from None
