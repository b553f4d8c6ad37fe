"""manage.py poll_mailbox: register the sales mailbox's unseen messages as inquiries.

The worker runs the same function every 2 minutes (job ``poll_mailbox``) when
LEADFLOW_IMAP_HOST is set; this command is for a first run, cron, or after a fix
(``--retry-failed`` tries the mails recorded as failed again from their kept bytes).
"""

import imaplib

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from leadflow.core.errors import DomainError
from leadflow.intake.imap import MAX_PER_RUN, imap_config, poll_mailbox
from leadflow.intake.mail import retry_failed
from leadflow.intake.models import InboundMail, MailStatus


class Command(BaseCommand):
    help = "Register the sales mailbox's unseen e-mails as inquiries (IMAP)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=MAX_PER_RUN,
            help=f"At most this many messages per run (default {MAX_PER_RUN}).",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Try the mails recorded as failed again instead of polling.",
        )

    def handle(self, *args, limit: int, retry_failed: bool, **options):
        if retry_failed:
            self._retry()
            return
        try:
            config = imap_config()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if config is None:
            raise CommandError("Set LEADFLOW_IMAP_HOST (and _USER, _PASSWORD) first.")
        try:
            result = poll_mailbox(config, limit=limit)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise CommandError(
                f"Cannot read the mailbox {config.user}@{config.host}: {exc}"
            ) from exc
        self.stdout.write(
            f"{result.fetched} fetched: {result.created} new inquiries, "
            f"{result.known} already registered, {result.ignored} ignored "
            f"(auto-replies, bounces), {result.failed} failed, "
            f"{result.left_unseen} left unseen."
        )

    def _retry(self) -> None:
        done = still_failed = 0
        for mail in InboundMail.objects.filter(status=MailStatus.FAILED).order_by("id"):
            try:
                mail = retry_failed(mail, actor=None)
            except DomainError as exc:
                self.stderr.write(f"{mail.message_id}: {exc}")
            if mail.status == MailStatus.FAILED:
                still_failed += 1
            else:
                done += 1
        self.stdout.write(f"{done} registered or ignored, {still_failed} still failed.")
