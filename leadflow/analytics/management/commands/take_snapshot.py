"""Freeze the forecast now: manage.py take_snapshot [--auto]."""

from django.core.management.base import BaseCommand

from leadflow.analytics.actions import take_snapshot
from leadflow.analytics.models import SnapshotKind


class Command(BaseCommand):
    help = (
        "Take a forecast snapshot of every open qualified lead (the worker takes one "
        "every Monday and on the first working day of the month)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--auto",
            action="store_true",
            help="as the automatic snapshot: at most one a day (returns today's if taken)",
        )

    def handle(self, *args, **options):
        kind = SnapshotKind.AUTO if options["auto"] else SnapshotKind.MANUAL
        snapshot = take_snapshot(actor=None, kind=kind)
        self.stdout.write(
            f"snapshot {snapshot.pk} ({snapshot.get_kind_display()}, "
            f"{snapshot.taken_at:%Y-%m-%d %H:%M}): {snapshot.line_count} open leads, "
            f"unweighted {snapshot.unweighted}, weighted {snapshot.weighted}"
        )
