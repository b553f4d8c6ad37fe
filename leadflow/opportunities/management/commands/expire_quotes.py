"""Mark sent quotes whose validity has passed as expired: manage.py expire_quotes."""

from django.core.management.base import BaseCommand

from leadflow.opportunities.actions import expire_due_quotes


class Command(BaseCommand):
    help = "Expire sent quotes whose 'valid until' date has passed (the worker does this daily)."

    def handle(self, *args, **options):
        self.stdout.write(f"{expire_due_quotes()} quote(s) expired")
