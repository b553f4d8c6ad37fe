"""Start the worker's recurring-job scheduler: manage.py start_scheduler [--if-stale]."""

from django.core.management.base import BaseCommand

from leadflow.workflows import scheduler


class Command(BaseCommand):
    help = (
        "Start the chain of scheduler ticks run by db_worker (escalations, reminders, "
        "digests, webhook retries, quote expiry). Older chains stop by themselves."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-stale",
            action="store_true",
            help="Only when no scheduler has beaten for five minutes (safe in cron).",
        )

    def handle(self, *args, if_stale=False, **options):
        token = scheduler.start(if_stale=if_stale)
        if token is None:
            self.stdout.write("The scheduler is alive; nothing to do.")
        else:
            self.stdout.write(f"Scheduler started ({token[:8]}); db_worker runs it.")
