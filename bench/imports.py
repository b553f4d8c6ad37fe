#!/usr/bin/env python
"""Import benchmark: messy CSV files of contacts (and historical qualified leads)
through the real import path, with rows/s and peak memory at three file sizes.

    .venv/bin/python bench/imports.py --rows 100000 [--kind contacts|opportunities|both]
        [--db /tmp/bench-imports.sqlite3] [--sizes 10000,50000,100000]
        [--sample 1000] [--tracemalloc] [--files /tmp/bench-imports-files]

For each kind it generates one seeded messy CSV per size (semicolon, cp1252 or UTF-8
with BOM via ``--encoding``, Dutch headers, d/m/Y dates, decimal commas, ~5 % duplicate
people with another id and another spelling of their address, stray whitespace,
empty rows, one bad e-mail per 1,000 lines, company names spelled two ways), then for
every size starts a **fresh child process** on a fresh copy of a migrated database
(``<db>.template``) that runs what the page and ``manage.py import_data`` run:
``actions.upload`` → ``set_mapping`` (the unknown industries and the like mapped to
"create", skip lines with errors) → ``check_job`` → ``start(background=False)``.

The child measures the upload, the check (dry run) and the import with
``time.perf_counter``, and memory three ways: peak RSS of the process (``VmHWM`` from
``/proc/self/status``, the same as ``ru_maxrss``), its RSS right after Django was set
up (what the process costs before any file), and with ``--tracemalloc`` the peak of
Python's own allocations during check and import (tracemalloc slows Python down
about 1.5-2x, so the rows/s of such a run are not the figures to quote). Each size
runs in its own process because the peak RSS of a process never goes down.

Also measured, in the parent:
- a baseline: ``csv.reader`` over the same file (rows/s of reading alone);
- on a 1,000-row sample (``--sample``), a fresh database each: the queries per row of
  the check and of the import (``CaptureQueriesContext``, i.e. what DEBUG records), and
  the same people written by calling ``contacts.actions.create_contact`` (+ company)
  directly in a loop in 250-row transactions: the cost of the action alone, so the
  framework's share is visible.

It prints figures and asserts nothing. Never touches ``db.sqlite3``: the database is
``--db`` (rebuilt per child) and the uploaded files go to a temporary MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "bench-importer"

# --- the messy files -------------------------------------------------------------------

FIRSTS = [
    "Anna", "Bram", "Chloé", "Daan", "Eline", "Jürgen", "Søren", "Zoë", "Emile",
    "François", "Lotte", "Pieter", "Sofie", "Tom", "Koen", "Marc", "Eva", "Hélène",
    "Ruben", "Noor", "Lars", "Inès", "Thijs", "Margot", "Wout", "Aïcha", "Stijn",
    "Fien", "Jens", "Lise",
]  # fmt: skip
LASTS = [
    "Peeters", "Janssens", "Maes", "Müller", "De Smet", "Dupré", "Ørsted", "Claes",
    "Goossens", "Wouters", "De Vos", "Willems", "Mertens", "Jacobs", "Van Damme",
    "Lemmens", "Dubois", "Lambert", "Verhoeven", "Smits", "Hermans", "Çelik",
    "Van den Broeck", "Aerts", "Coppens", "Martens", "Desmet", "Vermeulen",
    "Bogaerts", "Pauwels", "Van Acker", "Michiels", "Leroy", "Renard", "Segers",
]  # fmt: skip
TRADES = [
    "Bouw", "Logistics", "Techniek", "Solutions", "Metaal", "Print", "Food",
    "Consult", "Engineering", "Transport", "Elektro", "Installaties", "Design",
    "Systems", "Medical", "Pharma", "Textiel", "Hout", "Glas", "Energie",
]  # fmt: skip
PLACES = [
    "Gent", "Antwerpen", "Brussel", "Leuven", "Utrecht", "Liège", "Brugge",
    "Hasselt", "Mechelen", "Eindhoven", "Kortrijk", "Aalst", "Namur", "Breda",
]  # fmt: skip
LEGAL = ["BV", "NV", "bv", "B.V.", "N.V.", "bvba", "GmbH", "SA", ""]
INDUSTRIES = [
    "Construction", "Logistics", "ICT", "Food", "Healthcare", "Manufacturing",
    "Retail", "Energy", "Education", "Public sector", "Finance", "Chemicals",
]  # fmt: skip
JOBS = [
    "Aankoper", "Zaakvoerder", "CEO", "Facility manager", "IT-manager", "CFO",
    "Productieleider", "Office manager", "Buyer", "Projectleider", "",
]  # fmt: skip

CONTACT_HEADER = [
    "Referentie", "Voornaam", "Achternaam", "E-mailadres", "Telefoon", "Bedrijfsnaam",
    "Functie", "Sector", "Aantal werknemers", "Land", "Nieuwsbrief",
    "Laatste contact", "Omzet", "Opmerking",
]  # fmt: skip


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def company_pool(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct company names ("Peeters Bouw Gent BV", ...)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        base = f"{rng.choice(LASTS)} {rng.choice(TRADES)}"
        if len(seen) > len(LASTS) * len(TRADES) // 2:
            base += f" {rng.choice(PLACES)}"
        if len(seen) > len(LASTS) * len(TRADES) * len(PLACES) // 2:
            base += f" {len(names)}"
        if base in seen:
            continue
        seen.add(base)
        legal = rng.choice(LEGAL)
        names.append(f"{base} {legal}".strip())
    return names


def variant(name: str, rng: random.Random) -> str:
    """Another spelling of a company name, as people type it."""
    choice = rng.randrange(4)
    if choice == 0:
        return name.upper()
    if choice == 1:
        return name.replace(" ", "  ", 1)
    if choice == 2:
        return name.replace("BV", "B.V.").replace("NV", "N.V.") + " "
    return name.lower()


def contact_rows(count: int, *, seed: int = 6) -> Iterator[list[str]]:
    """A header and ``count`` lines of an old CRM's contact export (see the module
    docstring for the mess); lazily, so a million lines cost no memory."""
    rng = random.Random(seed)
    companies = company_pool(max(20, count // 5), rng)
    yield CONTACT_HEADER
    people: list[list[str]] = []
    for i in range(count):
        if people and rng.random() < 0.05:
            # The same person again under another id: spacing and case differ.
            row = list(rng.choice(people))
            row[0] = f"K{i + 1:07d}"
            row[3] = f"  {row[3].upper()} "
            row[1] = f" {row[1]}"
            yield row
            continue
        if rng.random() < 0.005:
            yield []  # an empty line
        first, last = rng.choice(FIRSTS), rng.choice(LASTS)
        company = rng.choice(companies)
        if rng.random() < 0.02:
            company = variant(company, rng)
        email = f"{_ascii(first)}.{_ascii(last)}.{i}@{_ascii(company)[:12] or 'x'}.be"
        if rng.random() < 0.001:
            email = f"{_ascii(first)} at {_ascii(last)}"  # not an address: an error
        elif rng.random() < 0.03:
            email = f" {email}  "
        phone = rng.choice(
            [
                f"+32 4{rng.randint(70, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                f"0{rng.randint(470, 499)}/{rng.randint(10, 99)}."
                f"{rng.randint(10, 99)}.{rng.randint(10, 99)}",
                "",
            ]
        )
        note = rng.choice(
            ["", "", "", "belt terug; na 14u", 'zegt "interesse"', "regel 1\nregel 2"]
        )
        row = [
            f"K{i + 1:07d}",
            first if rng.random() > 0.02 else f"{first}  ",
            last,
            email,
            phone,
            company,
            rng.choice(JOBS),
            rng.choice(INDUSTRIES) if rng.random() < 0.9 else "",
            str(rng.choice([5, 12, 40, 150, 1200])) if rng.random() < 0.6 else "",
            rng.choice(["BE", "BE", "be ", "NL", ""]),
            rng.choice(["ja", "nee", "", "", "Ja "]),
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/20{rng.randint(15, 25)}",
            f"{rng.randint(0, 250)}.{rng.randint(100, 999)},{rng.randint(0, 99):02d}",
            note,
        ]
        if len(people) < 5000:
            people.append(row)
        elif rng.random() < 0.1:
            people[rng.randrange(5000)] = row
        yield row


LEAD_HEADER = [
    "Referentie", "Titel", "Verkoper", "Product", "Bedrijfsnaam", "Naam",
    "E-mailadres", "Fase", "Resultaat", "Aangemaakt op", "Beslissingsdatum",
    "Afgesloten op", "Waarde", "Kans", "Reden",
]  # fmt: skip
# The salespeople of the bench database, as an old CRM writes them (matched by name,
# case and accents ignored).
SALES = [
    ("tom", "Tom", "Peeters"),
    ("pieter", "Pieter", "Maes"),
    ("lotte", "Lotte", "Claes"),
    ("sofie", "Sofie", "Dubois"),
]
OWNER_SPELLINGS = ["Tom Peeters", "PIETER MAES", "lotte claes", "Sofie Dubois", "tom"]
PRODUCTS = [
    "Onderhoudscontract", "Installatie", "Consultancy", "Software", "Opleiding",
    "Renovatie", "Audit", "Levering",
]  # fmt: skip
STAGES_NL = ["Kwalificatie", "Voorstel / offerte", "Onderhandeling", " kwalificatie "]
RESULTS = ["gewonnen", "verloren", "gaat niet door", "", "lopend", "Gewonnen ", ""]
REASONS = ["prijs", "timing", "concurrent goedkoper", "budget geschrapt", ""]


def lead_rows(count: int, *, seed: int = 7) -> Iterator[list[str]]:
    """A header and ``count`` historical qualified leads of an old CRM: owners spelled
    loosely, Dutch stage and result words, d/m/Y dates, values with decimal commas,
    percentages; ~5 % of the lines name a person of an earlier line (a returning
    customer, their address spelled with other case and spaces); one line in 1,000
    closes before it was created (an error)."""
    from datetime import date, timedelta

    rng = random.Random(seed)
    companies = company_pool(max(20, count // 4), rng)
    people: list[tuple[str, str, str]] = []
    yield LEAD_HEADER
    start = date(2019, 1, 1)
    for i in range(count):
        if people and rng.random() < 0.05:
            name, email, company = rng.choice(people)
            email = f" {email.upper()} "
        else:
            first, last = rng.choice(FIRSTS), rng.choice(LASTS)
            company = rng.choice(companies)
            if rng.random() < 0.02:
                company = variant(company, rng)
            name = f"{first} {last}"
            email = f"{_ascii(first)}.{_ascii(last)}.{i}@{_ascii(company)[:12]}.be"
            if len(people) < 5000:
                people.append((name, email, company))
        if rng.random() < 0.005:
            yield []
        created = start + timedelta(days=rng.randint(0, 6 * 365))
        result = rng.choice(RESULTS)
        closed = ""
        if result.strip() not in ("", "lopend"):
            end = created + timedelta(days=rng.randint(3, 200))
            if rng.random() < 0.001:
                end = created - timedelta(days=5)  # closed before created: an error
            closed = end.strftime("%d/%m/%Y")
        decision = created + timedelta(days=rng.randint(10, 120))
        yield [
            f"OPP-{i + 1:07d}",
            f"{rng.choice(PRODUCTS)} {company}"[:120],
            rng.choice(OWNER_SPELLINGS),
            rng.choice(PRODUCTS),
            company,
            name,
            email,
            rng.choice(STAGES_NL),
            result,
            created.strftime("%d/%m/%Y"),
            decision.strftime("%d/%m/%Y") if rng.random() < 0.7 else "",
            closed,
            f"{rng.randint(1, 400)}.{rng.randint(100, 999)},{rng.randint(0, 99):02d}",
            rng.choice(["", "60%", "25 %", "0,8", "90"]),
            rng.choice(REASONS) if closed else "",
        ]


def write_file(kind: str, count: int, folder: Path, encoding: str) -> Path:
    from leadflow.imports.tests.messy import write_csv

    folder.mkdir(parents=True, exist_ok=True)
    suffix = "bom" if encoding == "utf-8-sig" else encoding
    path = folder / f"{kind}-{count}-{suffix}.csv"
    if path.exists():
        return path
    rows = ROWS[kind](count)
    bom = encoding == "utf-8-sig"
    tmp = path.with_suffix(".tmp")
    write_csv(tmp, rows, encoding="utf-8" if bom else encoding, bom=bom, delimiter=";")
    tmp.rename(path)
    return path


ROWS = {"contacts": contact_rows, "opportunities": lead_rows}
# What a user would choose in the mapping table after the first check; set before the
# check here so that one check is measured.
OPTIONS = {
    "contacts": {
        "skip_invalid": True,
        "values": {"industry": {name: "+new" for name in INDUSTRIES}},
    },
    "opportunities": {
        "skip_invalid": True,
        "values": {"service_type": {name: "+new" for name in PRODUCTS}},
    },
}


# --- measuring --------------------------------------------------------------------------


def status_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Queries:
    """Counts every statement and its shape (verb and table): unlike
    ``connection.queries`` it has no 9,000-entry cap."""

    def __init__(self):
        from collections import Counter

        self.count = 0
        self.shapes = Counter()

    def __call__(self, execute, sql, params, many, context):
        import re

        self.count += 1
        verb = sql.split(None, 1)[0].upper()
        match = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
        self.shapes[f"{verb} {match.group(1) if match else ''}".strip()] += 1
        return execute(sql, params, many, context)


def db_size(db) -> float:
    """The database file and its WAL, in MB."""
    paths = [Path(str(db)), Path(str(db) + "-wal")]
    return sum(p.stat().st_size for p in paths if p.exists()) / 2**20


def mb(kb: float) -> float:
    return kb / 1024


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def setup_django(db: Path, media: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DEBUG"] = "false"
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def ensure_template(db: Path) -> Path:
    """A migrated database with the importing user: copied for every child."""
    template = db.with_name(db.name + ".template")
    if template.exists():
        return template
    print(f"Migrating {template} (once) …", flush=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--db", str(template)]
    subprocess.run([*cmd, "--make-template"], check=True, cwd=ROOT)
    return template


def make_template(args) -> None:
    setup_django(Path(args.db), Path(tempfile.gettempdir()))
    from django.core.management import call_command

    from leadflow.accounts.models import Role, User

    call_command("migrate", verbosity=0)
    User.objects.create_superuser(
        BENCH_USER, "bench@example.com", "bench-not-a-login", role=Role.ADMIN
    )


def ensure_salespeople() -> None:
    """The owners the lead files name (a team of four salespeople)."""
    from leadflow.accounts.models import Role, Team, User

    team, _ = Team.objects.get_or_create(name="Bench")
    for username, first, last in SALES:
        User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@bench.example",
                "role": Role.SALES,
                "team": team,
            },
        )


def child(args) -> None:
    """One measured import in this (fresh) process; prints one JSON line."""
    media = Path(tempfile.mkdtemp(prefix="bench-imports-media-"))
    setup_django(Path(args.db), media)
    from django.db import connection

    if args.sqlite_cache_kb:
        # The settings give SQLite a 64 MB page cache, which fills as the file
        # grows; a small one shows what the import itself holds.
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size=-{int(args.sqlite_cache_kb)}")
    base_rss = status_kb("VmRSS")
    import tracemalloc

    from django.core.files import File

    from leadflow.accounts.models import User
    from leadflow.imports import actions

    user = User.objects.get(username=BENCH_USER)
    ensure_salespeople()
    path = Path(args.child_file)
    result: dict = {
        "kind": args.child_kind,
        "file": path.name,
        "bytes": path.stat().st_size,
        "load_start": load(),
        "rss_after_setup_mb": mb(base_rss),
        "reader": reading_baseline(path),
    }
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    cpu_started = cpu()
    with path.open("rb") as handle:
        job = actions.upload(
            actor=user, kind_key=args.child_kind, uploaded=File(handle, name=path.name)
        )
    job = actions.set_mapping(
        job, actor=user, mapping=job.mapping, options=OPTIONS[args.child_kind]
    )
    uploaded = time.perf_counter()
    cpu_uploaded = cpu()
    result["mapping"] = job.mapping
    job = actions.check_job(job, actor=user)
    checked = time.perf_counter()
    cpu_checked = cpu()
    result["check_s"] = checked - uploaded
    result["check_cpu_s"] = cpu_checked - cpu_uploaded
    result["upload_s"] = uploaded - started
    result["load_after_check"] = load()
    result["check_rss_mb"] = mb(status_kb("VmHWM"))
    if args.tracemalloc:
        result["check_py_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
    report = job.report
    result["report"] = {
        k: report.get(k)
        for k in (
            "rows",
            "errors",
            "error_lines",
            "warnings",
            "duplicates_in_file",
            "existing",
            "blocking",
            "date_order",
            "decimal",
        )
    }
    result["spelling_groups"] = sum(
        len(v) for v in (report.get("spelling_groups") or {}).values()
    )
    ok, why = actions.can_start(job)
    if args.check_only or not ok:
        result["not_started"] = why or "check only"
        result["peak_rss_mb"] = mb(status_kb("VmHWM"))
        print("RESULT " + json.dumps(result), flush=True)
        return
    points = []
    rows = report.get("rows") or 0
    step = max(250, rows // 20)
    marks = sorted(
        {int(x) for x in args.marks.split(",") if x} | set(range(step, rows + 1, step))
    )
    # Every finding as it comes, so that a run stopped half-way still tells.
    trail = Path(str(args.db) + ".trail")
    with trail.open("a") as handle:
        handle.write("CHECK " + json.dumps(result) + "\n")

    def progress(job):
        while marks and job.rows_done >= marks[0]:
            point = {
                "rows": job.rows_done,
                "seconds": time.perf_counter() - checked,
                "cpu_s": cpu() - cpu_checked,
                "rss_peak_mb": mb(status_kb("VmHWM")),
                "rss_mb": mb(status_kb("VmRSS")),
                "db_mb": db_size(args.db),
            }
            if args.tracemalloc:
                point["py_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            points.append(point)
            marks.pop(0)
            with trail.open("a") as handle:
                handle.write(f"POINT {result['file']} " + json.dumps(point) + "\n")

    job = actions.start(job, actor=user, background=False, progress=progress)
    done = time.perf_counter()
    result["points"] = points
    if args.tracemalloc:
        result["run_py_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    result.update(
        {
            "status": job.status,
            "error": job.error,
            "counts": actions.counts(job),
            "run_s": done - checked,
            "run_cpu_s": cpu() - cpu_checked,
            "total_cpu_s": cpu() - cpu_started,
            "total_s": done - started,
            "peak_rss_mb": mb(status_kb("VmHWM")),
            "ru_maxrss_mb": mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
            "load_end": load(),
            "stored": stored_counts(args.child_kind),
        }
    )
    shutil.rmtree(media, ignore_errors=True)
    print("RESULT " + json.dumps(result), flush=True)


def stored_counts(kind: str) -> dict:
    from leadflow.audit.models import AuditEvent
    from leadflow.contacts.models import Company, Contact

    out = {
        "contacts": Contact.objects.count(),
        "companies": Company.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }
    if kind == "opportunities":
        from django.db.models import Count

        from leadflow.opportunities.models import Opportunity

        out["qualified_leads"] = dict(
            Opportunity.objects.values_list("status").annotate(n=Count("id"))
        )
    return out


def sample(args) -> None:
    """Queries per row (check, import) and the direct-action baseline; one JSON line."""
    media = Path(tempfile.mkdtemp(prefix="bench-imports-media-"))
    setup_django(Path(args.db), media)
    from django.core.files import File
    from django.db import connection

    from leadflow.accounts.models import User
    from leadflow.imports import actions

    user = User.objects.get(username=BENCH_USER)
    ensure_salespeople()
    path = Path(args.child_file)
    kind = args.child_kind
    result: dict = {"kind": kind, "load_start": load()}
    if args.baseline:
        result.update(direct_baseline(kind, path, user))
    else:
        with path.open("rb") as handle:
            job = actions.upload(
                actor=user, kind_key=kind, uploaded=File(handle, name=path.name)
            )
        job = actions.set_mapping(
            job, actor=user, mapping=job.mapping, options=OPTIONS[kind]
        )
        check_q, run_q = Queries(), Queries()
        with connection.execute_wrapper(check_q):
            t0, c0 = time.perf_counter(), cpu()
            job = actions.check_job(job, actor=user)
            t1, c1 = time.perf_counter(), cpu()
        with connection.execute_wrapper(run_q):
            t2, c2 = time.perf_counter(), cpu()
            job = actions.start(job, actor=user, background=False)
            t3, c3 = time.perf_counter(), cpu()
        rows = job.report.get("rows", 0)
        result.update(
            {
                "rows": rows,
                "check_queries": check_q.count,
                "run_queries": run_q.count,
                "check_ms_per_row": (t1 - t0) * 1000 / rows,
                "check_cpu_ms_per_row": (c1 - c0) * 1000 / rows,
                "run_ms_per_row": (t3 - t2) * 1000 / rows,
                "run_cpu_ms_per_row": (c3 - c2) * 1000 / rows,
                "counts": actions.counts(job),
                "top_run_queries": run_q.shapes.most_common(10),
                "top_check_queries": check_q.shapes.most_common(5),
            }
        )
    result["load_end"] = load()
    shutil.rmtree(media, ignore_errors=True)
    print("RESULT " + json.dumps(result), flush=True)


def direct_baseline(kind: str, path: Path, user) -> dict:
    """The same lines written by calling the owning apps' actions in a loop (250 per
    transaction, as the import's batches): no file framework, no lookups, no
    duplicate matching, cells parsed by hand. Lines an action refuses (the bad e-mail,
    a lead closed before it was created) are counted as refused."""
    from django.db import connection, transaction

    from leadflow.core.errors import DomainError

    with path.open(encoding=_encoding_of(path), newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        lines = [r for r in reader if r]
    write = _direct_contact if kind == "contacts" else _direct_lead(user)
    written = refused = 0
    queries = Queries()
    with connection.execute_wrapper(queries):
        t0, c0 = time.perf_counter(), cpu()
        for start in range(0, len(lines), 250):
            with transaction.atomic():
                for r in lines[start : start + 250]:
                    try:
                        with transaction.atomic():
                            write(r, user)
                        written += 1
                    except DomainError:
                        refused += 1
        t1, c1 = time.perf_counter(), cpu()
    return {
        "rows": len(lines),
        "written": written,
        "refused": refused,
        "direct_ms_per_row": (t1 - t0) * 1000 / len(lines),
        "direct_cpu_ms_per_row": (c1 - c0) * 1000 / len(lines),
        "direct_queries": queries.count,
    }


def _direct_contact(r: list[str], user) -> None:
    from leadflow.contacts.actions import ContactData, create_contact

    create_contact(
        ContactData(
            name=f"{r[1].strip()} {r[2].strip()}",
            email=r[3].strip(),
            phone=r[4],
            company_name=r[5].strip(),
            company_size=int(r[8]) if r[8] else None,
            job_title=r[6],
            country=r[9].strip().upper(),
        ),
        actor=user,
    )


def _direct_lead(user):
    """Write one lead line as a person would with the actions: find or create the
    contact, open the lead at its date, fill it, move it to its stage, close it."""
    from datetime import datetime
    from decimal import Decimal

    from django.utils import timezone

    from leadflow.accounts.models import User
    from leadflow.contacts.actions import ContactData, create_contact
    from leadflow.intake.actions import find_existing_contact
    from leadflow.opportunities.actions import (
        close_opportunity,
        move_stage,
        open_opportunity,
        update_opportunity,
    )
    from leadflow.opportunities.models import Stage

    owners = {u.username: u for u in User.objects.filter(role="sales")}
    by_name = {f"{u.first_name} {u.last_name}".lower(): u for u in owners.values()}
    stages = {s.name_nl.lower(): s for s in Stage.objects.all()}
    first = Stage.objects.order_by("order").first()
    results = {
        "gewonnen": "won",
        "verloren": "lost",
        "gaat niet door": "not_going_ahead",
    }

    def moment(text: str):
        return timezone.make_aware(datetime.strptime(text.strip(), "%d/%m/%Y"))

    def write(r: list[str], actor) -> None:
        owner = by_name.get(r[2].strip().lower()) or owners.get(r[2].strip().lower())
        data = ContactData(name=r[5], email=r[6].strip(), company_name=r[4].strip())
        contact = find_existing_contact(data) or create_contact(data, actor=actor)
        created = moment(r[9])
        lead = open_opportunity(
            actor=actor, contact=contact, owner=owner, title=r[1], at=created
        )
        values = {
            "service_type": r[3],
            "expected_value": Decimal(r[12].replace(".", "").replace(",", ".")),
        }
        if r[10]:
            values["decision_date"] = moment(r[10]).date()
        lead = update_opportunity(lead, actor=actor, **values)
        stage = stages.get(r[7].strip().lower())
        if stage is not None and stage.pk != first.pk:
            lead = move_stage(
                lead, actor=actor, stage=stage, reason="bench", at=lead.created_at
            )
        result = results.get(r[8].strip().lower())
        if result:
            close_opportunity(
                lead,
                actor=actor,
                result=result,
                reason=r[14] or "bench",
                at=moment(r[11]),
            )

    return write


def _encoding_of(path: Path) -> str:
    head = path.read_bytes()[:3]
    return "utf-8-sig" if head == b"\xef\xbb\xbf" else "cp1252"


def csv_baseline(path: Path) -> dict:
    """Reading alone: ``csv.reader`` over the file, every line."""
    t0 = time.perf_counter()
    rows = 0
    with path.open(encoding=_encoding_of(path), newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            if row:
                rows += 1
    seconds = time.perf_counter() - t0
    return {"rows": rows - 1, "seconds": seconds, "rows_per_s": (rows - 1) / seconds}


def reading_baseline(path: Path) -> dict:
    """The import's own reader (``open_table(...).rows()``) over the file."""
    from leadflow.imports.reading import open_table

    t0 = time.perf_counter()
    table = open_table(path, filename=path.name)
    rows = sum(1 for _ in table.rows())
    seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def spawn(args, extra: list[str], db: Path, template: Path) -> dict:
    shutil.copyfile(template, db)
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--db", str(db), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    raise SystemExit(f"child failed: {' '.join(cmd)}")


# --- the parent -------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--kind", choices=["contacts", "opportunities", "both"], default="both"
    )
    parser.add_argument("--db", default="/tmp/bench-imports.sqlite3")
    parser.add_argument(
        "--sizes",
        default="",
        help="comma-separated file sizes (default: 10%%, 50%% and 100%% of --rows)",
    )
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--encoding", default="cp1252", help="cp1252 or utf-8-sig")
    parser.add_argument("--files", default="/tmp/bench-imports-files")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations (slower: do not quote its rows/s)",
    )
    parser.add_argument("--json", default="", help="write every result here too")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="measure the upload and the check (dry run) only",
    )
    parser.add_argument(
        "--no-sample", action="store_true", help="skip the 1,000-row sample"
    )
    parser.add_argument(
        "--sample-only", action="store_true", help="only the 1,000-row sample"
    )
    parser.add_argument(
        "--sqlite-cache-kb",
        type=int,
        default=0,
        help="SQLite page cache of the measured process (default: the settings' "
        "64,000 KB)",
    )
    # internal: one measured child
    parser.add_argument("--child-kind", help=argparse.SUPPRESS)
    parser.add_argument("--child-file", help=argparse.SUPPRESS)
    parser.add_argument("--child-sample", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--marks", default="", help=argparse.SUPPRESS)
    parser.add_argument("--make-template", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.make_template:
        return make_template(args)
    if args.child_kind:
        return sample(args) if args.child_sample else child(args)
    sys.path.insert(0, str(ROOT))
    kinds = ["contacts", "opportunities"] if args.kind == "both" else [args.kind]
    sizes = (
        [int(s) for s in args.sizes.split(",") if s]
        if args.sizes
        else sorted({max(1, args.rows // 10), max(1, args.rows // 2), args.rows})
    )
    if args.sample_only:
        sizes = []
    db = Path(args.db)
    if db.resolve() == (ROOT / "db.sqlite3").resolve():
        raise SystemExit("Not on the development database.")
    folder = Path(args.files)
    print(
        f"Machine: {os.cpu_count()} CPUs, load {load()}; Python {sys.version.split()[0]}"
    )
    template = ensure_template(db)
    results: dict = {"sizes": {}, "samples": {}, "baselines": {}}
    for kind in kinds:
        marks = ",".join(str(s) for s in sizes)
        for size in sizes:
            t0 = time.perf_counter()
            path = write_file(kind, size, folder, args.encoding)
            print(
                f"\n{kind}: {path} ({path.stat().st_size / 2**20:.1f} MB, "
                f"written in {time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
            base = csv_baseline(path)
            print(
                f"  baseline csv.reader: {base['rows']:,} lines in "
                f"{base['seconds']:.2f} s = {base['rows_per_s']:,.0f} rows/s"
            )
            extra = ["--child-kind", kind, "--child-file", str(path), "--marks", marks]
            if args.tracemalloc:
                extra.append("--tracemalloc")
            if args.check_only:
                extra.append("--check-only")
            if args.sqlite_cache_kb:
                extra += ["--sqlite-cache-kb", str(args.sqlite_cache_kb)]
            result = spawn(args, extra, db, template)
            result["csv_baseline"] = base
            results["sizes"][f"{kind}-{size}"] = result
            show(result)
        if args.no_sample:
            continue
        path = write_file(kind, args.sample, folder, args.encoding)
        extra = ["--child-kind", kind, "--child-file", str(path), "--child-sample"]
        framework = spawn(args, extra, db, template)
        direct = spawn(args, [*extra, "--baseline"], db, template)
        results["samples"][kind] = {"import": framework, "direct": direct}
        show_sample(framework, direct)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"\nLoad at the end: {load()}")


def show(r: dict) -> None:
    rep = r["report"]
    rows = rep["rows"] or 0
    print(
        f"  load {r['load_start']} → {r.get('load_end', '?')}; "
        f"RSS after setup {r['rss_after_setup_mb']:.0f} MB; the import's reader "
        f"alone {r['reader']['rows_per_s']:,.0f} rows/s"
    )
    print(
        f"  check: {rows:,} rows in {r['check_s']:.1f} s = "
        f"{rows / r['check_s']:,.0f} rows/s (CPU {r['check_cpu_s']:.1f} s = "
        f"{rows / r['check_cpu_s']:,.0f} rows per CPU-s); errors {rep['error_lines']}, "
        f"duplicates in file {rep['duplicates_in_file']}, "
        f"spelling groups {r['spelling_groups']}, peak RSS {r['check_rss_mb']:.0f} MB"
        + (
            f", Python peak {r['check_py_peak_mb']:.1f} MB"
            if "check_py_peak_mb" in r
            else ""
        )
    )
    if "not_started" in r:
        print(f"  not started: {r['not_started']}; peak RSS {r['peak_rss_mb']:.0f} MB")
        return
    print(
        f"  import: {r['counts']} in {r['run_s']:.1f} s = "
        f"{rows / r['run_s']:,.1f} rows/s (CPU {r['run_cpu_s']:.1f} s = "
        f"{rows / r['run_cpu_s']:,.1f} rows per CPU-s); status {r['status']} "
        f"{r['error']}"
    )
    print(
        f"  total {r['total_s']:.1f} s, CPU {r['total_cpu_s']:.1f} s "
        f"(upload {r['upload_s']:.1f} s); "
        f"peak RSS {r['peak_rss_mb']:.0f} MB (ru_maxrss {r['ru_maxrss_mb']:.0f} MB)"
        + (
            f"; Python peak {r['run_py_peak_mb']:.1f} MB"
            if "run_py_peak_mb" in r
            else ""
        )
    )
    for p in r["points"]:
        print(
            f"    at {p['rows']:>7,} rows: {p['seconds']:7.1f} s "
            f"(CPU {p['cpu_s']:.1f} s), database {p.get('db_mb', 0):.0f} MB, "
            f"peak RSS {p['rss_peak_mb']:.0f} MB, RSS {p['rss_mb']:.0f} MB"
            + (f", Python peak {p['py_peak_mb']:.1f} MB" if "py_peak_mb" in p else "")
        )
    print(f"  stored: {r['stored']}")


def show_sample(framework: dict, direct: dict) -> None:
    rows = framework["rows"]
    f = framework
    print(
        f"\n  sample of {rows} rows: check {f['check_queries'] / rows:.1f} "
        f"queries/row ({f['check_ms_per_row']:.2f} ms/row, CPU "
        f"{f['check_cpu_ms_per_row']:.2f} ms/row), import "
        f"{f['run_queries'] / rows:.1f} queries/row ({f['run_ms_per_row']:.2f} ms/row, "
        f"CPU {f['run_cpu_ms_per_row']:.2f} ms/row); {f['counts']}; "
        f"load {f['load_start']} → {f['load_end']}"
    )
    print(f"  most frequent statements of the check: {f['top_check_queries']}")
    print(f"  most frequent statements of the import: {f['top_run_queries']}")
    print(
        f"  direct actions loop: {direct['direct_ms_per_row']:.2f} ms/row "
        f"(CPU {direct['direct_cpu_ms_per_row']:.2f} ms/row), "
        f"{direct['direct_queries'] / direct['rows']:.1f} queries/row "
        f"({direct['written']} written, {direct['refused']} refused); "
        f"import ÷ direct: {f['run_ms_per_row'] / direct['direct_ms_per_row']:.2f} "
        f"(CPU {f['run_cpu_ms_per_row'] / direct['direct_cpu_ms_per_row']:.2f})"
    )


if __name__ == "__main__":
    main()
