"""Write one backup archive (database, documents, manifest): manage.py backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from leadflow.core.backup import BackupError, create_backup, main_counts


def human_size(size: int) -> str:
    """1234567 -> '1.2 MB'."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def count_of(number: int, noun: str) -> str:
    """(1, 'file') -> '1 file'; (2, 'file') -> '2 files'."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Command(BaseCommand):
    # A backup must not wait for, or fail on, the URL and model checks.
    requires_system_checks = []
    help = (
        "Write one archive with the database (a consistent snapshot, safe while the "
        "app runs), the uploaded documents (MEDIA_ROOT) and a manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="folder for leadflow-YYYYMMDD-HHMMSS.tar.gz (UTC; default: "
            "<project>/var/backups), or an archive name ending in .tar.gz",
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="afterwards, delete all but the N newest leadflow-*.tar.gz in the folder",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="database alias (default: default)",
        )

    def handle(self, *args, output, keep, database, verbosity, **options):
        try:
            result = create_backup(
                Path(output) if output else None, keep=keep, using=database
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if verbosity < 1:
            return
        manifest = result.manifest
        counts = manifest["counts"]
        media = manifest["media"]
        self.stdout.write(
            f"Wrote {result.path} ({human_size(result.path.stat().st_size)})"
        )
        self.stdout.write(
            f"  database: {manifest['database']['vendor']}, {len(counts)} tables, "
            f"{sum(counts.values())} rows ("
            + ", ".join(f"{label} {n}" for label, n in main_counts(counts))
            + ")"
        )
        self.stdout.write(
            f"  documents: {count_of(media['files'], 'file')} "
            f"({human_size(media['bytes'])})"
        )
        for path in result.removed:
            self.stdout.write(f"Removed older backup {path}")
