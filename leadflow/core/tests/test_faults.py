"""Faults: the web process and the task worker really killed (SIGKILL) in the middle of
their work, and a SQLite database locked by another writer.

Every test runs the app as separate processes (``manage.py runserver`` / ``db_worker``
/ ``run_jobs``), the way ``make run`` does, against a real database: on SQLite a
migrated file in tmp_path (never the in-memory test database), on PostgreSQL the test
database of the current run (reached by its URL; the tests are transactional, so it is
flushed afterwards). The children get a small settings module written to tmp_path
(the dev settings plus a test-only mail backend and a shorter SQLite busy timeout where
a test asks for one). What the tests check is read straight from the database.

Select them with ``-m faults``.
"""

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(django_settings.BASE_DIR)

SETTINGS_MODULE = """
import os
from config.settings.dev import *  # noqa: F403
from config.settings.dev import DATABASES

if DATABASES["default"]["ENGINE"].endswith("sqlite3") and os.environ.get(
    "FAULT_DB_TIMEOUT"
):
    DATABASES["default"]["OPTIONS"]["timeout"] = float(os.environ["FAULT_DB_TIMEOUT"])
MAILERS = {"default": {"BACKEND": "faultmail.SlowLogBackend"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
"""

# A mail backend that logs "start" before and "sent" after each message (fsynced, so
# a SIGKILL cannot lose a line) and takes FAULT_MAIL_DELAY seconds in between: the test
# can kill the worker while it is certainly inside a send.
MAIL_BACKEND = """
import os
import time

from django.core.mail.backends.base import BaseEmailBackend


def _log(line):
    with open(os.environ["FAULT_MAIL_LOG"], "a") as f:
        f.write(line + "\\n")
        f.flush()
        os.fsync(f.fileno())


class SlowLogBackend(BaseEmailBackend):
    def send_messages(self, messages):
        for m in messages:
            key = "|".join(m.to) + "|" + m.body.splitlines()[-1]
            _log("start " + key)
            time.sleep(float(os.environ.get("FAULT_MAIL_DELAY", "0")))
            _log("sent " + key)
        return len(messages)
"""


# --- the database the child processes use ----------------------------------------------


@dataclass
class Target:
    url: str
    vendor: str
    path: Path | None = None  # the SQLite file

    def rows(self, sql: str) -> list[tuple]:
        if self.vendor == "sqlite":
            con = sqlite3.connect(self.path, timeout=30)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            return con.execute(sql).fetchall()

    def value(self, sql: str):
        return self.rows(sql)[0][0]


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory) -> Path | None:
    if connection.vendor != "sqlite":
        return None
    path = tmp_path_factory.mktemp("faults-template") / "db.sqlite3"
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=child_env(f"sqlite:///{path}", None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def target(migrated_template, tmp_path) -> Target:
    if connection.vendor == "sqlite":
        path = tmp_path / "db.sqlite3"
        src = sqlite3.connect(migrated_template)
        dst = sqlite3.connect(path)
        src.backup(dst)
        src.close()
        dst.close()
        return Target(url=f"sqlite:///{path}", vendor="sqlite", path=path)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite or PostgreSQL only")
    s = connection.settings_dict
    auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    url = (
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )
    return Target(url=url, vendor="postgresql")


@pytest.fixture
def child_dir(tmp_path) -> Path:
    d = tmp_path / "child"
    d.mkdir()
    (d / "faultsettings.py").write_text(SETTINGS_MODULE)
    (d / "faultmail.py").write_text(MAIL_BACKEND)
    return d


def child_env(db_url: str, child: Path | None, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="faultsettings" if child else "config.settings.dev",
        PYTHONPATH=os.pathsep.join(filter(None, [str(child or ""), str(BASE_DIR)])),
        PYTHONUNBUFFERED="1",
        LEADFLOW_BASE_URL="http://127.0.0.1:8000",
    )
    env.update(extra)
    return env


def manage(target: Target, child: Path, *args: str, timeout: float = 60, **extra):
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=child_env(target.url, child, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {args}: {done.stderr[-3000:]}"
    return done.stdout


def run_script(target: Target, child: Path, code: str, **extra) -> dict:
    """Run Python code in a fresh Django process; it sets ``result`` (printed as JSON)."""
    program = (
        "import django, json\ndjango.setup()\nresult = None\n"
        + textwrap.dedent(code)
        + "\nprint('RESULT ' + json.dumps(result))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=BASE_DIR,
        env=child_env(target.url, child, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def start(target: Target, child: Path, log: Path, *args: str, **extra):
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=child_env(target.url, child, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(target, child, log, port, **extra) -> subprocess.Popen:
    proc = start(
        target, child, log, "runserver", f"127.0.0.1:{port}", "--noreload", **extra
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"runserver exited: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise AssertionError(f"runserver did not come up: {log.read_text()[-3000:]}")


def request(port, method, path, token, body=None, timeout=30.0):
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        con.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
        )
        response = con.getresponse()
        return response.status, response.read()
    finally:
        con.close()


def wait_for(predicate, timeout: float, what: str, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


ENSURE_CHANNELS = """
import importlib
from django.apps import apps
from leadflow.intake.models import Channel
if not Channel.objects.exists():  # PostgreSQL: flushed by an earlier transactional test
    importlib.import_module("leadflow.intake.migrations.0003_default_channels").add(
        apps, None
    )
"""


# --- 1. the web process killed while it writes ------------------------------------------


def test_killing_the_web_server_mid_write_leaves_no_half_written_inquiry(
    target, child_dir, tmp_path
):
    run_script(
        target,
        child_dir,
        ENSURE_CHANNELS
        + """
from leadflow.accounts.models import Role, User
User.objects.create(username="ines", role=Role.INSIDE_SALES, email="ines@example.be")
""",
    )
    token = manage(target, child_dir, "create_api_token", "ines").strip()
    assert token
    port = free_port()
    log = tmp_path / "web.log"
    answered: dict[str, int] = {}  # e-mail -> inquiry id, for every 201
    unanswered: list[str] = []  # sent, but the connection died without an answer
    other: list[tuple[str, int]] = []
    lock = threading.Lock()

    def load(prefix: str, stop_event: threading.Event):
        n = 0
        while not stop_event.is_set():
            email = f"fault-{prefix}-{n}@example.be"
            n += 1
            payload = {
                "summary": f"Chairs for {email}",
                "channel": "phone",
                "contact": {
                    "name": f"Person {prefix} {n}",
                    "email": email,
                    "company": {"name": f"Firm {prefix} {n}"},
                },
            }
            try:
                status, body = request(port, "POST", "/api/inquiries", token, payload)
            except ConnectionRefusedError:
                return  # the server is gone: this request was never sent
            except (OSError, http.client.HTTPException):
                with lock:
                    unanswered.append(email)
                return
            with lock:
                if status == 201:
                    answered[email] = json.loads(body)["id"]
                else:
                    other.append((email, status))

    server = None
    try:
        for cycle in range(2):
            server = start_server(target, child_dir, log, port)
            stop_event = threading.Event()
            threads = [
                threading.Thread(target=load, args=(f"{cycle}{t}", stop_event))
                for t in range(4)
            ]
            before = len(answered)
            for t in threads:
                t.start()
            wait_for(lambda b=before: len(answered) >= b + 8, 30, "8 answers")
            time.sleep(0.05 * (cycle + 1))
            os.kill(server.pid, signal.SIGKILL)  # in the middle of the stream
            server.wait(timeout=10)
            stop_event.set()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads)
        # Restarted on the same file: it keeps working.
        server = start_server(target, child_dir, log, port)
        status, body = request(
            port,
            "POST",
            "/api/inquiries",
            token,
            {
                "summary": "After the crash",
                "channel": "phone",
                "contact": {"name": "After Crash", "email": "fault-after@example.be"},
            },
        )
        assert status == 201, body
        answered["fault-after@example.be"] = json.loads(body)["id"]
        status, body = request(port, "GET", "/api/inquiries?page_size=5", token)
        assert status == 200, body
    finally:
        stop(server)

    assert other == [], other
    print(
        f"\n{len(answered)} answered 201, {len(unanswered)} in flight at a kill "
        f"(committed: {target.value('SELECT count(*) FROM intake_inquiry')})"
    )
    # Every answered registration survived the crash.
    stored = dict(
        target.rows(
            "SELECT c.email, i.id FROM intake_inquiry i "
            "JOIN contacts_contact c ON c.id = i.contact_id"
        )
    )
    assert {e: stored.get(e) for e in answered} == answered
    # Every inquiry has exactly one registration row (its outbox entry and timeline).
    assert (
        target.rows(
            "SELECT i.id FROM intake_inquiry i WHERE (SELECT count(*) FROM "
            "intake_inquirytransition t WHERE t.inquiry_id = i.id AND "
            "t.data->>'event' = 'inquiry.registered') <> 1"
        )
        == []
    )
    # Each request named a new person: a contact (with its company and audit row)
    # exists exactly when its inquiry does; nothing from an unfinished request.
    assert (
        target.rows(
            "SELECT c.email FROM contacts_contact c WHERE c.email LIKE 'fault-%' AND "
            "(SELECT count(*) FROM intake_inquiry i WHERE i.contact_id = c.id) <> 1"
        )
        == []
    )
    assert (
        target.rows(
            "SELECT c.email FROM contacts_contact c WHERE c.email LIKE 'fault-%' AND "
            "(SELECT count(*) FROM audit_auditevent a WHERE a.subject_id = c.id AND "
            "a.event_type = 'contact.created') <> 1"
        )
        == []
    )
    assert (
        target.rows(
            "SELECT co.name FROM contacts_company co WHERE co.name LIKE 'Firm %' AND "
            "NOT EXISTS (SELECT 1 FROM contacts_contact c WHERE c.company_id = co.id)"
        )
        == []
    )
    for email in unanswered:  # all or nothing for the requests cut off by the kill
        assert (email in stored) == bool(
            target.value(
                f"SELECT count(*) FROM contacts_contact WHERE email = '{email}'"
            )
        )
    if target.vendor == "sqlite":
        assert target.value("PRAGMA journal_mode") == "wal"
        assert target.rows("PRAGMA integrity_check") == [("ok",)]
        assert target.rows("PRAGMA foreign_key_check") == []


# --- 2. the worker killed while it works --------------------------------------------------

SETUP_RULE = (
    ENSURE_CHANNELS
    + """
from django.conf import settings
from leadflow.accounts.models import Role, User
from leadflow.contacts.actions import ContactData
from leadflow.intake.actions import InquiryInput, register_inquiry
from leadflow.workflows.models import NotificationRule

settings.LEADFLOW_OUTBOX_TASK = ""  # the test decides when the worker is woken
inside = User.objects.create(username="ines", role=Role.INSIDE_SALES)
director = User.objects.create(
    username="dirk", role=Role.SALES_DIRECTOR, email=EMAIL_DIRECTOR,
)
for n in range(SALES):
    User.objects.create(username=f"rep{n}", role=Role.SALES, email="")
rule = NotificationRule.objects.create(
    name="Every inquiry", event="inquiry.registered", recipient_roles=["sales"],
)
rule.recipient_users.set([director])
for n in range(ROWS):
    register_inquiry(
        InquiryInput(
            summary=f"Chairs {n}",
            channel="phone",
            contact=ContactData(name=f"Person {n}", email=f"p{n}@example.be"),
        ),
        actor=inside,
    )
"""
)

PENDING = "SELECT count(*) FROM intake_inquirytransition WHERE processed_at IS NULL"
NOTIFIED = "SELECT count(*) FROM workflows_notification"
RUNNING = (
    "SELECT task_path FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
)
EMAILS_WAITING = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'READY' "
    "AND task_path = 'leadflow.workflows.tasks.email_notification'"
)


def worker_args():
    return ("db_worker", "--interval", "0.1", "--no-reload", "--no-startup-delay")


def assert_exactly_once(target: Target, rows: int, recipients: int):
    assert target.value(PENDING) == 0
    assert target.value(NOTIFIED) == rows * recipients
    # one per (event, recipient): none twice, none missing
    assert (
        target.value(
            "SELECT count(*) FROM (SELECT DISTINCT source, recipient_id "
            "FROM workflows_notification) d"
        )
        == rows * recipients
    )
    assert (
        target.rows(
            "SELECT t.id FROM intake_inquirytransition t WHERE (SELECT count(*) FROM "
            "workflows_notification n WHERE n.source = "
            "'intake.inquirytransition:' || t.id) <> " + str(recipients)
        )
        == []
    )
    assert (
        target.value(
            "SELECT count(*) FROM audit_auditevent WHERE event_type = 'notification.sent'"
        )
        == rows * recipients
    )


def test_killing_the_worker_mid_outbox_loses_and_repeats_no_notification(
    target, child_dir, tmp_path
):
    rows, sales = 120, 2
    run_script(
        target,
        child_dir,
        f"EMAIL_DIRECTOR, SALES, ROWS = '', {sales}, {rows}\n"
        + SETUP_RULE
        + "\nfrom leadflow.workflows.tasks import process_outbox\n"
        "process_outbox.enqueue()\n",
    )
    assert target.value(PENDING) == rows
    log = tmp_path / "worker.log"
    worker = None
    try:
        worker = start(target, child_dir, log, *worker_args())
        wait_for(lambda: target.value(NOTIFIED) >= 30, 30, "the first notifications")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        pending = target.value(PENDING)
        assert 0 < pending < rows, "the kill came too late to test anything"
        # Nothing half-done: every claimed row has all its notifications.
        assert target.value(NOTIFIED) == (rows - pending) * (sales + 1)
        # django-tasks-db does not retry a task that was RUNNING when its worker died:
        # it stays RUNNING. The outbox rows, not the task, are the source of truth.
        assert target.rows(RUNNING) == [("leadflow.workflows.tasks.process_outbox",)]

        worker = start(target, child_dir, log, *worker_args())
        time.sleep(0.5)
        assert target.value(PENDING) == pending  # the restart alone does not resume
        # The scheduler's sweep (every minute under `make run`) picks them up.
        manage(target, child_dir, "run_jobs", "--job", "process_outbox", "--force")
        wait_for(lambda: target.value(PENDING) == 0, 30, "an empty outbox", 0.1)
    finally:
        stop(worker)
    assert_exactly_once(target, rows, sales + 1)


def test_killing_the_worker_mid_email_loses_and_repeats_no_email(
    target, child_dir, tmp_path
):
    rows = 6
    mail_log = tmp_path / "mail.log"
    mail_log.touch()
    run_script(
        target,
        child_dir,
        f"EMAIL_DIRECTOR, SALES, ROWS = 'dirk@example.be', 0, {rows}\n"
        + SETUP_RULE
        + "\nfrom leadflow.workflows.outbox import process_outbox\n"
        "result = process_outbox()\n",  # queues one e-mail task per notification
        FAULT_MAIL_LOG=str(mail_log),
    )
    assert target.value(NOTIFIED) == rows
    log = tmp_path / "worker.log"
    extra = {"FAULT_MAIL_LOG": str(mail_log), "FAULT_MAIL_DELAY": "0.2"}

    def lines(kind):
        return [x for x in mail_log.read_text().splitlines() if x.startswith(kind)]

    worker = None
    try:
        worker = start(target, child_dir, log, *worker_args(), **extra)
        # Kill while the third e-mail is certainly being sent.
        wait_for(lambda: len(lines("start ")) >= 3, 30, "the third e-mail")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        assert len(lines("start ")) == len(lines("sent ")) + 1
        assert target.rows(RUNNING) == [
            ("leadflow.workflows.tasks.email_notification",)
        ]
        worker = start(target, child_dir, log, *worker_args(), **extra)
        manage(target, child_dir, "run_jobs", "--job", "process_outbox", "--force")
        # The task cut off by the kill stays RUNNING; wait until every other one ran.
        wait_for(
            lambda: (
                target.value(EMAILS_WAITING) == 0 and len(target.rows(RUNNING)) == 1
            ),
            30,
            "every other e-mail task",
            0.1,
        )
        # Minutes later the scheduler's sweep hands the unsent one to a new task.
        run_script(
            target,
            child_dir,
            """
from datetime import timedelta
from django.utils import timezone
from leadflow.workflows.digest import resend_unsent
result = resend_unsent(now=timezone.now() + timedelta(minutes=3))
""",
        )
        wait_for(
            lambda: (
                target.value(EMAILS_WAITING) == 0
                and target.value(
                    "SELECT count(*) FROM workflows_notification WHERE emailed_at IS NULL"
                )
                == 0
            ),
            30,
            "the e-mail sent again",
            0.1,
        )
    finally:
        stop(worker)
    sent = [x.removeprefix("sent ") for x in lines("sent ")]
    assert len(sent) == len(set(sent)), "an e-mail was sent twice"
    # Every notification e-mailed once, none lost to the kill.
    assert (
        target.value(
            "SELECT count(*) FROM workflows_notification WHERE emailed_at IS NULL"
        )
        == 0
    )
    assert len(sent) == rows


# --- 3. a locked SQLite database ------------------------------------------------------------


def test_a_locked_sqlite_database_gives_the_api_client_a_clear_503(
    target, child_dir, tmp_path
):
    if target.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    run_script(
        target,
        child_dir,
        ENSURE_CHANNELS
        + """
from leadflow.accounts.models import Role, User
User.objects.create(username="ines", role=Role.INSIDE_SALES)
""",
    )
    token = manage(target, child_dir, "create_api_token", "ines").strip()
    port = free_port()
    log = tmp_path / "web.log"
    payload = {
        "summary": "Chairs",
        "channel": "phone",
        "contact": {"name": "Locked Out", "email": "locked@example.be"},
    }
    server = None
    # The holder waits for its lock: the server may still be closing its connection
    # (a checkpoint) just after it answered.
    holder = sqlite3.connect(target.path, timeout=10, isolation_level=None)
    try:
        server = start_server(target, child_dir, log, port, FAULT_DB_TIMEOUT="1")
        # The token's first use records last_used_at (a write); later uses within
        # five minutes only read.
        status, body = request(port, "GET", "/api/inquiries", token)
        assert status == 200, body
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        holder.execute("UPDATE accounts_user SET first_name = 'X' WHERE 1 = 0")
        # WAL: readers are not blocked by the writer.
        status, body = request(port, "GET", "/api/inquiries", token)
        assert status == 200, body
        started = time.monotonic()
        status, body = request(port, "POST", "/api/inquiries", token, payload)
        waited = time.monotonic() - started
        assert status == 503, body
        assert json.loads(body) == {
            "detail": "The database is busy or unavailable. Nothing was saved; "
            "try again.",
            "code": "database_busy",
        }
        assert 0.9 < waited < 10  # it waited for the busy timeout, then gave up
        holder.execute("ROLLBACK")
        status, body = request(port, "POST", "/api/inquiries", token, payload)
        assert status == 201, body
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        stop(server)
    # The refused attempt left nothing behind; the retry is there once.
    assert target.value("SELECT count(*) FROM intake_inquiry") == 1
    assert (
        target.value(
            "SELECT count(*) FROM contacts_contact WHERE email = 'locked@example.be'"
        )
        == 1
    )
