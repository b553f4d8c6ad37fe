#!/usr/bin/env python
"""Leadflow benchmarks on SQLite: intake lookup, triage inbox, registrations per second.

    .venv/bin/python bench/run.py [--inquiries 1000000 --contacts 300000]
                                  [--db /tmp/bench.sqlite3] [--reuse] [--analyze]
                                  [--skip-intake] [--http] [--pipeline]

``--http`` adds (d): registrations and lookups over HTTP against gunicorn with two
worker processes on a loopback port (started and always stopped by the bench).
``--pipeline`` adds (e): brings the database to 10,000 open / 300,000 closed
qualified leads with activities (bench/pipeline_data.py; this changes the data, so
run (a)-(c) first when comparing with earlier figures), then measures the pipeline
board, its columns, the lists and the record page.

Builds (or reuses) a database with ``manage.py generate_data``, then measures in one
process with ``time.perf_counter`` and prints figures; it asserts nothing. Targets
from the issue: lookup p95 < 20 ms, inbox p95 < 150 ms, >= 200 registrations/s.
The registrations are measured last because they add open inquiries to the queue.
"""

import argparse
import http.client
import json
import os
import platform
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGET_LOOKUP_P95_MS = 20.0
TARGET_INBOX_P95_MS = 150.0
TARGET_REGISTRATIONS_PER_S = 200.0
SLOW_QUERY_MS = 5.0
SLOW_QUERIES: list[tuple[str, float, str, list[str]]] = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inquiries", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--companies", type=int, default=None)
    parser.add_argument("--db", default="/tmp/bench.sqlite3")
    parser.add_argument(
        "--reuse", action="store_true", help="keep an existing database file"
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run ANALYZE before measuring (the app never does; default off)",
    )
    parser.add_argument("--lookups", type=int, default=600)
    parser.add_argument("--registrations", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=30, help="runs per inbox page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip-intake",
        action="store_true",
        help="skip (a)-(c) and their plans (the lookup samples are still drawn)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="(d) registrations and lookups over HTTP against gunicorn",
    )
    parser.add_argument("--http-workers", type=int, default=2)
    parser.add_argument("--http-threads", type=int, default=4, help="client threads")
    parser.add_argument("--http-registrations", type=int, default=1200)
    parser.add_argument(
        "--http-seconds", type=float, default=120, help="time limit per HTTP run"
    )
    parser.add_argument(
        "--pipeline",
        action="store_true",
        help="(e) pipeline board, lists and record page of qualified leads; first "
        "brings the data to --pipeline-open / --pipeline-closed leads",
    )
    parser.add_argument("--pipeline-open", type=int, default=10_000)
    parser.add_argument("--pipeline-closed", type=int, default=300_000)
    parser.add_argument(
        "--pipeline-repeat", type=int, default=20, help="runs per pipeline page"
    )
    parser.add_argument(
        "--workflows",
        action="store_true",
        help="(f) the workflow outbox, escalations and webhooks on their own fresh "
        "database (bench/workflows.py; its options: bench/workflows.py --help)",
    )
    return parser.parse_args()


def setup_django(db: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- small statistics helpers ------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000.0


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds of samples given in seconds."""
    if len(samples) < 2:
        value = ms(samples[0]) if samples else float("nan")
        return {"p50": value, "p95": value, "p99": value, "n": len(samples)}
    q = statistics.quantiles([ms(s) for s in samples], n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "n": len(samples)}


def timed(fn: Callable, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


class Report:
    """Collects result rows and prints them with their ratio to the baselines."""

    def __init__(self, select1: float, full_scan: float):
        self.select1 = select1
        self.full_scan = full_scan
        self.rows: list[tuple[str, dict[str, float]]] = []

    def add(self, label: str, samples: list[float]) -> dict[str, float]:
        stats = percentiles(samples)
        self.rows.append((label, stats))
        print(
            f"  {label:<46} n={stats['n']:<5} p50 {stats['p50']:8.2f} ms  "
            f"p95 {stats['p95']:8.2f} ms  p99 {stats['p99']:8.2f} ms  "
            f"(p50 = {stats['p50'] / ms(self.select1):,.0f}x SELECT 1, "
            f"{stats['p50'] / ms(self.full_scan):.3f}x full scan)"
        )
        return stats


class SqlTimer:
    """Where an operation's time goes: SQL statements by kind, COMMIT, connecting.

    Installed with ``connection.execute_wrapper`` (a few microseconds a statement).
    Statement time is the execute call: for SQLite that runs the query up to its
    first row, so it includes sorting but not fetching the remaining rows.
    """

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def _add(self, kind: str, seconds: float) -> None:
        self.seconds[kind] = self.seconds.get(kind, 0.0) + seconds
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self._add(
                sql.lstrip().split(None, 1)[0].upper(), time.perf_counter() - started
            )

    @contextmanager
    def active(self):
        from django.db import connection

        originals = {name: getattr(connection, name) for name in ("_commit", "connect")}

        def timing(name):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return originals[name](*args, **kwargs)
                finally:
                    self._add(name.strip("_").upper(), time.perf_counter() - started)

            return wrapper

        for name in originals:
            setattr(connection, name, timing(name))
        try:
            with connection.execute_wrapper(self):
                yield self
        finally:
            for name in originals:
                delattr(connection, name)

    def describe(self, operations: int, total: float) -> str:
        parts = [
            f"{kind} {ms(self.seconds[kind]) / operations:.2f} ms"
            f" ({self.counts[kind] / operations:.1f}x)"
            for kind in sorted(self.seconds, key=self.seconds.get, reverse=True)
        ]
        sql = sum(self.seconds.values())
        rest = ms(total - sql) / operations
        return (
            f"per operation {ms(total) / operations:.2f} ms = "
            + ", ".join(parts)
            + f"; Python (Django, ORM, app code) {rest:.2f} ms"
        )


# --- building the database --------------------------------------------------------


def build_database(args: argparse.Namespace, db: Path) -> float | None:
    from django.core.management import call_command

    if args.reuse and db.exists():
        print(f"Reusing {db}")
        call_command("migrate", verbosity=0)
        return None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    print(f"Building {db}: migrate, then generate_data")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command(
        "generate_data",
        inquiries=args.inquiries,
        contacts=args.contacts,
        companies=args.companies,
        seed=args.seed,
    )
    return time.perf_counter() - started


# --- the measurements --------------------------------------------------------------


def baselines() -> tuple[float, float]:
    """A trivial round trip and the unindexed equivalent of an e-mail lookup."""
    from django.db import connection

    from leadflow.contacts.models import Contact

    with connection.cursor() as cursor:

        def select1():
            cursor.execute("SELECT 1")
            cursor.fetchone()

        select1_samples = timed(select1, 2000)
    email = Contact.objects.order_by("-id").values_list("email", flat=True).first()
    # email__iexact on the raw column: no index, a full scan of contacts.
    scan_samples = timed(
        lambda: list(Contact.objects.filter(email__iexact=email).values_list("pk")), 15
    )

    def reconnect():
        connection.close()
        connection.ensure_connection()

    # Django's test client keeps one connection for all requests; in production
    # (CONN_MAX_AGE=0) every request opens one and runs the init PRAGMAs.
    connect = statistics.median(timed(reconnect, 50))
    select1 = statistics.median(select1_samples)
    full_scan = statistics.median(scan_samples)
    print(
        f"  SELECT 1 round trip (cursor)                    p50 {ms(select1):8.4f} ms"
    )
    print(
        f"  new connection + init PRAGMAs (CONN_MAX_AGE=0)  p50 {ms(connect):8.4f} ms"
        "  (not in the figures below: the test client keeps its connection)"
    )
    print(
        f"  full scan: contacts WHERE email LIKE x (no index) p50 {ms(full_scan):8.2f} ms"
        f"  ({full_scan / select1:,.0f}x SELECT 1)"
    )
    return select1, full_scan


def phone_variants(phone_key: str) -> list[str]:
    """How people type a number: national with spaces, slashes, 0032, E.164..."""
    import phonenumbers

    parsed = phonenumbers.parse(phone_key, None)
    international = phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    digits = phone_key.lstrip("+")
    variants = [
        phone_key,
        international,
        "00" + digits,
        international.replace(" ", "."),
    ]
    if parsed.country_code == 32:  # typed in the default country: national forms too
        national = phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.NATIONAL
        )
        compact = re.sub(r"\D", "", national)
        variants += [
            national,
            compact,
            f"{compact[:4]}/{compact[4:6]}.{compact[6:8]}.{compact[8:]}",
        ]
    return variants


def lookup_samples(count: int, rng: random.Random) -> list[tuple[str, dict]]:
    """A realistic mix of what is typed at intake, from random stored contacts."""
    from leadflow.contacts.models import Contact

    first_id = Contact.objects.order_by("id").values_list("id", flat=True).first()
    last_id = Contact.objects.order_by("-id").values_list("id", flat=True).first()
    ids = rng.sample(
        range(first_id, last_id + 1), min(count * 2, last_id - first_id + 1)
    )
    contacts = list(Contact.objects.select_related("company").filter(pk__in=ids))
    rng.shuffle(contacts)
    samples: list[tuple[str, dict]] = []
    for contact in contacts:
        if len(samples) >= count:
            break
        roll = rng.random()
        if roll < 0.30 and contact.email:
            email = contact.email
            if rng.random() < 0.3:
                email = f" {email.upper()} "
            samples.append(("email", {"email": email}))
        elif roll < 0.55 and contact.phone_key:
            samples.append(
                ("phone", {"phone": rng.choice(phone_variants(contact.phone_key))})
            )
        elif roll < 0.80:
            words = contact.name.split()
            last = max(words[1:] or words, key=len)
            partial = last[: rng.randint(3, min(6, len(last)))].lower()
            if rng.random() < 0.4:
                partial = f"{words[0]} {partial}"
            query = {"name": partial}
            if contact.company_id and rng.random() < 0.25:
                query["company"] = contact.company.name.split()[0]
            samples.append(("name", query))
        elif contact.company_id:
            name = contact.company.name
            choice = rng.random()
            if choice < 0.4:
                typed = name
            elif choice < 0.7:
                typed = name.rsplit(" ", 1)[0]  # without the legal form
            else:
                first_word = name.split()[0]
                typed = first_word[: max(3, len(first_word) - 2)]
            samples.append(("company", {"company": typed}))
    return samples


def measure_lookups(report: Report, user, client, headers, samples) -> dict:
    from leadflow.intake.queries import lookup

    for _kind, query in samples[:20]:  # warm up the page cache and the ORM
        lookup(user, **query)
    by_kind: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    everything = []
    with SqlTimer().active() as timer:
        for kind, query in samples:
            started = time.perf_counter()
            result = lookup(user, **query)
            elapsed = time.perf_counter() - started
            by_kind.setdefault(kind, []).append(elapsed)
            found[kind] = found.get(kind, 0) + bool(result.contacts or result.companies)
            everything.append(elapsed)
    results = {"queries": report.add("lookup() all kinds", everything)}
    for kind, values in sorted(by_kind.items()):
        report.add(f"lookup() by {kind} ({found[kind]}/{len(values)} found)", values)
    print(f"    lookup(): {timer.describe(len(samples), sum(everything))}")
    api = []
    with SqlTimer().active() as timer:
        for _kind, query in samples:
            started = time.perf_counter()
            response = client.post(
                "/api/intake/lookup",
                data=json.dumps(query),
                content_type="application/json",
                **headers,
            )
            api.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"lookup API answered {response.status_code}: {query}")
    results["api"] = report.add("POST /api/intake/lookup", api)
    print(f"    API: {timer.describe(len(samples), sum(api))}")
    return results


def measure_inbox(report: Report, user, client, headers, repeat: int) -> dict:
    from leadflow.intake.models import Channel, Inquiry
    from leadflow.intake.queries import QueueFilters, triage_queue

    open_count = Inquiry.objects.open().count()
    web_form = Channel.objects.get(code="web_form")
    pages = max(1, -(-open_count // 50))
    print(f"  ({open_count:,} open inquiries; {pages:,} API pages of 50)")
    urls = {
        "GET /api/inquiries?status=open page 1": "/api/inquiries?status=open",
        f"GET /api/inquiries?status=open page {pages // 2}": (
            f"/api/inquiries?status=open&page={max(1, pages // 2)}"
        ),
        f"GET /api/inquiries?status=open page {pages} (last)": (
            f"/api/inquiries?status=open&page={pages}"
        ),
        "GET /api/inquiries?status=open&channel=web_form": (
            "/api/inquiries?status=open&channel=web_form"
        ),
    }
    results = {}
    worst = []
    for label, url in urls.items():
        assert client.get(url, **headers).status_code == 200, url
        with SqlTimer().active() as timer:
            samples = timed(lambda url=url: client.get(url, **headers), repeat)
        results[label] = report.add(label, samples)
        print(f"    {timer.describe(repeat, sum(samples))}")
        worst += samples
    results["api"] = percentiles(worst)
    client.force_login(user)
    probe = client.get("/inquiries/")
    if probe.status_code == 200:
        html_pages = max(1, -(-open_count // 25))
        html = {
            "GET /inquiries/ (HTML inbox) page 1": "/inquiries/",
            f"GET /inquiries/?page={html_pages // 2} (HTML)": (
                f"/inquiries/?page={max(1, html_pages // 2)}"
            ),
            "GET /inquiries/?channel=web_form (HTML)": f"/inquiries/?channel={web_form.pk}",
        }
        worst = []
        for label, url in html.items():
            assert client.get(url).status_code == 200, url
            with SqlTimer().active() as timer:
                samples = timed(lambda url=url: client.get(url), repeat)
            results[label] = report.add(label, samples)
            print(f"    {timer.describe(repeat, sum(samples))}")
            worst += samples
        results["html"] = percentiles(worst)
    else:
        print(
            f"  GET /inquiries/ answered {probe.status_code}: measuring the triage_queue "
            "query and its count instead of the HTML page"
        )

        def queue_page():
            qs = triage_queue(user, QueueFilters())
            qs.count()
            list(qs[:25])

        results["html"] = report.add(
            "triage_queue() page 1 + count", timed(queue_page, repeat)
        )
    return results


def registration_payloads(count: int, rng) -> list[dict]:
    """40% somebody new (often at a new company), 30% known by e-mail, 30% by id."""
    from leadflow.contacts.models import Contact
    from leadflow.intake import demo

    first_id = Contact.objects.order_by("id").values_list("id", flat=True).first()
    last_id = Contact.objects.order_by("-id").values_list("id", flat=True).first()
    known = list(
        Contact.objects.select_related("company")
        .filter(pk__in=rng.sample(range(first_id, last_id + 1), count))
        .exclude(email="")
    )
    run = f"{time.time_ns() // 1_000_000:x}"  # unique per call: new names stay new
    payloads = []
    for i in range(count):
        roll = rng.random()
        summary = demo.question(rng)
        channel = rng.choice(["phone", "email", "web_form", "referral"])
        if roll < 0.4 or not known:  # somebody new, often from a new company
            city = demo.pick_city(rng)
            first, last = demo.person_name(rng, city.country)
            company = f"Benchbedrijf {run}-{i} BV" if rng.random() < 0.7 else ""
            contact = {
                "name": f"{first} {last}",
                "email": demo.email_address(first, last, f"bench{run}-{i}.be"),
                "phone": demo.phone_number(rng, city, mobile=True),
            }
            if company:
                contact["company"] = {"name": company, "size": rng.randint(5, 200)}
            payloads.append(
                {"contact": contact, "summary": summary, "channel": channel}
            )
        elif roll < 0.7:  # known, typed again: matched on the e-mail address
            c = rng.choice(known)
            contact = {"name": c.name, "email": c.email}
            if c.company_id:
                contact["company"] = {"name": c.company.name}
            payloads.append(
                {"contact": contact, "summary": summary, "channel": channel}
            )
        else:  # known, picked from the lookup: by id
            c = rng.choice(known)
            payloads.append(
                {"contact_id": c.pk, "summary": summary, "channel": channel}
            )
    return payloads


def measure_registrations(report: Report, client, headers, count: int, rng) -> float:
    payloads = registration_payloads(count, rng)
    samples = []
    timer = SqlTimer()
    started = time.perf_counter()
    with timer.active():
        for payload in payloads:
            t0 = time.perf_counter()
            response = client.post(
                "/api/inquiries",
                data=json.dumps(payload),
                content_type="application/json",
                **headers,
            )
            samples.append(time.perf_counter() - t0)
            if response.status_code != 201:
                raise SystemExit(
                    f"register answered {response.status_code}: {response.content}"
                )
    elapsed = time.perf_counter() - started
    report.add("POST /api/inquiries (latency)", samples)
    print(f"    {timer.describe(count, sum(samples))}")
    rate = count / elapsed
    print(f"  {count} registrations in {elapsed:.2f} s: {rate:,.0f} registrations/s")
    return rate


# --- query plans -----------------------------------------------------------------


def explain(label: str, fn: Callable) -> list[str]:
    """Run fn, then EXPLAIN QUERY PLAN and time every SQL statement it issued."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        fn()
        total = time.perf_counter() - started
    print(f"\n### {label}: {len(captured)} queries, {ms(total):.2f} ms in all")
    full_scans = []
    sql_total = 0.0
    writes = 0
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                writes += not sql.startswith(
                    ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
                )
                continue
            runs = []
            for _ in range(5):
                t0 = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                runs.append(time.perf_counter() - t0)
            cost = statistics.median(runs)
            sql_total += cost
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = [row[3] for row in cursor.fetchall()]
            short = re.sub(r"\s+", " ", sql)
            slow = "   <-- SLOW" if ms(cost) >= SLOW_QUERY_MS else ""
            cut = "…" if len(short) > 300 else ""
            print(f"- {ms(cost):7.2f} ms{slow}  {short[:300]}{cut}")
            coroutines = {
                line.split(" ", 1)[1]
                for line in plan
                if line.startswith(("CO-ROUTINE ", "MATERIALIZE "))
            }
            for line in plan:
                flag = ""
                # A whole table, or a whole index in place of it (no WHERE on it).
                scan = re.match(
                    r"SCAN (\S+)( AS \S+)?( USING (COVERING )?INDEX \S+)?$", line
                )
                if (
                    scan
                    and scan.group(1) not in coroutines
                    and not scan.group(1).startswith("(")
                ):
                    rows = table_rows(cursor, scan.group(1))
                    flag = f"   <-- FULL TABLE SCAN ({rows:,} rows)"
                    if rows >= 1000:
                        full_scans.append(f"{label}: {line} ({rows:,} rows) in {short}")
                print(f"      {line}{flag}")
            if slow:
                SLOW_QUERIES.append((label, cost, short, plan))
    if writes:
        print(f"  (+ {writes} INSERT/UPDATE/DELETE statements, not re-run)")
    print(
        f"  SQL alone (SELECTs re-run): {ms(sql_total):.2f} ms of {ms(total):.2f} ms "
        f"(the rest is Python: ORM, permissions, serialisation, writes)"
    )
    return full_scans


def table_rows(cursor, table: str) -> int:
    try:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
    except Exception:  # an alias, not a table
        return 0
    return cursor.fetchone()[0]


def show_plans(user, client, headers, samples) -> list[str]:
    from leadflow.intake.queries import lookup

    scans = []
    seen = set()
    for kind, query in samples:
        if kind in seen:
            continue
        seen.add(kind)
        scans += explain(f"lookup by {kind} {query}", lambda q=query: lookup(user, **q))
    scans += explain(
        "GET /api/inquiries?status=open (page 1 + count)",
        lambda: client.get("/api/inquiries?status=open", **headers),
    )
    from leadflow.intake.models import Inquiry

    middle = max(1, Inquiry.objects.open().count() // 100)
    scans += explain(
        f"GET /api/inquiries?status=open&page={middle} (OFFSET {(middle - 1) * 50:,})",
        lambda: client.get(f"/api/inquiries?status=open&page={middle}", **headers),
    )
    scans += explain(
        "GET /api/inquiries?status=open&channel=web_form",
        lambda: client.get("/api/inquiries?status=open&channel=web_form", **headers),
    )
    if client.get("/inquiries/").status_code == 200:
        scans += explain(
            "GET /inquiries/ (HTML inbox)", lambda: client.get("/inquiries/")
        )
    scans += explain(
        "POST /api/inquiries (a new contact at a new company)",
        lambda: client.post(
            "/api/inquiries",
            data=json.dumps(
                {
                    "contact": {
                        "name": "Plan Peeters",
                        "email": f"plan.{time.time_ns()}@plan-peeters.be",
                        "phone": "0475 11 22 33",
                        "company": {"name": f"Plan {time.time_ns()} BV"},
                    },
                    "summary": "Offerte gevraagd: schroefcompressor 37 kW.",
                    "channel": "phone",
                }
            ),
            content_type="application/json",
            **headers,
        ),
    )
    return scans


# --- over HTTP: gunicorn with two worker processes -------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the gunicorn master (it stops its workers), SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: master and workers
        proc.wait(timeout=10)


@contextmanager
def gunicorn(db: Path, workers: int, log: Path):
    """Start gunicorn on a free loopback port; always stop it on the way out."""
    binary = Path(sys.executable).parent / "gunicorn"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"sqlite:///{db}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
    }
    env.pop("CONN_MAX_AGE", None)  # the default (0): a connection per request
    command = [
        str(binary),
        "config.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--error-logfile",
        "-",
        "--log-level",
        "warning",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    print(f"  gunicorn pid {proc.pid}: {' '.join(command[1:])} (log {log})")
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/inquiries")
                conn.getresponse().read()
                conn.close()
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"gunicorn did not answer in 60 s; see {log}"
                    ) from exc
                time.sleep(0.2)
        yield port
    finally:
        _stop(proc)
        print(f"  gunicorn stopped (exit code {proc.returncode})")


def drive(port: int, requests: list, threads: int, seconds: float, headers: dict):
    """Send requests from ``threads`` threads, each with its own HTTP connection
    (kept alive when the server allows it), until done or ``seconds`` have passed.

    Returns (latencies in s of 2xx answers, wall time, statuses, bodies of failures,
    connections the server closed)."""
    pending = iter(requests)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failures: list[str] = []
    closed = [0]
    deadline = time.perf_counter() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    if time.perf_counter() > deadline:
                        return
                    item = next(pending, None)
                if item is None:
                    return
                method, path, body = item
                started = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    status = str(response.status)
                    will_close = response.will_close
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    status, data, will_close = type(exc).__name__, b"", True
                elapsed = time.perf_counter() - started
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    closed[0] += will_close
                    if status.startswith("2"):
                        latencies.append(elapsed)
                    elif len(failures) < 20:
                        failures.append(f"{status} {data[:300]!r}")
        finally:
            conn.close()

    pool = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, time.perf_counter() - started, statuses, failures, closed[0]


def measure_http(report: Report, args, db: Path, key: str, lookups: list, rng) -> dict:
    """Registrations and lookups over HTTP against gunicorn -w 2 on this database."""
    log = Path(f"/tmp/bench-gunicorn-{os.getpid()}.log")
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    payloads = registration_payloads(args.http_registrations, rng)
    results: dict = {}
    with gunicorn(db, args.http_workers, log) as port:
        # Warm-up: both workers import the app, open their page cache.
        warm = [("POST", "/api/intake/lookup", json.dumps(q)) for _k, q in lookups[:40]]
        drive(port, warm, args.http_threads, 60, headers)
        for clients in sorted({1, args.http_threads}):
            label = f"HTTP POST /api/intake/lookup, {clients} client(s)"
            requests = [
                ("POST", "/api/intake/lookup", json.dumps(q)) for _k, q in lookups
            ]
            lat, wall, statuses, failures, closed = drive(
                port, requests, clients, args.http_seconds, headers
            )
            results[f"lookup {clients}"] = report.add(label, lat)
            print(
                f"    {len(lat)} answered in {wall:.2f} s = {len(lat) / wall:,.0f}/s; "
                f"statuses {statuses}; connections closed by the server {closed}"
            )
            for line in failures[:5]:
                print(f"    failure: {line}")
        requests = [("POST", "/api/inquiries", json.dumps(p)) for p in payloads]
        lat, wall, statuses, failures, closed = drive(
            port, requests, args.http_threads, args.http_seconds, headers
        )
        created = statuses.get("201", 0)
        results["registrations"] = report.add(
            f"HTTP POST /api/inquiries, {args.http_threads} clients (latency)", lat
        )
        rate = created / wall
        results["rate"] = rate
        results["statuses"] = statuses
        print(
            f"  {created} registrations of {len(payloads)} in {wall:.2f} s: "
            f"{rate:,.0f} registrations/s over HTTP; statuses {statuses}; "
            f"connections closed by the server {closed}"
        )
        for line in failures[:5]:
            print(f"    failure: {line}")
    text = log.read_text(errors="replace")
    locked = text.lower().count("database is locked")
    tracebacks = text.count("Traceback")
    results["locked"] = locked
    print(
        f"  server log: {locked} 'database is locked', {tracebacks} tracebacks, "
        f"{len(text.splitlines())} lines ({log})"
    )
    return results


# --- the qualified-lead pipeline: board, lists, record ------------------------------


def measure_pipeline(report: Report, repeat: int) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leadflow.accounts.models import Role, User
    from leadflow.opportunities.models import Opportunity, Stage
    from leadflow.opportunities.queries import BoardFilters, open_pipeline
    from leadflow.opportunities.states import OpportunityStatus

    director = (
        User.objects.filter(role=Role.SALES_DIRECTOR, is_active=True)
        .order_by("id")
        .first()
    )
    salesperson = (
        User.objects.filter(role=Role.SALES, is_active=True, team__isnull=False)
        .order_by("id")
        .first()
    )
    as_director, as_sales = Client(), Client()
    as_director.force_login(director)
    as_sales.force_login(salesperson)
    open_count = Opportunity.objects.filter(status=OpportunityStatus.OPEN).count()
    all_count = Opportunity.objects.count()
    sales_open = open_pipeline(salesperson, BoardFilters()).count()
    per_stage = dict(
        open_pipeline(director, BoardFilters())
        .order_by()
        .values_list("stage_id")
        .annotate(n=Count("id"))
    )
    stage = max(
        Stage.objects.filter(is_active=True), key=lambda s: per_stage.get(s.pk, 0)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.opportunity_id, count(*) FROM opportunities_activity a "
            "JOIN opportunities_opportunity o ON o.id = a.opportunity_id "
            "WHERE o.status = 'open' GROUP BY a.opportunity_id "
            "ORDER BY count(*) DESC, a.opportunity_id LIMIT 1"
        )
        row = cursor.fetchone()
    record = row[0] if row else Opportunity.objects.order_by("-id").first().pk
    html_last = max(1, -(-open_count // 25))
    html_all_mid = max(1, -(-all_count // 25) // 2)
    api_last = max(1, -(-open_count // 50))
    print(
        f"  {open_count:,} open and {all_count - open_count:,} closed qualified leads; "
        f"{salesperson.username} sees {sales_open:,} open (own + team); "
        f"open per stage {per_stage}; column measured: {stage.code} "
        f"({per_stage.get(stage.pk, 0):,} open); record page: lead {record}"
    )
    urls = [
        ("GET /pipeline/ (board) as director", as_director, "/pipeline/"),
        ("GET /pipeline/ (board) as salesperson", as_sales, "/pipeline/"),
        (
            f"GET /pipeline/column/{stage.pk}/?offset=20 (director)",
            as_director,
            f"/pipeline/column/{stage.pk}/?offset=20",
        ),
        (
            f"GET /pipeline/column/{stage.pk}/?offset=20 (salesperson)",
            as_sales,
            f"/pipeline/column/{stage.pk}/?offset=20",
        ),
        ("GET /opportunities/ (open) page 1", as_director, "/opportunities/"),
        (
            f"GET /opportunities/?page={html_last} (open, last)",
            as_director,
            f"/opportunities/?page={html_last}",
        ),
        (
            f"GET /opportunities/?status=all&page={html_all_mid}",
            as_director,
            f"/opportunities/?status=all&page={html_all_mid}",
        ),
        ("GET /opportunities/ page 1 as salesperson", as_sales, "/opportunities/"),
        (
            "GET /api/opportunities?status=open page 1",
            as_director,
            "/api/opportunities?status=open",
        ),
        (
            f"GET /api/opportunities?status=open page {api_last} (last)",
            as_director,
            f"/api/opportunities?status=open&page={api_last}",
        ),
        (
            "GET /api/opportunities?status=open as salesperson",
            as_sales,
            "/api/opportunities?status=open",
        ),
        (f"GET /opportunities/{record}/ (record page)", as_director, None),
    ]
    results = {}
    for label, client, url in urls:
        url = url or f"/opportunities/{record}/"
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        with SqlTimer().active() as timer:
            samples = timed(lambda c=client, u=url: c.get(u), repeat)
        results[label] = report.add(label, samples)
        print(f"    {timer.describe(repeat, sum(samples))}")

    print("\n== Pipeline query plans")
    scans = []
    scans += explain(
        "GET /pipeline/ as director", lambda: as_director.get("/pipeline/")
    )
    scans += explain(
        "GET /pipeline/ as salesperson", lambda: as_sales.get("/pipeline/")
    )
    scans += explain(
        f"GET /pipeline/column/{stage.pk}/?offset=20 (director)",
        lambda: as_director.get(f"/pipeline/column/{stage.pk}/?offset=20"),
    )
    scans += explain(
        f"GET /opportunities/?status=all&page={html_all_mid}",
        lambda: as_director.get(f"/opportunities/?status=all&page={html_all_mid}"),
    )
    scans += explain(
        f"GET /api/opportunities?status=open&page={api_last}",
        lambda: as_director.get(f"/api/opportunities?status=open&page={api_last}"),
    )
    scans += explain(
        f"GET /opportunities/{record}/",
        lambda: as_director.get(f"/opportunities/{record}/"),
    )

    print("\n== The board's aggregate query and a column's card query, in full")
    for who, client in (("director", as_director), ("salesperson", as_sales)):
        with CaptureQueriesContext(connection) as captured:
            client.get("/pipeline/")
        aggregate = next(q["sql"] for q in captured if "GROUP BY" in q["sql"])
        cards = next(
            q["sql"]
            for q in captured
            if "decision_date" in q["sql"] and "LIMIT" in q["sql"]
        )
        for name, sql in (("aggregate", aggregate), ("cards (first column)", cards)):
            with connection.cursor() as cursor:
                runs = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    runs.append(time.perf_counter() - t0)
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plan = [r[3] for r in cursor.fetchall()]
            print(f"\n-- {who}, {name}: median {ms(statistics.median(runs)):.2f} ms")
            print(sql)
            for line in plan:
                print(f"   {line}")
    results["scans"] = scans
    return results


# --- main -------------------------------------------------------------------------


def main() -> None:
    if "--workflows" in sys.argv[1:]:  # its own data and options: bench/workflows.py
        from workflows import main as workflows_main

        return workflows_main([a for a in sys.argv[1:] if a != "--workflows"])
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so a running gunicorn is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    db = Path(args.db).resolve()
    setup_django(db)
    import django
    from django.db import connection
    from django.test import Client

    from leadflow.accounts.models import Role, User
    from leadflow.accounts.tokens import issue_token
    from leadflow.contacts.models import Contact
    from leadflow.intake.models import Inquiry

    load_before = os.getloadavg()
    generated = build_database(args, db)
    if args.analyze:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print("\n== Machine")
    print(
        f"  {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Django {django.get_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average before {load_before[0]:.2f}"
    )
    print(
        f"  {Inquiry.objects.count():,} inquiries, {Contact.objects.count():,} contacts, "
        f"database {db.stat().st_size / 2**20:,.0f} MiB"
        + (f", generated in {generated:.0f} s" if generated else "")
        + (", ANALYZEd" if args.analyze else ", no ANALYZE statistics")
    )

    user = (
        User.objects.filter(role=Role.INSIDE_SALES, is_active=True)
        .order_by("id")
        .first()
    )
    _token, key = issue_token(user, actor=None, name="bench", days=1)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    client = Client()
    rng = random.Random(args.seed)

    print("\n== Baseline")
    select1, full_scan = baselines()
    report = Report(select1, full_scan)

    samples = lookup_samples(args.lookups, rng)
    lookups = inbox = rate = None
    scans: list[str] = []
    if not args.skip_intake:
        print(f"\n== (a) Intake lookup as {user.username} ({args.lookups} lookups)")
        lookups = measure_lookups(report, user, client, headers, samples)

        print(f"\n== (b) Triage inbox as {user.username} ({args.repeat} runs per page)")
        inbox = measure_inbox(report, user, client, headers, args.repeat)

        print("\n== Query plans")
        scans = show_plans(user, client, headers, samples)

        print(f"\n== (c) Registrations through the API ({args.registrations})")
        rate = measure_registrations(report, client, headers, args.registrations, rng)

    over_http = None
    if args.http:
        connection.close()  # hold no connection while the server works
        print(
            f"\n== (d) Over HTTP: gunicorn -w {args.http_workers}, "
            f"{args.http_threads} client threads, loopback"
        )
        over_http = measure_http(report, args, db, key, samples, rng)

    pipeline = None
    if args.pipeline:
        from pipeline_data import ensure_pipeline

        print(
            f"\n== (e) Qualified-lead pipeline at {args.pipeline_open:,} open / "
            f"{args.pipeline_closed:,} closed ({args.pipeline_repeat} runs per page)"
        )
        ensure_pipeline(
            open_target=args.pipeline_open,
            closed_target=args.pipeline_closed,
            seed=args.seed,
        )
        pipeline = measure_pipeline(report, args.pipeline_repeat)
        scans += pipeline.pop("scans")

    load_after = os.getloadavg()
    print("\n== Summary (targets from the issue)")
    rows = []
    if lookups:
        rows += [
            ("lookup() p95", lookups["queries"]["p95"], TARGET_LOOKUP_P95_MS),
            (
                "POST /api/intake/lookup p95",
                lookups["api"]["p95"],
                TARGET_LOOKUP_P95_MS,
            ),
        ]
    if inbox:
        rows += [
            (
                "GET /api/inquiries (all pages) p95",
                inbox["api"]["p95"],
                TARGET_INBOX_P95_MS,
            ),
            ("inbox HTML / queue p95", inbox["html"]["p95"], TARGET_INBOX_P95_MS),
        ]
    if over_http:
        for key_, stats in over_http.items():
            if key_.startswith("lookup "):
                rows.append(
                    (
                        f"HTTP lookup p95, {key_.split()[1]} client(s)",
                        stats["p95"],
                        TARGET_LOOKUP_P95_MS,
                    )
                )
    for label, value, target in rows:
        print(
            f"  {label:<38} {value:9.2f} ms   target < {target:.0f} ms"
            f"{'':<3} {'met' if value < target else 'MISSED'}"
        )
    for label, value in (
        ("registrations per second (test client)", rate),
        (
            "registrations per second (HTTP)",
            over_http["rate"] if over_http else None,
        ),
    ):
        if value is not None:
            print(
                f"  {label:<38} {value:9.0f} /s   target >= "
                f"{TARGET_REGISTRATIONS_PER_S:.0f}/s   "
                f"{'met' if value >= TARGET_REGISTRATIONS_PER_S else 'MISSED'}"
            )
    if over_http:
        print(f"  'database is locked' in the server log: {over_http['locked']}")
    if pipeline:
        for label, stats in pipeline.items():
            print(f"  {label:<58} p50 {stats['p50']:8.2f}  p95 {stats['p95']:8.2f} ms")
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    if SLOW_QUERIES:
        print(f"\nQueries over {SLOW_QUERY_MS:.0f} ms (re-run alone, median of 5):")
        for label, cost, sql, plan in SLOW_QUERIES:
            print(f"  - {ms(cost):.1f} ms in {label}: {sql[:400]}")
            for line in plan:
                print(f"      {line}")
    if scans:
        print("\nFull table scans seen:")
        for line in scans:
            print(f"  - {line}")
    else:
        print("\nNo full table scan of a table over 1,000 rows in the queries above.")


if __name__ == "__main__":
    main()
