#!/usr/bin/env python
"""Load test (issue 7): virtual users with a realistic mix against gunicorn + a worker.

    .venv/bin/python bench/load.py [--users 50 --seconds 300]            # SQLite (WAL)
    scripts/with-postgres.sh .venv/bin/python bench/load.py --postgres   # PostgreSQL 15

Builds a fresh database (``migrate``, ``load_demo``, ``generate_data``), starts
gunicorn (``config.wsgi``, ``-w 2 --threads 4``) with the production settings
(``config.settings.prod``: SECURE_SSL_REDIRECT=false because the loopback has no TLS;
the Secure cookies are still sent back by this client) and one task worker
(``manage.py db_worker --interval 1 --no-reload``), on 127.0.0.1 only. Each virtual
user logs in once (API token and web session), then runs a weighted mix of its
role's actions with think time until ``--seconds`` have passed. Prints per action:
count, errors, p50/p95/max ms and throughput; the 0-error check is printed, not
asserted. Both servers are always stopped (their own process groups).

An error is an exception, a status >= 500 or a 4xx the action does not expect; a
409 on closing an inquiry another user closed first is counted as ``conflict``.
"""

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, _stop, free_port, percentiles  # noqa: E402

PASSWORD = "demo-leadflow"
# role -> demo users (README); virtual users are spread over them round-robin
USERS = ["an", "tom", "marc", "sofie", "pieter", "eva", "lotte"]
CHANNELS = ["phone", "email", "web_form", "referral"]
REPORTS = ["sources", "win-rates", "pipeline", "efficiency", "cycle-times"]

# action -> weight per role; inside sales triage, salespeople work their leads,
# the director and marketing read figures. Everyone can register an inquiry.
MIX = {
    "inside": {
        "register": 4,
        "lookup": 4,
        "triage_api": 3,
        "triage_page": 2,
        "close": 3,
        "dashboard": 1,
    },
    "sales": {
        "register": 2,
        "lookup": 2,
        "board": 3,
        "forecast": 1,
        "dashboard": 2,
        "report": 1,
    },
    "director": {"board": 2, "forecast": 2, "report": 3, "dashboard": 2},
    "marketing": {"register": 1, "report": 3, "dashboard": 2, "triage_api": 1},
}
ROLE_OF = {
    "an": "inside",
    "sofie": "inside",
    "tom": "sales",
    "pieter": "sales",
    "lotte": "sales",
    "marc": "director",
    "eva": "marketing",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="use $DATABASE_URL (run under scripts/with-postgres.sh); default: a "
        "fresh SQLite file --db",
    )
    parser.add_argument("--db", default="/tmp/leadflow-load.sqlite3")
    parser.add_argument("--inquiries", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn -w")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn --threads")
    parser.add_argument(
        "--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX")
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--logs", default="/tmp/leadflow-load")
    return parser.parse_args()


SETTINGS = '''"""config.settings.prod for the load test (written by bench/load.py)."""
from config.settings.prod import *  # noqa: F403
from config.settings.prod import STORAGES

# collectstatic with the manifest storage fails in this checkout (the Chart.js
# source map is not copied to static_vendor/); the load test fetches no static files
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
'''


def server_env(args: argparse.Namespace, logs: Path) -> dict:
    (logs / "leadflow_load_settings.py").write_text(SETTINGS)
    env = {
        **os.environ,
        "PYTHONPATH": str(logs),
        "DJANGO_SETTINGS_MODULE": "leadflow_load_settings",
        "SECRET_KEY": "load-test-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        # the worker sends the notification mails; no SMTP server on this machine
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    if not args.postgres:
        env["DATABASE_URL"] = f"sqlite:///{args.db}"
    elif not env.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("--postgres: run under scripts/with-postgres.sh")
    return env


def manage(env: dict, *command: str) -> None:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"  manage.py {' '.join(command)}: {time.perf_counter() - started:.0f} s")


def build(args: argparse.Namespace, env: dict) -> None:
    if not args.postgres:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
    manage(env, "migrate", "-v", "0")
    manage(env, "load_demo")
    manage(
        env,
        "generate_data",
        "--inquiries",
        str(args.inquiries),
        "--contacts",
        str(args.contacts),
        "--seed",
        str(args.seed),
    )


@contextmanager
def servers(args: argparse.Namespace, env: dict, logs: Path):
    """gunicorn (prod settings) and one db_worker, each in its own session."""
    port = free_port()
    web_cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--error-logfile",
        "-",
        "--log-level",
        "warning",
    ]
    worker_cmd = [sys.executable, "manage.py", "db_worker", "--interval", "1"]
    worker_cmd.append("--no-reload")
    procs = []
    try:
        for name, cmd in (("gunicorn", web_cmd), ("worker", worker_cmd)):
            with open(logs / f"{name}.log", "w") as out:
                procs.append(
                    subprocess.Popen(
                        cmd,
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            print(f"  {name} pid {procs[-1].pid}: {' '.join(cmd[1:])}")
        deadline = time.monotonic() + 60
        while True:
            for proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"{proc.args[0]} exited; see {logs}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer in 60 s") from exc
                time.sleep(0.3)
        yield port
    finally:
        for proc in reversed(procs):
            _stop(proc)  # SIGTERM, then SIGKILL to its process group
        print("  gunicorn and worker stopped")


# --- the virtual user --------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.conflicts: dict[str, int] = {}
        self.examples: list[str] = []

    def record(self, action: str, elapsed: float, outcome: str, detail: str = ""):
        with self.lock:
            self.samples.setdefault(action, []).append(elapsed)
            if outcome == "error":
                self.errors[action] = self.errors.get(action, 0) + 1
                if len(self.examples) < 20:
                    self.examples.append(f"{action}: {detail[:300]}")
            elif outcome == "conflict":
                self.conflicts[action] = self.conflicts.get(action, 0) + 1


class VirtualUser:
    def __init__(self, port: int, username: str, rng: random.Random, stats: Stats):
        self.port = port
        self.username = username
        self.role = ROLE_OF[username]
        self.rng = rng
        self.stats = stats
        self.conn = None
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.open_ids: list[int] = []
        self.contacts: list[int] = []  # contact ids seen in the queue
        self.emails: list[str] = []  # e-mail addresses this user registered

    def request(self, method: str, path: str, body=None, api=True, form=False):
        headers = {}
        if api:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            if form:
                body = urllib.parse.urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(body)
                headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60
                )
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (
                http.client.RemoteDisconnected,
                BrokenPipeError,
                ConnectionResetError,
            ):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.will_close:
                self.conn.close()
                self.conn = None
            return response.status, data
        raise AssertionError("unreachable")

    def login(self) -> None:
        status, data = self.request(
            "POST",
            "/api/auth/token",
            {"username": self.username, "password": PASSWORD},
            api=False,
        )
        if status != 200:
            raise RuntimeError(f"token for {self.username}: {status} {data[:200]!r}")
        self.token = json.loads(data)["token"]
        status, data = self.request("GET", "/login/", api=False)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', data)
        if status != 200 or not match:
            raise RuntimeError(f"login page: {status}")
        status, data = self.request(
            "POST",
            "/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": match.group(1).decode(),
            },
            api=False,
            form=True,
        )
        if status != 302:
            raise RuntimeError(f"web login for {self.username}: {status}")

    # each action returns (status, body, expected statuses, conflict statuses)
    def act_register(self):
        rng = self.rng
        if self.contacts and rng.random() < 0.5:  # somebody known, by id
            body = {"contact_id": rng.choice(self.contacts)}
        else:
            n = rng.randrange(10**9)
            body = {
                "contact": {
                    "name": f"Load Tester {n}",
                    "email": f"load{n}@load-{n % 997}.example",
                    "phone": f"+3247{n % 10**7:07d}",
                    "company": {"name": f"Loadbedrijf {n % 997} BV", "size": 20},
                }
            }
        body.update(
            summary="Vraag naar een offerte voor 12 werkplekken, levering in maart.",
            channel=rng.choice(CHANNELS),
        )
        status, data = self.request("POST", "/api/inquiries", body)
        if status == 201 and "contact" in body:
            self.emails = (self.emails + [body["contact"]["email"]])[-20:]
        return status, data, {201}, set()

    def act_lookup(self):
        rng = self.rng
        if self.emails and rng.random() < 0.5:  # somebody registered before
            body = {"email": rng.choice(self.emails)}
        elif rng.random() < 0.3:  # a phone number typed as heard
            body = {"phone": f"0470 {rng.randrange(10**6):06d}"}
        else:
            body = {"name": rng.choice(["Peeters", "Janssens", "Maes", "Jacobs"])}
        status, data = self.request("POST", "/api/intake/lookup", body)
        return status, data, {200}, set()

    def act_triage_api(self):
        page = self.rng.choice([1, 1, 1, 2])
        status, data = self.request("GET", f"/api/inquiries?status=open&page={page}")
        if status == 200:
            items = json.loads(data).get("items", [])
            self.open_ids = [item["id"] for item in items]
            self.contacts = [item["contact_id"] for item in items] or self.contacts
        return status, data, {200}, set()

    def act_triage_page(self):
        status, data = self.request("GET", "/inquiries/", api=False)
        return status, data, {200}, set()

    def act_close(self):
        if not self.open_ids:
            return self.act_triage_api()
        inquiry = self.open_ids.pop(self.rng.randrange(len(self.open_ids)))
        outcome = self.rng.choice(["qualified", "nurture", "archived", "archived"])
        body = {"outcome": outcome}
        if outcome == "archived":
            body["reason"] = "Geen budget dit jaar (load test)."
        status, data = self.request("POST", f"/api/inquiries/{inquiry}/close", body)
        return status, data, {200}, {409}  # another user closed it first

    def act_board(self):
        status, data = self.request("GET", "/pipeline/", api=False)
        return status, data, {200}, set()

    def act_forecast(self):
        by = self.rng.choice(["month", "service"])
        status, data = self.request("GET", f"/api/forecast?by={by}")
        return status, data, {200}, set()

    def act_report(self):
        report = self.rng.choice(REPORTS)
        status, data = self.request("GET", f"/api/analytics/{report}")
        return status, data, {200}, set()

    def act_dashboard(self):
        status, data = self.request("GET", "/", api=False)
        return status, data, {200}, set()

    def run(self, deadline: float, think: tuple[float, float]) -> None:
        mix = MIX[self.role]
        actions, weights = list(mix), list(mix.values())
        if "triage_api" in mix or "lookup" in mix:
            self.timed("triage_api", self.act_triage_api)
        while time.monotonic() < deadline:
            action = self.rng.choices(actions, weights)[0]
            self.timed(action, getattr(self, f"act_{action}"))
            pause = self.rng.uniform(*think)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        if self.conn is not None:
            self.conn.close()

    def timed(self, action: str, fn) -> None:
        started = time.perf_counter()
        try:
            status, data, expected, conflict = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            elapsed = time.perf_counter() - started
            self.stats.record(action, elapsed, "error", f"{type(exc).__name__}: {exc}")
            return
        elapsed = time.perf_counter() - started
        if status in expected:
            self.stats.record(action, elapsed, "ok")
        elif status in conflict:
            self.stats.record(action, elapsed, "conflict")
        else:
            self.stats.record(action, elapsed, "error", f"{status} {data[:300]!r}")


def drive(args: argparse.Namespace, port: int) -> tuple[Stats, float]:
    stats = Stats()
    vus = [
        VirtualUser(
            port, USERS[i % len(USERS)], random.Random(args.seed * 1000 + i), stats
        )
        for i in range(args.users)
    ]
    started = time.perf_counter()
    login_errors = []
    for vu in vus:  # once per user, one after the other: no lockout, no login storm
        try:
            vu.login()
        except Exception as exc:  # noqa: BLE001
            login_errors.append(f"{vu.username}: {exc}")
    print(f"  {len(vus)} logins (token + web) in {time.perf_counter() - started:.1f} s")
    if login_errors:
        raise SystemExit("login failed: " + "; ".join(login_errors[:5]))
    deadline = time.monotonic() + args.seconds
    threads = []
    for vu in vus:  # ramp up over the first ~5 s
        thread = threading.Thread(target=vu.run, args=(deadline, tuple(args.think)))
        thread.start()
        threads.append(thread)
        time.sleep(5.0 / len(vus))
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return stats, time.perf_counter() - started + 5.0


def report(stats: Stats, wall: float, args: argparse.Namespace, db: str) -> int:
    print(
        f"\n{args.users} users, {wall:.0f} s, {db}, gunicorn -w {args.workers} "
        f"--threads {args.threads} + 1 db_worker, think {args.think[0]}-{args.think[1]} s"
    )
    header = (
        f"| {'action':<12} | count | errors | 409 | p50 ms | p95 ms | max ms | req/s |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    total = errors = 0
    for action in sorted(stats.samples):
        samples = stats.samples[action]
        q = percentiles(samples)
        err = stats.errors.get(action, 0)
        total += len(samples)
        errors += err
        print(
            f"| {action:<12} | {len(samples):5} | {err:6} | "
            f"{stats.conflicts.get(action, 0):3} | {q['p50']:6.0f} | {q['p95']:6.0f} | "
            f"{max(samples) * 1000:6.0f} | {len(samples) / wall:5.1f} |"
        )
    print(
        f"| {'all':<12} | {total:5} | {errors:6} |     |        |        |        | "
        f"{total / wall:5.1f} |"
    )
    print(f"\n0 errors: {'yes' if errors == 0 else f'NO ({errors})'}")
    for example in stats.examples:
        print("  " + example)
    return errors


def main() -> None:
    args = parse_args()
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    env = server_env(args, logs)
    db = "PostgreSQL" if args.postgres else f"SQLite {args.db}"
    print(f"Setup on {db} (config.settings.prod, plain static storage)")
    build(args, env)
    print(f"  load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    with servers(args, env, logs) as port:
        stats, wall = drive(args, port)
    print(f"  load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    report(stats, wall, args, db)


if __name__ == "__main__":
    main()
