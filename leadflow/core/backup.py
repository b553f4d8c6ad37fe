"""Backups: one archive holds the database, the uploaded documents and a manifest.

``create_backup`` writes ``leadflow-YYYYMMDD-HHMMSS.tar.gz`` (UTC time) with:

- ``manifest.json``: format version, creation time, database vendor, the applied
  migrations per app, the row count of every table and the database file's SHA-256;
- ``database.sqlite3`` (SQLite's online backup API: one consistent snapshot while the
  app and the worker keep writing) or ``database.pgdump`` (``pg_dump --format=custom``
  of a snapshot exported by the transaction that also counts the rows);
- ``media/``: every file under MEDIA_ROOT (the uploaded documents), taken after the
  database, so every document the snapshot refers to is in the archive.

``unpack`` checks an archive, ``check_compatible`` checks it against this installation
and ``restore`` puts it back. ``manage.py backup`` and ``manage.py restore`` call them.
"""

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "leadflow-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MEDIA_DIR = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
# Only names like this are pruned by --keep; anything else in the folder is left alone.
ARCHIVE_NAME = re.compile(r"^leadflow-(\d{8}-\d{6})(?:-(\d+))?\.tar\.gz$")
# Debian keeps one folder per installed PostgreSQL version here.
PG_LIB_DIR = Path("/usr/lib/postgresql")
# A restore waits at most this long for a lock held by a running app, then gives up.
PG_LOCK_TIMEOUT = "10s"
# Shown after a backup and a restore (the manifest counts every table).
MAIN_MODELS = {
    "users": "accounts.User",
    "companies": "contacts.Company",
    "contacts": "contacts.Contact",
    "inquiries": "intake.Inquiry",
    "orders": "intake.Order",
    "qualified leads": "opportunities.Opportunity",
    "quotes": "opportunities.Quote",
    "documents": "opportunities.Document",
    "audit events": "audit.AuditEvent",
}


class BackupError(Exception):
    """A backup or restore was refused or failed; the message says what to do."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    removed: list[Path] = field(default_factory=list)


@dataclass
class Unpacked:
    """An archive unpacked into a temporary folder, its manifest and checksum checked."""

    archive: Path
    directory: Path
    manifest: dict

    @property
    def vendor(self) -> str:
        return self.manifest["database"]["vendor"]

    @property
    def database_file(self) -> Path:
        return self.directory / self.manifest["database"]["file"]

    @property
    def media_dir(self) -> Path:
        return self.directory / MEDIA_DIR


@dataclass
class Compatibility:
    """What a restore of this archive means here: migrations the code has beyond it."""

    pending_migrations: list[str]


@dataclass
class RestoreResult:
    database: str
    tables: int
    rows: int
    media_root: Path
    media_written: int
    media_left: list[str]


# --- helpers ----------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (-1,)


def find_pg_tool(name: str) -> str:
    """The PostgreSQL client program ``name``: on PATH, else the newest one installed
    under /usr/lib/postgresql/<version>/bin (Debian's server package puts them there)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        PG_LIB_DIR.glob(f"*/bin/{name}"),
        key=lambda path: _version_key(path.parent.parent.name),
        reverse=True,
    )
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(
        f"{name} was not found on PATH or under {PG_LIB_DIR}/<version>/bin. Install the "
        "PostgreSQL client programs of the server's major version or newer "
        "(Debian: apt-get install postgresql-client)."
    )


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """Environment for pg_dump / pg_restore / psql from Django's connection settings.

    Everything goes through libpq's PG* variables, so the password never shows on a
    command line (``ps`` shows those to every user of the machine).
    """
    options = settings_dict.get("OPTIONS") or {}
    values = {
        "PGHOST": settings_dict.get("HOST") or options.get("host"),
        "PGPORT": settings_dict.get("PORT") or options.get("port"),
        "PGUSER": settings_dict.get("USER") or options.get("user"),
        "PGPASSWORD": settings_dict.get("PASSWORD") or options.get("password"),
        "PGDATABASE": settings_dict.get("NAME") or options.get("dbname"),
        "PGSERVICE": options.get("service"),
        "PGPASSFILE": options.get("passfile"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
        "PGOPTIONS": options.get("options"),
    }
    env = dict(os.environ)
    env.update({key: str(value) for key, value in values.items() if value})
    env["PGAPPNAME"] = "leadflow-backup"
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def _run(argv: list[str], *, env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise BackupError(f"{what} could not be started: {exc}") from exc
    if done.returncode != 0:
        raise BackupError(
            f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )


def _count_rows(cursor, tables: list[str], quote) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _applied_migrations(cursor, tables: list[str]) -> dict[str, list[str]]:
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    return migrations


def _sqlite_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [row[0] for row in cursor.fetchall()]


def _media_files(root: Path) -> list[tuple[Path, str]]:
    """Regular files under ``root`` (symbolic links are skipped), with POSIX names."""
    if not root.is_dir():
        return []
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            files.append((path, path.relative_to(root).as_posix()))
    return files


def main_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(label, rows) of the main tables that the counts include."""
    shown = []
    for label, model_label in MAIN_MODELS.items():
        try:
            table = apps.get_model(model_label)._meta.db_table
        except LookupError:
            continue
        if table in counts:
            shown.append((label, counts[table]))
    return shown


def _connection(using: str) -> BaseDatabaseWrapper:
    connection = connections[using]
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(
            f"Backups support SQLite and PostgreSQL, not {connection.vendor}."
        )
    if connection.in_atomic_block:
        raise BackupError("Backups and restores cannot run inside a transaction.")
    return connection


# --- backup -----------------------------------------------------------------------------


def _snapshot_sqlite(connection: BaseDatabaseWrapper, target: Path) -> dict:
    """Copy the live database with the online backup API, then read the copy's facts."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1) copies under one read transaction: a consistent snapshot.
        # In WAL mode readers do not block writers, so the app and worker go on.
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        cursor = copy.cursor()
        tables = _sqlite_tables(cursor)
        counts = _count_rows(cursor, tables, connection.ops.quote_name)
        migrations = _applied_migrations(cursor, tables)
    finally:
        copy.close()
    return {
        "server_version": sqlite3.sqlite_version,
        "counts": counts,
        "migrations": migrations,
    }


def _snapshot_postgresql(connection: BaseDatabaseWrapper, target: Path) -> dict:
    """pg_dump the snapshot of a transaction that also counts the rows it sees."""
    pg_dump = find_pg_tool("pg_dump")
    env = pg_environment(connection.settings_dict)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        _run(
            [
                pg_dump,
                "--format=custom",
                "--compress=0",  # the archive is gzipped as a whole
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            env=env,
            what="pg_dump",
        )
        tables = connection.introspection.table_names(cursor)
        counts = _count_rows(cursor, tables, connection.ops.quote_name)
        migrations = _applied_migrations(cursor, tables)
    return {
        "server_version": server_version,
        "counts": counts,
        "migrations": migrations,
    }


def _archive_path(directory: Path, now: datetime) -> Path:
    stem = f"leadflow-{now:%Y%m%d-%H%M%S}"
    path = directory / f"{stem}.tar.gz"
    number = 1
    while path.exists():
        path = directory / f"{stem}-{number}.tar.gz"
        number += 1
    return path


def _resolve_output(output: Path | None) -> tuple[Path, Path | None]:
    """(folder, explicit archive path or None) for --output."""
    if output is None:
        return Path(settings.BASE_DIR) / "var" / "backups", None
    if output.name.endswith(".tar.gz") and not output.is_dir():
        if output.exists():
            raise BackupError(f"{output} exists already; choose another name.")
        return output.parent, output
    return output, None


def _media_entries(root: Path) -> list[tuple[Path, tarfile.TarInfo]]:
    """The archive entries of the files under MEDIA_ROOT. Each file's size is read once
    here, and exactly that many bytes are archived: a file still being uploaded cannot
    make the archive disagree with its manifest."""
    entries = []
    for file, name in _media_files(root):
        status = file.stat()
        info = tarfile.TarInfo(f"{MEDIA_DIR}/{name}")
        info.size = status.st_size
        info.mtime = int(status.st_mtime)
        info.mode = status.st_mode & 0o777
        entries.append((file, info))
    return entries


def _write_archive(
    path: Path,
    manifest: dict,
    database: Path,
    media: list[tuple[Path, tarfile.TarInfo]],
) -> None:
    """Write the archive under a temporary name, then rename it: a half-written
    archive never carries a backup's name. Only the owner may read it."""
    handle, partial_name = tempfile.mkstemp(
        dir=path.parent, prefix=".leadflow-backup-", suffix=".partial"
    )
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size = len(data)
                info.mtime = int(_now().timestamp())
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
                tar.add(database, arcname=manifest["database"]["file"])
                for file, info in media:
                    with file.open("rb") as content:
                        tar.addfile(info, content)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest leadflow-*.tar.gz archives in ``directory``."""
    if keep < 1:
        raise BackupError("--keep must be 1 or more.")
    archives = []
    for path in directory.iterdir():
        match = ARCHIVE_NAME.match(path.name)
        if match and path.is_file():
            archives.append(((match[1], int(match[2] or 0)), path))
    archives.sort()
    removed = [path for _key, path in archives[:-keep]]
    for path in removed:
        path.unlink()
    return removed


def create_backup(
    output: Path | None = None,
    *,
    keep: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> BackupResult:
    """Write one archive with the database, MEDIA_ROOT and a manifest; return its path.

    ``output`` is a folder (default: <project>/var/backups) or a file ending in
    .tar.gz. ``keep`` then deletes all but the ``keep`` newest archives in the folder.
    """
    connection = _connection(using)
    directory, explicit = _resolve_output(output)
    if keep is not None and explicit is not None:
        raise BackupError("--keep needs --output to be a folder, not a file name.")
    if keep is not None and keep < 1:
        raise BackupError("--keep must be 1 or more.")
    media_root = Path(settings.MEDIA_ROOT)
    if directory.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(
            f"The backup folder {directory} is inside MEDIA_ROOT ({media_root}): "
            "every backup would contain the earlier ones. Choose another folder."
        )
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"Cannot create the backup folder {directory}: {exc}"
        ) from exc

    now = _now()
    path = explicit or _archive_path(directory, now)
    try:
        manifest = _backup_into(path, connection, media_root, now)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"Writing the backup {path} failed: {exc}") from exc
    removed = prune_backups(directory, keep) if keep is not None else []
    return BackupResult(path=path, manifest=manifest, removed=removed)


def _backup_into(
    path: Path, connection: BaseDatabaseWrapper, media_root: Path, now: datetime
) -> dict:
    """Snapshot the database, then write the archive at ``path``; return the manifest."""
    vendor = connection.vendor
    member = DATABASE_FILES[vendor]
    # The snapshot is written beside the archive: that disk was chosen for backups.
    with tempfile.TemporaryDirectory(
        dir=path.parent, prefix=".leadflow-backup-"
    ) as tmp:
        database = Path(tmp) / member
        if vendor == "sqlite":
            facts = _snapshot_sqlite(connection, database)
        else:
            facts = _snapshot_postgresql(connection, database)
        media = _media_entries(media_root)  # after the snapshot: its documents exist
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": now.isoformat(),
            "django_version": django.get_version(),
            "database": {
                "vendor": vendor,
                "file": member,
                "server_version": facts["server_version"],
                "bytes": database.stat().st_size,
                "sha256": _sha256(database),
            },
            "migrations": facts["migrations"],
            "counts": facts["counts"],
            "media": {
                "files": len(media),
                "bytes": sum(info.size for _file, info in media),
            },
        }
        _write_archive(path, manifest, database, media)
    return manifest


# --- restore ----------------------------------------------------------------------------


def _check_members(members: list[tarfile.TarInfo]) -> None:
    database_files = set(DATABASE_FILES.values())
    for member in members:
        name = member.name
        if ".." in Path(name).parts or name.startswith("/"):
            raise BackupError(f"The archive holds an unsafe path: {name!r}.")
        if name == MANIFEST_NAME or name in database_files:
            if not member.isfile():
                raise BackupError(f"{name} in the archive is not a file.")
        elif name == MEDIA_DIR or name.startswith(f"{MEDIA_DIR}/"):
            if not (member.isfile() or member.isdir()):
                raise BackupError(f"{name} in the archive is not a file or folder.")
        else:
            raise BackupError(
                f"The archive holds {name!r}, which a Leadflow backup never does."
            )


def _read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise BackupError("The archive has no manifest.json: not a Leadflow backup.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"The archive's manifest.json is unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("The archive's manifest is not a Leadflow backup manifest.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise BackupError("The archive's manifest has no valid format_version.")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"The archive has format version {version}; this version of Leadflow "
            f"reads up to {FORMAT_VERSION}. Update the code first."
        )
    database = manifest.get("database")
    if (
        not isinstance(database, dict)
        or database.get("vendor") not in DATABASE_FILES
        or database.get("file") != DATABASE_FILES[database["vendor"]]
        or not isinstance(database.get("sha256"), str)
        or not isinstance(manifest.get("migrations"), dict)
        or not isinstance(manifest.get("counts"), dict)
    ):
        raise BackupError("The archive's manifest is incomplete.")
    return manifest


@contextlib.contextmanager
def unpack(archive: Path) -> Iterator[Unpacked]:
    """Unpack ``archive`` into a temporary folder (removed afterwards) and check its
    manifest and the database file's checksum. Nothing is restored yet."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"No backup archive at {archive}.")
    with tempfile.TemporaryDirectory(prefix="leadflow-restore-") as tmp:
        directory = Path(tmp)
        try:
            # Read the whole compressed stream first: gzip checks its CRC and length
            # at the end, and tarfile alone stops quietly at a damaged header.
            with gzip.open(archive, "rb") as stream:
                while stream.read(1024 * 1024):
                    pass
            with tarfile.open(archive, "r:gz") as tar:
                members = tar.getmembers()
                _check_members(members)
                tar.extractall(directory, members=members, filter="data")
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise BackupError(
                f"{archive} is damaged or not a .tar.gz archive ({exc})."
            ) from exc
        except OSError as exc:
            raise BackupError(f"Cannot unpack {archive}: {exc}") from exc
        manifest = _read_manifest(directory)
        unpacked = Unpacked(archive=archive, directory=directory, manifest=manifest)
        if not unpacked.database_file.is_file():
            raise BackupError(f"The archive has no {manifest['database']['file']}.")
        if _sha256(unpacked.database_file) != manifest["database"]["sha256"]:
            raise BackupError(
                "The database file in the archive does not match the manifest's "
                "checksum: the archive is damaged."
            )
        media = manifest.get("media") or {}
        files = _media_files(unpacked.media_dir)
        found = {"files": len(files), "bytes": sum(f.stat().st_size for f, _n in files)}
        if found != {"files": media.get("files"), "bytes": media.get("bytes")}:
            raise BackupError(
                f"The archive's documents ({found['files']} files, {found['bytes']} "
                f"bytes) differ from its manifest ({media.get('files')} files, "
                f"{media.get('bytes')} bytes): the archive is damaged."
            )
        yield unpacked


def _migration_state(manifest: dict) -> tuple[list[str], list[str]]:
    """(migrations in the archive this code does not know, migrations the code has
    that the archive lacks), as app.name."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    archived = {
        (app, name)
        for app, names in manifest["migrations"].items()
        for name in (names or [])
    }
    unknown = sorted(
        f"{app}.{name}" for app, name in archived - set(loader.disk_migrations)
    )
    pending = []
    for key, migration in loader.graph.nodes.items():
        replaced = getattr(migration, "replaces", None) or []
        if key in archived or (replaced and all(r in archived for r in replaced)):
            continue
        pending.append(f"{key[0]}.{key[1]}")
    return unknown, sorted(pending)


def check_compatible(
    unpacked: Unpacked, *, using: str = DEFAULT_DB_ALIAS
) -> Compatibility:
    """Refuse an archive of another database vendor, from a newer migration state than
    this code, or whose database file does not open; nothing is changed."""
    connection = _connection(using)
    if unpacked.vendor != connection.vendor:
        raise BackupError(
            f"The archive holds a {unpacked.vendor} database, but this installation "
            f"uses {connection.vendor}. Restore it into a {unpacked.vendor} "
            "installation (DATABASE_URL)."
        )
    unknown, pending = _migration_state(unpacked.manifest)
    if unknown:
        raise BackupError(
            "The archive comes from a newer version of Leadflow: this code does not "
            f"know its migrations {', '.join(unknown)}. Update the code, then restore."
        )
    if unpacked.vendor == "sqlite":
        check = sqlite3.connect(unpacked.database_file)
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(
                f"The database in the archive does not open: {exc}"
            ) from exc
        finally:
            check.close()
        if result != "ok":
            raise BackupError(f"The database in the archive is damaged: {result}")
    else:
        _run(
            [find_pg_tool("pg_restore"), "--list", str(unpacked.database_file)],
            env=pg_environment(connection.settings_dict),
            what="pg_restore --list",
        )
        find_pg_tool("psql")
    return Compatibility(pending_migrations=pending)


def _restore_sqlite(unpacked: Unpacked, connection: BaseDatabaseWrapper) -> None:
    """Copy the archived database into the live one with the backup API: other
    connections see the old or the new database, never a mix."""
    source = sqlite3.connect(unpacked.database_file)
    try:
        connections.close_all()
        connection.ensure_connection()
        live = connection.connection
        page_size = live.execute("PRAGMA page_size").fetchone()[0]
        if source.execute("PRAGMA page_size").fetchone()[0] != page_size:
            # A WAL database only accepts a backup with its own page size.
            source.execute(f"PRAGMA page_size={int(page_size)}")
            source.execute("VACUUM")
        source.backup(live)
        if live.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise BackupError(f"Restoring the SQLite database failed: {exc}") from exc
    finally:
        source.close()
        connection.close()


def _restore_postgresql(unpacked: Unpacked, connection: BaseDatabaseWrapper) -> None:
    """Drop and recreate everything in one transaction: a failed restore leaves the
    database as it was.

    pg_restore writes the SQL script and psql runs it. The script is fed to psql
    between BEGIN and a COMMIT that is only sent once pg_restore finished without an
    error, so a script cut short is rolled back, never committed.
    """
    pg_restore = find_pg_tool("pg_restore")
    psql = find_pg_tool("psql")
    env = pg_environment(connection.settings_dict)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        live_tables = connection.introspection.table_names(cursor)
    # Take every table's lock first, waiting at most PG_LOCK_TIMEOUT for a running app
    # (the script itself sets lock_timeout = 0). Tables of migrations newer than the
    # archive are dropped: --clean only drops what the archive holds, and `migrate`
    # must be able to create them again.
    extra = [table for table in live_tables if table not in unpacked.manifest["counts"]]
    preamble = [
        "BEGIN;",
        f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}';",
        "SET LOCAL client_min_messages = warning;",
    ]
    if live_tables:
        names = ", ".join(quote(table) for table in live_tables)
        preamble.append(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE;")
    preamble += [f"DROP TABLE IF EXISTS {quote(table)} CASCADE;" for table in extra]
    connections.close_all()
    with (
        tempfile.TemporaryFile() as restore_errors,
        tempfile.TemporaryFile() as psql_errors,
    ):
        consumer = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--no-password"]
            + ["--set=ON_ERROR_STOP=1", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        producer = subprocess.Popen(
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--file=-"]
            + [str(unpacked.database_file)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        try:
            consumer.stdin.write(("\n".join(preamble) + "\n").encode())
            shutil.copyfileobj(producer.stdout, consumer.stdin, 1024 * 1024)
            if producer.wait() == 0:
                consumer.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error (ON_ERROR_STOP) and rolled back
        finally:
            with contextlib.suppress(BrokenPipeError):
                consumer.stdin.close()
            if producer.poll() is None:
                producer.kill()
            producer.wait()
            producer.stdout.close()
            consumer.wait()
        details = []
        for log in (restore_errors, psql_errors):
            log.seek(0)
            details.append(log.read().decode(errors="replace").strip())
    if consumer.returncode != 0 or producer.returncode != 0:
        detail = "\n".join(text for text in details if text)[-2000:]
        raise BackupError(
            "Restoring the PostgreSQL database failed and was rolled back. If a lock "
            f"timed out, stop the web and worker services first. {detail}"
        )


def _restore_media(unpacked: Unpacked, media_root: Path) -> tuple[int, list[str]]:
    """Write the archived files into MEDIA_ROOT (each by an atomic rename). Files that
    are not in the archive stay: nothing is deleted."""
    archived = set()
    written = 0
    for file, name in _media_files(unpacked.media_dir):
        target = media_root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.restoring")
        shutil.move(file, staging)
        os.replace(staging, target)
        archived.add(name)
        written += 1
    left = [name for _file, name in _media_files(media_root) if name not in archived]
    return written, left


def _live_counts(connection: BaseDatabaseWrapper, tables: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        live = set(connection.introspection.table_names(cursor))
        missing = [table for table in tables if table not in live]
        if missing:
            raise BackupError(f"After the restore, tables are missing: {missing}")
        return _count_rows(cursor, tables, connection.ops.quote_name)


def restore(unpacked: Unpacked, *, using: str = DEFAULT_DB_ALIAS) -> RestoreResult:
    """Put the documents back into MEDIA_ROOT, replace the database with the archived
    one and check every table's row count against the manifest.

    Call ``check_compatible`` first. Stop the web and worker services before.
    """
    connection = _connection(using)
    media_root = Path(settings.MEDIA_ROOT)
    try:
        written, left = _restore_media(unpacked, media_root)
    except OSError as exc:
        raise BackupError(
            f"Restoring the documents into {media_root} failed: {exc}"
        ) from exc
    if unpacked.vendor == "sqlite":
        _restore_sqlite(unpacked, connection)
    else:
        _restore_postgresql(unpacked, connection)
    ContentType.objects.clear_cache()  # ids may differ from the cached ones
    expected = unpacked.manifest["counts"]
    counts = _live_counts(connection, sorted(expected))
    differ = [
        f"{t} {counts[t]} (archive {n})" for t, n in expected.items() if counts[t] != n
    ]
    if differ:
        raise BackupError(
            "The database was restored, but these row counts differ from the "
            f"archive's: {', '.join(differ)}."
        )
    return RestoreResult(
        database=str(connection.settings_dict["NAME"]),
        tables=len(counts),
        rows=sum(counts.values()),
        media_root=media_root,
        media_written=written,
        media_left=left,
    )
