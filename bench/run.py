#!/usr/bin/env python
"""Leadflow benchmarks on SQLite: intake lookup, triage inbox, registrations per second.

    .venv/bin/python bench/run.py [--inquiries 1000000 --contacts 300000]
                                  [--db /tmp/bench.sqlite3] [--reuse] [--analyze]

Builds (or reuses) a database with ``manage.py generate_data``, then measures in one
process with ``time.perf_counter`` and prints figures; it asserts nothing. Targets
from the issue: lookup p95 < 20 ms, inbox p95 < 150 ms, >= 200 registrations/s.
The registrations are measured last because they add open inquiries to the queue.
"""

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
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


def measure_registrations(report: Report, client, headers, count: int, rng) -> float:
    from leadflow.contacts.models import Contact
    from leadflow.intake import demo

    first_id = Contact.objects.order_by("id").values_list("id", flat=True).first()
    last_id = Contact.objects.order_by("-id").values_list("id", flat=True).first()
    known = list(
        Contact.objects.select_related("company")
        .filter(pk__in=rng.sample(range(first_id, last_id + 1), count))
        .exclude(email="")
    )
    run = int(time.time())
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
                scan = re.match(r"SCAN (\S+)( AS \S+)?$", line)
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


# --- main -------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
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

    print(f"\n== (a) Intake lookup as {user.username} ({args.lookups} lookups)")
    samples = lookup_samples(args.lookups, rng)
    lookups = measure_lookups(report, user, client, headers, samples)

    print(f"\n== (b) Triage inbox as {user.username} ({args.repeat} runs per page)")
    inbox = measure_inbox(report, user, client, headers, args.repeat)

    print("\n== Query plans")
    scans = show_plans(user, client, headers, samples)

    print(f"\n== (c) Registrations through the API ({args.registrations})")
    rate = measure_registrations(report, client, headers, args.registrations, rng)

    load_after = os.getloadavg()
    print("\n== Summary (targets from the issue)")
    rows = [
        (
            "lookup() p95",
            lookups["queries"]["p95"],
            f"< {TARGET_LOOKUP_P95_MS:.0f} ms",
            lookups["queries"]["p95"] < TARGET_LOOKUP_P95_MS,
        ),
        (
            "POST /api/intake/lookup p95",
            lookups["api"]["p95"],
            f"< {TARGET_LOOKUP_P95_MS:.0f} ms",
            lookups["api"]["p95"] < TARGET_LOOKUP_P95_MS,
        ),
        (
            "GET /api/inquiries (all pages) p95",
            inbox["api"]["p95"],
            f"< {TARGET_INBOX_P95_MS:.0f} ms",
            inbox["api"]["p95"] < TARGET_INBOX_P95_MS,
        ),
        (
            "inbox HTML / queue p95",
            inbox["html"]["p95"],
            f"< {TARGET_INBOX_P95_MS:.0f} ms",
            inbox["html"]["p95"] < TARGET_INBOX_P95_MS,
        ),
    ]
    for label, value, target, met in rows:
        print(
            f"  {label:<38} {value:9.2f} ms   target {target:<9} {'met' if met else 'MISSED'}"
        )
    print(
        f"  {'registrations per second':<38} {rate:9.0f} /s   target >= "
        f"{TARGET_REGISTRATIONS_PER_S:.0f}/s   "
        f"{'met' if rate >= TARGET_REGISTRATIONS_PER_S else 'MISSED'}"
    )
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
        print("\nNo full table scan in the lookup and queue queries.")


if __name__ == "__main__":
    main()
