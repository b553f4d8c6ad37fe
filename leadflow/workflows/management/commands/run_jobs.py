"""Run the recurring jobs that are due, once: manage.py run_jobs [--job NAME] [--force]."""

from django.core.management.base import BaseCommand, CommandError

from leadflow.workflows import scheduler


class Command(BaseCommand):
    help = (
        "Run the recurring jobs that are due now (for cron-driven deployments and by "
        "hand); --force runs them regardless of their next run time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--job", help="Only this job.")
        parser.add_argument("--force", action="store_true")
        parser.add_argument("--list", action="store_true", help="List the jobs.")

    def handle(self, *args, job=None, force=False, list=False, **options):
        if list:
            for item in scheduler.JOBS:
                when = item.every or f"daily at {item.daily_at:%H:%M}"
                self.stdout.write(f"{item.name:28} {when}")
            return
        if job:
            try:
                scheduler.job_named(job)
            except KeyError:
                names = ", ".join(j.name for j in scheduler.JOBS)
                raise CommandError(f"Unknown job {job!r}. Known: {names}") from None
        results = scheduler.run_due_jobs(only=job, force=force)
        for name, text in results.items():
            self.stdout.write(f"{name}: {text}")
        if not results:
            self.stdout.write("Nothing was due.")
