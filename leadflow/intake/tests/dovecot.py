"""A private dovecot IMAP server on 127.0.0.1 for the mail-intake tests.

``dovecot`` (the fixture) writes a temporary configuration (plain login on loopback,
one passwd-file user, a Maildir home), starts ``dovecot -F -c <conf>`` as a child
process on a free port, waits until the port accepts connections and stops it after
the test. Nothing is installed: without ``/usr/sbin/dovecot`` the test is skipped,
unless ``CI=true`` (``make test`` installs ``dovecot-imapd``), where that is a failure.

As a normal user dovecot runs its helpers and the mail processes as that user. As
root (CI containers) it needs unprivileged users: its own ``dovecot``/``dovenull`` for
the internal and login processes and ``nobody`` for the mailbox; the passwd-file and
the mail home then live in a directory of their own under the system temp dir (they
must be readable by those users, and pytest's tmp_path is 0700 root).
"""

import getpass
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = Path(os.environ.get("LEADFLOW_DOVECOT", "/usr/sbin/dovecot"))
USER = "sales"
PASSWORD = "mailbox-test-password"
START_TIMEOUT = 20.0  # seconds until the port must accept connections


@dataclass
class Mailbox:
    """The test mailbox: where to connect, and a few helpers driving it over IMAP."""

    host: str
    port: int
    user: str
    password: str
    home: Path

    def connect(self, folder: str = "INBOX") -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        client.select(folder)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.connect(folder)
        try:
            status, _data = client.append(folder, "", None, raw)
            assert status == "OK", _data
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> list[set[str]]:
        """The flags of every message in ``folder``, in mailbox order."""
        client = self.connect(folder)
        try:
            status, data = client.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK", data
            return [
                set(re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode().split())
                for line in data
                if line
            ]
        finally:
            client.logout()

    def create_folder(self, folder: str) -> None:
        client = self.connect()
        try:
            client.create(folder)
        finally:
            client.logout()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"dovecot exited with {process.returncode}: {_tail(log, process)}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dovecot did not listen on {port}: {_tail(log, process)}")


def _tail(log: Path, process: subprocess.Popen) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    if process.stderr is not None and process.poll() is not None:
        text += process.stderr.read().decode(errors="replace")
    return text[-2000:]


def _config(workdir: Path, home_root: Path, port: int, users: Path) -> str:
    if os.geteuid() == 0:
        internal, login = "dovecot", "dovenull"
        mail = pwd.getpwnam("nobody")
        uid, gid = mail.pw_uid, mail.pw_gid
    else:
        internal = login = getpass.getuser()
        uid, gid = os.getuid(), os.getgid()
    group = grp.getgrgid(gid).gr_name if os.geteuid() != 0 else None
    lines = [
        f"base_dir = {workdir / 'run'}",
        f"state_dir = {workdir / 'state'}",
        f"log_path = {workdir / 'dovecot.log'}",
        f"info_log_path = {workdir / 'dovecot.log'}",
        f"default_internal_user = {internal}",
        f"default_login_user = {login}",
        *([f"default_internal_group = {group}"] if group else []),
        "protocols = imap",
        "listen = 127.0.0.1",
        "ssl = no",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        f"first_valid_uid = {uid}",
        f"last_valid_uid = {uid}",
        f"first_valid_gid = {gid}",
        "mail_location = maildir:~/Maildir",
        "passdb {",
        "  driver = passwd-file",
        f"  args = {users}",
        "}",
        "userdb {",
        "  driver = static",
        f"  args = uid={uid} gid={gid} home={home_root}/%u",
        "}",
        "service imap-login {",
        "  chroot =",
        "  inet_listener imap {",
        "    address = 127.0.0.1",
        f"    port = {port}",
        "  }",
        "  inet_listener imaps {",
        "    port = 0",
        "  }",
        "}",
        "service anvil {",
        "  chroot =",
        "}",
        "service pop3-login {",
        "  inet_listener pop3 {",
        "    port = 0",
        "  }",
        "}",
        "service submission-login {",
        "  inet_listener submission {",
        "    port = 0",
        "  }",
        "}",
        "service stats {",
        "  inet_listener http {",
        "    port = 0",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def start_dovecot(workdir: Path) -> tuple[subprocess.Popen, Mailbox, Path | None]:
    """Start a dovecot for one test; returns the process, the mailbox and, as root,
    the separate mail home to remove afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "run").mkdir(exist_ok=True)
    (workdir / "state").mkdir(exist_ok=True)
    own_home = None
    shared = workdir
    if os.geteuid() == 0:
        # Readable by dovecot's unprivileged helpers: the passwd-file and the homes.
        own_home = Path(tempfile.mkdtemp(prefix="leadflow-dovecot-"))
        own_home.chmod(0o755)
        shared = own_home
    home_root = shared / "home"
    home_root.mkdir(exist_ok=True)
    if own_home is not None:
        nobody = pwd.getpwnam("nobody")
        os.chown(home_root, nobody.pw_uid, nobody.pw_gid)
    users = shared / "users"
    users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    users.chmod(0o644)
    last_error: Exception | None = None
    for _attempt in range(3):  # another process may take the free port first
        port = _free_port()
        conf = workdir / "dovecot.conf"
        conf.write_text(_config(workdir, home_root, port, users))
        process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for_port(port, process, workdir / "dovecot.log")
        except RuntimeError as exc:
            stop_dovecot(process)
            last_error = exc
            continue
        mailbox = Mailbox("127.0.0.1", port, USER, PASSWORD, home_root / USER)
        return process, mailbox, own_home
    if own_home is not None:
        shutil.rmtree(own_home, ignore_errors=True)
    raise RuntimeError(f"dovecot did not start: {last_error}")


def stop_dovecot(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()


@pytest.fixture
def dovecot(tmp_path) -> Iterator[Mailbox]:
    """A running private dovecot with one empty mailbox (user ``sales``)."""
    if not DOVECOT.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DOVECOT} is missing; make deps-test installs dovecot-imapd")
        pytest.skip(f"{DOVECOT} is not installed (apt-get install dovecot-imapd)")
    process, mailbox, own_home = start_dovecot(tmp_path / "dovecot")
    try:
        yield mailbox
    finally:
        stop_dovecot(process)
        if own_home is not None:
            shutil.rmtree(own_home, ignore_errors=True)
