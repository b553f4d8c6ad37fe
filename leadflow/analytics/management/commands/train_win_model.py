"""Train the learned win probability now: manage.py train_win_model."""

from django.core.management.base import BaseCommand

from leadflow.analytics.winprob import describe, train_win_model


class Command(BaseCommand):
    help = (
        "Backtest the learned win probability on all decided qualified leads, store "
        "the run and rescore the open leads (the worker does this every Sunday)."
    )

    def handle(self, *args, **options):
        row = train_win_model()
        self.stdout.write(describe(row))
        if not row.is_shown:
            self.stdout.write(
                "Not shown to users: too little history, or no clear gain over the "
                "stage weights; the leads' learned values are cleared."
            )
