"""Restore a backup archive made by manage.py backup: manage.py restore ARCHIVE --yes."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from leadflow.core.backup import (
    BackupError,
    check_compatible,
    main_counts,
    restore,
    unpack,
)
from leadflow.core.management.commands.backup import count_of, human_size


class Command(BaseCommand):
    # A backup must not wait for, or fail on, the URL and model checks.
    requires_system_checks = []
    help = (
        "Replace the database with the one in a backup archive and put its documents "
        "back into MEDIA_ROOT. Stop the web and worker services first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "archive", help="a leadflow-*.tar.gz made by manage.py backup"
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace the database without asking (needed outside a terminal)",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="database alias (default: default)",
        )

    def handle(self, *args, archive, yes, database, **options):
        try:
            with unpack(Path(archive)) as unpacked:
                compatibility = check_compatible(unpacked, using=database)
                self._describe(unpacked, compatibility)
                if not yes:
                    self._confirm(database)
                result = restore(unpacked, using=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the {unpacked.vendor} database {result.database}: "
            f"{result.tables} tables, {result.rows} rows, every table's row count "
            "matches the archive."
        )
        self.stdout.write(
            f"Restored {count_of(result.media_written, 'document file')} into "
            f"{result.media_root}."
        )
        if result.media_left:
            shown = ", ".join(result.media_left[:5])
            more = len(result.media_left) - 5
            self.stdout.write(
                f"Left in place in {result.media_root}, not in the backup (no restored "
                f"record refers to them): {count_of(len(result.media_left), 'file')}, "
                f"{shown}" + (f" and {more} more" if more > 0 else "")
            )
        if compatibility.pending_migrations:
            self.stdout.write(
                "Now run `manage.py migrate`: the code has "
                f"{count_of(len(compatibility.pending_migrations), 'migration')} that the "
                "archive lacks."
            )

    def _describe(self, unpacked, compatibility) -> None:
        manifest = unpacked.manifest
        counts = manifest["counts"]
        media = manifest.get("media") or {}
        self.stdout.write(
            f"Archive {unpacked.archive}: made {manifest['created_at']} "
            f"(Django {manifest.get('django_version', '?')}), "
            f"{unpacked.vendor} database"
        )
        self.stdout.write(
            f"  database: {len(counts)} tables, {sum(counts.values())} rows ("
            + ", ".join(f"{label} {n}" for label, n in main_counts(counts))
            + ")"
        )
        self.stdout.write(
            f"  documents: {count_of(media.get('files', 0), 'file')} "
            f"({human_size(media.get('bytes', 0))})"
        )
        if compatibility.pending_migrations:
            self.stdout.write(
                "  migrations: older than the code ("
                + ", ".join(compatibility.pending_migrations[:5])
                + (" …" if len(compatibility.pending_migrations) > 5 else "")
                + ")"
            )
        else:
            self.stdout.write("  migrations: the same as the code")

    def _confirm(self, database: str) -> None:
        name = connections[database].settings_dict["NAME"]
        if not sys.stdin.isatty():
            raise CommandError(
                "Nothing was restored: restoring replaces the whole database "
                f"{name}. Run again with --yes to confirm."
            )
        answer = input(
            f"This replaces the whole database {name} with the archive's. "
            "Type 'yes' to continue: "
        )
        if answer.strip().lower() != "yes":
            raise CommandError("Restore cancelled; nothing was changed.")
