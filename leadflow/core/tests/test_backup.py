"""Backups: manage.py backup / restore round trips on SQLite and PostgreSQL, the
manifest, the refusals, --keep, and a SQLite backup taken while another connection
writes.

The in-process tests back up and restore the live test database, so they are
transactional (flushed afterwards, like every transactional test). The SQLite file
tests run ``manage.py`` as a separate process against a database file in tmp_path,
the way an operator does.
"""

import gzip
import hashlib
import importlib
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from leadflow.accounts.models import User
from leadflow.contacts.actions import update_contact
from leadflow.contacts.models import Contact
from leadflow.core import backup
from leadflow.core.backup import BackupError
from leadflow.intake.actions import close_inquiry
from leadflow.intake.models import Channel, Inquiry
from leadflow.intake.tests.factories import make_inquiry, make_opportunity
from leadflow.opportunities.actions import add_document
from leadflow.opportunities.models import Document, Opportunity, Stage

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL"
)


# --- helpers ----------------------------------------------------------------------------


def ensure_reference_data() -> None:
    """Channels and stages come from data migrations; an earlier transactional test
    may have flushed them."""
    if not Channel.objects.exists():
        importlib.import_module("leadflow.intake.migrations.0003_default_channels").add(
            django_apps, None
        )
    if not Stage.objects.exists():
        importlib.import_module(
            "leadflow.opportunities.migrations.0002_default_stages"
        ).add(django_apps, None)


def make_records(inside: User, rep: User) -> Opportunity:
    """Two inquiries (one qualified, one archived), one open, and two documents."""
    ensure_reference_data()
    lead = make_opportunity(
        inside, owner=rep, name="Anna Peeters", company="Peeters NV"
    )
    archived = make_inquiry(inside, name="Bart Claes")
    close_inquiry(archived, actor=inside, outcome="archived", reason="spam")
    make_inquiry(inside, name="Chris Wouters", summary="Open question about delivery")
    add_document(
        lead,
        actor=rep,
        upload=SimpleUploadedFile("meeting notes.txt", b"Met Anna: 20 chairs"),
        kind="meeting notes",
    )
    add_document(
        lead, actor=rep, upload=SimpleUploadedFile("plan.zip", bytes(range(256)))
    )
    return lead


def mutate(inside: User, rep: User, lead: Opportunity) -> None:
    """Changes after the backup: a new inquiry, a renamed contact, a document deleted
    (file and row) and a new one uploaded."""
    make_inquiry(inside, name="Dirk After", summary="Registered after the backup")
    contact = Contact.objects.get(name="Anna Peeters")
    update_contact(contact, actor=inside, version=contact.version, name="Anna Renamed")
    document = Document.objects.get(name="meeting notes.txt")
    document.file.delete(save=False)
    document.delete()
    add_document(lead, actor=rep, upload=SimpleUploadedFile("later.txt", b"after"))


def fingerprint() -> dict:
    """Every row of every table (and the sequences): equal means the same data."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return {"dump": list(connection.connection.iterdump())}
    prints = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(
                "SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY "
                f"r::text), '')) FROM {connection.ops.quote_name(table)} r"
            )
            prints[table] = cursor.fetchone()
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename"
        )
        prints["sequences"] = cursor.fetchall()
    return prints


def media_tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def only_archive(folder: Path) -> Path:
    archives = sorted(folder.glob("leadflow-*.tar.gz"))
    assert len(archives) == 1, archives
    return archives[0]


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


def rewrite(archive: Path, target: Path, *, manifest=None, members=None) -> Path:
    """A copy of ``archive`` with its manifest changed by ``manifest(dict)`` and its
    members (name -> bytes) changed by ``members(dict)``."""
    with tarfile.open(archive, "r:gz") as tar:
        contents = {
            member.name: tar.extractfile(member).read()
            for member in tar.getmembers()
            if member.isfile()
        }
    data = json.loads(contents["manifest.json"])
    if manifest:
        manifest(data)
    contents["manifest.json"] = json.dumps(data).encode()
    if members:
        members(contents)
    with tarfile.open(target, "w:gz") as tar:
        for name, content in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return target


@pytest.fixture(scope="module")
def leave_the_database_as_found(django_db_setup, django_db_blocker, tmp_path_factory):
    """The transactional tests below end with a flush, which also removes the rows of
    the data migrations (channels, stages, …) that later tests of the suite expect.
    Back the test database up before the first of them and restore it after the last."""
    folder = tmp_path_factory.mktemp("as-found")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=folder / "media"):
        saved = backup.create_backup(folder / "as-found.tar.gz")
    yield
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=folder / "media"):
        with backup.unpack(saved.path) as unpacked:
            backup.restore(unpacked)


@pytest.fixture
def media(leave_the_database_as_found, settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def backups(tmp_path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def archive(transactional_db, media, backups, inside, rep) -> Path:
    """An archive of the live test database with a few records and two documents."""
    make_records(inside, rep)
    call_command("backup", output=str(backups), stdout=io.StringIO())
    return only_archive(backups)


# --- the archive and its manifest ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_backup_writes_one_archive_with_the_database_documents_and_a_manifest(
    media, backups, inside, rep
):
    make_records(inside, rep)
    out = io.StringIO()
    call_command("backup", output=str(backups), stdout=out)
    archive = only_archive(backups)
    assert backup.ARCHIVE_NAME.match(archive.name)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds password hashes
    assert f"Wrote {archive}" in out.getvalue()
    assert "inquiries 3" in out.getvalue()
    assert "documents: 2 files" in out.getvalue()

    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
    database_file = backup.DATABASE_FILES[connection.vendor]
    assert names[:2] == ["manifest.json", database_file]
    documents = sorted(d.file.name for d in Document.objects.all())
    assert sorted(names[2:]) == [f"media/{name}" for name in documents]

    manifest = read_manifest(archive)
    assert manifest["format"] == "leadflow-backup"
    assert manifest["format_version"] == 1
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["file"] == database_file
    assert manifest["media"]["files"] == 2
    assert manifest["created_at"].endswith("+00:00")
    applied = MigrationRecorder(connection).applied_migrations()
    assert {
        (app, name) for app, names in manifest["migrations"].items() for name in names
    } == set(applied)
    counts = manifest["counts"]
    assert counts[Inquiry._meta.db_table] == Inquiry.objects.count() == 3
    assert counts[Contact._meta.db_table] == Contact.objects.count()
    assert counts[Document._meta.db_table] == 2
    assert counts[User._meta.db_table] == User.objects.count()
    with tarfile.open(archive, "r:gz") as tar:
        data = tar.extractfile(database_file).read()
    assert hashlib.sha256(data).hexdigest() == manifest["database"]["sha256"]


@pytest.mark.django_db(transaction=True)
def test_backup_names_a_second_archive_of_the_same_second_apart(media, backups):
    first = backup.create_backup(backups)
    second = backup.create_backup(backups)
    assert first.path != second.path
    assert len(list(backups.glob("leadflow-*.tar.gz"))) == 2
    assert not list(backups.glob(".leadflow-*"))  # no partial files or scratch folders


@pytest.mark.django_db(transaction=True)
def test_backup_to_an_explicit_file_name(media, tmp_path):
    target = tmp_path / "nightly.tar.gz"
    call_command("backup", output=str(target), stdout=io.StringIO())
    assert read_manifest(target)["database"]["vendor"] == connection.vendor
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", output=str(target), stdout=io.StringIO())


# --- round trips -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_restore_puts_the_database_and_the_documents_back_exactly(
    media, backups, inside, rep
):
    lead = make_records(inside, rep)
    before, files_before = fingerprint(), media_tree(media)
    call_command("backup", output=str(backups), stdout=io.StringIO())
    archive = only_archive(backups)
    notes_file = media / Document.objects.get(name="meeting notes.txt").file.name
    mutate(inside, rep, lead)
    assert fingerprint() != before
    assert not notes_file.exists()

    out = io.StringIO()
    call_command("restore", str(archive), yes=True, stdout=out)

    assert fingerprint() == before
    files_after = media_tree(media)
    assert {name: files_after[name] for name in files_before} == files_before
    later = [name for name in files_after if name not in files_before]
    assert len(later) == 1 and later[0].endswith(".txt")  # later.txt: left in place
    assert Contact.objects.filter(name="Anna Peeters").exists()
    assert not Inquiry.objects.filter(summary="Registered after the backup").exists()
    notes = Document.objects.get(name="meeting notes.txt")
    assert notes.file.read() == b"Met Anna: 20 chairs"
    text = out.getvalue()
    assert "migrations: the same as the code" in text
    assert f"Restored the {connection.vendor} database" in text
    assert "every table's row count matches the archive" in text
    assert f"Restored 2 document files into {media}." in text
    assert f"Left in place in {media}, not in the backup" in text
    assert "refers to them): 1 file, documents/" in text
    # The sequences came back too: new records get fresh ids.
    make_inquiry(inside, name="Eva Next")
    assert Inquiry.objects.count() == 4


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_restore_keeps_the_triggers_and_drops_tables_newer_than_the_archive(
    archive,
):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_feature (id integer)")
    call_command("restore", str(archive), yes=True, stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('later_feature')")
        assert cursor.fetchone()[0] is None
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"audit_event_append_only", "inquiry_closed_immutable"} <= triggers


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_restore_cut_short_is_rolled_back(archive, tmp_path, monkeypatch):
    """pg_restore fails after writing part of the script: nothing is committed."""
    before = fingerprint()
    fake = tmp_path / "pg_restore"
    fake.write_text(
        "#!/bin/sh\necho 'DROP TABLE IF EXISTS contacts_contact CASCADE;'\n"
        "echo 'pg_restore: error: disk on fire' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    real = backup.find_pg_tool
    monkeypatch.setattr(
        backup,
        "find_pg_tool",
        lambda name: str(fake) if name == "pg_restore" else real(name),
    )
    with backup.unpack(archive) as unpacked:
        with pytest.raises(BackupError, match="(?s)rolled back.*disk on fire"):
            backup.restore(unpacked)
    assert fingerprint() == before


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_restore_does_not_wait_for_a_running_app(archive, monkeypatch):
    """Another session holds a table lock: the restore gives up after the lock
    timeout and changes nothing, instead of hanging."""
    monkeypatch.setattr(backup, "PG_LOCK_TIMEOUT", "1s")
    before = fingerprint()
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.execute("BEGIN")
        other.execute("LOCK TABLE contacts_contact IN ACCESS SHARE MODE")
        with pytest.raises(CommandError, match="(?s)rolled back.*lock timeout"):
            call_command("restore", str(archive), yes=True, stdout=io.StringIO())
    finally:
        other.close()
    assert fingerprint() == before


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_pg_dump_gets_the_password_in_its_environment_not_its_arguments(
    media, backups, monkeypatch
):
    # The test cluster trusts local connections, so any password is accepted.
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret-pw")
    calls = []
    real_run = subprocess.run

    def spy(argv, **kwargs):
        calls.append((argv, kwargs.get("env") or {}))
        return real_run(argv, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", spy)
    backup.create_backup(backups)
    (argv, env) = next(call for call in calls if "pg_dump" in call[0][0])
    assert "--format=custom" in argv
    assert not any("s3cret-pw" in arg for arg in argv)
    assert env["PGPASSWORD"] == "s3cret-pw"
    assert env["PGDATABASE"] == connection.settings_dict["NAME"]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_backup_explains_a_missing_pg_dump(media, backups, tmp_path, monkeypatch):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup, "PG_LIB_DIR", tmp_path / "no-postgresql")
    with pytest.raises(CommandError, match="pg_dump was not found on PATH"):
        call_command("backup", output=str(backups), stdout=io.StringIO())
    assert not list(backups.glob("*.tar.gz"))


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_restore_outside_a_terminal_needs_yes_and_changes_nothing(archive, inside):
    make_inquiry(inside, name="Frank Later")
    before = fingerprint()
    with pytest.raises(CommandError, match="Nothing was restored.*--yes"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert fingerprint() == before


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db(transaction=True)
def test_restore_in_a_terminal_asks_first(archive, inside, monkeypatch):
    make_inquiry(inside, name="Frank Later")
    before = fingerprint()
    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))
    with pytest.raises(CommandError, match="cancelled; nothing was changed"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert fingerprint() == before

    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))
    call_command("restore", str(archive), stdout=io.StringIO())
    assert not Inquiry.objects.filter(contact__name="Frank Later").exists()


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No backup archive at .*nothing.tar.gz"):
        call_command("restore", str(tmp_path / "nothing.tar.gz"), yes=True)


def _garbage(archive: Path, target: Path) -> Path:
    target.write_bytes(os.urandom(4096))
    return target


def _truncated(archive: Path, target: Path) -> Path:
    target.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return target


def _flipped_byte(archive: Path, target: Path) -> Path:
    """A damaged byte inside the compressed stream (gzip's CRC catches it)."""
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def _no_manifest(archive: Path, target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        info = tarfile.TarInfo(backup.DATABASE_FILES[connection.vendor])
        tar.addfile(info, io.BytesIO(b""))
    return target


def _tampered_database(archive: Path, target: Path) -> Path:
    """One bit of the database file changed; the manifest still has the old checksum."""
    name = backup.DATABASE_FILES[connection.vendor]

    def flip(members):
        data = bytearray(members[name])
        data[len(data) // 2] ^= 0x01
        members[name] = bytes(data)

    return rewrite(archive, target, members=flip)


def _unsafe_path(archive: Path, target: Path) -> Path:
    return rewrite(
        archive, target, members=lambda m: m.update({"media/../../evil.txt": b"x"})
    )


def _foreign_member(archive: Path, target: Path) -> Path:
    return rewrite(archive, target, members=lambda m: m.update({"run-me.sh": b"x"}))


def _missing_document(archive: Path, target: Path) -> Path:
    """A document left out; the manifest still counts two."""

    def drop_one(members):
        del members[next(name for name in members if name.startswith("media/"))]

    return rewrite(archive, target, members=drop_one)


def _plain_gzip(archive: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(b"just some text, not a tar archive"))
    return target


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_garbage, "is damaged or not a .tar.gz archive"),
        (_truncated, "is damaged or not a .tar.gz archive"),
        (_flipped_byte, "is damaged or not a .tar.gz archive"),
        (_plain_gzip, "is damaged or not a .tar.gz archive"),
        (_no_manifest, "has no manifest.json: not a Leadflow backup"),
        (_tampered_database, "does not match the manifest's checksum"),
        (
            _missing_document,
            r"documents \(1 files.* differ from its manifest \(2 files",
        ),
        (_unsafe_path, "unsafe path"),
        (_foreign_member, "which a Leadflow backup never does"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_damaged_archive_and_changes_nothing(
    archive, tmp_path, damage, message
):
    before = fingerprint()
    broken = damage(archive, tmp_path / "broken.tar.gz")
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(broken), yes=True, stdout=io.StringIO())
    assert fingerprint() == before


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_an_archive_of_the_other_database_vendor(archive, tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"

    def other_vendor(manifest):
        manifest["database"].update(vendor=other, file=backup.DATABASE_FILES[other])

    def rename(members):
        members[backup.DATABASE_FILES[other]] = members.pop(
            backup.DATABASE_FILES[connection.vendor]
        )

    foreign = rewrite(
        archive, tmp_path / "other.tar.gz", manifest=other_vendor, members=rename
    )
    with pytest.raises(
        CommandError,
        match=f"holds a {other} database, but this installation uses {connection.vendor}",
    ):
        call_command("restore", str(foreign), yes=True, stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_an_archive_from_newer_code(archive, tmp_path):
    before = fingerprint()

    def newer(manifest):
        manifest["migrations"]["intake"].append("9999_from_the_future")

    future = rewrite(archive, tmp_path / "future.tar.gz", manifest=newer)
    with pytest.raises(
        CommandError,
        match="newer version of Leadflow.*intake.9999_from_the_future.*Update the code",
    ):
        call_command("restore", str(future), yes=True, stdout=io.StringIO())
    assert fingerprint() == before


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_newer_archive_format(archive, tmp_path):
    def newer(manifest):
        manifest["format_version"] = 2

    future = rewrite(archive, tmp_path / "future.tar.gz", manifest=newer)
    with pytest.raises(CommandError, match="format version 2.*reads up to 1"):
        call_command("restore", str(future), yes=True, stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_an_archive_from_older_code_may_be_restored_then_migrated(archive, tmp_path):
    last = sorted(MigrationRecorder(connection).applied_migrations())[-1]

    def older(manifest):
        manifest["migrations"][last[0]].remove(last[1])

    old = rewrite(archive, tmp_path / "old.tar.gz", manifest=older)
    with backup.unpack(old) as unpacked:
        assert backup.check_compatible(unpacked).pending_migrations == [
            f"{last[0]}.{last[1]}"
        ]


# --- output folder and --keep ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_keep_deletes_all_but_the_newest_archives_and_nothing_else(media, backups):
    backups.mkdir()
    for name in (
        "leadflow-20250101-020000.tar.gz",
        "leadflow-20250102-020000.tar.gz",
        "leadflow-20250102-020000-1.tar.gz",
        "leadflow-notes.tar.gz",  # not a backup's name
        "README.txt",
    ):
        (backups / name).write_bytes(b"old")
    out = io.StringIO()
    call_command("backup", output=str(backups), keep=2, stdout=out)
    left = sorted(path.name for path in backups.iterdir())
    new = [
        name
        for name in left
        if backup.ARCHIVE_NAME.match(name) and not name.startswith("leadflow-2025")
    ]
    assert len(new) == 1
    assert left == sorted(
        [
            new[0],
            "leadflow-20250102-020000-1.tar.gz",
            "leadflow-notes.tar.gz",
            "README.txt",
        ]
    )
    assert out.getvalue().count("Removed older backup") == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep": 0}, "--keep must be 1 or more"),
        ({"keep": 3, "output": "one.tar.gz"}, "--keep needs --output to be a folder"),
    ],
)
def test_backup_refuses_bad_options(media, tmp_path, options, message):
    if "output" in options:
        options = {**options, "output": str(tmp_path / options["output"])}
    else:
        options = {**options, "output": str(tmp_path / "backups")}
    with pytest.raises(CommandError, match=message):
        call_command("backup", stdout=io.StringIO(), **options)


@pytest.mark.django_db(transaction=True)
def test_backup_refuses_a_folder_inside_media_root(media):
    with pytest.raises(CommandError, match="inside MEDIA_ROOT"):
        call_command("backup", output=str(media / "backups"), stdout=io.StringIO())


# --- PostgreSQL client programs ---------------------------------------------------------


def test_pg_tools_are_found_on_path_or_in_the_newest_debian_folder(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup, "PG_LIB_DIR", tmp_path)
    for version in ("9.6", "13", "15"):
        folder = tmp_path / version / "bin"
        folder.mkdir(parents=True)
        (folder / "pg_dump").write_text("#!/bin/sh\n")
        (folder / "pg_dump").chmod(0o755)
    assert backup.find_pg_tool("pg_dump") == str(tmp_path / "15" / "bin" / "pg_dump")
    with pytest.raises(
        BackupError, match="pg_restore was not found.*postgresql-client"
    ):
        backup.find_pg_tool("pg_restore")
    monkeypatch.setattr(backup.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert backup.find_pg_tool("pg_restore") == "/usr/bin/pg_restore"


def test_pg_environment_carries_every_connection_setting():
    env = backup.pg_environment(
        {
            "NAME": "leadflow",
            "USER": "lf",
            "PASSWORD": "pw",
            "HOST": "db.internal",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "verify-full", "sslrootcert": "/etc/ca.pem"},
        }
    )
    assert env["PGDATABASE"] == "leadflow"
    assert env["PGUSER"] == "lf"
    assert env["PGPASSWORD"] == "pw"
    assert env["PGHOST"] == "db.internal"
    assert env["PGPORT"] == "5433"
    assert env["PGSSLMODE"] == "verify-full"
    assert env["PGSSLROOTCERT"] == "/etc/ca.pem"


# --- SQLite: manage.py against a database file, as an operator runs it ----------------

on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite database files; the SQLite pass of the suite runs these",
)

SEED = """
import django
django.setup()
from leadflow.accounts.models import Role, User
from leadflow.core.tests.test_backup import make_records
inside = User.objects.create(username="ines", role=Role.INSIDE_SALES)
rep = User.objects.create(username="rik", role=Role.SALES)
make_records(inside, rep)
"""

MUTATE = """
import django
django.setup()
from leadflow.accounts.models import User
from leadflow.core.tests.test_backup import mutate
from leadflow.opportunities.models import Opportunity
mutate(User.objects.get(username="ines"), User.objects.get(username="rik"),
       Opportunity.objects.get())
"""


def run(args: list[str], *, db: Path, media: Path, check: bool = True):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{db}",
        "MEDIA_ROOT": str(media),
    }
    done = subprocess.run(
        [sys.executable, *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    """A migrated SQLite database file: a copy of the migrated test database (quicker
    than running every migration again)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite database files")
    path = tmp_path_factory.mktemp("template") / "db.sqlite3"
    with django_db_blocker.unblock():
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        connection.connection.backup(copy)
        copy.close()
    return path


@pytest.fixture
def file_db(migrated_file, tmp_path) -> tuple[Path, Path]:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(migrated_file.read_bytes())
    return db, tmp_path / "media"


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return list(con.iterdump())


@on_sqlite
def test_sqlite_file_round_trip_through_manage_py(file_db, tmp_path):
    db, media = file_db
    run(["-c", SEED], db=db, media=media)
    before, files_before = dump(db), media_tree(media)
    assert len(files_before) == 2

    made = run(
        ["manage.py", "backup", "--output", str(tmp_path / "b")], db=db, media=media
    )
    archive = only_archive(tmp_path / "b")
    assert f"Wrote {archive}" in made.stdout
    run(["-c", MUTATE], db=db, media=media)
    assert dump(db) != before

    restored = run(["manage.py", "restore", str(archive), "--yes"], db=db, media=media)
    assert dump(db) == before
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    files_after = media_tree(media)
    assert {name: files_after[name] for name in files_before} == files_before
    assert len(files_after) == 3  # the document uploaded after the backup stays
    assert "Restored the sqlite database" in restored.stdout
    assert "Restored 2 document files" in restored.stdout


@on_sqlite
def test_manage_py_restore_fails_with_a_message_and_exit_code_1(file_db, tmp_path):
    db, media = file_db
    done = run(
        ["manage.py", "restore", str(tmp_path / "missing.tar.gz"), "--yes"],
        db=db,
        media=media,
        check=False,
    )
    assert done.returncode == 1
    assert "CommandError: No backup archive at" in done.stderr
    assert "Traceback" not in done.stderr


@on_sqlite
def test_a_sqlite_backup_taken_while_another_connection_writes_is_consistent(
    file_db, tmp_path
):
    """A writer commits batches of ten rows without pause; the backup holds whole
    batches only, at least those committed before it started."""
    db, media = file_db
    rows_per_batch = 10
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE backup_probe (batch INTEGER NOT NULL, n INTEGER)")
    committed = [0]
    errors: list[Exception] = []
    stop = threading.Event()

    def write():
        con = sqlite3.connect(db, timeout=20, isolation_level=None)
        try:
            while not stop.is_set():
                batch = committed[0] + 1
                con.execute("BEGIN IMMEDIATE")
                con.executemany(
                    "INSERT INTO backup_probe VALUES (?, ?)",
                    [(batch, n) for n in range(rows_per_batch)],
                )
                con.execute("COMMIT")
                committed[0] = batch
                time.sleep(0.001)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            con.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while committed[0] < 20 and not errors:
            time.sleep(0.01)
        at_start = committed[0]
        run(
            ["manage.py", "backup", "--output", str(tmp_path / "b")], db=db, media=media
        )
        at_end = committed[0]
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not errors
    assert at_end > at_start  # the writer went on while the backup ran

    archive = only_archive(tmp_path / "b")
    with tarfile.open(archive, "r:gz") as tar:
        tar.extract("database.sqlite3", tmp_path / "x", filter="data")
    with sqlite3.connect(tmp_path / "x" / "database.sqlite3") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        batches = con.execute(
            "SELECT batch, COUNT(*) FROM backup_probe GROUP BY batch ORDER BY batch"
        ).fetchall()
    numbers = [batch for batch, _count in batches]
    assert numbers == list(range(1, len(numbers) + 1))
    assert {count for _batch, count in batches} == {rows_per_batch}
    assert at_start <= len(numbers) <= at_end
    manifest = read_manifest(archive)
    assert manifest["counts"]["backup_probe"] == len(numbers) * rows_per_batch
