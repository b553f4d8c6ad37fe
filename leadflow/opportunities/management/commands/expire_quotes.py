"""Mark sent quotes whose validity has passed as expired: manage.py expire_quotes."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from leadflow.core.errors import DomainError
from leadflow.opportunities.actions import expire_quote
from leadflow.opportunities.models import Quote
from leadflow.opportunities.states import QuoteStatus


class Command(BaseCommand):
    help = "Expire sent quotes whose 'valid until' date has passed (run daily)."

    def handle(self, *args, **options):
        today = timezone.localdate()
        expired = 0
        for quote in Quote.objects.filter(
            status=QuoteStatus.SENT, valid_until__lt=today
        ).only("pk"):
            try:
                expire_quote(quote, actor=None)
            except DomainError:
                continue  # decided meanwhile by someone else
            expired += 1
        self.stdout.write(f"{expired} quote(s) expired")
